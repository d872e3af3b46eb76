"""Generate docs/configuration.md from the settings models, their defaults and prod rules.

The reference is rendered from the code so it cannot drift: a test compares the committed file
with ``render_reference()`` and ``make docs`` rewrites it.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from enum import Enum
from ipaddress import IPv4Network
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from components.base import Environment
from infra.config.defaults import environment_defaults
from infra.config.guardrails import prod_rules
from infra.config.stack import PROJECT, StackConfig

_MISSING = object()

_INTRO = f"""\
# Stack configuration reference

Generated from the settings models by `make docs`; edit the code, not this file.

Each stack reads its configuration from `Pulumi.<stack>.yaml`. Keys of the project live in the
`{PROJECT}:` namespace, one object per concern; `aws:region` picks the region; `pulumi:` keys
are engine options (the stacks set `pulumi:disable-default-providers: [aws]` so that every
resource goes through the program's default-tagged provider). Anything else is an error.

A key the stack file leaves out takes the default of the stack's environment (`dev` or
`prod`, set by `{PROJECT}:environment`). Objects merge key by key with the defaults; lists and
single values replace them. Every value is checked before any resource is declared, and every
problem is reported at once, naming the stack file, the key path, the bad value and what is
allowed:

```
Pulumi.prod.yaml: 1 configuration error; nothing was deployed:
  - {PROJECT}:network.natStrategy = "single": not allowed in prod: with fewer NAT gateways \
than AZs, one AZ outage cuts egress for the others. Prod allows: "one-per-az"
```

Stack names are 1 to 20 lowercase letters, digits or hyphens, starting with a letter, because
they become part of AWS resource names. `aws:region` must be a region of the commercial AWS
partition.

Values that must stay private are set with `pulumi config set --secret <key> <value>`, which
stores them as `secure:` ciphertext; the program keeps them secret (for example alert
addresses become secret subscription endpoints when `{PROJECT}:alerts` is secret). One key holds
a token, `{PROJECT}:vercelApiToken`, and it must be set that way; passwords are generated or
managed by AWS.
"""


def render_reference() -> str:
    defaults = {environment: environment_defaults(environment) for environment in Environment}
    lines = [_INTRO]
    for alias, field in _top_level_fields():
        lines.append(f"## `{alias}`\n")
        if field.description:
            lines.append(f"{field.description}\n")
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__doc__:
                lines.append(f"{_one_line(annotation.__doc__)}\n")
            rows = list(_rows(alias, annotation))
        else:
            rows = [(alias, field)]
        lines.append("| key | type | dev default | prod default | description |")
        lines.append("|---|---|---|---|---|")
        for path, leaf in rows:
            dev, prod = (
                _default(defaults[env], path) for env in (Environment.DEV, Environment.PROD)
            )
            lines.append(
                f"| `{path}` | {_type_name(leaf)} | {dev} | {prod} | "
                f"{_one_line(leaf.description or '')} |"
            )
        lines.append("")
    lines.append("## What prod refuses\n")
    lines.append(
        "A prod stack fails validation when any of these does not hold, whatever its stack file "
        "says. Where a rule of the policy pack ([policies.md](policies.md)) checks the same in the "
        "resources a prod stack declares, it is named; a threshold they share is one constant in "
        "`policy/genericcorp_policy/thresholds.py`.\n"
    )
    lines.append("| key | prod allows | why | policy rule |")
    lines.append("|---|---|---|---|")
    lines += [
        f"| `{path}` | {rule.allowed} | {rule.reason} | "
        f"{f'`{rule.policy}`' if rule.policy else '-'} |"
        for path, rule in prod_rules()
    ]
    return "\n".join(lines) + "\n"


def _top_level_fields() -> Iterator[tuple[str, FieldInfo]]:
    for name, field in StackConfig.model_fields.items():
        yield field.alias or name, field


def _rows(prefix: str, model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        path = f"{prefix}.{field.alias or name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _rows(path, annotation)
            continue
        yield path, field
        if typing.get_origin(annotation) is list and _is_model(
            item := typing.get_args(annotation)[0]
        ):
            # The keys of each list item, e.g. genericcorp:dns.records[].ttl.
            yield from _rows(f"{path}[]", item)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _default(defaults: dict[str, Any], path: str) -> str:
    if "[]" in path:
        return "(each item)"
    top, _, rest = path.partition(".")
    value: Any = defaults.get(top, _MISSING)
    for part in rest.split(".") if rest else []:
        value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
    if value is _MISSING:
        return "required"
    return f"`{json.dumps(_as_written(value))}`"


def _as_written(value: Any) -> Any:
    """Whole numbers of decimal fields as a stack file writes them (``200``, not ``200.0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    return value


def _type_name(field: FieldInfo) -> str:
    name = _annotation_name(field.annotation)
    bounds = []
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            bounds.append(f"≥ {meta.ge}")
        elif isinstance(meta, annotated_types.Gt):
            bounds.append(f"> {meta.gt}")
        elif isinstance(meta, annotated_types.Le):
            bounds.append(f"≤ {meta.le}")
        elif isinstance(meta, annotated_types.Lt):
            bounds.append(f"< {meta.lt}")
        elif isinstance(meta, annotated_types.MinLen) and meta.min_length:
            bounds.append("not empty")
    return f"{name} ({', '.join(bounds)})" if bounds else name


def _annotation_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{json.dumps(a)}`" for a in args)
    if origin is list:
        item = args[0]
        return (
            "list of objects (keys below)"
            if _is_model(item)
            else f"list of {_annotation_name(item)}"
        )
    if origin is dict:
        return f"map of {_annotation_name(args[0])} to {_annotation_name(args[1])}"
    if origin in {typing.Union, types.UnionType}:
        return " or ".join(_annotation_name(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if annotation is type(None):
        return "null"
    if annotation is IPv4Network:
        return "IPv4 CIDR"
    if origin is typing.Annotated or getattr(annotation, "__name__", "") == "EmailStr":
        return "email address"
    return {
        str: "string",
        int: "integer",
        bool: "boolean",
        float: "number",
        type(None): "null",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
