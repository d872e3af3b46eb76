"""The stack's availability: each path a customer (or an operator) depends on, composed from the
catalog's published figures and the redundancy the stack declares.

Paths, built from ``StackParts`` (what the program declares), so a change of topology changes
the figure:

- request paths: ``api`` (Route 53, the ingress ALB, the nodes, PostgreSQL and Redis);
  ``landing`` and ``demo`` (Route 53, Vercel), when the zone sends those names to Vercel; ``cdn``
  (Route 53, CloudFront, WAF when on, the S3 origin);
- the control path, ``control`` (the EKS control plane, NAT egress for image pulls, ECR, CI
  deploys): it serves no request while down.

Like the cost estimate, the model needs only the configuration, so the program computes it (and
``check_availability`` holds prod to its targets) before declaring any resource.
docs/architecture.md ("Availability") computes the API path by hand and explains the rule for a
shortfall the design cannot avoid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from components.availability import (
    CATALOG_FILE,
    HOURS_PER_MONTH,
    MINUTES_PER_MONTH,
    AcceptedShortfall,
    AvailabilityCatalog,
    AvailabilityError,
    AvailabilityPath,
    Figure,
    Link,
    PathKind,
    PathName,
    at_least,
    downtime_minutes,
    load_availability_catalog,
)
from components.base import Environment
from components.dns_zone import VERCEL_TARGETS
from components.network import NatStrategy, SubnetTier
from components.node_group import CapacityType
from components.redis import CacheEngine
from infra.composition import StackParts
from infra.config import PROJECT, StackConfig
from infra.cost import estimate_stack

#: The configuration key of the targets and accepted shortfalls.
KEY = f"{PROJECT}:availability"

_ENGINES = {CacheEngine.REDIS: "Redis OSS", CacheEngine.VALKEY: "Valkey"}


def _pct(percent: float) -> str:
    """99.92001799 -> ``99.92``; 100 -> ``100``: four decimals at most, as the output rounds."""
    return f"{percent:.4f}".rstrip("0").rstrip(".")


# --- the paths -----------------------------------------------------------------------------


def _dns(catalog: AvailabilityCatalog, path: PathName, host: str) -> Link:
    figure = catalog.figure("route53.dns", needed_by=f"the {path} path's DNS (Route 53 zone)")
    return Link.single("Route 53 (DNS)", figure, f"the stack's hosted zone answers for {host}")


def _api(parts: StackParts, catalog: AvailabilityCatalog) -> AvailabilityPath:
    """Route 53, the one ingress ALB in the public subnets, the nodes, PostgreSQL, Redis."""
    config = parts.config
    path = PathName.API
    zones = len(parts.network.layout[SubnetTier.PUBLIC])
    alb = catalog.figure(
        "elb.multi-az" if zones >= 2 else "elb.single-az",
        needed_by=f"the api path's ingress ALB ({zones} public subnet(s))",
    )
    return AvailabilityPath(
        path,
        PathKind.REQUEST,
        "the API: Route 53, the ingress ALB, the nodes, PostgreSQL and Redis",
        (
            _dns(catalog, path, f"the API's host name in {config.dns.zone_name}"),
            Link.single(
                f"Ingress ALB ({zones} zone{'s' if zones > 1 else ''})",
                alb,
                f"one internet-facing ALB across the {zones} public subnet(s), one per zone"
                + (" (a Multi-AZ load balancer: counted once)" if zones >= 2 else ""),
            ),
            *_api_web_acl(parts, catalog),
            _nodes(parts, catalog),
            _database(parts, catalog),
            _cache(parts, catalog),
        ),
    )


def _api_web_acl(parts: StackParts, catalog: AvailabilityCatalog) -> tuple[Link, ...]:
    """The regional web ACL is in series only when the ALB fails closed: with
    ``waf.fail_open.enabled`` a WAF outage lets requests through unfiltered instead."""
    waf = parts.ingress.waf
    if waf is None or waf.fail_open:
        return ()
    figure = catalog.figure("waf.web-acl", needed_by="the api path's web ACL (fails closed)")
    return (
        Link.single(
            "WAF web ACL (regional)",
            figure,
            "every request is evaluated by the web ACL; the ALB fails closed without it",
        ),
    )


def _nodes(parts: StackParts, catalog: AvailabilityCatalog) -> Link:
    """The node group covering the most zones: ``min(minSize, zones)`` of them, in parallel."""
    zones = parts.config.network.az_count
    groups = [group.settings for group in parts.compute.node_groups]
    covered = {group.name: min(group.min_size, zones) for group in groups}
    group = max(groups, key=lambda g: covered[g.name])
    needed = "the api path's nodes"
    return Link.across_zones(
        f"Nodes ({group.name}: {covered[group.name]} of {zones} zones)",
        catalog.figure("ec2.instance-level", needed_by=f"{needed} (the capacity of one zone)"),
        covered[group.name],
        catalog.figure("ec2.region-level", needed_by=f"{needed} (capacity across zones)"),
        what=f"node group {group.name} (minSize {group.min_size})",
    )


def _database(parts: StackParts, catalog: AvailabilityCatalog) -> Link:
    settings = parts.database.settings
    if settings.multi_az:
        figure = catalog.figure("rds.multi-az", needed_by="the api path's PostgreSQL (Multi-AZ)")
        return Link.single(
            "PostgreSQL (RDS Multi-AZ)",
            figure,
            f"{settings.instance_class} with a synchronous standby in a second zone; the "
            "failover is what the Multi-AZ SLA covers, so the two zones are counted once",
        )
    figure = catalog.figure("rds.single-az", needed_by="the api path's PostgreSQL (Single-AZ)")
    return Link.single(
        "PostgreSQL (RDS Single-AZ)", figure, f"{settings.instance_class} in one zone, no standby"
    )


def _cache(parts: StackParts, catalog: AvailabilityCatalog) -> Link:
    settings = parts.cache.settings
    engine = _ENGINES[settings.engine]
    nodes = len(parts.cache.members)
    if settings.highly_available:
        figure = catalog.figure(
            "elasticache.multi-az", needed_by=f"the api path's {engine} cache (Multi-AZ)"
        )
        return Link.single(
            f"{engine} (ElastiCache Multi-AZ, {nodes} nodes)",
            figure,
            f"{nodes} x {settings.node_type}, replicas in other zones with automatic failover; "
            "the failover is what the Multi-AZ SLA covers, so the nodes are counted once",
        )
    figure = catalog.figure(
        "elasticache.single-az", needed_by=f"the api path's {engine} cache (one node)"
    )
    return Link.single(
        f"{engine} (ElastiCache, 1 node)",
        figure,
        f"one {settings.node_type} node: no replica, no failover",
    )


def _vercel_names(config: StackConfig) -> list[str]:
    """Names the zone sends to Vercel (a record holding one of Vercel's targets)."""
    return sorted(
        {
            record.name
            for record in config.dns.records
            if any(value.rstrip(".") in VERCEL_TARGETS for value in record.values)
        }
    )


def _on_vercel(
    parts: StackParts, catalog: AvailabilityCatalog, path: PathName
) -> AvailabilityPath | str:
    """The landing page (the apex and www) or the demo (demo.<zone>) on Vercel, or why the
    stack does not serve it."""
    zone = parts.config.dns.zone_name
    wanted = {zone, f"www.{zone}"} if path is PathName.LANDING else {f"demo.{zone}"}
    names = [name for name in _vercel_names(parts.config) if name in wanted]
    if not names:
        return f"no record of {' or '.join(sorted(wanted))} points at Vercel"
    vercel = catalog.figure("vercel.hosting", needed_by=f"the {path} path's hosting (Vercel)")
    return AvailabilityPath(
        path,
        PathKind.REQUEST,
        f"the {'landing page' if path is PathName.LANDING else 'demo'} "
        f"({', '.join(names)}): Route 53, Vercel",
        (
            _dns(catalog, path, ", ".join(names)),
            Link.single("Vercel (hosting)", vercel, "Vercel serves the site"),
        ),
    )


def _cdn(parts: StackParts, catalog: AvailabilityCatalog) -> AvailabilityPath:
    path = PathName.CDN
    domain = parts.config.cdn.domain
    links = [
        _dns(catalog, path, domain),
        Link.single(
            "CloudFront",
            catalog.figure("cloudfront.distribution", needed_by="the cdn path's distribution"),
            "the distribution serving the alias domain",
        ),
    ]
    if parts.cdn.waf is not None:
        links.append(
            Link.single(
                "WAF web ACL",
                catalog.figure("waf.web-acl", needed_by="the cdn path's web ACL"),
                "every request is evaluated by the web ACL",
            )
        )
    links.append(
        Link.single(
            "S3 origin",
            catalog.figure("s3.standard", needed_by="the cdn path's origin bucket"),
            "the assets bucket, read on every cache miss",
        )
    )
    return AvailabilityPath(
        path, PathKind.REQUEST, f"static assets ({domain}): Route 53, CloudFront, S3", tuple(links)
    )


def _control(parts: StackParts, catalog: AvailabilityCatalog) -> AvailabilityPath:
    """What deploys, scaling and restarts go through; no request waits on it."""
    path = PathName.CONTROL
    return AvailabilityPath(
        path,
        PathKind.CONTROL,
        "deploys, scaling and restarts: the EKS control plane, NAT egress for image pulls, "
        "ECR, CI deploys (serves no request while down)",
        (
            Link.single(
                "EKS control plane",
                catalog.figure("eks.control-plane", needed_by="the control path's EKS cluster"),
                "the Kubernetes API the scheduler, controllers and autoscaler act through "
                "(managed across zones by EKS: counted once)",
            ),
            _nat(parts, catalog),
            Link.single(
                "ECR (image pulls)",
                catalog.figure("ecr.registry", needed_by="the control path's image registry"),
                "the registry new pods pull their images from",
            ),
            Link.single(
                "CI deploys (GitHub Actions)",
                catalog.figure("github.actions", needed_by="the control path's CI deploys"),
                "the workflow that runs pulumi up",
            ),
        ),
    )


def _nat(parts: StackParts, catalog: AvailabilityCatalog) -> Link:
    strategy = parts.network.settings.nat_strategy
    gateways = len(parts.network.nat_zone_indexes)
    nat = catalog.figure("vpc.nat-gateway", needed_by="the control path's NAT egress")
    if strategy is NatStrategy.NONE:
        return Link(
            "NAT egress (none)",
            0.0,
            "no NAT gateway: nodes cannot reach ECR (the stack declares no ECR endpoints), so no "
            "new image can be pulled",
            (nat,),
        )
    if strategy is NatStrategy.SINGLE:
        return Link.single(
            "NAT egress (1 gateway)", nat, "one NAT gateway, in the first zone, for every zone"
        )
    return Link.across_zones(
        f"NAT egress ({gateways} gateways)",
        nat,
        gateways,
        catalog.figure("ec2.region-level", needed_by="the control path's NAT egress"),
        what="a NAT gateway per zone, each serving its zone's nodes",
    )


def stack_paths(
    parts: StackParts, catalog: AvailabilityCatalog
) -> tuple[dict[PathName, AvailabilityPath], dict[PathName, str]]:
    """Every path the stack serves, in ``PathName`` order, and why it serves none of the rest."""
    built: dict[PathName, AvailabilityPath | str] = {
        PathName.API: _api(parts, catalog),
        PathName.LANDING: _on_vercel(parts, catalog, PathName.LANDING),
        PathName.DEMO: _on_vercel(parts, catalog, PathName.DEMO),
        PathName.CDN: _cdn(parts, catalog),
        PathName.CONTROL: _control(parts, catalog),
    }
    served = {name: p for name, p in built.items() if isinstance(p, AvailabilityPath)}
    not_served = {name: p for name, p in built.items() if isinstance(p, str)}
    return served, not_served


# --- what would close a gap ----------------------------------------------------------------


@dataclass(frozen=True)
class _Upgrade:
    """A change of configuration that raises a link, and the configuration it makes."""

    setting: str
    """The key and value a stack file would set, e.g. ``genericcorp:database.multiAz: true``."""
    change: str
    """What it adds, in words."""
    config: StackConfig


def _upgrades(config: StackConfig) -> Iterator[_Upgrade]:
    """Each configuration change within the stack's own services that raises a link, from
    ``config`` as it is."""
    network, database, cache = config.network, config.database, config.cache
    if not database.multi_az:
        yield _Upgrade(
            f"{PROJECT}:database.multiAz: true",
            "a synchronous standby in a second zone",
            config.model_copy(update={"database": database.model_copy(update={"multi_az": True})}),
        )
    if not cache.highly_available:
        yield _Upgrade(
            f"{PROJECT}:cache.nodeCount: 2",
            "a replica in another zone, with automatic failover",
            config.model_copy(update={"cache": cache.model_copy(update={"node_count": 2})}),
        )
    if network.az_count < 2:
        yield _Upgrade(
            f"{PROJECT}:network.azCount: 2",
            "subnets, the load balancer and nodes in a second zone",
            config.model_copy(update={"network": network.model_copy(update={"az_count": 2})}),
        )
    groups = config.cluster.node_groups
    if network.az_count >= 2 and all(group.min_size < 2 for group in groups):
        first = groups[0]
        grown = first.model_copy(
            update={
                "min_size": 2,
                "desired_size": max(first.desired_size, 2),
                "max_size": max(first.max_size, 2),
            }
        )
        cluster = config.cluster.model_copy(update={"node_groups": [grown, *groups[1:]]})
        yield _Upgrade(
            f"{PROJECT}:cluster.nodeGroups[0].minSize: 2",
            "a node in each of two zones at least",
            config.model_copy(update={"cluster": cluster}),
        )
    if network.az_count >= 2 and network.nat_strategy is not NatStrategy.ONE_PER_AZ:
        yield _Upgrade(
            f'{PROJECT}:network.natStrategy: "one-per-az"',
            "a NAT gateway in every zone",
            config.model_copy(
                update={
                    "network": network.model_copy(update={"nat_strategy": NatStrategy.ONE_PER_AZ})
                }
            ),
        )


@dataclass(frozen=True)
class GapStep:
    """One change towards a path's target, with the path's figure once it (and the steps
    before it) is made, and its monthly cost from the price catalog."""

    setting: str
    change: str
    percent: float
    monthly_usd: float
    cumulative_usd: float
    meets_target: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "change": self.change,
            "figurePercent": round(self.percent, 4),
            "monthlyUsd": round(self.monthly_usd, 2),
            "cumulativeMonthlyUsd": round(self.cumulative_usd, 2),
            "meetsTarget": self.meets_target,
        }


def _close_gap(
    config: StackConfig, name: PathName, target: float, catalog: AvailabilityCatalog
) -> tuple[tuple[GapStep, ...], str | None]:
    """The changes that bring path ``name`` to ``target``, largest gain first, each priced as
    the difference it makes to the stack's estimate; and, when they cannot reach it, why."""

    def figure_of(candidate: StackConfig) -> AvailabilityPath:
        return stack_paths(StackParts.of(candidate), catalog)[0][name]

    current, path = config, figure_of(config)
    spent, steps = 0.0, list[GapStep]()
    while not at_least(path.percent, target):
        candidates = [(upgrade, figure_of(upgrade.config)) for upgrade in _upgrades(current)]
        raising = [(u, p) for u, p in candidates if p.fraction > path.fraction]
        if not raising:
            break
        upgrade, raised = max(raising, key=lambda pair: pair[1].fraction)
        cost = estimate_stack(upgrade.config).total_usd - estimate_stack(current).total_usd
        spent += cost
        current, path = upgrade.config, raised
        steps.append(
            GapStep(
                upgrade.setting,
                upgrade.change,
                path.percent,
                cost,
                spent,
                at_least(path.percent, target),
            )
        )
    if at_least(path.percent, target):
        return tuple(steps), None
    reached = (
        f"with the changes above it reaches {_pct(path.percent)}%"
        if steps
        else (f"it is {_pct(path.percent)}%")
    )
    below = ", ".join(
        f"{link.name} {_pct(link.percent)}%" for link in path.links if link.fraction < 1
    )
    note = (
        f"No change of this stack brings the {name} path to {target:g}%: {reached}, the product "
        f"of its links' figures ({below}). The rest needs redundancy beyond these services (a "
        f"second provider in parallel with {path.weakest_name}), which the catalogs do not price."
    )
    return tuple(steps), note


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PathReport:
    """A path's figure against its target, the shortfall accepted for it, and what would close
    its gap."""

    path: AvailabilityPath
    target: float | None
    accepted: tuple[int, AcceptedShortfall] | None
    gap: tuple[GapStep, ...]
    gap_note: str | None

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else at_least(self.path.percent, self.target)

    def refusal(self) -> str | None:
        """Why a prod stack may not have this path as it is, or None."""
        path, target = self.path, self.target
        if target is None:
            return None
        name = path.name
        figure = f"{_pct(path.percent)}% ({downtime_minutes(path.percent):.1f} minutes a month)"
        target_key = f"{KEY}.targets.{name} = {target:g} ({downtime_minutes(target):.1f} minutes)"
        weakest = min(link.percent for link in path.links)
        why = f"weakest link: {path.weakest_name} at {_pct(weakest)}%. {self._to_close()}"
        if self.accepted is None:
            if at_least(path.percent, target):
                return None
            return f"path {name}: {figure} is below its target {target_key}; {why}"
        index, shortfall = self.accepted
        accepted_key = f"{KEY}.acceptedShortfall[{index}]"
        if at_least(path.percent, target):
            return (
                f"path {name}: {figure} meets its target {target_key}, yet {accepted_key} "
                "accepts a shortfall for it: remove the entry, so that a change below the "
                "target is refused again"
            )
        if at_least(path.percent, shortfall.figure_percent):
            return None
        return (
            f"path {name}: {figure} is below its target {target_key} and below the shortfall "
            f"accepted for it, {accepted_key}.figurePercent = {shortfall.figure_percent:g}; {why}"
        )

    def _to_close(self) -> str:
        steps = "; then ".join(
            f"{step.setting} ({step.change}: {_pct(step.percent)}%, "
            f"{'+' if step.monthly_usd >= 0 else '-'}${abs(step.monthly_usd):,.2f}/month)"
            for step in self.gap
        )
        closing = f"What raises it: {steps}." if steps else ""
        if self.gap_note:
            closing = f"{closing} {self.gap_note}".strip()
        return (
            f"{closing} The target stays: raise the path, or acknowledge a shortfall the design "
            f"cannot avoid on published figures in {KEY}.acceptedShortfall (a reviewed change)."
        ).strip()

    def to_json(self) -> dict[str, Any]:
        path, target = self.path, self.target
        weakest = min(link.percent for link in path.links)
        accepted = None
        if self.accepted is not None:
            _, shortfall = self.accepted
            accepted = {"figurePercent": shortfall.figure_percent, "reason": shortfall.reason}
        return {
            "kind": str(path.kind),
            "serves": path.serves,
            "figurePercent": round(path.percent, 4),
            "downtimeMinutesPerMonth": round(downtime_minutes(path.percent), 1),
            "targetPercent": target,
            "targetDowntimeMinutesPerMonth": (
                None if target is None else round(downtime_minutes(target), 1)
            ),
            "meetsTarget": self.meets_target,
            "weakestLink": path.weakest_name,
            "weakestLinkPercent": round(weakest, 4),
            "confidence": path.confidence,
            "links": [
                {
                    "name": link.name,
                    "figurePercent": round(link.percent, 4),
                    "basis": link.basis,
                    "figures": [_figure_json(figure) for figure in link.figures],
                }
                for link in path.links
            ],
            "acceptedShortfall": accepted,
            "toCloseTheGap": [step.to_json() for step in self.gap],
            "gapNote": self.gap_note,
        }


def _figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "key": figure.key,
        "percent": figure.percent,
        "kind": figure.kind,
        "title": figure.title,
        "source": figure.source,
        "date": figure.date,
        "confidence": figure.confidence,
    }


@dataclass(frozen=True)
class AvailabilityReport:
    """Every path of a stack, what it does not serve, and the assumptions behind the figures."""

    stack_file: str
    environment: Environment
    paths: tuple[PathReport, ...]
    not_served: dict[PathName, str]
    stale_acceptances: tuple[tuple[int, AcceptedShortfall], ...]
    """Accepted shortfalls of paths the stack does not serve."""
    assumptions: tuple[str, ...]
    catalog: AvailabilityCatalog

    def path(self, name: PathName) -> PathReport:
        return next(report for report in self.paths if report.path.name is name)

    def refusals(self) -> list[str]:
        """What a prod stack may not have: paths below target without an accepted shortfall (or
        below it), and acceptances of shortfalls that are not there."""
        lines = [line for report in self.paths if (line := report.refusal()) is not None]
        lines += [
            f"{KEY}.acceptedShortfall[{index}] accepts a shortfall of path {shortfall.path}, "
            f"which this stack does not serve ({self.not_served[shortfall.path]}): remove it"
            for index, shortfall in self.stale_acceptances
        ]
        return lines

    def to_json(self) -> dict[str, Any]:
        """The ``availability`` stack output: plain data."""
        return {
            "catalog": {"file": CATALOG_FILE, "collected": self.catalog.collected},
            "month": {"hours": HOURS_PER_MONTH, "minutes": MINUTES_PER_MONTH},
            # A list, in PathName order: stack outputs do not keep the order of an object's keys.
            "paths": [{"path": str(report.path.name), **report.to_json()} for report in self.paths],
            "notServed": {str(name): why for name, why in self.not_served.items()},
            "assumptions": list(self.assumptions),
        }


def _assumptions(parts: StackParts) -> tuple[str, ...]:
    """What every figure rests on, and what this stack adds to it."""
    stated = [
        "A figure is a published monthly commitment (kind sla: the uptime below which the "
        "provider owes service credits, a floor rather than a measurement) or, where the catalog "
        "says so, a design or planning figure; the catalog names each one's source, date and "
        "confidence.",
        "The links of a path are in series and fail independently: the path's figure is the "
        "product of its links' figures, and its weakest link is the one with the lowest figure.",
        "Redundancy across zones composes in parallel, 1 - (1 - a)^n over the n zones that hold "
        "a copy, with a zone at the EC2 Instance-Level SLA (99.5%): the only published figure "
        "for capacity in one zone (an instance, its host and its zone). Zones share a region and "
        "do not fail fully independently, so a parallel figure is capped at the EC2 Region-Level "
        "SLA (99.99%), what AWS commits to for capacity spread over two or more zones.",
        "A managed Multi-AZ service (RDS Multi-AZ, ElastiCache Multi-AZ with automatic failover, "
        "a load balancer in two or more zones, the EKS control plane) counts once, at its own "
        "SLA: its failover is what that figure covers, so its zones are not composed again.",
        "A node group keeps minSize nodes spread over the zones of its subnets, so it holds "
        "nodes in min(minSize, zones) zones; the API runs on the group that covers the most "
        "zones (taints are not considered).",
        f"A month is {HOURS_PER_MONTH} hours ({MINUTES_PER_MONTH:,} minutes), the price "
        "catalog's month; the downtime a figure allows is (100% - figure) x 43,800 minutes.",
        "Request paths serve customers. The control path serves no request while it is down: "
        "running pods keep serving, and only deploys, scaling and restarts wait for it.",
        "Left out of the request paths: KMS and Secrets Manager (read at start-up or cached, not "
        "per request), CoreDNS and the VPC CNI (they run on the nodes counted), the "
        "application's own code and releases.",
        "The API's host name resolves in the stack's Route 53 zone; the ingress ALB is created "
        "at run time by the AWS Load Balancer Controller in the public subnets.",
        "The CDN counts its S3 origin in series; CloudFront keeps serving cached objects through "
        "an origin outage, so the CDN figure is a lower bound.",
    ]
    spot = [
        group.settings.name
        for group in parts.compute.node_groups
        if group.settings.capacity_type is CapacityType.SPOT
    ]
    if spot:
        stated.append(
            f"Node group(s) {', '.join(spot)} run on SPOT capacity, which EC2 may reclaim at two "
            "minutes' notice; no SLA covers a reclaim and the figures do not count it."
        )
    return tuple(stated)


def availability_report(
    config: StackConfig,
    parts: StackParts | None = None,
    catalog: AvailabilityCatalog | None = None,
) -> AvailabilityReport:
    """The availability of every path ``config`` declares (``StackParts.of(config)`` unless the
    caller already has them), with figures from ``catalog`` (the committed one by default)."""
    catalog = catalog or load_availability_catalog()
    parts = parts or StackParts.of(config)
    settings = config.availability
    served, not_served = stack_paths(parts, catalog)
    reports: list[PathReport] = []
    for name, path in served.items():
        target = settings.targets.of(name)
        gap: tuple[GapStep, ...] = ()
        note = None
        if target is not None and not at_least(path.percent, target):
            gap, note = _close_gap(config, name, target, catalog)
        reports.append(PathReport(path, target, settings.accepted(name), gap, note))
    stale = tuple(
        (index, shortfall)
        for index, shortfall in enumerate(settings.accepted_shortfall)
        if shortfall.path in not_served
    )
    return AvailabilityReport(
        stack_file=config.stack_file,
        environment=config.environment,
        paths=tuple(reports),
        not_served=not_served,
        stale_acceptances=stale,
        assumptions=_assumptions(parts),
        catalog=catalog,
    )


class BelowTargetError(AvailabilityError):
    """A prod path is below its target (and below any shortfall accepted for it)."""


def check_availability(report: AvailabilityReport) -> None:
    """Fail a prod stack whose paths fall below their targets: lowering a path below its target
    must be refused, not discovered in an outage. A shortfall the design cannot avoid on
    published figures is acknowledged, path and figure, in ``genericcorp:availability.
    acceptedShortfall``; the target stays (docs/architecture.md, "Availability")."""
    if report.environment is not Environment.PROD:
        return
    refusals = report.refusals()
    if not refusals:
        return
    count = len(refusals)
    noun = "problem" if count == 1 else "problems"
    raise BelowTargetError(
        "\n".join(
            [
                f"{report.stack_file}: {count} availability {noun}; nothing was deployed:",
                *(f"  - {line}" for line in refusals),
            ]
        )
    )
