"""Snapshots of each stack's whole plan, so a pull request shows every change it declares.

They complement the property tests; they never replace them. After an intended change:
`make snapshots`.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import STACKS, plan_for


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_snapshot(stack: str, snapshot_json: SnapshotAssertion) -> None:
    assert plan_for(stack).to_json() == snapshot_json
