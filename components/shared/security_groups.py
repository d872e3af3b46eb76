"""Security groups for data stores: clients are named by security group, never by address range."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent


def clients_only_security_group(
    owner: PlatformComponent,
    name: str,
    *,
    physical_name: str,
    service: str,
    vpc_id: pulumi.Input[str],
    port: int,
    client_security_group_ids: Sequence[pulumi.Input[str]],
    tag: str,
) -> aws.ec2.SecurityGroup:
    """A security group that admits only ``client_security_group_ids``, on ``port`` alone.

    It has no inline rules: ingress comes from one rule resource per client group, so no
    address range is ever admitted, and AWS's default allow-all egress is removed (a data
    store calls nobody)."""
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        name=physical_name,
        description=f"{physical_name}: {service} clients only",
        vpc_id=vpc_id,
        tags=owner.tags(tag),
        opts=owner.child_opts(),
    )
    for index, client in enumerate(client_security_group_ids):
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-client-{index}",
            security_group_id=group.id,
            description=f"{service} from a client security group",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=client,
            tags=owner.tags(f"{tag}-client"),
            opts=owner.child_opts(),
        )
    return group
