"""Shared fixtures: each stack's program runs once per session; tests assert on the record."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from infra.config import StackConfig, parse_stack_config
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan, PlannedResource
from infractl.offline.stackfile import read_stack_file

STACKS = ("dev", "prod")


@cache
def plan_for(stack: str, preview: bool = False) -> Plan:
    """The offline plan of a committed stack file, computed once per test session."""
    return run_stack(stack, preview=preview)


@cache
def stack_config(stack: str) -> StackConfig:
    """The validated configuration of a committed stack file: what its plan was built from."""
    stack_file = read_stack_file(stack)
    return parse_stack_config(stack, stack_file.values, stack_file.secret_keys)


def plan_with(stack: str, overrides: dict[str, Any]) -> Plan:
    """A plan of ``stack`` with some config keys replaced (full key -> value)."""
    return run_stack(stack, config_overrides=overrides)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return plan_for("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return plan_for("prod")


@pytest.fixture(params=STACKS)
def plan(request: pytest.FixtureRequest) -> Plan:
    """Each committed stack in turn: a test using it proves a property in dev and in prod."""
    return plan_for(request.param)


def region_of(plan: Plan, resource: PlannedResource) -> str:
    """The region of the provider that declares ``resource``."""
    assert resource.provider is not None, resource.urn
    return str(plan.by_urn(resource.provider).inputs["region"])


#: Another region than the edge's, priced with us-east-1's catalog (the only one) as the estimate
#: then states: what must stay in us-east-1 still does.
IN_EU_WEST_1: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "genericcorp:costModel": {"priceFallbackRegion": "us-east-1"},
}


def policy(resource: PlannedResource, key: str) -> dict[str, Any]:
    """A JSON policy document input, parsed."""
    document = resource.inputs[key]
    assert isinstance(document, str), f"{resource.name}.{key} is not a JSON document"
    parsed: dict[str, Any] = json.loads(document)
    return parsed


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def by_name(resources: list[PlannedResource]) -> dict[str, PlannedResource]:
    return {resource.name: resource for resource in resources}


#: Dev's budget lifted, for tests of dev variants that cost more than its $200 target (a replica,
#: a third AZ, WAF): those tests are about the resources; test_cost.py tests the budget guard.
LIFTED_BUDGET: dict[str, Any] = {"genericcorp:budget": {"limitUsd": 1000}}


#: The one key every stack file must add to the defaults: who administers the cluster.
ADMIN_ENTRY = {
    "principalArn": "arn:aws:iam::123456789012:role/platform-admin",
    "accessPolicy": "cluster-admin",
}


def minimal_values(environment: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The smallest valid configuration (full keys) of an environment, with overrides."""
    values: dict[str, Any] = {
        "aws:region": "us-east-1",
        "genericcorp:environment": environment,
        "genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY]},
    }
    if environment == "prod":
        values["genericcorp:alerts"] = {"emails": ["oncall@genericcorp.com"]}
    values.update(overrides or {})
    return values
