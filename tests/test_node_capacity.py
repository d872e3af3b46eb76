"""Allocatable capacity per node and the requests of the platform and tenants, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from components.base import Environment
from components.cost import load_catalog
from components.tenants import TenantSettings, Tier
from infra.node_capacity import (
    CONFIG_RELOADER,
    INSTANCE_SHAPES,
    CapacityError,
    Resources,
    cpu_millicores,
    daemonsets,
    kube_reserved_cpu_millicores,
    kube_reserved_memory_mib,
    memory_mib,
    node_allocatable,
    platform_workloads,
    tenant_requests,
    total,
)
from infractl.offline.plan import Plan
from tests.conftest import STACKS, plan_for, stack_config


@pytest.mark.parametrize(
    ("vcpus", "reserved"),
    [
        (1, 60),  # 6% of the first core
        (2, 70),  # + 1% of the second
        (4, 80),  # + 0.5% of the third and fourth
        (16, 110),  # + 0.25% of the twelve beyond
    ],
)
def test_kube_reserved_cpu_follows_nodeadm(vcpus: int, reserved: int) -> None:
    assert kube_reserved_cpu_millicores(vcpus) == reserved


def test_kube_reserved_memory_grows_with_max_pods() -> None:
    assert kube_reserved_memory_mib(29) == 11 * 29 + 255 == 574
    assert kube_reserved_memory_mib(17) == 442


def test_allocatable_by_hand() -> None:
    # m7g.large: 2 vCPU, 8 GiB, 29 pods. 8,192 MiB less 7.5% is 7,577 MiB (rounded down), less
    # 574 MiB kubeReserved and the 100 MiB eviction margin: 6,903 MiB; 2,000m less 70m.
    assert INSTANCE_SHAPES["m7g.large"].allocatable == Resources(1930, 6903)
    # t4g.medium: 4,096 MiB less 7.5% is 3,788; 17 pods reserve 442 MiB.
    assert INSTANCE_SHAPES["t4g.medium"].allocatable == Resources(1930, 3246)
    # c7g.large: the same memory, but 29 pods reserve 574 MiB.
    assert INSTANCE_SHAPES["c7g.large"].allocatable == Resources(1930, 3114)


def test_a_group_plans_with_the_least_of_its_types() -> None:
    assert node_allocatable(["t4g.medium", "c7g.large", "c6g.large"]) == Resources(1930, 3114)


def test_every_instance_type_the_stacks_use_has_a_shape() -> None:
    for stack in STACKS:
        for group in stack_config(stack).cluster.node_groups:
            node_allocatable(group.instance_types)


def test_an_unknown_instance_type_is_named() -> None:
    with pytest.raises(CapacityError, match=r"m8g\.large.*INSTANCE_SHAPES"):
        node_allocatable(["m7g.large", "m8g.large"])


def test_shapes_agree_with_the_price_catalog() -> None:
    prices = {price.key: price for price in load_catalog("us-east-1").prices}
    compared = 0
    for name, shape in INSTANCE_SHAPES.items():
        price = prices.get(f"ec2.instance.{name}")
        if price is not None:
            assert (price.vcpu, price.memory_gib) == (shape.vcpus, shape.memory_gib), name
            compared += 1
    assert compared >= 4


@pytest.mark.parametrize(
    ("quantity", "millicores"), [("250m", 250), ("1", 1000), ("0.5", 500), ("2", 2000)]
)
def test_cpu_quantities(quantity: str, millicores: int) -> None:
    assert cpu_millicores(quantity) == millicores


@pytest.mark.parametrize(("quantity", "mib"), [("64Mi", 64), ("1Gi", 1024), ("2Gi", 2048)])
def test_memory_quantities(quantity: str, mib: int) -> None:
    assert memory_mib(quantity) == mib


@pytest.mark.parametrize("quantity", ["1G", "64M", "lots", ""])
def test_a_memory_quantity_in_other_units_is_refused(quantity: str) -> None:
    with pytest.raises(ValueError, match="memory quantity"):
        memory_mib(quantity)


def test_tenant_requests_are_the_tier_reservations() -> None:
    def requests(tier: Tier) -> Resources:
        return tenant_requests(TenantSettings(name="t", tier=tier))

    assert requests(Tier.STARTER) == Resources(250, 512)
    assert requests(Tier.STANDARD) == Resources(1000, 2048)
    assert requests(Tier.ENTERPRISE) == Resources(4000, 8192)


def test_platform_requests_by_hand() -> None:
    prod = stack_config("prod").platform
    # Each node: aws-node 50m, kube-proxy 100m, ebs-csi-node 30m / 120Mi, node-exporter
    # 50m / 32Mi; the pod identity agent requests nothing.
    assert total(daemonsets(prod)) == Resources(230, 152)
    # coredns 2 x 100m/70Mi, ebs-csi-controller 2 x 60m/240Mi, metrics-server 2 x 50m/64Mi,
    # cluster-autoscaler 100m/300Mi, load balancer controller 2 x 100m/128Mi, Prometheus
    # 2 x (250m/1Gi + reloader 10m/50Mi), Alertmanager 2 x (50m/64Mi + reloader), Grafana
    # 100m/256Mi, operator 100m/128Mi, kube-state-metrics 50m/128Mi, external-dns 50m/64Mi.
    assert total(platform_workloads(prod, Environment.PROD)) == Resources(1660, 4256)
    # Dev: one metrics-server, load balancer controller, Prometheus and Alertmanager.
    dev = stack_config("dev").platform
    assert total(platform_workloads(dev, Environment.DEV)) == Resources(1190, 2876)


def _release_values(plan: Plan) -> dict[str, dict[str, Any]]:
    return {
        str(release.inputs["name"]): release.inputs["values"]
        for release in plan.of_type("kubernetes:helm.sh/v3:Release")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_platform_table_is_what_the_plan_installs(stack: str) -> None:
    config = stack_config(stack)
    workloads = {
        w.name: w
        for w in (
            *platform_workloads(config.platform, config.environment),
            *daemonsets(config.platform),
        )
    }
    values = _release_values(plan_for(stack))
    # Every chart the platform installs is accounted for.
    assert set(values) == {
        "metrics-server",
        "cluster-autoscaler",
        "aws-load-balancer-controller",
        "kube-prometheus-stack",
        "external-dns",
    }
    # The charts whose values the table repeats: replicas (chart default 1) and requests.
    for chart, replicas_key in (
        ("metrics-server", "replicas"),
        ("cluster-autoscaler", "replicaCount"),
        ("aws-load-balancer-controller", "replicaCount"),
        ("external-dns", "replicaCount"),  # the chart has none: one pod
    ):
        chart_values = values[chart]
        assert workloads[chart].pods == chart_values.get(replicas_key, 1), chart
        assert workloads[chart].requests == Resources.of(chart_values["resources"]["requests"])
    monitoring = values["kube-prometheus-stack"]
    prometheus = monitoring["prometheus"]["prometheusSpec"]
    assert workloads["prometheus"].pods == prometheus["replicas"]
    assert workloads["prometheus"].requests == (
        Resources.of(prometheus["resources"]["requests"]) + CONFIG_RELOADER
    )
    alertmanager = monitoring["alertmanager"]["alertmanagerSpec"]
    assert workloads["alertmanager"].pods == alertmanager["replicas"]
