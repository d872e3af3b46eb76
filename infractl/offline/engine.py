"""Run the real Pulumi program under Pulumi's mock runtime and record everything it declares.

``run_stack("prod")`` reads ``Pulumi.prod.yaml``, hands its config to the program exactly as the
pulumi CLI would, runs ``infra.program.main`` against ``PlatformMocks`` and returns a ``Plan``.
No AWS account, credentials, pulumi CLI or network is involved.

The Pulumi runtime keeps global state (settings, the root stack, config). Each run installs a
fresh copy of all of it, so several stacks can be planned one after another in one process.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack

from infractl.offline import sdk
from infractl.offline.mocks import PlatformMocks
from infractl.offline.plan import Plan, PlannedResource
from infractl.offline.stackfile import PROJECT_DIR, StackFile, read_stack_file

# Markers of Pulumi's wire format for special values.
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[unknown]"

Program = Callable[[], None]


def _default_program() -> None:
    from infra.program import main  # noqa: PLC0415 - imported when a plan runs, not before

    main()


def run_stack(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    preview: bool = False,
    config_overrides: Mapping[str, Any] | None = None,
    program: Program = _default_program,
) -> Plan:
    """Run ``program`` for ``stack`` offline and return what it declared.

    ``config_overrides`` (full keys to values) replace keys of the stack file; tests use them
    to try configurations without writing files. Errors the program raises (a ``ConfigError``
    for bad config) propagate unchanged.
    """
    stack_file = read_stack_file(stack, project_dir)
    values = dict(stack_file.values)
    values.update(config_overrides or {})
    effective = StackFile(
        project=stack_file.project,
        stack=stack,
        path=stack_file.path,
        values=values,
        secret_keys=stack_file.secret_keys,
    )
    return run_program(effective, preview=preview, program=program)


def run_program(
    stack_file: StackFile,
    *,
    preview: bool,
    program: Program = _default_program,
    monitor: RecordingMonitor | None = None,
) -> Plan:
    """Run ``program`` with ``stack_file``'s config; ``monitor`` lets a caller keep the record
    of what was declared even when the program fails."""
    monitor = monitor or RecordingMonitor(PlatformMocks(preview=preview))
    with _isolated_runtime(stack_file, preview, monitor):
        sdk.run_to_completion(runtime_stack.run_in_stack(program))
    plan = monitor.plan(stack_file.project, stack_file.stack, preview)
    # A secret config key is secret as a whole; offline each `secure:` leaf is a placeholder.
    # A program that reads one with a plain `config.get` and exports it leaks it.
    plan.secret_config = {
        f"config {key}{path}": text
        for key in sorted(stack_file.secret_keys)
        for path, text in _string_leaves(stack_file.values.get(key), "")
    }
    return plan


@contextmanager
def _isolated_runtime(
    stack_file: StackFile, preview: bool, monitor: RecordingMonitor
) -> Generator[None]:
    """Fresh Pulumi runtime state for one run; config comes only from the stack file."""
    saved_env = {k: os.environ.pop(k) for k in _CONFIG_ENV_VARS if k in os.environ}
    runtime_settings.configure(
        runtime_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=runtime_mocks.MockEngine(None),
            project=stack_file.project,
            stack=stack_file.stack,
            dry_run=preview,
            organization="offline",
            callbacks=None,
        )
    )
    runtime_settings.ROOT.set(None)
    runtime_config.set_all_config(stack_file.wire_config(), sorted(stack_file.secret_keys))
    try:
        # The mock monitor discards the stack the SDK captures for each resource; capturing it
        # is a third of the run's time with hundreds of tenants. The SDK's scan for unknowns
        # leaves reference cycles at every Output, which the paused collector would have to
        # scan and free at the end (docs/benchmarks.md).
        with sdk.stack_capture_disabled(), sdk.acyclic_unknowns_scan(), _collector_paused():
            yield
    finally:
        runtime_config.set_all_config({}, [])
        runtime_settings.ROOT.set(None)
        os.environ.update(saved_env)


@contextmanager
def _collector_paused() -> Generator[None]:
    """Pause the cyclic garbage collector for a run and collect once when it ends.

    Every registration leaves futures, tasks and closures in reference cycles; with thousands
    of resources the cyclic collector rescans them over and over and the run grows faster
    than linearly (docs/benchmarks.md). A run is short: reclaim once at the end instead, and
    here rather than at a random later point (CPython 3.11 fails an ast.parse that a
    collection finalizing the run's coroutines interrupts). What exists before the run (the
    imported SDKs' modules, classes and schemas) is frozen out of that collection: it outlives
    the run, and scanning it was most of the collection's time.
    """
    collecting = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        # A caller that runs the collector (a test session, a benchmark) gets a clean heap
        # back; one that switched it off (the one-shot ``infractl`` command) exits instead.
        if collecting:
            gc.collect()
        gc.unfreeze()
        if collecting:
            gc.enable()


_CONFIG_ENV_VARS = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also recording each registration's options and outputs."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.records: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.raw_stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        wire_inputs = json_format.MessageToDict(request.object)
        wire_state = json_format.MessageToDict(response.object) if response.object else {}
        if request.additionalSecretOutputs and wire_state:
            # The pulumi engine returns these outputs as secrets (a RandomPassword's `result`,
            # say); the SDK's mock monitor does not, which would leave them plain offline.
            wire_state = _as_secrets(wire_state, set(request.additionalSecretOutputs))
            response.object.Clear()
            response.object.update(wire_state)
        computed = {
            key: value
            for key, value in wire_state.items()
            if key not in wire_inputs and key != "tagsAll"
        }
        if response.id:
            computed = {"id": response.id, **computed}
        inputs = _decode(wire_inputs, mask=True)
        raw_inputs = _decode(wire_inputs, mask=False)
        if "tagsAll" in wire_state:
            # pulumi-aws adds tagsAll to the checked inputs, so policies see it as an input too.
            inputs["tagsAll"] = _decode(wire_state["tagsAll"], mask=True)
            raw_inputs["tagsAll"] = _decode(wire_state["tagsAll"], mask=False)
        self.records.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                protect=bool(request.protect),
                inputs=inputs,
                outputs=_mask_secret_outputs(
                    _decode(computed, mask=True), request.additionalSecretOutputs
                ),
                dependencies=sorted(set(request.dependencies)),
                options=_options(request),
                raw_inputs=raw_inputs,
                secret_inputs=frozenset(k for k, v in wire_inputs.items() if _has_secret(v)),
                secret_values=(
                    *_secret_leaves(wire_inputs, "inputs"),
                    *_secret_leaves(
                        {k: v for k, v in wire_state.items() if k not in wire_inputs}, "outputs"
                    ),
                ),
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn.split("::")[-2].endswith("pulumi:pulumi:Stack"):
            wire = json_format.MessageToDict(request.outputs)
            self.stack_outputs = _decode(wire, mask=True)
            self.raw_stack_outputs = _decode(wire, mask=False)
        return super().RegisterResourceOutputs(request)

    def plan(self, project: str, stack: str, preview: bool) -> Plan:
        inherit_aliases(self.records)
        return Plan(
            project=project,
            stack=stack,
            preview=preview,
            # Registrations finish in thread-pool order; sort so that plans are deterministic.
            resources=sorted(self.records, key=lambda r: (r.parent is not None, r.urn)),
            outputs=self.stack_outputs,
            raw_outputs=self.raw_stack_outputs,
        )


def _options(request: Any) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if getattr(request, "retainOnDelete", False):
        options["retainOnDelete"] = True
    if request.ignoreChanges:
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if request.additionalSecretOutputs:
        options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
    if request.replaceOnChanges:
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    timeouts = {
        operation: value
        for operation in ("create", "update", "delete")
        if (value := getattr(request.customTimeouts, operation))
    }
    if timeouts:
        options["customTimeouts"] = timeouts
    aliases = sorted({_alias_urn(alias, request) for alias in request.aliases})
    if aliases:
        options["aliases"] = aliases
    return options


def _make_urn(parent: str, type_: str, name: str) -> str:
    """A child's URN as the mock monitor spells it: in ``parent``'s stack and project, the
    parent's own type, ``$``, the child's type, then the name."""
    stack_and_project, qualified_type = parent.split("::")[0:2], parent.split("::")[2]
    parent_type = qualified_type.rsplit("$", maxsplit=1)[-1]
    return "::".join([*stack_and_project, f"{parent_type}${type_}", name])


def _stack_urn(urn: str) -> str:
    """The URN of the stack that ``urn`` belongs to."""
    prefix, project = urn.split("::")[:2]
    stack = prefix.removeprefix("urn:pulumi:")
    return f"{prefix}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def _alias_urn(alias: Any, request: Any) -> str:
    """The URN an alias names, resolved the way the engine resolves an alias spec: fields left
    empty are the resource's own. An alias with no parent names a resource that the stack held
    directly, which the mock monitor spells with the stack's type as its parent's."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    parent = _stack_urn(request.parent) if spec.noParent else (spec.parentUrn or request.parent)
    return _make_urn(parent, spec.type or request.type, spec.name or request.name)


def inherit_aliases(resources: list[PlannedResource]) -> None:
    """Add to each child the aliases its parents' aliases imply, as the engine does: a child
    whose parent was known by another URN was known under that URN's type as well."""
    by_urn = {resource.urn: resource for resource in resources}
    resolved: dict[str, list[str]] = {}

    def aliases_of(resource: PlannedResource) -> list[str]:
        if resource.urn not in resolved:
            own = list(resource.options.get("aliases", []))
            parent = by_urn.get(resource.parent or "")
            inherited = [
                _make_urn(alias, resource.type, resource.name)
                for alias in (aliases_of(parent) if parent else [])
            ]
            resolved[resource.urn] = sorted({*own, *inherited} - {resource.urn})
        return resolved[resource.urn]

    for resource in resources:
        found = aliases_of(resource)
        if found:
            resource.options["aliases"] = found


def _as_secrets(state: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {
        key: {_SIG_KEY: _SECRET_SIG, "value": value}
        if key in keys and not _has_secret(value)
        else value
        for key, value in state.items()
    }


def _secret_leaves(value: Any, path: str) -> list[tuple[str, str]]:
    """(path, text) of every string a secret holds, wherever secrets sit in a wire value."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return list(_string_leaves(_decode(value.get("value"), mask=False), path))
        return [
            leaf for key, item in value.items() for leaf in _secret_leaves(item, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [
            leaf for i, item in enumerate(value) for leaf in _secret_leaves(item, f"{path}[{i}]")
        ]
    return []


def _string_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value != UNKNOWN_MASK:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, f"{path}[{index}]")


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(_SIG_KEY) == _SECRET_SIG or any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _mask_secret_outputs(outputs: dict[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """Mask the attributes the provider marks secret (a generated password, for example).

    The SDK makes them secret Outputs on the program's side; the mocks answer in plain values,
    so without this the recorded plan (and its JSON and snapshots) would show them.
    """
    secret = set(secret_keys)
    return {key: SECRET_MASK if key in secret else value for key, value in outputs.items()}


def _decode(value: Any, *, mask: bool) -> Any:
    """Wire-format value -> plain JSON value; secrets masked unless ``mask`` is False."""
    if isinstance(value, dict):
        signature = value.get(_SIG_KEY)
        if signature == _SECRET_SIG:
            return SECRET_MASK if mask else _decode(value.get("value"), mask=mask)
        if signature == _RESOURCE_REF_SIG:
            return value.get("urn")
        return {key: _decode(item, mask=mask) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, mask=mask) for item in value]
    if value == _UNKNOWN:
        return UNKNOWN_MASK
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
