"""Repository hygiene that no linter covers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    paths = [ROOT / name for name in listed.split("\0") if name]
    return [p for p in paths if p.suffix in {".py", ".md", ".yaml", ".yml", ".toml", ".txt"}]


def test_no_tracked_file_holds_merge_conflict_markers() -> None:
    files = tracked_text_files()
    assert len(files) > 50
    conflicted = [
        str(p.relative_to(ROOT)) for p in files if p.exists() and MARKER.search(p.read_text())
    ]
    assert conflicted == []
