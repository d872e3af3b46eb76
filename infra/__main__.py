"""Entry point that ``pulumi preview`` / ``pulumi up`` run (Pulumi.yaml: ``main: infra/``)."""

import sys
from pathlib import Path

# Pulumi runs this file as a script from infra/; the project root must be importable so that
# `infra` and `components` resolve as packages whether or not the project is pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main

main()
