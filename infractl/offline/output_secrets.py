"""The offline check that no plain (non-secret) stack output holds a secret value.

A policy pack cannot make this check: pulumi-policy shows a pack the resources, never the stack's
outputs. The offline plan sees both: every string the plan recorded as secret (a secret input,
a secret or ``additionalSecretOutputs`` output such as a RandomPassword's ``result``, a
``secure:`` config value) is looked for in every plain output. A leak usually comes from a value
made in Python and wrapped with ``pulumi.Output.secret`` for the resource but exported as it was,
from ``Output.unsecret``, or from a secret config key read with a plain ``config.get``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infractl.offline.engine import SECRET_MASK, UNKNOWN_MASK
from infractl.offline.plan import Plan

#: Name under which the check reports, beside the pack's policies.
CHECK_NAME = "no-secret-in-plain-outputs"
DESCRIPTION = (
    "No plain (non-secret) stack output holds a value the stack treats as secret "
    "(offline check: a policy pack cannot see stack outputs)."
)
#: Shorter secret strings are not looked for: "true", a port or a short user name marked secret
#: along with a credential would match unrelated outputs, and no credential AWS accepts is this
#: short (an RDS password needs 8 characters, an ElastiCache AUTH token 16).
MIN_SECRET_LENGTH = 8


@dataclass(frozen=True)
class Leak:
    output: str
    """Path of the plain output, e.g. ``cache.authToken``."""
    source: str
    """Where the plan recorded the value as secret, e.g.
    ``cache-auth-token (random:index/randomPassword:RandomPassword) outputs.result``."""


def _plain_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value not in (SECRET_MASK, UNKNOWN_MASK):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _plain_leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plain_leaves(item, f"{path}[{index}]")


def secret_sources(plan: Plan) -> dict[str, str]:
    """Every secret string of the plan long enough to look for -> where it was recorded."""
    found: dict[str, str] = {}
    for where, value in plan.secret_config.items():
        found.setdefault(value, where)
    for resource in plan.resources:
        for path, value in resource.secret_values:
            found.setdefault(value, f"{resource.name} ({resource.type}) {path}")
    return {value: where for value, where in found.items() if len(value) >= MIN_SECRET_LENGTH}


def find_leaks(plan: Plan) -> list[Leak]:
    """Plain outputs that contain a secret value, whole or inside a longer text (a URL, JSON)."""
    secrets = secret_sources(plan)
    return [
        Leak(output=path, source=where)
        for path, text in _plain_leaves(plan.outputs, "")
        for value, where in secrets.items()
        if value in text
    ]
