"""The operator CLI: `infractl plan` and `infractl config-reference`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infractl.cli import app
from infractl.offline.stackfile import PROJECT_DIR, SECRET_PLACEHOLDER

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "plan" in result.output
    assert "config-reference" in result.output


def test_plan_prints_tree_counts_and_outputs() -> None:
    result = runner.invoke(app, ["plan", "prod"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Stack genericcorp/prod: offline plan" in out
    assert "network genericcorp:network:Network" in out
    assert "network-vpc aws:ec2/vpc:Vpc  cidrBlock=10.20.0.0/16" in out
    assert re.search(r"aws:ec2/subnet:Subnet +9\n", out)
    assert '"vpcId": "vpc-' in out


def test_plan_json_to_stdout_is_only_json() -> None:
    result = runner.invoke(app, ["plan", "dev", "--json", "-"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["format"] == 1
    assert document["stack"] == "dev"
    assert document["summary"]["byType"]["aws:ec2/natGateway:NatGateway"] == 1
    assert document["outputs"]["network"]["availabilityZones"] == ["us-east-1a", "us-east-1b"]


def test_plan_json_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", "dev", "--json", str(target)])
    assert result.exit_code == 0
    assert json.loads(target.read_text())["summary"]["resources"] > 30


def test_preview_mode_shows_unknowns() -> None:
    result = runner.invoke(app, ["plan", "dev", "--preview", "--json", "-"])
    assert json.loads(result.stdout)["outputs"]["network"]["vpcId"] == "[unknown]"


def test_unknown_stack_exits_2_with_one_clear_line() -> None:
    result = runner.invoke(app, ["plan", "qa"])
    assert result.exit_code == 2
    assert "unknown stack 'qa': there is no Pulumi.qa.yaml" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def test_invalid_config_exits_2_naming_file_key_and_value(project: Path) -> None:
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("natStrategy: one-per-az", "natStrategy: single")
    )
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(project)])
    assert result.exit_code == 2
    assert "Pulumi.prod.yaml: 1 configuration error; nothing was deployed:" in result.output
    assert 'genericcorp:network.natStrategy = "single": not allowed in prod' in result.output
    assert "Traceback" not in result.output


def test_invalid_yaml_exits_2(project: Path) -> None:
    (project / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(project)])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml: not valid YAML" in result.output


def test_secure_values_are_masked(project: Path) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(
        stack_file.read_text().replace(
            "      - platform-alerts-dev@genericcorp.com",
            "      - secure: v1:Zm9vYmFy:c2VjcmV0LWNpcGhlcnRleHQ=",
        )
    )
    # Offline the ciphertext cannot be decrypted; a placeholder stands in and stays masked.
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(project), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert "c2VjcmV0" not in result.output
    assert SECRET_PLACEHOLDER not in result.output
    [subscription] = [
        r for r in json.loads(result.stdout)["resources"] if r["type"].endswith("TopicSubscription")
    ]
    assert subscription["inputs"]["endpoint"] == "[secret]"


def test_secure_values_are_masked_in_config_errors(project: Path) -> None:
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(
        stack_file.read_text().replace(
            "  genericcorp:network:\n",
            "  genericcorp:network:\n"
            "    flowLogs:\n      retentionDays:\n        secure: v1:abc=\n",
        )
    )
    result = runner.invoke(app, ["plan", "dev", "--project-dir", str(project)])
    assert result.exit_code == 2
    assert "genericcorp:network.flowLogs.retentionDays = [secret]: not allowed" in result.output
    assert "example.com" not in result.output


def test_config_reference_writes_the_docs(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    result = runner.invoke(app, ["config-reference", "--output", str(target)])
    assert result.exit_code == 0
    assert target.read_text().startswith("# Stack configuration reference")
