"""KubernetesPlatform: the cluster-wide workloads every tenant relies on.

Creates, through a Kubernetes provider built from the cluster (its kubeconfig gets a token from
``aws eks get-token``, so no credential is stored):
- ``gp3``: the default StorageClass, encrypted EBS gp3 volumes bound in the pod's AZ;
- the ``monitoring`` namespace and a Secret with the Grafana admin password (pulumi-random,
  secret in state and outputs; the chart reads it from the Secret, never from its values);
- Helm releases, at the versions of ``CHARTS`` (the one place chart names, repositories and
  versions are pinned): metrics-server; cluster-autoscaler (IRSA role that may only resize
  auto-scaling groups tagged for this cluster); the AWS Load Balancer Controller (IRSA role);
  kube-prometheus-stack (Prometheus, Grafana, Alertmanager) with persistence, retention and
  resource requests from ``genericcorp:platform``.

Every workload a release runs on more than one replica (prod's metrics-server, Load Balancer
Controller, Prometheus and Alertmanager) is spread over zones and hosts and has a
PodDisruptionBudget of one replica at a time, set through its chart's own values keys
(``CHART_WORKLOADS``, each checked in the pinned chart's files); single replicas get no budget.

IMDSv2 with a hop limit of 1 keeps pods away from the node's metadata service, so every chart
that would look up its region or VPC there is given them explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    policy_document,
    switched_on,
)
from components.cost import CostLine, PriceCatalog, UsageSettings, hourly
from components.eks_compute import EksCompute
from components.platform_alerts import alert_routing_values, merged
from components.shared.iam import service_account_role
from components.shared.wiring import Wiring


@dataclass(frozen=True)
class Chart:
    chart: str
    repository: str
    version: str


#: Every Helm chart the platform installs. Upgrade here (and run ``make snapshots``); check what
#: a new version changes with ``helm search repo <chart> --versions`` and its release notes, and
#: that the keys ``CHART_WORKLOADS`` names for it still mean the same.
CHARTS: dict[str, Chart] = {
    "metrics-server": Chart(
        "metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.0"
    ),
    # Checked in kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler (the chart
    # moved there from charts/): Chart.yaml 9.59.1 (appVersion 1.35.0), its values.yaml (every
    # key _cluster_autoscaler sets, image.tag v1.35.0) and templates/clusterrole.yaml, whose
    # ClusterRole grants get/list/watch on resource.k8s.io resourceslices, deviceclasses and
    # resourceclaims, which the 1.34+ images watch (CLUSTER_AUTOSCALER_DRA_RBAC_SINCE).
    "cluster-autoscaler": Chart(
        "cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.1"
    ),
    "aws-load-balancer-controller": Chart(
        "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "1.14.0"
    ),
    "kube-prometheus-stack": Chart(
        "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "79.5.0"
    ),
    # Installed by components/ingress.py (its values and IRSA role need the zone and the apps
    # domain). Keys checked in kubernetes-sigs/external-dns charts/external-dns: values.yaml and
    # README (provider.name, sources, domainFilters, policy, registry, txtOwnerId,
    # serviceAccount.{create,name,annotations}, env, extraArgs, resources).
    "external-dns": Chart(
        "external-dns", "https://kubernetes-sigs.github.io/external-dns/", "1.18.0"
    ),
}

#: cluster-autoscaler releases track Kubernetes minors; run the one built for the cluster's
#: (1.35: the pinned chart's own appVersion). A newer chart's ClusterRole covers an older image.
CLUSTER_AUTOSCALER_IMAGES: dict[str, str] = {"1.34": "v1.34.0", "1.35": "v1.35.0"}

#: The first cluster-autoscaler chart whose ClusterRole grants the ``resource.k8s.io`` (dynamic
#: resource allocation) objects its image watches: with an older chart the autoscaler waits for
#: caches it may not fill and never starts, while the Helm release still succeeds. Source: the
#: chart's templates/clusterrole.yaml in kubernetes/autoscaler (rules added for chart 9.54.0,
#: appVersion 1.35.0; absent from 9.50.1, appVersion 1.33.0).
CLUSTER_AUTOSCALER_DRA_RBAC_SINCE = "9.54.0"

MONITORING_NAMESPACE = "monitoring"
STORAGE_CLASS = "gp3"

#: Node labels the spread constraints count pods by; EKS nodes carry both.
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"

ValuesPath = tuple[str, ...]
"""A key in a chart's values, outermost first: ``("prometheus", "prometheusSpec", "replicas")``."""


@dataclass(frozen=True)
class SpreadKeys:
    """Where a chart takes a workload's ``topologySpreadConstraints``, and the labels its pods
    carry (the constraints' selector: a chart that renders them with ``toYaml`` adds none)."""

    path: ValuesPath
    pod_labels: Mapping[str, str]


@dataclass(frozen=True)
class BudgetKeys:
    """Where a chart takes a workload's PodDisruptionBudget, and how it renders one."""

    path: ValuesPath
    chart_default: Mapping[str, Any]
    """The budget values the chart ships with; Helm merges the release's values over them."""
    switch: str | None
    """The flag that turns the budget on (``enabled``); None when any non-empty mapping does."""
    by: Literal["maxUnavailable", "minAvailable"]
    """How this project states "one replica down at a time" to the chart: ``maxUnavailable: 1``,
    or ``minAvailable: replicas - 1`` where the chart's default ``minAvailable`` would otherwise
    be rendered beside a ``maxUnavailable`` (a PDB may set only one of them)."""
    eviction_policy: bool
    """The chart renders ``unhealthyPodEvictionPolicy``, so a pod that is not Ready never holds
    up a drain (``AlwaysAllow``)."""

    def for_replicas(self, replicas: int) -> dict[str, Any]:
        """The values of a budget that lets one of ``replicas`` pods go at a time."""
        budget: dict[str, Any] = (
            {"maxUnavailable": 1} if self.by == "maxUnavailable" else {"minAvailable": replicas - 1}
        )
        if self.switch is not None:
            budget = {self.switch: True, **budget}
        if self.eviction_policy:
            budget["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
        return budget

    def rendered(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The budget the chart renders from a release's ``values`` (None: it renders none)."""
        ours = lookup(values, self.path)
        merged = {**self.chart_default, **(ours if isinstance(ours, Mapping) else {})}
        merged = {key: value for key, value in merged.items() if value not in (None, "")}
        on = merged.pop(self.switch, False) if self.switch is not None else bool(merged)
        return merged if on else None


@dataclass(frozen=True)
class ChartWorkload:
    """A workload a pinned chart runs, as that chart version sets it up: its replicas when the
    values name none, and the values keys of its replicas, spread and disruption budget, each
    checked in the chart's own files (``source``). None means no key was checked (or the chart
    has none): ``spread_and_budget`` refuses to run such a workload on more than one replica."""

    chart: str
    """Its chart's key in ``CHARTS``."""
    name: str
    kind: Literal["Deployment", "StatefulSet", "DaemonSet"]
    default_replicas: int
    replicas_key: ValuesPath | None
    spread: SpreadKeys | None
    budget: BudgetKeys | None
    source: str
    """The chart files the keys and defaults were read from."""

    def replicas(self, values: Mapping[str, Any]) -> int | None:
        """Its replicas under a release's ``values``; None for a DaemonSet (one pod per node,
        which goes with its node and comes back on the new one: nothing to spread or budget)."""
        if self.kind == "DaemonSet":
            return None
        found = None if self.replicas_key is None else lookup(values, self.replicas_key)
        return self.default_replicas if found is None else int(found)


def _operator_workload(component: str, *, source: str) -> ChartWorkload:
    """Prometheus or Alertmanager: kube-prometheus-stack renders both the same way, a
    ``<component>Spec`` for the operator's StatefulSet and a ``podDisruptionBudget`` beside it."""
    return ChartWorkload(
        "kube-prometheus-stack",
        component,
        "StatefulSet",
        default_replicas=1,
        replicas_key=(component, f"{component}Spec", "replicas"),
        spread=SpreadKeys(
            (component, f"{component}Spec", "topologySpreadConstraints"),
            {
                "app.kubernetes.io/name": component,
                component: f"kube-prometheus-stack-{component}",
            },
        ),
        budget=BudgetKeys(
            (component, "podDisruptionBudget"),
            {"enabled": False, "minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            switch="enabled",
            by="minAvailable",
            eviction_policy=False,
        ),
        source=source,
    )


#: Every workload the charts of ``CHARTS`` run, at the pinned versions. Each multi-replica one
#: gets ``spread_constraints`` and a budget of one replica at a time (``spread_and_budget``); a
#: single replica gets neither, because a budget that keeps one pod of one up (``minAvailable:
#: 1``) lets no eviction through and would hold every drain of its node forever. The keys were
#: read in the charts' own repositories (``source``), in copies at or near the pinned versions
#: (the keys named are unchanged across them); re-read them whenever a version in ``CHARTS``
#: moves.
CHART_WORKLOADS: tuple[ChartWorkload, ...] = (
    ChartWorkload(
        "metrics-server",
        "metrics-server",
        "Deployment",
        default_replicas=1,
        replicas_key=("replicas",),
        spread=SpreadKeys(
            ("topologySpreadConstraints",),
            {
                "app.kubernetes.io/name": "metrics-server",
                "app.kubernetes.io/instance": "metrics-server",
            },
        ),
        budget=BudgetKeys(
            ("podDisruptionBudget",),
            {"enabled": False, "minAvailable": None, "maxUnavailable": None},
            switch="enabled",
            by="maxUnavailable",
            eviction_policy=True,
        ),
        source="kubernetes-sigs/metrics-server charts/metrics-server: values.yaml (replicas: 1, "
        "podDisruptionBudget, topologySpreadConstraints), templates/deployment.yaml (constraints "
        "rendered with toYaml; pods labelled with selectorLabels of templates/_helpers.tpl), "
        "templates/pdb.yaml, CHANGELOG.md 3.13.0 (unhealthyPodEvictionPolicy)",
    ),
    ChartWorkload(
        "cluster-autoscaler",
        "cluster-autoscaler",
        "Deployment",
        default_replicas=1,
        replicas_key=("replicaCount",),
        spread=None,
        budget=BudgetKeys(
            ("podDisruptionBudget",),
            {"maxUnavailable": 1},
            switch=None,
            by="maxUnavailable",
            eviction_policy=False,
        ),
        source="kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler at 9.59.1: "
        "values.yaml (replicaCount: 1, "
        "podDisruptionBudget: {maxUnavailable: 1}), templates/pdb.yaml (rendered whenever the "
        "mapping is non-empty: one pod, one eviction allowed, so drains pass)",
    ),
    ChartWorkload(
        "aws-load-balancer-controller",
        "aws-load-balancer-controller",
        "Deployment",
        default_replicas=2,
        replicas_key=("replicaCount",),
        spread=SpreadKeys(
            ("topologySpreadConstraints",),
            {
                "app.kubernetes.io/name": "aws-load-balancer-controller",
                "app.kubernetes.io/instance": "aws-load-balancer-controller",
            },
        ),
        budget=BudgetKeys(
            ("podDisruptionBudget",),
            {},
            switch=None,
            by="maxUnavailable",
            eviction_policy=True,
        ),
        source="kubernetes-sigs/aws-load-balancer-controller helm/aws-load-balancer-controller "
        "(published as aws/eks-charts stable/aws-load-balancer-controller): values.yaml "
        "(replicaCount: 2, podDisruptionBudget: {}, topologySpreadConstraints), "
        "templates/deployment.yaml (toYaml), templates/pdb.yaml (the whole mapping is the "
        "budget's spec, rendered only when replicaCount > 1), templates/_helpers.tpl",
    ),
    _operator_workload(
        "prometheus",
        source="prometheus-community/helm-charts charts/kube-prometheus-stack: values.yaml "
        "(prometheus.prometheusSpec.replicas: 1, .topologySpreadConstraints, "
        "prometheus.podDisruptionBudget), templates/prometheus/prometheus.yaml (toYaml into the "
        "Prometheus resource's spec.topologySpreadConstraints; its own anti-affinity selects the "
        "same labels), templates/prometheus/podDisruptionBudget.yaml (minAvailable and "
        "maxUnavailable each rendered when set), templates/_helpers.tpl (fullname and crname)",
    ),
    _operator_workload(
        "alertmanager",
        source="prometheus-community/helm-charts charts/kube-prometheus-stack: values.yaml "
        "(alertmanager.alertmanagerSpec.replicas: 1, .topologySpreadConstraints, "
        "alertmanager.podDisruptionBudget), templates/alertmanager/alertmanager.yaml (toYaml; "
        "its anti-affinity selects the same labels), "
        "templates/alertmanager/podDisruptionBudget.yaml",
    ),
    ChartWorkload(
        "kube-prometheus-stack",
        "grafana",
        "Deployment",
        default_replicas=1,
        replicas_key=("grafana", "replicas"),
        spread=None,
        budget=BudgetKeys(
            ("grafana", "podDisruptionBudget"),
            {},
            switch=None,
            by="maxUnavailable",
            eviction_policy=False,
        ),
        source="grafana/helm-charts charts/grafana/values.yaml (replicas: 1, "
        "podDisruptionBudget: {}); one replica, whose gp3 volume (ReadWriteOnce) one pod mounts",
    ),
    ChartWorkload(
        "kube-prometheus-stack",
        "kube-state-metrics",
        "Deployment",
        default_replicas=1,
        replicas_key=("kube-state-metrics", "replicas"),
        spread=None,
        budget=BudgetKeys(
            ("kube-state-metrics", "podDisruptionBudget"),
            {},
            switch=None,
            by="maxUnavailable",
            eviction_policy=False,
        ),
        source="prometheus-community/helm-charts charts/kube-state-metrics/values.yaml "
        "(replicas: 1, podDisruptionBudget: {})",
    ),
    ChartWorkload(
        "kube-prometheus-stack",
        "prometheus-operator",
        "Deployment",
        default_replicas=1,
        replicas_key=None,
        spread=None,
        budget=BudgetKeys(
            ("prometheusOperator", "podDisruptionBudget"),
            {"enabled": False, "minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            switch="enabled",
            by="minAvailable",
            eviction_policy=False,
        ),
        source="prometheus-community/helm-charts charts/kube-prometheus-stack: "
        "templates/prometheus-operator/deployment.yaml (replicas: 1, fixed), values.yaml "
        "(prometheusOperator.podDisruptionBudget)",
    ),
    ChartWorkload(
        "external-dns",
        "external-dns",
        "Deployment",
        default_replicas=1,
        replicas_key=None,
        spread=None,
        budget=None,
        source="kubernetes-sigs/external-dns charts/external-dns: values.yaml (no replica count: "
        "one pod, deploymentStrategy Recreate, since two instances would race on the same "
        "records), templates/deployment.yaml; its requests are components/ingress.py "
        "EXTERNAL_DNS_RESOURCES, which infra/node_capacity.py counts",
    ),
    ChartWorkload(
        "kube-prometheus-stack",
        "prometheus-node-exporter",
        "DaemonSet",
        default_replicas=1,
        replicas_key=None,
        spread=None,
        budget=None,
        source="prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml "
        "(nodeExporter: a DaemonSet on every node)",
    ),
)


def spread_constraints(pod_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Spread a workload's pods over zones, then hosts, as evenly as the nodes allow.

    Both are ``ScheduleAnyway`` with maxSkew 1: a preference the scheduler scores, which places
    the replicas in different zones (and on different nodes) whenever those have room, but never
    a refusal. The zone one is not ``DoNotSchedule`` because that would buy the spread with
    availability: with a zone lost or full, a replacement replica would stay Pending rather
    than run beside its twin, and the cluster autoscaler cannot add a node in a chosen zone
    (each node group is one auto-scaling group over every AZ). The StatefulSets gain nothing
    from it either: each replica's gp3 volume lives in one zone, so a replica of a lost zone
    waits for that zone whatever its constraint says. The selector is the workload's own pod
    labels: the charts render these constraints as given, and without one they would count no
    pod at all.
    """
    selector = {"matchLabels": dict(pod_labels)}
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
        }
        for key in (ZONE_LABEL, HOSTNAME_LABEL)
    ]


def spread_and_budget(chart: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` of ``chart`` with every workload that runs more than one replica under them
    spread over zones and hosts and given a budget of one replica down at a time, each through
    the chart's own keys (``CHART_WORKLOADS``). Replicas are read from the values themselves, so
    a setting that adds a replica adds the protection with it."""
    protected = dict(values)
    for workload in CHART_WORKLOADS:
        replicas = workload.replicas(values) if workload.chart == chart else None
        if replicas is None or replicas <= 1:
            continue
        if workload.spread is None or workload.budget is None:
            raise ValueError(
                f"{chart} would run {replicas} replicas of {workload.name}, but no values key "
                f"of chart version {CHARTS[chart].version} for its spread and disruption budget "
                "has been checked: read them in the chart's values.yaml and templates and add "
                "them to CHART_WORKLOADS"
            )
        protected = with_value(
            protected, workload.spread.path, spread_constraints(workload.spread.pod_labels)
        )
        protected = with_value(
            protected, workload.budget.path, workload.budget.for_replicas(replicas)
        )
    return protected


def lookup(values: Mapping[str, Any], path: ValuesPath) -> Any:
    """The value at ``path`` in nested values, or None where a key is missing."""
    found: Any = values
    for key in path:
        if not isinstance(found, Mapping) or key not in found:
            return None
        found = cast("Mapping[str, Any]", found)[key]
    return found


def with_value(values: Mapping[str, Any], path: ValuesPath, value: Any) -> dict[str, Any]:
    """A copy of ``values`` with ``value`` at ``path``; only the mappings along the path are
    copied (values may hold Pulumi outputs, which are shared, not copied)."""
    head, *rest = path
    if not rest:
        return {**values, head: value}
    inner = values.get(head, {})
    if not isinstance(inner, Mapping):
        raise ValueError(f"values key {head!r} is not a mapping, so {'.'.join(path)} cannot be set")
    return {**values, head: with_value(cast("Mapping[str, Any]", inner), tuple(rest), value)}


class PrometheusSettings(SettingsModel):
    """Prometheus of kube-prometheus-stack."""

    retention_days: int = Field(ge=1, le=365, description="Days of metrics Prometheus keeps.")
    storage_gib: int = Field(
        ge=10,
        le=2000,
        description="Size of each replica's gp3 volume; Prometheus deletes old data at 85%.",
    )
    replicas: int = Field(ge=1, le=3, description="Prometheus replicas (2 for high availability).")


class GrafanaSettings(SettingsModel):
    """Grafana of kube-prometheus-stack."""

    persistence_enabled: bool = Field(
        description="Keep dashboards and users on a gp3 volume (otherwise lost on restart)."
    )
    storage_gib: int = Field(ge=1, le=100, description="Size of Grafana's volume when persisted.")


class AlertmanagerSettings(SettingsModel):
    """Alertmanager of kube-prometheus-stack."""

    replicas: int = Field(ge=1, le=3, description="Alertmanager replicas (they deduplicate).")
    storage_gib: int = Field(ge=1, le=100, description="Size of each replica's gp3 volume.")


class PlatformSettings(SettingsModel):
    """Cluster-wide Kubernetes workloads: monitoring and its storage."""

    prometheus: PrometheusSettings = Field(description="Prometheus.")
    grafana: GrafanaSettings = Field(description="Grafana.")
    alertmanager: AlertmanagerSettings = Field(description="Alertmanager.")


def _resources(cpu: str, memory: str, memory_limit: str | None = None) -> dict[str, Any]:
    """Requests let the scheduler and autoscaler plan; memory limits stop a leak starving a node.

    No CPU limits: throttling a busy Prometheus hurts more than sharing idle cores does.
    """
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"memory": memory_limit or memory},
    }


@dataclass(frozen=True)
class VolumeClaims:
    """gp3 volumes a monitoring workload claims through its chart: one per replica."""

    workload: str
    """The workload, as its cost line names it."""
    size_gib: int
    """Size of each volume."""
    replicas: int | None = None
    """Replicas, each with a volume; None for a workload that runs one unreplicated pod."""

    @property
    def total_gib(self) -> int:
        """The GiB claimed across replicas."""
        return (self.replicas or 1) * self.size_gib


@dataclass(frozen=True)
class KubernetesPlatformParts:
    """What ``KubernetesPlatform`` installs that costs money, derived once from its settings.

    Nothing priced is declared as a resource: the monitoring charts claim ``volumes`` (their
    values read the same settings) and the AWS Load Balancer Controller creates the ingress ALB
    at run time. ``cost_lines`` prices both before anything is declared.
    """

    settings: PlatformSettings

    @property
    def volumes(self) -> tuple[VolumeClaims, ...]:
        """Prometheus's and Alertmanager's volumes, and Grafana's when it keeps one."""
        settings = self.settings
        prometheus, alertmanager, grafana = (
            settings.prometheus,
            settings.alertmanager,
            settings.grafana,
        )
        replicated = (
            VolumeClaims("Prometheus", prometheus.storage_gib, prometheus.replicas),
            VolumeClaims("Alertmanager", alertmanager.storage_gib, alertmanager.replicas),
        )
        if not grafana.persistence_enabled:
            return replicated
        return (*replicated, VolumeClaims("Grafana", grafana.storage_gib))

    def cost_lines(
        self, catalog: PriceCatalog, usage: UsageSettings, *, availability_zones: int
    ) -> list[CostLine]:
        """Monthly cost of the volumes the monitoring stack claims and of the ingress ALB.

        The IRSA roles, the charts and the StorageClass are free. The AWS Load Balancer
        Controller creates ALBs from Ingresses at run time, so no ALB is declared here; the
        platform plans ONE internet-facing ALB shared by the tenants' Ingresses (one Ingress
        group) and prices it, its public IPv4 addresses (one per AZ of the public subnets it
        spans, at least) and its LCUs (usage).
        """
        component = KubernetesPlatform.COMPONENT
        gp3 = catalog.price("ec2.ebs.gp3-storage", resource="gp3 PersistentVolumes")
        lines: list[CostLine] = []
        for volume in self.volumes:
            size = f"{volume.size_gib} GiB gp3"
            if volume.replicas is None:
                item, note = f"{volume.workload} volume", size
            else:
                item, note = f"{volume.workload} volumes", f"{volume.replicas} x {size}"
            lines.append(CostLine.fixed(component, item, gp3, volume.total_gib, note=note))
        alb = "the ingress ALB (created by the AWS Load Balancer Controller)"
        lcus = usage.alb_average_lcus
        return [
            *lines,
            CostLine.fixed(
                component,
                "Ingress load balancer (ALB)",
                catalog.price("elb.application-load-balancer", resource=alb),
                hourly(catalog, 1),
                note="one ALB shared by the Ingresses of one Ingress group; each further "
                "Ingress group (or Ingress without a group) adds another ALB",
            ),
            CostLine.fixed(
                component,
                "Ingress load balancer public IPv4",
                catalog.price("vpc.public-ipv4-address", resource=alb),
                hourly(catalog, availability_zones),
                note=f"internet-facing: one address per AZ ({availability_zones}) at least",
            ),
            CostLine.usage(
                component,
                "Ingress load balancer LCUs",
                catalog.price("elb.application-load-balancer.lcu", resource=alb),
                None if lcus is None else lcus * catalog.hours_per_month,
                note=f"{lcus} LCU on average x {catalog.hours_per_month} h",
            ),
        ]


class KubernetesPlatform(PlatformComponent):
    """The Kubernetes provider of the cluster and the platform's cluster-wide workloads.

    Steps: the provider; the default StorageClass; the AWS Load Balancer Controller; then,
    after it, metrics-server, cluster-autoscaler and the monitoring stack with its namespace and
    Grafana's admin secret (each controller with its IRSA role). Everything in the cluster waits
    for ``compute.ready`` (nodes, DNS, volumes), and every other release for the controller,
    whose webhook rejects Services until it runs. ``parts`` says what the monitoring stack
    claims; ``wiring`` names.
    """

    TYPE: ClassVar[str] = "genericcorp:platform:KubernetesPlatform"
    COMPONENT: ClassVar[str] = "platform"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "storageClass": "The default StorageClass (encrypted gp3) that volume claims get.",
    }

    provider: k8s.Provider
    """The Kubernetes provider of the cluster; tenants' objects use it too."""
    load_balancer_controller: k8s.helm.v3.Release
    """The controller's release: what creates load balancers (and installs their CRDs)."""
    ready: list[pulumi.Resource]
    """What every workload in the cluster waits for (nodes, DNS, volumes)."""
    grafana_admin_password: pulumi.Output[str]
    """Grafana's generated admin password; secret."""

    def __init__(
        self,
        name: str,
        parts: KubernetesPlatformParts,
        *,
        wiring: Wiring,
        compute: EksCompute,
        vpc_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self._cluster = compute.cluster
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=compute.kubeconfig,
            # Field ownership per manager, so operators' kubectl edits show up as conflicts.
            enable_server_side_apply=True,
            # The cluster answers 401 to the deployer until its access entry is associated.
            opts=self.child_opts(depends_on=compute.cluster.access),
        )
        # Workloads need schedulable nodes and DNS; CRD-using charts need the API up.
        in_cluster = self.child_opts(provider=self.provider, depends_on=list(compute.ready))
        storage_class = self._storage_class(in_cluster)
        # The controller's chart registers a mutating webhook on every Service with
        # failurePolicy Fail: until its pods serve it, the API server rejects any Service. The
        # other releases therefore wait for its release, which Helm awaits until the controller
        # is Ready (atomic, so never skipAwait). Ordering keeps failurePolicy Fail for later
        # installs: with Ignore, a Service created while the controller is down would silently
        # miss its load-balancer defaults.
        controller = self._load_balancer_controller(vpc_id, in_cluster)
        self.load_balancer_controller = controller
        self.ready = list(compute.ready)
        waits_for = [*compute.ready, controller]
        after_controller = self.child_opts(provider=self.provider, depends_on=waits_for)
        self._release(
            "metrics-server",
            "kube-system",
            {
                "replicas": 2 if self.context.is_prod else 1,
                "resources": _resources("50m", "64Mi", "128Mi"),
            },
            after_controller,
        )
        self._cluster_autoscaler(after_controller)
        # Alertmanager to the stack's alerts topic, and the platform's rules
        # (components/platform_alerts.py).
        alert_routing = alert_routing_values(
            self,
            f"{name}-alertmanager-irsa",
            oidc=compute.cluster.oidc,
            topic_arn=wiring.alarm_topic,
            namespace=MONITORING_NAMESPACE,
        )
        self._monitoring(parts, storage_class, in_cluster, waits_for, alert_routing)
        self.publish({"storageClass": storage_class.metadata.name})

    def _storage_class(self, in_cluster: pulumi.ResourceOptions) -> k8s.storage.v1.StorageClass:
        """The default class: encrypted gp3, bound where the pod lands (an EBS volume lives in
        one AZ); prod keeps a released volume's data."""
        return k8s.storage.v1.StorageClass(
            f"{self._name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain" if self.context.is_prod else "Delete",
            opts=in_cluster,
        )

    def _cluster_autoscaler(self, in_cluster: pulumi.ResourceOptions) -> None:
        """cluster-autoscaler, built for the cluster's minor, with a role that may resize only
        this cluster's node groups."""
        cluster = self._cluster
        role = self._controller_role(
            "cluster-autoscaler",
            "Lets cluster-autoscaler resize this cluster's node groups only.",
            cluster.name.apply(
                lambda cluster_name: json.dumps(cluster_autoscaler_policy(cluster_name))
            ),
        )
        self._release(
            "cluster-autoscaler",
            "kube-system",
            {
                "cloudProvider": "aws",
                "awsRegion": self.context.region,
                "autoDiscovery": {"clusterName": cluster.name},
                "image": {"tag": CLUSTER_AUTOSCALER_IMAGES[cluster.kubernetes_version]},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": "cluster-autoscaler",
                        "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                    }
                },
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "skip-nodes-with-system-pods": False,
                    "expander": "least-waste",
                },
                "resources": _resources("100m", "300Mi", "600Mi"),
            },
            in_cluster,
        )

    def _load_balancer_controller(
        self, vpc_id: pulumi.Input[str], in_cluster: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        """The AWS Load Balancer Controller with the controller's published policy; region and
        VPC are given because pods cannot reach the metadata service (hop limit 1)."""
        cluster = self._cluster
        role = self._controller_role(
            "aws-load-balancer-controller",
            "Lets the AWS Load Balancer Controller manage ALBs, NLBs and targets.",
            policy_document(LOAD_BALANCER_CONTROLLER_STATEMENTS),
        )
        return self._release(
            "aws-load-balancer-controller",
            "kube-system",
            {
                "clusterName": cluster.name,
                "region": self.context.region,
                "vpcId": vpc_id,
                "replicaCount": 2 if self.context.is_prod else 1,
                # The platform declares the one IngressClass (components/ingress.py): the
                # chart's own "alb" class would be a second way in, outside the shared group.
                "createIngressClassResource": False,
                # Tenants may not open node ports (their quota), so targets are pod IPs.
                "defaultTargetType": "ip",
                "serviceAccount": {
                    "create": True,
                    "name": "aws-load-balancer-controller",
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                "resources": _resources("100m", "128Mi", "256Mi"),
            },
            in_cluster,
        )

    def _controller_role(
        self, service_account: str, description: str, policy: pulumi.Input[str]
    ) -> aws.iam.Role:
        """The role of a controller in ``kube-system`` that calls AWS APIs: only its service
        account may assume it, so no other pod borrows its permissions (or the node role's)."""
        return service_account_role(
            self,
            f"{self._name}-{service_account}-irsa",
            oidc=self._cluster.oidc,
            namespace="kube-system",
            service_account=service_account,
            description=description,
            inline_policy=policy,
        )

    def _monitoring(
        self,
        parts: KubernetesPlatformParts,
        storage_class: k8s.storage.v1.StorageClass,
        in_cluster: pulumi.ResourceOptions,
        waits_for: Sequence[pulumi.Resource],
        alert_routing: Mapping[str, Any],
    ) -> None:
        """kube-prometheus-stack in its own namespace (node-exporter needs privileged pods),
        with a generated Grafana password that only a Secret holds, never the chart values; the
        release also waits for ``waits_for`` (nodes, add-ons and the load balancer controller)."""
        namespace = k8s.core.v1.Namespace(
            f"{self._name}-monitoring",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=MONITORING_NAMESPACE,
                labels={
                    # node-exporter reads the host's /proc and network: it needs privileged.
                    "pod-security.kubernetes.io/enforce": "privileged",
                    "pod-security.kubernetes.io/warn": "baseline",
                    "genericcorp.com/purpose": "monitoring",
                },
            ),
            opts=in_cluster,
        )
        password = random.RandomPassword(
            f"{self._name}-grafana-admin-password",
            length=32,
            special=False,
            opts=self.child_opts(),
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        grafana_secret = k8s.core.v1.Secret(
            f"{self._name}-grafana-admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="grafana-admin", namespace=namespace.metadata.name
            ),
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": self.grafana_admin_password},
            opts=in_cluster,
        )
        self._release(
            "kube-prometheus-stack",
            MONITORING_NAMESPACE,
            merged(monitoring_values(parts.settings), alert_routing),
            self.child_opts(
                provider=self.provider,
                depends_on=[*waits_for, storage_class, namespace, grafana_secret],
            ),
        )

    def _release(
        self,
        key: str,
        namespace: str,
        values: Mapping[str, Any],
        opts: pulumi.ResourceOptions,
    ) -> k8s.helm.v3.Release:
        """A release of a chart pinned in ``CHARTS``: atomic, so a failed install or upgrade
        rolls back instead of leaving a half-applied release. Every workload the values run on
        more than one replica is spread over zones and given a disruption budget
        (``spread_and_budget``)."""
        chart = CHARTS[key]
        return k8s.helm.v3.Release(
            f"{self._name}-{key}",
            name=key,
            chart=chart.chart,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=namespace,
            create_namespace=False,
            values=spread_and_budget(key, values),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            max_history=5,
            opts=opts,
        )


def monitoring_values(settings: PlatformSettings) -> dict[str, Any]:
    """Values of kube-prometheus-stack for the environment's retention and persistence."""
    prometheus, grafana, alertmanager = settings.prometheus, settings.grafana, settings.alertmanager

    def claim(size_gib: int) -> dict[str, Any]:
        return {
            "volumeClaimTemplate": {
                "spec": {
                    "storageClassName": STORAGE_CLASS,
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": f"{size_gib}Gi"}},
                }
            }
        }

    return {
        "prometheus": {
            "prometheusSpec": {
                "replicas": prometheus.replicas,
                "retention": f"{prometheus.retention_days}d",
                # Old blocks go before the volume fills; a full volume stops ingestion.
                "retentionSize": f"{int(prometheus.storage_gib * 0.85)}GB",
                "storageSpec": claim(prometheus.storage_gib),
                "resources": _resources("250m", "1Gi", "2Gi"),
                # Pick up ServiceMonitors of every release and tenant, not only this chart's.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {
                "replicas": alertmanager.replicas,
                "storage": claim(alertmanager.storage_gib),
                "resources": _resources("50m", "64Mi", "128Mi"),
            }
        },
        "grafana": {
            "admin": {
                "existingSecret": "grafana-admin",
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "persistence": {
                "enabled": grafana.persistence_enabled,
                "storageClassName": STORAGE_CLASS,
                "size": f"{grafana.storage_gib}Gi",
            },
            "resources": _resources("100m", "256Mi", "512Mi"),
        },
        "prometheusOperator": {"resources": _resources("100m", "128Mi", "256Mi")},
        "kube-state-metrics": {"resources": _resources("50m", "128Mi", "256Mi")},
        "prometheus-node-exporter": {"resources": _resources("50m", "32Mi", "64Mi")},
        # EKS runs these on the managed control plane, where Prometheus cannot scrape them, and
        # its kube-proxy serves metrics on localhost only: each would be an alert firing forever.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }


def cluster_autoscaler_policy(cluster_name: str) -> dict[str, Any]:
    """Read anything it needs; resize only auto-scaling groups EKS tagged for this cluster."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ResizeThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                    }
                },
            },
        ],
    }


#: The controller's published IAM policy (install/iam_policy.json of its release), in Python so
#: that a change shows in review; writes are limited to resources the controller tagged itself.
_ELBV2 = "elasticloadbalancing"
_OWNED = {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
LOAD_BALANCER_CONTROLLER_STATEMENTS: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": "iam:CreateServiceLinkedRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
    },
    {
        "Effect": "Allow",
        "Action": [
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
            "ec2:GetCoipPoolUsage",
            "ec2:DescribeCoipPools",
            "ec2:GetSecurityGroupsForVpc",
            "ec2:DescribeIpamPools",
            "ec2:DescribeRouteTables",
            f"{_ELBV2}:DescribeLoadBalancers",
            f"{_ELBV2}:DescribeLoadBalancerAttributes",
            f"{_ELBV2}:DescribeListeners",
            f"{_ELBV2}:DescribeListenerCertificates",
            f"{_ELBV2}:DescribeSSLPolicies",
            f"{_ELBV2}:DescribeRules",
            f"{_ELBV2}:DescribeTargetGroups",
            f"{_ELBV2}:DescribeTargetGroupAttributes",
            f"{_ELBV2}:DescribeTargetHealth",
            f"{_ELBV2}:DescribeTags",
            f"{_ELBV2}:DescribeTrustStores",
            f"{_ELBV2}:DescribeListenerAttributes",
            f"{_ELBV2}:DescribeCapacityReservation",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": [
            "cognito-idp:DescribeUserPoolClient",
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "iam:ListServerCertificates",
            "iam:GetServerCertificate",
            "waf-regional:GetWebACL",
            "waf-regional:GetWebACLForResource",
            "waf-regional:AssociateWebACL",
            "waf-regional:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "shield:GetSubscriptionState",
            "shield:DescribeProtection",
            "shield:CreateProtection",
            "shield:DeleteProtection",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        "Resource": "*",
    },
    {"Effect": "Allow", "Action": ["ec2:CreateSecurityGroup"], "Resource": "*"},
    {
        "Effect": "Allow",
        "Action": ["ec2:CreateTags"],
        "Resource": "arn:aws:ec2:*:*:security-group/*",
        "Condition": {
            "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
            "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
        },
    },
    {
        "Effect": "Allow",
        "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
        "Resource": "arn:aws:ec2:*:*:security-group/*",
        "Condition": {
            "Null": {
                "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
            }
        },
    },
    {
        "Effect": "Allow",
        "Action": [
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:DeleteSecurityGroup",
        ],
        "Resource": "*",
        "Condition": _OWNED,
    },
    {
        "Effect": "Allow",
        "Action": [f"{_ELBV2}:CreateLoadBalancer", f"{_ELBV2}:CreateTargetGroup"],
        "Resource": "*",
        "Condition": {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}},
    },
    {
        "Effect": "Allow",
        "Action": [
            f"{_ELBV2}:CreateListener",
            f"{_ELBV2}:DeleteListener",
            f"{_ELBV2}:CreateRule",
            f"{_ELBV2}:DeleteRule",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": [f"{_ELBV2}:AddTags", f"{_ELBV2}:RemoveTags"],
        "Resource": [
            f"arn:aws:{_ELBV2}:*:*:targetgroup/*/*",
            f"arn:aws:{_ELBV2}:*:*:loadbalancer/net/*/*",
            f"arn:aws:{_ELBV2}:*:*:loadbalancer/app/*/*",
        ],
        "Condition": {
            "Null": {
                "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
            }
        },
    },
    {
        "Effect": "Allow",
        "Action": [f"{_ELBV2}:AddTags", f"{_ELBV2}:RemoveTags"],
        "Resource": [
            f"arn:aws:{_ELBV2}:*:*:listener/net/*/*/*",
            f"arn:aws:{_ELBV2}:*:*:listener/app/*/*/*",
            f"arn:aws:{_ELBV2}:*:*:listener-rule/net/*/*/*",
            f"arn:aws:{_ELBV2}:*:*:listener-rule/app/*/*/*",
        ],
    },
    {
        "Effect": "Allow",
        "Action": [
            f"{_ELBV2}:ModifyLoadBalancerAttributes",
            f"{_ELBV2}:SetIpAddressType",
            f"{_ELBV2}:SetSecurityGroups",
            f"{_ELBV2}:SetSubnets",
            f"{_ELBV2}:DeleteLoadBalancer",
            f"{_ELBV2}:ModifyTargetGroup",
            f"{_ELBV2}:ModifyTargetGroupAttributes",
            f"{_ELBV2}:DeleteTargetGroup",
            f"{_ELBV2}:ModifyListenerAttributes",
            f"{_ELBV2}:ModifyCapacityReservation",
            f"{_ELBV2}:ModifyIpPools",
        ],
        "Resource": "*",
        "Condition": _OWNED,
    },
    {
        "Effect": "Allow",
        "Action": [f"{_ELBV2}:AddTags"],
        "Resource": [
            f"arn:aws:{_ELBV2}:*:*:targetgroup/*/*",
            f"arn:aws:{_ELBV2}:*:*:loadbalancer/net/*/*",
            f"arn:aws:{_ELBV2}:*:*:loadbalancer/app/*/*",
        ],
        "Condition": {
            "StringEquals": {f"{_ELBV2}:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
            "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
        },
    },
    {
        "Effect": "Allow",
        "Action": [f"{_ELBV2}:RegisterTargets", f"{_ELBV2}:DeregisterTargets"],
        "Resource": f"arn:aws:{_ELBV2}:*:*:targetgroup/*/*",
    },
    {
        "Effect": "Allow",
        "Action": [
            f"{_ELBV2}:SetWebAcl",
            f"{_ELBV2}:ModifyListener",
            f"{_ELBV2}:AddListenerCertificates",
            f"{_ELBV2}:RemoveListenerCertificates",
            f"{_ELBV2}:ModifyRule",
            f"{_ELBV2}:SetRulePriorities",
        ],
        "Resource": "*",
    },
]


# Defaults per environment and prod rules

PLATFORM_DEFAULTS = ByEnvironment(
    # A week of metrics on one replica is enough to debug dev; Grafana dashboards live in code,
    # so losing its state on restart costs nothing.
    dev=PlatformSettings(
        prometheus=PrometheusSettings(retention_days=7, storage_gib=20, replicas=1),
        grafana=GrafanaSettings(persistence_enabled=False, storage_gib=5),
        alertmanager=AlertmanagerSettings(replicas=1, storage_gib=2),
    ),
    # Two Prometheus and Alertmanager replicas survive a node or AZ loss; 30 days of metrics
    # cover a monthly review.
    prod=PlatformSettings(
        prometheus=PrometheusSettings(retention_days=30, storage_gib=100, replicas=2),
        grafana=GrafanaSettings(persistence_enabled=True, storage_gib=10),
        alertmanager=AlertmanagerSettings(replicas=2, storage_gib=5),
    ),
)

PLATFORM_PROD_RULES = (
    ProdRule(
        PlatformSettings,
        key=lambda s: s.prometheus.replicas,
        accepts=lambda replicas: replicas >= 2,
        allowed="2 or more",
        reason="monitoring must survive the loss of the node or AZ it runs in",
    ),
    ProdRule(
        PlatformSettings,
        key=lambda s: s.alertmanager.replicas,
        accepts=lambda replicas: replicas >= 2,
        allowed="2 or more",
        reason="alerts must still be sent when one node or AZ is lost",
    ),
    switched_on(
        PlatformSettings,
        key=lambda s: s.grafana.persistence_enabled,
        reason="Grafana's users, API keys and alert silences must survive a pod restart",
    ),
)
