"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the pulumi CLI hands them to a program.

The CLI passes every config value to the program as a string: objects and lists as JSON text,
scalars as their text. ``secure:`` values cannot be decrypted without the stack's secrets
provider, so offline they become a placeholder and their key is marked secret, as the CLI would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Offline stand-in for a value encrypted with the stack's secrets provider. Shaped as an email
#: address on a reserved domain so that it passes the string and address checks of config that
#: may be secret; it is masked like the real value wherever it appears.
SECRET_PLACEHOLDER = "offline-secret@example.com"

#: The repository root, where Pulumi.yaml and the stack files live.
PROJECT_DIR = Path(__file__).resolve().parents[2]
_STACK_FILE_NAME = re.compile(r"Pulumi\.([^.]+)\.yaml")


class StackFileError(Exception):
    """The stack does not exist or its file cannot be read."""


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    path: Path
    values: dict[str, Any]
    """Config keys to decoded values (objects stay objects), as written in the file."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)

    def wire_config(self) -> dict[str, str]:
        """Config as the pulumi CLI passes it to the program: every value a string."""
        return {key: _wire(value) for key, value in self.values.items()}


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    document = _load_yaml(project_dir / "Pulumi.yaml")
    name = document.get("name") if isinstance(document, dict) else None
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{project_dir / 'Pulumi.yaml'}: no project name")
    return name


def known_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Stacks that have a ``Pulumi.<stack>.yaml`` in the project directory."""
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for path in project_dir.glob("Pulumi.*.yaml")
    )


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(project_dir)) or "none"
        raise StackFileError(
            f"unknown stack {stack!r}: there is no {path.name} in {project_dir} "
            f"(known stacks: {known})"
        )
    return _read(path, stack, project_name(project_dir))


def read_stack_file_at(path: Path) -> StackFile:
    """A stack file anywhere (another checkout's, say), named ``Pulumi.<stack>.yaml``: the stack
    is taken from the name, the project from the ``Pulumi.yaml`` beside it, else this one's."""
    match = _STACK_FILE_NAME.fullmatch(path.name)
    if match is None:
        raise StackFileError(f"{path}: a stack file is named Pulumi.<stack>.yaml")
    if not path.is_file():
        raise StackFileError(f"{path} does not exist")
    beside = path.parent / "Pulumi.yaml"
    project = project_name(path.parent if beside.is_file() else PROJECT_DIR)
    return _read(path, match.group(1), project)


def _read(path: Path, stack: str, project: str) -> StackFile:
    document = _load_yaml(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: expected a mapping with a 'config' key at the top")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: 'config' must be a mapping of keys to values")
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in config.items():
        decoded, secret = _decode_secure(value)
        values[str(key)] = decoded
        if secret:
            secrets.add(str(key))
    return StackFile(
        project=project,
        stack=stack,
        path=path,
        values=values,
        secret_keys=frozenset(secrets),
    )


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise StackFileError(f"{path} does not exist") from error
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not valid YAML: {error}") from error


def _decode_secure(value: Any) -> tuple[Any, bool]:
    """Replace every ``{secure: ...}`` leaf by the placeholder; report whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        decoded = {}
        for key, item in value.items():
            decoded[key], secret = _decode_secure(item)
            found |= secret
        return decoded, found
    if isinstance(value, list):
        pairs = [_decode_secure(item) for item in value]
        return [item for item, _ in pairs], any(secret for _, secret in pairs)
    return value, False


def _wire(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
