"""The compute layer in both stacks: one component owns the EKS bring-up, in order; the pieces
it moved under itself keep their deployed identity; its parts are what it declares and prices;
and the cluster and its add-ons do not depend on each other's modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components.cost import load_catalog
from components.eks_addons import EksAddonsParts
from components.eks_cluster import EksClusterParts
from components.eks_compute import EksCompute, EksComputeParts
from components.node_group import NodeGroupParts
from infra.config import parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from infractl.offline.stackfile import read_stack_file
from tests.conftest import STACKS, minimal_values, plan_for

COMPUTE = "genericcorp:compute:EksCompute"
ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
COMPONENTS = Path(__file__).resolve().parent.parent / "components"


def compute_of(plan: Plan) -> PlannedResource:
    return plan.one(COMPUTE)


def parts_of(plan: Plan) -> EksComputeParts:
    """The parts of the committed stack file the plan was made from."""
    stack_file = read_stack_file(plan.stack)
    config = parse_stack_config(plan.stack, stack_file.values, stack_file.secret_keys)
    return EksComputeParts(config.cluster)


def test_one_component_holds_the_cluster_its_addons_and_node_groups(plan: Plan) -> None:
    compute = compute_of(plan)
    assert compute.parent == plan.one("pulumi:pulumi:Stack").urn
    children = {(child.type, child.name) for child in plan.children(compute.urn)}
    assert children == {
        ("genericcorp:compute:EksCluster", "eks"),
        ("genericcorp:compute:EksAddons", "eks-addons"),
        ("genericcorp:compute:NodeGroup", "eks-nodes-general"),
    }


@pytest.mark.parametrize("stack", STACKS)
def test_moved_components_keep_their_deployed_urns_as_aliases(stack: str) -> None:
    plan = plan_for(stack)
    root = f"urn:pulumi:{stack}::genericcorp::pulumi:pulumi:Stack"
    for child in plan.children(compute_of(plan).urn):
        assert child.options["aliases"] == [f"{root}${child.type}::{child.name}"], child.name


def test_nodes_wait_for_the_networking_addons_and_the_workload_addons_for_the_nodes(
    plan: Plan,
) -> None:
    addons = EksAddonsParts(parts_of(plan).settings.addon_versions)
    by_name = {a.inputs["addonName"]: a for a in plan.of_type(ADDON)}
    node_group = plan.one(NODE_GROUP)
    for spec in addons.networking:
        assert by_name[spec.addon].urn in node_group.dependencies, spec.addon
        assert node_group.urn not in by_name[spec.addon].dependencies, spec.addon
    for spec in addons.workloads:
        assert node_group.urn in by_name[spec.addon].dependencies, spec.addon
    assert {spec.addon for spec in (*addons.networking, *addons.workloads)} == set(by_name)


def test_the_kubernetes_layer_waits_for_what_the_compute_layer_calls_ready(plan: Plan) -> None:
    waited_for = [plan.one(NODE_GROUP).urn] + [
        addon.urn
        for addon in plan.of_type(ADDON)
        if addon.inputs["addonName"] in {s.addon for s in parts_of(plan).addons.workloads}
    ]
    releases = plan.of_type("kubernetes:helm.sh/v3:Release")
    storage_class = plan.one("kubernetes:storage.k8s.io/v1:StorageClass")
    for resource in [*releases, storage_class]:
        assert set(waited_for) <= set(resource.dependencies), resource.name


def test_the_cluster_output_is_what_the_component_declares(plan: Plan) -> None:
    assert set(plan.outputs["cluster"]) == set(EksCompute.OUTPUTS)


# --- parts -------------------------------------------------------------------------------


def test_the_cluster_declares_the_alarms_and_keys_its_parts_price(plan: Plan) -> None:
    parts = parts_of(plan).cluster
    cluster = plan.named("eks", "genericcorp:compute:EksCluster")
    below = list(plan.descendants(cluster.urn))
    alarms = [r for r in below if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    assert sorted(a.name for a in alarms) == sorted(f"eks-{s.suffix}" for s in parts.alarms)
    aliases = {r.inputs["name"] for r in below if r.type == "aws:kms/alias:Alias"}
    assert aliases == {f"alias/genericcorp/{plan.stack}/{p}" for p in parts.key_purposes}
    cluster_resource = plan.one("aws:eks/cluster:Cluster")
    assert cluster_resource.inputs["enabledClusterLogTypes"] == list(parts.log_types)


def test_each_node_group_starts_the_nodes_its_parts_price(plan: Plan) -> None:
    [parts] = parts_of(plan).node_groups
    group = plan.one(NODE_GROUP)
    assert group.inputs["scalingConfig"]["desiredSize"] == parts.node_count
    role = plan.named("eks-nodes-general-role")
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"]
    }
    assert attached == set(parts.role_policies)


def test_compute_parts_price_the_cluster_then_each_node_group() -> None:
    config = parse_stack_config("prod", minimal_values("prod"))
    catalog = load_catalog("us-east-1")
    batch = config.cluster.node_groups[0].model_copy(update={"name": "batch"})
    settings = config.cluster.model_copy(
        update={"node_groups": [*config.cluster.node_groups, batch]}
    )
    lines = EksComputeParts(settings).cost_lines(catalog, config.usage, spot_discount_percent=70)
    expected = [
        *EksClusterParts(settings).cost_lines(catalog, config.usage),
        *NodeGroupParts(settings.node_groups[0]).cost_lines(catalog, spot_discount_percent=70),
        *NodeGroupParts(batch).cost_lines(catalog, spot_discount_percent=70),
    ]
    assert lines == expected


# --- module dependencies -----------------------------------------------------------------


def imported_modules(module: str) -> set[str]:
    tree = ast.parse((COMPONENTS / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_cluster_and_its_addons_import_one_way() -> None:
    assert "components.eks_addons" in imported_modules("eks_cluster")
    assert "components.eks_cluster" not in imported_modules("eks_addons")
    assert "components.eks_compute" not in imported_modules("eks_cluster")
