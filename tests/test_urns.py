"""Every resource a deployed stack holds keeps its identity across refactorings.

A resource's URN is its identity in the stack's state: a resource declared under another URN is
deleted and created again by ``pulumi up`` (a new EKS cluster, a new database). The fixture lists
the URNs of both stacks as they were deployed; each must still be declared, or be the alias of a
declared resource (``aliases`` in its options, inherited by its children as the engine does).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import STACKS, plan_for

DEPLOYED = json.loads((Path(__file__).parent / "fixtures" / "deployed-urns.json").read_text())


@pytest.mark.parametrize("stack", STACKS)
def test_every_deployed_urn_is_declared_or_aliased(stack: str) -> None:
    plan = plan_for(stack)
    known = {resource.urn for resource in plan.resources} | {
        alias for resource in plan.resources for alias in resource.options.get("aliases", [])
    }
    lost = [urn for urn in DEPLOYED["urns"][stack] if urn not in known]
    assert not lost, f"{len(lost)} deployed resources would be replaced: {lost[:5]}"


@pytest.mark.parametrize("stack", STACKS)
def test_no_alias_names_a_resource_that_is_still_declared(stack: str) -> None:
    """Two resources claiming one URN would make the engine refuse the update."""
    plan = plan_for(stack)
    declared = {resource.urn for resource in plan.resources}
    clashes = [
        (resource.urn, alias)
        for resource in plan.resources
        for alias in resource.options.get("aliases", [])
        if alias in declared
    ]
    assert not clashes
