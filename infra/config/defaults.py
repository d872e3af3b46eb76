"""Defaults per environment: what a stack gets for every key its stack file leaves out.

Each settings model declares its dev and prod defaults beside itself, as typed settings objects
(at the end of ``components/<name>.py``; tagging in ``stack.py``), and ``StackConfig`` names them
on its fields. Here they take the stack file's shape (camelCase keys, JSON values), which the
loader merges the stack file over and ``docs/configuration.md`` lists. Adding a key to
``StackConfig`` with its profile is all a new component needs.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from components.base import Environment
from infra.config.stack import profiled_keys


def environment_defaults(environment: Environment) -> dict[str, Any]:
    """Every defaulted key of ``environment``: full key -> value as a stack file would write it."""
    return {
        key: to_jsonable_python(profile.defaults.of(environment), by_alias=True)
        for _, key, profile in profiled_keys()
    }
