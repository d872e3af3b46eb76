"""The Pulumi program: validate the stack's config, then compose the components.

Order matters: configuration is validated first, so a bad stack file fails with a clear message
before anything is declared; the only things that come before the availability-zone and
existing-zone checks are the AWS provider (which creates nothing in AWS) and read-only look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alerts import AlertsTopic
from components.base import PlatformComponent, StackContext
from components.budget import Budget
from components.cdn import Cdn
from components.ci_runner import CiRunner
from components.cost import Estimate
from components.dns_zone import DnsZone, ExistingZone
from components.eks_compute import EksCompute
from components.ingress import Ingress, IngressCluster
from components.kubernetes_platform import KubernetesPlatform
from components.network import (
    AvailabilityZone,
    Network,
    SubnetTier,
    ZoneChoiceError,
    choose_availability_zones,
)
from components.postgres import PostgresDatabase
from components.redis import RedisCache
from components.shared.placement import DataStoreNetwork
from components.shared.wiring import EDGE_REGION, Wiring
from components.tenant_data import (
    POD_IDENTITY_AGENT_CIDR,
    POD_IDENTITY_AGENT_PORT,
    DataPlatform,
    TenantData,
    TenantDataParts,
)
from components.tenants import DataEgress, Tenants
from components.uptime import Uptime
from components.vercel import VercelDomains
from infra.availability import AvailabilityReport, availability_report, check_availability
from infra.composition import StackParts
from infra.config import PROJECT, ConfigError, ConfigProblem, StackConfig, load_stack_config
from infra.cost import check_budget, estimate_stack, per_customer_output


def main() -> None:
    """Declare the whole stack. Called by ``__main__.py`` and by the offline plan.

    Steps: validate the configuration; derive the stack's parts, price them and compose their
    availability, stopping when the estimate exceeds the budget or a prod path falls below its
    target; the providers, look-ups and wiring; the alerting and network foundation; the edge;
    compute and the data tier; the Kubernetes layer; the outputs.
    """
    config = load_stack_config()
    parts = StackParts.of(config)
    # Priced from config alone, so a stack over its budget fails before anything is declared.
    estimate = estimate_stack(config, parts)
    check_budget(config, estimate)
    per_customer = per_customer_output(config, estimate)
    # Composed from config alone as well: a prod path below its target fails here too.
    availability = availability_report(config, parts)
    check_availability(availability)
    base = _foundation(config)
    alerts, wiring = _alerting(parts, base)
    network = Network(
        "network",
        parts.network,
        wiring=wiring,
        availability_zones=base.zones,
        opts=base.in_region,
    )
    budget = Budget(
        "budget",
        parts.budget,
        wiring=wiring,
        estimate_usd=estimate.total_usd,
        cost_per_customer_usd=per_customer["atConfiguredTenants"]["usd"],
        tenant_ceiling=per_customer["tierMix"]["ceilingTenants"],
        opts=base.in_region,
    )
    dns, cdn, uptime = _edge(parts, wiring, base)
    vercel = VercelDomains(
        "vercel",
        parts.vercel,
        wiring=wiring,
        # Secret in state and never printed (a plain value is refused by the config checks).
        api_token=None
        if config.vercel_api_token is None
        else pulumi.Output.secret(config.vercel_api_token),
    )
    compute = EksCompute(
        "eks",
        parts.compute,
        wiring=wiring,
        private_subnet_ids=network.private_subnet_ids,
        opts=base.in_region,
    )
    data_tier = DataStoreNetwork(
        vpc_id=network.vpc_id,
        subnet_ids=network.database_subnet_ids,
        # Managed nodes, and so every pod, use the cluster security group: the only client.
        client_security_group_ids=(compute.cluster.cluster_security_group_id,),
    )
    database = PostgresDatabase(
        "database", parts.database, wiring=wiring, network=data_tier, opts=base.in_region
    )
    cache = RedisCache("cache", parts.cache, wiring=wiring, network=data_tier, opts=base.in_region)
    ci_runner = _ci_runner(parts, wiring, base, network=network, compute=compute)
    # CI runs pulumi as these roles: Kubernetes calls wait for their entries too (a role
    # changed in the stack file gets its entry in the very run it makes).
    compute.cluster.access.extend(ci_runner.access)
    platform = KubernetesPlatform(
        "platform",
        parts.platform,
        wiring=wiring,
        compute=compute,
        vpc_id=network.vpc_id,
        opts=base.in_region,
    )
    ingress = Ingress(
        "ingress",
        parts.ingress,
        wiring=wiring,
        zone_id=dns.zone_id,
        public_subnet_ids=network.public_subnet_ids,
        cluster=IngressCluster(
            provider=platform.provider,
            oidc=compute.cluster.oidc,
            cluster_name=compute.cluster.name,
            load_balancer_controller=platform.load_balancer_controller,
            ready=platform.ready,
        ),
        opts=base.in_region,
    )
    tenants = _tenants(
        config,
        wiring,
        parts,
        platform=platform,
        network=network,
        compute=compute,
        database=database,
        cache=cache,
        cdn=cdn,
    )
    tenant_data = _tenant_data(
        config,
        wiring,
        platform=platform,
        network=network,
        compute=compute,
        database=database,
        cache=cache,
        base=base,
    )

    _export(
        config,
        estimate,
        per_customer,
        availability,
        kubeconfig=compute.kubeconfig,
        network=network,
        alerts=alerts,
        budget=budget,
        dns=dns,
        cdn=cdn,
        uptime=uptime,
        database=database,
        cache=cache,
        cluster=compute,
        tenants=tenants,
        tenantData=tenant_data,
        ingress=ingress,
        vercel=vercel,
        ciRunner=ci_runner,
    )


def _export(
    config: StackConfig,
    estimate: Estimate,
    per_customer: dict[str, Any],
    availability: AvailabilityReport,
    *,
    kubeconfig: pulumi.Output[str],
    **components: PlatformComponent,
) -> None:
    """The stack outputs: the stack's own facts, the estimate, the availability of each path,
    and each component's published outputs under its output name (described where the
    component declares them)."""
    pulumi.export("environment", str(config.environment))
    pulumi.export("region", config.region)
    pulumi.export("monthlyCost", estimate.to_json())
    pulumi.export("costPerCustomer", per_customer)
    pulumi.export("availability", availability.to_json())
    pulumi.export("kubeconfig", kubeconfig)
    for output_name, component in components.items():
        pulumi.export(output_name, component.outputs)


@dataclass(frozen=True)
class _Foundation:
    """What the program establishes before it declares any component."""

    in_region: pulumi.ResourceOptions
    """Places a component in the stack's region, through the default-tagged provider."""
    zones: list[AvailabilityZone]
    """The availability zones the network spans, by name and zone ID."""
    adopted_zone: ExistingZone | None
    """The existing hosted zone the stack adopts, or None to create one."""
    wiring: Wiring
    """The wiring without the alerts topics, which are built from it."""


def _foundation(config: StackConfig) -> _Foundation:
    """The providers (which create nothing in AWS), the look-ups and the stack's wiring.

    The availability-zone and adopted-zone checks need the look-ups, so they run here, before
    any component is declared.
    """
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
    # CloudFront certificates and web ACLs, Route53 query logs, DNSSEC keys and Route53 metrics
    # exist only in us-east-1, whatever the stack's region.
    us_east_1 = aws.Provider(
        "us-east-1",
        region=EDGE_REGION,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )
    return _Foundation(
        in_region=pulumi.ResourceOptions(provider=provider),
        zones=zones,
        adopted_zone=adopted_zone,
        wiring=Wiring(context=context, kms=config.kms, edge_provider=us_east_1),
    )


def _alerting(parts: StackParts, base: _Foundation) -> tuple[AlertsTopic, Wiring]:
    """The alerts topic, a second one in the edge region when the parts say so, and the wiring
    every other component gets: with both topics in it."""
    config = parts.config
    emails_are_secret = config.is_secret(f"{PROJECT}:alerts")
    alerts = AlertsTopic(
        "alerts",
        parts.alerts,
        wiring=base.wiring,
        publisher_services=("cloudwatch.amazonaws.com", "budgets.amazonaws.com"),
        emails_are_secret=emails_are_secret,
        opts=base.in_region,
    )
    edge_alerts_arn = (
        AlertsTopic(
            f"alerts-{EDGE_REGION}",
            parts.alerts,
            wiring=base.wiring,
            at_edge=True,
            emails_are_secret=emails_are_secret,
        ).topic_arn
        if parts.alerts.edge_topic
        else alerts.topic_arn
    )
    return alerts, base.wiring.with_alerts(alerts.topic_arn, edge_alerts_arn)


def _edge(parts: StackParts, wiring: Wiring, base: _Foundation) -> tuple[DnsZone, Cdn, Uptime]:
    """The public zone, the CDN in it and the uptime checks of the public endpoints."""
    dns = DnsZone(
        "dns",
        parts.dns,
        wiring=wiring,
        existing_zone=base.adopted_zone,
        # The CDN's alias records and the apps domain's CAA record: the zone lists every name
        # that has records in it (the tenants' hostnames are in the ingress output).
        names_of_others=[parts.config.cdn.domain, parts.config.ingress.apps_domain],
        opts=base.in_region,
    )
    cdn = Cdn("cdn", parts.cdn, wiring=wiring, zone_id=dns.zone_id, opts=base.in_region)
    uptime = Uptime("uptime", parts.uptime, wiring=wiring, opts=base.in_region)
    return dns, cdn, uptime


def _ci_runner(
    parts: StackParts, wiring: Wiring, base: _Foundation, *, network: Network, compute: EksCompute
) -> CiRunner:
    """The deploy path into the private cluster: the runner in the private subnets
    ``ci.runner.subnetCidrs`` names (all of them by default), the CI roles' access entries."""
    private = [str(block) for block in network.layout[SubnetTier.PRIVATE]]
    chosen = parts.config.ci.runner.subnet_cidrs or private
    # The consistency checks have refused a CIDR that is not one of the private subnets.
    indexes = [private.index(cidr) for cidr in chosen]
    return CiRunner(
        "ci",
        parts.ci,
        wiring=wiring,
        cluster=compute.cluster,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids.apply(lambda ids: [ids[i] for i in indexes]),
        opts=base.in_region,
    )


def _tenants(
    config: StackConfig,
    wiring: Wiring,
    parts: StackParts,
    *,
    platform: KubernetesPlatform,
    network: Network,
    compute: EksCompute,
    database: PostgresDatabase,
    cache: RedisCache,
    cdn: Cdn,
) -> Tenants:
    """Every tenant's namespace, told where the platform is and allowed to reach its data."""
    data_subnets = [str(block) for block in network.layout[SubnetTier.DATABASE]]
    return Tenants(
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
            "DATABASE_NAME": config.database.database_name,
            "CACHE_HOST": cache.primary_endpoint,
            "CACHE_PORT": str(cache.port),
            "CDN_DOMAIN": cdn.alias_domain,
        },
        data_egress=[
            DataEgress(config.database.port, data_subnets, "PostgreSQL"),
            DataEgress(cache.port, data_subnets, "Redis"),
            # Credentials of the app's IAM role (EKS Pod Identity), from the node's agent; the
            # tokens for the database and the cache are signed in the pod, with no AWS call.
            DataEgress(POD_IDENTITY_AGENT_PORT, [POD_IDENTITY_AGENT_CIDR], "EKS Pod Identity"),
        ],
        load_balancer_cidrs=[str(block) for block in network.layout[SubnetTier.PUBLIC]],
        hostnames=parts.ingress.hostnames,
    )


def _tenant_data(
    config: StackConfig,
    wiring: Wiring,
    *,
    platform: KubernetesPlatform,
    network: Network,
    compute: EksCompute,
    database: PostgresDatabase,
    cache: RedisCache,
    base: _Foundation,
) -> TenantData:
    """Each tenant's schema and role (provisioning Jobs), cache user and IAM identity."""
    return TenantData(
        "tenant-data",
        TenantDataParts(
            config.tenant_data,
            [(tenant.name, tenant.tier) for tenant in config.tenants],
            stack=config.stack,
            database=config.database.database_name,
        ),
        wiring=wiring,
        platform=DataPlatform(
            cluster_name=compute.cluster.name,
            cluster_arn=compute.cluster.arn,
            database_resource_id=database.resource_id,
            database_address=database.address,
            database_port=config.database.port,
            database_admin=config.database.master_username,
            master_secret_arn=database.master_secret_arn,
            database_key_arn=database.kms_key_arn,
            cache_group_arn=cache.arn,
            data_subnets=[str(block) for block in network.layout[SubnetTier.DATABASE]],
            waits_for=compute.ready,
        ),
        kubernetes=platform.provider,
        opts=base.in_region,
    )


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


def select_availability_zones(
    config: StackConfig, invoke: pulumi.InvokeOptions
) -> list[AvailabilityZone]:
    """The zones of the region that need no opt-in, as ``choose_availability_zones`` picks them
    (by zone ID, without those Amazon EKS refuses); a choice the region cannot give is a config
    error on the key at fault."""
    available = aws.get_availability_zones(
        state="available",
        filters=[
            aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])
        ],
        opts=invoke,
    )
    # The look-up lists names and zone IDs in the same order.
    zones = [
        AvailabilityZone(name=name, zone_id=zone_id)
        for name, zone_id in zip(available.names, available.zone_ids, strict=True)
    ]
    try:
        return choose_availability_zones(config.network, config.region, zones)
    except ZoneChoiceError as error:
        settings = config.network
        value = settings.az_count if error.setting == "azCount" else settings.availability_zone_ids
        prod_hint = (
            " (2 or more in prod)"
            if error.setting == "azCount" and config.environment == "prod"
            else ""
        )
        raise ConfigError(
            config.stack_file,
            [
                ConfigProblem(
                    path=f"{PROJECT}:network.{error.setting}",
                    value=value,
                    message=f"{error}{prod_hint}",
                )
            ],
        ) from None
