"""Zone loss: what each tier of a stack still serves, and with what, when one zone is lost.

``simulate(parts, zones)`` takes a stack's composition (``StackParts.of(config)``) and the zones
its network spans, removes each zone in turn and reports, tier by tier, the state (serving,
degraded, down), the capacity left and why, then a verdict: the stack survives the loss when no
request-path tier is down; every tier that goes down names its single point of failure.

The zones are the names the program placed the subnets in: the ``network.availabilityZones``
output of a plan (``infractl plan``) or of a deployed stack. They come from the program's own
look-up (``choose_availability_zones``: the configured zone IDs, or else the first ``azCount``
zones of the region that need no opt-in and that Amazon EKS supports), so the report names the
zones the stack really uses, in the order that gives them their role: the single NAT gateway
sits in the first. Deriving them from ``azCount`` and the region's zone letters instead would
repeat that look-up's rules and could disagree with it.

Placement rules, as the components declare them:

- **egress**: a NAT gateway in each zone of ``NetworkParts.nat_zone_indexes``; each zone's private
  subnets leave through the gateway of their own zone, or the last one there is
  (``Network._private_routing``);
- **nodes**: each managed node group spans the private subnets of every zone; its desiredSize is
  taken as spread evenly across them, the remainder on the first zones (EC2 Auto Scaling balances
  a group across its zones). Once a zone is lost the group launches in the zones that remain, up
  to maxSize, when the capacity is there and the new nodes can reach the EC2, ECR and STS APIs:
  the VPC has no interface endpoints, so that takes NAT egress. The platform's requests, the
  DaemonSets on every node and each tenant's quota (``infra/node_capacity.py``) must fit what the
  nodes left offer. The sum is compared with the sum, so a fit is necessary, not sufficient: it
  ignores how pods pack onto nodes;
- **database and cache**: the stack does not pin the zone of the primary (RDS and ElastiCache
  choose it within the subnet group), so unless ``Placement`` names it, each zone's loss is
  reported as if the primary were there: the worst case;
- **load balancer**: the ingress ALB spans the public subnets of every zone;
- **control plane**: EKS runs it across three zones of the region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from components.network import NatStrategy, NetworkParts
from components.node_group import NodeGroupParts, TaintEffect
from components.postgres import PostgresParts
from components.redis import RedisParts
from infra.composition import StackParts
from infra.node_capacity import (
    EC2_INSTANCE_TYPES,
    ENI_MAX_PODS,
    KARPENTER_VM_OVERHEAD,
    NODEADM_RESERVATION,
    ZERO,
    Resources,
    daemonsets,
    node_allocatable,
    platform_workloads,
    tenant_requests,
    total,
)

RESTORE_RTO_MINUTES = 60
"""The recovery time objective ``infractl restore-drill`` times a restore against (its
``--rto-minutes`` default; docs/deploying.md, 'Restore rehearsal')."""

#: Where the times and behaviours the report states come from, cited once under every report.
SOURCES = (
    "RDS Multi-AZ failover, typically 60-120 s: Amazon RDS User Guide, 'Failing over a Multi-AZ "
    "DB instance for Amazon RDS'",
    "RDS point-in-time restore to the latest restorable time, typically the last 5 minutes: "
    "Amazon RDS User Guide, 'Restoring a DB instance to a specified time'",
    "ElastiCache replica promotion, 'typically just a few seconds': Amazon ElastiCache, "
    "'Minimizing downtime in ElastiCache by using Multi-AZ with Valkey and Redis OSS'",
    f"Restore RTO, {RESTORE_RTO_MINUTES} minutes: infractl restore-drill (docs/deploying.md, "
    "'Restore rehearsal')",
    "Load balancer nodes only in healthy zones; an ALB needs two zones: Elastic Load Balancing "
    "User Guide, 'Availability Zones and load balancer nodes'",
    "Nodes launched in the zones that remain: Amazon EC2 Auto Scaling User Guide, 'Availability "
    "Zone rebalancing'",
    "EKS control plane across three Availability Zones: Amazon EKS User Guide, 'Amazon EKS "
    "architecture'",
    f"Node allocatable: {NODEADM_RESERVATION}; memory less {KARPENTER_VM_OVERHEAD}; "
    f"{ENI_MAX_PODS}; {EC2_INSTANCE_TYPES}",
)


class Tier(StrEnum):
    """The parts of the stack a zone loss is reported for, in request order."""

    LOAD_BALANCER = "load balancer"
    NODES = "nodes"
    DATABASE = "database"
    CACHE = "cache"
    EGRESS = "egress"
    CONTROL_PLANE = "control plane"


class ServicePath(StrEnum):
    """Whether customers' requests need a tier while it is down."""

    REQUEST = "request"
    """The API path, or what it needs to recover: egress is here because a pod rescheduled from
    the lost zone starts only once its image is pulled and the load balancer controller has
    registered it, and a new node joins only through the EC2, ECR and STS APIs."""
    CONTROL = "control"
    """Serves no request while down: running workloads keep serving without it."""


class State(StrEnum):
    SERVING = "serving"
    DEGRADED = "degraded"
    DOWN = "down"


class ZoneLossError(ValueError):
    """The zones or the placement given do not fit the stack."""


@dataclass(frozen=True)
class Placement:
    """The zones of the data stores' primaries, when known (the console shows them): without
    them each zone's loss is reported as if the primary were there."""

    database: str | None = None
    cache: str | None = None


@dataclass(frozen=True)
class NodeFigures:
    """The node groups' capacity against the requests, with some zones left."""

    nodes: int
    """Nodes running in the zones left."""
    max_nodes: int
    """The groups' maxSize together: the most the autoscaler may run."""
    can_scale: bool
    """Whether new nodes can join in the zones left (they need NAT egress)."""
    capacity: Resources
    """What the nodes left offer the platform's and tenants' pods (after the DaemonSets)."""
    platform: Resources
    """The platform's cluster-wide requests."""
    tenants: Resources
    """Every tenant's quota requests together."""
    nodes_needed: int | None
    """The fewest nodes (at most maxSize, in the zones left) that hold every request; None when
    even maxSize does not."""

    @property
    def demand(self) -> Resources:
        return self.platform + self.tenants

    @property
    def fits(self) -> bool:
        return self.capacity.covers(self.demand)

    @property
    def shortfall(self) -> Resources:
        return self.capacity.shortfall(self.demand)

    @property
    def spare(self) -> Resources:
        return self.capacity - self.demand

    def to_json(self) -> dict[str, Any]:
        def resources(value: Resources) -> dict[str, int]:
            return {"cpuMillicores": value.cpu_millicores, "memoryMib": value.memory_mib}

        return {
            "nodes": self.nodes,
            "maxNodes": self.max_nodes,
            "canScale": self.can_scale,
            "capacity": resources(self.capacity),
            "platform": resources(self.platform),
            "tenants": resources(self.tenants),
            "fits": self.fits,
            "shortfall": resources(self.shortfall),
            "nodesNeeded": self.nodes_needed,
        }


@dataclass(frozen=True)
class TierOutcome:
    """One tier with one zone lost."""

    tier: Tier
    state: State
    capacity: str
    """What is left, in the tier's own terms."""
    detail: str
    """Why, with the documented times it takes."""
    single_point_of_failure: str | None = None
    """The component whose zone took the tier down; None unless the tier is down."""
    nodes: NodeFigures | None = None
    """The capacity figures of the nodes tier."""

    @property
    def path(self) -> ServicePath:
        return ServicePath.CONTROL if self.tier is Tier.CONTROL_PLANE else ServicePath.REQUEST

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "tier": str(self.tier),
            "path": str(self.path),
            "state": str(self.state),
            "capacity": self.capacity,
            "detail": self.detail,
            "singlePointOfFailure": self.single_point_of_failure,
        }
        if self.nodes is not None:
            document["figures"] = self.nodes.to_json()
        return document


@dataclass(frozen=True)
class ZoneLoss:
    """Every tier with one zone lost."""

    zone: str
    tiers: tuple[TierOutcome, ...]

    def outcome(self, tier: Tier) -> TierOutcome:
        return next(outcome for outcome in self.tiers if outcome.tier is tier)

    @property
    def survives(self) -> bool:
        """No request-path tier is down: each serves, if degraded."""
        return not any(o.state is State.DOWN and o.path is ServicePath.REQUEST for o in self.tiers)

    @property
    def down(self) -> tuple[TierOutcome, ...]:
        return tuple(o for o in self.tiers if o.state is State.DOWN)

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "survives": self.survives,
            "tiers": [outcome.to_json() for outcome in self.tiers],
        }


@dataclass(frozen=True)
class SinglePointOfFailure:
    """A component one zone's loss takes down with its tier."""

    tier: Tier
    component: str
    zones: tuple[str, ...]
    """The zones whose loss takes it down."""


@dataclass(frozen=True)
class ZoneLossReport:
    """A stack's zones, each one's loss, and the nodes before any."""

    stack: str
    environment: str
    zones: tuple[str, ...]
    placement: Placement
    baseline: NodeFigures
    """The nodes with every zone up, at desiredSize."""
    losses: tuple[ZoneLoss, ...]

    def loss_of(self, zone: str) -> ZoneLoss:
        return next(loss for loss in self.losses if loss.zone == zone)

    @property
    def survives_any_single_zone(self) -> bool:
        return all(loss.survives for loss in self.losses)

    @property
    def single_points_of_failure(self) -> tuple[SinglePointOfFailure, ...]:
        """Each component that some zone's loss takes down, with those zones, in tier order."""
        found: dict[tuple[Tier, str], list[str]] = {}
        for loss in self.losses:
            for outcome in loss.down:
                component = outcome.single_point_of_failure or str(outcome.tier)
                found.setdefault((outcome.tier, component), []).append(loss.zone)
        order = list(Tier)
        return tuple(
            SinglePointOfFailure(tier, component, tuple(zones))
            for (tier, component), zones in sorted(
                found.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "zones": list(self.zones),
            "placement": {"database": self.placement.database, "cache": self.placement.cache},
            "survivesAnySingleZone": self.survives_any_single_zone,
            "singlePointsOfFailure": [
                {"tier": str(s.tier), "component": s.component, "zones": list(s.zones)}
                for s in self.single_points_of_failure
            ],
            "baseline": self.baseline.to_json(),
            "losses": [loss.to_json() for loss in self.losses],
        }


def simulate(
    parts: StackParts, zones: Sequence[str], placement: Placement | None = None
) -> ZoneLossReport:
    """Remove each of ``zones`` in turn from the stack ``parts`` compose and report every tier.

    ``zones`` are the stack's zones in the program's order (the ``network.availabilityZones``
    output); ``placement`` names the data stores' primary zones when they are known.
    """
    config = parts.config
    zones = tuple(zones)
    placement = placement or Placement()
    if len(zones) != config.network.az_count or len(set(zones)) != len(zones):
        raise ZoneLossError(
            f"the stack spans network.azCount = {config.network.az_count} zones; got "
            f"{len(zones)} ({', '.join(zones) or 'none'}): give the network.availabilityZones "
            "output of its plan"
        )
    for store, zone in (("database", placement.database), ("cache", placement.cache)):
        if zone is not None and zone not in zones:
            raise ZoneLossError(
                f"the {store} cannot be in {zone}: the stack's zones are {', '.join(zones)}"
            )
    compute = _Compute.of(parts)
    return ZoneLossReport(
        stack=config.stack,
        environment=str(config.environment),
        zones=zones,
        placement=placement,
        baseline=compute.figures(range(len(zones)), can_scale=True),
        losses=tuple(_lose(parts, compute, zones, lost, placement) for lost in range(len(zones))),
    )


def _lose(
    parts: StackParts,
    compute: _Compute,
    zones: tuple[str, ...],
    lost: int,
    placement: Placement,
) -> ZoneLoss:
    left = [index for index in range(len(zones)) if index != lost]
    # Zones whose private subnets still reach a NAT gateway.
    egress_left = [i for i in left if nat_zone_for(parts.network, i) not in {lost, None}]
    return ZoneLoss(
        zone=zones[lost],
        tiers=(
            _load_balancer(zones, lost),
            _nodes(compute, zones, lost, can_scale=bool(left) and egress_left == left),
            _database(parts.database, zones[lost], left, placement.database),
            _cache(parts.cache, zones[lost], left, placement.cache),
            _egress(parts.network, zones, lost, egress_left),
            _control_plane(),
        ),
    )


def nat_zone_for(network: NetworkParts, index: int) -> int | None:
    """The zone whose NAT gateway the private subnets of zone ``index`` leave through: their
    own zone's, or the last gateway's (as ``Network._private_routing`` routes them); None
    without NAT gateways."""
    gateways = network.nat_zone_indexes
    return gateways[min(index, len(gateways) - 1)] if gateways else None


def _egress(
    network: NetworkParts, zones: tuple[str, ...], lost: int, egress_left: list[int]
) -> TierOutcome:
    gateways = network.nat_zone_indexes
    left = [zones[i] for i in range(len(zones)) if i != lost]
    if not gateways:
        return TierOutcome(
            Tier.EGRESS,
            State.SERVING,
            "no NAT gateway (natStrategy none)",
            "private subnets have no internet egress, zone loss or not: AWS APIs are reached "
            "through VPC endpoints only",
        )
    surviving = len([i for i in gateways if i != lost])
    capacity = f"{surviving} of {len(gateways)} NAT gateway{'s' if len(gateways) > 1 else ''}"
    cut = [zones[i] for i in range(len(zones)) if i != lost and i not in egress_left]
    if not left:
        return _zone_gone(Tier.EGRESS, capacity, "the NAT gateways' only zone")
    if not cut:
        how = (
            "each zone left leaves through its own NAT gateway"
            if network.settings.nat_strategy is NatStrategy.ONE_PER_AZ
            else f"the NAT gateway in {zones[min(gateways)]} still serves {', '.join(left)}"
        )
        return TierOutcome(
            Tier.EGRESS,
            State.SERVING,
            capacity,
            f"{how}; the lost zone's private subnets went with it",
        )
    effect = (
        f"the private subnets of {', '.join(cut)} lose internet egress: no image pulls from ECR, "
        "no new node joins (EC2, ECR and STS APIs), the load balancer controller cannot register "
        "rescheduled pods and Alertmanager cannot notify"
    )
    if egress_left:
        return TierOutcome(Tier.EGRESS, State.DEGRADED, capacity, effect)
    component = "the one NAT gateway" if len(gateways) == 1 else "the NAT gateways"
    return TierOutcome(
        Tier.EGRESS,
        State.DOWN,
        capacity,
        f"{effect}, until {zones[lost]} returns",
        single_point_of_failure=component,
    )


@dataclass(frozen=True)
class _Group:
    """A node group as the simulation sees it: its nodes per zone and what each offers."""

    name: str
    per_zone: tuple[int, ...]
    max_size: int
    per_node: Resources
    """What one node offers the platform's and tenants' pods: allocatable less DaemonSets."""
    schedulable: bool
    """False when a NoSchedule or NoExecute taint keeps the platform and tenants off it."""

    @classmethod
    def of(cls, group: NodeGroupParts, zones: int, daemonset_requests: Resources) -> _Group:
        settings = group.settings
        repels = {TaintEffect.NO_SCHEDULE, TaintEffect.NO_EXECUTE}
        return cls(
            name=settings.name,
            per_zone=spread_evenly(group.node_count, zones),
            max_size=settings.max_size,
            per_node=node_allocatable(settings.instance_types) - daemonset_requests,
            schedulable=not any(t.effect in repels for t in settings.taints),
        )


@dataclass(frozen=True)
class _Compute:
    """The node groups and what is asked of them."""

    groups: tuple[_Group, ...]
    platform: Resources
    tenants: Resources

    @classmethod
    def of(cls, parts: StackParts) -> _Compute:
        config = parts.config
        per_node = total(daemonsets(config.platform))
        return cls(
            groups=tuple(
                _Group.of(group, config.network.az_count, per_node)
                for group in parts.compute.node_groups
            ),
            platform=total(platform_workloads(config.platform, config.environment)),
            tenants=sum((tenant_requests(t) for t in config.tenants), ZERO),
        )

    def figures(self, zones_left: Sequence[int], *, can_scale: bool) -> NodeFigures:
        """The capacity of the nodes in ``zones_left``, and the fewest nodes (up to maxSize,
        added one group at a time) that hold every request."""
        counts = {g.name: sum(g.per_zone[i] for i in zones_left) for g in self.groups}
        usable = [g for g in self.groups if g.schedulable]
        demand = self.platform + self.tenants

        def capacity(node_counts: Mapping[str, int]) -> Resources:
            return sum((g.per_node.times(node_counts[g.name]) for g in usable), ZERO)

        grown = dict(counts)
        while zones_left and not capacity(grown).covers(demand):
            room = [g for g in usable if grown[g.name] < g.max_size]
            if not room:
                break
            grown[room[0].name] += 1
        fits_grown = bool(zones_left) and capacity(grown).covers(demand)
        return NodeFigures(
            nodes=sum(counts.values()),
            max_nodes=sum(g.max_size for g in self.groups),
            can_scale=can_scale,
            capacity=capacity(counts),
            platform=self.platform,
            tenants=self.tenants,
            nodes_needed=sum(grown.values()) if fits_grown else None,
        )


def spread_evenly(count: int, zones: int) -> tuple[int, ...]:
    """``count`` nodes over ``zones`` zones: as even as can be, the remainder on the first."""
    base, remainder = divmod(count, zones)
    return tuple(base + (1 if index < remainder else 0) for index in range(zones))


def _nodes(compute: _Compute, zones: tuple[str, ...], lost: int, *, can_scale: bool) -> TierOutcome:
    left = [index for index in range(len(zones)) if index != lost]
    figures = compute.figures(left, can_scale=can_scale)
    before = sum(sum(g.per_zone) for g in compute.groups)
    capacity = (
        f"{figures.nodes} of {before} nodes: {figures.capacity} for pods after the DaemonSets; "
        f"requested: platform {figures.platform}, tenants {figures.tenants}"
    )
    if not left:
        return _zone_gone(Tier.NODES, capacity, "every node (all in the only zone)")
    if figures.capacity.cpu_millicores <= 0:
        return TierOutcome(
            Tier.NODES,
            State.DOWN,
            capacity,
            f"no schedulable node is left in {', '.join(zones[i] for i in left)}"
            + (
                f"; the autoscaler launches nodes in the zones left, up to {figures.max_nodes}, "
                "within minutes"
                if can_scale
                else "; none can join without NAT egress"
            ),
            single_point_of_failure=f"every node (all in {zones[lost]})",
            nodes=figures,
        )
    scaling = _scaling(figures)
    if figures.fits:
        return TierOutcome(
            Tier.NODES,
            State.SERVING,
            capacity,
            f"everything fits with {figures.spare} to spare; {scaling}",
            nodes=figures,
        )
    return TierOutcome(
        Tier.NODES,
        State.DEGRADED,
        capacity,
        f"insufficient: short {_short(figures.shortfall)} for the platform and tenants' "
        f"requests; {scaling}",
        nodes=figures,
    )


def _scaling(figures: NodeFigures) -> str:
    """What the autoscaler can do about it."""
    if not figures.can_scale:
        return "no node can join in the zones left: they have no NAT egress (EC2, ECR, STS APIs)"
    if figures.nodes_needed is None:
        return f"still short at maxSize ({figures.max_nodes} nodes) in the zones left"
    if figures.nodes_needed <= figures.nodes:
        return f"the autoscaler may add up to {figures.max_nodes} in the zones left"
    return (
        f"the autoscaler launches nodes in the zones left: everything fits again at "
        f"{figures.nodes_needed} nodes (maxSize {figures.max_nodes}), once they have started"
    )


def _short(shortfall: Resources) -> str:
    parts: list[str] = []
    if shortfall.cpu_millicores:
        parts.append(f"{shortfall.cpu_millicores:,}m CPU")
    if shortfall.memory_mib:
        parts.append(f"{shortfall.memory_mib:,} MiB memory")
    return " and ".join(parts)


def _database(
    database: PostgresParts, lost: str, left: list[int], primary: str | None
) -> TierOutcome:
    settings = database.settings
    restore = (
        f"restored from backup into a zone left (RTO {RESTORE_RTO_MINUTES} minutes), with the "
        "data up to the latest restorable time, typically the last 5 minutes"
    )
    if not left:
        return _zone_gone(Tier.DATABASE, "no zone left", "the database's only zone")
    if settings.multi_az:
        if primary is not None and primary != lost:
            return TierOutcome(
                Tier.DATABASE,
                State.SERVING,
                "the primary, without a standby if it was in the lost zone",
                f"Multi-AZ: the primary in {primary} serves on; RDS replaces a lost standby",
            )
        where = f"the primary is in {lost}" if primary else f"if the primary is in {lost}"
        return TierOutcome(
            Tier.DATABASE,
            State.DEGRADED,
            "the standby, promoted",
            f"Multi-AZ: {where}, RDS fails over to the synchronous standby in another zone, "
            "typically in 60-120 s; connections fail meanwhile and no data is lost. Losing the "
            "standby's zone instead leaves the primary serving without one",
        )
    if primary is not None and primary != lost:
        return TierOutcome(
            Tier.DATABASE,
            State.SERVING,
            "the instance, unaffected",
            f"Single-AZ: the instance is in {primary}; losing {primary} would take it down",
        )
    where = (
        f"the instance is in {lost}"
        if primary
        else f"if the instance is in {lost} (RDS chose its zone: the stack does not pin it)"
    )
    return TierOutcome(
        Tier.DATABASE,
        State.DOWN,
        "none",
        f"Single-AZ: {where}, the database is down until the zone returns or it is {restore}",
        single_point_of_failure="the Single-AZ instance",
    )


def _cache(cache: RedisParts, lost: str, left: list[int], primary: str | None) -> TierOutcome:
    settings = cache.settings
    nodes = len(cache.members)
    if not left:
        return _zone_gone(Tier.CACHE, "no zone left", "the cache's only zone")
    if settings.highly_available:
        if primary is not None and primary != lost:
            return TierOutcome(
                Tier.CACHE,
                State.SERVING,
                "the primary, and the replicas in the zones left",
                f"Multi-AZ: the primary in {primary} serves on; ElastiCache replaces a lost "
                "replica in its zone once it returns",
            )
        where = f"the primary is in {lost}" if primary else f"if the primary is in {lost}"
        return TierOutcome(
            Tier.CACHE,
            State.DEGRADED,
            f"{nodes - 1} of {nodes} nodes, a replica promoted",
            f"Multi-AZ with automatic failover: {where}, ElastiCache promotes the replica with "
            "the least replication lag, typically in a few seconds; writes it had not yet "
            "received are lost (replication is asynchronous)",
        )
    if primary is not None and primary != lost:
        return TierOutcome(
            Tier.CACHE,
            State.SERVING,
            "the node, unaffected",
            f"one node, in {primary}; losing {primary} would take the cache down",
        )
    where = (
        f"the node is in {lost}"
        if primary
        else f"if the node is in {lost} (ElastiCache chose its zone)"
    )
    return TierOutcome(
        Tier.CACHE,
        State.DOWN,
        "none",
        f"one node, nothing to fail over to: {where}, the cache is down until the zone returns "
        f"or it is restored from its daily snapshot (window {settings.snapshot_window} UTC) into "
        f"a zone left, RTO {RESTORE_RTO_MINUTES} minutes; what was written since that snapshot "
        "is lost",
        single_point_of_failure="the single node",
    )


def _load_balancer(zones: tuple[str, ...], lost: int) -> TierOutcome:
    left = [zone for index, zone in enumerate(zones) if index != lost]
    capacity = f"public subnets in {len(left)} of {len(zones)} zones"
    if not left:
        return _zone_gone(Tier.LOAD_BALANCER, capacity, "the load balancer's only zone")
    if len(left) == 1:
        return TierOutcome(
            Tier.LOAD_BALANCER,
            State.DEGRADED,
            capacity,
            f"the ingress ALB serves from {left[0]} alone, and cannot be changed or recreated "
            "until another zone is back: an ALB needs subnets in two zones",
        )
    return TierOutcome(
        Tier.LOAD_BALANCER,
        State.SERVING,
        capacity,
        f"the internet-facing ingress ALB keeps serving from {', '.join(left)}: the load "
        "balancer routes only to the zones that remain",
    )


def _control_plane() -> TierOutcome:
    return TierOutcome(
        Tier.CONTROL_PLANE,
        State.SERVING,
        "AWS-managed",
        "AWS runs the EKS control plane across three zones of the region; running pods do not "
        "depend on it",
    )


def _zone_gone(tier: Tier, capacity: str, component: str) -> TierOutcome:
    """A tier of a single-zone stack, whose one zone is the one lost."""
    return TierOutcome(
        tier,
        State.DOWN,
        capacity,
        "the stack has no other zone",
        single_point_of_failure=component,
    )
