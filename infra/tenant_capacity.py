"""How many tenants the stack holds, and what a customer costs: tenants packed onto whole nodes
and the data tier sized for them.

Pure Python, no Pulumi; built on ``infra/node_capacity.py`` (what a node offers pods, what the
platform asks of the nodes).

- **Room per node.** A node of the tenants' node group (the first group) offers its allocatable
  CPU, memory and pods (``node_allocatable``, the least of the group's instance types) less the
  DaemonSets every node runs. The platform's cluster-wide pods (add-ons, monitoring) take their
  requests out of the group's room before any tenant does.
- **A tenant** takes its tier's requested CPU and memory (the quota: what the scheduler reserves
  for it) and pod slots: the pods its CPU and memory quota admit at the namespace's default
  container request (``DEFAULT_REQUEST``), at most the tier's pod quota. A tenant whose pods
  request less can run more of them, up to the quota; the model counts what a tenant that sets
  no requests runs.
- **Packing.** Nodes needed = the most, over CPU, memory and pods, of (platform + tenants) /
  room per node, rounded up to whole nodes, never below the group's desired size. Tenants'
  pods are small (100m / 128Mi by default), so what is left on a node is too small to matter;
  the resource that needs the most nodes is the one that binds.
- **Ceiling.** A stack holds tenants up to the node group's ``maxSize``; a tier whose largest
  schedulable container (its container maximum, capped by its own quota) exceeds a node's
  room cannot run at all on that node type.
- **Data tier.** Each tier's planning figures (``TierSpec.database_connection_limit``,
  ``database_storage_gib``, ``cache_memory_mib``) are summed over the tenants; where the
  configured database class, its storage or the cache node cannot hold them, the model steps
  up to the cheapest catalog option that can (a larger class, or RDS Proxy in front of the
  configured one; more storage; a larger cache node, or shards of the largest) and prices it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from components.base import Environment
from components.cost import CostError, PriceCatalog, PurchaseOptionsSettings, spot_price
from components.kubernetes_platform import PlatformSettings
from components.node_group import CapacityType, NodeGroupSettings
from components.postgres import PostgresSettings
from components.redis import CacheEngine, RedisSettings
from components.tenants import DEFAULT_REQUEST, TIERS, Tier, TierSpec
from infra.node_capacity import (
    INSTANCE_SHAPES,
    CapacityError,
    Resources,
    cpu_millicores,
    daemonsets,
    memory_mib,
    node_allocatable,
    platform_workloads,
    total,
)

if TYPE_CHECKING:
    from infra.config import StackConfig

#: The node group tenants run on: the first one (the program places no tenant elsewhere).
TENANT_NODE_GROUP = 0

#: RDS for PostgreSQL's default ``max_connections``: LEAST(DBInstanceClassMemory / 9531392,
#: 5000). DBInstanceClassMemory is the class's memory less what the OS and RDS keep; the model
#: takes 85% of the nominal memory (db.t4g.small: 190, as the stack's alarm comment says).
MAX_CONNECTIONS_DIVISOR = 9_531_392
MAX_CONNECTIONS_CAP = 5000
DB_INSTANCE_MEMORY_SHARE = 0.85
#: Tenants' connection limits may add up to this share of max_connections (the prod alarm fires
#: at 150 of 190, about 80%): the rest is for the platform, migrations and superuser slots.
CONNECTIONS_USABLE_SHARE = 0.8
#: Connections the platform itself holds (migrations, monitoring, an operator's session).
PLATFORM_DB_CONNECTIONS = 10
#: RDS Proxy is billed per vCPU of the instance behind it, at least two.
PROXY_MIN_VCPUS = 2
#: A proxy holds at most 200 Secrets Manager secrets, so at most 200 database users (RDS Proxy
#: quotas): with a role per tenant, every 200 tenants need another proxy, each billed alike.
PROXY_MAX_USERS = 200
#: ElastiCache's default reserved-memory-percent (25): memory kept for replication and
#: snapshots, which the data cannot use.
CACHE_USABLE_SHARE = 0.75

#: Upper end of the customer counts searched for where a target holds.
TARGET_SEARCH_LIMIT = 2000


# --- room and demand -------------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    """CPU (millicores), memory (MiB) and pod slots: what a node offers or a workload takes."""

    cpu_millicores: int
    memory_mib: int
    pods: int

    def __add__(self, other: Room) -> Room:
        return Room(
            self.cpu_millicores + other.cpu_millicores,
            self.memory_mib + other.memory_mib,
            self.pods + other.pods,
        )

    def times(self, count: int) -> Room:
        return Room(self.cpu_millicores * count, self.memory_mib * count, self.pods * count)

    def by_resource(self) -> dict[str, int]:
        return {"cpu": self.cpu_millicores, "memory": self.memory_mib, "pods": self.pods}

    def to_json(self) -> dict[str, int]:
        return {
            "cpuMillicores": self.cpu_millicores,
            "memoryMib": self.memory_mib,
            "pods": self.pods,
        }


NO_ROOM = Room(0, 0, 0)


def pods_per_tenant(spec: TierSpec) -> int:
    """Pod slots a tenant takes: the pods its quota admits at the default container request,
    at most its pod quota, at least one."""
    cpu = round(spec.requested_cpu_cores * 1000) // cpu_millicores(DEFAULT_REQUEST["cpu"])
    memory = round(spec.requested_memory_gib * 1024) // memory_mib(DEFAULT_REQUEST["memory"])
    return max(1, min(spec.pods, cpu, memory))


def tenant_room(tier: Tier) -> Room:
    """What one tenant of ``tier`` takes from the nodes."""
    spec = TIERS[tier]
    return Room(
        round(spec.requested_cpu_cores * 1000),
        round(spec.requested_memory_gib * 1024),
        pods_per_tenant(spec),
    )


def largest_container(tier: Tier) -> Resources:
    """The largest request one container of ``tier`` can make: its container maximum, capped by
    the tier's own request quota (a namespace never requests more than its quota)."""
    spec = TIERS[tier]
    return Resources(
        round(min(spec.container_max_cpu_cores, spec.requested_cpu_cores) * 1000),
        round(min(spec.container_max_memory_gib, spec.requested_memory_gib) * 1024),
    )


@dataclass(frozen=True)
class Packing:
    """The nodes a set of tenants needs, and the resource that decides it."""

    nodes: int
    binding: str
    """cpu, memory or pods: the resource that needs the most nodes."""
    needed_by_resource: dict[str, float]
    """Nodes each resource needs before rounding up."""


@dataclass(frozen=True)
class CapacityModel:
    """The tenants' node group: room per node, the platform's share, and its size limits."""

    group: NodeGroupSettings
    per_node: Room
    """What one node offers after its DaemonSets."""
    platform: Room
    """The platform's cluster-wide pods, which share the group with the tenants."""

    @classmethod
    def of(cls, config: StackConfig, group: NodeGroupSettings | None = None) -> CapacityModel:
        """The model of the stack's tenant node group (or of ``group`` in its place)."""
        group = group or config.cluster.node_groups[TENANT_NODE_GROUP]
        return cls.for_group(group, config.platform, config.environment)

    @classmethod
    def for_group(
        cls, group: NodeGroupSettings, platform: PlatformSettings, environment: Environment
    ) -> CapacityModel:
        allocatable = node_allocatable(group.instance_types)
        per_node_daemonsets = daemonsets(platform)
        on_each_node = total(per_node_daemonsets)
        max_pods = min(INSTANCE_SHAPES[t].max_pods for t in group.instance_types)
        cluster_wide = platform_workloads(platform, environment)
        platform_requests = total(cluster_wide)
        return cls(
            group=group,
            per_node=Room(
                allocatable.cpu_millicores - on_each_node.cpu_millicores,
                allocatable.memory_mib - on_each_node.memory_mib,
                max_pods - sum(w.pods for w in per_node_daemonsets),
            ),
            platform=Room(
                platform_requests.cpu_millicores,
                platform_requests.memory_mib,
                sum(w.pods for w in cluster_wide),
            ),
        )

    def tier_fits(self, tier: Tier) -> bool:
        """Whether a node of this group can run the largest container ``tier`` may request."""
        container = largest_container(tier)
        return (
            container.cpu_millicores <= self.per_node.cpu_millicores
            and container.memory_mib <= self.per_node.memory_mib
        )

    def demand(self, counts: Mapping[Tier, int]) -> Room:
        """The platform's pods plus ``counts`` tenants per tier."""
        tenants = sum((tenant_room(t).times(n) for t, n in counts.items()), NO_ROOM)
        return self.platform + tenants

    def pack(self, counts: Mapping[Tier, int]) -> Packing:
        """Whole nodes for the platform and ``counts`` tenants, at least the desired size."""
        demand = self.demand(counts).by_resource()
        room = self.per_node.by_resource()
        needed = {r: demand[r] / room[r] for r in demand}
        binding = max(needed, key=lambda r: needed[r])
        nodes = max(self.group.desired_size, math.ceil(needed[binding] - 1e-9))
        return Packing(nodes=nodes, binding=binding, needed_by_resource=needed)

    def tenants_per_node(self, tier: Tier) -> tuple[int, str]:
        """Whole tenants of ``tier`` one node holds, and the resource that stops the next."""
        room, demand = self.per_node.by_resource(), tenant_room(tier).by_resource()
        per_resource = {r: room[r] // demand[r] for r in room}
        binding = min(per_resource, key=lambda r: per_resource[r])
        return per_resource[binding], binding

    def ceiling(self, shares: Mapping[Tier, float]) -> int:
        """The most customers (in the ``shares`` mix) that fit in ``maxSize`` nodes; 0 when a
        tier of the mix fits no node or the platform alone fills the group."""
        if any(not self.tier_fits(t) for t in shares):
            return 0
        low, high = 0, 1
        while self.pack(mix_counts(shares, high)).nodes <= self.group.max_size:
            low, high = high, high * 2
            if high > 1_000_000:
                return high
        while high - low > 1:
            middle = (low + high) // 2
            if self.pack(mix_counts(shares, middle)).nodes <= self.group.max_size:
                low = middle
            else:
                high = middle
        return low


def mix_counts(shares: Mapping[Tier, float], customers: int) -> dict[Tier, int]:
    """``customers`` split over the tiers by ``shares`` in whole tenants (largest remainder)."""
    exact = {tier: share * customers for tier, share in shares.items()}
    counts = {tier: math.floor(value) for tier, value in exact.items()}
    left = customers - sum(counts.values())
    for tier in sorted(exact, key=lambda t: (-(exact[t] - counts[t]), list(shares).index(t))):
        if left <= 0:
            break
        counts[tier] += 1
        left -= 1
    return counts


# --- prices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodePrice:
    """What one node of a group costs a month, and how it was priced."""

    monthly_usd: float
    instance_type: str
    described: str


def purchase_factor(catalog: PriceCatalog, options: PurchaseOptionsSettings, service: str) -> float:
    """The multiplier of ``service``'s on-demand price under the stack's purchase option."""
    key = options.factor_keys().get(service)
    if key is None:
        return 1.0
    return catalog.factor(key, resource=f"genericcorp:costModel.purchaseOptions.{service}").value


def node_price(
    catalog: PriceCatalog,
    group: NodeGroupSettings,
    *,
    spot_discount_percent: float,
    purchase: PurchaseOptionsSettings,
) -> NodePrice:
    """A node of ``group`` a month: its most expensive allowed type (the group may launch any),
    less the spot discount (SPOT) or the compute purchase option (ON_DEMAND), plus its root
    volume."""
    prices = {
        t: catalog.price(f"ec2.instance.{t}", resource="aws:eks/nodeGroup:NodeGroup")
        for t in group.instance_types
    }
    instance_type = max(prices, key=lambda t: prices[t].usd)
    price = prices[instance_type]
    if group.capacity_type is CapacityType.SPOT:
        hourly = spot_price(price, spot_discount_percent).usd
        described = f"{instance_type} SPOT ({spot_discount_percent:g}% below on-demand)"
    else:
        factor = purchase_factor(catalog, purchase, "compute")
        hourly = price.usd * factor
        described = f"{instance_type} ON_DEMAND ({purchase.compute})"
    volume = catalog.price("ec2.ebs.gp3-storage").usd * group.disk_size_gib
    return NodePrice(hourly * catalog.hours_per_month + volume, instance_type, described)


def database_max_connections(memory_gib: float) -> int:
    """RDS for PostgreSQL's default max_connections for a class of ``memory_gib``."""
    instance_memory = memory_gib * 1024**3 * DB_INSTANCE_MEMORY_SHARE
    return min(MAX_CONNECTIONS_CAP, math.floor(instance_memory / MAX_CONNECTIONS_DIVISOR))


@dataclass(frozen=True)
class DataTierPlan:
    """The database and cache that hold a set of tenants, and their monthly cost."""

    database_class: str
    proxy: bool
    connections_needed: int
    connections_usable: int
    database_usd: float
    storage_gb: float
    storage_usd: float
    cache_node_type: str
    cache_shards: int
    cache_memory_needed_mib: int
    cache_usd: float
    notes: tuple[str, ...] = field(default=())

    @property
    def total_usd(self) -> float:
        return self.database_usd + self.storage_usd + self.cache_usd

    def described(self) -> str:
        connections = (
            f"RDS Proxy pooling {self.connections_needed} tenant connections onto its "
            f"{self.connections_usable} usable"
            if self.proxy
            else f"{self.connections_needed} of {self.connections_usable} usable connections"
        )
        shards = f" x {self.cache_shards} shards" if self.cache_shards > 1 else ""
        return (
            f"{self.database_class} ({connections}), {self.storage_gb:g} GB storage, "
            f"{self.cache_node_type}{shards} ({self.cache_memory_needed_mib} MiB cache)"
        )


@dataclass(frozen=True)
class DataTier:
    """The stack's database and cache settings with the prices that size them."""

    database: PostgresSettings
    cache: RedisSettings
    cache_nodes: int
    catalog: PriceCatalog
    purchase: PurchaseOptionsSettings

    @classmethod
    def of(cls, config: StackConfig, catalog: PriceCatalog) -> DataTier:
        from components.redis import RedisParts  # noqa: PLC0415 - keeps the import light

        return cls(
            database=config.database,
            cache=config.cache,
            cache_nodes=len(RedisParts(config.cache).members),
            catalog=catalog,
            purchase=config.cost_model.purchase_options,
        )

    @cached_property
    def _database_classes(self) -> list[tuple[str, float, float, int]]:
        """(class, hourly USD, memory GiB, vCPUs) of the catalog's classes of the stack's
        deployment (Single-AZ or Multi-AZ), cheapest first."""
        az = "multi-az" if self.database.multi_az else "single-az"
        factor = purchase_factor(self.catalog, self.purchase, "database")
        found = [
            (
                p.key.removeprefix("rds.postgres.").removesuffix(f".{az}"),
                p.usd * factor,
                p.memory_gib,
                p.vcpu or PROXY_MIN_VCPUS,
            )
            for p in self.catalog.prices
            if p.key.startswith("rds.postgres.") and p.key.endswith(f".{az}") and p.memory_gib
        ]
        return sorted(
            ((c, usd, float(mem or 0), vcpu) for c, usd, mem, vcpu in found), key=lambda x: x[1]
        )

    @cached_property
    def _cache_types(self) -> list[tuple[str, float, float]]:
        """(node type, hourly USD per node, usable MiB) of the catalog's cache nodes, cheapest
        first, priced for the stack's engine and purchase option."""
        factor = purchase_factor(self.catalog, self.purchase, "cache")
        if self.cache.engine is CacheEngine.VALKEY:
            factor *= self.catalog.factor("elasticache.valkey-factor").value
        return sorted(
            (
                (
                    p.key.removeprefix("elasticache.redis."),
                    p.usd * factor,
                    (p.memory_gib or 0) * 1024 * CACHE_USABLE_SHARE,
                )
                for p in self.catalog.prices
                if p.key.startswith("elasticache.redis.cache.") and p.memory_gib
            ),
            key=lambda x: x[1],
        )

    def plan(self, counts: Mapping[Tier, int]) -> DataTierPlan:
        """The cheapest database and cache, at or above the configured ones, that hold
        ``counts`` tenants."""
        hours = self.catalog.hours_per_month
        notes: list[str] = []
        connections = PLATFORM_DB_CONNECTIONS + sum(
            TIERS[t].database_connection_limit * n for t, n in counts.items()
        )
        classes = self._database_classes
        by_class = {c: (usd, mem, vcpu) for c, usd, mem, vcpu in classes}
        configured = self.database.instance_class
        if configured not in by_class:
            raise CostError(
                f"price catalog {self.catalog.region} has no memoryGib for {configured}: the "
                "capacity model needs it to size connections"
            )
        floor_usd = by_class[configured][0]
        proxy_hourly = self.catalog.price("rds.proxy").usd
        options: list[tuple[float, str, bool, int]] = []
        for name, usd, mem, vcpu in classes:
            if usd < floor_usd:
                continue
            usable = math.floor(database_max_connections(mem) * CONNECTIONS_USABLE_SHARE)
            if usable >= connections:
                options.append((usd * hours, name, False, usable))
            if name == configured:
                # RDS Proxy multiplexes the tenants' connections onto the class's own.
                proxies = max(1, math.ceil(sum(counts.values()) / PROXY_MAX_USERS))
                proxy = proxies * max(PROXY_MIN_VCPUS, vcpu) * proxy_hourly
                options.append(((usd + proxy) * hours, name, True, usable))
        database_usd, database_class, proxy, usable = min(options, key=lambda o: o[0])
        if database_class != configured or proxy:
            configured_usable = math.floor(
                database_max_connections(by_class[configured][1]) * CONNECTIONS_USABLE_SHARE
            )
            notes.append(
                f"{connections} connections exceed {configured}'s usable {configured_usable}"
                f": stepped up to {database_class}{' + RDS Proxy' if proxy else ''}"
            )
        storage_needed = sum(TIERS[t].database_storage_gib * n for t, n in counts.items())
        storage_gb = max(float(self.database.allocated_storage_gb), storage_needed)
        az = "multi-az" if self.database.multi_az else "single-az"
        storage_usd = storage_gb * self.catalog.price(f"rds.storage.gp3.{az}").usd
        if storage_gb > self.database.max_allocated_storage_gb:
            notes.append(
                f"{storage_gb:g} GB of data exceeds maxAllocatedStorageGb "
                f"{self.database.max_allocated_storage_gb}: raise it"
            )
        cache_needed = sum(TIERS[t].cache_memory_mib * n for t, n in counts.items())
        cache_types = self._cache_types
        by_type = {t: (usd, usable_mib) for t, usd, usable_mib in cache_types}
        configured_cache = self.cache.node_type
        cache_floor = by_type[configured_cache][0]
        fitting = [
            (t, usd)
            for t, usd, usable_mib in cache_types
            if usd >= cache_floor and usable_mib >= cache_needed
        ]
        if fitting:
            cache_type, cache_hourly = fitting[0]
            shards = 1
        else:
            cache_type, cache_hourly, usable_mib = max(cache_types, key=lambda x: x[2])
            shards = math.ceil(cache_needed / usable_mib)
        if cache_type != configured_cache or shards > 1:
            notes.append(
                f"{cache_needed} MiB of cache exceeds {configured_cache}: stepped up to "
                f"{cache_type}" + (f" x {shards} shards (cluster mode)" if shards > 1 else "")
            )
        cache_usd = cache_hourly * hours * self.cache_nodes * shards
        return DataTierPlan(
            database_class=database_class,
            proxy=proxy,
            connections_needed=connections,
            connections_usable=usable,
            database_usd=database_usd,
            storage_gb=storage_gb,
            storage_usd=storage_usd,
            cache_node_type=cache_type,
            cache_shards=shards,
            cache_memory_needed_mib=cache_needed,
            cache_usd=cache_usd,
            notes=tuple(notes),
        )


# --- cost per customer -----------------------------------------------------------------------


def tenant_volume_gib(counts: Mapping[Tier, int]) -> int:
    """The persistent-volume storage ``counts`` tenants may claim: each at its tier's quota."""
    return sum(TIERS[t].storage_gib * n for t, n in counts.items())


@dataclass(frozen=True)
class CostAt:
    """What ``customers`` tenants cost a month, and the parts of it."""

    customers: int
    nodes: int
    binding: str
    fixed_usd: float
    extra_nodes_usd: float
    volumes_usd: float
    data_tier_step_usd: float
    data_tier: DataTierPlan
    within_max: bool
    fits: bool

    @property
    def total_usd(self) -> float:
        return self.fixed_usd + self.extra_nodes_usd + self.volumes_usd + self.data_tier_step_usd

    @property
    def per_customer_usd(self) -> float:
        return self.total_usd / max(1, self.customers)

    def to_json(self, max_size: int) -> dict[str, Any]:
        n = max(1, self.customers)
        point: dict[str, Any] = {
            "customers": self.customers,
            "nodes": self.nodes,
            "bindingResource": self.binding,
            "usd": round(self.per_customer_usd, 2) if self.fits else None,
            "fixedShareUsd": round(self.fixed_usd / n, 2),
            "addedNodesShareUsd": round(self.extra_nodes_usd / n, 2),
            "volumesShareUsd": round(self.volumes_usd / n, 2),
            "dataTierStepShareUsd": round(self.data_tier_step_usd / n, 2),
            "totalMonthlyUsd": round(self.total_usd, 2),
            "dataTier": self.data_tier.described(),
            "withinNodeGroupMax": self.within_max,
        }
        if not self.within_max:
            point["note"] = f"needs {self.nodes} nodes: above the node group's maxSize {max_size}"
        if not self.fits:
            point["note"] = "a tier of this mix fits no node of the group's instance types"
        if self.data_tier.notes:
            point["dataTierNotes"] = list(self.data_tier.notes)
        return point


@dataclass(frozen=True)
class CustomerCostModel:
    """The stack's cost at any tenant count: the fixed cost (everything the estimate prices
    that does not depend on tenants, baseline nodes included), plus the nodes beyond the
    baseline the tenants need, their volumes and the data tier's steps above the configured
    database and cache."""

    capacity: CapacityModel
    node: NodePrice
    fixed_usd: float
    data_tier: DataTier
    volume_price_usd: float
    baseline_data_tier_usd: float

    def at(self, counts: Mapping[Tier, int]) -> CostAt:
        counts = {t: n for t, n in counts.items() if n}
        packing = self.capacity.pack(counts)
        extra = packing.nodes - self.capacity.group.desired_size
        plan = self.data_tier.plan(counts)
        return CostAt(
            customers=sum(counts.values()),
            nodes=packing.nodes,
            binding=packing.binding,
            fixed_usd=self.fixed_usd,
            extra_nodes_usd=extra * self.node.monthly_usd,
            volumes_usd=tenant_volume_gib(counts) * self.volume_price_usd,
            data_tier_step_usd=plan.total_usd - self.baseline_data_tier_usd,
            data_tier=plan,
            within_max=packing.nodes <= self.capacity.group.max_size,
            fits=all(self.capacity.tier_fits(t) for t in counts),
        )

    def holds_from(self, shares: Mapping[Tier, float], target_usd: float) -> int | None:
        """The fewest customers from which cost per customer stays at or below ``target_usd``
        up to ``TARGET_SEARCH_LIMIT`` customers (None when it is above it there).

        The monthly total never falls as customers are added (nodes, volumes and the data
        tier only grow), so a range of counts [a, b] all hold when total(b) <= target x a and
        all miss when total(a) > target x b; only ranges in between are split. That finds the
        last count that misses without pricing every count."""
        if any(not self.capacity.tier_fits(t) for t in shares):
            return None
        totals: dict[int, float] = {}

        def total_at(customers: int) -> float:
            if customers not in totals:
                totals[customers] = self.at(mix_counts(shares, customers)).total_usd
            return totals[customers]

        def last_miss(low: int, high: int) -> int | None:
            if total_at(high) <= target_usd * low:
                return None
            if total_at(low) > target_usd * high or low == high:
                return high
            middle = (low + high) // 2
            found = last_miss(middle + 1, high)
            return found if found is not None else last_miss(low, middle)

        missed = last_miss(1, TARGET_SEARCH_LIMIT)
        if missed is None:
            return 1
        return None if missed == TARGET_SEARCH_LIMIT else missed + 1

    def with_node_group(
        self, group: NodeGroupSettings, node: NodePrice, config: StackConfig
    ) -> CustomerCostModel:
        """The same stack with another tenant node group (a node-type or purchase change):
        the fixed cost swaps the baseline nodes' price."""
        baseline = self.capacity.group.desired_size
        return CustomerCostModel(
            capacity=CapacityModel.of(config, group),
            node=node,
            fixed_usd=self.fixed_usd + baseline * (node.monthly_usd - self.node.monthly_usd),
            data_tier=self.data_tier,
            volume_price_usd=self.volume_price_usd,
            baseline_data_tier_usd=self.baseline_data_tier_usd,
        )


def capacity_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """What about the configured tenants the stack cannot hold: (key path, value, message).

    A configured tenant whose tier's largest container fits no node of the tenant node group,
    and configured tenants that need more nodes than the group's ``maxSize``."""
    if not config.cluster.node_groups:
        return []
    try:
        model = CapacityModel.of(config)
    except CapacityError:
        return []  # the node group's own validation reports an unknown instance type
    group = model.group
    problems: list[tuple[str, Any, str]] = []
    for index, tenant in enumerate(config.tenants):
        if not model.tier_fits(tenant.tier):
            container = largest_container(tenant.tier)
            problems.append(
                (
                    f"tenants[{index}].tier",
                    str(tenant.tier),
                    f"the tier's largest container ({container}) exceeds what a node of "
                    f"node group {group.name!r} ({', '.join(group.instance_types)}) offers pods "
                    f"({model.per_node.cpu_millicores:,}m CPU / {model.per_node.memory_mib:,} "
                    "MiB after DaemonSets): choose a smaller tier or a larger instance type",
                )
            )
    counts = tier_counts(config)
    packing = model.pack(counts)
    if packing.nodes > group.max_size:
        problems.append(
            (
                "tenants",
                f"{len(config.tenants)} tenants",
                f"need {packing.nodes} nodes of node group {group.name!r} ({packing.binding} "
                f"binds first), above its maxSize {group.max_size}: raise "
                f"cluster.nodeGroups[{TENANT_NODE_GROUP}].maxSize to {packing.nodes} or more, "
                "or choose a larger instance type",
            )
        )
    return problems


def tier_counts(config: StackConfig) -> dict[Tier, int]:
    """Configured tenants per tier."""
    counts: dict[Tier, int] = {}
    for tenant in config.tenants:
        counts[tenant.tier] = counts.get(tenant.tier, 0) + 1
    return counts


def mix_shares(config: StackConfig) -> tuple[dict[Tier, float], str]:
    """The tier mix the mix figures use: the configured tenants', else the planning mix."""
    counts = tier_counts(config)
    if counts:
        n = sum(counts.values())
        return {t: c / n for t, c in counts.items()}, f"the {n} configured tenants"
    planning = config.cost_model.planning_tier_mix
    return (
        {Tier(t): share for t, share in planning.items()},
        "costModel.planningTierMix (no tenants configured)",
    )


NodePriceOf = Callable[[NodeGroupSettings], NodePrice]


#: Burstable families: tenants' reserved CPU runs above their baseline (20% a vCPU for t4g
#: medium) whenever tenants use what they reserve, billed as CPU credits or throttled, so they
#: are not offered as a cheaper node type for tenants.
BURSTABLE_FAMILIES = ("t3.", "t4g.")


def alternatives(  # noqa: PLR0917 - each argument is a different input of the comparison
    model: CustomerCostModel,
    config: StackConfig,
    catalog: PriceCatalog,
    price_of: NodePriceOf,
    tiers: Sequence[Tier],
    targets: Sequence[float],
    at_customers: int,
) -> list[dict[str, Any]]:
    """What other node types (not burstable, priced in the catalog), the compute purchase
    option, and both together would do to each tier's cost per customer at ``at_customers`` and
    to where each target holds, cheapest first."""
    group = model.capacity.group
    options = config.cost_model.purchase_options
    can_commit = group.capacity_type is CapacityType.ON_DEMAND and options.compute == "on-demand"
    committed = options.model_copy(update={"compute": "savings-plan-1yr"})
    priced = {p.key for p in catalog.prices}
    committable = can_commit and "purchase.compute.savings-plan-1yr" in {
        f.key for f in catalog.factors
    }
    results: list[dict[str, Any]] = []
    for instance_type in sorted(INSTANCE_SHAPES):
        if instance_type.startswith(BURSTABLE_FAMILIES):
            continue
        if f"ec2.instance.{instance_type}" not in priced:
            continue
        candidate = group.model_copy(update={"instance_types": [instance_type]})
        if [instance_type] != group.instance_types:
            results.append(
                _effect(
                    f"node type {instance_type}",
                    model.with_node_group(candidate, price_of(candidate), config),
                    tiers,
                    targets,
                    at_customers,
                )
            )
        if committable:
            node = node_price(
                catalog,
                candidate,
                spot_discount_percent=config.cost_model.spot_discount_percent,
                purchase=committed,
            )
            label = (
                "compute purchase option savings-plan-1yr"
                if [instance_type] == group.instance_types
                else f"node type {instance_type} with compute savings-plan-1yr"
            )
            results.append(
                _effect(
                    label,
                    model.with_node_group(candidate, node, config),
                    tiers,
                    targets,
                    at_customers,
                )
            )
    return sorted(
        results,
        key=lambda r: min((v for v in r["usdAt"].values() if v is not None), default=math.inf),
    )


def _effect(
    label: str,
    model: CustomerCostModel,
    tiers: Sequence[Tier],
    targets: Sequence[float],
    at_customers: int,
) -> dict[str, Any]:
    usd_at: dict[str, float | None] = {}
    holds: dict[str, dict[str, int | None]] = {}
    for tier in tiers:
        if not model.capacity.tier_fits(tier):
            usd_at[str(tier)] = None
            holds[str(tier)] = {f"{t:g}": None for t in targets}
            continue
        usd_at[str(tier)] = round(model.at({tier: at_customers}).per_customer_usd, 2)
        holds[str(tier)] = {f"{t:g}": model.holds_from({tier: 1.0}, t) for t in targets}
    return {
        "change": label,
        "pricedOn": model.node.described,
        "usdAt": usd_at,
        "atCustomers": at_customers,
        "targetHoldsFrom": holds,
    }
