"""The capacity model: tenants packed onto whole nodes, the data tier sized for them, cost per
customer from both, the ceiling the plan enforces, purchase options and the bad input each of
them refuses. Figures are computed by hand from prod's m7g.large nodes:

- room per node: 2,000m - 70m kube-reserved - 230m of DaemonSets = 1,700m CPU;
  floor(8 GiB x 1024 x 0.925) = 7,577 MiB - (11 x 29 + 255) - 100 eviction - 152 of
  DaemonSets = 6,751 MiB; 29 pods - 5 DaemonSet pods = 24;
- the platform's pods: 1,610m / 4,192 MiB / 16 pods;
- a starter tenant: 250m / 512 MiB / 2 pods (250m / 100m default request); a standard one:
  1,000m / 2,048 MiB / 10 pods;
- a node: $0.0816 x 730 h + 50 GiB x $0.08 = $63.568 a month.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.cost import PriceCatalog, load_catalog
from components.redis import CacheEngine
from components.tenants import TIERS, Tier
from infra.config import ConfigError, parse_stack_config
from infra.cost import (
    customer_cost_model,
    estimate_stack,
    is_tenant_line,
    per_customer_output,
    tenant_lines,
)
from infra.tenant_capacity import (
    CapacityModel,
    DataTier,
    Room,
    database_max_connections,
    largest_container,
    mix_counts,
    pods_per_tenant,
    tenant_room,
)
from infractl.offline.plan import Plan
from infractl.offline.stackfile import read_stack_file
from tests.conftest import ADMIN_ENTRY, minimal_values, stack_config

CATALOG = load_catalog("us-east-1")
PROD = parse_stack_config("prod", minimal_values("prod"))
DEV = parse_stack_config("dev", minimal_values("dev"))
NODE_MONTHLY = 0.0816 * 730 + 50 * 0.08
STARTER, STANDARD = Tier.STARTER, Tier.STANDARD


def prod_with(overrides: dict[str, Any]) -> Any:
    return parse_stack_config("prod", minimal_values("prod", overrides))


def starters(count: int) -> list[dict[str, str]]:
    return [{"name": f"s{n}", "tier": "starter"} for n in range(count)]


def config_error(environment: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    return caught.value.render()


# --- room and demand -----------------------------------------------------------------------------


def test_room_per_node_and_the_platforms_share_by_hand() -> None:
    model = CapacityModel.of(PROD)
    assert model.per_node == Room(1700, 6751, 24)
    assert model.platform == Room(1660, 4256, 17)


def test_a_tenant_takes_its_quota_and_the_pods_its_quota_admits_at_the_default_request() -> None:
    assert tenant_room(STARTER) == Room(250, 512, 2)
    assert tenant_room(STANDARD) == Room(1000, 2048, 10)
    # 4,000m / 100m = 40 pods, below the enterprise pod quota of 100.
    assert pods_per_tenant(TIERS[Tier.ENTERPRISE]) == 40
    # A container can never request more than its namespace's quota.
    assert str(largest_container(STANDARD)) == "1,000m CPU / 2,048 MiB"


# --- packing: one tier, the step, a mix, the ceiling ---------------------------------------------


def test_one_tier_packs_on_the_resource_that_binds_first() -> None:
    model = CapacityModel.of(PROD)
    # 13 starters: 1,660 + 13 x 250 = 4,910m of 3 x 1,700 = 5,100m. Memory (10,912 of 20,253
    # MiB) and pods (43 of 72) are far from full: CPU binds.
    packing = model.pack({STARTER: 13})
    assert (packing.nodes, packing.binding) == (3, "cpu")
    assert model.tenants_per_node(STARTER) == (6, "cpu")  # 1,700 // 250
    assert model.tenants_per_node(STANDARD) == (1, "cpu")


def test_the_fourteenth_starter_adds_a_whole_node() -> None:
    model = CapacityModel.of(PROD)
    # 1,660 + 14 x 250 = 5,160m > 5,100m: a fourth node.
    assert model.pack({STARTER: 14}).nodes == 4
    cost = customer_cost_model(PROD, estimate_stack(PROD))
    thirteen, fourteen = cost.at({STARTER: 13}), cost.at({STARTER: 14})
    assert thirteen.extra_nodes_usd == 0  # the three baseline nodes are in the fixed cost
    assert fourteen.extra_nodes_usd == pytest.approx(NODE_MONTHLY)
    # Each starter claims its 10 GiB volume quota; 14 x 2 GB of rows exceed the database's
    # 20 GB allocation by 8 GB of Multi-AZ gp3 ($0.23).
    assert fourteen.volumes_usd == pytest.approx(14 * 10 * 0.08)
    assert fourteen.data_tier_step_usd == pytest.approx(8 * 0.23)
    fixed = estimate_stack(PROD).total_usd
    assert fourteen.per_customer_usd == pytest.approx(
        (fixed + NODE_MONTHLY + 14 * 0.8 + 8 * 0.23) / 14
    )


def test_a_mix_packs_every_tier_together() -> None:
    model = CapacityModel.of(PROD)
    counts = mix_counts({STARTER: 0.7, STANDARD: 0.3}, 10)
    assert counts == {STARTER: 7, STANDARD: 3}
    # CPU: 1,660 + 7 x 250 + 3 x 1,000 = 6,410m / 1,700 = 3.77 -> 4 nodes; memory 13,984 MiB
    # needs 2.07, pods 61 need 2.54.
    packing = model.pack(counts)
    assert (packing.nodes, packing.binding) == (4, "cpu")
    assert packing.needed_by_resource["memory"] == pytest.approx(13984 / 6751)
    assert packing.needed_by_resource["pods"] == pytest.approx(61 / 24)


def test_the_ceiling_is_what_max_size_nodes_hold() -> None:
    model = CapacityModel.of(PROD)
    # 9 x 1,700 - 1,660 = 13,640m: 54 starters (54.56); 13 standard (13.64).
    assert model.ceiling({STARTER: 1.0}) == 54
    assert model.ceiling({STANDARD: 1.0}) == 13
    assert model.pack({STARTER: 54}).nodes == 9
    assert model.pack({STARTER: 55}).nodes == 10
    # Enterprise's largest container (4 vCPUs) fits no m7g.large: nothing of it fits.
    assert not model.tier_fits(Tier.ENTERPRISE)
    assert model.ceiling({Tier.ENTERPRISE: 1.0}) == 0


def test_the_plan_refuses_tenants_beyond_the_ceiling() -> None:
    error = config_error("prod", {"genericcorp:tenants": starters(55)})
    assert '- genericcorp:tenants = "55 tenants": need 10 nodes of node group' in error
    assert "(cpu binds first), above its maxSize 9: raise cluster.nodeGroups[0].maxSize" in error
    # 54 fit.
    assert len(prod_with({"genericcorp:tenants": starters(54)}).tenants) == 54


def test_the_plan_refuses_a_tier_whose_container_fits_no_node() -> None:
    error = config_error("prod", {"genericcorp:tenants": [{"name": "big", "tier": "enterprise"}]})
    assert 'genericcorp:tenants[0].tier = "enterprise": the tier\'s largest container' in error
    assert (
        "(4,000m CPU / 8,192 MiB) exceeds what a node of node group 'general' (m7g.large)" in error
    )
    assert "offers pods (1,700m CPU / 6,751 MiB after DaemonSets)" in error


def test_the_ceiling_follows_the_node_group() -> None:
    group = {
        "name": "general",
        "instanceTypes": ["m7g.large"],
        "capacityType": "ON_DEMAND",
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 12,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [],
    }
    bigger = prod_with(
        {"genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY], "nodeGroups": [group]}}
    )
    # 12 x 1,700 - 1,660 = 18,740m: 74 starters (74.96).
    assert CapacityModel.of(bigger).ceiling({STARTER: 1.0}) == 74


# --- the data tier at scale ----------------------------------------------------------------------


def test_max_connections_follow_the_class_memory() -> None:
    # LEAST(0.85 x memory / 9,531,392, 5000): db.t4g.small (2 GiB) 191, db.r7g.large 1,532.
    assert database_max_connections(2) == 191
    assert database_max_connections(16) == 1532


def test_connections_beyond_the_class_step_up_to_the_cheapest_option() -> None:
    data_tier = DataTier.of(PROD, CATALOG)
    # 10 platform + 14 x 10 = 150 connections: within 80% of 191 (152).
    assert not data_tier.plan({STARTER: 14}).proxy
    # 160 are not: RDS Proxy on db.t4g.small (2 vCPUs x $0.015) beats db.t4g.medium Multi-AZ.
    plan = data_tier.plan({STARTER: 15})
    assert (plan.database_class, plan.proxy) == ("db.t4g.small", True)
    assert plan.database_usd == pytest.approx((0.065 + 2 * 0.015) * 730)
    assert "160 connections exceed db.t4g.small's usable 152" in plan.notes[0]
    # A proxy holds 200 database users: 201 tenants need two, each billed per instance vCPU.
    two = data_tier.plan({STARTER: 201})
    assert two.proxy
    assert two.database_usd == pytest.approx((0.065 + 2 * 2 * 0.015) * 730)


def test_cache_memory_steps_up_the_node_type_then_shards() -> None:
    data_tier = DataTier.of(PROD, CATALOG)
    # cache.t4g.small: 1.37 GiB x 75% = 1,052 MiB usable; 66 starters need 1,056 MiB.
    assert data_tier.plan({STARTER: 65}).cache_node_type == "cache.t4g.small"
    stepped = data_tier.plan({STARTER: 66})
    assert stepped.cache_node_type == "cache.t4g.medium"
    assert stepped.cache_usd == pytest.approx(2 * 0.065 * 730)
    # Beyond the largest node (cache.r7g.large, 10,037 MiB usable): shards of it.
    sharded = data_tier.plan({STANDARD: 200})
    assert (sharded.cache_node_type, sharded.cache_shards) == ("cache.r7g.large", 2)


# --- cost per customer ---------------------------------------------------------------------------


def test_the_output_separates_the_fixed_share_and_counts_no_baseline_node_twice(
    prod_plan: Plan,
) -> None:
    output = prod_plan.outputs["costPerCustomer"]
    fixed = prod_plan.outputs["monthlyCost"]["totalUsd"]
    assert output["fixedMonthlyUsd"] == pytest.approx(fixed)
    assert output["nodeMonthlyUsd"] == pytest.approx(NODE_MONTHLY, abs=0.01)
    ten = output["tiers"]["starter"]["scalePoints"][0]
    # Ten starters fit the three baseline nodes: no node is added to the fixed cost.
    assert (ten["customers"], ten["nodes"], ten["addedNodesShareUsd"]) == (10, 3, 0)
    assert ten["usd"] == pytest.approx(fixed / 10 + 0.8, abs=0.01)
    assert [p["customers"] for p in output["tierMix"]["scalePoints"]] == [10, 25, 100, 500]
    assert output["tiers"]["enterprise"]["fitsNodeType"] is False


def test_points_beyond_max_size_are_priced_and_flagged(prod_plan: Plan) -> None:
    output = prod_plan.outputs["costPerCustomer"]
    [*_, five_hundred] = output["tiers"]["starter"]["scalePoints"]
    # 1,610 + 500 x 250 = 126,610m / 1,700 = 74.5 -> 75 nodes, above maxSize 9: the figure is
    # what a platform that holds them costs, and says what it needs.
    assert five_hundred["nodes"] == 75
    assert five_hundred["withinNodeGroupMax"] is False
    assert "needs 75 nodes: above the node group's maxSize 9" in five_hundred["note"]
    assert "RDS Proxy" in five_hundred["dataTier"]


def test_where_the_targets_hold(prod_plan: Plan) -> None:
    output = prod_plan.outputs["costPerCustomer"]
    # The committed stack file's configuration: its plan is what the output was computed from.
    committed = stack_config("prod")
    cost = customer_cost_model(committed, estimate_stack(committed))
    starter_holds = output["tiers"]["starter"]["targets"]["25"]
    assert starter_holds is not None
    assert cost.at({STARTER: starter_holds}).per_customer_usd <= 25
    assert cost.at({STARTER: starter_holds - 1}).per_customer_usd > 25
    # Each starter adds at least a sixth of a node, its volume and its data: above $7 for
    # good, so $7 is never reached.
    assert NODE_MONTHLY / 6 + 0.8 > 7
    assert output["tiers"]["starter"]["targets"]["7"] is None
    assert output["tiers"]["standard"]["targets"] == {"25": None, "7": None}


def test_cheapest_changes_name_their_effect(prod_plan: Plan) -> None:
    changes = prod_plan.outputs["costPerCustomer"]["cheapestChanges"]
    assert changes
    for change in changes:
        assert not change["change"].startswith("node type t")  # burstable types are not offered
        assert set(change["usdAt"]) == {"starter", "standard"}
    labels = [c["change"] for c in changes]
    usd = [min(v for v in c["usdAt"].values() if v is not None) for c in changes]
    assert usd == sorted(usd), labels


def test_dev_prices_its_configured_tenants(dev_plan: Plan) -> None:
    output = dev_plan.outputs["costPerCustomer"]
    assert output["tenants"] == 2
    assert output["tierMix"]["shares"] == {"starter": 0.5, "standard": 0.5}
    assert output["tierMix"]["basis"] == "the 2 configured tenants"
    assert output["pricedOn"] == "t4g.medium SPOT (70% below on-demand)"


def test_configured_tenants_beyond_desired_size_are_in_the_estimate() -> None:
    config = prod_with({"genericcorp:tenants": starters(20)})
    lines = tenant_lines(config, CATALOG)
    nodes = next(line for line in lines if "nodes beyond desiredSize" in line.item)
    # 1,610 + 20 x 250 = 6,610m: 4 nodes, one beyond the three desired.
    assert nodes.quantity == 1
    assert nodes.monthly_usd == pytest.approx(NODE_MONTHLY)
    assert nodes.component == "compute"
    volumes = next(line for line in lines if "persistent volumes" in line.item)
    assert volumes.quantity == 200
    # 10 + 20 x 10 = 210 connections need RDS Proxy (2 x $0.015 x 730 = $21.90); 40 GB of rows,
    # 20 beyond the allocation, at $0.23.
    step = next(line for line in lines if "data tier step" in line.item)
    assert step.component == "database"
    assert step.monthly_usd == pytest.approx(2 * 0.015 * 730 + 20 * 0.23)
    assert all(is_tenant_line(line) for line in lines)
    output = per_customer_output(config, estimate_stack(config))
    assert output["atConfiguredTenants"]["nodes"] == 4
    assert output["atConfiguredTenants"]["totalMonthlyUsd"] == pytest.approx(
        estimate_stack(config).total_usd, abs=0.01
    )


# --- purchase options ----------------------------------------------------------------------------


def test_purchase_options_price_commitments_from_the_catalog() -> None:
    config = prod_with(
        {
            "genericcorp:costModel": {
                "purchaseOptions": {
                    "compute": "savings-plan-1yr",
                    "database": "reserved-1yr",
                    "cache": "reserved-1yr",
                }
            }
        }
    )
    lines = {line.item: line for line in estimate_stack(config).lines}
    nodes = lines["Nodes (general)"]
    assert nodes.unit_price == pytest.approx(0.0816 * 0.72)
    assert nodes.price_key == "ec2.instance.m7g.large x purchase.compute.savings-plan-1yr"
    assert lines["PostgreSQL instance"].unit_price == pytest.approx(0.065 * 0.69)
    assert lines["Cache nodes"].unit_price == pytest.approx(0.032 * 0.69)
    # Storage and everything else stay on-demand.
    assert lines["gp3 storage"].unit_price == pytest.approx(0.23)
    saving = estimate_stack(PROD).total_usd - estimate_stack(config).total_usd
    assert saving == pytest.approx(
        730 * (3 * 0.0816 * 0.28 + 0.065 * 0.31 + 2 * 0.032 * 0.31), abs=0.01
    )


def test_spot_groups_are_never_covered_by_a_commitment() -> None:
    config = parse_stack_config(
        "dev",
        minimal_values(
            "dev", {"genericcorp:costModel": {"purchaseOptions": {"compute": "savings-plan-1yr"}}}
        ),
    )
    nodes = next(line for line in estimate_stack(config).lines if line.item == "Nodes (general)")
    assert nodes.unit_price == pytest.approx(0.0336 * 0.30)


def test_a_purchase_option_the_catalog_cannot_price_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without = CATALOG.model_copy(
        update={"factors": [f for f in CATALOG.factors if not f.key.startswith("purchase.")]}
    )

    def catalog(region: str, fallback: str | None = None) -> PriceCatalog:
        return without

    monkeypatch.setattr("infra.config.consistency.load_catalog", catalog)
    error = config_error(
        "prod", {"genericcorp:costModel": {"purchaseOptions": {"database": "reserved-1yr"}}}
    )
    assert 'genericcorp:costModel.purchaseOptions.database = "reserved-1yr"' in error
    assert "price catalog us-east-1 (pricing/catalog-us-east-1.yaml) has no factor" in error
    assert "'purchase.database.reserved-1yr': allowed here are on-demand;" in error


def test_an_unknown_purchase_option_lists_the_allowed_ones() -> None:
    error = config_error(
        "prod", {"genericcorp:costModel": {"purchaseOptions": {"compute": "reserved-3yr"}}}
    )
    assert "genericcorp:costModel.purchaseOptions.compute" in error
    assert "savings-plan-1yr" in error


def test_a_planning_mix_must_add_up_to_one() -> None:
    error = config_error(
        "prod", {"genericcorp:costModel": {"planningTierMix": {"starter": 0.5, "standard": 0.3}}}
    )
    assert "shares must add up to 1, not 0.8" in error
    error = config_error("prod", {"genericcorp:costModel": {"planningTierMix": {"gold": 1.0}}})
    assert "tiers are starter, standard, enterprise; not gold" in error


# --- no bypass by omission -----------------------------------------------------------------------


def test_prod_refuses_an_unknown_usage_figure_naming_the_key() -> None:
    error = config_error("prod", {"genericcorp:usage": {"natProcessedGb": None}})
    assert "- genericcorp:usage.natProcessedGb = null: unknown in prod (GB per month through" in (
        error
    )
    assert "give a figure (0 if there is none)" in error


def test_dev_may_leave_a_usage_figure_unknown_and_says_so() -> None:
    config = parse_stack_config(
        "dev", minimal_values("dev", {"genericcorp:usage": {"crossAzGb": None}})
    )
    assert estimate_stack(config).usage_not_given == ["network: Cross-AZ traffic"]


# --- the prices the estimate used to miss --------------------------------------------------------


def test_traffic_and_cpu_credit_lines(prod_plan: Plan, dev_plan: Plan) -> None:
    def lines(plan: Plan) -> dict[str, dict[str, Any]]:
        return {ln["item"]: ln for ln in plan.outputs["monthlyCost"]["lines"]}

    prod, dev = lines(prod_plan), lines(dev_plan)
    egress = prod["Internet egress from the ingress load balancer"]
    assert (egress["component"], egress["monthlyUsd"]) == ("platform", 18.0)  # 200 GB x $0.09
    assert prod["Cross-AZ traffic"]["quantity"] == 400  # 200 GB, billed out and in
    assert prod["Cross-AZ traffic"]["monthlyUsd"] == 4.0
    # db.t4g.small bursts: 60 vCPU-hours at RDS's $0.075; prod's m7g nodes earn no credits.
    assert prod["CPU credits above baseline"]["monthlyUsd"] == 4.5
    assert "CPU credits above baseline (general)" not in prod
    assert dev["CPU credits above baseline (general)"]["monthlyUsd"] == 2.0  # 50 x $0.04
    assert dev["Tenants' persistent volumes"]["quantity"] == 60  # 10 + 50 GiB of quota


def test_every_key_pays_for_its_two_rotations(plan: Plan) -> None:
    lines = plan.outputs["monthlyCost"]["lines"]
    keys = [
        ln["item"].removeprefix("KMS key (") for ln in lines if ln["item"].startswith("KMS key (")
    ]
    rotations = [
        ln["item"].removeprefix("KMS key rotations (")
        for ln in lines
        if ln["item"].startswith("KMS key rotations (")
    ]
    # DNSSEC's asymmetric signing key cannot rotate automatically: it alone has no rotations.
    assert sorted(rotations) == sorted(k for k in keys if not k.startswith("dnssec"))
    assert all(
        ln["monthlyUsd"] == 2.0 for ln in lines if ln["item"].startswith("KMS key rotations")
    )


def test_free_tiers_and_flat_rate_plans_are_stated_exclusions(plan: Plan) -> None:
    exclusions = plan.outputs["monthlyCost"]["assumptions"]["exclusions"]
    assert any("Free Tier" in entry for entry in exclusions)
    assert any("CloudFront flat-rate plans" in entry for entry in exclusions)


# --- dev's margin --------------------------------------------------------------------------------

#: The low end of the spot discount the price reference gives ("often 60-70% below on-demand").
SPOT_DISCOUNT_LOW_END = 60


def test_dev_is_ten_percent_under_budget_at_the_low_end_of_its_spot_discount() -> None:
    # The committed dev stack, with its demo tenants and the nodes they need.
    stack_file = read_stack_file("dev")
    values = dict(stack_file.values)
    cost_model = dict(values.get("genericcorp:costModel") or {})
    values["genericcorp:costModel"] = cost_model | {"spotDiscountPercent": SPOT_DISCOUNT_LOW_END}
    low_end = parse_stack_config("dev", values, stack_file.secret_keys)
    assert estimate_stack(low_end).total_usd <= 0.9 * low_end.budget.limit_usd
    # Dev relies on no other discount: no commitment, no Valkey factor, no free tier.
    assert low_end.cost_model.purchase_options.factor_keys() == {}
    assert low_end.cache.engine is CacheEngine.REDIS


def test_the_budget_output_carries_the_per_customer_figure_and_the_ceiling(plan: Plan) -> None:
    budget, per_customer = plan.outputs["budget"], plan.outputs["costPerCustomer"]
    assert budget["costPerCustomerUsd"] == per_customer["atConfiguredTenants"]["usd"]
    assert budget["tenantCeiling"] == per_customer["tierMix"]["ceilingTenants"]
    # Prod's planning mix (70% starter, 30% standard): 28 customers fill nine m7g.large.
    assert budget["tenantCeiling"] == {"dev": 5, "prod": 28}[plan.stack]
