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
from components.eks_addons import EksAddons
from components.eks_cluster import EksCluster
from components.kubernetes_platform import KubernetesPlatform
from components.network import Network, SubnetTier
from components.node_group import NodeGroup
from components.tenants import DataEgress, Tenants
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

    cluster = EksCluster(
        "eks",
        config.cluster,
        private_subnet_ids=network.private_subnet_ids,
        kms=config.kms,
        alarm_topic_arn=alerts.topic_arn,
        context=context,
        opts=in_region,
    )
    addons = EksAddons("eks-addons", config.cluster.addons, cluster=cluster, opts=in_region)
    node_groups = [
        NodeGroup(
            f"eks-nodes-{group.name}",
            group,
            cluster_name=cluster.name,
            kubernetes_version=config.cluster.version,
            subnet_ids=network.private_subnet_ids,
            context=context,
            # Nodes only become Ready once the CNI runs.
            depends_on=addons.networking,
            opts=in_region,
        )
        for group in config.cluster.node_groups
    ]
    addons.after_nodes(node_groups)
    platform = KubernetesPlatform(
        "platform",
        config.platform,
        cluster=cluster,
        vpc_id=network.vpc_id,
        depends_on=[*node_groups, *addons.workloads],
        opts=in_region,
    )
    data_subnets = [str(block) for block in network.layout[SubnetTier.DATABASE]]
    tenants = Tenants(
        "tenants",
        config.tenants,
        context=context,
        provider=platform.provider,
        # The data tier and CDN add DATABASE_HOST/PORT, CACHE_HOST/PORT and CDN_DOMAIN here.
        endpoints={"AWS_REGION": config.region, "CLUSTER_NAME": cluster.name},
        data_egress=[
            DataEgress(5432, data_subnets, "PostgreSQL"),
            DataEgress(6379, data_subnets, "Redis"),
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
    pulumi.export(
        "cluster",
        {
            "name": cluster.name,
            "arn": cluster.arn,
            "endpoint": cluster.endpoint,
            "version": cluster.version,
            "securityGroupId": cluster.cluster_security_group_id,
            "oidcProviderArn": cluster.oidc_provider_arn,
            "endpointPublicAccess": config.cluster.endpoint_public_access,
            "publicAccessCidrs": list(config.cluster.public_access_cidrs),
            "nodeGroups": [group.node_group_name for group in node_groups],
        },
    )
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export(
        "tenants",
        {
            tenant.name: {"namespace": tenants.namespaces[tenant.name], "tier": str(tenant.tier)}
            for tenant in config.tenants
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
