"""EksCompute: the whole EKS bring-up, in the order a working cluster needs it.

Declares, each step waiting for the one before:

1. ``EksCluster``: the control plane (keys, control-plane logs, role, cluster, access entries,
   OIDC provider, alarms);
2. the networking add-ons of ``EksAddons`` (vpc-cni, kube-proxy, pod identity agent): the
   cluster is created without EKS's self-managed defaults, and a node becomes Ready only once
   a CNI runs;
3. one ``NodeGroup`` per configured group, after the networking add-ons;
4. the workload add-ons of ``EksAddons`` (coredns, EBS CSI driver), after the node groups:
   their pods need nodes to run on.

``ready`` (the node groups and the workload add-ons) is what Kubernetes workloads wait for:
schedulable nodes, DNS and volumes. The cluster, its add-ons and node groups used to be declared
by the program itself, directly under the stack; each carries an alias to that URN, so a
deployed stack keeps them (and, through the engine, everything beneath them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pulumi

from components.base import PlatformComponent
from components.cost import CostLine, PriceCatalog, UsageSettings
from components.eks_addons import EksAddons, EksAddonsParts
from components.eks_cluster import ClusterSettings, EksCluster, EksClusterParts
from components.node_group import NodeGroup, NodeGroupParts
from components.shared.wiring import Wiring


@dataclass(frozen=True)
class EksComputeParts:
    """What ``EksCompute`` declares, derived once from the cluster settings: the control plane,
    the add-ons and each node group, as their own parts."""

    settings: ClusterSettings

    @property
    def cluster(self) -> EksClusterParts:
        """The control plane."""
        return EksClusterParts(self.settings)

    @property
    def addons(self) -> EksAddonsParts:
        """The managed add-ons of both stages."""
        return EksAddonsParts(self.settings.addon_versions)

    @property
    def node_groups(self) -> tuple[NodeGroupParts, ...]:
        """One per configured node group, in the configured order."""
        return tuple(NodeGroupParts(group) for group in self.settings.node_groups)

    def cost_lines(
        self, catalog: PriceCatalog, usage: UsageSettings, *, spot_discount_percent: float
    ) -> list[CostLine]:
        """Monthly cost of the control plane, then of each node group (the add-ons are free)."""
        return [
            *self.cluster.cost_lines(catalog, usage),
            *(
                line
                for group in self.node_groups
                for line in group.cost_lines(catalog, spot_discount_percent=spot_discount_percent)
            ),
        ]


class EksCompute(PlatformComponent):
    """The EKS cluster, its managed add-ons and node groups, declared in bring-up order.

    Steps: the control plane; the networking add-ons; the node groups; the workload add-ons
    (see the module docstring for why in this order). ``parts`` says what each step declares;
    ``wiring`` names, encrypts and alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:compute:EksCompute"
    COMPONENT: ClassVar[str] = "compute"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        **EksCluster.OUTPUTS,
        "endpointPublicAccess": "Whether the API endpoint is reachable from the internet "
        "(for publicAccessCidrs only).",
        "publicAccessCidrs": "CIDRs that may reach the public endpoint (empty when it is off).",
        "nodeGroups": "Names of the managed node groups, in the configured order.",
    }

    cluster: EksCluster
    """The control plane: its name, security group, OIDC identity and API access."""
    node_groups: list[NodeGroup]
    """The managed node groups, in the configured order."""
    ready: list[pulumi.Resource]
    """What workloads wait for: the node groups and the add-ons that run on them (DNS,
    volumes). Kubernetes resources that schedule pods depend on these."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig (JSON) whose user gets a token from ``aws eks get-token``; secret."""

    def __init__(
        self,
        name: str,
        parts: EksComputeParts,
        *,
        wiring: Wiring,
        private_subnet_ids: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self.cluster = EksCluster(
            name,
            parts.cluster,
            wiring=wiring,
            private_subnet_ids=private_subnet_ids,
            opts=self._moved_child_opts(),
        )
        addons = EksAddons(
            f"{name}-addons",
            parts.addons,
            cluster_name=self.cluster.name,
            oidc=self.cluster.oidc,
            wiring=wiring,
            opts=self._moved_child_opts(),
        )
        networking = addons.declare_networking()
        self.node_groups = [
            NodeGroup(
                f"{name}-nodes-{group.settings.name}",
                group,
                wiring=wiring,
                cluster_name=self.cluster.name,
                kubernetes_version=parts.settings.version,
                subnet_ids=private_subnet_ids,
                depends_on=networking,
                opts=self._moved_child_opts(),
            )
            for group in parts.node_groups
        ]
        self.ready = [*self.node_groups, *addons.declare_workloads(self.node_groups)]
        self.kubeconfig = self.cluster.kubeconfig
        self.publish(
            {
                **self.cluster.outputs,
                "endpointPublicAccess": parts.settings.endpoint_public_access,
                "publicAccessCidrs": list(parts.settings.public_access_cidrs),
                "nodeGroups": [group.node_group_name for group in self.node_groups],
            }
        )

    def _moved_child_opts(self) -> pulumi.ResourceOptions:
        """Options of a child that the stack held directly before this component existed: the
        alias keeps its deployed URN (and its children's) as the identity of its state."""
        return self.child_opts(aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
