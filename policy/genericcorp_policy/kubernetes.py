"""Kubernetes tenancy: tenant namespaces enforce Pod Security Admission ``restricted`` and hold a
default-deny NetworkPolicy, a ResourceQuota and a LimitRange; ConfigMaps carry no credentials.

Properties are pulumi-kubernetes v4 inputs (camelCase, as declared: ``metadata.labels``,
``spec.podSelector``...). Label keys contain dots, so labels are read by key, never with
``get``'s dotted paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    StackRule,
    Unknown,
    get,
    items,
    peek,
)

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"

#: The label the tenant components put on every tenant namespace (its value: the tenant's name).
TENANT_LABEL = "genericcorp.com/tenant"
#: Pod Security Admission: the level a namespace enforces, and the one tenants must.
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_RESTRICTED = "restricted"

_WORLD = frozenset({"0.0.0.0/0", "::/0"})


def labels_of(props: Props) -> Mapping[str, Any] | None:
    labels = get(props, "metadata.labels")
    return labels if isinstance(labels, Mapping) else None  # pyright: ignore[reportUnknownVariableType]


def is_tenant_namespace(props: Props) -> bool:
    labels = labels_of(props)
    return labels is not None and TENANT_LABEL in labels


def _pod_security(props: Props, _: Config) -> Iterator[str]:
    labels = labels_of(props)
    if labels is None or TENANT_LABEL not in labels:
        return  # system namespaces (kube-system, add-ons) may need more than restricted
    level = labels.get(PSA_ENFORCE)
    if level != PSA_RESTRICTED:
        shown = "not set" if level is None else f"{level!r}"
        yield (
            f"tenant namespace enforces Pod Security Admission {shown}; label it "
            f"{PSA_ENFORCE}: {PSA_RESTRICTED}"
        )


# --- default deny, quota, limits ------------------------------------------------------------


def _selects_everything(selector: Any) -> bool:
    """An empty label selector (``{}``) matches every pod or namespace."""
    if not isinstance(selector, Mapping):
        return False
    labels = get(selector, "matchLabels")
    return not (isinstance(labels, Mapping) and len(labels)) and not items(  # pyright: ignore[reportUnknownArgumentType]
        get(selector, "matchExpressions")
    )


def _peer_is_everyone(peer: Any) -> bool:
    block = get(peer, "ipBlock")
    if block is not None:
        return get(block, "cidr") in _WORLD and not items(get(block, "except"))
    namespaces = get(peer, "namespaceSelector")
    pods = get(peer, "podSelector")
    return _selects_everything(namespaces) and (pods is None or _selects_everything(pods))


def _admits_everything(rule: Any, peers_key: str) -> bool:
    """An ingress/egress rule with no port restriction and no peer restriction (or a peer that is
    every namespace or the whole internet) admits all traffic in that direction."""
    if items(get(rule, "ports")):
        return False
    peers = items(get(rule, peers_key))
    return not peers or any(_peer_is_everyone(p) for p in peers)


def default_deny_problems(props: Props) -> list[str]:
    """Why a NetworkPolicy is not a default deny of both directions (empty when it is)."""
    spec = get(props, "spec")
    problems: list[str] = []
    if not _selects_everything(get(spec, "podSelector")):
        problems.append("its podSelector is not {} (every pod)")
    types = {str(t) for t in items(get(spec, "policyTypes"))}
    missing = [t for t in ("Ingress", "Egress") if t not in types]
    if missing:
        problems.append(f"policyTypes lacks {' and '.join(missing)}")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(items(get(spec, direction))):
            if _admits_everything(rule, peers_key):
                problems.append(f"spec.{direction}[{index}] admits all traffic")
    return problems


def _has_quota(props: Props) -> bool:
    hard = get(props, "spec.hard")
    return isinstance(hard, Mapping) and len(hard) > 0  # pyright: ignore[reportUnknownArgumentType]


def _has_limits(props: Props) -> bool:
    return bool(items(get(props, "spec.limits")))


#: What each tenant namespace must hold: (what, type, whether a resource of that type counts).
GUARDS: tuple[tuple[str, str, Callable[[Props], bool]], ...] = (
    (
        "default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rule "
        "admitting all traffic)",
        NETWORK_POLICY,
        lambda props: not default_deny_problems(props),
    ),
    ("ResourceQuota with hard limits (spec.hard)", RESOURCE_QUOTA, _has_quota),
    ("LimitRange (spec.limits)", LIMIT_RANGE, _has_limits),
)


def _decide(check: Callable[[Props], bool], props: Props) -> bool | Unknown:
    try:
        return check(props)
    except UnknownValueError as error:
        return Unknown(error)


def _guards_by_namespace(
    everything: Sequence[Resource], undecided: list[Unknown]
) -> tuple[dict[str, set[str]], dict[str, list[Resource]]]:
    """Namespaces holding each kind of guard, and the NetworkPolicies of each namespace; values
    unknown in preview go to ``undecided``."""
    guarded: dict[str, set[str]] = {kind: set() for _, kind, _ in GUARDS}
    network_policies: dict[str, list[Resource]] = {}
    for resource in everything:
        counts = next((c for _, kind, c in GUARDS if kind == resource.type), None)
        if counts is None:
            continue
        namespace = peek(resource.props, "metadata.namespace")
        verdict = _decide(counts, resource.props)
        undecided += [v for v in (namespace, verdict) if isinstance(v, Unknown)]
        if isinstance(namespace, Unknown) or namespace is None:
            continue  # no namespace: the resource lands in the provider's default one
        if resource.type == NETWORK_POLICY:
            network_policies.setdefault(str(namespace), []).append(resource)
        if verdict is True:
            guarded[resource.type].add(str(namespace))
    return guarded, network_policies


def _tenant_isolation(
    namespaces: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    # A value unknown in preview (a namespace name that is another resource's output, say) only
    # matters when a namespace would otherwise fail; then the policy is skipped for this preview
    # (re-raising the unknown) instead of reporting a violation that may not exist.
    undecided: list[Unknown] = []
    guarded, candidates = _guards_by_namespace(everything, undecided)
    for namespace in namespaces:
        tenant = _decide(is_tenant_namespace, namespace.props)
        if tenant is False:
            continue
        name = peek(namespace.props, "metadata.name")
        known = not isinstance(name, Unknown) and name is not None
        missing = [what for what, kind, _ in GUARDS if not known or str(name) not in guarded[kind]]
        if not missing:
            continue
        for value in (tenant, name, *undecided):
            if isinstance(value, Unknown):
                raise value.error
        if not known:
            yield (
                f"tenant namespace {namespace.name} sets no metadata.name, so nothing can be "
                "placed in it by name",
                namespace.urn,
            )
            continue
        detail = "".join(
            f"; NetworkPolicy {p.name}: {', '.join(default_deny_problems(p.props))}"
            for p in candidates.get(str(name), [])
            if default_deny_problems(p.props)
        )
        yield (f"tenant namespace {name} has no {'; no '.join(missing)}{detail}", namespace.urn)


# --- credentials in ConfigMaps ----------------------------------------------------------------

#: Words that, ending a key, say its value is a credential.
SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "PASSPHRASE", "TOKEN", "SECRET", "APIKEY")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def looks_secret(key: str) -> bool:
    """Whether a ConfigMap key names a credential: its last word ends in PASSWORD, TOKEN,
    SECRET (``DB_PASSWORD``, ``authToken``, ``client-secret``) or is KEY (``API_KEY``,
    ``tls.key``), a public key excepted."""
    words = [w.upper() for w in _WORDS.findall(key)]
    if not words:
        return False
    last = words[-1]
    if last == "KEY":
        return len(words) < 2 or words[-2] != "PUBLIC"
    return last.endswith(SECRET_SUFFIXES)


def _config_map_secrets(props: Props, config: Config) -> Iterator[str]:
    allowed = set(config["allowedKeys"])
    for field in ("data", "binaryData"):
        values = get(props, field)
        if not isinstance(values, Mapping):
            continue
        flagged = sorted(str(k) for k in values if looks_secret(str(k)) and str(k) not in allowed)
        if flagged:
            yield (
                f"{field} key(s) {', '.join(flagged)} look like credentials; a ConfigMap is "
                "neither encrypted with the cluster's KMS key nor access-controlled like a "
                "Secret: use a Secret (or list a key that is not secret in allowedKeys)"
            )


RULES = (
    Rule(
        name="k8s-tenant-pod-security",
        control="",
        description="Tenant namespaces (labelled genericcorp.com/tenant) enforce Pod Security "
        "Admission restricted.",
        types=(NAMESPACE,),
        check=_pod_security,
        reads=("metadata",),
    ),
    Rule(
        name="k8s-configmap-no-credentials",
        control="",
        description="ConfigMaps hold no credentials (no data key ending in PASSWORD, TOKEN, "
        "SECRET or KEY).",
        types=(CONFIG_MAP,),
        check=_config_map_secrets,
        config={
            "allowedKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "ConfigMap keys that look like credentials but are not "
                "(a cache key prefix, say).",
            }
        },
        reads=("data", "binaryData"),
    ),
)

STACK_RULES = (
    StackRule(
        name="k8s-tenant-isolation",
        control="",
        description="Every tenant namespace holds a default-deny NetworkPolicy, a ResourceQuota "
        "and a LimitRange.",
        subjects=(NAMESPACE,),
        check=_tenant_isolation,
    ),
)
