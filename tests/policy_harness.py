"""Run one policy of the pack on hand-written properties, through pulumi-policy's own argument
objects and unknown-checking proxies (the path `pulumi preview --policy-pack` takes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genericcorp_policy import policies
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

POLICIES: dict[str, Policy] = {p.name: p for p in policies()}


def tagged(environment: str, props: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Props of a resource in ``environment`` carrying all the required tags."""
    tags = {
        "Project": "genericcorp",
        "Environment": environment,
        "ManagedBy": "pulumi",
        "CostCenter": "platform-engineering",
        "Component": "test",
    }
    return {"tags": {"Component": "test"}, "tagsAll": tags, **(props or {})}


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def violations(
    policy_name: str,
    type_token: str,
    props: Mapping[str, Any],
    *,
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    policy = POLICIES[policy_name]
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    args = ResourceValidationArgs(
        type_token,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:test::genericcorp::{type_token}::subject",
        "subject",
        options(protect),
        None,
        dict(config) if config is not None else None,
    )
    policy.validate(args, lambda message, _urn=None: found.append(message))
    return found


def stack_violations(
    policy_name: str,
    resources: list[tuple[str, str, Mapping[str, Any]]],
    *,
    config: Mapping[str, Any] | None = None,
) -> list[tuple[str, str | None]]:
    """``resources`` as (type, name, props); returns (message, urn) pairs."""
    policy = POLICIES[policy_name]
    assert isinstance(policy, StackValidationPolicy)
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(
        [
            PolicyResource(
                type_token,
                unknown_checking_proxy(dict(props)),
                f"urn:pulumi:test::genericcorp::{type_token}::{name}",
                name,
                options(),
                None,
                None,
                [],
                {},
            )
            for type_token, name, props in resources
        ],
        dict(config) if config is not None else None,
    )
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found
