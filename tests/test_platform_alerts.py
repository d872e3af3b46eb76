"""Alertmanager routes to the stack's alerts topic with its service account's role; the
platform's alert rules; prod pages, dev only notifies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.platform_alerts import (
    ALERTMANAGER_SERVICE_ACCOUNT,
    METRIC_SOURCES,
    NOTIFY_RECEIVER,
    NULL_RECEIVER,
    PAGE_RECEIVER,
    PLATFORM_RULES,
    alertmanager_config,
    merged,
)
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import policy, statements

RELEASE = "kubernetes:helm.sh/v3:Release"


def values(plan: Plan) -> dict[str, Any]:
    (release,) = [r for r in plan.of_type(RELEASE) if r.inputs["name"] == "kube-prometheus-stack"]
    found: dict[str, Any] = release.inputs["values"]
    return found


def config(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = values(plan)["alertmanager"]["config"]
    return found


def role(plan: Plan) -> PlannedResource:
    return plan.named("platform-alertmanager-irsa", "aws:iam/role:Role")


# --- where alerts go ------------------------------------------------------------------------


def test_every_receiver_publishes_to_the_stacks_alerts_topic_with_no_static_key(
    plan: Plan,
) -> None:
    topic = plan.outputs["alerts"]["topicArn"]
    receivers = {r["name"]: r for r in config(plan)["receivers"]}
    sending = [r for r in receivers.values() if r["name"] != NULL_RECEIVER]
    assert sending
    for receiver in sending:
        (sns,) = receiver["sns_configs"]
        assert set(receiver) == {"name", "sns_configs"}
        assert sns["topic_arn"] == topic
        # Only a region: the credentials come from the service account's role (IRSA).
        assert sns["sigv4"] == {"region": plan.outputs["region"]}
        assert sns["send_resolved"] is True
        assert len(sns["subject"]) < 100  # SNS refuses a subject of 100 characters or more
    assert receivers[NULL_RECEIVER] == {"name": NULL_RECEIVER}


def test_every_route_names_a_declared_receiver(plan: Plan) -> None:
    routing = config(plan)
    declared = {r["name"] for r in routing["receivers"]}
    routes = [routing["route"], *routing["route"]["routes"]]
    assert {route["receiver"] for route in routes} == declared
    for route in routing["route"]["routes"]:
        for matcher in route["matchers"]:
            assert MATCHER.fullmatch(matcher), matcher


def test_alertmanager_runs_as_the_account_only_its_role_trusts(plan: Plan) -> None:
    account = values(plan)["alertmanager"]["serviceAccount"]
    irsa = role(plan)
    assert account == {
        "create": True,
        "name": ALERTMANAGER_SERVICE_ACCOUNT,
        "annotations": {"eks.amazonaws.com/role-arn": irsa.outputs["arn"]},
    }
    (trust,) = statements(policy(irsa, "assumeRolePolicy"))
    conditions = trust["Condition"]["StringEquals"]
    subject = next(v for k, v in conditions.items() if k.endswith(":sub"))
    assert subject == f"system:serviceaccount:monitoring:{ALERTMANAGER_SERVICE_ACCOUNT}"
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_the_role_may_only_publish_to_the_topic_and_use_its_key_through_sns(plan: Plan) -> None:
    topic = plan.outputs["alerts"]["topicArn"]
    (grant,) = [
        r
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name == "platform-alertmanager-irsa-policy"
    ]
    publish, key = statements(policy(grant, "policy"))
    assert (publish["Action"], publish["Resource"]) == ("sns:Publish", topic)
    assert key["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert key["Condition"]["StringEquals"] == {
        "kms:ViaService": f"sns.{plan.outputs['region']}.amazonaws.com",
        "kms:EncryptionContext:aws:sns:topicArn": topic,
    }
    # No managed policy: nothing beyond these two statements.
    attached = [
        r
        for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role(plan).outputs.get("name", role(plan).outputs["id"])
    ]
    assert attached == []


# --- prod pages, dev notifies ------------------------------------------------------------------

MATCHER = re.compile(r'^(\w+) (=|!=|=~|!~) "([^"]*)"$')


def receiver_for(routing: dict[str, Any], labels: dict[str, str]) -> str:
    """The receiver Alertmanager picks for an alert: the first child route whose matchers all
    match (none of ours continues), else the root's."""
    for route in routing["route"]["routes"]:
        if all(_matches(matcher, labels) for matcher in route["matchers"]):
            return str(route["receiver"])
    return str(routing["route"]["receiver"])


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    found = MATCHER.fullmatch(matcher)
    assert found, matcher
    name, operator, value = found.groups()
    actual = labels.get(name, "")
    return {
        "=": actual == value,
        "!=": actual != value,
        "=~": re.fullmatch(value, actual) is not None,
        "!~": re.fullmatch(value, actual) is None,
    }[operator]


def page_attribute(routing: dict[str, Any], receiver: str) -> str | None:
    found = next(r for r in routing["receivers"] if r["name"] == receiver)
    if "sns_configs" not in found:
        return None
    return str(found["sns_configs"][0]["attributes"]["page"])


@pytest.mark.parametrize("rule", PLATFORM_RULES, ids=lambda r: r.name)
def test_prod_pages_for_critical_alerts_and_notifies_the_rest(prod_plan: Plan, rule: Any) -> None:
    routing = config(prod_plan)
    labels = {"alertname": rule.name, "severity": rule.severity}
    receiver = receiver_for(routing, labels)
    expected = PAGE_RECEIVER if rule.severity == "critical" else NOTIFY_RECEIVER
    assert receiver == expected
    assert page_attribute(routing, receiver) == ("true" if rule.severity == "critical" else "false")


@pytest.mark.parametrize("severity", ["critical", "warning", "info", ""])
def test_dev_never_pages(dev_plan: Plan, severity: str) -> None:
    routing = config(dev_plan)
    assert receiver_for(routing, {"alertname": "X", "severity": severity}) == NOTIFY_RECEIVER
    assert all(page_attribute(routing, r["name"]) != "true" for r in routing["receivers"])


def test_the_watchdog_goes_nowhere_in_both(plan: Plan) -> None:
    routing = config(plan)
    assert receiver_for(routing, {"alertname": "Watchdog", "severity": "none"}) == NULL_RECEIVER


def test_the_paging_route_exists_only_where_asked() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:genericcorp-prod-alerts"
    paging = alertmanager_config(topic, "us-east-1", pages=True)
    quiet = alertmanager_config(topic, "us-east-1", pages=False)
    assert PAGE_RECEIVER in {r["name"] for r in paging["receivers"]}
    assert PAGE_RECEIVER not in {r["name"] for r in quiet["receivers"]}


# --- the rules ---------------------------------------------------------------------------------

#: What on-call needs, each covered by a rule of the platform.
CONCERNS = {
    "node not ready": "PlatformNodeNotReady",
    "pod crash looping": "PlatformPodCrashLooping",
    "persistent volume filling": "PlatformPersistentVolumeFilling",
    "tenant near its quota": "PlatformTenantNearQuota",
    "Prometheus target down": "PlatformTargetDown",
}
PROMQL_WORDS = {
    "by",
    "without",
    "ignoring",
    "on",
    "and",
    "or",
    "unless",
    "max",
    "min",
    "sum",
    "count",
    "avg",
    "rate",
    "increase",
}


def rules(plan: Plan) -> list[dict[str, Any]]:
    rule_map = values(plan)["additionalPrometheusRulesMap"]
    return [rule for entry in rule_map.values() for g in entry["groups"] for rule in g["rules"]]


def test_both_stacks_carry_every_platform_rule(plan: Plan) -> None:
    names = {rule["alert"] for rule in rules(plan)}
    assert set(CONCERNS.values()) <= names
    assert names == {rule.name for rule in PLATFORM_RULES}


def test_every_rule_is_well_formed(plan: Plan) -> None:
    for rule in rules(plan):
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert set(rule["annotations"]) == {"summary", "description"}
        expr = rule["expr"]
        assert expr.count("(") == expr.count(")")
        assert expr.count("{") == expr.count("}")


def metrics_of(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers outside label matchers, grouping
    clauses and string literals, less PromQL's own words."""
    bare = re.sub(r'"[^"]*"', "", expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\b(by|without|ignoring|on)\s*\([^)]*\)", "", bare)
    return {w for w in re.findall(r"[a-zA-Z_:][\w:]*", bare) if w not in PROMQL_WORDS}


def test_every_metric_a_rule_reads_has_a_known_exporter() -> None:
    used = {metric for rule in PLATFORM_RULES for metric in metrics_of(rule.expr)}
    assert used == set(METRIC_SOURCES)


def test_the_tenant_rule_watches_tenant_namespaces_only() -> None:
    (rule,) = [r for r in PLATFORM_RULES if r.name == "PlatformTenantNearQuota"]
    assert rule.expr.count('namespace=~"tenant-.*"') == 2
    assert 'type="used"' in rule.expr
    assert 'type="hard"} > 0)' in rule.expr  # no division by a zero quota


def test_merging_keeps_the_environments_values_beside_the_routing() -> None:
    base = {"alertmanager": {"alertmanagerSpec": {"replicas": 2}}, "grafana": {"x": 1}}
    extra = {"alertmanager": {"config": {"route": {}}}, "additionalPrometheusRulesMap": {}}
    assert merged(base, extra) == {
        "alertmanager": {"alertmanagerSpec": {"replicas": 2}, "config": {"route": {}}},
        "grafana": {"x": 1},
        "additionalPrometheusRulesMap": {},
    }
