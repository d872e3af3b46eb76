"""Uptime checks: HTTPS health checks of the public endpoints, each alarming in us-east-1."""

from __future__ import annotations

from typing import Any

import pytest

from components.uptime import UptimeParts
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import IN_EU_WEST_1, minimal_values, plan_with, region_of, stack_config

CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
EXPECTED = {
    "dev": {"cdn": "cdn.dev.genericcorp.com"},
    "prod": {
        "landing": "genericcorp.com",
        "demo": "demo.genericcorp.com",
        "cdn": "cdn.genericcorp.com",
    },
}


def health_alarms(plan: Plan) -> list[PlannedResource]:
    return [a for a in plan.of_type(ALARM) if a.inputs["metricName"] == "HealthCheckStatus"]


def test_prod_watches_the_landing_page_the_demo_and_the_cdn(plan: Plan) -> None:
    checks = {c.name.removeprefix("uptime-"): c for c in plan.of_type(CHECK)}
    assert {name: c.inputs["fqdn"] for name, c in checks.items()} == EXPECTED[plan.stack]
    for check in checks.values():
        assert check.inputs["type"] == "HTTPS"
        assert check.inputs["port"] == 443
        assert check.inputs["enableSni"] is True
        assert check.inputs["resourcePath"] == "/"
        assert check.inputs["requestInterval"] == 30
        assert check.inputs["failureThreshold"] == 3


def test_each_check_alarms_to_the_alerts_topic_in_us_east_1(plan: Plan) -> None:
    topic_arn = plan.one(TOPIC).outputs["arn"]
    alarms = {a.inputs["dimensions"]["HealthCheckId"]: a for a in health_alarms(plan)}
    assert set(alarms) == {c.id for c in plan.of_type(CHECK)}
    for alarm in alarms.values():
        assert region_of(plan, alarm) == "us-east-1"
        assert alarm.inputs["namespace"] == "AWS/Route53"
        assert alarm.inputs["comparisonOperator"] == "LessThanThreshold"
        assert alarm.inputs["threshold"] == 1
        # A check that stops reporting is treated as down, not as fine.
        assert alarm.inputs["treatMissingData"] == "breaching"
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]


def test_each_check_and_alarm_the_parts_price_is_declared(plan: Plan) -> None:
    parts = UptimeParts(stack_config(plan.stack).uptime)
    assert {c.name for c in plan.of_type(CHECK)} == {f"uptime-{c.name}" for c in parts.checks}
    assert {a.name for a in health_alarms(plan)} == {f"uptime-{a.suffix}" for a in parts.alarms}
    assert len(parts.alarms) == len(parts.checks)


def test_outside_us_east_1_alarms_use_a_second_alerts_topic_there() -> None:
    plan = plan_with("dev", IN_EU_WEST_1)
    topics = {region_of(plan, t): t for t in plan.of_type(TOPIC)}
    assert set(topics) == {"eu-west-1", "us-east-1"}
    edge_topic_arn = topics["us-east-1"].outputs["arn"]
    assert edge_topic_arn.startswith("arn:aws:sns:us-east-1:")
    [alarm] = health_alarms(plan)
    assert region_of(plan, alarm) == "us-east-1"
    assert alarm.inputs["alarmActions"] == [edge_topic_arn]
    # Its key is in us-east-1 too, and its subscriptions reach the same people.
    edge_key = plan.named("alerts-us-east-1-key", "aws:kms/key:Key")
    assert region_of(plan, edge_key) == "us-east-1"
    assert topics["us-east-1"].inputs["kmsMasterKeyId"] == edge_key.outputs["arn"]
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert {s.inputs["topic"] for s in subscriptions} == {t.outputs["arn"] for t in topics.values()}


def test_outputs_map_each_check_to_its_id(plan: Plan) -> None:
    checks = {c.name.removeprefix("uptime-"): c.id for c in plan.of_type(CHECK)}
    assert plan.outputs["uptime"]["healthChecks"] == checks
    assert set(plan.outputs["uptime"]) == {"healthChecks", "notes"}


def rejected_uptime(uptime: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", minimal_values("dev", {"genericcorp:uptime": uptime}))
    [problem] = caught.value.problems
    return problem.render()


def check(
    name: str = "cdn", domain: str = "cdn.dev.genericcorp.com", path: str = "/"
) -> dict[str, str]:
    return {"name": name, "domain": domain, "path": path}


@pytest.mark.parametrize(
    ("uptime", "path", "message"),
    [
        ({"checks": [check(), check()]}, "checks", "repeated: cdn"),
        ({"checks": [check(domain="https://cdn.x.com")]}, "checks[0].domain", "not a valid domain"),
        ({"checks": [check(path="index.html")]}, "checks[0].path", "String should match"),
        ({"checks": [check(name="CDN check")]}, "checks[0].name", "String should match"),
        ({"requestIntervalSeconds": 60}, "requestIntervalSeconds", "expected one of 10 or 30"),
        ({"failureThreshold": 11}, "failureThreshold", "at most 10"),
    ],
)
def test_bad_uptime_settings_are_refused(uptime: dict[str, Any], path: str, message: str) -> None:
    line = rejected_uptime(uptime)
    assert line.startswith(f"genericcorp:uptime.{path} = ")
    assert message in line


# --- dev's checks before its zone is delegated ------------------------------------------------

DELEGATION_NOTE = "fails until dev.genericcorp.com is delegated from its parent zone (docs/dns.md)"


def test_dev_says_its_cdn_check_fails_until_its_zone_is_delegated(dev_plan: Plan) -> None:
    [alarm] = health_alarms(dev_plan)
    assert alarm.inputs["alarmDescription"] == (
        f"https://cdn.dev.genericcorp.com/ is failing Route53 health checks. It {DELEGATION_NOTE}."
    )
    assert dev_plan.outputs["uptime"]["notes"] == {"cdn": DELEGATION_NOTE}


def test_prod_checks_carry_no_delegation_note(prod_plan: Plan) -> None:
    assert prod_plan.outputs["uptime"]["notes"] == {}
    assert not any("delegated" in a.inputs["alarmDescription"] for a in health_alarms(prod_plan))


def test_only_checks_inside_the_awaited_zone_get_the_note() -> None:
    parts = UptimeParts(
        stack_config("dev").uptime, zone_awaiting_delegation="other.genericcorp.com"
    )
    assert [parts.note(check) for check in parts.checks] == [None]
