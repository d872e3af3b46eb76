"""The documentation describes the code as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config import ConfigError, parse_stack_config
from infra.config.reference import render_reference
from infra.outputs_reference import render_outputs_reference
from infractl.cost.report import from_outputs, render_figures, replace_figures
from tests.conftest import ADMIN_ENTRY, STACKS, plan_for, stack_config

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "docs/configuration.md is stale: run `make docs`"


def test_outputs_reference_is_current() -> None:
    committed = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert committed == render_outputs_reference(), "docs/outputs.md is stale: run `make docs`"


def test_ci_runs_the_readme_check_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make check" in readme
    assert re.search(r"^make check$", ci, re.MULTILINE)


def test_every_make_target_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)", readme))
    assert named, "README names no make target"
    assert named <= targets, named - targets


def test_readme_error_example_is_what_the_loader_prints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    values = {
        "aws:region": "us-east-1",
        "genericcorp:environment": "prod",
        "genericcorp:alerts": {"emails": ["oncall@genericcorp.com"]},
        "genericcorp:network": {"azCount": "3", "natStratgy": "single"},
        "genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY]},
    }
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("prod", values)
    assert f"```\n{caught.value}\n```" in readme


def test_every_test_module_is_collected() -> None:
    # pytest collects only test_*.py: a test file named otherwise would never run.
    modules = {path.name for path in (ROOT / "tests").glob("*.py")}
    assert {m for m in modules if not m.startswith("test_")} == {"__init__.py", "conftest.py"}


def test_cost_figures_in_the_docs_are_the_current_estimates() -> None:
    committed = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    documents = {stack: from_outputs(stack, plan_for(stack).outputs) for stack in STACKS}
    figures = render_figures(documents)
    assert replace_figures(committed, figures) == committed, (
        "docs/cost.md figures are stale: run `make docs`"
    )


def test_recovery_objectives_state_each_stacks_retention() -> None:
    """The backups-kept column of docs/architecture.md's recovery table is the stacks' setting."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("### Recovery objectives", 1)[1].split("\n\n")[2]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    kept = {(row[0], row[1]): row[2] for row in rows}
    for stack in STACKS:
        config = stack_config(stack)
        assert kept[(stack, "PostgreSQL")] == f"{config.database.backup_retention_days} days"
        days = config.cache.snapshot_retention_days
        assert kept[(stack, "Redis")] == f"{days} day" + ("s" if days > 1 else "")
