"""The offline run of the policy pack: today's stacks pass, a bad program fails the plan, and
`infractl policy` reports as a table, JSON or a Markdown PR comment."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from genericcorp_policy import RULES
from typer.testing import CliRunner

from infractl import cli
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan
from infractl.offline.stackfile import PROJECT_DIR
from infractl.policy.cli import EXIT_POLICY_VIOLATION
from infractl.policy.runner import run_policies
from tests.conftest import plan_for

runner = CliRunner()
#: Where every command plans a stack: a test swaps in a program with violations there.
ENGINE_RUN_STACK = "infractl.offline.engine.run_stack"


#: What dev's config waives on purpose (advisory findings), by policy and resource.
DEV_WAIVERS = {
    ("nonprod-cost-waivers", "cdn-distribution"),  # no WAF on the dev CDN
    ("nonprod-cost-waivers-stack", "dns-zone"),  # no query logging on the dev zone
}


def test_todays_stacks_pass_every_policy(plan: Plan) -> None:
    report = run_policies(plan)
    assert report.mandatory == []
    waived = {(f.policy, f.resource) for f in report.advisory}
    assert waived == (DEV_WAIVERS if plan.stack == "dev" else set())
    checked = {o.name: o.checked for o in report.outcomes}
    assert checked["required-tags"] > 30
    assert checked["ec2-2-default-sg-closed"] == 1
    assert checked["kms-4-rotation"] == len(plan.of_type("aws:kms/key:Key"))
    assert checked["cloudwatch-log-group-kms-retention"] == len(
        plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    )
    iam_documents = ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
    assert checked["iam-1-no-admin-policy"] == sum(len(plan.of_type(t)) for t in iam_documents)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_preview_has_no_mandatory_violation(stack: str) -> None:
    report = run_policies(plan_for(stack, preview=True))
    assert report.mandatory == []


def test_prod_only_rules_apply_to_the_prod_stack_only() -> None:
    flow_logs = {o.name: o for o in run_policies(plan_for("prod")).outcomes}["ec2-6-vpc-flow-logs"]
    assert (flow_logs.checked, flow_logs.status) == (1, "pass")
    dev = {o.name: o for o in run_policies(plan_for("dev")).outcomes}["ec2-6-vpc-flow-logs"]
    assert (dev.checked, dev.status) == (0, "n/a")


def test_a_dev_waiver_is_reported_as_advisory() -> None:
    plan = run_stack(
        "dev", config_overrides={"genericcorp:network": {"flowLogs": {"enabled": False}}}
    )
    report = run_policies(plan)
    assert report.mandatory == []
    waived = {(f.policy, f.resource) for f in report.advisory}
    assert waived == {*DEV_WAIVERS, ("nonprod-cost-waivers-stack", "network-vpc")}


def _bad_program(*, protect: bool = False, secret_username: bool = False) -> None:
    """A database and a security group that break the baseline, behind the explicit provider."""
    provider = aws.Provider(
        "aws",
        region="us-east-1",
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                "Project": "genericcorp",
                "Environment": pulumi.get_stack(),
                "ManagedBy": "pulumi",
                "CostCenter": "platform-engineering",
            }
        ),
    )
    opts = pulumi.ResourceOptions(provider=provider, protect=protect)
    username: pulumi.Input[str] = pulumi.Output.secret("postgres") if secret_username else "gcadmin"
    aws.rds.Instance(
        "db",
        engine="postgres",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        publicly_accessible=True,
        storage_encrypted=True,
        username=username,
        manage_master_user_password=True,
        tags={"Component": "data"},
        opts=opts,
    )
    aws.ec2.SecurityGroup(
        "ssh",
        description="ssh from anywhere",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"]
            )
        ],
        opts=opts,
    )


def test_a_bad_program_fails_with_one_finding_per_violation() -> None:
    report = run_policies(run_stack("dev", program=_bad_program))
    mandatory = {(f.policy, f.resource) for f in report.mandatory}
    assert {
        ("rds-2-not-public", "db"),
        ("rds-23-non-default-port", "db"),
        ("required-tags", "ssh"),
        ("ec2-18-19-open-ingress", "ssh"),
    } <= mandatory
    # Dev: the prod-only rules stay quiet, the cost waivers are advisory.
    assert not any(f.policy.startswith(("rds-5", "rds-8", "prod-")) for f in report.findings)
    assert {f.policy for f in report.advisory} == {"nonprod-cost-waivers"}


def test_prod_rules_and_the_protect_option_reach_the_offline_run() -> None:
    unprotected = run_policies(run_stack("prod", program=_bad_program))
    policies = {f.policy for f in unprotected.mandatory}
    assert {"rds-5-multi-az", "rds-8-deletion-protection", "prod-protect-stateful"} <= policies
    protected = run_policies(run_stack("prod", program=partial(_bad_program, protect=True)))
    assert "prod-protect-stateful" not in {f.policy for f in protected.mandatory}


def test_a_secret_value_quoted_by_a_rule_is_masked() -> None:
    report = run_policies(run_stack("dev", program=partial(_bad_program, secret_username=True)))
    [finding] = [f for f in report.findings if f.policy == "rds-25-custom-admin"]
    assert finding.message == "the administrator username '[secret]' is an engine default"


def test_plan_exits_3_with_one_line_per_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "infractl.offline.engine.run_stack", partial(run_stack, program=_bad_program)
    )
    result = runner.invoke(cli.app, ["plan", "dev"])
    assert result.exit_code == EXIT_POLICY_VIOLATION == 3
    assert (
        "policy: MANDATORY rds-2-not-public  db (aws:rds/instance:Instance): the database is "
        "publicly accessible (publiclyAccessible)" in result.output
    )
    assert "policy: ADVISORY  nonprod-cost-waivers  db" in result.output
    assert "mandatory violation(s) in genericcorp/dev" in result.output
    assert "Traceback" not in result.output


def test_plan_json_to_stdout_stays_json_when_policies_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "infractl.offline.engine.run_stack", partial(run_stack, program=_bad_program)
    )
    result = runner.invoke(cli.app, ["plan", "dev", "--json", "-"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["stack"] == "dev"
    assert "rds-2-not-public" in result.stderr


def test_policy_command_prints_every_rule() -> None:
    result = runner.invoke(cli.app, ["policy", "prod"])
    assert result.exit_code == 0, result.output
    assert "Policy pack results for genericcorp/prod (offline plan)" in result.output
    assert "kms-4-rotation" in result.output
    assert "0 mandatory and 0 advisory violation(s)" in result.output


def test_policy_command_json_and_markdown(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["policy", "dev", "--json", "-"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["summary"]["mandatory"] == 0
    assert {
        "name": "required-tags",
        "control": "",
        "level": "mandatory",
        "status": "pass",
    }.items() <= {**next(p for p in document["policies"] if p["name"] == "required-tags")}.items()
    target = tmp_path / "policy.md"
    result = runner.invoke(cli.app, ["policy", "dev", "--markdown", str(target)])
    assert result.exit_code == 0
    comment = target.read_text()
    # Dev's waivers are advisory: reported, but the comment does not fail the pull request.
    assert comment.startswith("### ⚠️ Policy pack: `genericcorp/dev`")
    assert "| `kms-3-deletion-window` | KMS.3 | mandatory | pass |" in comment


def test_policy_command_markdown_lists_violations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "infractl.offline.engine.run_stack", partial(run_stack, program=_bad_program)
    )
    result = runner.invoke(cli.app, ["policy", "dev", "--markdown", "-"])
    assert result.exit_code == 3
    assert result.stdout.startswith("### ❌ Policy pack")
    assert "| mandatory | `rds-2-not-public` | `db` (aws:rds/instance:Instance) |" in result.stdout
    reported = runner.invoke(cli.app, ["policy", "dev", "--markdown", "-", "--exit-zero"])
    assert reported.exit_code == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            '{"required-tags": {"requiredTags": "Project"}}',
            "required-tags.requiredTags = 'Project': expected an array, got str",
        ),
        (
            '{"kms-3-deletion-window": {"minimumDays": "7"}}',
            "minimumDays = '7': expected an integer, got str",
        ),
        ('{"no-such-rule": "advisory"}', "no policy named 'no-such-rule'"),
        ('{"rds-2-not-public": "sometimes"}', "enforcement level 'sometimes' is not one of"),
        ("[1, 2]", "must be a JSON object of policy names, got list"),
        ("{not json", "the policy pack config is not JSON"),
    ],
)
def test_a_bad_policy_config_exits_2_with_one_line(
    tmp_path: Path, content: str, error: str
) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(content)
    for command in (["plan", "dev"], ["policy", "dev"]):
        result = runner.invoke(cli.app, [*command, "--policy-config", str(config)])
        assert result.exit_code == 2, result.output
        assert error in result.output
        assert "Traceback" not in result.output


def test_policy_config_can_downgrade_a_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(
        json.dumps(
            {
                "all": "advisory",
                "rds-23-non-default-port": {"enforcementLevel": "disabled"},
                "ec2-18-19-open-ingress": {"authorizedPorts": [22, 80, 443]},
            }
        )
    )
    monkeypatch.setattr(
        "infractl.offline.engine.run_stack", partial(run_stack, program=_bad_program)
    )
    result = runner.invoke(cli.app, ["plan", "dev", "--policy-config", str(config)])
    assert result.exit_code == 0, result.output
    assert "policy: ADVISORY  rds-2-not-public" in result.output
    assert "MANDATORY" not in result.output
    assert "rds-23" not in result.output
    assert "ec2-18" not in result.output


# --- documentation --------------------------------------------------------------------------

DOCS = PROJECT_DIR / "docs" / "policies.md"


def test_policies_doc_rules_table_is_current(tmp_path: Path) -> None:
    committed = DOCS.read_text(encoding="utf-8")
    copy = tmp_path / "policies.md"
    copy.write_text(committed, encoding="utf-8")
    result = runner.invoke(cli.app, ["policy-reference", "--output", str(copy)])
    assert result.exit_code == 0, result.output
    assert copy.read_text(encoding="utf-8") == committed, "docs/policies.md is stale: make docs"
    for rule in RULES:
        assert f"| `{rule.name}` |" in committed


def test_policies_doc_lists_every_config_key() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        for key in rule.config:
            assert f"| `{rule.name}` | `{key}` |" in text, (rule.name, key)
