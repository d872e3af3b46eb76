"""The ElastiCache replication group in both stacks: isolation, encryption, RBAC, availability."""

from __future__ import annotations

from functools import cache
from typing import Any

from components.redis import (
    SUPPORTED_VERSIONS,
    CacheEngine,
    RedisCache,
    RedisParts,
    supports_iam_auth,
)
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import LIFTED_BUDGET, plan_with, policy, stack_config, statements

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SECRET = "aws:secretsmanager/secret:Secret"
PASSWORD = "random:index/randomPassword:RandomPassword"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CACHE = "genericcorp:cache"


@cache
def dev_variant() -> Plan:
    """Dev on Valkey with a replica and other thresholds, planned once for the tests below."""
    overrides = {
        "engine": "valkey",
        "engineVersion": "8.0",
        "nodeCount": 2,
        "alarms": {"memoryPercent": 70, "evictions": 25},
    }
    return plan_with("dev", {CACHE: overrides, **LIFTED_BUDGET})


def group(plan: Plan) -> PlannedResource:
    return plan.one(GROUP)


def key(plan: Plan) -> PlannedResource:
    return plan.named("cache-key", KEY)


def cache_alarms(plan: Plan) -> list[PlannedResource]:
    return [a for a in plan.of_type(ALARM) if a.inputs["namespace"] == "AWS/ElastiCache"]


def parameters(plan: Plan) -> dict[str, Any]:
    found = plan.one("aws:elasticache/parameterGroup:ParameterGroup")
    return {p["name"]: p["value"] for p in found.inputs["parameters"]}


# --- placement and access -------------------------------------------------------------------


def test_group_uses_its_own_subnet_group_over_the_isolated_subnets(plan: Plan) -> None:
    subnets = plan.one("aws:elasticache/subnetGroup:SubnetGroup")
    assert subnets.inputs["name"] == f"genericcorp-{plan.stack}-redis"
    assert subnets.inputs["subnetIds"] == plan.outputs["network"]["databaseSubnetIds"]
    assert {plan.by_id(s).tags["Tier"] for s in subnets.inputs["subnetIds"]} == {"database"}
    assert group(plan).inputs["subnetGroupName"] == subnets.outputs["id"]
    assert group(plan).inputs["subnetGroupName"] != "default"


def test_security_group_admits_only_the_cluster_on_the_cache_port(plan: Plan) -> None:
    sg = plan.named("cache-sg", "aws:ec2/securityGroup:SecurityGroup")
    assert group(plan).inputs["securityGroupIds"] == [sg.id]
    assert not sg.inputs.get("ingress")
    assert not sg.inputs.get("egress")
    rules = [r for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.id]
    assert [
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in rules
    ] == [(plan.outputs["cluster"]["securityGroupId"], 6379, 6379)]


# --- engine ----------------------------------------------------------------------------------


def test_redis_oss_7_1_with_its_parameter_group(plan: Plan) -> None:
    inputs = group(plan).inputs
    assert inputs["engine"] == "redis"
    assert inputs["engineVersion"] == "7.1"
    assert inputs["autoMinorVersionUpgrade"] is True
    parameter_group = plan.one("aws:elasticache/parameterGroup:ParameterGroup")
    assert parameter_group.inputs["family"] == "redis7"
    assert inputs["parameterGroupName"] == parameter_group.outputs["id"]
    assert parameters(plan) == {
        "maxmemory-policy": "volatile-lru",
        "slowlog-log-slower-than": "10000",
    }
    assert inputs["port"] == 6379


def test_valkey_is_the_cheaper_compatible_choice() -> None:
    plan = dev_variant()
    inputs = group(plan).inputs
    assert inputs["engine"] == "valkey"
    assert inputs["engineVersion"] == "8.0"
    parameter_group = plan.one("aws:elasticache/parameterGroup:ParameterGroup")
    assert parameter_group.inputs["family"] == "valkey8"
    assert parameter_group.inputs["name"] == "genericcorp-dev-redis-valkey8"
    assert plan.outputs["cache"]["engine"] == "valkey"


# --- encryption and AUTH ---------------------------------------------------------------------


def test_data_is_encrypted_at_rest_with_the_components_key_and_in_transit(plan: Plan) -> None:
    inputs = group(plan).inputs
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["kmsKeyId"] == key(plan).outputs["arn"]
    assert key(plan).inputs["enableKeyRotation"] is True
    assert inputs["transitEncryptionEnabled"] is True
    assert inputs["transitEncryptionMode"] == "required"


USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"


def test_clients_log_in_as_their_own_users_never_with_a_shared_token(plan: Plan) -> None:
    cache = group(plan)
    users = plan.one(USER_GROUP)
    assert "authToken" not in cache.inputs
    assert cache.inputs["userGroupIds"] == [users.inputs["userGroupId"]]
    assert users.inputs["userGroupId"] == f"genericcorp-{plan.stack}-redis"
    assert users.inputs["engine"] == "redis"
    assert plan.of_type(SECRET) == []
    assert [p.name for p in plan.of_type(PASSWORD)] == ["platform-grafana-admin-password"]
    assert plan.outputs["cache"]["userGroupId"] == users.inputs["userGroupId"]


def test_the_default_user_is_off_and_the_administrator_uses_iam(plan: Plan) -> None:
    default = plan.named("cache-default-user", USER)
    admin = plan.named("cache-admin-user", USER)
    members = plan.one(USER_GROUP).inputs["userIds"]
    assert default.inputs["userName"] == "default"
    assert default.inputs["accessString"].split()[0] == "off"
    assert "-@all" in default.inputs["accessString"].split()
    assert admin.inputs["userId"] == admin.inputs["userName"] == f"{plan.stack}-cache-admin"
    assert admin.inputs["authenticationMode"] == {"type": "iam"}
    assert "passwords" not in str(admin.inputs)
    # The default user and the administrator first, then the tenants' users (if any).
    assert members[:2] == [default.inputs["userId"], admin.inputs["userId"]]
    assert plan.outputs["cache"]["adminUser"] == f"{plan.stack}-cache-admin"


def test_every_supported_version_authenticates_users_through_iam() -> None:
    for engine, versions in SUPPORTED_VERSIONS.items():
        for version in versions:
            assert supports_iam_auth(engine, version), (engine, version)
    assert not supports_iam_auth(CacheEngine.REDIS, "6.2")
    assert not supports_iam_auth(CacheEngine.VALKEY, "7.1")


def test_every_tenant_user_is_in_the_group_the_group_lists_itself(dev_plan: Plan) -> None:
    tenants = [u for u in dev_plan.of_type(USER) if "-tenant-" in u.inputs["userId"]]
    assert sorted(u.inputs["userId"] for u in tenants) == ["dev-tenant-acme", "dev-tenant-globex"]
    # One list, owned by the group: ElastiCache takes one change to a user group at a time, so
    # a deploy that onboards many tenants changes it once (no membership resource per tenant).
    group = dev_plan.one(USER_GROUP)
    assert group.inputs["userIds"] == [
        "dev-cache-default",
        "dev-cache-admin",
        "dev-tenant-acme",
        "dev-tenant-globex",
    ]
    assert not dev_plan.of_type("aws:elasticache/userGroupAssociation:UserGroupAssociation")
    assert "ignoreChanges" not in group.options
    assert {u.urn for u in tenants} <= set(group.dependencies)


# --- snapshots, maintenance and logs ---------------------------------------------------------


def test_snapshots_and_windows(plan: Plan) -> None:
    inputs = group(plan).inputs
    assert inputs["snapshotRetentionLimit"] == {"dev": 1, "prod": 7}[plan.stack]
    assert inputs["snapshotWindow"] == "05:00-06:00"
    assert inputs["maintenanceWindow"] == "sun:06:00-sun:07:00"


def test_slow_log_goes_to_an_owned_encrypted_log_group(plan: Plan) -> None:
    log_group = plan.named("cache-slow-log", "aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["name"] == f"/genericcorp/{plan.stack}/redis/slow-log"
    assert log_group.inputs["kmsKeyId"] == key(plan).outputs["arn"]
    assert log_group.inputs["retentionInDays"] == {"dev": 30, "prod": 90}[plan.stack]
    assert group(plan).inputs["logDeliveryConfigurations"] == [
        {
            "destination": log_group.outputs["id"],
            "destinationType": "cloudwatch-logs",
            "logFormat": "json",
            "logType": "slow-log",
        }
    ]
    [logs] = [s for s in statements(policy(key(plan), "policy")) if "Service" in s["Principal"]]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:us-east-1:123456789012:log-group:/genericcorp/{plan.stack}/redis/slow-log"
    )


# --- availability: what differs between dev and prod -----------------------------------------


def test_prod_has_two_nodes_across_azs_with_automatic_failover(prod_plan: Plan) -> None:
    cache = group(prod_plan)
    assert cache.inputs["nodeType"] == "cache.t4g.small"
    assert cache.inputs["numCacheClusters"] == 2
    assert cache.inputs["automaticFailoverEnabled"] is True
    assert cache.inputs["multiAzEnabled"] is True
    assert cache.inputs["finalSnapshotIdentifier"] == "genericcorp-prod-redis-final"
    assert cache.protect is True


def test_dev_has_one_small_unprotected_node(dev_plan: Plan) -> None:
    cache = group(dev_plan)
    assert cache.inputs["nodeType"] == "cache.t4g.micro"
    assert cache.inputs["numCacheClusters"] == 1
    assert cache.inputs["automaticFailoverEnabled"] is False
    assert cache.inputs["multiAzEnabled"] is False
    assert "finalSnapshotIdentifier" not in cache.inputs
    assert cache.protect is False


def test_a_replica_in_dev_brings_failover_with_it() -> None:
    cache = group(dev_variant())
    assert cache.inputs["automaticFailoverEnabled"] is True
    assert cache.inputs["multiAzEnabled"] is True


# --- alarms ----------------------------------------------------------------------------------


def test_every_node_alarms_on_cpu_memory_evictions_and_connections(plan: Plan) -> None:
    topic_arn = plan.outputs["alerts"]["topicArn"]
    nodes = group(plan).outputs["memberClusters"]
    assert len(nodes) == {"dev": 1, "prod": 2}[plan.stack]
    found = {
        (a.inputs["dimensions"]["CacheClusterId"], a.inputs["metricName"])
        for a in cache_alarms(plan)
    }
    metrics = {
        "CPUUtilization",
        "EngineCPUUtilization",
        "DatabaseMemoryUsagePercentage",
        "Evictions",
        "CurrConnections",
    }
    assert found == {(node, metric) for node in nodes for metric in metrics}
    for alarm in cache_alarms(plan):
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"


def test_alarm_thresholds_come_from_config() -> None:
    plan = dev_variant()
    by_metric = {a.inputs["metricName"]: a.inputs for a in cache_alarms(plan)}
    assert by_metric["DatabaseMemoryUsagePercentage"]["threshold"] == 70
    assert by_metric["Evictions"]["threshold"] == 25
    assert by_metric["Evictions"]["statistic"] == "Sum"
    assert by_metric["CPUUtilization"]["threshold"] == 80


def test_the_parts_count_the_nodes_and_alarms_the_plan_declares(plan: Plan) -> None:
    parts = RedisParts(stack_config(plan.stack).cache)
    assert group(plan).inputs["numCacheClusters"] == len(parts.members)
    assert len(cache_alarms(plan)) == len(parts.members) * len(parts.node_alarms)
    for alarm in cache_alarms(plan):
        node = alarm.inputs["dimensions"]["CacheClusterId"]
        assert alarm.inputs["alarmDescription"].startswith(f"Cache node {node} ")


# --- outputs ---------------------------------------------------------------------------------


def test_cache_output_follows_the_shared_contract(plan: Plan) -> None:
    output = plan.outputs["cache"]
    cache = group(plan)
    assert set(output) == {
        "replicationGroupId",
        "primaryEndpoint",
        "readerEndpoint",
        "port",
        "engine",
        "userGroupId",
        "adminUser",
        "securityGroupId",
    }
    assert output["replicationGroupId"] == f"genericcorp-{plan.stack}-redis"
    assert output["primaryEndpoint"] == cache.outputs["primaryEndpointAddress"]
    assert output["readerEndpoint"] == cache.outputs["readerEndpointAddress"]
    assert output["port"] == 6379
    assert output["engine"] == "redis"
    assert output["securityGroupId"] == plan.named("cache-sg").id
    assert set(output) == set(RedisCache.OUTPUTS)


def test_offline_plan_answers_like_elasticache(prod_plan: Plan) -> None:
    cache = group(prod_plan)
    assert cache.outputs["arn"] == (
        "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:genericcorp-prod-redis"
    )
    assert cache.outputs["primaryEndpointAddress"].startswith("master.genericcorp-prod-redis.")
    assert cache.outputs["primaryEndpointAddress"].endswith(".use1.cache.amazonaws.com")
    assert cache.outputs["memberClusters"] == [
        "genericcorp-prod-redis-001",
        "genericcorp-prod-redis-002",
    ]
