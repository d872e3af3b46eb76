"""Time the offline plan of the dev stack with 10, 100 and 500 tenants.

    make bench                                   # also runs this
    python benchmarks/tenants.py --counts 10 100 500 --runs 3

The program is imported and run once first (not counted), so the figures are the plan itself:
what each added tenant costs. CPU time is printed beside wall time because a busy machine
stretches wall time but not the work done; the load average says how busy it was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from infractl.offline.engine import run_stack
from infractl.offline.stackfile import read_stack_file

#: The plan must stay linear in tenants, and 500 tenants within this many seconds.
TARGET_500_SECONDS = 15.0


def overrides(count: int) -> dict[str, object]:
    """``count`` starter tenants, a node group allowed to grow to hold them and a budget that
    pays for them: the stack refuses tenants that need more nodes than the group's maxSize
    (dev's four hold about 20 starters) and an estimate above its budget. Only the ceilings
    change (maxSize to the most a group allows), so the plan declares the same objects."""
    tenants = [{"name": f"tenant{index:04d}", "tier": "starter"} for index in range(count)]
    cluster = dict(read_stack_file("dev").values["genericcorp:cluster"])
    cluster["nodeGroups"] = [
        {
            "name": "general",
            "instanceTypes": ["t4g.medium"],
            "capacityType": "SPOT",
            "minSize": 2,
            "desiredSize": 2,
            "maxSize": 100,
            "diskSizeGib": 20,
            "labels": {"genericcorp.com/workload": "general"},
            "taints": [],
        }
    ]
    return {
        "genericcorp:tenants": tenants,
        "genericcorp:cluster": cluster,
        "genericcorp:budget": {"limitUsd": 100_000},
    }


def plan_seconds(count: int) -> tuple[float, float, int]:
    config_overrides = overrides(count)
    wall, cpu = time.perf_counter(), time.process_time()
    plan = run_stack("dev", config_overrides=config_overrides)
    return time.perf_counter() - wall, time.process_time() - cpu, len(plan.resources)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--runs", type=int, default=3, help="runs per count (median shown)")
    args = parser.parse_args()

    run_stack("dev")  # imports and first-run set-up, not counted
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'tenants':>8}{'resources':>11}{'wall s':>9}{'cpu s':>8}{'ms/resource':>13}")
    for count in args.counts:
        samples = [plan_seconds(count) for _ in range(args.runs)]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        resources = samples[0][2]
        print(f"{count:>8}{resources:>11}{wall:>9.2f}{cpu:>8.2f}{1000 * wall / resources:>13.2f}")
    print(f"target: linear in tenants, 500 tenants within {TARGET_500_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
