"""The Pulumi program: validate the stack's config, then compose the components.

Order matters: configuration is validated first, so a bad stack file fails with a clear message
before anything is declared; the only things that come before the availability-zone and
existing-zone checks are the AWS provider (which creates nothing in AWS) and read-only look-ups.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.alerts import AlertsParts, AlertsTopic
from components.base import StackContext
from components.budget import Budget, BudgetParts
from components.cdn import Cdn, CdnParts
from components.dns_zone import DnsZone, DnsZoneParts, ExistingZone
from components.eks_compute import EksCompute, EksComputeParts
from components.kubernetes_platform import KubernetesPlatform, KubernetesPlatformParts
from components.network import Network, NetworkParts, SubnetTier
from components.postgres import PostgresDatabase, PostgresParts
from components.redis import RedisCache, RedisParts
from components.shared.placement import DataStoreNetwork
from components.shared.wiring import EDGE_REGION, Wiring
from components.tenants import DataEgress, Tenants
from components.uptime import Uptime, UptimeParts
from infra.config import PROJECT, ConfigError, ConfigProblem, StackConfig, load_stack_config
from infra.cost import check_budget, estimate_stack, per_customer_output


def main() -> None:
    """Declare the whole stack. Called by ``__main__.py`` and by the offline plan."""
    config = load_stack_config()
    # Priced from config alone, so a stack over its budget fails before anything is declared.
    estimate = estimate_stack(config)
    check_budget(config, estimate)
    provider = aws.Provider(
        "aws",
        region=config.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )
    invoke = pulumi.InvokeOptions(provider=provider)
    zones = select_availability_zones(config, invoke)
    adopted_zone = existing_zone(config, invoke)
    context = StackContext(
        project=PROJECT,
        stack=config.stack,
        environment=config.environment,
        region=config.region,
        account_id=aws.get_caller_identity(opts=invoke).account_id,
        partition=config.partition,
    )
    in_region = pulumi.ResourceOptions(provider=provider)

    # CloudFront certificates and web ACLs, Route53 query logs, DNSSEC keys and Route53 metrics
    # exist only in us-east-1, whatever the stack's region.
    us_east_1 = aws.Provider(
        "us-east-1",
        region=EDGE_REGION,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )
    # The alerts topics are built from the wiring before they are part of it.
    without_alerts = Wiring(context=context, kms=config.kms, edge_provider=us_east_1)
    alerts_parts = AlertsParts(config.alerts, region=config.region)
    emails_are_secret = config.is_secret(f"{PROJECT}:alerts")
    alerts = AlertsTopic(
        "alerts",
        alerts_parts,
        wiring=without_alerts,
        publisher_services=("cloudwatch.amazonaws.com", "budgets.amazonaws.com"),
        emails_are_secret=emails_are_secret,
        opts=in_region,
    )
    edge_alerts_arn = (
        AlertsTopic(
            f"alerts-{EDGE_REGION}",
            alerts_parts,
            wiring=without_alerts,
            at_edge=True,
            emails_are_secret=emails_are_secret,
        ).topic_arn
        if alerts_parts.edge_topic
        else alerts.topic_arn
    )
    wiring = without_alerts.with_alerts(alerts.topic_arn, edge_alerts_arn)
    network = Network(
        "network",
        NetworkParts(config.network),
        wiring=wiring,
        availability_zones=zones,
        opts=in_region,
    )
    budget = Budget(
        "budget",
        BudgetParts(config.budget),
        wiring=wiring,
        estimate_usd=estimate.total_usd,
        opts=in_region,
    )

    dns = DnsZone(
        "dns",
        DnsZoneParts(config.dns),
        wiring=wiring,
        existing_zone=adopted_zone,
        # The CDN's alias records: the zone lists every name that has records in it.
        names_of_others=[config.cdn.domain],
        opts=in_region,
    )
    cdn = Cdn("cdn", CdnParts(config.cdn), wiring=wiring, zone_id=dns.zone_id, opts=in_region)
    uptime = Uptime("uptime", UptimeParts(config.uptime), wiring=wiring, opts=in_region)

    compute = EksCompute(
        "eks",
        EksComputeParts(config.cluster),
        wiring=wiring,
        private_subnet_ids=network.private_subnet_ids,
        opts=in_region,
    )
    data_tier = DataStoreNetwork(
        vpc_id=network.vpc_id,
        subnet_ids=network.database_subnet_ids,
        # Managed nodes, and so every pod, use the cluster security group: the only client.
        client_security_group_ids=(compute.cluster.cluster_security_group_id,),
    )
    database = PostgresDatabase(
        "database", PostgresParts(config.database), wiring=wiring, network=data_tier, opts=in_region
    )
    cache = RedisCache(
        "cache", RedisParts(config.cache), wiring=wiring, network=data_tier, opts=in_region
    )

    platform = KubernetesPlatform(
        "platform",
        KubernetesPlatformParts(config.platform),
        wiring=wiring,
        compute=compute,
        vpc_id=network.vpc_id,
        opts=in_region,
    )
    data_subnets = [str(block) for block in network.layout[SubnetTier.DATABASE]]
    tenants = Tenants(
        "tenants",
        config.tenants,
        wiring=wiring,
        provider=platform.provider,
        # What the app reads to find the platform: host names and ports, never credentials
        # (those stay in Secrets Manager, named by the stack outputs).
        endpoints={
            "AWS_REGION": config.region,
            "CLUSTER_NAME": compute.cluster.name,
            "DATABASE_HOST": database.address,
            "DATABASE_PORT": str(config.database.port),
            "CACHE_HOST": cache.primary_endpoint,
            "CACHE_PORT": str(cache.port),
            "CDN_DOMAIN": cdn.alias_domain,
        },
        data_egress=[
            DataEgress(config.database.port, data_subnets, "PostgreSQL"),
            DataEgress(cache.port, data_subnets, "Redis"),
        ],
        load_balancer_cidrs=[str(block) for block in network.layout[SubnetTier.PUBLIC]],
    )

    pulumi.export("environment", str(config.environment))
    pulumi.export("region", config.region)
    pulumi.export("network", network.outputs)
    pulumi.export("alerts", alerts.outputs)
    pulumi.export("monthlyCost", estimate.to_json())
    pulumi.export("costPerCustomer", per_customer_output(config, estimate))
    pulumi.export("budget", budget.outputs)
    pulumi.export("dns", dns.outputs)
    pulumi.export("cdn", cdn.outputs)
    pulumi.export("uptime", uptime.outputs)

    pulumi.export("database", database.outputs)
    pulumi.export("cache", cache.outputs)

    pulumi.export("cluster", compute.outputs)
    pulumi.export("kubeconfig", compute.kubeconfig)
    pulumi.export("tenants", tenants.outputs)


def existing_zone(config: StackConfig, invoke: pulumi.InvokeOptions) -> ExistingZone | None:
    """The zone ``existingZoneId`` names, checked against ``zoneName`` (None to create one)."""
    zone_id = config.dns.existing_zone_id
    if zone_id is None:
        return None
    found = aws.route53.get_zone(zone_id=zone_id, opts=invoke)
    name = found.name.rstrip(".")
    problem = None
    if found.private_zone:
        problem = "is a private hosted zone; the public records need a public zone"
    elif name != config.dns.zone_name:
        problem = f"is the zone of {name}, not of zoneName {config.dns.zone_name}"
    if problem:
        raise ConfigError(
            config.stack_file,
            [ConfigProblem(path=f"{PROJECT}:dns.existingZoneId", value=zone_id, message=problem)],
        )
    return ExistingZone(zone_id=found.zone_id, name_servers=list(found.name_servers))


def select_availability_zones(config: StackConfig, invoke: pulumi.InvokeOptions) -> list[str]:
    """The first ``azCount`` zones (by name) that the account can use without opting in."""
    available = aws.get_availability_zones(
        state="available",
        filters=[
            aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])
        ],
        opts=invoke,
    )
    names = sorted(available.names)
    wanted = config.network.az_count
    if wanted > len(names):
        raise ConfigError(
            config.stack_file,
            [
                ConfigProblem(
                    path=f"{PROJECT}:network.azCount",
                    value=wanted,
                    message=(
                        f"region {config.region} has {len(names)} availability zones available "
                        f"({', '.join(names)}); use 1 to {len(names)}"
                        + (" (2 or more in prod)" if config.environment == "prod" else "")
                    ),
                )
            ],
        )
    return names[:wanted]
