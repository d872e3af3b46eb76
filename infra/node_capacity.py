"""What a node offers pods, and what the platform and its tenants ask of the nodes.

Pure Python, no Pulumi: the zone-loss simulation (``infra/zone_loss.py``) compares the two to
say whether the workloads still fit once a zone's nodes are gone.

- **Allocatable per node.** ``INSTANCE_SHAPES`` gives the vCPUs, memory and maximum pods of the
  instance types the stacks use. A node offers its pods less than that: the kernel and firmware
  keep part of the memory (``VM_MEMORY_OVERHEAD_PERCENT``), and the EKS-optimized Amazon Linux 2023
  AMI reserves CPU and memory for the kubelet and container runtime and keeps a hard-eviction
  margin (``kube_reserved_cpu_millicores``, ``kube_reserved_memory_mib``,
  ``EVICTION_HARD_MEMORY_MIB``). It sets no system reservation.
- **Requests.** What the scheduler reserves: the DaemonSets on every node (the EKS add-ons and
  node-exporter), the platform's cluster-wide workloads (the EKS add-ons' Deployments and the
  charts of ``components/kubernetes_platform.py``, with the requests it sets) and each tenant's
  quota (``components/tenants.py``). Limits do not count: the scheduler places pods by requests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.base import Environment
from components.kubernetes_platform import PlatformSettings, monitoring_values
from components.tenants import TIERS, TenantSettings

# Sources of the figures below, cited once.
EC2_INSTANCE_TYPES = (
    "vCPU and memory: Amazon EC2 instance types "
    "(https://docs.aws.amazon.com/ec2/latest/instancetypes/)"
)
ENI_MAX_PODS = (
    "max pods: awslabs/amazon-eks-ami nodeadm/internal/kubelet/eni-max-pods.txt "
    "(ENIs x (IPv4 addresses per ENI - 1) + 2)"
)
NODEADM_RESERVATION = (
    "awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go: kubeReserved cpu from "
    "getCPUMillicoresToReserve, memory 11 x maxPods + 255 MiB, evictionHard "
    "memory.available 100Mi, no systemReserved"
)
KARPENTER_VM_OVERHEAD = (
    "Karpenter's vmMemoryOverheadPercent default, 0.075 "
    "(https://karpenter.sh/docs/reference/settings/)"
)

VM_MEMORY_OVERHEAD_PERCENT = 7.5
"""Memory an instance's kernel and firmware keep from its nominal size, which the kubelet never
reports as capacity. EC2 does not publish it per type; Karpenter plans with 7.5% by default."""

EVICTION_HARD_MEMORY_MIB = 100
"""The AMI's ``evictionHard`` ``memory.available<100Mi``: the kubelet evicts pods before the last
100 MiB are used, so they are not allocatable."""

#: (start, end) of each CPU range in millicores and the share of it reserved, in ten-thousandths:
#: 6% of the first core, 1% of the second, 0.5% of the third and fourth, 0.25% of the rest
#: (nodeadm's getCPUMillicoresToReserve, the ranges GKE publishes).
_CPU_RESERVATION_RANGES = ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50))
_CPU_RESERVATION_ABOVE_4_CORES = 25


class CapacityError(ValueError):
    """A node group's instance type has no allocatable figures here."""


@dataclass(frozen=True)
class Resources:
    """CPU in millicores and memory in MiB, as the scheduler counts requests."""

    cpu_millicores: int
    memory_mib: int

    @classmethod
    def of(cls, requests: Mapping[str, Any]) -> Resources:
        """From a Kubernetes ``requests`` map such as ``{"cpu": "250m", "memory": "1Gi"}``; a
        resource it leaves out is requested as zero."""
        cpu, memory = requests.get("cpu"), requests.get("memory")
        return cls(
            0 if cpu is None else cpu_millicores(str(cpu)),
            0 if memory is None else memory_mib(str(memory)),
        )

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_millicores + other.cpu_millicores, self.memory_mib + other.memory_mib
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_millicores - other.cpu_millicores, self.memory_mib - other.memory_mib
        )

    def times(self, count: int) -> Resources:
        """``count`` of these, e.g. every replica of a workload."""
        return Resources(self.cpu_millicores * count, self.memory_mib * count)

    def covers(self, demand: Resources) -> bool:
        """Whether these hold ``demand`` in CPU and in memory."""
        return self.cpu_millicores >= demand.cpu_millicores and self.memory_mib >= demand.memory_mib

    def shortfall(self, demand: Resources) -> Resources:
        """What ``demand`` needs beyond these, per resource (zero where these suffice)."""
        return Resources(
            max(0, demand.cpu_millicores - self.cpu_millicores),
            max(0, demand.memory_mib - self.memory_mib),
        )

    def __str__(self) -> str:
        return f"{self.cpu_millicores:,}m CPU / {self.memory_mib:,} MiB"


ZERO = Resources(0, 0)

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Mi|Gi)$")


def cpu_millicores(quantity: str) -> int:
    """A Kubernetes CPU quantity ("250m", "1", "0.5") in millicores."""
    match = _CPU.match(quantity)
    if not match:
        raise ValueError(f"{quantity!r} is not a CPU quantity such as 250m or 1")
    number, milli = match.groups()
    return round(float(number) * (1 if milli else 1000))


def memory_mib(quantity: str) -> int:
    """A Kubernetes memory quantity in Mi or Gi ("64Mi", "1Gi") in MiB."""
    match = _MEMORY.match(quantity)
    if not match:
        raise ValueError(f"{quantity!r} is not a memory quantity such as 64Mi or 1Gi")
    number, unit = match.groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def kube_reserved_cpu_millicores(vcpus: int) -> int:
    """CPU the AMI reserves for the kubelet and runtime on a node of ``vcpus`` vCPUs: 70m on two,
    80m on four, 110m on sixteen."""
    total = vcpus * 1000
    reserved = sum(
        (min(total, end) - start) * share // 10_000
        for start, end, share in _CPU_RESERVATION_RANGES
        if total > start
    )
    return reserved + max(0, total - 4000) * _CPU_RESERVATION_ABOVE_4_CORES // 10_000


def kube_reserved_memory_mib(max_pods: int) -> int:
    """Memory the AMI reserves for the kubelet and runtime: it grows with the pods a node may
    run, not with its memory."""
    return 11 * max_pods + 255


@dataclass(frozen=True)
class InstanceShape:
    """An instance type's size and the pods its network interfaces can address."""

    vcpus: int
    memory_gib: int
    max_pods: int

    @property
    def capacity(self) -> Resources:
        """What the kubelet reports: every vCPU, the memory less the VM's own overhead."""
        visible = self.memory_gib * 1024 * (1 - VM_MEMORY_OVERHEAD_PERCENT / 100)
        return Resources(self.vcpus * 1000, math.floor(visible))

    @property
    def allocatable(self) -> Resources:
        """What pods may request on the node: capacity less kubeReserved and the eviction
        margin."""
        reserved = Resources(
            kube_reserved_cpu_millicores(self.vcpus),
            kube_reserved_memory_mib(self.max_pods) + EVICTION_HARD_MEMORY_MIB,
        )
        return self.capacity - reserved


#: The instance types the stacks use (dev: t4g.medium; prod: m7g.large)
#: and the others the price catalog lists. Sources: EC2_INSTANCE_TYPES, ENI_MAX_PODS.
INSTANCE_SHAPES: dict[str, InstanceShape] = {
    "t3.medium": InstanceShape(vcpus=2, memory_gib=4, max_pods=17),
    "t3.large": InstanceShape(vcpus=2, memory_gib=8, max_pods=35),
    "t4g.medium": InstanceShape(vcpus=2, memory_gib=4, max_pods=17),
    "t4g.large": InstanceShape(vcpus=2, memory_gib=8, max_pods=35),
    "c6g.large": InstanceShape(vcpus=2, memory_gib=4, max_pods=29),
    "c7g.large": InstanceShape(vcpus=2, memory_gib=4, max_pods=29),
    "m6i.large": InstanceShape(vcpus=2, memory_gib=8, max_pods=29),
    "m7g.large": InstanceShape(vcpus=2, memory_gib=8, max_pods=29),
    "m7g.xlarge": InstanceShape(vcpus=4, memory_gib=16, max_pods=58),
    "m7g.2xlarge": InstanceShape(vcpus=8, memory_gib=32, max_pods=58),
    "m7i.large": InstanceShape(vcpus=2, memory_gib=8, max_pods=29),
}


def node_allocatable(instance_types: Sequence[str]) -> Resources:
    """What one node of a group offers pods: the least, per resource, of its instance types,
    since the group may start any of them (a spot group takes whichever pool has capacity)."""
    unknown = [t for t in instance_types if t not in INSTANCE_SHAPES]
    if unknown:
        raise CapacityError(
            f"no allocatable figures for instance type {', '.join(unknown)}: add its vCPUs, "
            f"memory and max pods to INSTANCE_SHAPES (infra/node_capacity.py; known: "
            f"{', '.join(sorted(INSTANCE_SHAPES))})"
        )
    shapes = [INSTANCE_SHAPES[t].allocatable for t in instance_types]
    return Resources(min(s.cpu_millicores for s in shapes), min(s.memory_mib for s in shapes))


@dataclass(frozen=True)
class Workload:
    """Pods of the platform, each requesting the same."""

    name: str
    pods: int
    """Replicas across the cluster; for a DaemonSet, pods on each node (one)."""
    requests: Resources
    """What each pod requests, all its containers together."""
    source: str
    """Where the requests and replica count come from."""

    @property
    def total(self) -> Resources:
        return self.requests.times(self.pods)


#: prometheus-operator's defaults for the config-reloader sidecar it adds to every Prometheus and
#: Alertmanager pod (--config-reloader-cpu-request 10m, --config-reloader-memory-request 50Mi);
#: kube-prometheus-stack leaves them unset.
CONFIG_RELOADER = Resources(10, 50)
#: Each container of the EBS CSI driver's pods requests the driver's 10m / 40Mi (its chart gives
#: the sidecars the driver's resources when they set none): six in a controller pod (driver,
#: provisioner, attacher, snapshotter, resizer, liveness probe), three in a node pod.
_EBS_CSI_CONTAINER = Resources(10, 40)
_EBS_CSI = "aws-ebs-csi-driver chart values and templates (controller.resources, node.resources)"


def daemonsets(platform: PlatformSettings) -> tuple[Workload, ...]:
    """The pods every node runs: the EKS add-ons' DaemonSets and node-exporter."""
    node_exporter = monitoring_values(platform)["prometheus-node-exporter"]["resources"]
    return (
        Workload(
            "aws-node (vpc-cni)",
            1,
            Resources(50, 0),
            "aws-vpc-cni chart: resources.requests.cpu 25m on the aws-node and "
            "aws-eks-nodeagent containers",
        ),
        Workload(
            "kube-proxy", 1, Resources(100, 0), "the EKS kube-proxy add-on's DaemonSet: cpu 100m"
        ),
        Workload(
            "eks-pod-identity-agent",
            1,
            ZERO,
            "eks-pod-identity-agent chart: resources {} (no requests)",
        ),
        Workload("ebs-csi-node", 1, _EBS_CSI_CONTAINER.times(3), _EBS_CSI),
        Workload(
            "prometheus-node-exporter",
            1,
            Resources.of(node_exporter["requests"]),
            "components/kubernetes_platform.py monitoring_values",
        ),
    )


def platform_workloads(
    platform: PlatformSettings, environment: Environment
) -> tuple[Workload, ...]:
    """The platform's cluster-wide pods: the EKS add-ons' Deployments, then the charts
    ``KubernetesPlatform`` installs, with the requests and replicas it sets (chart defaults where
    it sets none)."""
    is_prod = environment is Environment.PROD
    values = monitoring_values(platform)
    ours = "components/kubernetes_platform.py"
    return (
        Workload(
            "coredns",
            2,
            Resources(100, 70),
            "the EKS coredns add-on: 2 replicas, requests cpu 100m, memory 70Mi",
        ),
        Workload("ebs-csi-controller", 2, _EBS_CSI_CONTAINER.times(6), _EBS_CSI),
        Workload("metrics-server", 2 if is_prod else 1, Resources(50, 64), ours),
        Workload("cluster-autoscaler", 1, Resources(100, 300), f"{ours} (chart: 1 replica)"),
        Workload("aws-load-balancer-controller", 2 if is_prod else 1, Resources(100, 128), ours),
        Workload(
            "prometheus",
            platform.prometheus.replicas,
            Resources.of(values["prometheus"]["prometheusSpec"]["resources"]["requests"])
            + CONFIG_RELOADER,
            f"{ours} monitoring_values, plus prometheus-operator's config-reloader sidecar",
        ),
        Workload(
            "alertmanager",
            platform.alertmanager.replicas,
            Resources.of(values["alertmanager"]["alertmanagerSpec"]["resources"]["requests"])
            + CONFIG_RELOADER,
            f"{ours} monitoring_values, plus prometheus-operator's config-reloader sidecar",
        ),
        Workload(
            "grafana",
            1,
            Resources.of(values["grafana"]["resources"]["requests"]),
            f"{ours} monitoring_values (chart: 1 replica; its sidecars request nothing)",
        ),
        Workload(
            "prometheus-operator",
            1,
            Resources.of(values["prometheusOperator"]["resources"]["requests"]),
            f"{ours} monitoring_values (chart: 1 replica)",
        ),
        Workload(
            "kube-state-metrics",
            1,
            Resources.of(values["kube-state-metrics"]["resources"]["requests"]),
            f"{ours} monitoring_values (chart: 1 replica)",
        ),
    )


def tenant_requests(tenant: TenantSettings) -> Resources:
    """What a tenant's quota lets it request: its tier's reservation."""
    spec = TIERS[tenant.tier]
    return Resources(
        round(spec.requested_cpu_cores * 1000), round(spec.requested_memory_gib * 1024)
    )


def total(workloads: Sequence[Workload]) -> Resources:
    """The requests of every pod of ``workloads``."""
    return sum((w.total for w in workloads), ZERO)
