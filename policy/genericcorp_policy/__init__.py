"""Generic Corp's policy rules: the FSBP controls of docs/policies.md, required tags, prod
protection, the budget check and Kubernetes tenancy, shared by the pulumi policy pack
(``policy/__main__.py``) and the offline plan (``infractl plan``, ``infractl policy``)."""

from __future__ import annotations

from pulumi_policy import Policy

from genericcorp_policy import (
    audit,
    compute,
    data,
    edge,
    governance,
    kubernetes,
    network,
    tenancy,
)
from genericcorp_policy.framework import (
    PACK_NAME,
    AnyRule,
    PolicyConfigError,
    Rule,
    Scope,
    StackRule,
    build_policies,
)

#: Every rule, in the order the results table lists them.
RULES: tuple[AnyRule, ...] = (
    *governance.RULES,
    *governance.STACK_RULES,
    *compute.RULES,
    *data.RULES,
    *edge.RULES,
    *edge.STACK_RULES,
    *network.RULES,
    *network.STACK_RULES,
    *audit.RULES,
    *audit.STACK_RULES,
    *kubernetes.RULES,
    *kubernetes.STACK_RULES,
    *tenancy.RULES,
    *tenancy.STACK_RULES,
)


def policies() -> list[Policy]:
    """The pack's policies, built fresh (pulumi-policy objects hold no state between runs)."""
    return build_policies(RULES)


__all__ = [
    "PACK_NAME",
    "RULES",
    "AnyRule",
    "PolicyConfigError",
    "Rule",
    "Scope",
    "StackRule",
    "policies",
]
