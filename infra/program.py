"""The Pulumi program: validate the stack's config, then compose the components.

Order matters: configuration is validated first, so a bad stack file fails with a clear message
before anything is declared; the only things that come before the availability-zone check are
the AWS provider (which creates nothing in AWS) and two read-only look-ups.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.alerts import AlertsTopic
from components.base import StackContext
from components.network import Network
from components.postgres import PostgresDatabase
from components.redis import RedisCache
from infra.config import PROJECT, ConfigError, ConfigProblem, StackConfig, load_stack_config


def main() -> None:
    """Declare the whole stack. Called by ``__main__.py`` and by the offline plan."""
    config = load_stack_config()
    provider = aws.Provider(
        "aws",
        region=config.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )
    invoke = pulumi.InvokeOptions(provider=provider)
    zones = select_availability_zones(config, invoke)
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

    database = PostgresDatabase(
        "database",
        config.database,
        vpc_id=network.vpc_id,
        database_subnet_ids=network.database_subnet_ids,
        client_security_group_ids=(),
        kms=config.kms,
        alarm_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
    )
    cache = RedisCache(
        "cache",
        config.cache,
        vpc_id=network.vpc_id,
        database_subnet_ids=network.database_subnet_ids,
        client_security_group_ids=(),
        kms=config.kms,
        alarm_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
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
    pulumi.export(
        "database",
        {
            "identifier": database.identifier,
            "address": database.address,
            "port": database.port,
            "engine": database.engine,
            "engineVersion": database.engine_version,
            "masterSecretArn": database.master_secret_arn,
            "securityGroupId": database.security_group_id,
            "multiAz": database.multi_az,
        },
    )
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
