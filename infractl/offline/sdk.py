"""The one place the project uses private names of the Pulumi SDKs, behind public-named wrappers.

The offline plan drives the SDK in ways its public API does not cover (running a program to
completion on the SDK's own event loop, skipping the per-resource stack capture), the tests drive
a policy pack's analyzer without a gRPC server, and both read facts the generated provider SDKs
keep under private names. Each wrapper says what it wraps and why nothing public does the job.

Private names are looked up when a wrapper runs, not when this module is imported: an SDK release
that drops or changes one fails with ``SdkChangedError``, naming the installed version and the
name, instead of an ``ImportError`` before any test or command can say what happened.
``tests/test_sdk_shim.py`` checks every name and its shape against the installed SDKs, and
``pyproject.toml`` pins pulumi to the minor range those tests have run on.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pulumi.runtime import known_types
from pulumi.runtime.proto import source_pb2

if TYPE_CHECKING:
    from pulumi.runtime import proto
    from pulumi_policy import EnforcementLevel, Policy

T = TypeVar("T")

#: Where to adapt the project when an SDK upgrade changes a name below.
SHIM_PATH = "infractl/offline/sdk.py"


class SdkChangedError(RuntimeError):
    """An installed SDK no longer has a private name this module wraps, or changed its shape."""

    def __init__(self, distribution: str, name: str, change: str | None = None) -> None:
        what = f"changed {name}: {change}" if change else f"no longer has {name}"
        super().__init__(f"{distribution} {version(distribution)} {what}; update {SHIM_PATH}")


@dataclass(frozen=True)
class PrivateName:
    """A module-level private name of an installed SDK distribution."""

    distribution: str
    """The distribution that ships the name (its installed version goes into error messages)."""
    module: str
    attribute: str

    def __str__(self) -> str:
        return f"{self.module}.{self.attribute}"

    def resolve(self) -> Any:
        """The object the name holds now; ``SdkChangedError`` when the SDK has no such name."""
        try:
            return getattr(importlib.import_module(self.module), self.attribute)
        except (ImportError, AttributeError):
            raise SdkChangedError(self.distribution, str(self)) from None

    def replace(self, value: object) -> None:
        """Rebind the name in its module, for the SDK's own code to find at its next call."""
        setattr(importlib.import_module(self.module), self.attribute, value)

    def changed(self, change: str) -> SdkChangedError:
        """The error for a name that still exists but no longer has the shape used here."""
        return SdkChangedError(self.distribution, str(self), change)


SYNC_AWAIT = PrivateName("pulumi", "pulumi.runtime.sync_await", "_sync_await")
STACK_TRACE = PrivateName("pulumi", "pulumi.runtime.resource", "_get_stack_trace")
#: Not underscored, but a function of an internal module that pulumi's public API does not export.
UNKNOWNS_SCAN = PrivateName("pulumi", "pulumi.runtime.rpc", "contains_unknowns")
POLICY_ANALYZER_SERVICER = PrivateName(
    "pulumi-policy", "pulumi_policy.policy", "_PolicyAnalyzerServicer"
)
#: The method pulumi's code generator writes into every provider resource class (pulumi-aws).
RESOURCE_INIT = "_internal_init"
#: The attribute ``pulumi.getter(name=...)`` sets on the getter it decorates.
GETTER_WIRE_NAME = "_pulumi_name"


def run_to_completion(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion on the SDK's event loop and return its result.

    Wraps ``pulumi.runtime.sync_await._sync_await``: the SDK's own ``pulumi.runtime.test``
    decorator and its mocks run programs and serialization with it, on the thread's one event
    loop and re-entrantly. There is no public equivalent: ``pulumi.runtime.test``, the public
    route, only decorates a test function (and resets runtime state the engine sets up itself).
    """
    sync_await: Callable[[Awaitable[T]], T] = SYNC_AWAIT.resolve()
    return sync_await(awaitable)


@contextmanager
def stack_capture_disabled() -> Generator[None]:
    """Skip the SDK's per-resource stack capture inside the block; restore it on the way out.

    Wraps ``pulumi.runtime.resource._get_stack_trace``, which the SDK calls for every resource
    registration to walk and format the whole Python stack, so that the pulumi engine can point
    its messages at program lines; the mock monitor discards it, and it is a third of the offline
    plan's time with hundreds of tenants (docs/benchmarks.md). The SDK has no setting to turn it
    off: the only way is to rebind the module-level function its registration code calls.
    """
    capture = STACK_TRACE.resolve()
    STACK_TRACE.replace(_no_stack_trace)
    try:
        yield
    finally:
        STACK_TRACE.replace(capture)


def stack_trace_hook() -> Callable[[], source_pb2.StackTrace]:
    """The function the SDK calls now for a registration's stack trace.

    Reads ``pulumi.runtime.resource._get_stack_trace`` (see ``stack_capture_disabled``), so that
    tests can check that an offline run gives the SDK back its own capture; nothing public
    exposes it.
    """
    return STACK_TRACE.resolve()


def _no_stack_trace() -> source_pb2.StackTrace:
    """Stands in for the SDK's stack capture: an empty trace, which the SDK accepts as "none"."""
    return source_pb2.StackTrace()


@contextmanager
def acyclic_unknowns_scan() -> Generator[None]:
    """Inside the block, the SDK scans values for unknowns with ``contains_unknowns`` below,
    which leaves no reference cycles; its own scan is restored on the way out.

    Wraps ``pulumi.runtime.rpc.contains_unknowns``, which the SDK calls for every Output it
    resolves, several hundred times a tenant. It defines a recursive inner function at each
    call, and a function that calls itself through its closure is a reference cycle: every call
    leaves the function, its cell and its annotations to the cyclic collector. The offline plan
    pauses that collector for the run and collects once at the end (``engine._collector_paused``),
    so these made up two thirds of the objects the end of a 500-tenant plan had to scan and free
    (docs/benchmarks.md). The SDK's callers look the name up at each call (``pulumi.output``
    through the module, ``pulumi.runtime.rpc`` as a global), so rebinding it reaches them all.
    """
    scan = UNKNOWNS_SCAN.resolve()
    UNKNOWNS_SCAN.replace(contains_unknowns)
    try:
        yield
    finally:
        UNKNOWNS_SCAN.replace(scan)


def unknowns_scan_hook() -> Callable[[Any], bool]:
    """The function the SDK calls now to scan a value for unknowns (see
    ``acyclic_unknowns_scan``), so that tests can check that a run gives the SDK back its own."""
    return UNKNOWNS_SCAN.resolve()


def contains_unknowns(value: Any) -> bool:
    """Whether ``value`` is an unknown or holds one in its dicts and lists, as the SDK's own
    ``pulumi.runtime.rpc.contains_unknowns`` answers (each object visited once)."""
    return _holds_unknown(value, set())


def _holds_unknown(value: Any, seen_ids: set[int]) -> bool:
    if known_types.is_unknown(value):
        return True
    if id(value) in seen_ids:
        return False
    seen_ids.add(id(value))
    if isinstance(value, dict):
        # By key, not .values(): a provider SDK's output types are dicts whose attributes can
        # shadow the dict's methods (an input with a ``values`` field, say).
        return any(_holds_unknown(value[key], seen_ids) for key in value)
    if isinstance(value, list):
        return any(_holds_unknown(item, seen_ids) for item in value)
    return False


class PolicyAnalyzer(Protocol):
    """The gRPC analyzer a policy pack serves to the pulumi CLI, called directly (context None)."""

    def Analyze(  # noqa: N802 - gRPC method name
        self, request: proto.AnalyzeRequest, context: None, /
    ) -> proto.AnalyzeResponse: ...

    def AnalyzeStack(  # noqa: N802 - gRPC method name
        self, request: proto.AnalyzeStackRequest, context: None, /
    ) -> proto.AnalyzeResponse: ...

    def Configure(  # noqa: N802 - gRPC method name
        self, request: proto.ConfigureAnalyzerRequest, context: None, /
    ) -> object: ...

    def GetAnalyzerInfo(  # noqa: N802 - gRPC method name
        self, request: None, context: None, /
    ) -> proto.AnalyzerInfo: ...


def policy_analyzer_servicer(
    pack_name: str,
    pack_version: str,
    policies: list[Policy],
    enforcement_level: EnforcementLevel,
) -> PolicyAnalyzer:
    """The analyzer ``pulumi_policy.PolicyPack`` would serve for these policies, without a server.

    Wraps ``pulumi_policy.policy._PolicyAnalyzerServicer``. The public ``PolicyPack`` builds the
    same servicer but then starts a gRPC server and waits for the pulumi CLI forever; pulumi-policy
    has no public way to get the analyzer alone, which tests need to send it the requests the CLI
    sends.
    """
    servicer_class = POLICY_ANALYZER_SERVICER.resolve()
    return servicer_class(pack_name, pack_version, policies, enforcement_level)


def resource_input_names(resource_class: type) -> frozenset[str]:
    """The parameter names of a provider resource class's constructor body (``resource_name``,
    ``opts`` and each input, such as ``tags``); empty for a class without one.

    Wraps ``_internal_init``, the method pulumi's code generator writes into every resource class
    of a provider SDK such as pulumi-aws. The public ``__init__`` takes ``*args, **kwargs`` (it
    dispatches between two overloads), so its signature names no inputs; besides
    ``_internal_init`` they are spelt out only in the ``<Resource>Args`` class, whose name is a
    generator convention as well and which a resource with no inputs does not have.
    """
    init = getattr(resource_class, RESOURCE_INIT, None)
    return frozenset(inspect.signature(init).parameters) if init is not None else frozenset()


def property_wire_name(getter: property) -> str | None:
    """The Pulumi (camelCase) name an SDK class's property was declared with, such as
    ``storageEncrypted``; None for a property not declared with ``pulumi.getter(name=...)``.

    Wraps ``_pulumi_name``, which that decorator sets on the getter function. pulumi has no
    public reader for it: the mapping from Python to Pulumi names lives in the private module
    ``pulumi._types``.
    """
    return getattr(getter.fget, GETTER_WIRE_NAME, None)
