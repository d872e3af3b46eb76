"""Kubernetes tenancy rules in detail: Pod Security Admission on tenant namespaces, the default
deny / quota / limits each tenant namespace holds (values unknown in preview included), and
credentials in ConfigMaps."""

from __future__ import annotations

from functools import partial
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from genericcorp_policy.kubernetes import looks_secret
from pulumi.runtime import proto
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from infractl.offline.engine import run_stack
from infractl.policy.runner import run_policies
from tests.test_policy_pack import UNKNOWN, servicer
from tests.test_policy_rules import (
    CONFIG_MAP,
    NAMESPACE,
    stack_violations,
    tenant_namespace,
    tenant_stack,
    violations,
)

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DENY_BOTH = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def isolation(resources: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [message for message, _ in stack_violations("k8s-tenant-isolation", resources)]


# --- Pod Security Admission ------------------------------------------------------------------


def test_a_tenant_namespace_without_psa_labels_is_refused() -> None:
    assert violations("k8s-tenant-pod-security", NAMESPACE, tenant_namespace(enforce=None)) == [
        "tenant namespace enforces Pod Security Admission not set; label it "
        "pod-security.kubernetes.io/enforce: restricted"
    ]


def test_namespaces_that_are_not_tenants_may_choose_their_level() -> None:
    system = {
        "metadata": {
            "name": "ingress",
            "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
        }
    }
    assert violations("k8s-tenant-pod-security", NAMESPACE, system) == []
    assert violations("k8s-tenant-pod-security", NAMESPACE, {"metadata": {"name": "x"}}) == []


def test_unknown_labels_skip_the_namespace_in_preview() -> None:
    unknown = {"metadata": {"name": "tenant-acme", "labels": UNKNOWN_STRING_VALUE}}
    with pytest.raises(UnknownValueError):
        violations("k8s-tenant-pod-security", NAMESPACE, unknown)


# --- default deny, quota, limits -------------------------------------------------------------


def test_each_missing_guard_is_named() -> None:
    namespace, _, quota, _ = tenant_stack()
    [message] = isolation([namespace, quota])
    assert message.startswith("tenant namespace tenant-acme has no default-deny NetworkPolicy")
    assert "; no LimitRange (spec.limits)" in message
    assert "ResourceQuota" not in message


def test_guards_in_another_namespace_do_not_count() -> None:
    acme = tenant_stack("acme")
    globex = tenant_stack("globex")
    assert isolation([*acme, *globex]) == []
    [message] = isolation([acme[0], *globex[1:]])
    assert "tenant namespace tenant-acme has no default-deny NetworkPolicy" in message


def test_namespaces_without_the_tenant_label_need_no_guards() -> None:
    system = (NAMESPACE, "monitoring", {"metadata": {"name": "monitoring", "labels": {}}})
    assert isolation([system]) == []


def test_empty_quota_and_limits_do_not_count() -> None:
    namespace, deny, quota, limits = tenant_stack()
    empty_quota = (quota[0], quota[1], {**quota[2], "spec": {"hard": {}}})
    empty_limits = (limits[0], limits[1], {**limits[2], "spec": {"limits": []}})
    [message] = isolation([namespace, deny, empty_quota, empty_limits])
    assert "no ResourceQuota with hard limits (spec.hard); no LimitRange" in message


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {**DENY_BOTH, "podSelector": {"matchLabels": {"app": "web"}}},
            "its podSelector is not {} (every pod)",
        ),
        ({**DENY_BOTH, "policyTypes": ["Ingress"]}, "policyTypes lacks Egress"),
        ({**DENY_BOTH, "ingress": [{}]}, "spec.ingress[0] admits all traffic"),
        (
            {**DENY_BOTH, "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]},
            "spec.egress[0] admits all traffic",
        ),
        (
            {**DENY_BOTH, "ingress": [{"from": [{"namespaceSelector": {}}]}]},
            "spec.ingress[0] admits all traffic",
        ),
    ],
)
def test_a_policy_that_does_not_deny_by_default_is_explained(
    spec: dict[str, Any], problem: str
) -> None:
    [message] = isolation(tenant_stack(deny=spec))
    assert message.endswith(f"; NetworkPolicy tenant-acme-default-deny: {problem}"), message


def test_narrow_allow_rules_keep_a_default_deny() -> None:
    # DNS to any namespace on port 53, and ingress from the same namespace, are not "all".
    spec = {
        **DENY_BOTH,
        "ingress": [{"from": [{"podSelector": {}}]}],
        "egress": [
            {
                "to": [{"namespaceSelector": {}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]},
        ],
    }
    assert isolation(tenant_stack(deny=spec)) == []


def test_a_namespace_without_a_name_cannot_be_matched() -> None:
    labels = {"genericcorp.com/tenant": "acme"}
    [message] = isolation([(NAMESPACE, "acme", {"metadata": {"labels": labels}})])
    assert message == (
        "tenant namespace acme sets no metadata.name, so nothing can be placed in it by name"
    )


def test_an_unknown_namespace_skips_the_rule_only_when_the_answer_depends_on_it() -> None:
    namespace, deny, quota, limits = tenant_stack()
    unknown_deny = (deny[0], "other", {**deny[2], "metadata": {"namespace": UNKNOWN_STRING_VALUE}})
    # Everything needed is known: the unknown one cannot change the answer.
    assert isolation([namespace, deny, quota, limits, unknown_deny]) == []
    # The default deny may be the unknown one: no verdict in this preview.
    with pytest.raises(UnknownValueError):
        isolation([namespace, quota, limits, unknown_deny])


def test_an_unknown_namespace_name_skips_the_rule_in_preview() -> None:
    namespace, *guards = tenant_stack()
    unnamed = (
        NAMESPACE,
        namespace[1],
        {"metadata": {**namespace[2]["metadata"], "name": UNKNOWN_STRING_VALUE}},
    )
    with pytest.raises(UnknownValueError):
        isolation([unnamed, *guards])


# --- credentials in ConfigMaps ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("authToken", True),
        ("client-secret", True),
        ("CLIENT_SECRET", True),
        ("API_KEY", True),
        ("stripeApiKey", True),
        ("apikey", True),
        ("tls.key", True),
        ("KEY", True),
        ("PUBLIC_KEY", False),
        ("monkey", False),
        ("LOG_LEVEL", False),
        ("TOKEN_URL", False),
        ("KEY_ID", False),
        ("", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert looks_secret(key) is secret


def test_binary_data_is_checked_and_allowed_keys_are_exempt() -> None:
    config_map = {"data": {"CACHE_KEY": "tenant:"}, "binaryData": {"tls.key": "LS0t"}}
    assert violations("k8s-configmap-no-credentials", CONFIG_MAP, config_map) == [
        "data key(s) CACHE_KEY look like credentials; a ConfigMap is neither encrypted with "
        "the cluster's KMS key nor access-controlled like a Secret: use a Secret (or list a key "
        "that is not secret in allowedKeys)",
        "binaryData key(s) tls.key look like credentials; a ConfigMap is neither encrypted with "
        "the cluster's KMS key nor access-controlled like a Secret: use a Secret (or list a key "
        "that is not secret in allowedKeys)",
    ]
    config = {"allowedKeys": ["CACHE_KEY"]}
    found = violations("k8s-configmap-no-credentials", CONFIG_MAP, config_map, config=config)
    assert [m.split(" look")[0] for m in found] == ["binaryData key(s) tls.key"]


# --- the offline run, with the resources declared through pulumi-kubernetes --------------------


def _tenant_program(*, default_deny: bool = True) -> None:
    """A tenant namespace and its guards, placed by the namespace's name output."""
    provider = k8s.Provider("k8s", kubeconfig="{}", namespace="default")
    opts = pulumi.ResourceOptions(provider=provider)
    labels = {
        "genericcorp.com/tenant": "acme",
        "genericcorp.com/tier": "standard",
        "pod-security.kubernetes.io/enforce": "restricted",
    }
    namespace = k8s.core.v1.Namespace(
        "tenant-acme",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="tenant-acme", labels=labels),
        opts=opts,
    )

    def meta(name: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace.metadata.name)

    if default_deny:
        k8s.networking.v1.NetworkPolicy(
            "tenant-acme-default-deny",
            metadata=meta("default-deny"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
            ),
            opts=opts,
        )
    k8s.core.v1.ResourceQuota(
        "tenant-acme-quota",
        metadata=meta("quota"),
        spec=k8s.core.v1.ResourceQuotaSpecArgs(hard={"pods": "40", "requests.cpu": "4"}),
        opts=opts,
    )
    k8s.core.v1.LimitRange(
        "tenant-acme-limits",
        metadata=meta("limits"),
        spec=k8s.core.v1.LimitRangeSpecArgs(
            limits=[k8s.core.v1.LimitRangeItemArgs(type="Container", default={"cpu": "500m"})]
        ),
        opts=opts,
    )
    k8s.core.v1.ConfigMap(
        "tenant-acme-settings", metadata=meta("settings"), data={"LOG_LEVEL": "info"}, opts=opts
    )


@pytest.mark.parametrize("preview", [False, True])
def test_the_offline_run_matches_guards_to_namespaces_by_output(preview: bool) -> None:
    good = run_policies(run_stack("dev", program=_tenant_program, preview=preview))
    assert good.findings == []
    checked = {o.name: o.checked for o in good.outcomes}
    assert checked["k8s-tenant-pod-security"] == checked["k8s-tenant-isolation"] == 1
    assert checked["k8s-configmap-no-credentials"] == 1
    bad = run_policies(
        run_stack("dev", program=partial(_tenant_program, default_deny=False), preview=preview)
    )
    assert [(f.policy, f.resource) for f in bad.mandatory] == [
        ("k8s-tenant-isolation", "tenant-acme")
    ]


# --- through the pack's gRPC analyzer, as `pulumi preview --policy-pack` runs it ---------------


def _analyze_stack(resources: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    request = proto.AnalyzeStackRequest()
    for type_token, name, props in resources:
        resource = request.resources.add(
            type=type_token, urn=f"urn:pulumi:prod::genericcorp::{type_token}::{name}", name=name
        )
        resource.properties.update(props)
    return list(servicer().AnalyzeStack(request, None).diagnostics)


def test_the_analyzer_reports_a_tenant_without_guards_and_skips_an_undecidable_preview() -> None:
    namespace, deny, quota, limits = tenant_stack()
    assert _analyze_stack([namespace, deny, quota, limits]) == []
    [missing] = _analyze_stack([namespace, quota, limits])
    assert (missing.policyName, missing.enforcementLevel) == (
        "k8s-tenant-isolation",
        proto.MANDATORY,
    )
    assert missing.urn.endswith("::tenant-acme")
    unknown_deny = (deny[0], deny[1], {**deny[2], "metadata": {"namespace": UNKNOWN}})
    [note] = _analyze_stack([namespace, unknown_deny, quota, limits])
    assert (note.policyName, note.enforcementLevel) == ("k8s-tenant-isolation", proto.ADVISORY)
    assert "can't run policy 'k8s-tenant-isolation'" in note.message
