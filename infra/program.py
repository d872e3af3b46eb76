"""The Pulumi program: validate the stack's config, then compose the components.

Order matters: configuration is validated first, so a bad stack file fails with a clear message
before anything is declared; the only things that come before the availability-zone and
existing-zone checks are the AWS provider (which creates nothing in AWS) and read-only look-ups.
"""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from components.alerts import AlertsTopic
from components.base import StackContext
from components.budget import Budget, budget_json
from components.cdn import Cdn
from components.dns_zone import DnsZone, ExistingZone
from components.eks_compute import EksCompute, EksComputeParts
from components.kubernetes_platform import KubernetesPlatform, KubernetesPlatformParts
from components.network import Network, SubnetTier
from components.postgres import PostgresDatabase, PostgresParts
from components.redis import RedisCache
from components.shared.wiring import Wiring
from components.tenants import DataEgress, Tenants
from components.uptime import Uptime
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

    alerts = AlertsTopic(
        "alerts",
        config.alerts,
        kms=config.kms,
        context=context,
        publisher_services=("cloudwatch.amazonaws.com", "budgets.amazonaws.com"),
        emails_are_secret=config.is_secret(f"{PROJECT}:alerts"),
        opts=in_region,
    )
    network = Network(
        "network",
        config.network,
        availability_zones=zones,
        kms=config.kms,
        alarm_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
    )
    budget = Budget(
        "budget",
        config.budget,
        estimate_usd=estimate.total_usd,
        alerts_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
    )

    # CloudFront certificates and web ACLs, Route53 query logs, DNSSEC keys and Route53 metrics
    # exist only in us-east-1, whatever the stack's region.
    us_east_1 = aws.Provider(
        "us-east-1",
        region=EDGE_REGION,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )
    edge_alerts_arn = (
        alerts.topic_arn
        if config.region == EDGE_REGION
        else AlertsTopic(
            f"alerts-{EDGE_REGION}",
            config.alerts,
            kms=config.kms,
            context=dataclasses.replace(context, region=EDGE_REGION),
            emails_are_secret=config.is_secret(f"{PROJECT}:alerts"),
            opts=pulumi.ResourceOptions(provider=us_east_1),
        ).topic_arn
    )
    dns = DnsZone(
        "dns",
        config.dns,
        kms=config.kms,
        context=context,
        us_east_1=us_east_1,
        alarm_topic_arn=edge_alerts_arn,
        existing_zone=adopted_zone,
        opts=in_region,
    )
    cdn = Cdn(
        "cdn",
        config.cdn,
        zone_id=dns.zone_id,
        kms=config.kms,
        context=context,
        us_east_1=us_east_1,
        opts=in_region,
    )
    uptime = Uptime(
        "uptime",
        config.uptime,
        alarm_topic_arn=edge_alerts_arn,
        context=context,
        us_east_1=us_east_1,
        opts=in_region,
    )

    wiring = Wiring(
        context=context,
        kms=config.kms,
        edge_provider=us_east_1,
        alerts_topic_arn=alerts.topic_arn,
        edge_alerts_topic_arn=edge_alerts_arn,
    )
    compute = EksCompute(
        "eks",
        EksComputeParts(config.cluster),
        wiring=wiring,
        private_subnet_ids=network.private_subnet_ids,
        opts=in_region,
    )
    database = PostgresDatabase(
        "database",
        PostgresParts(config.database),
        wiring=wiring,
        vpc_id=network.vpc_id,
        database_subnet_ids=network.database_subnet_ids,
        # Managed nodes, and so every pod, use the cluster security group: the only client.
        client_security_group_ids=(compute.cluster.cluster_security_group_id,),
        opts=in_region,
    )
    cache = RedisCache(
        "cache",
        config.cache,
        vpc_id=network.vpc_id,
        database_subnet_ids=network.database_subnet_ids,
        client_security_group_ids=(compute.cluster.cluster_security_group_id,),
        kms=config.kms,
        alarm_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
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
    pulumi.export(
        "network",
        {
            "vpcId": network.vpc_id,
            "cidr": str(config.network.cidr),
            "availabilityZones": zones,
            "publicSubnetIds": network.public_subnet_ids,
            "privateSubnetIds": network.private_subnet_ids,
            "databaseSubnetIds": network.database_subnet_ids,
            "natGatewayPublicIps": network.nat_public_ips,
            "flowLogGroupName": network.flow_log_group_name,
        },
    )
    pulumi.export("alerts", {"topicArn": alerts.topic_arn, "topicName": alerts.topic_name})
    pulumi.export("monthlyCost", estimate.to_json())
    pulumi.export("costPerCustomer", per_customer_output(config, estimate))
    pulumi.export("budget", budget_json(config.budget, estimate.total_usd, budget.budget_name))
    pulumi.export(
        "dns",
        {
            "zoneId": dns.zone_id,
            "zoneName": dns.zone_name,
            "nameServers": dns.name_servers,
            "registrarInstruction": dns.registrar_instruction,
            "dsRecord": dns.ds_record,
            "records": sorted({*dns.record_fqdns, cdn.alias_domain}),
        },
    )
    pulumi.export(
        "cdn",
        {
            "distributionId": cdn.distribution_id,
            "domainName": cdn.domain_name,
            "aliasDomain": cdn.alias_domain,
            "bucketName": cdn.bucket_name,
            "logBucketName": cdn.log_bucket_name,
            "certificateArn": cdn.certificate_arn,
            "webAclArn": cdn.web_acl_arn,
        },
    )
    pulumi.export("uptime", {"healthChecks": uptime.health_check_ids})

    pulumi.export("database", database.outputs)
    pulumi.export(
        "cache",
        {
            "replicationGroupId": cache.replication_group_id,
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
            "port": cache.port,
            "engine": cache.engine,
            "authTokenSecretArn": cache.auth_token_secret_arn,
            "securityGroupId": cache.security_group_id,
        },
    )

    pulumi.export("cluster", compute.outputs)
    pulumi.export("kubeconfig", compute.kubeconfig)
    pulumi.export("tenants", tenants.outputs)


#: The region of CloudFront's certificates and web ACLs and of Route53's logs and metrics.
EDGE_REGION = "us-east-1"


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
