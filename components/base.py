"""What every component shares: the stack context, the settings base model and tagging.

Nothing here declares a resource. Components import these so that naming, tags and the
shape of settings are the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar, cast, get_args, get_origin

import pulumi
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Environment(StrEnum):
    """The two environment profiles. Prod is held to the 99.9% uptime target."""

    DEV = "dev"
    PROD = "prod"


class SettingsModel(BaseModel):
    """Base of every settings object read from stack config.

    Keys are camelCase as in ``Pulumi.<stack>.yaml``; unknown keys are errors (a typo must never
    be ignored); values are validated strictly against their JSON types (``"3"`` is not a number).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
        use_enum_values=False,
    )


@dataclass(frozen=True)
class StackContext:
    """Facts about the stack that every component needs to name and scope its resources."""

    project: str
    """Pulumi project name; first part of every physical name."""
    stack: str
    """Pulumi stack name (``dev``, ``prod``)."""
    environment: Environment
    """Environment profile of the stack."""
    region: str
    """AWS region the stack deploys into."""
    account_id: str
    """AWS account id, for ARNs and confused-deputy conditions in resource policies."""
    partition: str = "aws"
    """AWS partition (``aws``, ``aws-us-gov``, ``aws-cn``)."""

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    def physical_name(self, *parts: str) -> str:
        """A physical name unique per project and stack, e.g. ``genericcorp-dev-alerts``."""
        return "-".join((self.project, self.stack, *parts))

    def path(self, *parts: str) -> str:
        """A slash path unique per project and stack, e.g. ``/genericcorp/dev/vpc/flow-logs``."""
        return "/" + "/".join((self.project, self.stack, *parts))

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this stack's account (and region unless ``region=False``)."""
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


class PlatformComponent(pulumi.ComponentResource):
    """A component whose children all carry its ``Component`` cost-allocation tag.

    Provider default tags add Project, Environment, ManagedBy and CostCenter to every taggable
    resource; the Component tag comes from here because it differs per component.
    """

    TYPE: ClassVar[str]
    """The Pulumi type token, ``genericcorp:<area>:<Name>``: part of every child's URN."""
    COMPONENT: ClassVar[str]
    """The ``Component`` cost-allocation tag of the component and its children."""

    def __init__(
        self,
        name: str,
        *,
        context: StackContext,
        component_tag: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Register the component as ``TYPE`` named ``name``; its children are tagged
        ``component_tag`` (the class's ``COMPONENT`` unless an owner lends its own)."""
        super().__init__(self.TYPE, name, None, opts)
        self.context = context
        self.component_tag = component_tag or self.COMPONENT

    def tags(self, name: str | None = None, **extra: str) -> dict[str, str]:
        """Tags for a child: the Component tag, a ``Name`` for the console, and any extras."""
        tags = {"Component": self.component_tag}
        if name is not None:
            tags["Name"] = self.context.physical_name(name)
        tags.update(extra)
        return tags

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Resource options that parent a child to this component (and so to its provider)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)

    OUTPUTS: ClassVar[Mapping[str, str]] = {}
    """The component's outputs (camelCase key -> description): what it registers, what the
    stack exports under the component's output name, and what the README's table lists."""

    outputs: dict[str, Any]
    """The registered outputs, keyed as ``OUTPUTS`` declares them."""

    def publish(self, outputs: Mapping[str, Any]) -> None:
        """Register ``outputs``: exactly the keys ``OUTPUTS`` declares, no more, no fewer."""
        declared, given = set(self.OUTPUTS), set(outputs)
        if declared != given:
            raise TypeError(
                f"{type(self).__name__} publishes {sorted(given)} but declares "
                f"{sorted(declared)} in OUTPUTS (missing: {sorted(declared - given)}, "
                f"undeclared: {sorted(given - declared)})"
            )
        self.outputs = {key: outputs[key] for key in self.OUTPUTS}
        self.register_outputs(self.outputs)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document as JSON; statements may hold Outputs (ARNs of other resources)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def static_policy_document(statements: Sequence[Mapping[str, Any]]) -> str:
    """An IAM policy document as JSON for statements that hold only plain values."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


# --- defaults per environment and prod rules ------------------------------------------------
# Each settings model declares, at the end of its own file, what a stack gets when its stack file
# leaves a key out (per environment) and what a prod stack may not weaken. StackConfig attaches
# them to its keys (infra/config/stack.py); the loader and docs/configuration.md read them there.

_T = TypeVar("_T")
_P = ParamSpec("_P")
_M = TypeVar("_M", bound=BaseModel)
_V = TypeVar("_V")


@dataclass(frozen=True)
class ByEnvironment(Generic[_T]):
    """One value per environment profile, e.g. a settings model's defaults in dev and in prod."""

    dev: _T
    prod: _T

    @classmethod
    def same(cls, value: _T) -> ByEnvironment[_T]:
        """The same value in every environment."""
        return cls(dev=value, prod=value)

    def of(self, environment: Environment) -> _T:
        return {Environment.DEV: self.dev, Environment.PROD: self.prod}[environment]


def unvalidated(model: Callable[_P, _M]) -> Callable[_P, _M]:
    """``model``'s constructor, type-checked like ``model(...)`` but without its validation.

    For a default that is incomplete by design, such as a cluster whose administrators only the
    stack file can name: it cannot pass the model's own checks alone, and the loader validates it
    once the stack file is merged over it.
    """

    def construct(*args: _P.args, **kwargs: _P.kwargs) -> _M:
        if args:
            raise TypeError(f"{model!r} takes keyword arguments only")
        return cast("type[_M]", model).model_construct(**kwargs)

    return construct


@dataclass(frozen=True)
class ProdRefusal:
    """A setting a prod stack may not have, as plain data (infra phrases the error)."""

    path: str
    """Key path relative to the settings' own key, e.g. ``flowLogs.retentionDays``."""
    value: object
    allowed: str
    reason: str


@dataclass(frozen=True)
class ProdRule(Generic[_M, _V]):
    """A setting prod holds to, whatever the stack file says.

    ``key`` names the setting through the model (``lambda s: s.flow_logs.enabled``), so pyright
    checks the name and ``accepts`` gets the setting's type; the key path that errors and
    docs/configuration.md show (``flowLogs.enabled``) is derived from the same function.
    """

    model: type[_M]
    key: Callable[[_M], _V]
    """Reads the setting; a list comprehension over a list of objects reads each item's field
    (``lambda s: [g.min_size for g in s.node_groups]`` is ``nodeGroups[].minSize``)."""
    accepts: Callable[[_V], bool]
    allowed: str
    """What prod accepts, in words."""
    reason: str
    """Why prod needs it."""
    policy: str | None = None
    """The policy-pack rule that holds the declared resources to the same threshold (its
    number comes from ``genericcorp_policy.thresholds``), if there is one."""
    path: str = field(init=False)
    """Key path relative to the settings' own key, derived from ``key``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", key_path(self.model, self.key))

    def refusal(self, settings: _M) -> ProdRefusal | None:
        """What is wrong with ``settings`` for prod, or None when the rule holds."""
        value = self.key(settings)
        if self.accepts(value):
            return None
        return ProdRefusal(self.path, value, self.allowed, self.reason)


def switched_on(
    model: type[_M], *, key: Callable[[_M], bool], reason: str, policy: str | None = None
) -> ProdRule[_M, bool]:
    """A prod rule for a switch that prod keeps on (``true`` is the only value allowed)."""
    return ProdRule(
        model, key=key, accepts=lambda on: on is True, allowed="true", reason=reason, policy=policy
    )


def key_path(model: type[BaseModel], key: Callable[[Any], object]) -> str:
    """The key path (aliases as in the stack file) of the one setting ``key`` reads.

    ``key`` runs once on a stand-in for ``model`` that records each field it reads, so a name
    that is not a field (a typo, a property) fails here, when the rule is declared.
    """
    reads: list[tuple[str, ...]] = []
    key(_FieldRecorder(model, (), reads))
    leaves = {path for path in reads if not any(_extends(other, path) for other in reads)}
    if len(leaves) != 1:
        shown = ", ".join(sorted(_render_path(path) for path in leaves)) or "nothing"
        raise ValueError(f"a prod rule's key must read one setting of {model.__name__}: {shown}")
    return _render_path(leaves.pop())


def _extends(path: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    return len(path) > len(prefix) and path[: len(prefix)] == prefix


def _render_path(path: tuple[str, ...]) -> str:
    """``("nodeGroups", "[]", "capacityType")`` -> ``nodeGroups[].capacityType``."""
    text = ""
    for part in path:
        text += part if part == "[]" or not text else f".{part}"
    return text


def _stand_in(annotation: Any, path: tuple[str, ...], reads: list[tuple[str, ...]]) -> object:
    """What reading a field of this type returns while a key path is recorded."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _FieldRecorder(annotation, path, reads)
    if get_origin(annotation) is list:
        return _ItemRecorder(get_args(annotation)[0], path, reads)
    return object()


class _FieldRecorder:
    """Stands in for a settings object: each field read is recorded by its alias."""

    def __init__(
        self, model: type[BaseModel], path: tuple[str, ...], reads: list[tuple[str, ...]]
    ) -> None:
        self._model = model
        self._path = path
        self._reads = reads

    def __getattr__(self, name: str) -> object:
        field_info = self._model.model_fields.get(name)
        if field_info is None:
            raise AttributeError(
                f"{self._model.__name__} has no field {name!r}; a prod rule reads fields only"
            )
        path = (*self._path, field_info.alias or name)
        self._reads.append(path)
        return _stand_in(field_info.annotation, path, self._reads)


class _ItemRecorder:
    """Stands in for a list: iterating it yields one item, whose reads carry ``[]``."""

    def __init__(self, item: Any, path: tuple[str, ...], reads: list[tuple[str, ...]]) -> None:
        self._item = item
        self._path = path
        self._reads = reads

    def __iter__(self) -> Iterator[object]:
        path = (*self._path, "[]")
        self._reads.append(path)
        yield _stand_in(self._item, path, self._reads)
