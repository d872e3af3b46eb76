"""`infractl cost`: table, Markdown, diff, chart, actual spend; and the plan's budget guard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.ce.models import ce_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from typer.testing import CliRunner

from infractl.cli import app
from infractl.cost.report import actual_by_component, last_month, load_document
from infractl.offline.stackfile import PROJECT_DIR
from tests.conftest import plan_for

runner = CliRunner()


def outputs_file(tmp_path: Path, stack: str, name: str | None = None) -> Path:
    """What `pulumi stack output --json` prints for the stack (the offline plan's outputs)."""
    path = tmp_path / (name or f"{stack}-outputs.json")
    path.write_text(json.dumps(plan_for(stack).outputs))
    return path


def plan_file(tmp_path: Path, stack: str) -> Path:
    """What `infractl plan STACK --json PATH` writes."""
    path = tmp_path / f"{stack}-plan.json"
    path.write_text(json.dumps(plan_for(stack).to_json()))
    return path


def test_cost_stack_prints_lines_totals_budget_and_per_customer() -> None:
    result = runner.invoke(app, ["cost", "prod"])
    assert result.exit_code == 0, result.output
    out = result.output
    total = plan_for("prod").outputs["monthlyCost"]["totalUsd"]
    assert "Monthly cost estimate: prod (offline plan)" in out
    assert "NAT gateways" in out
    assert "$98.55" in out
    assert f"${total:,.2f}" in out
    assert "Budget: $1,000.00; headroom" in out
    # Prod has no tenants yet: the first customer, a starter tenant, on the three baseline nodes.
    assert "at 1 customer(s) on 3 node(s)" in out
    assert "starter: 6 a node (cpu binds), at most 54; 10: $" in out
    assert "enterprise: does not fit this node type" in out
    assert "costModel.planningTierMix (no tenants configured)" in out
    assert "$7 not reached (up to 2,000 customers)" in out


def test_cost_from_stack_outputs_as_markdown(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["cost", "--outputs", str(outputs_file(tmp_path, "dev")), "--markdown"]
    )
    assert result.exit_code == 0, result.output
    assert "| network | NAT gateways | 730 gateway-hour | $0.045 | $32.85 | 1 x 730 h |" in (
        result.output
    )
    assert "| **total** |" in result.output


def test_plan_json_is_read_as_well_as_stack_outputs(tmp_path: Path) -> None:
    from_plan = load_document(plan_file(tmp_path, "prod"))
    from_outputs = load_document(outputs_file(tmp_path, "prod"))
    assert from_plan.monthly == from_outputs.monthly
    assert from_plan.environment == "prod"


def test_a_file_that_is_not_json_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "outputs.json"
    bad.write_text("monthlyCost: 12\n")
    result = runner.invoke(app, ["cost", "--outputs", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: not JSON (Expecting value at line 1)" in result.output
    assert "Traceback" not in result.output


def test_a_file_without_the_cost_object_is_one_clear_error(tmp_path: Path) -> None:
    bare = tmp_path / "outputs.json"
    bare.write_text(json.dumps({"network": {"vpcId": "vpc-1"}}))
    result = runner.invoke(app, ["cost", "diff", str(bare), str(outputs_file(tmp_path, "dev"))])
    assert result.exit_code == 2
    assert f"{bare}: no monthlyCost object with totalUsd, byComponent and lines" in result.output


def test_stack_and_outputs_are_exclusive(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cost", "dev", "--outputs", str(outputs_file(tmp_path, "dev"))])
    assert result.exit_code == 2
    assert "not both or neither" in result.output


def test_diff_shows_total_component_and_line_deltas(tmp_path: Path) -> None:
    base = outputs_file(tmp_path, "prod", "base.json")
    head_outputs: dict[str, Any] = json.loads(base.read_text())
    monthly = head_outputs["monthlyCost"]
    nat = next(ln for ln in monthly["lines"] if ln["item"] == "NAT gateways")
    nat["monthlyUsd"] = round(nat["monthlyUsd"] + 32.85, 2)
    nat["quantity"] += 730
    monthly["lines"].append(
        {
            "component": "database",
            "item": "RDS instance",
            "unit": "instance-hour",
            "quantity": 730,
            "unitPriceUsd": 0.065,
            "monthlyUsd": 47.45,
            "usageBased": False,
            "priceKey": "rds.postgres.db.t4g.small.multi-az",
            "note": "",
        }
    )
    monthly["byComponent"]["network"] = round(monthly["byComponent"]["network"] + 32.85, 2)
    database = monthly["byComponent"]["database"]
    monthly["byComponent"]["database"] = round(database + 47.45, 2)
    monthly["totalUsd"] = round(monthly["totalUsd"] + 32.85 + 47.45, 2)
    head = tmp_path / "head.json"
    head.write_text(json.dumps(head_outputs))

    result = runner.invoke(app, ["cost", "diff", str(base), str(head)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("### Cost estimate change")
    assert "(**+$80.30** (+" in out
    assert f"| database | ${database:,.2f} | ${database + 47.45:,.2f} | +$47.45 |" in out
    assert "| network | NAT gateways | changed | $98.55 | $131.40 | +$32.85 |" in out
    assert "| database | RDS instance | added | - | $47.45 | +$47.45 |" in out
    assert "| monitoring | KMS key (alerts) |" not in out  # unchanged lines are left out


def test_diff_shows_a_line_that_became_unknown_as_unknown_never_as_a_saving(
    tmp_path: Path,
) -> None:
    base = outputs_file(tmp_path, "dev", "base.json")
    head_outputs: dict[str, Any] = json.loads(base.read_text())
    monthly = head_outputs["monthlyCost"]
    nat = next(ln for ln in monthly["lines"] if ln["item"] == "NAT data processed")
    nat["quantity"], nat["monthlyUsd"], nat["note"] = None, None, "usage not given"
    monthly["byComponent"]["network"] = round(monthly["byComponent"]["network"] - 0.90, 2)
    monthly["totalUsd"] = round(monthly["totalUsd"] - 0.90, 2)
    head = tmp_path / "head.json"
    head.write_text(json.dumps(head_outputs))

    out = runner.invoke(app, ["cost", "diff", str(base), str(head)]).output
    assert "| network | NAT data processed | now unknown | $0.90 | usage not given | unknown |" in (
        out
    )
    assert "**1 line(s) became unknown** (usage not given), $0.90 a month in the base" in out
    assert "the change above is not a saving" in out
    assert "-$0.90 + unknown |" in out  # the component's change says it leaves a line out
    assert "| -$0.90 |" not in out


def test_diff_of_identical_estimates_says_nothing_changed(tmp_path: Path) -> None:
    same = outputs_file(tmp_path, "dev")
    result = runner.invoke(app, ["cost", "diff", str(same), str(same)])
    assert "No cost line changed." in result.output
    assert "(**±$0.00** (+0.0%))" in result.output


def test_chart_writes_a_png(tmp_path: Path) -> None:
    target = tmp_path / "cost.png"
    outputs = outputs_file(tmp_path, "prod")
    result = runner.invoke(app, ["cost", "chart", "--outputs", str(outputs), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000


# --- actual spend: Cost Explorer under moto ------------------------------------------------------


@pytest.fixture
def cost_explorer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield ce_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _groups(amounts: dict[str, str]) -> dict[str, Any]:
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
                "Total": {},
                "Groups": [
                    {"Keys": [f"Component${k}"], "Metrics": {"UnblendedCost": {"Amount": v}}}
                    for k, v in amounts.items()
                ],
                "Estimated": False,
            }
        ]
    }


def test_last_month_is_the_whole_previous_calendar_month() -> None:
    assert last_month(dt.date(2026, 11, 25)) == ("2026-10-01", "2026-11-01")
    assert last_month(dt.date(2026, 1, 1)) == ("2025-12-01", "2026-01-01")


def test_actual_spend_is_grouped_by_the_component_tag(cost_explorer: Any) -> None:
    cost_explorer.cost_usage_results_queue.append(
        _groups({"network": "101.5", "monitoring": "0.9", "": "3.25"})
    )
    client = boto3.client("ce", region_name="us-east-1")
    spent = actual_by_component("prod", ("2026-10-01", "2026-11-01"), client)
    assert spent == {"(untagged)": 3.25, "monitoring": 0.9, "network": 101.5}


def test_cost_actual_sets_spend_beside_the_estimate(cost_explorer: Any, tmp_path: Path) -> None:
    cost_explorer.cost_usage_results_queue.append(_groups({"network": "130", "monitoring": "1"}))
    result = runner.invoke(
        app, ["cost", "actual", "--outputs", str(outputs_file(tmp_path, "prod"))]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("### Estimate vs actual:")
    assert "| network | $129.90 | $130.00 | +$0.10 |" in out
    assert "| external | $30.00 | - | -$30.00 |" in out


def test_cost_actual_without_credentials_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = runner.invoke(app, ["cost", "actual", "--outputs", str(outputs_file(tmp_path, "dev"))])
    assert result.exit_code == 1
    assert result.output.strip().startswith("no AWS credentials: set AWS_PROFILE")
    assert len(result.output.strip().splitlines()) == 1


# --- the guard -------------------------------------------------------------------------------


def test_plan_fails_when_the_estimate_exceeds_the_budget(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        (tmp_path / name).write_text((PROJECT_DIR / name).read_text())
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  genericcorp:budget:\n    limitUsd: 25\n")
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml: the estimate $" in result.output
    assert "exceeds the budget genericcorp:budget.limitUsd = 25.00" in result.output
    assert "Traceback" not in result.output


def test_cost_help_lists_its_commands() -> None:
    result = runner.invoke(app, ["cost", "--help"])
    assert result.exit_code == 0
    for command in ("show", "diff", "chart", "actual", "figures"):
        assert command in result.output
