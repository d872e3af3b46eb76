"""Reading stack files the way the pulumi CLI hands config to a program."""

from __future__ import annotations

from pathlib import Path

import pytest

from infractl.offline.stackfile import (
    SECRET_PLACEHOLDER,
    StackFileError,
    known_stacks,
    project_name,
    read_stack_file,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    return tmp_path


def test_known_stacks_are_the_committed_stack_files() -> None:
    assert known_stacks() == ["dev", "prod"]
    assert project_name() == "genericcorp"


def test_values_reach_the_program_as_pulumi_passes_them(project: Path) -> None:
    (project / "Pulumi.s.yaml").write_text(
        "config:\n"
        "  demo:flag: true\n"
        "  demo:count: 3\n"
        "  demo:name: x\n"
        "  demo:obj:\n    a: 1\n    b: [true, null]\n"
    )
    wire = read_stack_file("s", project).wire_config()
    assert wire == {
        "demo:flag": "true",
        "demo:count": "3",
        "demo:name": "x",
        "demo:obj": '{"a": 1, "b": [true, null]}',
    }


def test_secure_values_become_a_placeholder_and_mark_their_key_secret(project: Path) -> None:
    (project / "Pulumi.s.yaml").write_text(
        "config:\n"
        "  demo:token:\n    secure: v1:AAAA\n"
        "  demo:nested:\n    list:\n      - plain\n      - secure: v1:BBBB\n"
        "  demo:plain: ok\n"
    )
    stack_file = read_stack_file("s", project)
    assert stack_file.values["demo:token"] == SECRET_PLACEHOLDER
    assert stack_file.values["demo:nested"] == {"list": ["plain", SECRET_PLACEHOLDER]}
    assert stack_file.secret_keys == {"demo:token", "demo:nested"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- a\n- b\n", "expected a mapping with a 'config' key"),
        ("config: [1, 2]\n", "'config' must be a mapping"),
        ("config: {a: [}\n", "not valid YAML"),
    ],
)
def test_malformed_stack_files_are_reported(project: Path, content: str, expected: str) -> None:
    (project / "Pulumi.s.yaml").write_text(content)
    with pytest.raises(StackFileError, match=expected):
        read_stack_file("s", project)


def test_an_empty_stack_file_has_no_config(project: Path) -> None:
    (project / "Pulumi.s.yaml").write_text("")
    assert read_stack_file("s", project).values == {}


def test_a_project_without_pulumi_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.s.yaml").write_text("config: {}\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.yaml does not exist"):
        read_stack_file("s", tmp_path)
