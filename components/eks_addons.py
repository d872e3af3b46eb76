"""EksAddons: the managed EKS add-ons every cluster needs, at pinned versions.

Creates ``aws.eks.Addon`` for:
- ``vpc-cni`` with its own IRSA role (``AmazonEKS_CNI_Policy``, which the node role lacks) and
  network-policy enforcement on, so tenants' NetworkPolicies take effect;
- ``kube-proxy`` and ``eks-pod-identity-agent``;
- ``coredns`` and ``aws-ebs-csi-driver`` (IRSA role with ``AmazonEBSCSIDriverPolicy``).

The networking add-ons must run before nodes can become Ready, and the cluster is created
without EKS's self-managed defaults; so they are declared at construction, and the
add-ons that need nodes to schedule on are declared by ``after_nodes`` once the node groups are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import PlatformComponent, SettingsModel

if TYPE_CHECKING:
    from components.eks_cluster import EksCluster

_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


class AddonVersions(SettingsModel):
    """Versions of the managed add-ons (``aws eks describe-addon-versions`` lists them)."""

    vpc_cni: str = Field(description="vpc-cni add-on version, e.g. v1.20.4-eksbuild.1.")
    coredns: str = Field(description="coredns add-on version for the cluster's version.")
    kube_proxy: str = Field(description="kube-proxy add-on version; its minor is the cluster's.")
    aws_ebs_csi_driver: str = Field(description="aws-ebs-csi-driver add-on version.")
    eks_pod_identity_agent: str = Field(description="eks-pod-identity-agent add-on version.")

    @field_validator("*")
    @classmethod
    def _eks_build(cls, version: str) -> str:
        if not _ADDON_VERSION.match(version):
            raise ValueError(
                "an EKS add-on version looks like v1.20.4-eksbuild.1 (see aws eks "
                "describe-addon-versions --addon-name <name> --kubernetes-version <version>)"
            )
        return version


class EksAddons(PlatformComponent):
    """Managed add-ons of one cluster, with IRSA roles where they call AWS APIs."""

    def __init__(
        self,
        name: str,
        versions: AddonVersions,
        *,
        cluster: EksCluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "genericcorp:compute:EksAddons",
            name,
            context=cluster.context,
            component_tag="compute",
            opts=opts,
        )
        self._name = name
        self._versions = versions
        self._cluster = cluster
        partition = cluster.context.partition
        cni_role = cluster.service_account_role(
            self,
            f"{name}-vpc-cni-irsa",
            namespace="kube-system",
            service_account="aws-node",
            description="Lets the VPC CNI (aws-node) assign pod IP addresses.",
            managed_policy_arns=[f"arn:{partition}:iam::aws:policy/AmazonEKS_CNI_Policy"],
        )
        self.networking: list[pulumi.Resource] = [
            self._addon(
                "vpc-cni",
                versions.vpc_cni,
                role_arn=cni_role.arn,
                # NetworkPolicy objects are only enforced when the CNI's policy agent is on.
                configuration={"enableNetworkPolicy": "true"},
            ),
            self._addon("kube-proxy", versions.kube_proxy),
            self._addon("eks-pod-identity-agent", versions.eks_pod_identity_agent),
        ]
        self.workloads: list[pulumi.Resource] = []
        self.register_outputs({})

    def after_nodes(self, node_groups: Sequence[pulumi.Resource]) -> None:
        """Declare the add-ons whose pods need nodes (they stay DEGRADED without any)."""
        context = self.context
        ebs_role = self._cluster.service_account_role(
            self,
            f"{self._name}-ebs-csi-irsa",
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            description="Lets the EBS CSI driver create, attach and delete EBS volumes.",
            managed_policy_arns=[
                f"arn:{context.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
            ],
        )
        self.workloads = [
            self._addon("coredns", self._versions.coredns, depends_on=node_groups),
            self._addon(
                "aws-ebs-csi-driver",
                self._versions.aws_ebs_csi_driver,
                role_arn=ebs_role.arn,
                depends_on=node_groups,
            ),
        ]

    def _addon(
        self,
        addon: str,
        version: str,
        *,
        role_arn: pulumi.Input[str] | None = None,
        configuration: dict[str, str] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self._cluster.name,
            addon_name=addon,
            addon_version=version,
            service_account_role_arn=role_arn,
            configuration_values=json.dumps(configuration, sort_keys=True)
            if configuration
            else None,
            # Take over whatever EKS or an earlier install left; keep operators' later edits.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=self.tags(f"addon-{addon}"),
            opts=self.child_opts(depends_on=list(depends_on)),
        )
