"""What the CLI's commands share: one-line failures, planning a stack for a report, and groups
whose bare ``STACK`` argument means their ``show`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from components.availability import AvailabilityError
from components.cost import CostError
from infra.config import ConfigError
from infractl.offline.mocks import OfflinePlanError
from infractl.offline.plan import Plan
from infractl.offline.stackfile import PROJECT_DIR, StackFileError

#: Exit status of a command refused for its input (a bad stack file, a refused configuration).
EXIT_INVALID = 2


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    """Print ``message`` as one plain line on stderr; the caller raises the returned exit."""
    Console(stderr=True, highlight=False).print(message, markup=False, soft_wrap=True)
    return typer.Exit(code)


def plan_or_fail(stack: str, project_dir: Path = PROJECT_DIR, *, preview: bool = False) -> Plan:
    """The offline plan of ``stack``; a refused configuration (bad config, over its budget,
    below an availability target) is one line and exit status 2, a plan the mocks cannot
    answer one line and exit status 1."""
    from infractl.offline.engine import run_stack  # noqa: PLC0415 - only when a stack is planned

    try:
        return run_stack(stack, preview=preview, project_dir=project_dir)
    except (ConfigError, StackFileError, CostError, AvailabilityError) as error:
        raise fail(str(error)) from None
    except OfflinePlanError as error:
        raise fail(f"offline plan failed: {error}", code=1) from None


class DefaultToShow(TyperGroup):
    """``<group> STACK`` and ``<group> --outputs FILE`` run ``<group> show``: the group's
    positional argument would otherwise swallow the subcommand names."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in {"--help", "-h"}:
            args = ["show", *args]
        return super().parse_args(ctx, args)
