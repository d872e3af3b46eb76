"""Tenants' data in the plans: the Jobs carry the generated SQL, each tenant's IAM role reaches
its own database role and cache user only, and the configuration errors of the mapping, the
tier limits and the offboarding."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from genericcorp_policy.tenancy import grant_problems

from components.shared.tenant_identity import TenantIdentity
from components.tenant_data import (
    POD_IDENTITY_AGENT_CIDR,
    PROVISIONING_NAMESPACE,
    TenantDataParts,
    cache_access_string,
)
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan
from tests.conftest import minimal_values, plan_with, stack_config

JOB = "kubernetes:batch/v1:Job"
TENANTS = "genericcorp:tenants"
DATA = "genericcorp:tenantData"


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value") for item in container["env"]}


def test_each_job_runs_the_sql_the_parts_generate_and_is_named_by_its_hash(dev_plan: Plan) -> None:
    config = stack_config("dev")
    parts = TenantDataParts(
        config.tenant_data,
        [(t.name, t.tier) for t in config.tenants],
        stack="dev",
        database=config.database.database_name,
    )
    jobs = {job.inputs["metadata"]["name"]: job for job in dev_plan.of_type(JOB)}
    assert set(jobs) == {job.job_name for job in parts.jobs}
    for expected in parts.jobs:
        job = jobs[expected.job_name]
        assert job.inputs["metadata"]["namespace"] == PROVISIONING_NAMESPACE
        [psql] = job.inputs["spec"]["template"]["spec"]["containers"]
        assert env_of(psql)["TENANT_SQL"] == expected.sql
        assert env_of(psql)["PGUSER"] == config.database.master_username
        assert env_of(psql)["PGSSLMODE"] == "require"


def test_a_changed_tier_limit_gives_the_job_a_new_name() -> None:
    config = stack_config("dev")
    before = TenantDataParts(config.tenant_data, [("acme", config.tenants[0].tier)], "dev", "p")
    starter = config.tenant_data.tier_limits.starter.model_copy(
        update={"statement_timeout_seconds": 5}
    )
    limits = config.tenant_data.tier_limits.model_copy(update={"starter": starter})
    tighter = config.tenant_data.model_copy(update={"tier_limits": limits})
    after = TenantDataParts(tighter, [("acme", config.tenants[0].tier)], "dev", "p")
    assert before.jobs[0].job_name != after.jobs[0].job_name
    assert before.jobs[0].job_name.startswith("acme-")


def test_jobs_run_restricted_with_the_provisioner_identity(dev_plan: Plan) -> None:
    for job in dev_plan.of_type(JOB):
        pod = job.inputs["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "tenant-provisioner"
        assert job.inputs["spec"]["backoffLimit"] == 2
        for container in [*pod["initContainers"], *pod["containers"]]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
    namespace = dev_plan.named("tenant-data-namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    association = dev_plan.named("tenant-data-provisioner-identity")
    assert association.inputs["namespace"] == PROVISIONING_NAMESPACE
    policy = json.loads(dev_plan.named("tenant-data-provisioner-policy").inputs["policy"])
    actions = sorted(s["Action"] for s in policy["Statement"])
    assert actions == ["kms:Decrypt", "secretsmanager:GetSecretValue"]


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_each_tenant_role_reaches_its_own_database_role_and_cache_user_only(
    dev_plan: Plan, tenant: str
) -> None:
    association = dev_plan.named(f"tenant-data-{tenant}-identity")
    assert association.inputs["namespace"] == f"tenant-{tenant}"
    assert association.inputs["serviceAccount"] == "app"
    role = dev_plan.named(f"tenant-data-{tenant}-role")
    assert association.inputs["roleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == (
        f"tenant-{tenant}"
    )
    document = json.loads(dev_plan.named(f"tenant-data-{tenant}-policy").inputs["policy"])
    assert grant_problems(tenant, document) == []
    resources = json.dumps(document)
    assert f"/tenant_{tenant}" in resources
    assert f":user:dev-tenant-{tenant}" in resources
    other = "globex" if tenant == "acme" else "acme"
    assert other not in resources
    assert grant_problems(other, document) != []


def test_each_tenant_cache_user_is_confined_to_its_prefix_and_uses_iam(dev_plan: Plan) -> None:
    user = dev_plan.named("cache-tenant-acme-user")
    assert user.inputs["userId"] == user.inputs["userName"] == "dev-tenant-acme"
    assert user.inputs["accessString"] == cache_access_string("acme:")
    assert user.inputs["authenticationMode"] == {"type": "iam"}


def test_tenant_network_policy_reaches_the_credential_agent(dev_plan: Plan) -> None:
    deny = dev_plan.named("tenants-acme-default-deny").inputs["spec"]
    assert {"ipBlock": {"cidr": POD_IDENTITY_AGENT_CIDR}} in [
        peer for rule in deny["egress"] for peer in rule.get("to", [])
    ]


def test_the_output_names_each_tenant_data_identity(plan: Plan) -> None:
    output = plan.outputs["tenantData"]
    assert output["provisioningNamespace"] == PROVISIONING_NAMESPACE
    for name, tenant in output["tenants"].items():
        identity = TenantIdentity(name, plan.stack)
        assert tenant["schema"] == identity.schema
        assert tenant["cacheUser"] == identity.cache_user


# --- configuration errors ------------------------------------------------------------------------


def error_lines(environment: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(environment, minimal_values(environment, overrides))
    text = raised.value.render()
    assert text.startswith(f"Pulumi.{environment}.yaml: ")
    return [line.removeprefix("  - ") for line in text.splitlines()[1:]]


def test_a_name_too_long_for_the_cache_user_id_is_refused() -> None:
    name = "a" * 30
    [line] = error_lines("dev", {TENANTS: [{"name": name, "tier": "starter"}]})
    assert line.startswith(f'genericcorp:tenants[0].name = "{name}": ')
    assert "ElastiCache user ids hold at most 40" in line
    assert "cache user <stack>-tenant-<name>" in line


def test_a_name_with_a_double_hyphen_is_refused() -> None:
    [line] = error_lines("dev", {TENANTS: [{"name": "a--b", "tier": "starter"}]})
    assert line.startswith('genericcorp:tenants[0].name = "a--b": ')
    assert "not an ElastiCache user id" in line


def test_a_name_colliding_with_the_database_administrator_is_refused() -> None:
    overrides = {
        TENANTS: [{"name": "ops", "tier": "starter"}],
        "genericcorp:database": {"masterUsername": "tenant_ops"},
    }
    [line] = error_lines("dev", overrides)
    assert line.startswith('genericcorp:tenants[0].name = "ops": maps to schema/role tenant_ops')
    assert "already taken by database.masterUsername" in line


def test_a_retired_tenant_still_configured_is_refused() -> None:
    overrides = {
        TENANTS: [{"name": "acme", "tier": "starter"}],
        DATA: {"offboarding": [{"name": "acme"}]},
    }
    [line] = error_lines("dev", overrides)
    assert line.startswith('genericcorp:tenantData.offboarding[0].name = "acme": maps to')
    assert "already taken by tenants[0].name" in line


def test_a_tier_limit_out_of_range_is_refused() -> None:
    overrides = {DATA: {"tierLimits": {"starter": {"connectionLimit": 500}}}}
    with pytest.raises(ConfigError) as raised:
        parse_stack_config("dev", minimal_values("dev", overrides))
    assert (
        "genericcorp:tenantData.tierLimits.starter.connectionLimit = 500: must be at most 150"
        in raised.value.render()
    )


def test_prod_refuses_dropping_a_retired_tenant_without_approval() -> None:
    overrides = {DATA: {"offboarding": [{"name": "acme", "dropData": True}]}}
    [line] = error_lines("prod", overrides)
    assert line.startswith("genericcorp:tenantData.offboarding[0].dropData = true: ")
    assert "schema tenant_acme" in line
    assert "set approvedBy" in line
    assert "dropData: false to keep the schema and data" in line


def test_dev_may_drop_a_retired_tenant_and_prod_may_with_approval() -> None:
    drop = {"name": "acme", "dropData": True}
    parse_stack_config("dev", minimal_values("dev", {DATA: {"offboarding": [drop]}}))
    approved = {**drop, "approvedBy": "cto@genericcorp.com"}
    parse_stack_config("prod", minimal_values("prod", {DATA: {"offboarding": [approved]}}))


def test_a_retired_prod_tenant_keeps_its_data_and_the_plan_says_what_is_kept() -> None:
    parts = TenantDataParts(
        parse_stack_config(
            "prod", minimal_values("prod", {DATA: {"offboarding": [{"name": "acme"}]}})
        ).tenant_data,
        [],
        stack="prod",
        database="platform",
    )
    [job] = parts.jobs
    assert "DROP" not in job.sql
    assert "NOLOGIN" in job.sql
    report = parts.offboarding_report()["acme"]
    assert report["kept"] == [
        "schema tenant_acme with all its data",
        "database role tenant_acme (NOLOGIN, no IAM login)",
    ]
    assert "cache user prod-tenant-acme (its keys expire with their TTL)" in report["removed"]


@cache
def prod_with_a_retired_tenant() -> Plan:
    """Prod with one standard tenant and one retired tenant whose data is kept."""
    return plan_with(
        "prod",
        {
            TENANTS: [{"name": "initech", "tier": "standard"}],
            DATA: {"offboarding": [{"name": "acme"}]},
        },
    )


def test_prod_retires_a_tenant_keeping_its_schema_and_says_what_is_kept() -> None:
    plan = prod_with_a_retired_tenant()
    jobs = {
        job.inputs["metadata"]["labels"]["genericcorp.com/tenant"]: job for job in plan.of_type(JOB)
    }
    labels = {tenant: job.inputs["metadata"]["labels"] for tenant, job in jobs.items()}
    assert labels["initech"]["genericcorp.com/action"] == "provision"
    assert labels["acme"]["genericcorp.com/action"] == "retire"
    [retire_sql] = [
        env_of(c)["TENANT_SQL"]
        for c in jobs["acme"].inputs["spec"]["template"]["spec"]["containers"]
    ]
    assert "NOLOGIN" in retire_sql
    assert "DROP" not in retire_sql
    [provision] = jobs["initech"].inputs["spec"]["template"]["spec"]["containers"]
    assert "CONNECTION LIMIT 25" in env_of(provision)["TENANT_SQL"]  # the standard tier
    report = plan.outputs["tenantData"]["offboarding"]["acme"]
    assert report["kept"] == [
        "schema tenant_acme with all its data",
        "database role tenant_acme (NOLOGIN, no IAM login)",
    ]
    # The retired tenant's identity is gone: no role, association or cache user of its own.
    names = {resource.name for resource in plan.resources}
    assert "tenant-data-initech-identity" in names
    assert not {n for n in names if n.startswith("tenant-data-acme-")} - {"tenant-data-acme-retire"}
    assert plan.named("tenants-initech-ns").protect is True
