"""docs/deploying.md describes the commands, options and CI settings as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infractl.aws.bootstrap import DEFAULT_KEY_ALIAS, BootstrapReport, default_bucket_name
from infractl.aws.restore_drill import DEFAULT_RTO_MINUTES, PERMISSIONS
from infractl.cli import app

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
runner = CliRunner()


def test_readme_links_the_guide() -> None:
    assert "[docs/deploying.md](docs/deploying.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("command", ["bootstrap", "verify", "restore-drill"])
def test_every_option_the_guide_names_exists(command: str) -> None:
    help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    named = set(re.findall(rf"infractl {command}[^\n`]*", GUIDE))
    options = {opt for line in named for opt in re.findall(r"--[a-z-]+", line)}
    assert options, f"the guide never runs infractl {command}"
    for option in options:
        assert option in help_text, f"infractl {command} has no {option}"


def test_the_guide_lists_every_permission_the_restore_drill_needs() -> None:
    for permission in PERMISSIONS:
        assert f"`{permission}`" in GUIDE, permission
    assert f"(RTO: {DEFAULT_RTO_MINUTES} minutes" in GUIDE


@pytest.mark.parametrize(
    "option", ["--bucket", "--key-alias", "--noncurrent-days", "--profile", "--account-id", "--fix"]
)
def test_the_guide_lists_bootstraps_options(option: str) -> None:
    assert f"`{option}" in GUIDE


def test_the_printed_lines_match_the_guide() -> None:
    report = BootstrapReport(
        account_id="123456789012",
        region="us-east-1",
        bucket=default_bucket_name("123456789012", "us-east-1"),
        key_alias=DEFAULT_KEY_ALIAS,
    )
    for line in (report.login_command(), *report.stack_init_commands()):
        assert line in GUIDE, line


def test_every_variable_the_workflows_read_is_documented() -> None:
    workflows = "".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    variables = set(re.findall(r"vars\.([A-Z_]+)", workflows))
    assert variables == {"AWS_ROLE_ARN", "PULUMI_BACKEND_URL", "AWS_REGION"}
    for variable in variables:
        assert f"`{variable}`" in GUIDE, variable
    for environment in ("`dev`", "`prod`"):
        assert environment in GUIDE
