"""The cost estimate: catalog, cost lines, stack outputs, per-customer model and budget guard."""

from __future__ import annotations

import fnmatch
import math
from typing import Any

import pytest
import yaml

from components.alerts import AlertsParts
from components.cost import (
    CATALOG_DIR,
    CostError,
    CostLine,
    PriceCatalog,
    load_catalog,
)
from components.network import NatStrategy, NetworkParts
from infra.config import ConfigError, parse_stack_config
from infra.cost import (
    PRICED_RESOURCE_TYPES,
    PRICED_UNITS_FROM_INPUTS,
    BudgetExceededError,
    estimate_stack,
)
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan
from tests.conftest import minimal_values, plan_with

CATALOG = load_catalog("us-east-1")
DEV = parse_stack_config("dev", minimal_values("dev"))
PROD = parse_stack_config("prod", minimal_values("prod"))


def line(lines: list[CostLine], item: str) -> CostLine:
    [found] = [entry for entry in lines if entry.item == item]
    return found


# --- the catalog ---------------------------------------------------------------------------


def test_every_price_has_unit_source_date_and_confidence() -> None:
    raw = yaml.safe_load((CATALOG_DIR / "catalog-us-east-1.yaml").read_text())
    for entry in raw["prices"] + raw["factors"]:
        assert {"key", "unit", "source", "date", "confidence"} <= set(entry), entry
    assert CATALOG.hours_per_month == 730
    assert CATALOG.collected == "2026-11"


@pytest.mark.parametrize(
    ("key", "usd"),
    [
        ("eks.cluster.standard-support", 0.10),
        ("eks.cluster.extended-support", 0.60),
        ("ec2.instance.t3.large", 0.0832),
        ("ec2.instance.m7i.large", 0.1008),
        ("ec2.ebs.gp3-storage", 0.08),
        ("rds.postgres.db.t4g.small.multi-az", 0.065),
        ("rds.postgres.db.r7g.large.single-az", 0.239),
        ("rds.storage.gp3.multi-az", 0.23),
        ("rds.backup-storage", 0.095),
        ("elasticache.redis.cache.t4g.small", 0.032),
        ("elasticache.redis.cache.r7g.large", 0.219),
        ("elasticache.backup-storage", 0.085),
        ("cloudfront.transfer-out.us-first-10tb", 0.085),
        ("cloudfront.requests.https", 0.01),
        ("s3.standard-storage", 0.023),
        ("s3.requests.get", 0.0004),
        ("route53.hosted-zone", 0.50),
        ("route53.health-check.non-aws-endpoint", 0.75),
        ("route53.health-check.optional-feature.non-aws", 2.00),
        ("kms.customer-managed-key", 1.00),
        ("secretsmanager.secret", 0.40),
        ("cloudwatch.standard-alarm", 0.10),
        ("cloudwatch.logs.ingestion", 0.50),
        ("waf.web-acl", 5.00),
        ("waf.requests", 0.60),
        ("elb.application-load-balancer", 0.0225),
        ("elb.network-load-balancer.lcu", 0.006),
        ("vpc.nat-gateway", 0.045),
        ("vpc.public-ipv4-address", 0.005),
        ("budgets.budget", 0.0),
    ],
)
def test_catalog_holds_the_reference_prices(key: str, usd: float) -> None:
    assert CATALOG.price(key).usd == usd


def test_valkey_is_a_factor_of_the_redis_price() -> None:
    factor = CATALOG.factor("elasticache.valkey-factor")
    assert factor.value == 0.8
    with pytest.raises(CostError, match="no factor 'nope'"):
        CATALOG.factor("nope")


def test_the_reference_arithmetic_checks_hold() -> None:
    hours = CATALOG.hours_per_month
    assert hours * CATALOG.price("eks.cluster.standard-support").usd == pytest.approx(73)
    assert hours * CATALOG.price("vpc.nat-gateway").usd == pytest.approx(32.85)
    single = hours * CATALOG.price("rds.postgres.db.t4g.small.single-az").usd
    assert single + 20 * CATALOG.price("rds.storage.gp3.single-az").usd == pytest.approx(25.66)
    multi = hours * CATALOG.price("rds.postgres.db.t4g.small.multi-az").usd
    assert multi + 20 * CATALOG.price("rds.storage.gp3.multi-az").usd == pytest.approx(52.05)
    cache = 2 * hours * CATALOG.price("elasticache.redis.cache.t4g.small").usd
    assert cache == pytest.approx(46.72)


def test_missing_price_names_the_resource_and_the_key() -> None:
    without_nat = CATALOG.model_copy(
        update={"prices": [p for p in CATALOG.prices if p.key != "vpc.nat-gateway"]}
    )
    with pytest.raises(CostError) as caught:
        NetworkParts(PROD.network).cost_lines(without_nat, PROD.usage)
    message = str(caught.value)
    assert "has no price 'vpc.nat-gateway'" in message
    assert "aws:ec2/natGateway:NatGateway needs it" in message
    assert "vpc.nat-gateway.data-processed" in message  # the prices of that service, as a hint


def test_region_without_a_catalog_is_an_error_naming_the_fallback_flag() -> None:
    with pytest.raises(CostError) as caught:
        load_catalog("eu-west-1")
    assert str(caught.value).startswith("no price catalog for region eu-west-1")
    assert "covers us-east-1" in str(caught.value)
    assert "genericcorp:costModel.priceFallbackRegion" in str(caught.value)


def test_region_without_a_catalog_fails_the_plan_before_any_resource() -> None:
    with pytest.raises(CostError, match="no price catalog for region eu-west-1"):
        run_stack("dev", config_overrides={"aws:region": "eu-west-1"})


def test_explicit_fallback_prices_with_the_named_region_and_says_so() -> None:
    plan = plan_with(
        "dev",
        {
            "aws:region": "eu-west-1",
            "genericcorp:costModel": {"priceFallbackRegion": "us-east-1"},
        },
    )
    monthly = plan.outputs["monthlyCost"]
    assert monthly["assumptions"]["pricedWithRegion"] == "us-east-1"
    assert monthly["catalog"]["region"] == "us-east-1"


def test_a_catalog_with_a_repeated_key_is_refused() -> None:
    raw: dict[str, Any] = yaml.safe_load((CATALOG_DIR / "catalog-us-east-1.yaml").read_text())
    raw["prices"].append(raw["prices"][0])
    with pytest.raises(ValueError, match=r"repeated: eks\.cluster\.standard-support"):
        PriceCatalog.model_validate(raw)


# --- cost lines ----------------------------------------------------------------------------


def test_network_lines_follow_the_nat_strategy() -> None:
    dev = NetworkParts(DEV.network).cost_lines(CATALOG, DEV.usage)
    prod = NetworkParts(PROD.network).cost_lines(CATALOG, PROD.usage)
    assert line(dev, "NAT gateways").monthly_usd == pytest.approx(32.85)
    assert line(prod, "NAT gateways").monthly_usd == pytest.approx(3 * 32.85)
    assert line(prod, "NAT Elastic IPs (public IPv4)").monthly_usd == pytest.approx(3 * 3.65)
    assert line(prod, "NAT port-allocation alarms").quantity == 3
    assert line(prod, "NAT data processed").monthly_usd == pytest.approx(100 * 0.045)
    assert line(prod, "KMS key (flow-logs)").monthly_usd == 1.0


def test_no_nat_and_no_flow_logs_means_no_such_lines() -> None:
    settings = DEV.network.model_copy(
        update={
            "nat_strategy": NatStrategy.NONE,
            "flow_logs": DEV.network.flow_logs.model_copy(update={"enabled": False}),
        }
    )
    assert NetworkParts(settings).cost_lines(CATALOG, DEV.usage) == []


def test_flow_log_storage_is_a_month_of_ingestion_times_the_months_kept() -> None:
    prod = NetworkParts(PROD.network).cost_lines(CATALOG, PROD.usage)
    storage = line(prod, "Flow-log storage")
    assert storage.quantity == pytest.approx(10 * 12)  # 10 GB/month kept 365 days
    assert storage.monthly_usd == pytest.approx(120 * 0.03)


def test_usage_not_given_is_reported_not_counted_as_zero() -> None:
    config = parse_stack_config(
        "dev", minimal_values("dev", {"genericcorp:usage": {"natProcessedGb": None}})
    )
    estimate = estimate_stack(config)
    nat_data = line(list(estimate.lines), "NAT data processed")
    assert nat_data.monthly_usd is None
    assert nat_data.to_json()["note"] == "usage not given"
    assert estimate.usage_not_given == ["network: NAT data processed"]
    assert estimate.total_usd == pytest.approx(estimate_stack(DEV).total_usd - 20 * 0.045)


def test_alerts_topic_costs_its_key_and_its_rotations() -> None:
    key, rotations = AlertsParts(DEV.alerts, region="us-east-1").cost_lines(CATALOG)
    assert (key.component, key.monthly_usd, key.price_key) == (
        "monitoring",
        1.0,
        "kms.customer-managed-key",
    )
    # Each of the first two yearly rotations adds $1 a month: priced at that steady state.
    assert (rotations.quantity, rotations.monthly_usd, rotations.price_key) == (
        2,
        2.0,
        "kms.key-rotation",
    )


def test_external_services_are_config_lines_and_optional_ones_are_left_out() -> None:
    external = [entry for entry in estimate_stack(PROD).lines if entry.component == "external"]
    assert {entry.item: entry.monthly_usd for entry in external} == {
        "BetterStack uptime monitoring": 10,
        "Vercel Pro (landing page and demo)": 20,
    }
    with_temporal = parse_stack_config(
        "prod",
        minimal_values(
            "prod",
            {
                "genericcorp:costModel": {
                    "externalServices": [
                        {"name": "Temporal Cloud", "monthlyUsd": 50, "included": True, "note": ""}
                    ]
                }
            },
        ),
    )
    assert estimate_stack(with_temporal).by_component()["external"] == 50


# --- the estimate against the plan -----------------------------------------------------------


def assert_every_priced_resource_is_priced(plan: Plan) -> None:
    """Each priced resource type's count in ``plan`` equals the quantity its fixed lines price."""
    lines = plan.outputs["monthlyCost"]["lines"]
    declared: dict[str, float] = {}
    for type_token, pattern in PRICED_RESOURCE_TYPES.items():
        declared[pattern] = declared.get(pattern, 0) + len(plan.of_type(type_token))
    for type_token, pattern, units in PRICED_UNITS_FROM_INPUTS:
        extra = sum(units(resource.inputs) for resource in plan.of_type(type_token))
        declared[pattern] = declared.get(pattern, 0) + extra
    for pattern, count in declared.items():
        priced = 0.0
        for entry in lines:
            if entry["usageBased"] or not fnmatch.fnmatchcase(entry["priceKey"], pattern):
                continue
            per_resource = CATALOG.hours_per_month if entry["unit"].endswith("-hour") else 1
            priced += entry["quantity"] / per_resource
        assert priced == pytest.approx(count), f"{pattern}: {count} declared, {priced} priced"


def test_every_priced_resource_in_the_plan_has_a_matching_cost_line(plan: Plan) -> None:
    assert len(plan.of_type("aws:kms/key:Key")) >= 5  # alerts, flow logs, data tier, CDN
    assert_every_priced_resource_is_priced(plan)


def test_monthly_cost_output_adds_up(plan: Plan) -> None:
    monthly = plan.outputs["monthlyCost"]
    lines = monthly["lines"]
    assert monthly["totalUsd"] == pytest.approx(sum(entry["monthlyUsd"] or 0 for entry in lines))
    for name, subtotal in monthly["byComponent"].items():
        parts = [entry["monthlyUsd"] for entry in lines if entry["component"] == name]
        assert subtotal == pytest.approx(sum(parts), abs=0.01)
    for entry in lines:
        assert entry["monthlyUsd"] == pytest.approx(
            entry["quantity"] * entry["unitPriceUsd"], abs=0.01
        )
    assert monthly["catalog"] == {"region": "us-east-1", "collected": "2026-11"}
    assert monthly["assumptions"]["hoursPerMonth"] == 730
    assert monthly["usageNotGiven"] == []


def test_estimates_meet_the_targets(dev_plan: Plan, prod_plan: Plan) -> None:
    assert dev_plan.outputs["monthlyCost"]["totalUsd"] <= 280
    assert prod_plan.outputs["monthlyCost"]["totalUsd"] <= 1000


def test_prod_costs_more_than_dev_for_its_nat_gateway_per_az(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    dev, prod = (p.outputs["monthlyCost"]["byComponent"] for p in (dev_plan, prod_plan))
    assert prod["network"] > 2.5 * dev["network"]
    assert "external" not in dev  # company-wide services are counted once, in prod
    assert prod["external"] == 30


# --- cost per customer -----------------------------------------------------------------------


def test_cost_per_customer_output_adds_up(plan: Plan) -> None:
    """Each point's shares add up to its figure, and the fixed share is the estimate less what
    the configured tenants add (tests/test_tenant_capacity.py pins the packing itself)."""
    per_customer = plan.outputs["costPerCustomer"]
    monthly = plan.outputs["monthlyCost"]
    tenants = sum(
        entry["monthlyUsd"] for entry in monthly["lines"] if entry["item"].startswith("Tenants' ")
    )
    assert per_customer["fixedMonthlyUsd"] == pytest.approx(monthly["totalUsd"] - tenants, abs=0.01)
    points = [p for tier in per_customer["tiers"].values() for p in tier.get("scalePoints", [])]
    points += per_customer["tierMix"]["scalePoints"]
    for point in points:
        shares = (
            point["fixedShareUsd"]
            + point["addedNodesShareUsd"]
            + point["volumesShareUsd"]
            + point["dataTierStepShareUsd"]
        )
        assert point["usd"] == pytest.approx(shares, abs=0.03)
        assert point["usd"] * point["customers"] == pytest.approx(
            point["totalMonthlyUsd"], abs=0.05 * point["customers"]
        )
    configured = per_customer["atConfiguredTenants"]
    if per_customer["tenants"]:  # the configured tenants' cost is the estimate itself
        assert configured["totalMonthlyUsd"] == pytest.approx(monthly["totalUsd"], abs=0.01)
    else:  # no tenants: the first customer, a starter tenant
        assert configured["customers"] == 1


# --- budget output and guard -----------------------------------------------------------------


def test_budget_output_is_limit_estimate_and_headroom(plan: Plan) -> None:
    budget = plan.outputs["budget"]
    estimate = plan.outputs["monthlyCost"]["totalUsd"]
    assert budget["estimateUsd"] == estimate
    assert budget["headroomUsd"] == pytest.approx(budget["limitUsd"] - estimate, abs=0.01)
    assert budget["limitUsd"] == {"dev": 280, "prod": 1000}[plan.stack]
    assert budget["name"] == f"genericcorp-{plan.stack}-monthly-cost"


def test_plan_fails_when_the_estimate_exceeds_the_budget() -> None:
    with pytest.raises(BudgetExceededError) as caught:
        run_stack("prod", config_overrides={"genericcorp:budget": {"limitUsd": 100}})
    message = str(caught.value)
    assert message.startswith("Pulumi.prod.yaml: the estimate $")
    assert "exceeds the budget genericcorp:budget.limitUsd = 100.00" in message
    assert "network $129.90" in message


# --- bad input ---------------------------------------------------------------------------------


def only_problem(environment: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    [problem] = caught.value.problems
    return problem.render()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"genericcorp:usage": {"natProcessedGb": -1}},
            "genericcorp:usage.natProcessedGb = -1: must be at least 0",
        ),
        (
            {"genericcorp:usage": {"cdnTransferOutGb": "lots"}},
            'genericcorp:usage.cdnTransferOutGb = "lots": expected a number, got a string',
        ),
        (
            {"genericcorp:budget": {"limitUsd": 0}},
            "genericcorp:budget.limitUsd = 0: must be greater than 0",
        ),
        (
            {"genericcorp:budget": {"limitUsd": -50}},
            "genericcorp:budget.limitUsd = -50: must be greater than 0",
        ),
        (
            {"genericcorp:budget": {"notifications": []}},
            "genericcorp:budget.notifications = []: must hold at least 1 item(s)",
        ),
        (
            {"genericcorp:budget": {"notifications": [{"type": "ACTUAL", "thresholdPercent": 0}]}},
            "genericcorp:budget.notifications[0].thresholdPercent = 0: must be greater than 0",
        ),
        (
            {"genericcorp:budget": {"notifyAlertsTopic": False}},
            "genericcorp:budget.emails = []: with notifyAlertsTopic false, list at least one "
            "address: AWS Budgets needs a subscriber for each notification",
        ),
        (
            {"genericcorp:costModel": {"scalePoints": [0, 10]}},
            "genericcorp:costModel.scalePoints = [0, 10]: scale points are customer counts: "
            "positive whole numbers, not [0]",
        ),
        (
            {"genericcorp:costModel": {"scalePoints": [2.5]}},
            "genericcorp:costModel.scalePoints[0] = 2.5: expected a whole number, got a decimal "
            "number",
        ),
        (
            {"genericcorp:costModel": {"scalePoints": ["ten"]}},
            'genericcorp:costModel.scalePoints[0] = "ten": expected a whole number, got a string',
        ),
        (
            {"genericcorp:costModel": {"scalePoints": [10, 5]}},
            "genericcorp:costModel.scalePoints = [10, 5]: list each customer count once, in "
            "increasing order",
        ),
        (
            {"genericcorp:costModel": {"spotDiscountPercent": -5}},
            "genericcorp:costModel.spotDiscountPercent = -5: must be at least 0",
        ),
        (
            {"genericcorp:costModel": {"spotDiscountPercent": 100}},
            "genericcorp:costModel.spotDiscountPercent = 100: must be less than 100",
        ),
        (
            {"genericcorp:costModel": {"spotDiscountPercent": "most"}},
            'genericcorp:costModel.spotDiscountPercent = "most": expected a number, got a string',
        ),
        (
            {"genericcorp:usage": {"clusterLogsIngestedGb": -1}},
            "genericcorp:usage.clusterLogsIngestedGb = -1: must be at least 0",
        ),
        (
            {"genericcorp:usage": {"albAverageLcus": "busy"}},
            'genericcorp:usage.albAverageLcus = "busy": expected a number, got a string',
        ),
        (
            {"genericcorp:costModel": {"tenantCount": 3}},
            "genericcorp:costModel.tenantCount = 3: unknown key. Allowed keys here: "
            "externalServices, perCustomerTargetsUsd, planningTierMix, priceFallbackRegion, "
            "purchaseOptions, scalePoints, spotDiscountPercent",
        ),
    ],
)
def test_bad_cost_config_gets_a_clear_error(overrides: dict[str, Any], expected: str) -> None:
    assert only_problem("dev", overrides) == expected


def test_prod_budget_must_notify_the_alerts_topic() -> None:
    problem = only_problem(
        "prod",
        {"genericcorp:budget": {"notifyAlertsTopic": False, "emails": ["cfo@genericcorp.com"]}},
    )
    assert problem.startswith("genericcorp:budget.notifyAlertsTopic = false: not allowed in prod")


def test_hours_per_month_is_the_infracost_convention() -> None:
    assert math.isclose(CATALOG.hours_per_month, 365 * 24 / 12, abs_tol=0.1)
