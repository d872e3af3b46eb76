"""The stack's cost estimate: every component's cost lines, priced from the catalog.

``estimate_stack`` is the one place that lists what the stack pays for. A new component adds
its ``cost_lines(...)`` here (see docs/cost.md, "Adding a component's cost"); a test checks that
every resource type with a price in ``PRICED_RESOURCE_TYPES`` is matched by lines.

The estimate needs only the configuration, so the program computes it (and enforces the budget)
before declaring any resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.alerts import AlertsTopic
from components.budget import Budget
from components.cdn import Cdn
from components.cost import (
    CostError,
    Estimate,
    PerCustomerModel,
    external_lines,
    load_catalog,
    marginal_cost_per_tenant,
)
from components.dns_zone import DnsZone
from components.network import Network
from components.postgres import PostgresDatabase
from components.redis import RedisCache
from components.uptime import Uptime
from infra.config import StackConfig

#: The region of the CloudFront certificate, the web ACL, the DNSSEC key and Route53's metrics;
#: a stack elsewhere gets a second alerts topic (with its own key) there (infra/program.py).
_EDGE_REGION = "us-east-1"

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
)


def estimate_stack(config: StackConfig) -> Estimate:
    """The monthly estimate of everything ``config`` declares, plus external services."""
    catalog = load_catalog(config.region, config.cost_model.price_fallback_region)
    usage = config.usage
    edge_alerts = [] if config.region == _EDGE_REGION else AlertsTopic.cost_lines(catalog)
    lines = [
        *AlertsTopic.cost_lines(catalog),
        *edge_alerts,
        *Network.cost_lines(config.network, catalog, usage),
        *PostgresDatabase.cost_lines(config.database, catalog, usage),
        *RedisCache.cost_lines(config.cache, catalog),
        *DnsZone.cost_lines(config.dns, catalog, usage),
        *Cdn.cost_lines(config.cdn, catalog, usage),
        *Uptime.cost_lines(config.uptime, catalog),
        *Budget.cost_lines(catalog),
        *external_lines(config.cost_model),
    ]
    return Estimate(lines=tuple(lines), catalog=catalog, region=config.region, usage=usage)


def per_customer_model(config: StackConfig, estimate: Estimate) -> PerCustomerModel:
    """Fixed cost = the whole estimate; marginal = one tenant's requested CPU and memory."""
    model = config.cost_model
    marginal = marginal_cost_per_tenant(
        estimate.catalog, model.node_instance_type, model.tenant_cpu_cores, model.tenant_memory_gib
    )
    return PerCustomerModel(fixed_usd=estimate.total_usd, marginal_usd=marginal)


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
