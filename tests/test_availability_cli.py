"""`infractl availability`: each path of a stack, and the diff the PR comment shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from infra.availability import availability_report
from infractl.cli import app
from tests.conftest import plan_for, stack_config

runner = CliRunner()


def outputs_file(tmp_path: Path, name: str, outputs: dict[str, Any]) -> Path:
    """What `pulumi stack output --json` prints."""
    path = tmp_path / name
    path.write_text(json.dumps(outputs))
    return path


def plan_file(tmp_path: Path, stack: str) -> Path:
    """What `infractl plan STACK --json PATH` writes."""
    path = tmp_path / f"{stack}-plan.json"
    path.write_text(json.dumps(plan_for(stack).to_json()))
    return path


def prod_with_single_az_database(tmp_path: Path) -> Path:
    """Prod's outputs had a change taken the database to one zone (which prod's rules and the
    guard refuse: the diff must flag it all the same)."""
    prod = stack_config("prod")
    lowered = prod.model_copy(
        update={"database": prod.database.model_copy(update={"multi_az": False})}
    )
    outputs = {**plan_for("prod").outputs, "availability": availability_report(lowered).to_json()}
    return outputs_file(tmp_path, "head.json", outputs)


def test_availability_stack_prints_each_path_its_target_and_weakest_link() -> None:
    result = runner.invoke(app, ["availability", "prod"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Availability: prod (offline plan)" in out
    assert "99.92%" in out
    assert "PostgreSQL (RDS Multi-AZ) (99.95%)" in out
    assert "no (shortfall accepted down to 99.75%)" in out
    assert "https://aws.amazon.com/rds/sla/" in out
    assert "Assumptions:" in out


def test_availability_as_markdown_from_stack_outputs(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, "dev.json", plan_for("dev").outputs)
    result = runner.invoke(app, ["availability", "--outputs", str(path), "--markdown"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"### Availability: {path}\n")
    assert (
        "| api | request | 98.9827% | 445.6 min | 99.9% | no | PostgreSQL (RDS Single-AZ) and "
        "Redis OSS (ElastiCache, 1 node) (99.5%) |"
    ) in out
    assert "[Amazon RDS Service Level Agreement (Single-DB Instance SLA)]" in out
    assert "- genericcorp:database.multiAz: true (a synchronous standby in a second zone): " in out
    assert "Not served by this stack: landing" in out


def test_the_diff_flags_a_lowered_prod_path(tmp_path: Path) -> None:
    base = plan_file(tmp_path, "prod")
    result = runner.invoke(
        app, ["availability", "diff", str(base), str(prod_with_single_az_database(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("### Availability change\n")
    assert (
        "**Lowers a prod path:** `api` 99.92% → 99.4702% (weakest link PostgreSQL (RDS "
        "Single-AZ) (99.5%); no against its target 99.9%)"
    ) in out
    assert "| api | 99.92% | 99.4702% | -0.4498 pt | 99.9% | no | **lowered in prod** |" in out
    assert "| api | PostgreSQL (RDS Single-AZ) | - | 99.5% |" in out
    assert "| api | PostgreSQL (RDS Multi-AZ) | 99.95% | - |" in out
    assert "| cdn | 99.7502% | 99.7502% | ±0 |" in out


def test_the_diff_of_a_lowered_dev_path_is_not_a_prod_flag(tmp_path: Path) -> None:
    dev = plan_for("dev").outputs
    raised = outputs_file(tmp_path, "base.json", {**dev, **{"availability": _raised_dev()}})
    result = runner.invoke(
        app, ["availability", "diff", str(raised), str(plan_file(tmp_path, "dev"))]
    )
    assert result.exit_code == 0, result.output
    assert "Lowers a prod path" not in result.output
    assert "| lowered |" in result.output


def _raised_dev() -> dict[str, Any]:
    dev = stack_config("dev")
    multi_az = dev.model_copy(
        update={"database": dev.database.model_copy(update={"multi_az": True})}
    )
    return availability_report(multi_az).to_json()


def test_the_diff_of_identical_plans_says_nothing_changed(tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "prod")
    result = runner.invoke(app, ["availability", "diff", str(plan), str(plan)])
    assert result.exit_code == 0, result.output
    assert "No link changed." in result.output
    assert "Lowers" not in result.output


def test_a_base_without_the_output_shows_the_heads_figures(tmp_path: Path) -> None:
    before = {k: v for k, v in plan_for("prod").outputs.items() if k != "availability"}
    base = outputs_file(tmp_path, "base.json", before)
    result = runner.invoke(
        app, ["availability", "diff", str(base), str(plan_file(tmp_path, "prod"))]
    )
    assert result.exit_code == 0, result.output
    assert f"The base plan has no availability output ({base}): this change adds it." in (
        result.output
    )
    assert "| api | request | 99.92% | 35.0 min | 99.9% | yes |" in result.output


def test_a_head_without_the_output_is_one_clear_error(tmp_path: Path) -> None:
    head = outputs_file(tmp_path, "head.json", {"environment": "prod"})
    result = runner.invoke(app, ["availability", "diff", str(head), str(head)])
    assert result.exit_code == 2
    assert f"{head}: no availability object with paths" in result.output
    assert "Traceback" not in result.output


def test_the_plan_of_a_path_below_target_fails_with_one_clear_message(tmp_path: Path) -> None:
    stack = (Path(__file__).resolve().parent.parent / "Pulumi.prod.yaml").read_text()
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        (Path(__file__).resolve().parent.parent / "Pulumi.yaml").read_text()
    )
    (project / "Pulumi.prod.yaml").write_text(
        stack.replace(
            "  genericcorp:availability:\n",
            "  genericcorp:availability:\n    targets:\n      api: 99.95\n",
        )
    )
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert "Pulumi.prod.yaml: 1 availability problem; nothing was deployed:" in result.output
    assert "path api: 99.92%" in result.output
    assert "Traceback" not in result.output
