"""EksAddons: the managed EKS add-ons every cluster needs, at pinned versions, in two stages.

Creates ``aws.eks.Addon`` for:
- stage 1, networking: ``vpc-cni`` with its own IRSA role (``AmazonEKS_CNI_Policy``, which the
  node role lacks) and network-policy enforcement on, so tenants' NetworkPolicies take effect;
  ``kube-proxy`` and ``eks-pod-identity-agent``;
- stage 2, workloads: ``coredns`` and ``aws-ebs-csi-driver`` (IRSA role with
  ``AmazonEBSCSIDriverPolicy``).

The cluster is created without EKS's self-managed defaults and nodes cannot become Ready before
a CNI runs, so the networking add-ons come before the node groups; the workload add-ons run pods,
which stay pending (the add-on DEGRADED) until there are nodes, so they come after them.
``EksCompute`` declares the two stages around its node groups. The add-ons know their cluster
by name and OIDC identity only, so this module does not depend on ``eks_cluster``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import PlatformComponent, SettingsModel
from components.shared.iam import OidcIdentity, service_account_role
from components.shared.wiring import Wiring

_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_DEFAULT = "null: the cluster version's entry of ADDON_VERSIONS (components/eks_cluster.py)."


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
        return cls.check_version(version)

    @staticmethod
    def check_version(version: str) -> str:
        """``version`` when it has the shape EKS gives add-on versions."""
        if not _ADDON_VERSION.match(version):
            raise ValueError(
                "an EKS add-on version looks like v1.20.4-eksbuild.1 (see aws eks "
                "describe-addon-versions --addon-name <name> --kubernetes-version <version>)"
            )
        return version


class AddonOverrides(SettingsModel):
    """Add-on versions a stack file pins over its Kubernetes version's defaults; an unset one
    keeps the default, so a stack overrides only what it must."""

    vpc_cni: str | None = Field(default=None, description=f"vpc-cni add-on version; {_DEFAULT}")
    coredns: str | None = Field(default=None, description=f"coredns add-on version; {_DEFAULT}")
    kube_proxy: str | None = Field(
        default=None,
        description=f"kube-proxy add-on version (its minor is the cluster's); {_DEFAULT}",
    )
    aws_ebs_csi_driver: str | None = Field(
        default=None, description=f"aws-ebs-csi-driver add-on version; {_DEFAULT}"
    )
    eks_pod_identity_agent: str | None = Field(
        default=None, description=f"eks-pod-identity-agent add-on version; {_DEFAULT}"
    )

    @field_validator("*")
    @classmethod
    def _eks_build(cls, version: str | None) -> str | None:
        return None if version is None else AddonVersions.check_version(version)

    def pinned(self) -> dict[str, str]:
        """The versions set here, by field name."""
        return {name: version for name, version in self if isinstance(version, str)}

    def complete(self) -> bool:
        """Every add-on's version is set: nothing needs a default."""
        return len(self.pinned()) == len(AddonVersions.model_fields)

    def over(self, defaults: AddonVersions) -> AddonVersions:
        """``defaults`` with the versions set here in their place."""
        return defaults.model_copy(update=self.pinned())


@dataclass(frozen=True)
class AddonRole:
    """The IRSA role of an add-on that calls AWS APIs: its service account, in ``kube-system``,
    is the only one that may assume it."""

    label: str
    """Names the role ``<component>-<label>-irsa``."""
    service_account: str
    """The add-on's service account in ``kube-system``."""
    managed_policy: str
    """The AWS managed policy it holds, as the path after ``arn:<partition>:iam::aws:policy/``."""
    description: str
    """Why the add-on needs the role."""


@dataclass(frozen=True)
class AddonSpec:
    """One managed add-on at its pinned version."""

    addon: str
    """The EKS add-on name."""
    version: str
    """The pinned version, from the settings."""
    role: AddonRole | None = None
    """Its IRSA role, for an add-on that calls AWS APIs."""
    configuration: Mapping[str, str] | None = None
    """Configuration values that differ from the add-on's defaults."""


@dataclass(frozen=True)
class EksAddonsParts:
    """The add-ons of each stage, derived once from the pinned versions."""

    versions: AddonVersions

    @property
    def networking(self) -> tuple[AddonSpec, ...]:
        """Stage 1, before the nodes: without a CNI no node becomes Ready."""
        versions = self.versions
        cni_role = AddonRole(
            "vpc-cni",
            "aws-node",
            "AmazonEKS_CNI_Policy",
            "Lets the VPC CNI (aws-node) assign pod IP addresses.",
        )
        return (
            # NetworkPolicy objects are only enforced when the CNI's policy agent is on.
            AddonSpec("vpc-cni", versions.vpc_cni, cni_role, {"enableNetworkPolicy": "true"}),
            AddonSpec("kube-proxy", versions.kube_proxy),
            AddonSpec("eks-pod-identity-agent", versions.eks_pod_identity_agent),
        )

    @property
    def workloads(self) -> tuple[AddonSpec, ...]:
        """Stage 2, after the nodes: their pods need nodes to run on."""
        versions = self.versions
        ebs_role = AddonRole(
            "ebs-csi",
            "ebs-csi-controller-sa",
            "service-role/AmazonEBSCSIDriverPolicy",
            "Lets the EBS CSI driver create, attach and delete EBS volumes.",
        )
        return (
            AddonSpec("coredns", versions.coredns),
            AddonSpec("aws-ebs-csi-driver", versions.aws_ebs_csi_driver, ebs_role),
        )


class EksAddons(PlatformComponent):
    """Managed add-ons of one cluster, with IRSA roles where they call AWS APIs.

    Steps, each a call its owner makes in order: ``declare_networking()`` (stage 1, before the
    node groups) and ``declare_workloads(node_groups)`` (stage 2, after them). ``parts`` lists
    each stage's add-ons; ``wiring`` names and tags them.
    """

    TYPE: ClassVar[str] = "genericcorp:compute:EksAddons"
    COMPONENT: ClassVar[str] = "compute"

    def __init__(
        self,
        name: str,
        parts: EksAddonsParts,
        *,
        cluster_name: pulumi.Input[str],
        oidc: OidcIdentity,
        wiring: Wiring,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self._parts = parts
        self._cluster_name = cluster_name
        self._oidc = oidc
        self.publish({})

    def declare_networking(self) -> list[aws.eks.Addon]:
        """Stage 1: the add-ons nodes need to become Ready; the node groups wait for them."""
        return [self._addon(spec) for spec in self._parts.networking]

    def declare_workloads(self, node_groups: Sequence[pulumi.Resource]) -> list[aws.eks.Addon]:
        """Stage 2: the add-ons whose pods need nodes (they stay DEGRADED without any)."""
        return [self._addon(spec, depends_on=node_groups) for spec in self._parts.workloads]

    def _addon(
        self, spec: AddonSpec, *, depends_on: Sequence[pulumi.Resource] = ()
    ) -> aws.eks.Addon:
        """The add-on at its pinned version, with its own role where it calls AWS APIs."""
        return aws.eks.Addon(
            f"{self._name}-{spec.addon}",
            cluster_name=self._cluster_name,
            addon_name=spec.addon,
            addon_version=spec.version,
            service_account_role_arn=None if spec.role is None else self._role(spec.role).arn,
            configuration_values=json.dumps(spec.configuration, sort_keys=True)
            if spec.configuration
            else None,
            # Take over whatever EKS or an earlier install left; keep operators' later edits.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=self.tags(f"addon-{spec.addon}"),
            opts=self.child_opts(depends_on=list(depends_on)),
        )

    def _role(self, role: AddonRole) -> aws.iam.Role:
        """The add-on's own role, so that no pod borrows the node role's permissions."""
        return service_account_role(
            self,
            f"{self._name}-{role.label}-irsa",
            oidc=self._oidc,
            namespace="kube-system",
            service_account=role.service_account,
            description=role.description,
            managed_policy_arns=[
                f"arn:{self.context.partition}:iam::aws:policy/{role.managed_policy}"
            ],
        )
