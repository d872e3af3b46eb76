"""The Kubernetes platform in both stacks: the cluster's own provider, the default encrypted
StorageClass, pinned charts, IRSA scoped per controller, monitoring sized per environment, every
multi-replica workload spread over zones with a disruption budget, and a Grafana password that
never appears in plain text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.eks_cluster import KUBERNETES_VERSIONS
from components.kubernetes_platform import (
    CHART_WORKLOADS,
    CHARTS,
    CLUSTER_AUTOSCALER_DRA_RBAC_SINCE,
    CLUSTER_AUTOSCALER_IMAGES,
    HOSTNAME_LABEL,
    ZONE_LABEL,
    ChartWorkload,
    KubernetesPlatformParts,
    lookup,
    spread_and_budget,
)
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from infractl.offline.stackfile import read_stack_file
from tests.conftest import (
    LIFTED_BUDGET,
    minimal_values,
    plan_with,
    policy,
    stack_config,
    statements,
)

RELEASE = "kubernetes:helm.sh/v3:Release"


def release(plan: Plan, chart: str) -> PlannedResource:
    """The release of ``chart``, whichever component installs it (the ingress installs
    external-dns)."""
    [found] = [r for r in plan.of_type(RELEASE) if r.inputs["name"] == chart]
    return found


def values(plan: Plan, chart: str) -> dict[str, Any]:
    found: dict[str, Any] = release(plan, chart).inputs["values"]
    return found


def irsa_role(plan: Plan, name: str) -> PlannedResource:
    return plan.named(f"platform-{name}-irsa", "aws:iam/role:Role")


def test_kubernetes_provider_is_built_from_the_cluster_and_waits_for_access(plan: Plan) -> None:
    provider = plan.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    kubeconfig = json.loads(provider.raw_inputs["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:2] == ["eks", "get-token"]
    assert kubeconfig["clusters"][0]["cluster"]["server"] == plan.outputs["cluster"]["endpoint"]
    associations = plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.urn for a in associations} <= set(provider.dependencies)


def test_default_storage_class_is_encrypted_gp3_bound_in_the_pods_zone(plan: Plan) -> None:
    storage_class = plan.one("kubernetes:storage.k8s.io/v1:StorageClass")
    metadata = storage_class.inputs["metadata"]
    assert metadata["name"] == "gp3"
    assert metadata["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage_class.inputs["parameters"]["type"] == "gp3"
    assert storage_class.inputs["parameters"]["encrypted"] == "true"
    assert storage_class.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class.inputs["reclaimPolicy"] == {"dev": "Delete", "prod": "Retain"}[plan.stack]


def test_every_chart_comes_from_the_pinned_table(plan: Plan) -> None:
    releases = plan.of_type(RELEASE)
    assert {r.inputs["chart"] for r in releases} == set(CHARTS)
    for resource in releases:
        chart = CHARTS[resource.inputs["chart"]]
        assert resource.inputs["version"] == chart.version
        assert resource.inputs["repositoryOpts"] == {"repo": chart.repository}
        assert chart.repository.startswith("https://")
        assert resource.inputs["atomic"] is True


def test_every_release_waits_for_nodes_and_the_workload_addons(plan: Plan) -> None:
    node_group = plan.one("aws:eks/nodeGroup:NodeGroup")
    coredns = plan.named("eks-addons-coredns")
    for resource in plan.of_type(RELEASE):
        assert node_group.urn in resource.dependencies, resource.name
        assert coredns.urn in resource.dependencies, resource.name


def test_every_other_release_waits_for_the_load_balancer_controller(plan: Plan) -> None:
    """Its webhook rejects every Service until the controller is Ready (failurePolicy Fail)."""
    controller = release(plan, "aws-load-balancer-controller")
    assert "skipAwait" not in controller.inputs or controller.inputs["skipAwait"] is False
    others = [r for r in plan.of_type(RELEASE) if r.urn != controller.urn]
    assert len(others) == len(CHARTS) - 1
    for resource in others:
        assert controller.urn in resource.dependencies, resource.name


def test_every_workload_requests_resources_and_limits_memory(plan: Plan) -> None:
    found = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "requests" in node and "limits" in node:
                found.append(path)
                assert {"cpu", "memory"} <= set(node["requests"]), path
                assert "memory" in node["limits"], path
            for key, child in node.items():
                walk(child, f"{path}.{key}")

    for resource in plan.of_type(RELEASE):
        walk(resource.inputs["values"], resource.inputs["chart"])
    for chart in CHARTS:
        assert any(path.startswith(chart) for path in found), chart
    assert len(found) == 10  # one per workload the charts run


def test_every_autoscaler_image_matches_an_allowed_kubernetes_version() -> None:
    assert set(CLUSTER_AUTOSCALER_IMAGES) == set(KUBERNETES_VERSIONS)
    for version, tag in CLUSTER_AUTOSCALER_IMAGES.items():
        assert tag.startswith(f"v{version}."), version


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("-")[0].split("."))


@pytest.mark.parametrize("version", sorted(KUBERNETES_VERSIONS))
def test_the_autoscaler_image_is_built_for_the_clusters_minor(version: str) -> None:
    assert _version(CLUSTER_AUTOSCALER_IMAGES[version])[:2] == _version(version)


def test_the_autoscaler_chart_grants_the_objects_its_image_watches() -> None:
    pinned = _version(CHARTS["cluster-autoscaler"].version)
    assert pinned >= _version(CLUSTER_AUTOSCALER_DRA_RBAC_SINCE)


def test_cluster_autoscaler_discovers_this_cluster_with_its_own_role(plan: Plan) -> None:
    found = values(plan, "cluster-autoscaler")
    cluster_name = f"genericcorp-{plan.stack}-eks"
    assert found["autoDiscovery"] == {"clusterName": cluster_name}
    assert found["awsRegion"] == "us-east-1"
    assert found["image"]["tag"] == CLUSTER_AUTOSCALER_IMAGES["1.35"]
    account = found["rbac"]["serviceAccount"]
    role = irsa_role(plan, "cluster-autoscaler")
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": role.outputs["arn"]}
    [trust] = statements(policy(role, "assumeRolePolicy"))
    subjects = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:kube-system:cluster-autoscaler"]


def test_cluster_autoscaler_may_resize_only_this_clusters_node_groups(plan: Plan) -> None:
    role = irsa_role(plan, "cluster-autoscaler")
    [inline] = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    discover, resize = statements(policy(inline, "policy"))
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in discover["Action"])
    assert set(resize["Action"]) == {
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    }
    assert resize["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/genericcorp-{plan.stack}-eks": "owned",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
    }


def test_load_balancer_controller_has_its_own_role_and_needs_no_metadata_service(
    plan: Plan,
) -> None:
    found = values(plan, "aws-load-balancer-controller")
    assert found["clusterName"] == f"genericcorp-{plan.stack}-eks"
    # IMDS hop limit 1 keeps pods from the metadata service: region and VPC are given.
    assert found["region"] == "us-east-1"
    assert found["vpcId"] == plan.outputs["network"]["vpcId"]
    role = irsa_role(plan, "aws-load-balancer-controller")
    assert found["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": role.outputs["arn"]
    }
    [inline] = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    deletes = [
        s
        for s in statements(policy(inline, "policy"))
        if any(a.endswith(("DeleteLoadBalancer", "DeleteSecurityGroup")) for a in s["Action"])
    ]
    # It may only delete what it created (tagged with its cluster tag).
    assert deletes
    for statement in deletes:
        assert statement["Condition"] == {
            "Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}
        }


MONITORING: dict[str, dict[str, Any]] = {
    "dev": {"retention": "7d", "size": "20Gi", "replicas": 1, "grafana": False, "am": 1},
    "prod": {"retention": "30d", "size": "100Gi", "replicas": 2, "grafana": True, "am": 2},
}


def test_monitoring_persistence_and_retention_follow_the_environment(plan: Plan) -> None:
    expected = MONITORING[plan.stack]
    found = values(plan, "kube-prometheus-stack")
    spec = found["prometheus"]["prometheusSpec"]
    assert spec["retention"] == expected["retention"]
    assert spec["replicas"] == expected["replicas"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3"
    assert claim["resources"]["requests"]["storage"] == expected["size"]
    # Prometheus drops old blocks before the volume fills.
    assert int(spec["retentionSize"].removesuffix("GB")) < int(expected["size"][:-2])
    assert found["grafana"]["persistence"]["enabled"] is expected["grafana"]
    assert found["alertmanager"]["alertmanagerSpec"]["replicas"] == expected["am"]
    assert release(plan, "kube-prometheus-stack").inputs["namespace"] == "monitoring"
    # Control-plane parts EKS manages, and localhost-only kube-proxy, are not scraped.
    for part in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert found[part] == {"enabled": False}, part


def test_the_charts_claim_the_volumes_the_parts_price(plan: Plan) -> None:
    stack_file = read_stack_file(plan.stack)
    settings = parse_stack_config(plan.stack, stack_file.values, stack_file.secret_keys).platform
    claimed = {volume.workload: volume for volume in KubernetesPlatformParts(settings).volumes}
    found = values(plan, "kube-prometheus-stack")

    def size(claim: dict[str, Any]) -> int:
        storage = claim["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
        return int(storage.removesuffix("Gi"))

    prometheus = found["prometheus"]["prometheusSpec"]
    assert (claimed["Prometheus"].replicas, claimed["Prometheus"].size_gib) == (
        prometheus["replicas"],
        size(prometheus["storageSpec"]),
    )
    alertmanager = found["alertmanager"]["alertmanagerSpec"]
    assert (claimed["Alertmanager"].replicas, claimed["Alertmanager"].size_gib) == (
        alertmanager["replicas"],
        size(alertmanager["storage"]),
    )
    grafana = found["grafana"]["persistence"]
    assert ("Grafana" in claimed) is grafana["enabled"]
    if grafana["enabled"]:
        assert f"{claimed['Grafana'].size_gib}Gi" == grafana["size"]


def test_grafana_admin_password_is_generated_secret_and_never_in_chart_values(
    plan: Plan,
) -> None:
    password = plan.named(
        "platform-grafana-admin-password", "random:index/randomPassword:RandomPassword"
    )
    assert password.inputs["length"] >= 32
    secret = plan.named("platform-grafana-admin", "kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == "[secret]"
    assert "stringData" in secret.secret_inputs
    assert password.outputs["result"] == "[secret]"
    generated = secret.raw_inputs["stringData"]["admin-password"]
    assert len(generated) == password.inputs["length"]
    grafana = values(plan, "kube-prometheus-stack")["grafana"]
    assert grafana["admin"]["existingSecret"] == secret.inputs["metadata"]["name"]
    for resource in plan.resources:
        if resource is not secret:
            assert generated not in json.dumps(resource.inputs), resource.urn
    assert generated not in json.dumps(plan.outputs)


def test_monitoring_namespace_allows_node_exporter_and_nothing_else_is_privileged(
    plan: Plan,
) -> None:
    namespaces = {
        n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"]
        for n in plan.of_type("kubernetes:core/v1:Namespace")
    }
    privileged = {
        name
        for name, labels in namespaces.items()
        if labels.get("pod-security.kubernetes.io/enforce") == "privileged"
    }
    assert privileged == {"monitoring"}


# --- spread over zones and disruption budgets ---------------------------------------------

#: What each committed stack runs on more than one replica, derived below from the values the
#: platform sets and the charts' defaults (``CHART_WORKLOADS``, with the chart files they were
#: read from): prod's settings give Prometheus and Alertmanager two replicas each, the platform
#: runs metrics-server and the Load Balancer Controller twice in prod, and dev runs one of each.
MULTI_REPLICA: dict[str, set[str]] = {
    "dev": set(),
    "prod": {"metrics-server", "aws-load-balancer-controller", "prometheus", "alertmanager"},
}


def replica_counts(plan: Plan) -> dict[str, int]:
    """Each workload's replicas under the values its release was given (DaemonSets left out)."""
    counts: dict[str, int] = {}
    for workload in CHART_WORKLOADS:
        replicas = workload.replicas(values(plan, workload.chart))
        if replicas is not None:
            counts[workload.name] = replicas
    return counts


def disruptions_allowed(budget: dict[str, Any], replicas: int) -> int:
    """Evictions a rendered budget lets through while all ``replicas`` pods are healthy."""
    if "maxUnavailable" in budget:
        return int(budget["maxUnavailable"])
    return replicas - int(budget["minAvailable"])


def test_the_multi_replica_workloads_follow_the_settings_and_the_charts_defaults(
    plan: Plan,
) -> None:
    counts = replica_counts(plan)
    assert {name for name, replicas in counts.items() if replicas > 1} == MULTI_REPLICA[plan.stack]
    platform = stack_config(plan.stack).platform
    assert counts["prometheus"] == platform.prometheus.replicas
    assert counts["alertmanager"] == platform.alertmanager.replicas
    # Left at the charts' defaults: one replica each (the operator's is fixed by its template).
    for name in ("cluster-autoscaler", "grafana", "kube-state-metrics", "prometheus-operator"):
        assert counts[name] == 1, name


def assert_spread_and_protected(workload: ChartWorkload, found: dict[str, Any]) -> None:
    replicas = workload.replicas(found)
    assert replicas is not None
    assert replicas > 1
    assert workload.spread is not None, workload.name
    assert workload.budget is not None, workload.name
    constraints = {c["topologyKey"]: c for c in lookup(found, workload.spread.path)}
    assert set(constraints) == {ZONE_LABEL, HOSTNAME_LABEL}, workload.name
    for constraint in constraints.values():
        # Soft: a lost or full zone never leaves a replacement replica Pending.
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway", workload.name
        assert constraint["maxSkew"] == 1, workload.name
        # The chart renders the constraints as given: they must select the workload's pods.
        assert constraint["labelSelector"] == {"matchLabels": dict(workload.spread.pod_labels)}, (
            workload.name
        )
    budget = workload.budget.rendered(found)
    assert budget is not None, f"{workload.name} runs {replicas} replicas without a budget"
    assert not {"minAvailable", "maxUnavailable"} <= set(budget), workload.name
    # One replica down at a time, whatever the replica count.
    assert disruptions_allowed(budget, replicas) == 1, workload.name


def test_every_multi_replica_workload_is_spread_over_zones_and_has_a_budget(plan: Plan) -> None:
    protected: set[str] = set()
    for workload in CHART_WORKLOADS:
        found = values(plan, workload.chart)
        replicas = workload.replicas(found)
        if replicas is not None and replicas > 1:
            assert_spread_and_protected(workload, found)
            protected.add(workload.name)
    assert protected == MULTI_REPLICA[plan.stack]


def test_no_single_replica_workload_has_a_budget_that_blocks_drains(plan: Plan) -> None:
    for workload in CHART_WORKLOADS:
        found = values(plan, workload.chart)
        if workload.replicas(found) != 1:
            continue
        if workload.replicas_key is None and workload.budget is None:
            continue  # one pod by the chart's design (external-dns), and the platform adds none
        assert workload.budget is not None, workload.name
        budget = workload.budget.rendered(found)
        # A budget over one pod must still let that pod be evicted (cluster-autoscaler's
        # chart ships maxUnavailable 1); minAvailable 1 would hold its node's drain forever.
        if budget is not None:
            assert disruptions_allowed(budget, 1) >= 1, workload.name
        # The platform adds no spread to a single replica: there is nothing to spread.
        if workload.spread is not None:
            assert lookup(found, workload.spread.path) is None, workload.name


def test_the_selectors_name_the_pods_of_the_releases_the_platform_installs(plan: Plan) -> None:
    names = {r.inputs["chart"]: r.inputs["name"] for r in plan.of_type(RELEASE)}
    labels = {w.name: w.spread.pod_labels for w in CHART_WORKLOADS if w.spread is not None}
    for chart in ("metrics-server", "aws-load-balancer-controller"):
        assert labels[chart]["app.kubernetes.io/instance"] == names[chart]
    # kube-prometheus-stack names its Prometheus and Alertmanager resources after the release.
    stack = names["kube-prometheus-stack"]
    assert labels["prometheus"]["prometheus"] == f"{stack}-prometheus"
    assert labels["alertmanager"]["alertmanager"] == f"{stack}-alertmanager"


def test_more_replicas_in_the_settings_bring_their_spread_and_budget() -> None:
    plan = plan_with(
        "dev",
        {
            **LIFTED_BUDGET,
            "genericcorp:platform": {
                "prometheus": {"replicas": 3},
                "alertmanager": {"replicas": 2},
            },
        },
    )
    found = values(plan, "kube-prometheus-stack")
    workloads = {w.name: w for w in CHART_WORKLOADS}
    for name in ("prometheus", "alertmanager"):
        assert_spread_and_protected(workloads[name], found)
    # minAvailable, not maxUnavailable: the chart renders its default minAvailable beside any
    # maxUnavailable, and a budget may not set both; replicas - 1 keeps one down at a time.
    assert found["prometheus"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 2}
    assert found["alertmanager"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}


def test_replicas_without_checked_chart_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="2 replicas of grafana") as caught:
        spread_and_budget("kube-prometheus-stack", {"grafana": {"replicas": 2}})
    assert CHARTS["kube-prometheus-stack"].version in str(caught.value)


def test_the_workload_table_covers_every_chart_and_names_where_it_was_read() -> None:
    assert {w.chart for w in CHART_WORKLOADS} == set(CHARTS)
    names = [w.name for w in CHART_WORKLOADS]
    assert len(names) == len(set(names))
    # One per workload whose resources the values set (test above).
    assert len(CHART_WORKLOADS) == 10
    for workload in CHART_WORKLOADS:
        repository = workload.source.split(" ", 1)[0]
        assert repository.count("/") == 1, workload.source
        assert "values.yaml" in workload.source or "templates/" in workload.source


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"prometheus": {"retentionDays": 0}}, "prometheus.retentionDays", "must be at least 1"),
        ({"prometheus": {"storageGib": 5}}, "prometheus.storageGib", "must be at least 10"),
        ({"alertmanager": {"replicas": 4}}, "alertmanager.replicas", "must be at most 3"),
        (
            {"grafana": {"persistenceEnabled": "yes"}},
            "grafana.persistenceEnabled",
            "expected true or false",
        ),
    ],
)
def test_bad_platform_settings_are_refused(
    changes: dict[str, Any], path: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", minimal_values("dev", {"genericcorp:platform": changes}))
    [problem] = caught.value.problems
    assert problem.path == f"genericcorp:platform.{path}"
    assert fragment in problem.render()
