"""Read, default and validate a stack's configuration before any resource is declared.

The same function serves ``pulumi preview``/``up`` (values from the Pulumi runtime, secrets
decrypted by the CLI), the offline plan (values read from ``Pulumi.<stack>.yaml``) and the tests
(plain mappings). Every problem is collected and reported at once, each naming the stack file,
the key path, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from components.base import Environment
from infra.config.consistency import check_consistency, check_cost_inputs
from infra.config.defaults import environment_defaults
from infra.config.errors import MISSING, ConfigError, ConfigProblem, problems_from_validation_error
from infra.config.guardrails import check_guardrails
from infra.config.stack import PROJECT, StackConfig, stack_file_name

#: Namespaces the program reads. ``pulumi:`` keys are engine options and are left to the engine.
_ENGINE_NAMESPACE = "pulumi"
_AWS_KEYS = frozenset({"aws:region"})
_STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,19}")


def load_stack_config() -> StackConfig:
    """The running stack's configuration, from the Pulumi runtime."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in values if runtime_config.is_config_secret(key)}
    return parse_stack_config(
        pulumi.get_stack(), {key: _decode(value) for key, value in values.items()}, secret_keys
    )


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to the program as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in {"{", "["}:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_stack_config(
    stack: str, values: Mapping[str, Any], secret_keys: set[str] | frozenset[str] = frozenset()
) -> StackConfig:
    """Validate ``values`` (full config keys -> decoded values) for ``stack``.

    Raises ``ConfigError`` listing every problem; returns the typed configuration otherwise.
    """
    stack_file = stack_file_name(stack)
    secrets = frozenset(secret_keys)
    problems = _namespace_problems(values)
    if not _STACK_NAME.fullmatch(stack):
        problems.append(
            ConfigProblem(
                path="stack name",
                value=stack,
                message=(
                    "must be 1 to 20 lowercase letters, digits or hyphens, starting with a letter: "
                    "it becomes part of AWS names (SNS topics, KMS aliases, buckets) that allow "
                    "nothing else"
                ),
            )
        )

    environment = _environment(stack, values.get(f"{PROJECT}:environment", MISSING))
    if isinstance(environment, ConfigProblem):
        # Defaults depend on the environment: nothing more can be checked without it.
        raise ConfigError(stack_file, [*problems, environment])

    reported = {problem.path for problem in problems}
    program_values = {
        key: value
        for key, value in values.items()
        if key not in reported and not key.startswith(f"{_ENGINE_NAMESPACE}:")
    }
    merged = _merge(environment_defaults(environment), program_values)
    try:
        config = StackConfig.model_validate_json(json.dumps(merged))
    except ValidationError as error:
        problems += problems_from_validation_error(error, StackConfig, secrets)
        raise ConfigError(stack_file, problems) from None
    config.bind(stack, secrets)
    problems += check_consistency(config)
    problems += check_cost_inputs(config)
    problems += check_guardrails(config)
    if problems:
        raise ConfigError(stack_file, problems)
    return config


def _namespace_problems(values: Mapping[str, Any]) -> list[ConfigProblem]:
    problems = []
    for key in sorted(values):
        namespace = key.split(":", 1)[0] if ":" in key else ""
        if namespace == "aws" and key not in _AWS_KEYS:
            problems.append(
                ConfigProblem(
                    path=key,
                    message=(
                        "not read: the program builds its AWS provider from aws:region alone; "
                        "choose credentials with AWS_PROFILE or the AWS_* environment variables"
                    ),
                )
            )
        elif namespace not in {PROJECT, "aws", _ENGINE_NAMESPACE}:
            problems.append(
                ConfigProblem(
                    path=key,
                    message=(
                        f"unknown namespace {namespace!r}; keys belong to {PROJECT}: (see "
                        "docs/configuration.md), aws:region or pulumi: engine options"
                    ),
                )
            )
    # Unknown keys inside the project's namespace are reported by the model, with suggestions.
    return problems


def _environment(stack: str, value: Any) -> Environment | ConfigProblem:
    key = f"{PROJECT}:environment"
    allowed = ", ".join(repr(str(e)) for e in Environment)
    if value is MISSING:
        return ConfigProblem(key, f"required key is missing; set one of {allowed}")
    if value not in {str(e) for e in Environment}:
        return ConfigProblem(key, f"not allowed; expected one of {allowed}", value)
    environment = Environment(value)
    if stack in {str(e) for e in Environment} and stack != environment:
        return ConfigProblem(
            key,
            f"stack {stack!r} must use the {stack!r} environment profile, so that its "
            "defaults and guardrails cannot be switched off by renaming",
            value,
        )
    return environment


def _merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Objects merge key by key; anything else in ``overrides`` replaces the default."""
    merged = dict(defaults)
    for key, value in overrides.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(base, value)
        else:
            merged[key] = value
    return merged
