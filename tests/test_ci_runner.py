"""The deploy path into the private cluster: the runner in the private subnets, its webhook, its
narrow role and security group, the CI roles' access entries, and the workflows that use it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.ci_runner import (
    RUNNER_WORKFLOWS,
    CiRunner,
    CiRunnerParts,
    ComputeType,
    runner_label,
)
from components.cost import load_catalog
from components.eks_cluster import AccessPolicy
from components.network import SubnetTier, plan_subnets
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import (
    ADMIN_ENTRY,
    STACKS,
    minimal_values,
    plan_for,
    plan_with,
    policy,
    stack_config,
    statements,
)

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI = "genericcorp:ci"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/6f1c2d3e-0a4b-4c5d"
RUNNER = {"enabled": True, "githubRepository": "genericcorp/platform", "connectionArn": CONNECTION}


def ci_resources(plan: Plan, type_: str) -> list[PlannedResource]:
    (component,) = plan.of_type(CiRunner.TYPE)
    return [r for r in plan.descendants(component.urn) if r.type == type_]


def one(plan: Plan, type_: str) -> PlannedResource:
    found = ci_resources(plan, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


# --- the runner ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_is_a_github_actions_runner_in_the_private_subnets(stack: str) -> None:
    plan = plan_for(stack)
    project = one(plan, "aws:codebuild/project:Project").inputs
    network = plan.outputs["network"]
    assert project["source"]["type"] == "GITHUB"
    assert project["source"]["location"] == "https://github.com/genericcorp/platform.git"
    assert project["source"]["auth"] == {
        "type": "CODECONNECTIONS",
        "resource": stack_config(stack).ci.runner.connection_arn,
    }
    vpc = project["vpcConfig"]
    assert vpc["vpcId"] == network["vpcId"]
    assert vpc["subnets"] == network["privateSubnetIds"]
    assert not set(vpc["subnets"]) & set(network["publicSubnetIds"])
    assert vpc["securityGroupIds"] == [
        one(plan, "aws:ec2/securityGroup:SecurityGroup").outputs["id"]
    ]
    assert project["environment"]["type"] == "LINUX_CONTAINER"
    assert project["environment"]["privilegedMode"] is False
    assert project["environment"]["computeType"] == "BUILD_GENERAL1_SMALL"
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_project_waits_for_its_roles_permissions(stack: str) -> None:
    """CodeBuild refuses to create a project in a VPC whose service role may not yet describe
    the VPC's security groups (InvalidInputException: Not authorized to perform
    DescribeSecurityGroups)."""
    plan = plan_for(stack)
    project = one(plan, "aws:codebuild/project:Project")
    assert one(plan, "aws:iam/rolePolicy:RolePolicy").urn in project.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_the_webhook_starts_the_runner_only_for_queued_jobs_of_the_deploy_workflows(
    stack: str,
) -> None:
    webhook = one(plan_for(stack), "aws:codebuild/webhook:Webhook").inputs
    (group,) = webhook["filterGroups"]
    filters = {f["type"]: f["pattern"] for f in group["filters"]}
    assert filters["EVENT"] == "WORKFLOW_JOB_QUEUED"
    pattern = re.compile(filters["WORKFLOW_NAME"])
    names = {yaml.safe_load(path.read_text())["name"] for path in WORKFLOWS.glob("*.yml")}
    assert names == set(RUNNER_WORKFLOWS)
    for name in names:
        assert pattern.fullmatch(name), name
    for other in ("pull-request-from-fork", "release", "deploy2", "xdeploy"):
        assert not pattern.match(other), other


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_has_no_ingress_and_reaches_out_on_https_only(stack: str) -> None:
    plan = plan_for(stack)
    group_id = one(plan, "aws:ec2/securityGroup:SecurityGroup").outputs["id"]
    group = one(plan, "aws:ec2/securityGroup:SecurityGroup").inputs
    assert not group.get("ingress")
    assert not group.get("egress")
    egress = [
        r.inputs
        for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.inputs["securityGroupId"] == group_id
    ]
    assert [(e["ipProtocol"], e["fromPort"], e["toPort"]) for e in egress] == [("tcp", 443, 443)]
    into_runner = [
        r
        for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group_id
    ]
    assert into_runner == []
    # The cluster's security group (the private endpoint's) admits the runner on 443 alone.
    cluster_group = plan.outputs["cluster"]["securityGroupId"]
    admitted = one(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert admitted["securityGroupId"] == cluster_group
    assert admitted["referencedSecurityGroupId"] == group_id
    assert (admitted["ipProtocol"], admitted["fromPort"], admitted["toPort"]) == ("tcp", 443, 443)
    assert "cidrIpv4" not in admitted


@pytest.mark.parametrize("stack", STACKS)
def test_only_this_projects_codebuild_may_assume_the_runners_narrow_role(stack: str) -> None:
    plan = plan_for(stack)
    role = one(plan, "aws:iam/role:Role")
    (trust,) = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    project_name = plan.outputs["ciRunner"]["projectName"]
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"].endswith(f":project/{project_name}")
    granted = statements(policy(one(plan, "aws:iam/rolePolicy:RolePolicy"), "policy"))
    actions = {
        a for s in granted for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert all("*" not in action for action in actions)
    # No AWS permission beyond running the runner: no IAM, EKS, STS or S3 action.
    assert {action.split(":")[0] for action in actions} == {"logs", "ec2", "codeconnections"}
    by_sid = {s["Sid"]: s for s in granted}
    assert (
        by_sid["UseTheGitHubConnection"]["Resource"] == stack_config(stack).ci.runner.connection_arn
    )
    subnets = by_sid["InterfacesInItsSubnetsOnly"]["Condition"]["ArnEquals"]["ec2:Subnet"]
    assert [arn.rsplit("/", 1)[1] for arn in subnets] == plan.outputs["network"]["privateSubnetIds"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_runners_logs_are_encrypted_and_kept(stack: str) -> None:
    plan = plan_for(stack)
    log_group = one(plan, "aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["name"] == f"/genericcorp/{stack}/ci-runner"
    assert log_group.inputs["retentionInDays"] == {"dev": 30, "prod": 365}[stack]
    assert log_group.inputs["kmsKeyId"] == one(plan, "aws:kms/key:Key").outputs["arn"]
    logs = one(plan, "aws:codebuild/project:Project").inputs["logsConfig"]
    assert logs["cloudwatchLogs"] == {"status": "ENABLED", "groupName": log_group.inputs["name"]}
    assert logs["s3Logs"]["status"] == "DISABLED"


# --- who may use the cluster -----------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_ci_roles_are_cluster_admins_and_the_runners_own_role_is_not(stack: str) -> None:
    plan = plan_for(stack)
    config = stack_config(stack).ci
    entries = {e.inputs["principalArn"]: e for e in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    associations = {
        a.inputs["principalArn"]: a.inputs
        for a in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert config.deploy_role_arn
    assert config.preview_role_arn
    for arn in (config.deploy_role_arn, config.preview_role_arn):
        assert arn in entries
        assert associations[arn]["policyArn"] == AccessPolicy.CLUSTER_ADMIN.arn
        assert associations[arn]["accessScope"] == {"type": "cluster"}
    assert plan.outputs["ciRunner"]["accessEntries"] == [
        config.deploy_role_arn,
        config.preview_role_arn,
    ]
    runner_role = one(plan, "aws:iam/role:Role").outputs["arn"]
    assert runner_role == plan.outputs["ciRunner"]["roleArn"]
    assert runner_role not in entries


# --- the workflows run on the label the stack outputs ----------------------------------------


def workflow_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            found.append((path.name, name, job))
    return found


def touches_the_cluster(job: dict[str, Any]) -> bool:
    """A job that runs pulumi against a stack: preview, up or the drift check's refresh."""
    return any(str(step.get("uses", "")).startswith("pulumi/actions@") for step in job["steps"])


def stacks_of(job: dict[str, Any]) -> list[str]:
    pulumi = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    stack = pulumi["with"]["stack-name"]
    if stack == "${{ matrix.stack }}":
        return list(job["strategy"]["matrix"]["stack"])
    return [stack]


def test_every_job_that_touches_the_cluster_runs_on_its_stacks_runner() -> None:
    cluster_jobs = [(f, n, j) for f, n, j in workflow_jobs() if touches_the_cluster(j)]
    assert {(f, n) for f, n, _ in cluster_jobs} == {
        ("deploy.yml", "dev"),
        ("deploy.yml", "prod"),
        ("drift.yml", "drift"),
        ("pull-request.yml", "preview"),
    }
    for file, name, job in cluster_jobs:
        for stack in stacks_of(job):
            label = job["runs-on"].replace("${{ matrix.stack }}", stack)
            assert label == plan_for(stack).outputs["ciRunner"]["runnerLabel"], (file, name)


def test_jobs_that_do_not_touch_the_cluster_stay_on_github_hosted_runners() -> None:
    for file, name, job in workflow_jobs():
        if not touches_the_cluster(job):
            assert re.fullmatch(r"ubuntu-\d\d\.\d\d", job["runs-on"]), (file, name)


def test_the_label_is_codebuilds_format() -> None:
    assert runner_label("genericcorp-dev-ci-runner") == (
        "codebuild-genericcorp-dev-ci-runner-${{ github.run_id }}-${{ github.run_attempt }}"
    )
    assert "runnerLabel" in CiRunner.OUTPUTS


# --- configuration: choices and bad input --------------------------------------------------------


def ci(**changes: Any) -> dict[str, Any]:
    return {CI: {"runner": RUNNER | changes.pop("runner", {}), **changes}}


def refused(environment: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    return caught.value.render()


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_a_runner_subnet_outside_the_private_subnets_is_refused(environment: str) -> None:
    network = parse_stack_config(environment, minimal_values(environment, ci())).network
    layout = plan_subnets(network.cidr, network.az_count, network.subnet_prefix_lengths)
    private = [str(block) for block in layout[SubnetTier.PRIVATE]]
    outside = "192.168.0.0/19"
    message = refused(environment, ci(runner={"subnetCidrs": [private[0], outside]}))
    assert f'genericcorp:ci.runner.subnetCidrs[1] = "{outside}"' in message
    assert "is not one of the stack's private subnets; allowed: " + ", ".join(private) in message
    assert "subnetCidrs[0]" not in message
    assert f"Pulumi.{environment}.yaml" in message
    # A subnet of the stack, but public (or a database subnet): refused as well.
    for tier in (SubnetTier.PUBLIC, SubnetTier.DATABASE):
        other = str(layout[tier][0])
        assert "subnetCidrs[0]" in refused(environment, ci(runner={"subnetCidrs": [other]}))


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/deployer",
        "arn:aws:sts::123456789012:assumed-role/github-deploy-dev/session",
        "arn:aws:iam::12345:role/github-deploy-dev",
        "github-deploy-dev",
        "arn:aws:iam::123456789012:role/",
    ],
)
@pytest.mark.parametrize("key", ["deployRoleArn", "previewRoleArn"])
def test_a_ci_role_that_is_not_an_iam_role_arn_is_refused(key: str, arn: str) -> None:
    message = refused("dev", ci(**{key: arn}))
    assert f"genericcorp:ci.{key}" in message
    assert "must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>" in message


def test_a_ci_role_also_listed_as_a_cluster_admin_is_refused() -> None:
    message = refused("dev", ci(deployRoleArn=ADMIN_ENTRY["principalArn"]))
    assert "genericcorp:ci.deployRoleArn" in message
    assert "EKS allows one access entry per principal" in message


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        ({"connectionArn": None}, "needs githubRepository and connectionArn"),
        ({"connectionArn": "arn:aws:iam::123456789012:role/x"}, "CodeConnections connection ARN"),
        ({"githubRepository": "https://github.com/genericcorp/platform"}, "owner/name"),
        ({"subnetCidrs": []}, "at least one private subnet"),
        ({"computeType": "BUILD_GENERAL1_2XLARGE"}, "BUILD_GENERAL1_SMALL"),
    ],
)
def test_an_incomplete_or_malformed_runner_is_refused(
    runner: dict[str, Any], expected: str
) -> None:
    assert expected in refused("dev", ci(runner=runner))


def test_the_runner_runs_in_the_chosen_private_subnets_only() -> None:
    plan = plan_with(
        "dev",
        {
            CI: stack_config("dev").ci.model_dump(by_alias=True)
            | {
                "runner": RUNNER | {"subnetCidrs": ["10.10.32.0/19"]},
            }
        },
    )
    project = one(plan, "aws:codebuild/project:Project").inputs
    assert project["vpcConfig"]["subnets"] == plan.outputs["network"]["privateSubnetIds"][1:2]


def test_without_a_runner_only_the_ci_roles_are_kept() -> None:
    overrides = ci(runner={"enabled": False}, deployRoleArn="arn:aws:iam::123456789012:role/d")
    config = parse_stack_config("dev", minimal_values("dev", overrides)).ci
    parts = CiRunnerParts(config)
    assert not parts.runner
    assert parts.key_purposes == ()
    assert parts.cost_lines(load_catalog("us-east-1")) == []
    assert config.role_arns == ("arn:aws:iam::123456789012:role/d",)
    # The defaults have no runner: only a stack file can name the repository and connection.
    assert not parse_stack_config("prod", minimal_values("prod")).ci.runner.enabled


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_is_priced_by_build_minute_and_its_key(stack: str) -> None:
    config = stack_config(stack)
    catalog = load_catalog("us-east-1")
    lines = {line.item: line for line in CiRunnerParts(config.ci).cost_lines(catalog)}
    minutes = lines["CI runner build minutes"]
    price = catalog.price(ComputeType.SMALL.price_key)
    assert (price.usd, price.unit) == (0.005, "build-minute")
    expected = {"dev": 600, "prod": 1000}[stack]  # the stack files' buildMinutesPerMonth
    assert minutes.quantity == config.ci.runner.build_minutes_per_month == expected
    assert minutes.monthly_usd == pytest.approx(0.005 * expected)
    assert minutes.usage_based
    assert {line.price_key for line in lines.values()} == {
        "codebuild.linux.general1-small",
        "kms.customer-managed-key",
        "kms.key-rotation",
    }
