"""The private SDK names ``infractl/offline/sdk.py`` wraps still exist with the shape it expects.

pyproject.toml pins pulumi to the minor range these tests have run on. Before widening the pin,
run them against the new release: a failure names the installed version and the name that went
away or changed, and the shim is the one file to adapt.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, NoReturn

import pulumi
import pulumi_aws as aws
import pytest
from pulumi import output as pulumi_output
from pulumi.runtime import proto
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc as runtime_rpc
from pulumi.runtime.proto import source_pb2

from infractl.offline import sdk


def fail(error: sdk.SdkChangedError) -> NoReturn:
    """Fail with the error's one line (version, name, shim to update), without a traceback."""
    pytest.fail(str(error), pytrace=False)


def resolve(name: sdk.PrivateName) -> Any:
    try:
        return name.resolve()
    except sdk.SdkChangedError as error:
        missing = error
    fail(missing)  # outside the handler: the report is the one line, not a chain of two


def check_callable_with(name: sdk.PrivateName, found: Any, arguments: list[str]) -> None:
    """``found`` can be called as the shim calls it: ``arguments`` positionally, nothing more."""
    if not callable(found):
        fail(name.changed(f"it is a {type(found).__name__}, not callable"))
    parameters = list(inspect.signature(found).parameters.values())
    positional = [
        p.name
        for p in parameters[: len(arguments)]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required_rest = [
        p.name
        for p in parameters[len(arguments) :]
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if positional != arguments or required_rest:
        taken = ", ".join(p.name for p in parameters)
        wanted = ", ".join(arguments)
        fail(name.changed(f"it takes ({taken}), the shim passes ({wanted})"))


def test_a_missing_name_fails_with_the_version_and_the_shim_to_update() -> None:
    gone = sdk.PrivateName("pulumi", "pulumi.runtime.sync_await", "_no_such_name")
    with pytest.raises(sdk.SdkChangedError) as raised:
        gone.resolve()
    assert str(raised.value) == (
        f"pulumi {version('pulumi')} no longer has pulumi.runtime.sync_await._no_such_name; "
        "update infractl/offline/sdk.py"
    )


# --- pulumi.runtime.sync_await._sync_await ------------------------------------------------------


def test_sync_await_takes_an_awaitable() -> None:
    check_callable_with(sdk.SYNC_AWAIT, resolve(sdk.SYNC_AWAIT), ["awaitable"])


def test_run_to_completion_returns_the_result() -> None:
    async def answer() -> int:
        return 42

    resolve(sdk.SYNC_AWAIT)  # before making a coroutine that a missing name would leave unawaited
    assert sdk.run_to_completion(answer()) == 42


# --- pulumi.runtime.resource._get_stack_trace ---------------------------------------------------


def test_get_stack_trace_takes_nothing_and_returns_a_stack_trace() -> None:
    capture = resolve(sdk.STACK_TRACE)
    check_callable_with(sdk.STACK_TRACE, capture, [])
    if not isinstance(capture(), source_pb2.StackTrace):
        fail(sdk.STACK_TRACE.changed("it no longer returns a StackTrace"))


def test_registration_calls_the_stack_trace_through_the_module() -> None:
    """Rebinding the module's function reaches the SDK only if its registration code looks the
    name up at each call; otherwise the offline plan would pay for the capture again."""
    if sdk.STACK_TRACE.attribute not in runtime_resource.register_resource.__code__.co_names:
        change = "pulumi.runtime.resource.register_resource no longer calls it by that name"
        fail(sdk.STACK_TRACE.changed(change))


def test_stack_capture_is_skipped_inside_the_block_and_restored_after() -> None:
    capture: Callable[[], source_pb2.StackTrace] = resolve(sdk.STACK_TRACE)
    with sdk.stack_capture_disabled():
        assert sdk.stack_trace_hook() is not capture
        assert sdk.stack_trace_hook()() == source_pb2.StackTrace()
    assert sdk.stack_trace_hook() is capture


# --- pulumi.runtime.rpc.contains_unknowns -------------------------------------------------------


def test_contains_unknowns_takes_a_value() -> None:
    check_callable_with(sdk.UNKNOWNS_SCAN, resolve(sdk.UNKNOWNS_SCAN), ["val"])


def test_outputs_scan_for_unknowns_through_the_module() -> None:
    """Rebinding the name reaches the SDK only if its callers look it up at each call: the
    Output's data through ``pulumi.output.contains_unknowns`` (``rpc.contains_unknowns``) and
    the serializer as a global of ``pulumi.runtime.rpc``."""
    callers = {
        "pulumi.output.contains_unknowns": pulumi_output.contains_unknowns,
        "pulumi.runtime.rpc.serialize_property": runtime_rpc.serialize_property,
    }
    for caller, function in callers.items():
        if sdk.UNKNOWNS_SCAN.attribute not in function.__code__.co_names:
            fail(sdk.UNKNOWNS_SCAN.changed(f"{caller} no longer calls it by that name"))


class _ShadowingDict(dict[str, Any]):
    """Like a provider SDK's output type: a dict whose attributes shadow its methods."""

    def __init__(self, **fields: Any) -> None:
        super().__init__(fields)
        self.__dict__.update(fields)


def shared_and_cyclic_values() -> list[Any]:
    shared = {"arn": "arn:aws:iam::123456789012:role/app"}
    looped: list[Any] = ["x"]
    looped.append(looped)
    looped_unknown: list[Any] = [pulumi_output.UNKNOWN]
    looped_unknown.append(looped_unknown)
    return [
        None,
        "text",
        3,
        pulumi_output.UNKNOWN,
        {},
        [],
        {"a": {"b": [1, {"c": "d"}]}},
        {"a": {"b": [1, {"c": pulumi_output.UNKNOWN}]}},
        [[], [[pulumi_output.UNKNOWN]]],
        {"first": shared, "again": shared},
        [shared, shared, pulumi_output.UNKNOWN],
        looped,
        looped_unknown,
        ("tuples", pulumi_output.UNKNOWN),  # the SDK looks into dicts and lists only
        _ShadowingDict(values=[pulumi_output.UNKNOWN]),
    ]


def test_the_acyclic_scan_answers_as_the_sdk_does() -> None:
    sdk_scan: Callable[[Any], bool] = resolve(sdk.UNKNOWNS_SCAN)
    for value in shared_and_cyclic_values():
        assert sdk.contains_unknowns(value) is sdk_scan(value), repr(value)


def cyclic_garbage_after(scan: Callable[[Any], bool]) -> int:
    """How many objects the cyclic collector finds unreachable after ``scan`` runs 10 times."""
    value = {"a": [1, {"b": "c"}]}
    paused = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(10):
            scan(value)
        return gc.collect()
    finally:
        if paused:
            gc.enable()


def test_the_acyclic_scan_leaves_no_cycles_where_the_sdk_leaves_some() -> None:
    """What the replacement is for: if the SDK's own scan stops leaving cycles, the shim can go."""
    assert cyclic_garbage_after(resolve(sdk.UNKNOWNS_SCAN)) > 0
    assert cyclic_garbage_after(sdk.contains_unknowns) == 0


def test_the_acyclic_scan_is_used_inside_the_block_and_restored_after() -> None:
    scan: Callable[[Any], bool] = resolve(sdk.UNKNOWNS_SCAN)
    with sdk.acyclic_unknowns_scan():
        assert sdk.unknowns_scan_hook() is sdk.contains_unknowns
        assert pulumi_output.contains_unknowns({"a": [pulumi_output.UNKNOWN]})
        assert not pulumi_output.contains_unknowns({"a": ["known"]})
    assert sdk.unknowns_scan_hook() is scan


# --- pulumi_policy.policy._PolicyAnalyzerServicer -----------------------------------------------


def test_policy_analyzer_servicer_takes_a_pack_and_answers_the_cli() -> None:
    servicer_class = resolve(sdk.POLICY_ANALYZER_SERVICER)
    check_callable_with(
        sdk.POLICY_ANALYZER_SERVICER,
        servicer_class,
        ["name", "version", "policies", "enforcement_level"],
    )
    is_analyzer = isinstance(servicer_class, type) and issubclass(
        servicer_class, proto.AnalyzerServicer
    )
    if not is_analyzer:
        change = "it is no longer a pulumi.runtime.proto.AnalyzerServicer"
        fail(sdk.POLICY_ANALYZER_SERVICER.changed(change))
    methods = ("Analyze", "AnalyzeStack", "Configure", "GetAnalyzerInfo")
    missing = [m for m in methods if m not in vars(servicer_class)]
    if missing:
        change = f"it no longer implements {', '.join(missing)}"
        fail(sdk.POLICY_ANALYZER_SERVICER.changed(change))


# --- _internal_init of generated resource classes (pulumi-aws) -----------------------------------


def test_generated_resource_classes_spell_out_their_inputs() -> None:
    name = f"pulumi_aws.ec2.Vpc.{sdk.RESOURCE_INIT}"
    init = getattr(aws.ec2.Vpc, sdk.RESOURCE_INIT, None)
    if init is None:
        fail(sdk.SdkChangedError("pulumi-aws", name))
    expected = {"resource_name", "opts", "cidr_block", "tags"}
    missing = expected - sdk.resource_input_names(aws.ec2.Vpc)
    if missing:
        change = f"its parameters lack {', '.join(sorted(missing))}"
        fail(sdk.SdkChangedError("pulumi-aws", name, change))


# --- _pulumi_name, set by pulumi.getter(name=...) -----------------------------------------------


class _Declared:
    @property
    @pulumi.getter(name="wireName")
    def wire_name(self) -> str:
        return ""


def test_pulumi_getter_keeps_the_wire_name_on_the_getter() -> None:
    if sdk.property_wire_name(_Declared.wire_name) != "wireName":
        name = f"the {sdk.GETTER_WIRE_NAME} attribute pulumi.getter(name=...) sets"
        fail(sdk.SdkChangedError("pulumi", name))


def test_generated_properties_carry_their_wire_name() -> None:
    if sdk.property_wire_name(aws.rds.Instance.storage_encrypted) != "storageEncrypted":
        name = f"{sdk.GETTER_WIRE_NAME} on pulumi_aws.rds.Instance.storage_encrypted"
        fail(sdk.SdkChangedError("pulumi-aws", name))
