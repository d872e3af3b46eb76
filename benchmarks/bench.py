"""Time the offline plan of each stack and the whole check command on this machine.

    make bench                      # plan timings (5 runs each) and one `make check`
    python benchmarks/bench.py --runs 3 --skip-check

Each plan run is a fresh process (`infractl plan STACK --json FILE`), so the figures include
interpreter start-up and imports: what an operator or CI waits for.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="plan runs per stack (default 5)")
    parser.add_argument("--skip-check", action="store_true", help="do not time `make check`")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {_cores()} cores"
    )
    print(f"{'what':<34}{'median s':>10}{'min s':>10}{'max s':>10}")
    with tempfile.TemporaryDirectory() as scratch:
        for stack in ("dev", "prod"):
            out = Path(scratch) / f"{stack}.json"
            command = [str(BIN / "infractl"), "plan", stack, "--json", str(out)]
            timed(command)  # warm the OS file cache; not counted
            samples = [timed(command) for _ in range(args.runs)]
            _row(f"offline plan {stack} (x{args.runs})", samples)
    if not args.skip_check:
        _row("make check (lint, types, tests)", [timed(["make", "check"])])


def _row(label: str, samples: list[float]) -> None:
    print(
        f"{label:<34}{statistics.median(samples):>10.2f}{min(samples):>10.2f}{max(samples):>10.2f}"
    )


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
