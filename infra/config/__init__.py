"""Typed, validated stack configuration (see docs/configuration.md for every key)."""

from infra.config.errors import ConfigError, ConfigProblem
from infra.config.loader import load_stack_config, parse_stack_config
from infra.config.stack import PROJECT, StackConfig, stack_file_name

__all__ = [
    "PROJECT",
    "ConfigError",
    "ConfigProblem",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
    "stack_file_name",
]
