"""The stack's cost estimate: every component's cost lines, priced from the catalog.

``estimate_stack`` prices the parts of the stack's composition (``infra/composition.py``), the
same parts the program declares; a test checks that every resource type with a price in
``PRICED_RESOURCE_TYPES`` is matched by lines (see docs/cost.md, "Adding a component's cost").

The estimate needs only the configuration, so the program computes it (and enforces the budget)
before declaring any resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from components.cost import CostError, CostLine, Estimate, PriceCatalog, load_catalog
from components.node_group import NodeGroupSettings
from components.tenants import TIERS, Tier
from infra.composition import StackParts
from infra.config import StackConfig
from infra.tenant_capacity import (
    TARGET_SEARCH_LIMIT,
    TENANT_NODE_GROUP,
    CapacityModel,
    CustomerCostModel,
    DataTier,
    NodePrice,
    alternatives,
    largest_container,
    mix_counts,
    mix_shares,
    node_price,
    purchase_factor,
    tenant_room,
    tenant_volume_gib,
    tier_counts,
)

#: Resource types that cost money by existing, with the catalog key of their price (a
#: ``fnmatch`` pattern where the key depends on the resource's size, as for RDS classes). The
#: reconciliation test counts them in each plan and compares with the estimate's lines, so a
#: component that declares a priced resource without a cost line fails the suite.
PRICED_RESOURCE_TYPES: dict[str, str] = {
    "aws:ec2/natGateway:NatGateway": "vpc.nat-gateway",
    "aws:ec2/eip:Eip": "vpc.public-ipv4-address",
    "aws:kms/key:Key": "kms.customer-managed-key",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch.standard-alarm",
    "aws:budgets/budget:Budget": "budgets.budget",
    "aws:rds/instance:Instance": "rds.postgres.*",
    "aws:secretsmanager/secret:Secret": "secretsmanager.secret",
    "aws:route53/zone:Zone": "route53.hosted-zone",
    "aws:route53/healthCheck:HealthCheck": "route53.health-check.*-endpoint",
    "aws:wafv2/webAcl:WebAcl": "waf.web-acl",
    "aws:eks/cluster:Cluster": "eks.cluster.standard-support",
}

#: Priced units a resource stands for beyond "one per resource", read from its inputs: the
#: nodes of a replication group (billed per node) and the master-password secret RDS keeps in
#: Secrets Manager for an instance (billed like any secret, though no resource declares it).
#: Each entry: resource type, price-key pattern, units from the resource's inputs.
PRICED_UNITS_FROM_INPUTS: tuple[tuple[str, str, Callable[[Mapping[str, Any]], float]], ...] = (
    (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "elasticache.redis.cache.*",
        lambda inputs: float(inputs["numCacheClusters"]),
    ),
    (
        "aws:rds/instance:Instance",
        "secretsmanager.secret",
        lambda inputs: 1.0 if inputs.get("manageMasterUserPassword") else 0.0,
    ),
    # A node group's instances: desiredSize of them (see NodeGroupParts.node_count).
    (
        "aws:eks/nodeGroup:NodeGroup",
        "ec2.instance.*",
        lambda inputs: float(inputs["scalingConfig"]["desiredSize"]),
    ),
    # The AWS Load Balancer Controller stands for the one shared ingress ALB it creates at run
    # time, which takes a public IPv4 address in each subnet tagged for internet-facing
    # load balancers.
    (
        "kubernetes:helm.sh/v3:Release",
        "elb.application-load-balancer",
        lambda inputs: 1.0 if inputs["chart"] == "aws-load-balancer-controller" else 0.0,
    ),
    (
        "aws:ec2/subnet:Subnet",
        "vpc.public-ipv4-address",
        lambda inputs: 1.0 if (inputs.get("tags") or {}).get("kubernetes.io/role/elb") else 0.0,
    ),
)


def estimate_stack(config: StackConfig, parts: StackParts | None = None) -> Estimate:
    """The monthly estimate of the parts ``config`` declares (``StackParts.of(config)`` unless
    the caller already has them), plus external services, the configured tenants' share and
    the usage lines no single part owns; purchase options applied."""
    catalog = load_catalog(config.region, config.cost_model.price_fallback_region)
    parts = parts or StackParts.of(config)
    lines = [
        *parts.cost_lines(catalog, config.usage),
        *usage_lines(config, catalog),
        *tenant_lines(config, catalog),
    ]
    lines = apply_purchase_options(config, catalog, lines)
    return Estimate(
        lines=tuple(lines),
        catalog=catalog,
        region=config.region,
        usage=config.usage,
        exclusions=EXCLUSIONS,
    )


#: What the estimate leaves out on purpose, stated in its assumptions (each would lower the
#: bill: the estimate is an upper bound for them).
EXCLUSIONS: tuple[str, ...] = (
    "AWS Free Tier and always-free allowances (CloudFront's 1 TB and 10 million requests a "
    "month, the first 100 GB of data transfer to the internet, 10 free custom metrics and "
    "alarms): each line is priced from its first unit",
    "CloudFront flat-rate plans (Free, Pro $15, Business $200 a month, each bundling "
    "CloudFront, WAF, DNS and a quota of requests and transfer): not modelled; the estimate "
    "prices pay-as-you-go CloudFront and WAF, which the Pro plan could replace for the CDN",
    "KMS requests, S3 request tiers beyond GET, and CloudWatch metrics the AWS services "
    "publish for free: far below a cent at the stacks' rates",
)

#: Instance families that earn CPU credits and bill the surplus (unlimited mode).
BURSTABLE_PREFIXES = ("t3.", "t4g.", "db.t3.", "db.t4g.")


def usage_lines(config: StackConfig, catalog: PriceCatalog) -> list[CostLine]:
    """Usage-based lines that no single part owns: traffic leaving the load balancer for the
    internet, traffic crossing zones, and burstable CPU above its baseline."""
    usage = config.usage
    cross_az = usage.cross_az_gb
    lines = [
        CostLine.usage(
            "platform",
            "Internet egress from the ingress load balancer",
            catalog.price("ec2.data-transfer.internet-out", resource="the ingress ALB"),
            usage.internet_egress_gb,
            note="data transfer out to the internet (first 10 TB tier)",
        ),
        CostLine.usage(
            "network",
            "Cross-AZ traffic",
            catalog.price("ec2.data-transfer.cross-az", resource="traffic between zones"),
            None if cross_az is None else 2 * cross_az,
            note=f"{cross_az} GB crossing zones, billed out of one zone and into the other",
        ),
    ]
    group = config.cluster.node_groups[TENANT_NODE_GROUP]
    if any(t.startswith(BURSTABLE_PREFIXES) for t in group.instance_types):
        lines.append(
            CostLine.usage(
                "compute",
                f"CPU credits above baseline ({group.name})",
                catalog.price("ec2.cpu-credits.t4g", resource="burstable nodes"),
                usage.node_cpu_surplus_vcpu_hours,
                note="surplus vCPU-hours of burstable nodes (unlimited mode)",
            )
        )
    if config.database.instance_class.startswith(BURSTABLE_PREFIXES):
        lines.append(
            CostLine.usage(
                "database",
                "CPU credits above baseline",
                catalog.price("rds.cpu-credits.t4g", resource="aws:rds/instance:Instance"),
                usage.database_cpu_surplus_vcpu_hours,
                note=f"surplus vCPU-hours of {config.database.instance_class} (always unlimited)",
            )
        )
    return lines


#: How the lines that scale with the configured tenants begin: each keeps the Component tag of
#: what it prices (Cost Explorer groups by it), and the per-customer model takes them out of
#: the fixed cost by this prefix.
TENANT_LINE_PREFIX = "Tenants' "


def is_tenant_line(line: CostLine) -> bool:
    return line.item.startswith(TENANT_LINE_PREFIX)


def tenant_lines(config: StackConfig, catalog: PriceCatalog) -> list[CostLine]:
    """What the configured tenants add: their persistent volumes (each tier's storage quota),
    the nodes they need beyond the group's desired size, and the data tier's step above the
    configured database and cache when they need one."""
    counts = tier_counts(config)
    if not counts:
        return []
    gp3 = catalog.price("ec2.ebs.gp3-storage", resource="tenant persistent volumes")
    lines = [
        CostLine.fixed(
            "platform",
            f"{TENANT_LINE_PREFIX}persistent volumes",
            gp3,
            tenant_volume_gib(counts),
            note="each tenant at its tier's storage quota (gp3): "
            + ", ".join(f"{n} {t} x {TIERS[t].storage_gib} GiB" for t, n in counts.items()),
        )
    ]
    capacity = CapacityModel.of(config)
    packing = capacity.pack(counts)
    extra = packing.nodes - capacity.group.desired_size
    if extra > 0:
        node = _node_price(config, catalog, capacity.group)
        lines.append(
            CostLine(
                "compute",
                f"{TENANT_LINE_PREFIX}nodes beyond desiredSize ({capacity.group.name})",
                "node-month",
                extra,
                node.monthly_usd,
                False,
                "ec2.instance.* + ec2.ebs.gp3-storage",
                note=f"{packing.nodes} nodes ({packing.binding} binds), {node.described}",
            )
        )
    data_tier = DataTier.of(config, catalog)
    step = data_tier.plan(counts).total_usd - data_tier.plan({}).total_usd
    if step > 0.005:
        lines.append(
            CostLine(
                "database",
                f"{TENANT_LINE_PREFIX}data tier step",
                "month",
                1,
                step,
                False,
                "rds.* + elasticache.*",
                note="; ".join(data_tier.plan(counts).notes),
            )
        )
    return lines


#: Which lines each purchase option discounts: the service, and the price keys it covers.
_COMMITTED_PRICES = (
    ("compute", "ec2.instance."),
    ("database", "rds.postgres."),
    ("cache", "elasticache.redis.cache."),
)


def apply_purchase_options(
    config: StackConfig, catalog: PriceCatalog, lines: list[CostLine]
) -> list[CostLine]:
    """The lines with the configured commitments' prices: each covered line's unit price times
    the catalog factor, named in its price key and note. Spot prices are never covered."""
    options = config.cost_model.purchase_options
    out: list[CostLine] = []
    for line in lines:
        priced = line
        for service, prefix in _COMMITTED_PRICES:
            option = getattr(options, service)
            if option == "on-demand" or not line.price_key.startswith(prefix):
                continue
            if "spotDiscountPercent" in line.price_key:
                continue
            factor = purchase_factor(catalog, options, service)
            priced = replace(
                line,
                unit_price=line.unit_price * factor,
                price_key=f"{line.price_key} x purchase.{service}.{option}",
                note=f"{line.note}; {option} at {factor:g} x on-demand".lstrip("; "),
            )
        out.append(priced)
    return out


def _node_price(config: StackConfig, catalog: PriceCatalog, group: NodeGroupSettings) -> NodePrice:
    model = config.cost_model
    return node_price(
        catalog,
        group,
        spot_discount_percent=model.spot_discount_percent,
        purchase=model.purchase_options,
    )


def customer_cost_model(config: StackConfig, estimate: Estimate) -> CustomerCostModel:
    """The stack's cost at any tenant count, from its estimate: the fixed cost is the estimate
    less what the configured tenants add (no baseline node is counted twice)."""
    catalog = estimate.catalog
    capacity = CapacityModel.of(config)
    tenant_usd = sum(line.monthly_usd or 0.0 for line in estimate.lines if is_tenant_line(line))
    data_tier = DataTier.of(config, catalog)
    return CustomerCostModel(
        capacity=capacity,
        node=_node_price(config, catalog, capacity.group),
        fixed_usd=estimate.total_usd - tenant_usd,
        data_tier=data_tier,
        volume_price_usd=catalog.price("ec2.ebs.gp3-storage").usd,
        baseline_data_tier_usd=data_tier.plan({}).total_usd,
    )


#: Tiers reported one by one (enterprise too, when it fits the node type).
REPORTED_TIERS = (Tier.STARTER, Tier.STANDARD, Tier.ENTERPRISE)


def per_customer_output(config: StackConfig, estimate: Estimate) -> dict[str, Any]:
    """The ``costPerCustomer`` stack output (docs/cost.md, "Cost per customer")."""
    model = customer_cost_model(config, estimate)
    capacity = model.capacity
    group = capacity.group
    cost_model = config.cost_model
    shares, basis = mix_shares(config)
    counts = tier_counts(config)
    configured = model.at(counts or {Tier.STARTER: 1})
    tiers: dict[str, Any] = {}
    for tier in REPORTED_TIERS:
        fits = capacity.tier_fits(tier)
        per_node, binding = capacity.tenants_per_node(tier)
        entry: dict[str, Any] = {
            "requests": tenant_room(tier).to_json(),
            "largestContainer": str(largest_container(tier)),
            "fitsNodeType": fits,
            "tenantsPerNode": per_node if fits else 0,
            "bindingResource": binding,
            "ceilingTenants": capacity.ceiling({tier: 1.0}),
        }
        if fits:
            entry["scalePoints"] = [
                model.at({tier: n}).to_json(group.max_size) for n in cost_model.scale_points
            ]
            entry["targets"] = {
                f"{target:g}": model.holds_from({tier: 1.0}, target)
                for target in cost_model.per_customer_targets_usd
            }
        tiers[str(tier)] = entry
    mix = {
        "shares": {str(t): round(share, 4) for t, share in shares.items()},
        "basis": basis,
        "ceilingTenants": capacity.ceiling(shares),
        "scalePoints": [
            model.at(mix_counts(shares, n)).to_json(group.max_size) for n in cost_model.scale_points
        ],
        "targets": {
            f"{target:g}": model.holds_from(shares, target)
            for target in cost_model.per_customer_targets_usd
        },
    }
    fitting = [t for t in (Tier.STARTER, Tier.STANDARD) if capacity.tier_fits(t)]
    return {
        "model": "tenants packed onto whole nodes by their tiers' requests (docs/cost.md)",
        "nodeGroup": group.name,
        "pricedOn": model.node.described,
        "nodeMonthlyUsd": round(model.node.monthly_usd, 2),
        "roomPerNode": capacity.per_node.to_json(),
        "platformRequests": capacity.platform.to_json(),
        "baselineNodes": group.desired_size,
        "maxNodes": group.max_size,
        "fixedMonthlyUsd": round(model.fixed_usd, 2),
        "tenants": len(config.tenants),
        "atConfiguredTenants": configured.to_json(group.max_size),
        "tiers": tiers,
        "tierMix": mix,
        "targetsSearchedUpTo": TARGET_SEARCH_LIMIT,
        "cheapestChanges": alternatives(
            model,
            config,
            estimate.catalog,
            lambda g: _node_price(config, estimate.catalog, g),
            fitting,
            cost_model.per_customer_targets_usd,
            max(cost_model.scale_points),
        )[:CHANGES_REPORTED],
    }


#: Node-type and purchase changes reported, cheapest first.
CHANGES_REPORTED = 4


class BudgetExceededError(CostError):
    """The stack's estimate is above its budget."""


def check_budget(config: StackConfig, estimate: Estimate) -> None:
    """Fail when the estimate exceeds the budget: a cost increase must be a reviewed change to
    ``genericcorp:budget.limitUsd``, not a surprise on the bill."""
    limit = config.budget.limit_usd
    total = estimate.total_usd
    if total <= limit:
        return
    largest = sorted(estimate.by_component().items(), key=lambda item: -item[1])
    raise BudgetExceededError(
        f"{config.stack_file}: the estimate ${total:,.2f}/month exceeds the budget "
        f"genericcorp:budget.limitUsd = {limit:,.2f} by ${total - limit:,.2f}. By component: "
        + ", ".join(f"{name} ${usd:,.2f}" for name, usd in largest)
        + ". Lower the cost or raise the limit in the stack file (a reviewed change)."
    )
