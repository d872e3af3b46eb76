"""Tenants: each an isolated namespace sized by its tier, its serving pods evicted one at a time,
in dev (from the stack file) and in prod (from config); the tier table a cost model reads; and
every bad tenant list refused."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.tenants import (
    LOAD_BALANCER_TARGET_LABEL,
    MAX_TENANT_NAME,
    POD_SPREAD,
    POD_SPREAD_ANNOTATION,
    TIERS,
    Tenant,
    Tier,
    TierSpec,
)
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import ADMIN_ENTRY, minimal_values, plan_for, plan_with

TENANTS_KEY = "genericcorp:tenants"
PROD_TENANTS = [
    {"name": "initech", "tier": "enterprise"},
    {"name": "hooli", "tier": "standard"},
    {"name": "piedpiper", "tier": "starter"},
]
EXPECTED = {
    "dev": {"acme": "starter", "globex": "standard"},
    "prod": {t["name"]: t["tier"] for t in PROD_TENANTS},
}


#: Prod's node group on a type whose nodes can run an enterprise container (4 vCPUs): on the
#: committed m7g.large the plan refuses an enterprise tenant (tests/test_tenant_capacity.py).
ENTERPRISE_READY_CLUSTER = {
    "genericcorp:cluster": {
        "accessEntries": [ADMIN_ENTRY],
        "nodeGroups": [
            {
                "name": "general",
                "instanceTypes": ["m7g.2xlarge"],
                "capacityType": "ON_DEMAND",
                "minSize": 3,
                "desiredSize": 3,
                "maxSize": 9,
                "diskSizeGib": 50,
                "labels": {},
                "taints": [],
            }
        ],
    },
    # Three m7g.2xlarge cost about $715 a month: above prod's $1,000 budget with the rest.
    "genericcorp:budget": {"limitUsd": 1500},
}


@cache
def prod_with_tenants() -> Plan:
    return plan_with(
        "prod",
        {TENANTS_KEY: PROD_TENANTS, **ENTERPRISE_READY_CLUSTER},
    )


@pytest.fixture(params=["dev", "prod"])
def tenant_plan(request: pytest.FixtureRequest) -> Plan:
    """Dev as committed (two tenants); prod with three tenants, one per tier."""
    return plan_for("dev") if request.param == "dev" else prod_with_tenants()


def in_namespace(plan: Plan, kind: str, namespace: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(kind) if r.inputs["metadata"].get("namespace") == namespace]


def one_in(plan: Plan, kind: str, namespace: str) -> PlannedResource:
    [found] = in_namespace(plan, kind, namespace)
    return found


def tenants_error(tenants: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", minimal_values("dev", {TENANTS_KEY: tenants}))
    assert len(caught.value.problems) == 1, caught.value.render()
    return caught.value.problems[0].render()


# --- the objects of each tenant -----------------------------------------------------------


def test_each_tenant_is_a_component_with_its_namespace(tenant_plan: Plan) -> None:
    expected = EXPECTED[tenant_plan.stack]
    components = tenant_plan.of_type("genericcorp:platform:Tenant")
    assert {c.name.removeprefix("tenants-") for c in components} == set(expected)
    assert tenant_plan.outputs["tenants"] == {
        name: {"namespace": f"tenant-{name}", "tier": tier} for name, tier in expected.items()
    }
    for published in tenant_plan.outputs["tenants"].values():
        assert set(published) == set(Tenant.OUTPUTS)
    for component in components:
        kinds = sorted(r.type.rsplit(":", 1)[-1] for r in tenant_plan.children(component.urn))
        assert kinds == [
            "ConfigMap",
            "LimitRange",
            "Namespace",
            "NetworkPolicy",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "ResourceQuota",
            "ServiceAccount",
        ], component.name


def test_committed_prod_starts_without_tenants(prod_plan: Plan) -> None:
    assert prod_plan.of_type("genericcorp:platform:Tenant") == []
    assert prod_plan.outputs["tenants"] == {}


def test_namespaces_are_labelled_and_enforce_restricted_pod_security(tenant_plan: Plan) -> None:
    for name, tier in EXPECTED[tenant_plan.stack].items():
        [namespace] = [
            n
            for n in tenant_plan.of_type("kubernetes:core/v1:Namespace")
            if n.inputs["metadata"]["name"] == f"tenant-{name}"
        ]
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["genericcorp.com/tenant"] == name
        assert labels["genericcorp.com/tier"] == tier
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_prod_tenant_namespaces_are_protected_and_dev_ones_are_not(tenant_plan: Plan) -> None:
    namespaces = [
        n
        for n in tenant_plan.of_type("kubernetes:core/v1:Namespace")
        if n.inputs["metadata"]["name"].startswith("tenant-")
    ]
    assert len(namespaces) == len(EXPECTED[tenant_plan.stack])
    for namespace in namespaces:
        assert namespace.protect is (tenant_plan.stack == "prod"), namespace.name


def test_quota_and_limit_range_follow_the_tier_table(tenant_plan: Plan) -> None:
    for name, tier in EXPECTED[tenant_plan.stack].items():
        spec = TIERS[Tier(tier)]
        hard = one_in(tenant_plan, "kubernetes:core/v1:ResourceQuota", f"tenant-{name}").inputs[
            "spec"
        ]["hard"]
        assert hard["requests.cpu"] == f"{round(spec.requested_cpu_cores * 1000)}m"
        assert hard["requests.memory"] == f"{round(spec.requested_memory_gib * 1024)}Mi"
        assert hard["limits.cpu"] == f"{round(spec.limit_cpu_cores * 1000)}m"
        assert hard["limits.memory"] == f"{round(spec.limit_memory_gib * 1024)}Mi"
        assert hard["pods"] == str(spec.pods)
        assert hard["requests.storage"] == f"{spec.storage_gib}Gi"
        assert hard["services.loadbalancers"] == "0"
        assert hard["services.nodeports"] == "0"
        [limit] = one_in(tenant_plan, "kubernetes:core/v1:LimitRange", f"tenant-{name}").inputs[
            "spec"
        ]["limits"]
        assert limit["type"] == "Container"
        assert set(limit["defaultRequest"]) == {"cpu", "memory"}
        assert set(limit["default"]) == {"cpu", "memory"}
        assert limit["max"]["cpu"] == f"{round(spec.container_max_cpu_cores * 1000)}m"


def test_tiers_grow_and_expose_what_a_cost_model_prices() -> None:
    assert list(TIERS) == [Tier.STARTER, Tier.STANDARD, Tier.ENTERPRISE]
    specs = list(TIERS.values())
    for smaller, larger in itertools.pairwise(specs):
        assert larger.requested_cpu_cores > smaller.requested_cpu_cores
        assert larger.requested_memory_gib > smaller.requested_memory_gib
        assert larger.pods > smaller.pods
    for spec in specs:
        assert isinstance(spec, TierSpec)
        assert spec.limit_cpu_cores >= spec.requested_cpu_cores
        assert spec.limit_memory_gib >= spec.requested_memory_gib
        assert spec.container_max_cpu_cores <= spec.limit_cpu_cores
        assert spec.container_max_memory_gib <= spec.limit_memory_gib


def policies(plan: Plan, namespace: str) -> dict[str, dict[str, Any]]:
    found = in_namespace(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", namespace)
    return {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in found}


def test_network_policy_denies_by_default_and_lists_only_what_the_app_needs(
    tenant_plan: Plan,
) -> None:
    data_cidrs = [
        tenant_plan.by_id(subnet).inputs["cidrBlock"]
        for subnet in tenant_plan.outputs["network"]["databaseSubnetIds"]
    ]
    for name in EXPECTED[tenant_plan.stack]:
        deny = policies(tenant_plan, f"tenant-{name}")["default-deny"]
        assert deny["podSelector"] == {}
        assert deny["policyTypes"] == ["Ingress", "Egress"]
        assert deny["ingress"] == [
            {"from": [{"podSelector": {}}]},
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                        },
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                    }
                ]
            },
        ]
        same_namespace, dns, *data, credentials = deny["egress"]
        assert same_namespace == {"to": [{"podSelector": {}}]}
        # The EKS Pod Identity agent on the node, where the app's IAM credentials come from.
        assert credentials == {
            "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        }
        assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
        assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
        # The ports the data tier listens on (the database's is configurable).
        assert [rule["ports"] for rule in data] == [
            [{"protocol": "TCP", "port": tenant_plan.outputs["database"]["port"]}],
            [{"protocol": "TCP", "port": tenant_plan.outputs["cache"]["port"]}],
        ]
        for rule in data:
            assert [peer["ipBlock"]["cidr"] for peer in rule["to"]] == data_cidrs
        # Nothing reaches the internet or another tenant.
        assert "0.0.0.0/0" not in str(deny)
        assert "tenant-" not in str(deny)


def test_only_load_balancer_targets_admit_the_load_balancers_subnets(tenant_plan: Plan) -> None:
    public_cidrs = [
        tenant_plan.by_id(subnet).inputs["cidrBlock"]
        for subnet in tenant_plan.outputs["network"]["publicSubnetIds"]
    ]
    for name in EXPECTED[tenant_plan.stack]:
        allow = policies(tenant_plan, f"tenant-{name}")["allow-load-balancer"]
        assert allow["podSelector"] == {"matchLabels": {LOAD_BALANCER_TARGET_LABEL: "true"}}
        assert allow["policyTypes"] == ["Ingress"]
        assert [p["ipBlock"]["cidr"] for p in allow["ingress"][0]["from"]] == public_cidrs


def test_each_tenant_s_load_balancer_targets_are_evicted_one_at_a_time(tenant_plan: Plan) -> None:
    for name in EXPECTED[tenant_plan.stack]:
        namespace = f"tenant-{name}"
        budget = one_in(tenant_plan, "kubernetes:policy/v1:PodDisruptionBudget", namespace)
        assert budget.inputs["metadata"]["name"] == "load-balancer-targets"
        assert budget.inputs["metadata"]["labels"]["genericcorp.com/tenant"] == name
        spec = budget.inputs["spec"]
        # The pods the load balancers reach: the same label the network policy admits.
        assert (
            spec["selector"]
            == policies(tenant_plan, namespace)["allow-load-balancer"]["podSelector"]
        )
        # One at a time, and never a budget that a single replica would hold at zero:
        # minAvailable 1 on one pod would block every drain of its node.
        assert spec["maxUnavailable"] == 1
        assert "minAvailable" not in spec
        # A pod that is not Ready never holds up a drain.
        assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_each_tenant_namespace_states_how_its_pods_are_spread(tenant_plan: Plan) -> None:
    # Kubernetes has no per-namespace spread: the scheduler's built-in defaults apply to every
    # tenant pod that sets no constraints, and the namespace says so.
    for name in EXPECTED[tenant_plan.stack]:
        [namespace] = [
            n
            for n in tenant_plan.of_type("kubernetes:core/v1:Namespace")
            if n.inputs["metadata"]["name"] == f"tenant-{name}"
        ]
        annotations = namespace.inputs["metadata"]["annotations"]
        assert annotations == {POD_SPREAD_ANNOTATION: POD_SPREAD}


def test_each_tenant_has_a_service_account_without_an_automatic_token(tenant_plan: Plan) -> None:
    for name in EXPECTED[tenant_plan.stack]:
        account = one_in(tenant_plan, "kubernetes:core/v1:ServiceAccount", f"tenant-{name}")
        assert account.inputs["metadata"]["name"] == "app"
        assert account.inputs["automountServiceAccountToken"] is False


def test_endpoints_config_map_publishes_platform_endpoints_and_no_secret(
    tenant_plan: Plan,
) -> None:
    for name, tier in EXPECTED[tenant_plan.stack].items():
        config_map = one_in(tenant_plan, "kubernetes:core/v1:ConfigMap", f"tenant-{name}")
        assert config_map.inputs["metadata"]["name"] == "platform-endpoints"
        outputs = tenant_plan.outputs
        assert config_map.inputs["data"] == {
            "AWS_REGION": "us-east-1",
            "CLUSTER_NAME": f"genericcorp-{tenant_plan.stack}-eks",
            "DATABASE_HOST": outputs["database"]["address"],
            "DATABASE_PORT": str(outputs["database"]["port"]),
            "DATABASE_NAME": "platform",
            "DATABASE_SCHEMA": f"tenant_{name.replace('-', '_')}",
            "DATABASE_USER": f"tenant_{name.replace('-', '_')}",
            "CACHE_HOST": outputs["cache"]["primaryEndpoint"],
            "CACHE_USER": f"{tenant_plan.stack}-tenant-{name}",
            "CACHE_KEY_PREFIX": f"{name}:",
            "CACHE_PORT": str(outputs["cache"]["port"]),
            "CDN_DOMAIN": outputs["cdn"]["aliasDomain"],
            "TENANT_NAME": name,
            "TENANT_TIER": tier,
            "TENANT_HOSTNAME": f"{name}.{outputs['ingress']['appsDomain']}",
        }
        assert config_map.secret_inputs == frozenset()
        assert (
            outputs["ingress"]["tenantHostnames"][name]
            == config_map.inputs["data"]["TENANT_HOSTNAME"]
        )


def test_every_tenant_object_uses_the_clusters_provider_and_follows_its_namespace(
    tenant_plan: Plan,
) -> None:
    provider = tenant_plan.one("pulumi:providers:kubernetes")
    for component in tenant_plan.of_type("genericcorp:platform:Tenant"):
        children = tenant_plan.children(component.urn)
        [namespace] = [c for c in children if c.type == "kubernetes:core/v1:Namespace"]
        for child in children:
            assert child.provider == provider.urn, child.urn
            if child is not namespace:
                assert namespace.urn in child.dependencies, child.urn


# --- bad tenant lists ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Acme", "1acme", "acme-", "ac_me", "", "a" * (MAX_TENANT_NAME + 1), "acme.corp"]
)
def test_a_tenant_name_that_is_not_a_dns_label_is_refused(name: str) -> None:
    line = tenants_error([{"name": name, "tier": "starter"}])
    assert line.startswith(f'genericcorp:tenants[0].name = "{name}": ')
    assert "must be a DNS label" in line


def test_the_longest_name_that_fits_the_cache_user_id_is_accepted() -> None:
    """The cache user ``dev-tenant-<name>`` (40 characters at most) bounds a name more than
    the namespace (63) does."""
    name = "a" * (40 - len("dev-tenant-"))
    values = minimal_values("dev", {TENANTS_KEY: [{"name": name, "tier": "starter"}]})
    [tenant] = parse_stack_config("dev", values).tenants
    assert tenant.name == name
    assert len(name) < MAX_TENANT_NAME


def test_a_duplicate_tenant_is_refused() -> None:
    line = tenants_error(
        [{"name": "acme", "tier": "starter"}, {"name": "acme", "tier": "enterprise"}]
    )
    assert line.startswith("genericcorp:tenants = ")
    assert "each tenant may appear once; repeated: acme" in line


def test_an_unknown_tier_is_refused_with_the_allowed_tiers() -> None:
    line = tenants_error([{"name": "acme", "tier": "platinum"}])
    assert line.startswith('genericcorp:tenants[0].tier = "platinum": ')
    for tier in ("starter", "standard", "enterprise"):
        assert tier in line


def test_a_tenant_with_an_unknown_key_is_refused() -> None:
    line = tenants_error([{"name": "acme", "tier": "starter", "plan": "gold"}])
    assert line.startswith("genericcorp:tenants[0].plan = ")


def test_the_architecture_doc_s_tier_table_matches_the_code() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text()

    def number(value: float) -> str:
        return f"{value:g}"

    for tier, spec in TIERS.items():
        row = (
            f"| {tier} | {number(spec.requested_cpu_cores)} cores / "
            f"{number(spec.requested_memory_gib)} GiB | {number(spec.limit_cpu_cores)} / "
            f"{number(spec.limit_memory_gib)} GiB | {spec.pods} | "
            f"{spec.persistent_volume_claims} / {spec.storage_gib} GiB |"
        )
        assert row in text, row
