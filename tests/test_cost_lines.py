"""Cost lines of the data tier and the edge: PostgreSQL, the cache, DNS, the CDN, uptime checks."""

from __future__ import annotations

from typing import Any

import pytest

from components.cdn import CdnParts
from components.cost import CostError, CostLine, UsageSettings, load_catalog
from components.dns_zone import DnsZoneParts
from components.postgres import PostgresParts
from components.redis import CacheEngine, RedisParts
from components.shared.waf import MANAGED_RULE_GROUPS
from components.uptime import UptimeParts
from infra.config import parse_stack_config
from infra.cost import estimate_stack, usage_lines
from infractl.offline.plan import Plan
from tests.conftest import minimal_values, plan_with
from tests.test_cost import assert_every_priced_resource_is_priced

CATALOG = load_catalog("us-east-1")
DEV = parse_stack_config("dev", minimal_values("dev"))
PROD = parse_stack_config("prod", minimal_values("prod"))
NO_USAGE = UsageSettings.model_validate(dict.fromkeys(DEV.usage.model_dump(by_alias=True)))


def line(lines: list[CostLine], item: str) -> CostLine:
    [found] = [entry for entry in lines if entry.item == item]
    return found


def items(lines: list[CostLine]) -> set[str]:
    return {entry.item for entry in lines}


def total(lines: list[CostLine]) -> float:
    return sum(entry.monthly_usd or 0.0 for entry in lines)


# --- PostgreSQL ------------------------------------------------------------------------------


def test_database_lines_for_dev_and_prod() -> None:
    dev = PostgresParts(DEV.database).cost_lines(CATALOG, DEV.usage)
    prod = PostgresParts(PROD.database).cost_lines(CATALOG, PROD.usage)
    # db.t4g.micro Single-AZ with 20 GiB; db.t4g.small Multi-AZ with 20 GiB (the reference's
    # arithmetic check: $52.05).
    assert line(dev, "PostgreSQL instance").monthly_usd == pytest.approx(730 * 0.016)
    assert line(dev, "gp3 storage").monthly_usd == pytest.approx(20 * 0.115)
    assert line(prod, "PostgreSQL instance").price_key == "rds.postgres.db.t4g.small.multi-az"
    assert line(prod, "PostgreSQL instance").monthly_usd == pytest.approx(47.45)
    assert line(prod, "gp3 storage").monthly_usd == pytest.approx(4.60)
    for lines in (dev, prod):
        assert line(lines, "Master-password secret").monthly_usd == pytest.approx(0.40)
        assert line(lines, "KMS key (postgres)").monthly_usd == 1.0
        assert line(lines, "Alarms").quantity == 4
        assert "Performance Insights 7 days is free" in line(lines, "PostgreSQL instance").note
    assert 50 <= total(prod) <= 100  # the brief's line item for PostgreSQL


@pytest.mark.parametrize("instance_class", ["db.t4g.micro", "db.t4g.small", "db.m7g.large"])
def test_multi_az_about_doubles_the_instance_and_doubles_storage(instance_class: str) -> None:
    single = DEV.database.model_copy(update={"instance_class": instance_class})
    multi = single.model_copy(update={"multi_az": True})
    one = PostgresParts(single).cost_lines(CATALOG, DEV.usage)
    two = PostgresParts(multi).cost_lines(CATALOG, DEV.usage)
    instance = "PostgreSQL instance"
    assert line(two, instance).unit_price == pytest.approx(
        2 * line(one, instance).unit_price, rel=0.03
    )
    assert line(two, "gp3 storage").monthly_usd == pytest.approx(
        2 * (line(one, "gp3 storage").monthly_usd or 0)
    )


def test_every_derived_multi_az_price_is_twice_single_az() -> None:
    derived = [p for p in CATALOG.prices if p.source.startswith("derived (2 x Single-AZ")]
    assert len(derived) == 5
    for price in derived:
        single = CATALOG.price(price.key.replace(".multi-az", ".single-az"))
        assert price.usd == pytest.approx(2 * single.usd)
        assert price.confidence in {"medium", "low"}
        assert not (single.confidence == "low" and price.confidence != "low")


def test_backup_storage_beyond_the_free_allocation_follows_growth_and_retention() -> None:
    prod = PostgresParts(PROD.database).cost_lines(CATALOG, PROD.usage)
    backup = line(prod, "Backup storage beyond the free allocation")
    assert backup.usage_based
    assert backup.quantity == pytest.approx(5 * 14 / 30)  # 5 GB a month kept 14 days
    assert backup.monthly_usd == pytest.approx(5 * 14 / 30 * 0.095)
    longer = PROD.database.model_copy(update={"backup_retention_days": 28})
    doubled = line(
        PostgresParts(longer).cost_lines(CATALOG, PROD.usage),
        "Backup storage beyond the free allocation",
    )
    assert doubled.quantity == pytest.approx(2 * 5 * 14 / 30)


def test_enhanced_monitoring_grows_with_its_granularity() -> None:
    every_minute = PostgresParts(DEV.database).cost_lines(CATALOG, DEV.usage)
    every_second = PostgresParts(
        DEV.database.model_copy(update={"monitoring_interval_seconds": 1})
    ).cost_lines(CATALOG, DEV.usage)
    item = "Enhanced monitoring (CloudWatch Logs ingestion)"
    minute = line(every_minute, item)
    assert not minute.usage_based
    assert minute.quantity == pytest.approx(730 * 60 * 10 / 1024**2)  # 10 KB a sample
    assert line(every_second, item).quantity == pytest.approx(60 * (minute.quantity or 0))


def test_exported_logs_are_usage_and_kept_for_the_retention_period() -> None:
    prod = PostgresParts(PROD.database).cost_lines(CATALOG, PROD.usage)
    assert line(prod, "Exported log ingestion").monthly_usd == pytest.approx(10 * 0.50)
    assert line(prod, "Exported log storage").quantity == pytest.approx(10 * 12)


def test_database_usage_not_given_is_not_counted() -> None:
    lines = PostgresParts(PROD.database).cost_lines(CATALOG, NO_USAGE)
    missing = {entry.item for entry in lines if entry.quantity is None}
    assert missing == {
        "Storage growth",
        "Backup storage beyond the free allocation",
        "Exported log ingestion",
        "Exported log storage",
    }
    assert all(line(lines, item).to_json()["note"] == "usage not given" for item in missing)


def test_performance_insights_beyond_the_free_tier_needs_a_price() -> None:
    settings = PROD.database.model_copy(update={"performance_insights_retention_days": 31})
    with pytest.raises(CostError) as caught:
        PostgresParts(settings).cost_lines(CATALOG, PROD.usage)
    message = str(caught.value)
    assert "no price 'rds.performance-insights.long-term-retention'" in message
    assert "aws:rds/instance:Instance needs it" in message


def test_an_instance_class_without_a_price_names_the_resource_and_the_key() -> None:
    settings = PROD.database.model_copy(update={"instance_class": "db.m7i.large"})
    with pytest.raises(CostError) as caught:
        PostgresParts(settings).cost_lines(CATALOG, PROD.usage)
    message = str(caught.value)
    assert "no price 'rds.postgres.db.m7i.large.multi-az'" in message
    assert "aws:rds/instance:Instance needs it" in message
    assert "rds.postgres.db.t4g.small.multi-az" in message  # the prices RDS does have


# --- the cache -------------------------------------------------------------------------------


def test_cache_lines_for_dev_and_prod() -> None:
    dev = RedisParts(DEV.cache).cost_lines(CATALOG)
    prod = RedisParts(PROD.cache).cost_lines(CATALOG)
    assert line(dev, "Cache nodes").quantity == 730
    assert line(dev, "Cache nodes").monthly_usd == pytest.approx(11.68)
    assert line(prod, "Cache nodes").quantity == 2 * 730
    assert line(prod, "Cache nodes").monthly_usd == pytest.approx(46.72)  # reference check
    assert line(dev, "Alarms").quantity == 5
    assert line(prod, "Alarms").quantity == 10  # five per node
    for lines in (dev, prod):
        assert "AUTH-token secret" not in items(lines)  # RBAC users are free
        assert line(lines, "KMS key (redis)").monthly_usd == 1.0
    # The brief's $50 line item for Redis, plus the key's two rotations ($2 a month from the
    # third year), which the brief's figure predates.
    assert total(prod) <= 50 + 2


def test_valkey_nodes_cost_the_factor_of_redis_nodes() -> None:
    redis = line(RedisParts(PROD.cache).cost_lines(CATALOG), "Cache nodes")
    valkey_settings = PROD.cache.model_copy(
        update={"engine": CacheEngine.VALKEY, "engine_version": "8.0"}
    )
    valkey = line(RedisParts(valkey_settings).cost_lines(CATALOG), "Cache nodes")
    assert valkey.monthly_usd == pytest.approx(0.8 * (redis.monthly_usd or 0))
    assert valkey.price_key == "elasticache.redis.cache.t4g.small x elasticache.valkey-factor"
    assert "Valkey" in valkey.note


def test_snapshots_beyond_the_free_one_are_bounded_by_node_memory() -> None:
    dev = line(RedisParts(DEV.cache).cost_lines(CATALOG), "Snapshot storage beyond the free one")
    prod = line(RedisParts(PROD.cache).cost_lines(CATALOG), "Snapshot storage beyond the free one")
    assert dev.quantity == 0  # one day kept: the one free snapshot
    assert prod.quantity == pytest.approx(6 * 1.37)  # seven days of cache.t4g.small snapshots
    assert prod.monthly_usd == pytest.approx(6 * 1.37 * 0.085)


def test_a_node_type_without_a_price_names_the_resource_and_the_key() -> None:
    settings = PROD.cache.model_copy(update={"node_type": "cache.m6g.large"})
    with pytest.raises(CostError) as caught:
        RedisParts(settings).cost_lines(CATALOG)
    assert "no price 'elasticache.redis.cache.m6g.large'" in str(caught.value)
    assert "aws:elasticache/replicationGroup:ReplicationGroup needs it" in str(caught.value)


# --- DNS -------------------------------------------------------------------------------------


def test_dns_lines_for_dev_and_prod() -> None:
    dev = DnsZoneParts(DEV.dns).cost_lines(CATALOG, DEV.usage)
    prod = DnsZoneParts(PROD.dns).cost_lines(CATALOG, PROD.usage)
    assert items(dev) == {"Hosted zone", "DNS queries"}
    assert line(dev, "Hosted zone").monthly_usd == 0.50
    assert line(prod, "DNS queries").monthly_usd == pytest.approx(5 * 0.40)
    # Prod logs queries and signs the zone: a $1 asymmetric key and two alarms.
    assert line(prod, "Query-log ingestion").quantity == pytest.approx(5e6 * 150 / 1024**3)
    assert line(prod, "Query-log storage").quantity == pytest.approx(
        12 * (line(prod, "Query-log ingestion").quantity or 0)
    )
    assert line(prod, "KMS key (dnssec)").monthly_usd == 1.0
    assert line(prod, "DNSSEC alarms").quantity == 2


def test_an_existing_zone_is_not_paid_for_by_the_stack() -> None:
    settings = DEV.dns.model_copy(update={"existing_zone_id": "Z0123456789ABCDEF"})
    assert "Hosted zone" not in items(DnsZoneParts(settings).cost_lines(CATALOG, DEV.usage))


def test_query_logs_without_a_query_figure_say_usage_not_given() -> None:
    lines = DnsZoneParts(PROD.dns).cost_lines(CATALOG, NO_USAGE)
    for item in ("DNS queries", "Query-log ingestion", "Query-log storage"):
        assert line(lines, item).quantity is None


# --- the CDN ---------------------------------------------------------------------------------


def test_waf_is_priced_in_prod_only() -> None:
    dev = CdnParts(DEV.cdn).cost_lines(CATALOG, DEV.usage)
    prod = CdnParts(PROD.cdn).cost_lines(CATALOG, PROD.usage)
    assert not any(entry.item.startswith("WAF") for entry in dev)
    assert line(prod, "WAF web ACL").monthly_usd == 5.0
    assert line(prod, "WAF rules").quantity == len(MANAGED_RULE_GROUPS) + 1 == 4
    assert line(prod, "WAF requests").monthly_usd == pytest.approx(10 * 0.60)


def test_cdn_traffic_lines_follow_usage() -> None:
    prod = CdnParts(PROD.cdn).cost_lines(CATALOG, PROD.usage)
    assert line(prod, "CloudFront data out").monthly_usd == pytest.approx(200 * 0.085)
    assert line(prod, "CloudFront HTTPS requests").monthly_usd == pytest.approx(10.0)
    assert line(prod, "S3 asset storage").monthly_usd == pytest.approx(20 * 0.023)
    assert line(prod, "S3 GET requests from CloudFront").quantity == pytest.approx(1000)
    assert line(prod, "Access-log storage").quantity == pytest.approx(1.0 * 12)  # 1 GB a month
    assert line(prod, "KMS key (cdn-assets)").monthly_usd == 1.0


def test_cdn_without_usage_prices_only_what_exists() -> None:
    lines = CdnParts(PROD.cdn).cost_lines(CATALOG, NO_USAGE)
    counted = {entry.item for entry in lines if entry.quantity is not None}
    assert counted == {
        "KMS key (cdn-assets)",
        "KMS key rotations (cdn-assets)",
        "WAF web ACL",
        "WAF rules",
        "KMS key (cdn-waf-logs)",
        "KMS key rotations (cdn-waf-logs)",
    }
    assert total(lines) == pytest.approx(1 + 2 + 5 + 4 + 1 + 2)


# --- uptime checks ---------------------------------------------------------------------------


def test_health_checks_are_priced_per_check() -> None:
    dev = UptimeParts(DEV.uptime).cost_lines(CATALOG)
    prod = UptimeParts(PROD.uptime).cost_lines(CATALOG)
    assert total(dev) == pytest.approx(0.75 + 2.00 + 0.10)
    assert total(prod) == pytest.approx(3 * (0.75 + 2.00 + 0.10))
    assert line(prod, "Route53 health checks").note == "landing, demo, cdn"


def test_fast_interval_is_one_more_feature_per_check() -> None:
    fast = PROD.uptime.model_copy(update={"request_interval_seconds": 10})
    lines = UptimeParts(fast).cost_lines(CATALOG)
    assert line(lines, "Health-check fast interval feature").monthly_usd == pytest.approx(6.0)


# --- totals ----------------------------------------------------------------------------------


def test_the_stack_total_is_every_component_s_lines(plan: Plan) -> None:
    monthly = plan.outputs["monthlyCost"]
    config = DEV if plan.outputs["environment"] == "dev" else PROD
    parts = {
        "database": PostgresParts(config.database).cost_lines(CATALOG, config.usage),
        "cache": RedisParts(config.cache).cost_lines(CATALOG),
        "dns": DnsZoneParts(config.dns).cost_lines(CATALOG, config.usage),
        "cdn": CdnParts(config.cdn).cost_lines(CATALOG, config.usage),
    }
    # Usage lines no single part owns (CPU credits, traffic) carry their component's tag.
    for extra in usage_lines(config, CATALOG):
        parts.setdefault(extra.component, []).append(extra)
    for component in ("database", "cache", "dns", "cdn"):
        lines = parts[component]
        assert monthly["byComponent"][component] == pytest.approx(total(lines), abs=0.01)
    # Every line's component is a Component tag of the plan's resources (or an external one),
    # so the estimate and Cost Explorer's actual spend group the same way.
    tags = {resource.tags.get("Component") for resource in plan.cloud_resources}
    assert set(monthly["byComponent"]) - {"external"} <= tags


def test_estimates_without_eks(dev_plan: Plan, prod_plan: Plan) -> None:
    def without_eks(plan: Plan) -> float:
        by_component = plan.outputs["monthlyCost"]["byComponent"]
        return sum(v for k, v in by_component.items() if k not in {"compute", "platform"})

    assert 60 < without_eks(dev_plan) < 100
    assert 250 < without_eks(prod_plan) < 400


def test_a_stack_outside_the_edge_region_pays_for_its_second_alerts_key() -> None:
    overrides: dict[str, Any] = {
        "aws:region": "eu-west-1",
        "genericcorp:costModel": {"priceFallbackRegion": "us-east-1"},
    }
    config = parse_stack_config("dev", minimal_values("dev", overrides))
    keys = [entry for entry in estimate_stack(config).lines if entry.item == "KMS key (alerts)"]
    assert len(keys) == 2
    assert_every_priced_resource_is_priced(plan_with("dev", overrides))
