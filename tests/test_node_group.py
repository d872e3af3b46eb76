"""Managed node groups and add-ons in both stacks: hardened launch template, least-privilege
node role, AMI by architecture, sizes per environment, IRSA for vpc-cni and EBS CSI; and every
bad node-group setting refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.node_group import NODE_ROLE_POLICIES, architecture_of
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import ADMIN_ENTRY, LIFTED_BUDGET, minimal_values, plan_with, policy, statements

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ADDON = "aws:eks/addon:Addon"


def group(**changes: Any) -> dict[str, Any]:
    valid = {
        "name": "general",
        "instanceTypes": ["t4g.medium"],
        "capacityType": "ON_DEMAND",
        "minSize": 1,
        "desiredSize": 2,
        "maxSize": 3,
        "diskSizeGib": 30,
        "labels": {},
        "taints": [],
    }
    return valid | changes


def groups_error(groups: list[dict[str, Any]]) -> str:
    values = minimal_values(
        "dev", {"genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY], "nodeGroups": groups}}
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", values)
    assert len(caught.value.problems) == 1, caught.value.render()
    return caught.value.problems[0].render()


def attached_policies(plan: Plan, role: PlannedResource) -> set[str]:
    return {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in plan.of_type(ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    }


# --- launch template ----------------------------------------------------------------------


def test_launch_template_requires_imdsv2_with_hop_limit_one(plan: Plan) -> None:
    template = plan.one(LAUNCH_TEMPLATE)
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }


def test_root_volume_is_encrypted_gp3(plan: Plan) -> None:
    [mapping] = plan.one(LAUNCH_TEMPLATE).inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"]["volumeType"] == "gp3"
    assert mapping["ebs"]["encrypted"] == "true"
    assert mapping["ebs"]["volumeSize"] == {"dev": 20, "prod": 50}[plan.stack]


def test_nodes_get_no_public_ip_and_keep_the_cluster_security_group(plan: Plan) -> None:
    template = plan.one(LAUNCH_TEMPLATE)
    # No interface or group in the template: EKS attaches the cluster security group, and the
    # private subnets (which never map public IPs) decide addressing.
    assert "networkInterfaces" not in template.inputs
    assert "vpcSecurityGroupIds" not in template.inputs
    node_group = plan.one(NODE_GROUP)
    assert node_group.inputs["subnetIds"] == plan.outputs["network"]["privateSubnetIds"]
    for subnet_id in node_group.inputs["subnetIds"]:
        subnet = plan.by_id(subnet_id)
        assert subnet.tags["Tier"] == "private"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    assert "remoteAccess" not in node_group.inputs


def test_node_group_uses_its_launch_template(plan: Plan) -> None:
    template = plan.one(LAUNCH_TEMPLATE)
    assert plan.one(NODE_GROUP).inputs["launchTemplate"] == {
        "id": template.id,
        "version": str(template.outputs["latestVersion"]),
    }


# --- node role ----------------------------------------------------------------------------


def test_node_role_is_least_privilege_without_the_cni_policy(plan: Plan) -> None:
    role = plan.named("eks-nodes-general-role")
    assert attached_policies(plan, role) == set(NODE_ROLE_POLICIES)
    assert "AmazonEKS_CNI_Policy" not in attached_policies(plan, role)
    assert [s["Principal"] for s in statements(policy(role, "assumeRolePolicy"))] == [
        {"Service": "ec2.amazonaws.com"}
    ]
    inline = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    assert inline == []
    assert plan.one(NODE_GROUP).inputs["nodeRoleArn"] == role.outputs["arn"]


# --- sizes, capacity, AMI -----------------------------------------------------------------


def test_dev_runs_small_graviton_nodes_and_prod_general_purpose_across_three_azs(
    plan: Plan,
) -> None:
    node_group = plan.one(NODE_GROUP)
    expected = {
        "dev": (
            ["t4g.medium"],
            {"minSize": 2, "desiredSize": 2, "maxSize": 4},
            2,
            "SPOT",
        ),
        "prod": (["m7g.large"], {"minSize": 3, "desiredSize": 3, "maxSize": 9}, 3, "ON_DEMAND"),
    }[plan.stack]
    assert node_group.inputs["instanceTypes"] == expected[0]
    assert node_group.inputs["scalingConfig"] == expected[1]
    assert len(node_group.inputs["subnetIds"]) == expected[2]
    assert node_group.inputs["capacityType"] == expected[3]
    assert node_group.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    assert node_group.inputs["version"] == "1.35"
    assert node_group.inputs["nodeGroupName"] == f"genericcorp-{plan.stack}-general"


def test_the_autoscaler_owns_the_desired_size(plan: Plan) -> None:
    assert plan.one(NODE_GROUP).options["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_rolling_updates_drain_one_node_at_a_time_so_disruption_budgets_hold(plan: Plan) -> None:
    # A number, not a percentage: 33% of a grown group (nine nodes) would drain three at once.
    assert plan.one(NODE_GROUP).inputs["updateConfig"] == {"maxUnavailable": 1}


def test_x86_families_get_the_x86_ami_and_labels_and_taints_reach_the_nodes() -> None:
    batch = group(
        name="batch",
        # Both priced: the estimate prices a group at its dearest type.
        instanceTypes=["m7i.large", "m6i.large"],
        capacityType="SPOT",
        minSize=0,
        desiredSize=0,
        labels={"workload": "batch"},
        taints=[{"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}],
    )
    plan = plan_with(
        "dev",
        {
            "genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY], "nodeGroups": [group(), batch]},
            **LIFTED_BUDGET,
        },
    )
    groups = {g.inputs["nodeGroupName"]: g for g in plan.of_type(NODE_GROUP)}
    assert groups["genericcorp-dev-general"].inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    spot = groups["genericcorp-dev-batch"]
    assert spot.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert spot.inputs["capacityType"] == "SPOT"
    assert spot.inputs["labels"] == {"workload": "batch", "genericcorp.com/node-group": "batch"}
    assert spot.inputs["taints"] == [
        {"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}
    ]
    assert len(plan.of_type(LAUNCH_TEMPLATE)) == 2
    assert plan.outputs["cluster"]["nodeGroups"] == [
        "genericcorp-dev-general",
        "genericcorp-dev-batch",
    ]


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("t4g.medium", "arm64"),
        ("m7g.2xlarge", "arm64"),
        ("m7i.large", "x86_64"),
        ("t3.small", "x86_64"),
    ],
)
def test_architecture_follows_the_instance_family(instance_type: str, architecture: str) -> None:
    assert architecture_of(instance_type) == architecture


# --- bad node-group settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "shown"),
    [
        ({"minSize": 3, "desiredSize": 2, "maxSize": 4}, "minSize 3, desiredSize 2, maxSize 4"),
        ({"minSize": 1, "desiredSize": 5, "maxSize": 4}, "minSize 1, desiredSize 5, maxSize 4"),
    ],
)
def test_sizes_out_of_order_are_refused(sizes: dict[str, int], shown: str) -> None:
    line = groups_error([group(**sizes)])
    assert line.startswith("genericcorp:cluster.nodeGroups[0] = ")
    assert "minSize <= desiredSize <= maxSize" in line
    assert shown in line


def test_an_unknown_capacity_type_is_refused() -> None:
    line = groups_error([group(capacityType="RESERVED")])
    assert line.startswith('genericcorp:cluster.nodeGroups[0].capacityType = "RESERVED": ')
    assert "ON_DEMAND" in line
    assert "SPOT" in line


@pytest.mark.parametrize("instance_type", ["p5.48xlarge", "x2gd.large", "mac2.metal"])
def test_an_unknown_instance_family_is_refused(instance_type: str) -> None:
    line = groups_error([group(instanceTypes=[instance_type])])
    assert line.startswith("genericcorp:cluster.nodeGroups[0].instanceTypes = ")
    assert f"unknown instance family {instance_type.split('.', maxsplit=1)[0]!r}" in line
    assert "known: " in line


def test_a_malformed_instance_type_is_refused() -> None:
    line = groups_error([group(instanceTypes=["large"])])
    assert "'large' is not an EC2 instance type" in line


def test_mixed_architectures_in_one_group_are_refused() -> None:
    line = groups_error([group(instanceTypes=["m7g.large", "m7i.large"])])
    assert "must share an architecture" in line


def test_duplicate_node_group_names_are_refused() -> None:
    line = groups_error([group(), group()])
    assert "node group names must be unique; repeated: general" in line


def test_an_empty_node_group_list_is_refused() -> None:
    line = groups_error([])
    assert line.startswith("genericcorp:cluster.nodeGroups = []")


def test_an_invalid_label_key_is_refused() -> None:
    line = groups_error([group(labels={"bad key!": "x"})])
    assert "'bad key!' is not a valid Kubernetes label key" in line


# --- managed add-ons ----------------------------------------------------------------------


def addon(plan: Plan, name: str) -> PlannedResource:
    [found] = [a for a in plan.of_type(ADDON) if a.inputs["addonName"] == name]
    return found


def test_the_five_managed_addons_run_at_the_configured_versions(plan: Plan) -> None:
    versions = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in plan.of_type(ADDON)}
    assert versions == {
        "vpc-cni": "v1.20.4-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.4",
        "kube-proxy": "v1.35.3-eksbuild.2",
        "aws-ebs-csi-driver": "v1.53.0-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
    }
    for resource in plan.of_type(ADDON):
        assert resource.inputs["clusterName"] == f"genericcorp-{plan.stack}-eks"


@pytest.mark.parametrize(
    ("addon_name", "namespace_account", "managed_policy"),
    [
        ("vpc-cni", "kube-system:aws-node", "AmazonEKS_CNI_Policy"),
        ("aws-ebs-csi-driver", "kube-system:ebs-csi-controller-sa", "AmazonEBSCSIDriverPolicy"),
    ],
)
def test_addons_that_call_aws_use_an_irsa_role_for_their_service_account_only(
    plan: Plan, addon_name: str, namespace_account: str, managed_policy: str
) -> None:
    role = plan.by_id(
        next(
            r.id
            for r in plan.of_type("aws:iam/role:Role")
            if r.outputs["arn"] == addon(plan, addon_name).inputs["serviceAccountRoleArn"]
        )
        or ""
    )
    [trust] = statements(policy(role, "assumeRolePolicy"))
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert trust["Principal"] == {"Federated": provider.outputs["arn"]}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    issuer = provider.inputs["url"].removeprefix("https://")
    assert trust["Condition"]["StringEquals"] == {
        f"{issuer}:sub": f"system:serviceaccount:{namespace_account}",
        f"{issuer}:aud": "sts.amazonaws.com",
    }
    assert attached_policies(plan, role) == {managed_policy}


def test_vpc_cni_enforces_network_policies(plan: Plan) -> None:
    configuration = json.loads(addon(plan, "vpc-cni").inputs["configurationValues"])
    assert configuration == {"enableNetworkPolicy": "true"}


def test_networking_addons_come_before_nodes_and_the_rest_after(plan: Plan) -> None:
    node_group = plan.one(NODE_GROUP)
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addon(plan, name).urn in node_group.dependencies, name
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert node_group.urn in addon(plan, name).dependencies, name


def test_a_malformed_addon_version_is_refused() -> None:
    values = minimal_values(
        "dev",
        {"genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY], "addons": {"coredns": "1.12"}}},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", values)
    [problem] = caught.value.problems
    assert problem.render().startswith('genericcorp:cluster.addons.coredns = "1.12": ')
    assert "v1.20.4-eksbuild.1" in problem.render()
