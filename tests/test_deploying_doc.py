"""docs/deploying.md describes the commands, options and CI settings as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from components.ci_runner import RUNNER_WORKFLOWS
from infractl.aws.bootstrap import DEFAULT_KEY_ALIAS, BootstrapReport, default_bucket_name
from infractl.aws.restore_drill import DEFAULT_RTO_MINUTES, PERMISSIONS
from infractl.cli import app
from infractl.offline.plan import Plan
from tests.conftest import STACKS, plan_for

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
runner = CliRunner()


def test_readme_links_the_guide() -> None:
    assert "[docs/deploying.md](docs/deploying.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("command", ["bootstrap", "verify", "restore-drill", "preflight"])
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


# --- the first deploy of a brand-new account ------------------------------------------------

#: ``--exclude '<urn>'`` in the guide's commands.
EXCLUDED = re.compile(r"--exclude '([^']+)'")


def first_deploy_exclusions() -> dict[str, set[str]]:
    """The URNs the guide's first deploy excludes, per stack (from each URN's stack segment)."""
    assert "--exclude-dependents" in GUIDE
    found: dict[str, set[str]] = {}
    for urn in EXCLUDED.findall(GUIDE):
        found.setdefault(urn.split("::")[0].removeprefix("urn:pulumi:"), set()).add(urn)
    return found


def dependents(plan: Plan, urns: set[str]) -> set[str]:
    """Every resource that depends on ``urns``, through dependencies, its provider or its
    parent, transitively (what ``--exclude-dependents`` leaves out)."""
    excluded = set(urns)
    changed = True
    while changed:
        changed = False
        for resource in plan.resources:
            if resource.urn in excluded:
                continue
            links = {*resource.dependencies, resource.provider, resource.parent}
            if links & excluded:
                excluded.add(resource.urn)
                changed = True
    return excluded


@pytest.mark.parametrize("stack", STACKS)
def test_the_first_deploy_excludes_exactly_the_kubernetes_half(stack: str) -> None:
    exclusions = first_deploy_exclusions()
    assert set(exclusions) == set(STACKS), "the guide gives the first deploy of each stack"
    plan = plan_for(stack)
    # Each URN the guide excludes is one the plan declares (plan.by_urn fails otherwise).
    types = {plan.by_urn(urn).type: urn for urn in exclusions[stack]}
    assert set(types) == {
        "pulumi:providers:kubernetes",
        # The CDN's certificate validates once the zone is delegated (docs/dns.md).
        "aws:acm/certificateValidation:CertificateValidation",
    }
    (urn,) = {types["pulumi:providers:kubernetes"]}
    left_out = dependents(plan, set(exclusions[stack]))
    kubernetes = {r.urn for r in plan.resources if r.type.startswith("kubernetes:")}
    assert kubernetes, "the plan has a Kubernetes half"
    assert kubernetes <= left_out
    # What CI needs to reach the cluster is deployed by the first, workstation-run update.
    needed = [
        r
        for r in plan.resources
        if r.type.startswith(("aws:codebuild/", "aws:eks/", "aws:ec2/", "aws:vpc/"))
    ]
    assert {r.type for r in needed} >= {
        "aws:codebuild/project:Project",
        "aws:codebuild/webhook:Webhook",
        "aws:eks/cluster:Cluster",
        "aws:eks/accessEntry:AccessEntry",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/natGateway:NatGateway",
    }
    assert not {r.urn for r in needed} & left_out
    # The Kubernetes provider's exclusion holds Kubernetes objects only: no AWS resource is
    # left for CI to create (the certificate's exclusion holds the CDN's, docs/dns.md).
    assert not [u for u in dependents(plan, {urn}) if plan.by_urn(u).type.startswith("aws:")]


@pytest.mark.parametrize("stack", STACKS)
def test_the_guide_names_the_runner_project_and_output_the_stack_declares(stack: str) -> None:
    outputs = plan_for(stack).outputs["ciRunner"]
    assert f"--names {outputs['projectName']}" in GUIDE
    assert f"pulumi stack output --stack {stack} ciRunner" in GUIDE
    label = outputs["runnerLabel"].replace(f"-{stack}-", "-<stack>-")
    assert f"`{label}`" in GUIDE


def test_the_guide_names_the_workflows_the_runner_serves() -> None:
    for workflow in RUNNER_WORKFLOWS:
        assert f"`{workflow}`" in GUIDE
