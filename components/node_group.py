"""NodeGroup: an EKS managed node group in the private subnets, and what its nodes may do.

Creates:
- a least-privilege node role: ``AmazonEKSWorkerNodePolicy`` and
  ``AmazonEC2ContainerRegistryPullOnly`` only. The CNI policy is deliberately absent: the
  vpc-cni add-on gets it through its own IRSA role, so a pod that reaches the instance role
  cannot rewire the VPC's network interfaces;
- ``aws.ec2.LaunchTemplate``: IMDSv2 required with a hop limit of 1 (pods cannot reach the
  node's credentials through the metadata service), an encrypted gp3 root volume, tags on the
  instances and volumes. It names no network interface and no security group, so EKS attaches
  the cluster security group (the one the data tier admits), and nodes get no public IP because
  the private subnets assign none;
- ``aws.eks.NodeGroup``: instance types, ON_DEMAND or SPOT, sizes, labels and taints from config;
  the AMI type (Amazon Linux 2023, arm64 for Graviton families or x86_64) follows the instance
  family. The desired size is left to the cluster autoscaler after creation. Rolling updates
  replace one node at a time (``UPDATE_MAX_UNAVAILABLE_NODES``), draining it through the
  eviction API, so PodDisruptionBudgets hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.base import PlatformComponent, SettingsModel, static_policy_document
from components.cost import CostLine, PriceCatalog, hourly, spot_price
from components.shared.wiring import Wiring


class CapacityType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"


#: Instance families a node group may use, by CPU architecture. Graviton (arm64) families cost
#: about 20% less than their x86 twins; a group's types must share one architecture because a
#: managed node group has one AMI type.
INSTANCE_FAMILIES: dict[str, frozenset[str]] = {
    "arm64": frozenset(
        {"t4g", "m6g", "m7g", "m8g", "c6g", "c7g", "c8g", "r6g", "r7g", "r8g", "m6gd", "c6gn"}
    ),
    "x86_64": frozenset(
        {
            "t3",
            "t3a",
            "m5",
            "m6i",
            "m6a",
            "m7i",
            "m7a",
            "c5",
            "c6i",
            "c6a",
            "c7i",
            "c7a",
            "r6i",
            "r7i",
            "r7a",
        }
    ),
}
AMI_TYPES = {"arm64": "AL2023_ARM_64_STANDARD", "x86_64": "AL2023_x86_64_STANDARD"}

_INSTANCE_TYPE = re.compile(r"^([a-z][a-z0-9-]*)\.(nano|micro|small|medium|large|\d*xlarge|metal)$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def architecture_of(instance_type: str) -> str:
    """``arm64`` or ``x86_64`` for an instance type of a known family (ValueError otherwise)."""
    match = _INSTANCE_TYPE.match(instance_type)
    if not match:
        raise ValueError(
            f"{instance_type!r} is not an EC2 instance type such as m7g.large or t4g.medium"
        )
    family = match.group(1)
    for architecture, families in INSTANCE_FAMILIES.items():
        if family in families:
            return architecture
    known = ", ".join(sorted(INSTANCE_FAMILIES["arm64"] | INSTANCE_FAMILIES["x86_64"]))
    raise ValueError(f"unknown instance family {family!r} in {instance_type!r}; known: {known}")


class TaintSettings(SettingsModel):
    """A Kubernetes taint on every node of the group."""

    key: str = Field(description="Taint key, e.g. dedicated.")
    value: str = Field(description="Taint value.")
    effect: TaintEffect = Field(description="NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE.")


class NodeGroupSettings(SettingsModel):
    """One managed node group."""

    name: str = Field(description="Short name, unique in the cluster (lowercase, digits, -).")
    instance_types: list[str] = Field(
        min_length=1,
        description="EC2 instance types of one architecture, e.g. [m7g.large].",
    )
    capacity_type: CapacityType = Field(description="ON_DEMAND or SPOT.")
    min_size: int = Field(ge=0, description="Fewest nodes the autoscaler keeps.")
    desired_size: int = Field(ge=0, description="Nodes at creation (then the autoscaler's).")
    max_size: int = Field(ge=1, le=100, description="Most nodes the autoscaler may start.")
    disk_size_gib: int = Field(ge=20, le=1000, description="Encrypted gp3 root volume, GiB.")
    labels: dict[str, str] = Field(description="Kubernetes labels on every node.")
    taints: list[TaintSettings] = Field(description="Kubernetes taints on every node.")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("2 to 32 lowercase letters, digits or hyphens, starting with a letter")
        return name

    @field_validator("instance_types")
    @classmethod
    def _one_architecture(cls, types: list[str]) -> list[str]:
        architectures = {t: architecture_of(t) for t in types}
        if len(set(architectures.values())) > 1:
            raise ValueError(
                "a node group has one AMI type, so its instance types must share an "
                f"architecture; got {architectures}"
            )
        return types

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key in labels:
            if not _LABEL_KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
                raise ValueError(f"{key!r} is not a valid Kubernetes label key")
        return labels

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy minSize <= desiredSize <= maxSize; got minSize "
                f"{self.min_size}, desiredSize {self.desired_size}, maxSize {self.max_size}"
            )
        return self

    @property
    def architecture(self) -> str:
        return architecture_of(self.instance_types[0])

    @property
    def ami_type(self) -> str:
        return AMI_TYPES[self.architecture]


@dataclass(frozen=True)
class NodeGroupParts:
    """What a ``NodeGroup`` declares, derived once from its settings.

    The constructor starts ``node_count`` nodes with ``role_policies`` and ``cost_lines`` prices
    those same nodes, so the estimate cannot drift from the group.
    """

    settings: NodeGroupSettings

    @property
    def role_policies(self) -> tuple[str, ...]:
        """Managed policies of the node role."""
        return NODE_ROLE_POLICIES

    @property
    def node_count(self) -> int:
        """Nodes at creation: ``desiredSize``, where the cluster autoscaler starts from.

        Not minSize or maxSize: minSize is a floor and maxSize a ceiling the autoscaler reaches
        only under load, so pricing either would misstate a normal month; the autoscaler's later
        changes show in ``infractl cost actual``.
        """
        return self.settings.desired_size

    def cost_lines(self, catalog: PriceCatalog, *, spot_discount_percent: float) -> list[CostLine]:
        """Monthly cost of the group's ``node_count`` nodes and their root volumes. Nodes are
        priced at the most expensive of the group's instance types: the group may launch any of
        them (a spot group takes whichever pool has capacity), so the estimate must hold for
        the dearest. The role, launch template and group are free."""
        settings = self.settings
        component = NodeGroup.COMPONENT
        prices = {
            t: catalog.price(f"ec2.instance.{t}", resource="aws:eks/nodeGroup:NodeGroup")
            for t in settings.instance_types
        }
        first = max(prices, key=lambda t: prices[t].usd)
        price = prices[first]
        count = self.node_count
        capacity = f"{settings.capacity_type}"
        if settings.capacity_type is CapacityType.SPOT:
            price = spot_price(price, spot_discount_percent)
            capacity = (
                f"SPOT at {spot_discount_percent:g}% below on-demand (low confidence: spot "
                "prices vary by pool and hour)"
            )
        others = [t for t in settings.instance_types if t != first]
        return [
            CostLine.fixed(
                component,
                f"Nodes ({settings.name})",
                price,
                hourly(catalog, count),
                note=f"desiredSize {count} (min {settings.min_size}, max {settings.max_size}) "
                f"x {first}, the dearest allowed type"
                + (f" (also {', '.join(others)})" if others else "")
                + f", {capacity}",
            ),
            # gp3's baseline 3,000 IOPS and 125 MB/s are included in the GB price.
            CostLine.fixed(
                component,
                f"Root volumes ({settings.name})",
                catalog.price("ec2.ebs.gp3-storage", resource="aws:ec2/launchTemplate"),
                count * settings.disk_size_gib,
                note=f"{count} x {settings.disk_size_gib} GiB gp3",
            ),
        ]


class NodeGroup(PlatformComponent):
    """A managed node group with a hardened launch template and a least-privilege role.

    Steps: the node role and its managed policies; the launch template; the group. ``parts``
    says what the group runs; ``wiring`` names and tags it.
    """

    TYPE: ClassVar[str] = "genericcorp:compute:NodeGroup"
    COMPONENT: ClassVar[str] = "compute"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "nodeGroupName": "Node group name (genericcorp-<stack>-<group>).",
        "roleArn": "Instance role of the group's nodes.",
    }

    node_group_name: pulumi.Output[str]
    """The group's name in EKS."""
    role_arn: pulumi.Output[str]
    """The nodes' instance role."""

    def __init__(
        self,
        name: str,
        parts: NodeGroupParts,
        *,
        wiring: Wiring,
        cluster_name: pulumi.Input[str],
        kubernetes_version: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self._tag = f"nodes-{parts.settings.name}"
        role, attachments = self._role(parts)
        group = self._group(
            parts,
            role=role,
            launch_template=self._launch_template(parts),
            cluster_name=cluster_name,
            kubernetes_version=kubernetes_version,
            subnet_ids=subnet_ids,
            # The node role's policies, and whatever nodes need to become Ready (the CNI).
            prerequisites=[*attachments, *depends_on],
        )
        self.node_group_name = group.node_group_name
        self.role_arn = role.arn
        self.publish({"nodeGroupName": self.node_group_name, "roleArn": self.role_arn})

    def _role(self, parts: NodeGroupParts) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The nodes' instance role with the worker and registry-pull policies only: the CNI's
        permissions come through its own IRSA role, out of reach of a pod on the node."""
        role = aws.iam.Role(
            f"{self._name}-role",
            description=f"Instance role of the {parts.settings.name} EKS node group.",
            assume_role_policy=static_policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            ),
            tags=self.tags(self._tag),
            opts=self.child_opts(),
        )
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-role-{policy}",
                role=role.name,
                policy_arn=f"arn:{self.context.partition}:iam::aws:policy/{policy}",
                opts=self.child_opts(),
            )
            for policy in parts.role_policies
        ]
        return role, attachments

    def _launch_template(self, parts: NodeGroupParts) -> aws.ec2.LaunchTemplate:
        """IMDSv2 with a hop limit of 1 (pods cannot reach the node's credentials) and an
        encrypted gp3 root volume. No network interface or security group: EKS then attaches
        the cluster security group, the one the data tier admits."""
        settings = parts.settings
        node_tags = {**self.tags(self._tag), "NodeGroup": settings.name}
        return aws.ec2.LaunchTemplate(
            f"{self._name}-lt",
            description=f"Hardened nodes of the {settings.name} EKS node group.",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=settings.disk_size_gib,
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=self.tags(self._tag),
            opts=self.child_opts(),
        )

    def _group(
        self,
        parts: NodeGroupParts,
        *,
        role: aws.iam.Role,
        launch_template: aws.ec2.LaunchTemplate,
        cluster_name: pulumi.Input[str],
        kubernetes_version: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        prerequisites: Sequence[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        """The group itself: the AMI type follows the instance family, and the cluster
        autoscaler owns the desired size once the group exists."""
        settings = parts.settings
        return aws.eks.NodeGroup(
            f"{self._name}-group",
            cluster_name=cluster_name,
            node_group_name=self.context.physical_name(settings.name),
            version=kubernetes_version,
            node_role_arn=role.arn,
            subnet_ids=subnet_ids,
            ami_type=settings.ami_type,
            capacity_type=str(settings.capacity_type),
            instance_types=settings.instance_types,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=settings.min_size,
                desired_size=parts.node_count,
                max_size=settings.max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(
                max_unavailable=UPDATE_MAX_UNAVAILABLE_NODES
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            labels={**settings.labels, "genericcorp.com/node-group": settings.name},
            taints=[
                aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=str(t.effect))
                for t in settings.taints
            ],
            tags=self.tags(self._tag),
            opts=self.child_opts(
                depends_on=list(prerequisites),
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )


#: Managed policies of the node role. No AmazonEKS_CNI_Policy: vpc-cni has its own IRSA role.
NODE_ROLE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")

#: Nodes a rolling update of the group (new AMI, launch template or Kubernetes version) takes
#: out of service at once (``updateConfig.maxUnavailable``; EKS's own default is also one node,
#: docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html). EKS cordons and
#: drains each old node through the eviction API, so PodDisruptionBudgets are honoured; one node
#: at a time means a drain never takes more than one replica of a spread workload, nor more than
#: one zone's share of prod's nodes. A percentage would drain several nodes together once the
#: autoscaler has grown the group (33% of nine nodes is three).
UPDATE_MAX_UNAVAILABLE_NODES = 1
