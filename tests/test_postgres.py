"""PostgreSQL on RDS in both stacks: isolation, encryption, credentials, backups, monitoring."""

from __future__ import annotations

from functools import cache
from typing import Any

from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import LIFTED_BUDGET, plan_for, plan_with, policy, statements

INSTANCE = "aws:rds/instance:Instance"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
DATABASE = "genericcorp:database"

#: Dev with every database setting a test below changes, planned once for all of them.
DEV_VARIANT = {
    DATABASE: {
        "engineVersion": "16",
        "slowStatementMs": 250,
        "port": 5432,
        "alarms": {"cpuPercent": 65, "connections": 40},
        "multiAz": True,
        "deletionProtection": True,
        "finalSnapshot": True,
    }
}


@cache
def dev_variant() -> Plan:
    return plan_with("dev", {**DEV_VARIANT, **LIFTED_BUDGET})


def instance(plan: Plan) -> PlannedResource:
    return plan.one(INSTANCE)


def key(plan: Plan) -> PlannedResource:
    return plan.named("database-key", KEY)


def parameters(plan: Plan) -> dict[str, dict[str, Any]]:
    group = plan.one("aws:rds/parameterGroup:ParameterGroup")
    return {p["name"]: p for p in group.inputs["parameters"]}


# --- placement and access -------------------------------------------------------------------


def test_instance_sits_in_its_own_subnet_group_over_the_isolated_subnets(plan: Plan) -> None:
    group = plan.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["name"] == f"genericcorp-{plan.stack}-postgres"
    assert group.inputs["subnetIds"] == plan.outputs["network"]["databaseSubnetIds"]
    tiers = {plan.by_id(subnet).tags["Tier"] for subnet in group.inputs["subnetIds"]}
    assert tiers == {"database"}
    assert instance(plan).inputs["dbSubnetGroupName"] == group.outputs["id"]
    assert instance(plan).inputs["publiclyAccessible"] is False


def test_security_group_has_no_inline_rules_and_is_the_only_one(plan: Plan) -> None:
    group = plan.named("database-sg", "aws:ec2/securityGroup:SecurityGroup")
    assert instance(plan).inputs["vpcSecurityGroupIds"] == [group.id]
    assert group.inputs["vpcId"] == plan.outputs["network"]["vpcId"]
    assert not group.inputs.get("ingress")
    assert not group.inputs.get("egress")


def test_only_the_cluster_s_nodes_and_pods_may_connect_on_the_database_port(plan: Plan) -> None:
    database_sg = plan.outputs["database"]["securityGroupId"]
    rules = [r for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == database_sg]
    assert [
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in rules
    ] == [(plan.outputs["cluster"]["securityGroupId"], 5433, 5433)]
    assert not any(r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in rules)


# --- engine and parameters -------------------------------------------------------------------


def test_engine_is_a_pinned_major_version_with_minor_upgrades(plan: Plan) -> None:
    inputs = instance(plan).inputs
    assert inputs["engine"] == "postgres"
    assert inputs["engineVersion"] == "17"
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["allowMajorVersionUpgrade"] is False
    assert plan.outputs["database"]["engineVersion"] == "17.5"


def test_parameter_group_requires_tls_and_logs_what_operators_need(plan: Plan) -> None:
    group = plan.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "postgres17"
    assert instance(plan).inputs["parameterGroupName"] == group.outputs["id"]
    found = parameters(plan)
    assert found["rds.force_ssl"]["value"] == "1"
    assert found["log_min_duration_statement"]["value"] == "500"
    assert found["log_connections"]["value"] == "1"
    assert found["log_disconnections"]["value"] == "1"
    assert found["shared_preload_libraries"] == {
        "name": "shared_preload_libraries",
        "value": "pg_stat_statements",
        "applyMethod": "pending-reboot",
    }


def test_major_version_16_uses_its_own_parameter_family() -> None:
    plan = dev_variant()
    group = plan.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "postgres16"
    assert group.inputs["name"] == "genericcorp-dev-postgres-postgres16"
    assert instance(plan).inputs["engineVersion"] == "16"


def test_slow_statement_threshold_comes_from_config() -> None:
    plan = dev_variant()
    assert parameters(plan)["log_min_duration_statement"]["value"] == "250"


# --- storage and encryption ------------------------------------------------------------------


def test_gp3_storage_is_encrypted_with_the_components_own_key(plan: Plan) -> None:
    inputs = instance(plan).inputs
    assert inputs["storageType"] == "gp3"
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == key(plan).outputs["arn"]
    assert key(plan).inputs["enableKeyRotation"] is True
    assert inputs["allocatedStorage"] == 20
    assert inputs["maxAllocatedStorage"] == {"dev": 100, "prod": 200}[plan.stack]


def test_key_lets_cloudwatch_logs_encrypt_only_this_instances_log_groups(plan: Plan) -> None:
    [logs] = [
        s
        for s in statements(policy(key(plan), "policy"))
        if s["Principal"] != {"AWS": "arn:aws:iam::123456789012:root"}
    ]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:"
        f"/aws/rds/instance/genericcorp-{plan.stack}-postgres/*"
    )


# --- credentials -----------------------------------------------------------------------------


def test_master_password_is_managed_by_rds_under_the_key(plan: Plan) -> None:
    inputs = instance(plan).raw_inputs
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["masterUserSecretKmsKeyId"] == key(plan).outputs["arn"]
    assert "password" not in inputs
    assert "passwordWo" not in inputs
    secret_arn = instance(plan).outputs["masterUserSecrets"][0]["secretArn"]
    assert plan.outputs["database"]["masterSecretArn"] == secret_arn
    assert ":secretsmanager:" in secret_arn


def test_administrator_is_not_the_engine_default_and_iam_auth_is_on(plan: Plan) -> None:
    inputs = instance(plan).inputs
    assert inputs["username"] == "platform_admin"
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["dbName"] == "platform"


def test_database_listens_on_a_non_default_port(plan: Plan) -> None:
    assert instance(plan).inputs["port"] == 5433
    assert plan.outputs["database"]["port"] == 5433


def test_dev_may_use_the_default_port() -> None:
    plan = dev_variant()
    assert instance(plan).inputs["port"] == 5432


# --- backups, maintenance and monitoring -----------------------------------------------------


def test_backups_and_windows(plan: Plan) -> None:
    inputs = instance(plan).inputs
    assert inputs["backupRetentionPeriod"] == {"dev": 7, "prod": 14}[plan.stack]
    assert inputs["backupWindow"] == "03:00-03:30"
    assert inputs["maintenanceWindow"] == "sun:04:00-sun:04:30"
    assert inputs["copyTagsToSnapshot"] is True


def test_performance_insights_are_encrypted_with_the_key(plan: Plan) -> None:
    inputs = instance(plan).inputs
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsKmsKeyId"] == key(plan).outputs["arn"]
    assert inputs["performanceInsightsRetentionPeriod"] == 7


def test_enhanced_monitoring_uses_a_role_only_rds_monitoring_can_assume(plan: Plan) -> None:
    role = plan.named("database-monitoring-role")
    inputs = instance(plan).inputs
    assert inputs["monitoringInterval"] == 60
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attachment = plan.named("database-monitoring-policy")
    assert attachment.inputs["role"] == role.outputs["name"]
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert attachment.urn in instance(plan).dependencies


def test_logs_are_exported_to_owned_encrypted_log_groups(plan: Plan) -> None:
    database = instance(plan)
    assert database.inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    for export in ("postgresql", "upgrade"):
        group = plan.named(f"database-log-{export}", LOG_GROUP)
        assert group.inputs["name"] == (
            f"/aws/rds/instance/genericcorp-{plan.stack}-postgres/{export}"
        )
        assert group.inputs["kmsKeyId"] == key(plan).outputs["arn"]
        assert group.inputs["retentionInDays"] == {"dev": 30, "prod": 365}[plan.stack]
        # Declared before the instance, or RDS would create it without retention or key.
        assert group.urn in database.dependencies


def test_alarms_watch_cpu_storage_memory_and_connections(plan: Plan) -> None:
    topic_arn = plan.outputs["alerts"]["topicArn"]
    alarms = {
        a.inputs["metricName"]: a for a in plan.of_type(ALARM) if a.inputs["namespace"] == "AWS/RDS"
    }
    expected = {
        "dev": {
            "CPUUtilization": (80, "GreaterThanThreshold"),
            "FreeStorageSpace": (2 * 1024**3, "LessThanThreshold"),
            "FreeableMemory": (64 * 1024**2, "LessThanThreshold"),
            "DatabaseConnections": (60, "GreaterThanThreshold"),
        },
        "prod": {
            "CPUUtilization": (80, "GreaterThanThreshold"),
            "FreeStorageSpace": (2 * 1024**3, "LessThanThreshold"),
            "FreeableMemory": (128 * 1024**2, "LessThanThreshold"),
            "DatabaseConnections": (150, "GreaterThanThreshold"),
        },
    }[plan.stack]
    assert {
        m: (a.inputs["threshold"], a.inputs["comparisonOperator"]) for m, a in alarms.items()
    } == (expected)
    for alarm in alarms.values():
        assert alarm.inputs["dimensions"] == {
            "DBInstanceIdentifier": f"genericcorp-{plan.stack}-postgres"
        }
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]


def test_alarm_thresholds_come_from_config() -> None:
    plan = dev_variant()
    alarms = {
        a.inputs["metricName"]: a for a in plan.of_type(ALARM) if a.inputs["namespace"] == "AWS/RDS"
    }
    assert alarms["CPUUtilization"].inputs["threshold"] == 65
    assert alarms["DatabaseConnections"].inputs["threshold"] == 40


# --- what differs between dev and prod -------------------------------------------------------


def test_prod_is_multi_az_protected_and_keeps_a_final_snapshot(prod_plan: Plan) -> None:
    database = instance(prod_plan)
    assert database.inputs["instanceClass"] == "db.t4g.small"
    assert database.inputs["multiAz"] is True
    assert database.inputs["deletionProtection"] is True
    assert database.inputs["skipFinalSnapshot"] is False
    assert database.inputs["finalSnapshotIdentifier"] == "genericcorp-prod-postgres-final"
    assert database.inputs["deleteAutomatedBackups"] is False
    assert database.protect is True
    assert prod_plan.outputs["database"]["multiAz"] is True


def test_dev_is_single_az_cheap_and_disposable(dev_plan: Plan) -> None:
    database = instance(dev_plan)
    assert database.inputs["instanceClass"] == "db.t4g.micro"
    assert database.inputs["multiAz"] is False
    assert database.inputs["deletionProtection"] is False
    assert database.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in database.inputs
    assert database.inputs["deleteAutomatedBackups"] is True
    assert database.protect is False
    assert dev_plan.outputs["database"]["multiAz"] is False


def test_dev_can_ask_for_prod_safety() -> None:
    plan = dev_variant()
    inputs = instance(plan).inputs
    assert inputs["multiAz"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["finalSnapshotIdentifier"] == "genericcorp-dev-postgres-final"


# --- outputs ---------------------------------------------------------------------------------


def test_database_output_follows_the_shared_contract(plan: Plan) -> None:
    output = plan.outputs["database"]
    database = instance(plan)
    assert set(output) == {
        "identifier",
        "address",
        "port",
        "engine",
        "engineVersion",
        "masterSecretArn",
        "securityGroupId",
        "multiAz",
    }
    assert output["identifier"] == f"genericcorp-{plan.stack}-postgres"
    assert output["address"] == database.outputs["address"]
    assert output["address"].endswith(".us-east-1.rds.amazonaws.com")
    assert output["engine"] == "postgres"
    assert output["securityGroupId"] == plan.named("database-sg").id


def test_offline_plan_answers_like_rds(dev_plan: Plan) -> None:
    database = instance(dev_plan)
    assert database.outputs["arn"] == (
        "arn:aws:rds:us-east-1:123456789012:db:genericcorp-dev-postgres"
    )
    assert database.outputs["endpoint"] == f"{database.outputs['address']}:5433"
    assert (database.id or "").startswith("db-")
    secret = database.outputs["masterUserSecrets"][0]
    assert secret["kmsKeyId"] == key(dev_plan).outputs["arn"]
    assert secret["secretArn"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-"
    )


def test_a_preview_cannot_know_the_secret_arn_yet() -> None:
    output = plan_for("dev", preview=True).outputs["database"]
    assert output["masterSecretArn"] == "[unknown]"
    assert output["address"] == "[unknown]"
    # Chosen by the program, so known before anything exists.
    assert output["identifier"] == "genericcorp-dev-postgres"
