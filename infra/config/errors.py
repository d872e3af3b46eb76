"""Configuration errors naming the stack file, the key path, the bad value and what is allowed."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

#: Stands in for "no value" where a key is missing, as opposed to a value of null.
MISSING: Any = object()

_JSON_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "a whole number",
    float: "a decimal number",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a stack's configuration."""

    path: str
    """Full key path as written in the stack file, e.g. ``genericcorp:network.natStrategy``."""
    message: str
    """What is wrong and what is allowed instead."""
    value: Any = MISSING
    """The offending value, or ``MISSING`` when the key is absent."""
    secret: bool = False
    """True when the value came from a ``secure:`` key and must not be printed."""

    def render(self) -> str:
        if self.value is MISSING:
            return f"{self.path}: {self.message}"
        shown = "[secret]" if self.secret else _show(self.value)
        return f"{self.path} = {shown}: {self.message}"


class ConfigError(pulumi.RunError):
    """Stack configuration is invalid; raised before any resource is declared.

    A ``pulumi.RunError`` so that ``pulumi preview`` prints the message without a traceback.
    """

    def __init__(self, stack_file: str, problems: Sequence[ConfigProblem]) -> None:
        self.stack_file = stack_file
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = [f"{self.stack_file}: {count} configuration {noun}; nothing was deployed:"]
        lines += [f"  - {problem.render()}" for problem in self.problems]
        return "\n".join(lines)


def _show(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def join_path(loc: Iterable[int | str]) -> str:
    """``("genericcorp:alerts", "emails", 0)`` -> ``genericcorp:alerts.emails[0]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def problems_from_validation_error(
    error: ValidationError, model: type[BaseModel], secret_keys: frozenset[str] = frozenset()
) -> list[ConfigProblem]:
    """Translate pydantic's errors into problems phrased for someone editing a stack file."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        top_key = str(loc[0]) if loc else ""
        value = MISSING if detail["type"] == "missing" else detail["input"]
        problems.append(
            ConfigProblem(
                path=join_path(loc),
                message=_describe(detail, model),
                value=value,
                secret=top_key in secret_keys,
            )
        )
    return problems


def _describe(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx", {})
    got = _JSON_TYPE_NAMES.get(type(detail["input"]), type(detail["input"]).__name__)
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(detail["loc"], model)
    if kind in {"enum", "literal_error"}:
        return f"not allowed; expected one of {ctx.get('expected')}"
    expected_type = {
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "int_parsing": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "an object (a mapping of keys to values)",
        "model_type": "an object (a mapping of keys to values)",
        "model_attributes_type": "an object (a mapping of keys to values)",
    }.get(kind)
    if expected_type:
        return f"expected {expected_type}, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {_number(ctx['ge'])}"
    if kind == "less_than_equal":
        return f"must be at most {_number(ctx['le'])}"
    if kind == "greater_than":
        return f"must be greater than {_number(ctx['gt'])}"
    if kind == "less_than":
        return f"must be less than {_number(ctx['lt'])}"
    if kind == "too_short":
        return f"must hold at least {ctx['min_length']} item(s)"
    if kind == "too_long":
        return f"may hold at most {ctx['max_length']} item(s)"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return detail["msg"]


def _number(value: Any) -> Any:
    """``0.0`` -> ``0``: bounds of decimal fields read as written in a stack file."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _unknown_key(loc: tuple[int | str, ...], model: type[BaseModel]) -> str:
    allowed = allowed_keys(model, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    message = f"unknown key; did you mean {close[0]!r}?" if close else "unknown key."
    return message + (f" Allowed keys here: {', '.join(allowed)}" if allowed else "")


def allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the model accepts at ``loc`` (aliases as written in the stack file)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = _field_by_alias(current, str(part))
        if field is None:
            return []
        current = field.annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or name for name, f in current.model_fields.items())
    return []


def _field_by_alias(model: Any, alias: str) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, field in model.model_fields.items():
        if alias in {name, field.alias}:
            return field
    return None
