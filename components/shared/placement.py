"""Where a data store sits: the isolated subnets, behind a security group only its clients pass.

RDS and ElastiCache each need a subnet group of their own (never the account's default group,
which spans the default VPC's public subnets) and a security group; every store wants the same
two in the same ``DataStoreNetwork``, differing only in the service's subnet-group type, name and
port.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.shared.security_groups import clients_only_security_group

SubnetGroup = TypeVar("SubnetGroup", bound=pulumi.CustomResource)


@dataclass(frozen=True)
class DataStoreNetwork:
    """Where the data stores sit and who may reach them: the same for every store."""

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The isolated database subnets: no route to or from the internet."""
    client_security_group_ids: Sequence[pulumi.Input[str]]
    """The only security groups admitted, each on the store's port alone."""


@dataclass(frozen=True)
class IsolatedPlacement(Generic[SubnetGroup]):
    """A data store's subnet group and security group."""

    subnet_group: SubnetGroup
    """The service's subnet group over the isolated database subnets."""
    security_group: aws.ec2.SecurityGroup
    """Admits the client security groups on the service's port and nothing else."""


def isolated_placement(
    owner: PlatformComponent,
    name: str,
    network: DataStoreNetwork,
    *,
    subnet_group_type: Callable[..., SubnetGroup],
    physical_name: str,
    service: str,
    port: int,
    tag: str,
) -> IsolatedPlacement[SubnetGroup]:
    """A subnet group of ``subnet_group_type`` (``aws.rds.SubnetGroup``,
    ``aws.elasticache.SubnetGroup``) over the network's isolated subnets, and a security group
    that admits only its clients, on ``port``; both children of ``owner``, named
    ``physical_name``."""
    subnet_group = subnet_group_type(
        f"{name}-subnets",
        name=physical_name,
        description=f"{physical_name}: isolated database subnets",
        subnet_ids=network.subnet_ids,
        tags=owner.tags(tag),
        opts=owner.child_opts(),
    )
    security_group = clients_only_security_group(
        owner,
        name,
        physical_name=physical_name,
        service=service,
        vpc_id=network.vpc_id,
        port=port,
        client_security_group_ids=network.client_security_group_ids,
        tag=tag,
    )
    return IsolatedPlacement(subnet_group, security_group)
