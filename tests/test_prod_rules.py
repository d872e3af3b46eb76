"""Prod rules of the stack configuration: their key paths come from the model, and where a rule of
the policy pack checks the same setting in the declared resources, both draw the line at the same
threshold (one constant in ``genericcorp_policy.thresholds``)."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from genericcorp_policy import RULES
from genericcorp_policy.thresholds import (
    POSTGRES_DEFAULT_PORT,
    PROD_AUDIT_LOG_RETENTION_DAYS,
    PROD_CACHE_MIN_NODES,
    PROD_CACHE_SNAPSHOT_RETENTION_DAYS,
    PROD_CAPACITY_TYPE,
    PROD_DATABASE_BACKUP_RETENTION_DAYS,
    PROD_KMS_DELETION_WINDOW_DAYS,
)
from pulumi_policy import ResourceValidationPolicy
from pydantic import ValidationError

from components.base import ByEnvironment, Environment, ProdRule, key_path, unvalidated
from components.eks_cluster import ClusterSettings
from components.network import NetworkSettings
from components.postgres import PostgresAlarmSettings
from components.shared.logs import LogRetentionDays
from infra.config import ConfigError, parse_stack_config
from infra.config.guardrails import prod_rules
from infractl.offline.plan import Plan
from infractl.policy.runner import run_policies
from tests.conftest import ADMIN_ENTRY, minimal_values
from tests.test_policy_rules import (
    CACHE,
    CF,
    GOOD_CACHE,
    GOOD_CF,
    GOOD_KEY,
    GOOD_LOG_GROUP,
    GOOD_RDS,
    KEY,
    LOG_GROUP,
    POLICIES,
    RDS,
    VPC,
    ZONE,
    ZONE_SIGNING,
    but,
    flow_log_to,
    stack_violations,
    tagged,
    violations,
)

Resources = list[tuple[str, str, dict[str, Any]]]

#: The longest log retention CloudWatch Logs offers below the audit-log threshold.
JUST_BELOW_AUDIT_RETENTION = max(
    days for days in typing.get_args(LogRetentionDays) if days < PROD_AUDIT_LOG_RETENTION_DAYS
)


@dataclass(frozen=True)
class SharedThreshold:
    """A prod rule and the policy rule it names, tried on either side of their threshold."""

    refused: Any
    """A stack-file value just outside what prod allows."""
    accepted: Any
    """The threshold itself (or the one value allowed)."""
    config: Callable[[Any], dict[str, Any]]
    """Stack-file keys that set the value."""
    resources: Callable[[Any], Resources]
    """What the program declares for the value, as the policy rule sees it (prod-tagged)."""


def key(name: str, **values: Any) -> dict[str, Any]:
    return {f"genericcorp:{name}": values}


def one(type_token: str, props: dict[str, Any]) -> Resources:
    return [(type_token, "subject", tagged("prod", props))]


def database(**props: Any) -> Resources:
    return one(RDS, but(GOOD_RDS, **props))


def cache(**props: Any) -> Resources:
    return one(CACHE, but(GOOD_CACHE, **props))


def node_group(capacity_type: str) -> dict[str, Any]:
    return {
        "name": "general",
        "instanceTypes": ["m7g.large"],
        "capacityType": capacity_type,
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 6,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [],
    }


def query_log_to(retention_days: int) -> Resources:
    arn = "arn:aws:logs:us-east-1:1:log-group:/aws/route53/genericcorp.com"
    return [
        (
            "aws:route53/queryLog:QueryLog",
            "query-log",
            {"zoneId": "Z1", "cloudwatchLogGroupArn": arn},
        ),
        (
            LOG_GROUP,
            "query-logs",
            tagged(
                "prod",
                but(
                    GOOD_LOG_GROUP,
                    name="/aws/route53/genericcorp.com",
                    retentionInDays=retention_days,
                ),
            ),
        ),
    ]


def control_plane_logs(retention_days: int) -> Resources:
    cluster = {"name": "genericcorp-prod-eks", "enabledClusterLogTypes": ["api", "audit"]}
    name = "/aws/eks/genericcorp-prod-eks/cluster"
    return [
        ("aws:eks/cluster:Cluster", "eks", tagged("prod", cluster)),
        (
            LOG_GROUP,
            "eks-logs",
            tagged("prod", but(GOOD_LOG_GROUP, name=name, retentionInDays=retention_days)),
        ),
    ]


FLOW_LOG = ("aws:ec2/flowLog:FlowLog", "fl", {"vpcId": "vpc-1"})
QUERY_LOG = ("aws:route53/queryLog:QueryLog", "ql", {"zoneId": "Z1"})
SIGNING = (ZONE_SIGNING, "signing", {"hostedZoneId": "Z1", "signingStatus": "SIGNING"})

#: Every prod rule that names a policy rule, by the key path it guards.
SHARED: dict[str, SharedThreshold] = {
    "genericcorp:kms.deletionWindowDays": SharedThreshold(
        PROD_KMS_DELETION_WINDOW_DAYS - 1,
        PROD_KMS_DELETION_WINDOW_DAYS,
        lambda days: key("kms", deletionWindowDays=days),
        lambda days: one(KEY, but(GOOD_KEY, deletionWindowInDays=days)),
    ),
    "genericcorp:network.flowLogs.enabled": SharedThreshold(
        False,
        True,
        lambda enabled: key("network", flowLogs={"enabled": enabled}),
        lambda enabled: [VPC, FLOW_LOG] if enabled else [VPC],
    ),
    "genericcorp:network.flowLogs.retentionDays": SharedThreshold(
        JUST_BELOW_AUDIT_RETENTION,
        PROD_AUDIT_LOG_RETENTION_DAYS,
        lambda days: key("network", flowLogs={"retentionDays": days}),
        lambda days: flow_log_to("/genericcorp/prod/vpc/flow-logs", days),
    ),
    "genericcorp:dns.queryLogging.enabled": SharedThreshold(
        False,
        True,
        lambda enabled: key("dns", queryLogging={"enabled": enabled}),
        lambda enabled: [ZONE, QUERY_LOG] if enabled else [ZONE],
    ),
    "genericcorp:dns.queryLogging.retentionDays": SharedThreshold(
        JUST_BELOW_AUDIT_RETENTION,
        PROD_AUDIT_LOG_RETENTION_DAYS,
        lambda days: key("dns", queryLogging={"retentionDays": days}),
        query_log_to,
    ),
    "genericcorp:dns.dnssec": SharedThreshold(
        False,
        True,
        lambda signed: key("dns", dnssec=signed),
        lambda signed: [ZONE, SIGNING] if signed else [ZONE],
    ),
    "genericcorp:cdn.waf.enabled": SharedThreshold(
        False,
        True,
        lambda enabled: key("cdn", waf={"enabled": enabled}),
        lambda enabled: one(CF, GOOD_CF if enabled else but(GOOD_CF, webAclId=...)),
    ),
    "genericcorp:database.multiAz": SharedThreshold(
        False,
        True,
        lambda multi_az: key("database", multiAz=multi_az),
        lambda multi_az: database(multiAz=multi_az),
    ),
    "genericcorp:database.backupRetentionDays": SharedThreshold(
        PROD_DATABASE_BACKUP_RETENTION_DAYS - 1,
        PROD_DATABASE_BACKUP_RETENTION_DAYS,
        lambda days: key("database", backupRetentionDays=days),
        lambda days: database(backupRetentionPeriod=days),
    ),
    "genericcorp:database.deletionProtection": SharedThreshold(
        False,
        True,
        lambda protected: key("database", deletionProtection=protected),
        lambda protected: database(deletionProtection=protected),
    ),
    "genericcorp:database.finalSnapshot": SharedThreshold(
        False,
        True,
        lambda final: key("database", finalSnapshot=final),
        lambda final: database(
            skipFinalSnapshot=not final,
            finalSnapshotIdentifier="genericcorp-prod-postgres-final" if final else ...,
        ),
    ),
    "genericcorp:database.port": SharedThreshold(
        POSTGRES_DEFAULT_PORT,
        POSTGRES_DEFAULT_PORT + 1,
        lambda port: key("database", port=port),
        lambda port: database(port=port),
    ),
    "genericcorp:cache.nodeCount": SharedThreshold(
        PROD_CACHE_MIN_NODES - 1,
        PROD_CACHE_MIN_NODES,
        lambda nodes: key("cache", nodeCount=nodes),
        lambda nodes: cache(
            numCacheClusters=nodes,
            automaticFailoverEnabled=nodes >= 2,
            multiAzEnabled=nodes >= 2,
        ),
    ),
    "genericcorp:cache.snapshotRetentionDays": SharedThreshold(
        PROD_CACHE_SNAPSHOT_RETENTION_DAYS - 1,
        PROD_CACHE_SNAPSHOT_RETENTION_DAYS,
        lambda days: key("cache", snapshotRetentionDays=days),
        lambda days: cache(snapshotRetentionLimit=days),
    ),
    "genericcorp:cache.finalSnapshot": SharedThreshold(
        False,
        True,
        lambda final: key("cache", finalSnapshot=final),
        lambda final: cache() if final else cache(finalSnapshotIdentifier=...),
    ),
    "genericcorp:cluster.nodeGroups[].capacityType": SharedThreshold(
        "SPOT",
        PROD_CAPACITY_TYPE,
        lambda capacity: key(
            "cluster", accessEntries=[ADMIN_ENTRY], nodeGroups=[node_group(capacity)]
        ),
        lambda capacity: one("aws:eks/nodeGroup:NodeGroup", {"capacityType": capacity}),
    ),
    "genericcorp:cluster.logRetentionDays": SharedThreshold(
        JUST_BELOW_AUDIT_RETENTION,
        PROD_AUDIT_LOG_RETENTION_DAYS,
        lambda days: key("cluster", accessEntries=[ADMIN_ENTRY], logRetentionDays=days),
        control_plane_logs,
    ),
}

NAMING_A_POLICY = {path: rule for path, rule in prod_rules() if rule.policy is not None}


def policy_violations(policy: str, resources: Resources) -> list[str]:
    """The messages ``policy`` reports for ``resources`` (a resource rule checks each)."""
    if isinstance(POLICIES[policy], ResourceValidationPolicy):
        return [
            m for type_token, _, props in resources for m in violations(policy, type_token, props)
        ]
    return [message for message, _ in stack_violations(policy, resources)]


def test_every_named_policy_rule_exists_in_the_pack() -> None:
    names = {rule.name for rule in RULES}
    assert {
        path: rule.policy for path, rule in NAMING_A_POLICY.items() if rule.policy not in names
    } == {}


def test_every_prod_rule_naming_a_policy_has_a_threshold_case() -> None:
    assert set(SHARED) == set(NAMING_A_POLICY)


@pytest.mark.parametrize("path", sorted(SHARED))
def test_prod_rule_and_policy_rule_draw_the_same_line(path: str) -> None:
    case, rule = SHARED[path], NAMING_A_POLICY[path]
    assert rule.policy is not None

    with pytest.raises(ConfigError) as caught:
        parse_stack_config("prod", minimal_values("prod", case.config(case.refused)))
    assert [problem.path for problem in caught.value.problems] == [path]
    parse_stack_config("prod", minimal_values("prod", case.config(case.accepted)))

    assert policy_violations(rule.policy, case.resources(case.refused)), rule.policy
    assert policy_violations(rule.policy, case.resources(case.accepted)) == []


def test_the_named_policy_rules_pass_the_prod_stack(prod_plan: Plan) -> None:
    outcomes = {outcome.name: outcome for outcome in run_policies(prod_plan).outcomes}
    for rule in NAMING_A_POLICY.values():
        assert rule.policy is not None
        outcome = outcomes[rule.policy]
        assert (outcome.status, outcome.checked > 0) == ("pass", True), rule.policy


def test_the_audit_log_rule_finds_each_audit_log_group_of_the_prod_stack(prod_plan: Plan) -> None:
    # The prod stack with every log group kept 30 days: only the audit logs must be refused.
    resources = [
        (
            r.type,
            r.name,
            {**r.inputs, **r.outputs} | ({"retentionInDays": 30} if r.type == LOG_GROUP else {}),
        )
        for r in prod_plan.resources
    ]
    refused = {urn for _, urn in stack_violations("cloudwatch-audit-log-retention", resources)}
    assert {urn.rsplit("::", 1)[-1] for urn in refused if urn} == {
        "network-flow-logs",
        "dns-query-logs",
        "eks-control-plane-logs",
    }


# --- the machinery: key paths from the model, defaults per environment ----------------------


def test_key_paths_use_the_stack_file_names_of_nested_and_listed_settings() -> None:
    assert key_path(NetworkSettings, lambda s: s.flow_logs.retention_days) == (
        "flowLogs.retentionDays"
    )
    assert key_path(ClusterSettings, lambda s: [g.min_size for g in s.node_groups]) == (
        "nodeGroups[].minSize"
    )
    assert key_path(ClusterSettings, lambda s: s.node_groups) == "nodeGroups"


def test_a_rule_naming_no_field_fails_where_it_is_declared() -> None:
    with pytest.raises(AttributeError, match="NetworkSettings has no field 'flow_log'"):
        ProdRule(
            NetworkSettings,
            key=lambda s: s.flow_log,  # pyright: ignore[reportAttributeAccessIssue]
            accepts=bool,
            allowed="-",
            reason="-",
        )


def test_a_rule_reads_one_setting() -> None:
    with pytest.raises(ValueError, match="must read one setting of NetworkSettings: azCount, cidr"):
        key_path(NetworkSettings, lambda s: (s.az_count, s.cidr))


def test_by_environment_picks_the_stack_environment() -> None:
    values = ByEnvironment(dev=1, prod=2)
    assert [values.of(environment) for environment in Environment] == [1, 2]
    assert ByEnvironment.same("x") == ByEnvironment(dev="x", prod="x")


def test_unvalidated_defaults_skip_only_the_checks_of_the_model_they_build() -> None:
    with pytest.raises(ValidationError):
        PostgresAlarmSettings(cpu_percent=0, free_storage_gb=1, freeable_memory_mb=1, connections=1)
    alarms = unvalidated(PostgresAlarmSettings)(
        cpu_percent=0, free_storage_gb=1, freeable_memory_mb=1, connections=1
    )
    assert alarms.cpu_percent == 0


def test_the_cluster_defaults_leave_its_administrators_to_the_stack_file() -> None:
    values = minimal_values("dev")
    del values["genericcorp:cluster"]
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", values)
    assert "accessEntries needs a cluster-admin entry" in caught.value.render()
