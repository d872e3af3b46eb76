"""The recorded result of running a stack's program offline: resources, their inputs and outputs.

A ``Plan`` is what the offline plan prints, what ``--json`` writes and what the tests assert on.
Secret values are masked wherever they appear; the unmasked inputs stay in memory only
(``PlannedResource.raw_inputs``) so tests can check what a secret holds without printing it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PLAN_FORMAT = 1


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    custom: bool
    """False for component resources (and the stack), True for cloud resources."""
    parent: str | None
    provider: str | None
    """URN of the explicit provider the resource uses (None for components)."""
    protect: bool
    inputs: dict[str, Any]
    """Inputs as the provider receives them (camelCase), secrets masked."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Attributes the cloud computes (id, ARN, endpoints), as the mocks answer them."""
    dependencies: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    """Other resource options that were set: retainOnDelete, deleteBeforeReplace, ..."""
    raw_inputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Inputs with secrets unmasked. Never serialized."""
    secret_inputs: frozenset[str] = frozenset()
    """Top-level input keys whose values are secret."""
    secret_values: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    """(path, text) of every string held in a secret input or output (``inputs.authToken``,
    ``outputs.result``), unmasked. Never serialized."""

    @property
    def id(self) -> str | None:
        value = self.outputs.get("id")
        return str(value) if value else None

    @property
    def tags(self) -> dict[str, str]:
        tags = self.inputs.get("tags") or {}
        return dict(tags) if isinstance(tags, dict) else {}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
        }
        if self.provider:
            data["provider"] = self.provider
        if self.protect:
            data["protect"] = True
        if self.options:
            data["options"] = self.options
        data["inputs"] = self.inputs
        if self.outputs:
            data["outputs"] = self.outputs
        if self.dependencies:
            data["dependencies"] = self.dependencies
        return data


@dataclass
class Plan:
    project: str
    stack: str
    preview: bool
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    raw_outputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    secret_config: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Each string of a secret config key, by where it sits
    (``config genericcorp:alerts.emails[0]``); offline, a ``secure:`` value is a placeholder.
    Never serialized."""

    # --- queries used by the CLI and the tests -------------------------------------------
    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        matches = self.of_type(type_token)
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token}, found {len(matches)}")
        return matches[0]

    def named(self, name: str, type_token: str | None = None) -> PlannedResource:
        """The resource with this logical name (and type, where a component shares the name)."""
        matches = [r for r in self.resources if r.name == name and type_token in (None, r.type)]
        if len(matches) != 1:
            raise LookupError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(f"no resource with URN {urn}")

    def by_id(self, resource_id: str) -> PlannedResource:
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise LookupError(f"no resource with id {resource_id}")

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> Iterator[PlannedResource]:
        for child in self.children(urn):
            yield child
            yield from self.descendants(child.urn)

    def component_of(self, resource: PlannedResource) -> PlannedResource | None:
        """The nearest enclosing component resource (not the stack)."""
        parent = resource.parent
        while parent:
            owner = self.by_urn(parent)
            if not owner.custom and owner.type != "pulumi:pulumi:Stack":
                return owner
            parent = owner.parent
        return None

    @property
    def cloud_resources(self) -> list[PlannedResource]:
        """Resources a provider manages (no components, no providers, no stack)."""
        return [
            r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")
        ]

    def counts_by_type(self) -> dict[str, int]:
        counts = Counter(r.type for r in self.resources if r.type != "pulumi:pulumi:Stack")
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "project": self.project,
            "stack": self.stack,
            "preview": self.preview,
            "summary": {
                "resources": len(self.cloud_resources),
                "components": sum(
                    1 for r in self.resources if not r.custom and r.type != "pulumi:pulumi:Stack"
                ),
                "byType": self.counts_by_type(),
            },
            "outputs": self.outputs,
            "resources": [r.to_json() for r in self.resources],
        }
