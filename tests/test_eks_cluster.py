"""The EKS cluster in both stacks: version, encryption, audit logs, endpoint, access, IRSA, alarms;
and every bad cluster setting refused with a clear message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.eks_cluster import (
    ADDON_VERSIONS,
    CONTROL_PLANE_LOG_TYPES,
    KUBERNETES_VERSIONS,
    VERSIONS_REVIEWED_ON,
    addon_minor,
    kubeconfig,
)
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import ADMIN_ENTRY, minimal_values, plan_with, policy, statements

CLUSTER = "aws:eks/cluster:Cluster"
CLUSTER_KEY = "genericcorp:cluster"


def cluster_of(plan: Plan) -> PlannedResource:
    return plan.one(CLUSTER)


def cluster_error(environment: str, **changes: Any) -> str:
    """The one problem a cluster setting causes, rendered."""
    values = minimal_values(environment, {CLUSTER_KEY: {"accessEntries": [ADMIN_ENTRY], **changes}})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, values)
    assert len(caught.value.problems) == 1, caught.value.render()
    return caught.value.problems[0].render()


# --- version ------------------------------------------------------------------------------


def test_every_allowed_version_is_in_standard_support_on_the_review_date() -> None:
    for version, support in KUBERNETES_VERSIONS.items():
        assert support.released <= VERSIONS_REVIEWED_ON <= support.end_of_standard_support, version
        # EKS gives each minor 14 months of standard support.
        months = (support.end_of_standard_support.year - support.released.year) * 12 + (
            support.end_of_standard_support.month - support.released.month
        )
        assert months == 14, version


def test_cluster_runs_a_standard_support_version_and_never_pays_for_extended(plan: Plan) -> None:
    cluster = cluster_of(plan)
    assert cluster.inputs["version"] == "1.35"
    assert cluster.inputs["version"] in KUBERNETES_VERSIONS
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert plan.outputs["cluster"]["version"] == "1.35"


@pytest.mark.parametrize("version", ["1.29", "1.33", "1.36", "2.0"])
def test_a_version_outside_the_supported_list_is_refused(version: str) -> None:
    line = cluster_error(
        "dev",
        version=version,
        addons={"kubeProxy": f"v{version}.0-eksbuild.1"},
    )
    assert line.startswith(f'genericcorp:cluster.version = "{version}": ')
    assert "not in EKS standard support; allowed: 1.34, 1.35" in line


def test_kube_proxy_must_match_the_cluster_version() -> None:
    line = cluster_error("dev", version="1.34", addons={"kubeProxy": "v1.35.0-eksbuild.2"})
    assert "kube-proxy must match the cluster's minor version" in line
    assert "v1.35.0-eksbuild.2 is for Kubernetes 1.35, the cluster runs 1.34" in line


# --- managed add-on versions per Kubernetes version ---------------------------------------


def test_every_supported_kubernetes_version_has_addon_versions() -> None:
    assert set(ADDON_VERSIONS) == set(KUBERNETES_VERSIONS)


@pytest.mark.parametrize("version", sorted(ADDON_VERSIONS))
def test_each_versions_kube_proxy_is_built_for_that_version(version: str) -> None:
    assert addon_minor(ADDON_VERSIONS[version].kube_proxy) == version


@pytest.mark.parametrize("version", sorted(KUBERNETES_VERSIONS))
def test_the_addons_default_to_the_table_entry_of_the_configured_version(version: str) -> None:
    values = minimal_values(
        "dev", {CLUSTER_KEY: {"accessEntries": [ADMIN_ENTRY], "version": version}}
    )
    assert parse_stack_config("dev", values).cluster.addon_versions == ADDON_VERSIONS[version]


def test_an_explicit_addon_version_wins_over_the_table() -> None:
    values = minimal_values(
        "dev",
        {
            CLUSTER_KEY: {
                "accessEntries": [ADMIN_ENTRY],
                "addons": {"coredns": "v1.12.4-eksbuild.1"},
            }
        },
    )
    versions = parse_stack_config("dev", values).cluster.addon_versions
    assert versions.coredns == "v1.12.4-eksbuild.1"
    assert versions.kube_proxy == ADDON_VERSIONS["1.35"].kube_proxy


def test_a_version_without_addon_versions_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ADDON_VERSIONS, "1.34")
    line = cluster_error("dev", version="1.34")
    assert line.startswith("genericcorp:cluster.addons = ")
    assert "Kubernetes 1.34 (genericcorp:cluster.version) has no add-on versions" in line
    assert "ADDON_VERSIONS (components/eks_cluster.py), which lists 1.35" in line


def test_a_version_without_addon_versions_runs_with_every_version_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    every = {**ADDON_VERSIONS["1.34"].model_dump(by_alias=True)}
    monkeypatch.delitem(ADDON_VERSIONS, "1.34")
    values = minimal_values(
        "dev", {CLUSTER_KEY: {"accessEntries": [ADMIN_ENTRY], "version": "1.34", "addons": every}}
    )
    assert parse_stack_config("dev", values).cluster.addon_versions.kube_proxy == every["kubeProxy"]


# --- encryption and audit -----------------------------------------------------------------


def test_secrets_are_encrypted_with_a_rotating_customer_managed_key(plan: Plan) -> None:
    cluster = cluster_of(plan)
    key = plan.named("eks-secrets-key", "aws:kms/key:Key")
    assert cluster.inputs["encryptionConfig"] == {
        "resources": ["secrets"],
        "provider": {"keyArn": key.outputs["arn"]},
    }
    assert key.inputs["enableKeyRotation"] is True


def test_cluster_role_may_use_only_the_secrets_key(plan: Plan) -> None:
    role = plan.named("eks-role")
    trust = statements(policy(role, "assumeRolePolicy"))
    assert [s["Principal"] for s in trust] == [{"Service": "eks.amazonaws.com"}]
    [grant] = statements(policy(plan.named("eks-role-secrets-key"), "policy"))
    assert grant["Resource"] == plan.named("eks-secrets-key", "aws:kms/key:Key").outputs["arn"]
    assert set(grant["Action"]) == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ListGrants",
        "kms:DescribeKey",
    }
    [attachment] = [
        a
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"]
    ]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


def test_every_control_plane_log_type_goes_to_an_encrypted_log_group_with_retention(
    plan: Plan,
) -> None:
    cluster = cluster_of(plan)
    assert cluster.inputs["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
    assert len(CONTROL_PLANE_LOG_TYPES) == 5
    log_group = plan.named("eks-control-plane-logs")
    assert log_group.inputs["name"] == f"/aws/eks/genericcorp-{plan.stack}-eks/cluster"
    assert log_group.inputs["retentionInDays"] == {"dev": 30, "prod": 365}[plan.stack]
    assert (
        log_group.inputs["kmsKeyId"] == plan.named("eks-logs-key", "aws:kms/key:Key").outputs["arn"]
    )


def test_log_group_is_declared_before_the_cluster(plan: Plan) -> None:
    # Otherwise EKS creates the group itself, with no retention and no key.
    assert plan.named("eks-control-plane-logs").urn in cluster_of(plan).dependencies


# --- endpoint -----------------------------------------------------------------------------


def test_endpoint_is_private_by_default(plan: Plan) -> None:
    vpc_config = cluster_of(plan).inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config
    assert plan.outputs["cluster"]["endpointPublicAccess"] is False
    assert plan.outputs["cluster"]["publicAccessCidrs"] == []


def test_cluster_sits_in_the_private_subnets(plan: Plan) -> None:
    subnets = cluster_of(plan).inputs["vpcConfig"]["subnetIds"]
    assert subnets == plan.outputs["network"]["privateSubnetIds"]
    assert len(subnets) == {"dev": 2, "prod": 3}[plan.stack]


def test_public_endpoint_is_limited_to_the_configured_cidrs() -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    plan = plan_with(
        "dev",
        {
            CLUSTER_KEY: {
                "accessEntries": [ADMIN_ENTRY],
                "endpointPublicAccess": True,
                "publicAccessCidrs": cidrs,
            }
        },
    )
    vpc_config = plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["publicAccessCidrs"] == cidrs
    assert plan.outputs["cluster"]["publicAccessCidrs"] == cidrs


@pytest.mark.parametrize("cidrs", [["0.0.0.0/0"], ["203.0.113.0/24", "0.0.0.0/0"]])
def test_the_whole_internet_is_refused_as_a_public_cidr(cidrs: list[str]) -> None:
    line = cluster_error("dev", endpointPublicAccess=True, publicAccessCidrs=cidrs)
    assert line.startswith("genericcorp:cluster.publicAccessCidrs = ")
    assert "0.0.0.0/0 opens the Kubernetes API to the whole internet" in line


def test_public_access_without_cidrs_is_refused() -> None:
    line = cluster_error("prod", endpointPublicAccess=True, publicAccessCidrs=[])
    assert "EKS would open the endpoint to 0.0.0.0/0" in line


def test_cidrs_without_public_access_are_refused_rather_than_ignored() -> None:
    line = cluster_error("dev", publicAccessCidrs=["203.0.113.0/24"])
    assert "the CIDRs would be ignored" in line


def test_a_malformed_cidr_is_refused() -> None:
    line = cluster_error("dev", endpointPublicAccess=True, publicAccessCidrs=["10.0.0.300/24"])
    assert "'10.0.0.300/24' is not an IPv4 CIDR" in line


# --- access -------------------------------------------------------------------------------


def test_authentication_is_api_only_and_the_creator_gets_no_permanent_admin(plan: Plan) -> None:
    assert cluster_of(plan).inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }


def test_each_configured_admin_gets_an_access_entry_and_its_policy(plan: Plan) -> None:
    expected = {
        "dev": {
            "arn:aws:iam::123456789012:role/platform-admin": "AmazonEKSClusterAdminPolicy",
            "arn:aws:iam::123456789012:role/developer": "AmazonEKSEditPolicy",
        },
        "prod": {
            "arn:aws:iam::123456789012:role/platform-admin": "AmazonEKSClusterAdminPolicy",
            "arn:aws:iam::123456789012:role/sre-readonly": "AmazonEKSViewPolicy",
        },
    }[plan.stack]
    # The CI roles' entries are the CI runner's (tests/test_ci_runner.py).
    entries = [
        e
        for e in plan.of_type("aws:eks/accessEntry:AccessEntry")
        if "genericcorp:compute:EksCluster$" in e.urn
    ]
    assert {e.inputs["principalArn"] for e in entries} == set(expected)
    assert all(e.inputs["type"] == "STANDARD" for e in entries)
    associations = [
        a
        for a in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if "genericcorp:compute:EksCluster$" in a.urn
    ]
    assert {
        a.inputs["principalArn"]: a.inputs["policyArn"].rsplit("/", 1)[-1] for a in associations
    } == expected
    assert all(a.inputs["accessScope"] == {"type": "cluster"} for a in associations)
    assert all(a.inputs["clusterName"] == f"genericcorp-{plan.stack}-eks" for a in associations)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:group/admins",
        "arn:aws:sts::123456789012:assumed-role/admin/session",
        "arn:aws:iam::12345:role/admin",
        "admin",
        "arn:aws:iam::123456789012:role/",
    ],
)
def test_an_access_entry_that_is_not_an_iam_role_or_user_arn_is_refused(arn: str) -> None:
    entries = [ADMIN_ENTRY, {"principalArn": arn, "accessPolicy": "view"}]
    line = cluster_error("dev", accessEntries=entries)
    assert line.startswith(f'genericcorp:cluster.accessEntries[1].principalArn = "{arn}": ')
    assert "must be an IAM role or user ARN" in line


def test_an_iam_user_arn_is_accepted() -> None:
    user = {"principalArn": "arn:aws:iam::123456789012:user/ops/alice", "accessPolicy": "admin"}
    values = minimal_values("dev", {CLUSTER_KEY: {"accessEntries": [ADMIN_ENTRY, user]}})
    config = parse_stack_config("dev", values)
    assert config.cluster.access_entries[1].principal_arn.endswith("user/ops/alice")


def test_a_cluster_without_a_cluster_admin_entry_is_refused() -> None:
    line = cluster_error("dev", accessEntries=[{**ADMIN_ENTRY, "accessPolicy": "view"}])
    assert "accessEntries needs a cluster-admin entry for the role that runs pulumi" in line


def test_an_unknown_access_policy_is_refused() -> None:
    line = cluster_error("dev", accessEntries=[{**ADMIN_ENTRY, "accessPolicy": "root"}])
    assert "genericcorp:cluster.accessEntries[0].accessPolicy" in line
    assert "cluster-admin" in line


# --- IRSA, protection, alarms, outputs ----------------------------------------------------


def test_oidc_provider_trusts_the_cluster_issuer_for_sts(plan: Plan) -> None:
    cluster = cluster_of(plan)
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert provider.inputs["url"] == issuer
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert plan.outputs["cluster"]["oidcProviderArn"] == provider.outputs["arn"]


def test_prod_cluster_is_protected_and_dev_is_not(plan: Plan) -> None:
    cluster = cluster_of(plan)
    assert cluster.protect is (plan.stack == "prod")
    assert cluster.inputs["deletionProtection"] is (plan.stack == "prod")


def test_self_managed_default_addons_are_not_installed(plan: Plan) -> None:
    # The managed add-ons (vpc-cni with its own IRSA role) replace them.
    assert cluster_of(plan).inputs["bootstrapSelfManagedAddons"] is False


def test_control_plane_alarms_go_to_the_alerts_topic(plan: Plan) -> None:
    topic_arn = plan.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = [
        a
        for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["namespace"] == "AWS/EKS"
    ]
    assert {a.inputs["metricName"] for a in alarms} == {
        "scheduler_pending_pods_UNSCHEDULABLE",
        "apiserver_request_total_5XX",
    }
    for alarm in alarms:
        assert alarm.inputs["dimensions"] == {"ClusterName": f"genericcorp-{plan.stack}-eks"}
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]


def test_cluster_output_keeps_the_shared_contract(plan: Plan) -> None:
    cluster = cluster_of(plan)
    output = plan.outputs["cluster"]
    assert set(output) == {
        "name",
        "arn",
        "endpoint",
        "version",
        "securityGroupId",
        "oidcProviderArn",
        "endpointPublicAccess",
        "publicAccessCidrs",
        "nodeGroups",
    }
    assert output["name"] == cluster.inputs["name"] == f"genericcorp-{plan.stack}-eks"
    assert output["arn"] == cluster.outputs["arn"]
    assert output["endpoint"] == cluster.outputs["endpoint"]
    # The EKS-created security group (nodes use it: their launch template names none), not
    # one the program makes and not the VPC's locked default group.
    assert output["securityGroupId"].startswith("sg-")
    made_here = {group.id for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert output["securityGroupId"] not in made_here
    vpc = plan.one("aws:ec2/vpc:Vpc")
    assert output["securityGroupId"] != vpc.outputs["defaultSecurityGroupId"]
    assert output["nodeGroups"] == [f"genericcorp-{plan.stack}-general"]


def test_kubeconfig_is_a_secret_output_that_gets_tokens_from_the_aws_cli(plan: Plan) -> None:
    assert plan.outputs["kubeconfig"] == "[secret]"
    config = json.loads(plan.raw_outputs["kubeconfig"])
    cluster = cluster_of(plan)
    assert config["clusters"][0]["cluster"]["server"] == cluster.outputs["endpoint"]
    assert (
        config["clusters"][0]["cluster"]["certificate-authority-data"]
        == cluster.outputs["certificateAuthority"]["data"]
    )
    command = config["users"][0]["user"]["exec"]
    assert command["command"] == "aws"
    assert command["args"][:2] == ["eks", "get-token"]
    name = cluster.inputs["name"]
    assert command["args"][2:6] == ["--cluster-name", name, "--region", "us-east-1"]
    assert "token" not in json.dumps(config["users"][0]["user"]).replace("get-token", "")


def test_kubeconfig_selects_its_own_context() -> None:
    config = json.loads(kubeconfig("c", "https://x", "Y2E=", "eu-west-1"))
    assert config["current-context"] == "c"
    assert config["contexts"][0]["context"] == {"cluster": "c", "user": "c-aws"}
    assert "--region" in config["users"][0]["user"]["exec"]["args"]
