"""Cost lines of the EKS side (control plane, node groups, the platform's volumes and ingress
ALB) and the tenant-based cost per customer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.cost import CostError, CostLine, UsageSettings, load_catalog
from components.eks_cluster import EksClusterParts
from components.kubernetes_platform import KubernetesPlatformParts
from components.node_group import CapacityType, NodeGroupParts
from infra.config import parse_stack_config
from infra.cost import BudgetExceededError, estimate_stack
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan
from tests.conftest import ADMIN_ENTRY, minimal_values

CATALOG = load_catalog("us-east-1")
DEV = parse_stack_config("dev", minimal_values("dev"))
PROD = parse_stack_config("prod", minimal_values("prod"))
NO_USAGE = UsageSettings.model_validate(dict.fromkeys(DEV.usage.model_dump(by_alias=True)))
HOURS = 730


def line(lines: list[CostLine], item: str) -> CostLine:
    [found] = [entry for entry in lines if entry.item == item]
    return found


def total(lines: list[CostLine]) -> float:
    return sum(entry.monthly_usd or 0.0 for entry in lines)


# --- the control plane -------------------------------------------------------------------------


def test_control_plane_is_standard_support_with_its_keys_logs_and_alarms() -> None:
    dev = EksClusterParts(DEV.cluster).cost_lines(CATALOG, DEV.usage)
    prod = EksClusterParts(PROD.cluster).cost_lines(CATALOG, PROD.usage)
    for lines in (dev, prod):
        control_plane = line(lines, "EKS control plane")
        assert control_plane.price_key == "eks.cluster.standard-support"
        assert control_plane.monthly_usd == pytest.approx(73.0)  # the reference's check
        assert line(lines, "KMS key (eks-secrets)").monthly_usd == 1.0
        assert line(lines, "KMS key (eks-logs)").monthly_usd == 1.0
        assert line(lines, "Control-plane alarms").quantity == 2
        assert {entry.component for entry in lines} == {"compute"}
    # Logs: their own usage figure, not the database's logsIngestedGb.
    assert line(dev, "Control-plane log ingestion").quantity == 3
    assert line(prod, "Control-plane log ingestion").monthly_usd == pytest.approx(20 * 0.50)
    # Kept 30 days in dev, 365 in prod: a month of ingestion times the months kept.
    assert line(dev, "Control-plane log storage").quantity == pytest.approx(3 * 30 / (365 / 12))
    assert line(prod, "Control-plane log storage").quantity == pytest.approx(20 * 12)


def test_cluster_logs_use_their_own_usage_figure() -> None:
    usage = DEV.usage.model_copy(update={"cluster_logs_ingested_gb": 7.0, "logs_ingested_gb": 0.0})
    lines = EksClusterParts(DEV.cluster).cost_lines(CATALOG, usage)
    assert line(lines, "Control-plane log ingestion").monthly_usd == pytest.approx(3.5)


def test_cluster_logs_not_given_say_so() -> None:
    lines = EksClusterParts(PROD.cluster).cost_lines(CATALOG, NO_USAGE)
    for item in ("Control-plane log ingestion", "Control-plane log storage"):
        assert line(lines, item).quantity is None
        assert line(lines, item).to_json()["note"] == "usage not given"
    assert total(lines) == pytest.approx(73 + 2 * (1 + 2) + 0.2)  # two keys and their rotations


# --- node groups -------------------------------------------------------------------------------


def test_prod_nodes_are_on_demand_at_the_desired_size() -> None:
    [group] = PROD.cluster.node_groups
    lines = NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=70)
    nodes = line(lines, "Nodes (general)")
    assert nodes.price_key == "ec2.instance.m7g.large"
    assert nodes.quantity == 3 * HOURS
    assert nodes.monthly_usd == pytest.approx(3 * HOURS * 0.0816)
    assert "ON_DEMAND" in nodes.note
    assert line(lines, "Root volumes (general)").quantity == 3 * 50
    assert line(lines, "Root volumes (general)").monthly_usd == pytest.approx(150 * 0.08)


def test_dev_nodes_are_spot_priced_with_the_discount() -> None:
    [group] = DEV.cluster.node_groups
    assert group.capacity_type is CapacityType.SPOT
    assert group.instance_types == ["t4g.medium"]
    lines = NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=70)
    nodes = line(lines, "Nodes (general)")
    assert nodes.quantity == 2 * HOURS
    assert nodes.unit_price == pytest.approx(0.0336 * 0.30)
    assert nodes.monthly_usd == pytest.approx(14.72, abs=0.01)
    assert nodes.price_key == "ec2.instance.t4g.medium x costModel.spotDiscountPercent"
    assert "low confidence" in nodes.note
    assert line(lines, "Root volumes (general)").quantity == 2 * 20


def test_a_group_with_several_types_is_priced_at_its_dearest() -> None:
    # The group may launch any of its types: c7g.large ($0.0725) costs more than twice a
    # t4g.medium ($0.0336), so the estimate must hold for it, wherever it is listed.
    [group] = DEV.cluster.node_groups
    group = group.model_copy(update={"instance_types": ["t4g.medium", "c7g.large", "c6g.large"]})
    nodes = line(
        NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=70), "Nodes (general)"
    )
    assert nodes.price_key == "ec2.instance.c7g.large x costModel.spotDiscountPercent"
    assert nodes.monthly_usd == pytest.approx(2 * HOURS * 0.0725 * 0.30)
    assert "x c7g.large, the dearest allowed type (also t4g.medium, c6g.large)" in nodes.note


@pytest.mark.parametrize(("discount", "monthly"), [(0, 49.06), (60, 19.62), (70, 14.72)])
def test_the_spot_discount_comes_from_the_cost_model(discount: float, monthly: float) -> None:
    config = parse_stack_config(
        "dev", minimal_values("dev", {"genericcorp:costModel": {"spotDiscountPercent": discount}})
    )
    nodes = line(list(estimate_stack(config).lines), "Nodes (general)")
    assert nodes.monthly_usd == pytest.approx(monthly, abs=0.01)


def test_the_spot_discount_leaves_on_demand_groups_alone() -> None:
    [group] = PROD.cluster.node_groups
    cheap = NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=90)
    full = NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=0)
    assert total(cheap) == total(full)


def test_nodes_are_priced_at_desired_not_min_or_max() -> None:
    [group] = PROD.cluster.node_groups
    group = group.model_copy(update={"min_size": 2, "desired_size": 4, "max_size": 9})
    nodes = line(
        NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=70), "Nodes (general)"
    )
    assert nodes.quantity == 4 * HOURS
    assert "desiredSize 4 (min 2, max 9)" in nodes.note


def test_every_node_group_has_its_own_lines() -> None:
    [group] = PROD.cluster.node_groups
    batch = group.model_copy(update={"name": "batch", "instance_types": ["c7g.large"]})
    settings = PROD.cluster.model_copy(update={"node_groups": [group, batch]})
    config = PROD.model_copy(update={"cluster": settings})
    lines = list(estimate_stack(config).lines)
    assert line(lines, "Nodes (batch)").monthly_usd == pytest.approx(3 * HOURS * 0.0725)
    assert line(lines, "Nodes (general)").price_key == "ec2.instance.m7g.large"


def test_a_first_instance_type_without_a_price_names_the_node_group() -> None:
    [group] = PROD.cluster.node_groups
    group = group.model_copy(update={"instance_types": ["r8g.large", "m7g.large"]})
    with pytest.raises(CostError) as caught:
        NodeGroupParts(group).cost_lines(CATALOG, spot_discount_percent=70)
    assert "no price 'ec2.instance.r8g.large'" in str(caught.value)
    assert "aws:eks/nodeGroup:NodeGroup needs it" in str(caught.value)


# --- the platform: volumes and the ingress ALB ---------------------------------------------------


def test_monitoring_volumes_are_size_times_replicas() -> None:
    dev = KubernetesPlatformParts(DEV.platform).cost_lines(CATALOG, DEV.usage, availability_zones=2)
    prod = KubernetesPlatformParts(PROD.platform).cost_lines(
        CATALOG, PROD.usage, availability_zones=3
    )
    assert line(dev, "Prometheus volumes").quantity == 20  # 1 x 20 GiB
    assert line(prod, "Prometheus volumes").quantity == 200  # 2 x 100 GiB
    assert line(prod, "Prometheus volumes").monthly_usd == pytest.approx(16.0)
    assert line(dev, "Alertmanager volumes").quantity == 2  # 1 x 2 GiB
    assert line(prod, "Alertmanager volumes").quantity == 10  # 2 x 5 GiB
    # Grafana keeps a volume in prod only.
    assert "Grafana volume" not in {entry.item for entry in dev}
    assert line(prod, "Grafana volume").monthly_usd == pytest.approx(10 * 0.08)
    assert {entry.component for entry in prod} == {"platform"}


def test_three_prometheus_replicas_triple_its_volumes() -> None:
    platform = PROD.platform.model_copy(
        update={"prometheus": PROD.platform.prometheus.model_copy(update={"replicas": 3})}
    )
    lines = KubernetesPlatformParts(platform).cost_lines(CATALOG, PROD.usage, availability_zones=3)
    assert line(lines, "Prometheus volumes").quantity == 300


def test_one_shared_ingress_alb_with_an_address_per_az_and_lcus_from_usage() -> None:
    dev = KubernetesPlatformParts(DEV.platform).cost_lines(CATALOG, DEV.usage, availability_zones=2)
    prod = KubernetesPlatformParts(PROD.platform).cost_lines(
        CATALOG, PROD.usage, availability_zones=3
    )
    for lines in (dev, prod):
        alb = line(lines, "Ingress load balancer (ALB)")
        assert alb.monthly_usd == pytest.approx(HOURS * 0.0225)
        assert "each further Ingress group" in alb.note
    assert line(dev, "Ingress load balancer public IPv4").quantity == 2 * HOURS
    assert line(prod, "Ingress load balancer public IPv4").monthly_usd == pytest.approx(10.95)
    lcus = line(prod, "Ingress load balancer LCUs")
    assert lcus.usage_based
    assert lcus.monthly_usd == pytest.approx(1 * HOURS * 0.008)
    assert line(dev, "Ingress load balancer LCUs").quantity == pytest.approx(0.1 * HOURS)


def test_alb_lcus_not_given_say_so() -> None:
    lines = KubernetesPlatformParts(PROD.platform).cost_lines(
        CATALOG, NO_USAGE, availability_zones=3
    )
    lcus = line(lines, "Ingress load balancer LCUs")
    assert lcus.quantity is None
    assert lcus.to_json()["note"] == "usage not given"


def test_usage_not_given_for_the_eks_figures_is_listed_in_the_dev_estimate() -> None:
    config = parse_stack_config(
        "dev",
        minimal_values(
            "dev", {"genericcorp:usage": {"clusterLogsIngestedGb": None, "albAverageLcus": None}}
        ),
    )
    estimate = estimate_stack(config)
    assert estimate.usage_not_given == [
        "compute: Control-plane log ingestion",
        "compute: Control-plane log storage",
        "platform: Ingress load balancer LCUs",
    ]
    assert estimate.total_usd == pytest.approx(
        estimate_stack(DEV).total_usd - (1.5 + 3 * 30 / (365 / 12) * 0.03) - 0.584, abs=0.01
    )


# --- the stacks ----------------------------------------------------------------------------------


def test_eks_components_in_the_plan(dev_plan: Plan, prod_plan: Plan) -> None:
    dev = dev_plan.outputs["monthlyCost"]["byComponent"]
    prod = prod_plan.outputs["monthlyCost"]["byComponent"]
    # Dev: control plane $73, two keys with their rotations, logs, alarms, two spot t4g.medium
    # and their volumes, and 50 surplus vCPU-hours of CPU credits; prod: three on-demand
    # m7g.large (not burstable: no credit line).
    assert dev["compute"] == pytest.approx(
        73 + 2 * 3 + 1.5 + 0.09 + 0.2 + 14.72 + 3.2 + 50 * 0.04, abs=0.02
    )
    assert prod["compute"] == pytest.approx(73 + 2 * 3 + 10 + 7.2 + 0.2 + 178.70 + 12, abs=0.02)
    # The platform: volumes, the ALB, its addresses and LCUs, and its internet egress; in dev,
    # the demo tenants' volume quotas too (10 + 50 GiB).
    assert dev["platform"] == pytest.approx(
        1.6 + 0.16 + 16.43 + 7.3 + 0.58 + 10 * 0.09 + 60 * 0.08, abs=0.02
    )
    assert prod["platform"] == pytest.approx(
        16 + 0.8 + 0.8 + 16.43 + 10.95 + 5.84 + 200 * 0.09, abs=0.02
    )


def test_prod_stays_inside_its_target_with_multi_az_on(prod_plan: Plan) -> None:
    assert prod_plan.outputs["monthlyCost"]["totalUsd"] <= 1000
    assert prod_plan.outputs["database"]["multiAz"] is True
    assert prod_plan.one("aws:eks/nodeGroup:NodeGroup").inputs["capacityType"] == "ON_DEMAND"


def test_dev_on_on_demand_c7g_nodes_breaks_its_budget_and_the_guard_says_so() -> None:
    [group] = DEV.cluster.node_groups
    on_demand = group.model_dump(by_alias=True, mode="json") | {
        "capacityType": "ON_DEMAND",
        "instanceTypes": ["c7g.large"],
    }
    cluster = {"accessEntries": [ADMIN_ENTRY], "nodeGroups": [on_demand]}
    with pytest.raises(BudgetExceededError) as caught:
        run_stack("dev", config_overrides={"genericcorp:cluster": cluster})
    message = str(caught.value)
    assert "exceeds the budget genericcorp:budget.limitUsd = 280.00" in message
    assert "compute $" in message


# --- the hand-written line-item table in docs/cost.md -------------------------------------------


def _usd_cell(cell: str) -> float:
    cell = cell.strip().strip("*")
    return 0.0 if cell == "-" else float(cell.removeprefix("$").replace(",", ""))


def test_the_line_item_table_in_the_docs_matches_the_estimates(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "cost.md").read_text()
    table = text[text.index("<!-- line-items:begin") : text.index("<!-- line-items:end")]
    rows = [row.split("|")[1:-1] for row in table.splitlines() if row.startswith("| ")][1:]
    plans = {"dev": dev_plan, "prod": prod_plan}
    named: set[str] = set()
    for item, _plan, components, dev, prod, _why in rows:
        cells = {"dev": _usd_cell(dev), "prod": _usd_cell(prod)}
        names = re.findall(r"`(\w+)`", components)
        named.update(names)
        for stack, stack_plan in plans.items():
            monthly = stack_plan.outputs["monthlyCost"]
            if item.strip() == "**total**":
                assert cells[stack] == pytest.approx(monthly["totalUsd"]), stack
            else:
                expected = sum(monthly["byComponent"].get(name, 0.0) for name in names)
                assert cells[stack] == pytest.approx(expected, abs=0.015), (item, stack)
    # Every component of either estimate is on exactly one row.
    components = set(dev_plan.outputs["monthlyCost"]["byComponent"]) | set(
        prod_plan.outputs["monthlyCost"]["byComponent"]
    )
    assert named == components
