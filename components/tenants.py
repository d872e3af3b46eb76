"""Tenants: one isolated Kubernetes namespace per customer, sized by tier.

Creates a ``Tenant`` component per configured tenant, each holding:
- ``Namespace`` ``tenant-<name>``, labelled with tenant and tier, Pod Security Admission
  ``restricted`` (enforced, audited and warned);
- ``ResourceQuota`` and ``LimitRange`` from the tier's row of ``TIERS`` (the one table of tier
  numbers; the capacity model, ``infra/tenant_capacity.py``, packs tenants onto the nodes by
  their requests and prices what they take);
- ``NetworkPolicy`` ``default-deny``: every pod's traffic is refused except traffic inside the
  namespace, DNS to kube-dns, scrapes from Prometheus in ``monitoring`` and egress to the data
  tier's ports and subnets; ``allow-load-balancer`` admits the load balancers' subnets to pods
  labelled ``genericcorp.com/load-balancer-target: "true"``;
- ``PodDisruptionBudget`` ``load-balancer-targets``: of the pods serving the tenant's traffic
  (labelled as load-balancer targets), one at a time may be evicted, so a node drain (a node
  group update, the autoscaler's scale-down) never takes them all down together; their spread
  over zones and hosts is the scheduler's built-in default, which the namespace's
  ``genericcorp.com/pod-spread`` annotation states;
- ``ServiceAccount`` ``app`` (no token mounted unless a pod asks);
- ``ConfigMap`` ``platform-endpoints``: the endpoints the app reads (database, cache, CDN hosts
  and ports, region, cluster), who it connects as (``DATABASE_SCHEMA``, ``DATABASE_USER``,
  ``CACHE_USER``, ``CACHE_KEY_PREFIX``, components/shared/tenant_identity.py) and
  ``TENANT_HOSTNAME``, the one host its Ingress may serve
  (components/ingress.py). Never a secret: values are published as plain data.

Namespaces are enforced by the VPC CNI's network-policy agent (turned on in ``EksAddons``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, cast

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, field_validator

from components.base import ByEnvironment, PlatformComponent, SettingsModel
from components.shared.tenant_identity import TenantIdentity
from components.shared.wiring import Wiring

NAMESPACE_PREFIX = "tenant-"
LOAD_BALANCER_TARGET_LABEL = "genericcorp.com/load-balancer-target"
#: The namespace annotation that tells a tenant how the platform spreads its pods, and its value.
#: Kubernetes has no per-namespace default spread, and EKS runs the default scheduler profile
#: (this stack configures none), whose built-in PodTopologySpread defaults apply to every pod of
#: a Deployment, ReplicaSet or StatefulSet that sets no constraints of its own: maxSkew 3 over
#: hosts and 5 over zones, both ScheduleAnyway (kubernetes.io/docs/concepts/scheduling-eviction/
#: topology-spread-constraints/#internal-default-constraints). A tenant wanting a stricter spread
#: sets it on its workloads; nothing rewrites tenants' pods (no mutating webhook).
POD_SPREAD_ANNOTATION = "genericcorp.com/pod-spread"
POD_SPREAD = "scheduler-defaults"
#: A namespace name is a DNS label (63 characters) and carries the prefix.
MAX_TENANT_NAME = 63 - len(NAMESPACE_PREFIX)
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class Tier(StrEnum):
    STARTER = "starter"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class TierSpec:
    """What a tenant of a tier may use. Requests are what the platform reserves (and prices)."""

    requested_cpu_cores: float
    requested_memory_gib: float
    limit_cpu_cores: float
    limit_memory_gib: float
    pods: int
    persistent_volume_claims: int
    storage_gib: int
    container_max_cpu_cores: float
    container_max_memory_gib: float

    # --- what a tenant of the tier takes from the data tier (the capacity model's planning
    # figures, infra/tenant_capacity.py): the connections its database role may hold, the
    # database storage and the cache memory it is expected to use.
    database_connection_limit: int = 0
    database_storage_gib: float = 0
    cache_memory_mib: int = 0

    # --- the limits the tenant's database role runs with (components/tenant_data.py applies them
    # with ALTER ROLE, with database_connection_limit as its CONNECTION LIMIT;
    # genericcorp:tenantData.tierLimits may override them per stack).
    statement_timeout_seconds: int = 30
    """Default statement_timeout: a runaway query is cancelled."""
    lock_timeout_seconds: int = 10
    """Default lock_timeout: a statement waits this long for a lock, then fails."""
    idle_in_transaction_timeout_seconds: int = 60
    """idle_in_transaction_session_timeout: an abandoned transaction stops holding locks."""
    work_mem_mib: int = 4
    """Default work_mem per sort or hash before spilling to disk."""


#: The tier table: quotas, limit ranges and the reservations the capacity model packs onto the
#: nodes. Requests are what an application of the tier needs reserved (a starter tenant: a
#: quarter of a vCPU and half a GiB, enough for one small web process and a worker); limits are
#: four times the requests, so a tenant can burst into the nodes' idle capacity without
#: reserving it. What a tenant then costs follows from these sizes (docs/cost.md, "Cost per
#: customer"); the sizes are not chosen to meet a cost target. The data-tier figures are
#: planning figures: a pool of about five connections per pod the quota admits, a few GiB of
#: rows and a cache working set per tenant.
TIERS: dict[Tier, TierSpec] = {
    Tier.STARTER: TierSpec(
        0.25,
        0.5,
        1,
        2,
        10,
        2,
        10,
        0.5,
        1,
        database_connection_limit=10,
        database_storage_gib=2,
        cache_memory_mib=16,
        statement_timeout_seconds=30,
        lock_timeout_seconds=10,
        idle_in_transaction_timeout_seconds=60,
        work_mem_mib=4,
    ),
    Tier.STANDARD: TierSpec(
        1,
        2,
        4,
        8,
        30,
        5,
        50,
        2,
        4,
        database_connection_limit=25,
        database_storage_gib=10,
        cache_memory_mib=64,
        statement_timeout_seconds=60,
        lock_timeout_seconds=10,
        idle_in_transaction_timeout_seconds=120,
        work_mem_mib=16,
    ),
    Tier.ENTERPRISE: TierSpec(
        4,
        8,
        16,
        32,
        100,
        20,
        200,
        4,
        8,
        database_connection_limit=60,
        database_storage_gib=50,
        cache_memory_mib=256,
        statement_timeout_seconds=300,
        lock_timeout_seconds=30,
        idle_in_transaction_timeout_seconds=300,
        work_mem_mib=64,
    ),
}

#: Per-container defaults when a pod sets none (the quota requires every container to have some).
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "256Mi"}


def _cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _memory(gib: float) -> str:
    return f"{round(gib * 1024)}Mi"


class TenantSettings(SettingsModel):
    """One customer of the platform."""

    name: str = Field(
        description=(
            f"DNS label of at most {MAX_TENANT_NAME} characters (lowercase letters, digits, -); "
            f"the namespace is {NAMESPACE_PREFIX}<name>."
        ),
    )
    tier: Tier = Field(description="Service tier: starter, standard or enterprise.")

    @field_validator("name")
    @classmethod
    def _dns_label(cls, name: str) -> str:
        if len(name) > MAX_TENANT_NAME or not _DNS_LABEL.match(name):
            raise ValueError(
                f"must be a DNS label: 1 to {MAX_TENANT_NAME} lowercase letters, digits or "
                "hyphens, starting with a letter and not ending with a hyphen"
            )
        return name

    @property
    def namespace(self) -> str:
        return f"{NAMESPACE_PREFIX}{self.name}"


def _unique_tenants(tenants: list[TenantSettings]) -> list[TenantSettings]:
    names = [tenant.name for tenant in tenants]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"each tenant may appear once; repeated: {', '.join(repeated)}")
    return tenants


TenantList = Annotated[list[TenantSettings], AfterValidator(_unique_tenants)]


@dataclass(frozen=True)
class DataEgress:
    """A port tenants may reach in the data tier, and where."""

    port: int
    cidr_blocks: Sequence[str]
    description: str


@dataclass(frozen=True)
class TenantEnvironment:
    """What the platform gives every tenant alike: the endpoints its app reads, the data tier's
    ports it may reach and the subnets of the load balancers that reach its pods."""

    endpoints: Mapping[str, pulumi.Input[str]]
    """Host names and ports of the platform (never credentials), published as a ConfigMap."""
    data_egress: Sequence[DataEgress]
    """The data tier's ports and subnets, the only egress besides DNS and the namespace."""
    load_balancer_cidrs: Sequence[str]
    """Subnets the ingress load balancers send from, admitted to load-balancer targets."""


class Tenant(PlatformComponent):
    """One tenant's namespace and everything that isolates and configures it.

    Steps: the namespace; the tier's quota and limit range; the network policies; the
    disruption budget of its load-balancer targets; the app's service account; the endpoints
    ConfigMap. Every object but the namespace lives in it, so it is created after the namespace
    and deleted before it.
    """

    TYPE: ClassVar[str] = "genericcorp:platform:Tenant"
    COMPONENT: ClassVar[str] = "tenants"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "namespace": "The tenant's namespace (tenant-<name>).",
        "tier": "The tenant's service tier: starter, standard or enterprise.",
    }

    namespace: pulumi.Output[str]
    """The tenant's namespace, once Kubernetes has it."""

    def __init__(
        self,
        name: str,
        settings: TenantSettings,
        *,
        wiring: Wiring,
        environment: TenantEnvironment,
        hostname: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``hostname`` is where customers reach the tenant (``<tenant>.<appsDomain>``)."""
        super().__init__(name, context=wiring.context, opts=opts)
        self._settings = settings
        self._labels = {
            "genericcorp.com/tenant": settings.name,
            "genericcorp.com/tier": settings.tier,
        }
        namespace = self._namespace()
        inside = self.child_opts(depends_on=[namespace])
        self._quota(inside)
        self._limit_range(inside)
        for policy_name, policy_spec in network_policies(
            environment.data_egress, environment.load_balancer_cidrs
        ):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata=self._meta(policy_name),
                spec=cast("k8s.networking.v1.NetworkPolicySpecArgsDict", policy_spec),
                opts=inside,
            )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=self._meta(DISRUPTION_BUDGET_NAME),
            spec=disruption_budget(),
            opts=inside,
        )
        k8s.core.v1.ServiceAccount(
            f"{name}-app",
            metadata=self._meta("app"),
            # The app calls no Kubernetes API unless a pod asks for a token.
            automount_service_account_token=False,
            opts=inside,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-endpoints",
            metadata=self._meta("platform-endpoints"),
            data={
                **environment.endpoints,
                "TENANT_NAME": settings.name,
                "TENANT_TIER": settings.tier,
                # Who the app connects as (names only: it signs IAM tokens for both).
                **TenantIdentity(settings.name, wiring.context.stack).config_map_keys(),
                **({} if hostname is None else {"TENANT_HOSTNAME": hostname}),
            },
            opts=inside,
        )
        self.namespace = namespace.metadata.apply(lambda m: m.name or settings.namespace)
        self.publish({"namespace": self.namespace, "tier": str(settings.tier)})

    def _namespace(self) -> k8s.core.v1.Namespace:
        """The namespace, labelled with tenant and tier, restricted pod security enforced,
        annotated with how its pods are spread. In prod it holds the tenant's volumes: removing
        a tenant from the config fails until an operator unprotects it on purpose."""
        return k8s.core.v1.Namespace(
            f"{self._name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self._settings.namespace,
                labels={
                    **self._labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
                annotations={POD_SPREAD_ANNOTATION: POD_SPREAD},
            ),
            opts=self.child_opts(protect=self.context.is_prod),
        )

    def _meta(self, object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=object_name, namespace=self._settings.namespace, labels=self._labels
        )

    def _quota(self, inside: pulumi.ResourceOptions) -> None:
        """The tier's reservations and ceilings: what the tenant may request (and is priced
        by), and no load balancer or node port of its own."""
        spec = TIERS[self._settings.tier]
        k8s.core.v1.ResourceQuota(
            f"{self._name}-quota",
            metadata=self._meta("tier-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": _cpu(spec.requested_cpu_cores),
                    "requests.memory": _memory(spec.requested_memory_gib),
                    "limits.cpu": _cpu(spec.limit_cpu_cores),
                    "limits.memory": _memory(spec.limit_memory_gib),
                    "pods": str(spec.pods),
                    "persistentvolumeclaims": str(spec.persistent_volume_claims),
                    "requests.storage": f"{spec.storage_gib}Gi",
                    # Tenants are reached through the shared ALB, never their own NLB or node port.
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            ),
            opts=inside,
        )

    def _limit_range(self, inside: pulumi.ResourceOptions) -> None:
        """Defaults for containers that set no requests or limits (the quota requires them),
        and the tier's ceiling per container."""
        spec = TIERS[self._settings.tier]
        k8s.core.v1.LimitRange(
            f"{self._name}-limits",
            metadata=self._meta("tier-limits"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request=DEFAULT_REQUEST,
                        default=DEFAULT_LIMIT,
                        max={
                            "cpu": _cpu(spec.container_max_cpu_cores),
                            "memory": _memory(spec.container_max_memory_gib),
                        },
                    )
                ]
            ),
            opts=inside,
        )


def network_policies(
    data_egress: Sequence[DataEgress], load_balancer_cidrs: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The policies of a tenant namespace.

    ``default-deny`` selects every pod for ingress and egress, so anything it does not list is
    refused; what it lists is what the app needs. The load balancer's ingress is a second policy
    because it admits only pods labelled as load-balancer targets. Two objects rather than one
    per allowance keep a tenant at nine objects, which matters with hundreds of tenants.
    """
    everything: dict[str, Any] = {}
    same_namespace = {"podSelector": everything}
    kube_dns = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    return [
        (
            "default-deny",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [same_namespace]}, {"from": [prometheus]}],
                "egress": [
                    {"to": [same_namespace]},
                    {
                        "to": [kube_dns],
                        "ports": [
                            {"protocol": "UDP", "port": 53},
                            {"protocol": "TCP", "port": 53},
                        ],
                    },
                    *(
                        {
                            "to": [{"ipBlock": {"cidr": cidr}} for cidr in egress.cidr_blocks],
                            "ports": [{"protocol": "TCP", "port": egress.port}],
                        }
                        for egress in data_egress
                    ),
                ],
            },
        ),
        (
            "allow-load-balancer",
            {
                # ALBs in IP target mode send from their own addresses in these subnets.
                "podSelector": {"matchLabels": {LOAD_BALANCER_TARGET_LABEL: "true"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": cidr}} for cidr in load_balancer_cidrs]}
                ],
            },
        ),
    ]


DISRUPTION_BUDGET_NAME = "load-balancer-targets"


def disruption_budget() -> k8s.policy.v1.PodDisruptionBudgetSpecArgs:
    """The budget of a tenant's load-balancer targets: the pods that serve its traffic, selected
    by the label its ``allow-load-balancer`` network policy admits.

    ``maxUnavailable: 1`` rather than ``minAvailable: 1``: it lets one eviction through even
    when a tenant runs a single replica, where ``minAvailable: 1`` would hold every drain of
    that pod's node forever; with more replicas, drains take them one at a time.
    ``AlwaysAllow`` lets a pod that is not Ready be evicted whatever the budget, so a
    crash-looping pod never holds its own node; while it is not Ready the budget is spent and
    the healthy replicas wait, which is what the budget is for. ``maxUnavailable`` needs pods
    owned by a Deployment, ReplicaSet or StatefulSet (the disruption controller reads the
    expected count from their scale): bare pods must not carry the label.
    """
    return k8s.policy.v1.PodDisruptionBudgetSpecArgs(
        max_unavailable=1,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels={LOAD_BALANCER_TARGET_LABEL: "true"}),
        unhealthy_pod_eviction_policy="AlwaysAllow",
    )


class Tenants(PlatformComponent):
    """Every configured tenant, each an isolated namespace.

    Its outputs are keyed by tenant name, each the tenant's own outputs (``Tenant.OUTPUTS``):
    the keys follow the configuration, so they are registered as they are rather than declared.
    """

    TYPE: ClassVar[str] = "genericcorp:platform:Tenants"
    COMPONENT: ClassVar[str] = "tenants"

    def __init__(
        self,
        name: str,
        tenants: Sequence[TenantSettings],
        *,
        wiring: Wiring,
        provider: k8s.Provider,
        endpoints: Mapping[str, pulumi.Input[str]],
        data_egress: Sequence[DataEgress],
        load_balancer_cidrs: Sequence[str],
        hostnames: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``hostnames`` maps each tenant's name to its hostname (the ingress's)."""
        super().__init__(
            name,
            context=wiring.context,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
        )
        environment = TenantEnvironment(endpoints, data_egress, load_balancer_cidrs)
        self.outputs = {
            tenant.name: Tenant(
                f"{name}-{tenant.name}",
                tenant,
                wiring=wiring,
                environment=environment,
                hostname=(hostnames or {}).get(tenant.name),
                opts=self.child_opts(),
            ).outputs
            for tenant in tenants
        }
        self.register_outputs(self.outputs)


# Defaults per environment and prod rules

TENANT_DEFAULTS: ByEnvironment[list[TenantSettings]] = ByEnvironment(
    # Dev tenants are listed in Pulumi.dev.yaml.
    dev=[],
    # Customers are added by onboarding through the stack file; prod holds no demo tenant.
    prod=[],
)
