"""What a prod stack refuses, whatever its stack file says.

Prod is held to the brief's 99.9% uptime target and to the security baseline, so settings that
are fine for a cheap dev stack are errors there. The rules live beside the settings they govern
(``ProdRule`` at the end of ``components/<name>.py``), each naming its setting through the model,
what prod allows and why; ``StackConfig`` names them on its fields, and ``docs/configuration.md``
lists them.
"""

from __future__ import annotations

from typing import Any

from components.base import Environment, ProdRule
from infra.config.errors import ConfigProblem
from infra.config.stack import StackConfig, profiled_keys


def prod_rules() -> list[tuple[str, ProdRule[Any, Any]]]:
    """Every prod rule with the full key path it guards (``genericcorp:database.multiAz``)."""
    return [
        (f"{key}.{rule.path}", rule)
        for _, key, profile in profiled_keys()
        for rule in profile.prod_rules
    ]


def check_guardrails(config: StackConfig) -> list[ConfigProblem]:
    """The prod rules this configuration breaks (none for dev)."""
    if config.environment is not Environment.PROD:
        return []
    problems: list[ConfigProblem] = []
    for name, key, profile in profiled_keys():
        settings = getattr(config, name)
        for rule in profile.prod_rules:
            refusal = rule.refusal(settings)
            if refusal is not None:
                problems.append(
                    ConfigProblem(
                        path=f"{key}.{refusal.path}",
                        value=refusal.value,
                        message=f"not allowed in prod: {refusal.reason}. "
                        f"Prod allows: {refusal.allowed}",
                        secret=config.is_secret(key),
                    )
                )
    return problems
