"""The stack's cost estimate: every component's cost lines, priced from the catalog.

``estimate_stack`` prices the parts of the stack's composition (``infra/composition.py``), the
same parts the program declares; a test checks that every resource type with a price in
``PRICED_RESOURCE_TYPES`` is matched by lines (see docs/cost.md, "Adding a component's cost").

The estimate needs only the configuration, so the program computes it (and enforces the budget)
before declaring any resource.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from components.cost import (
    CostError,
    Estimate,
    PerCustomerModel,
    average_marginal_cost,
    load_catalog,
    marginal_cost_per_tenant,
    per_customer_json,
)
from components.node_group import CapacityType
from components.tenants import TIERS, Tier
from infra.composition import StackParts
from infra.config import StackConfig

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
    the caller already has them), plus external services."""
    catalog = load_catalog(config.region, config.cost_model.price_fallback_region)
    parts = parts or StackParts.of(config)
    lines = parts.cost_lines(catalog, config.usage)
    return Estimate(lines=tuple(lines), catalog=catalog, region=config.region, usage=config.usage)


#: The tier the per-customer model assumes while a stack has no tenants yet: the entry tier,
#: which new customers start on.
DEFAULT_TIER = Tier.STARTER


def _node_pricing(config: StackConfig) -> tuple[str, float, str]:
    """The instance type tenants are priced on (first node group, first type), the share of
    its on-demand price paid (less the spot discount for a SPOT group) and a description."""
    group = config.cluster.node_groups[0]
    instance_type = group.instance_types[0]
    if group.capacity_type is CapacityType.SPOT:
        discount = config.cost_model.spot_discount_percent
        described = f"{instance_type} SPOT ({discount:g}% below on-demand)"
        return instance_type, 1 - discount / 100, described
    return instance_type, 1.0, f"{instance_type} ON_DEMAND"


def tier_mix(config: StackConfig) -> tuple[dict[str, int], str]:
    """Tenants per tier, and what the mix is based on: the configured tenants, or one tenant
    of ``DEFAULT_TIER`` when the stack has none."""
    if not config.tenants:
        return {str(DEFAULT_TIER): 1}, f"no tenants configured: the {DEFAULT_TIER} tier"
    counts = Counter(str(tenant.tier) for tenant in config.tenants)
    mix = {str(tier): counts[str(tier)] for tier in Tier if counts[str(tier)]}
    return mix, f"the {len(config.tenants)} configured tenants"


def per_customer_model(config: StackConfig, estimate: Estimate) -> PerCustomerModel:
    """Fixed cost = the whole estimate; marginal = the average of the tenants' tier quotas
    (requested CPU and memory) priced on the node type (the starter tier when none)."""
    instance_type, share, _ = _node_pricing(config)
    tiers = [tenant.tier for tenant in config.tenants] or [DEFAULT_TIER]
    quotas = [(TIERS[t].requested_cpu_cores, TIERS[t].requested_memory_gib) for t in tiers]
    marginal = share * average_marginal_cost(estimate.catalog, instance_type, quotas)
    return PerCustomerModel(fixed_usd=estimate.total_usd, marginal_usd=marginal)


def per_customer_output(config: StackConfig, estimate: Estimate) -> dict[str, Any]:
    """The ``costPerCustomer`` stack output: at the tenant count, at the scale points (same
    tier mix), the crossing points of the targets, and each tier's marginal cost."""
    instance_type, share, priced_on = _node_pricing(config)
    mix, basis = tier_mix(config)
    by_tier = {
        str(tier): share
        * marginal_cost_per_tenant(
            estimate.catalog, instance_type, spec.requested_cpu_cores, spec.requested_memory_gib
        )
        for tier, spec in TIERS.items()
    }
    model = config.cost_model
    return per_customer_json(
        per_customer_model(config, estimate),
        len(config.tenants),
        model.scale_points,
        model.per_customer_targets_usd,
        tier_mix=mix,
        mix_basis=basis,
        priced_on=priced_on,
        marginal_by_tier_usd=by_tier,
    )


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
