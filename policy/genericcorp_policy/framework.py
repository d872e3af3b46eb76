"""The rule model shared by the policy pack and the offline run.

A rule is plain data plus a check function: the check receives a resource's properties (camelCase,
as pulumi-aws's Check leaves them) and the rule's validated config, and returns violation messages.
``build_policies`` turns the rules into pulumi-policy ``Policy`` objects; ``pulumi preview
--policy-pack policy`` runs those, and ``infractl plan``/``infractl policy`` run the very same
objects over the offline plan's recorded resources.

Properties arrive as pulumi-policy proxies (``Mapping``/``Sequence``, never ``dict``/``list``) that
raise when a value is unknown during a preview; checks only read through the helpers below.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

PACK_NAME = "genericcorp-baseline"

#: Value of the ``Environment`` tag that marks a resource as production.
PROD_ENVIRONMENT = "prod"

#: Name of the advisory policy that reports, outside prod, the controls waived there for cost.
WAIVER_POLICY = "nonprod-cost-waivers"

Props = Mapping[str, Any]
Config = Mapping[str, Any]


class Scope(StrEnum):
    """Which resources a rule holds for."""

    ALL = "all"
    """Every environment: the control costs nothing or is a security invariant."""
    PROD = "prod"
    """Prod only (availability and protection against deletion); not reported elsewhere."""
    PROD_WAIVABLE = "prod, advisory elsewhere"
    """Mandatory in prod; elsewhere the control may be waived because its cost is the point
    (WAF, Multi-AZ, log ingestion), and the waiver is reported by an advisory policy."""


class PolicyConfigError(ValueError):
    """A policy-pack config value has the wrong type or is out of range."""


@dataclass(frozen=True)
class Resource:
    """A resource as a stack rule sees it (props are outputs, with inputs where not computed)."""

    type: str
    name: str
    urn: str
    props: Props
    protect: bool = False


ResourceCheck = Callable[[Props, Config], Iterable[str]]
StackCheck = Callable[
    [Sequence[Resource], Sequence[Resource], Config], Iterable[tuple[str, str | None]]
]
"""``check(subjects, everything, config)`` yields ``(message, urn of the offending resource)``."""


@dataclass(frozen=True)
class Rule:
    """One control (or a small family) checked on resources of some types."""

    name: str
    control: str
    """FSBP control id(s), e.g. ``RDS.2``; empty for project rules."""
    description: str
    types: tuple[str, ...]
    check: ResourceCheck = field(repr=False)
    scope: Scope = Scope.ALL
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON schema of each config property, with its ``default``."""
    reads: tuple[str, ...] = ()
    """Top-level properties the check reads (tested against the pulumi-aws SDK)."""
    needs_protect: bool = False
    """The check reads the ``protect`` resource option, passed as the ``__protect`` prop."""


@dataclass(frozen=True)
class StackRule:
    """A rule over the whole stack: relations between resources (a bucket and its settings)."""

    name: str
    control: str
    description: str
    subjects: tuple[str, ...]
    """Types the rule is about; the scope (prod or not) is decided per subject."""
    check: StackCheck = field(repr=False)
    scope: Scope = Scope.ALL
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


AnyRule = Rule | StackRule


# --- reading properties through pulumi-policy's proxies -------------------------------------


def get(props: Any, path: str) -> Any:
    """The value at a dotted path (``vpcConfig.endpointPublicAccess``), None when absent."""
    value = props
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]  # pyright: ignore[reportUnknownVariableType]
    return value


def peek(props: Any, path: str) -> Any:
    """Like ``get``, but a value a preview cannot know comes back as an ``Unknown`` instead of
    raising, so a stack rule can decide on the values it knows and give up (re-raise) only when
    the answer depends on an unknown one."""
    try:
        return get(props, path)
    except UnknownValueError as error:
        return Unknown(error)


@dataclass(frozen=True)
class Unknown:
    """A value unknown during a preview; ``error`` is what reading it raised."""

    error: UnknownValueError


def items(value: Any) -> list[Any]:
    """A list property as a list (an absent value is empty; a single object is one item)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence):
        return [value[i] for i in range(len(value))]  # pyright: ignore[reportUnknownArgumentType]
    return [value]


def is_true(value: Any) -> bool:
    """True for ``True`` and for the string ``"true"`` (launch templates type booleans as text)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def number(value: Any) -> float | None:
    """A numeric property (protobuf delivers integers as floats); None when absent or not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def tags_of(props: Props) -> Mapping[str, Any]:
    """All tags a resource gets: ``tagsAll`` (provider default tags merged in) or ``tags``."""
    for key in ("tagsAll", "tags"):
        value = get(props, key)
        if isinstance(value, Mapping):
            return value  # pyright: ignore[reportUnknownVariableType]
    return {}


def environment_of(props: Props) -> str | None:
    value = tags_of(props).get("Environment")
    return value if isinstance(value, str) else None


def is_prod(props: Props) -> bool:
    return environment_of(props) == PROD_ENVIRONMENT


# --- config ----------------------------------------------------------------------------------


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int, float),
    "array": (list, tuple),
}


def _type_error(schema: Mapping[str, Any], value: Any) -> str | None:
    expected = schema["type"]
    if isinstance(value, bool) and expected in ("number", "integer"):
        return f"expected {'a whole number' if expected == 'integer' else 'a number'}"
    if not isinstance(value, _JSON_TYPES[expected]) and not (
        expected == "array" and isinstance(value, Sequence) and not isinstance(value, str)
    ):
        article = "an" if expected[0] in "aeiou" else "a"
        return f"expected {article} {expected}, got {type(value).__name__}"
    if expected == "integer" and not float(value).is_integer():  # pyright: ignore[reportArgumentType]
        return "expected a whole number"
    if expected in ("number", "integer"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"must be at most {schema['maximum']}"
    if expected == "array":
        values = list(value)  # pyright: ignore[reportArgumentType]
        if len(values) < schema.get("minItems", 0):
            return f"needs at least {schema['minItems']} item(s)"
        for index, item in enumerate(values):
            problem = _type_error(schema["items"], item)
            if problem:
                return f"item {index}: {problem}"
    if "enum" in schema and value not in schema["enum"]:
        return "must be one of " + ", ".join(map(str, schema["enum"]))
    return None


def rule_config(rule: AnyRule, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's config: defaults overlaid with ``given``, every value checked against its schema.

    The pulumi CLI checks pack config against each policy's schema too; this check makes the
    offline run (which has no CLI) and a misconfigured pack fail with the same clear message.
    """
    given = dict(given or {})
    given.pop("enforcementLevel", None)
    unknown = sorted(set(given) - set(rule.config))
    if unknown:
        allowed = ", ".join(sorted(rule.config)) or "none"
        raise PolicyConfigError(
            f"policy pack config {rule.name}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {allowed}"
        )
    config: dict[str, Any] = {}
    for key, schema in rule.config.items():
        value = given.get(key, schema["default"])
        problem = _type_error(schema, value)
        if problem:
            raise PolicyConfigError(f"policy pack config {rule.name}.{key} = {value!r}: {problem}")
        config[key] = (
            list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
        )
    return config


def _schema(rule: AnyRule) -> PolicyConfigSchema | None:
    if not rule.config:
        return None
    return PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()})


# --- rules -> pulumi-policy policies ----------------------------------------------------------


def provider_default_tags(provider: Any) -> dict[str, Any]:
    """The ``defaultTags.tags`` of a resource's AWS provider (the SDK sends them as JSON text)."""
    if provider is None or not str(getattr(provider, "resource_type", "")).endswith(":aws"):
        return {}
    value = get(provider.props, "defaultTags")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    tags = get(value, "tags")
    return {str(k): tags[k] for k in tags} if isinstance(tags, Mapping) else {}


def effective_props(args: ResourceValidationArgs, rule: Rule | None = None) -> Props:
    """The props a check sees: the resource's inputs, plus

    - ``tagsAll`` where pulumi-aws's Check did not add it (it does for SDKv2-based types; for
      plugin-framework types such as ``aws.vpc.SecurityGroupIngressRule`` the analyzer sees only
      ``tags``): the provider's default tags merged with the resource's own, as AWS will apply;
    - ``__protect``, the resource's ``protect`` option, for rules that need it.
    """
    extra: dict[str, Any] = {}
    if "tags" in args.props and "tagsAll" not in args.props:
        own = get(args.props, "tags")
        extra["tagsAll"] = {
            **provider_default_tags(args.provider),
            **({k: own[k] for k in own} if isinstance(own, Mapping) else {}),
        }
    if rule is not None and rule.needs_protect:
        extra["__protect"] = bool(args.opts.protect) if args.opts else False
    return _Augmented(args.props, extra) if extra else args.props


class _Augmented(Mapping[str, Any]):
    """Read-only props with a few derived keys added."""

    def __init__(self, props: Props, extra: Mapping[str, Any]) -> None:
        self._props = props
        self._extra = dict(extra)

    def __getitem__(self, key: str) -> Any:
        if key in self._extra:
            return self._extra[key]
        return self._props[key]

    def __iter__(self) -> Any:
        yield from self._props
        yield from (k for k in self._extra if k not in self._props)

    def __len__(self) -> int:
        return len(set(self._props) | set(self._extra))


def in_scope(scope: Scope, props: Props, *, waived: bool) -> bool:
    """Whether a resource is checked by a rule's mandatory policy or by the waiver policy."""
    if scope is Scope.ALL:
        return not waived
    prod = is_prod(props)
    if waived:
        return scope is Scope.PROD_WAIVABLE and not prod
    return prod


def _prefix(rule: AnyRule, waived: bool) -> str:
    return f"{rule.name} ({rule.control}) is waived outside prod: " if waived else ""


def _resource_validator(
    rule: Rule, *, waived: bool
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        props = effective_props(args, rule)
        if not in_scope(rule.scope, props, waived=waived):
            return
        # The waiver policy has no config of its own: it reports against the rule's defaults.
        config = rule_config(rule, None if waived else args.get_config())
        for message in rule.check(props, config):
            report_violation(_prefix(rule, waived) + message, None)

    return validate


def _stack_validator(
    rules: Sequence[StackRule], *, waived: bool
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        everything = [
            Resource(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                props=r.props,
                protect=bool(r.opts.protect) if r.opts else False,
            )
            for r in args.resources
        ]
        for rule in rules:
            config = rule_config(rule, None if waived else args.get_config())
            subjects = [
                r
                for r in everything
                if r.type in rule.subjects and in_scope(rule.scope, r.props, waived=waived)
            ]
            if not subjects:
                continue
            for message, urn in rule.check(subjects, everything, config):
                report_violation(_prefix(rule, waived) + message, urn)

    return validate


def describe(rule: AnyRule) -> str:
    control = f"FSBP {rule.control}: " if rule.control else ""
    scope = "" if rule.scope is Scope.ALL else f" [{rule.scope}]"
    return f"{control}{rule.description}{scope}"


def build_policies(rules: Sequence[AnyRule]) -> list[Policy]:
    """One mandatory policy per rule, plus the advisory policies that report, outside prod, the
    controls waived there for cost."""
    policies: list[Policy] = []
    for rule in rules:
        if isinstance(rule, Rule):
            policies.append(
                ResourceValidationPolicy(
                    name=rule.name,
                    description=describe(rule),
                    validate=_resource_validator(rule, waived=False),
                    enforcement_level=EnforcementLevel.MANDATORY,
                    config_schema=_schema(rule),
                )
            )
        else:
            policies.append(
                StackValidationPolicy(
                    name=rule.name,
                    description=describe(rule),
                    validate=_stack_validator([rule], waived=False),
                    enforcement_level=EnforcementLevel.MANDATORY,
                    config_schema=_schema(rule),
                )
            )
    waivable = [r for r in rules if r.scope is Scope.PROD_WAIVABLE]
    resource_waivers = [r for r in waivable if isinstance(r, Rule)]
    stack_waivers = [r for r in waivable if isinstance(r, StackRule)]
    controls = ", ".join(r.control for r in waivable)
    if resource_waivers:
        policies.append(
            ResourceValidationPolicy(
                name=WAIVER_POLICY,
                description=f"Controls a non-prod stack may waive for cost ({controls}); "
                "mandatory in prod",
                validate=[_resource_validator(r, waived=True) for r in resource_waivers],
                enforcement_level=EnforcementLevel.ADVISORY,
            )
        )
    if stack_waivers:
        policies.append(
            StackValidationPolicy(
                name=f"{WAIVER_POLICY}-stack",
                description=f"Controls a non-prod stack may waive for cost ({controls}); "
                "mandatory in prod",
                validate=_stack_validator(stack_waivers, waived=True),
                enforcement_level=EnforcementLevel.ADVISORY,
            )
        )
    return policies


_LEVELS = {level.value: level for level in EnforcementLevel}


def enforcement_overrides(
    policies: Sequence[Policy], pack_config: Mapping[str, Any]
) -> dict[str, EnforcementLevel]:
    """Each policy's enforcement level after a pack config (the ``--policy-pack-config`` file's
    format: ``{"all": "advisory", "<policy>": "disabled" | {"enforcementLevel": ..., ...}}``)."""
    default = pack_config.get("all")
    levels: dict[str, EnforcementLevel] = {}
    for policy in policies:
        value = pack_config.get(policy.name, default)
        if isinstance(value, Mapping):
            value = value.get("enforcementLevel", default)  # pyright: ignore[reportUnknownMemberType]
        levels[policy.name] = (
            _LEVELS[value] if isinstance(value, str) else policy.enforcement_level
        ) or EnforcementLevel.ADVISORY
    return levels


def check_pack_config(rules: Sequence[AnyRule], pack_config: Any) -> None:
    """Refuse a pack config with an unknown policy, a bad level or a badly typed value, all
    before any resource is checked (the pulumi CLI does the same against the policies' schemas)."""
    if not isinstance(pack_config, Mapping):
        raise PolicyConfigError(
            "policy pack config must be a JSON object of policy names, got "
            f"{type(pack_config).__name__}"
        )
    by_name = {rule.name: rule for rule in rules}
    known = {*by_name, WAIVER_POLICY, f"{WAIVER_POLICY}-stack", "all"}
    for name, value in pack_config.items():  # pyright: ignore[reportUnknownVariableType]
        if name not in known:
            raise PolicyConfigError(f"policy pack config: no policy named {name!r}")
        level = value.get("enforcementLevel") if isinstance(value, Mapping) else value  # pyright: ignore[reportUnknownMemberType]
        if level is not None and level not in _LEVELS:
            raise PolicyConfigError(
                f"policy pack config {name}: enforcement level {level!r} is not one of "
                + ", ".join(sorted(_LEVELS))
            )
        if isinstance(value, Mapping) and name in by_name:
            rule_config(by_name[name], value)  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(value, Mapping) and set(value) - {"enforcementLevel"}:  # pyright: ignore[reportUnknownArgumentType]
            raise PolicyConfigError(f"policy pack config {name}: takes only enforcementLevel")
