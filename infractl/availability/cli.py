"""``infractl availability``: the availability review commands.

  availability STACK | --outputs FILE   each path's figure, target and weakest link (--markdown)
  availability diff BASE HEAD           Markdown PR comment: each path's change, prod drops flagged

A STACK is planned offline (no AWS); FILE is ``pulumi stack output --json`` output or
``infractl plan STACK --json PATH`` output. ``availability STACK`` is short for
``availability show STACK``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from components.availability import AvailabilityError
from components.cost import CostError
from infra.config import ConfigError
from infractl.availability.report import (
    AvailabilityDocument,
    AvailabilityDocumentError,
    from_outputs,
    load_document,
    render_diff,
    render_markdown,
    render_table,
)
from infractl.offline.mocks import OfflinePlanError
from infractl.offline.stackfile import StackFileError

EXIT_INVALID = 2


class _DefaultToShow(TyperGroup):
    """``availability STACK`` and ``availability --outputs FILE`` run ``availability show``:
    the group's positional argument would otherwise swallow the subcommand names."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in {"--help", "-h"}:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultToShow,
    help="Availability of each path of a stack, and its change between two plans.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    Console(stderr=True, highlight=False).print(message, markup=False, soft_wrap=True)
    return typer.Exit(code)


def _stack_document(stack: str) -> AvailabilityDocument:
    """The availability output of ``stack``'s offline plan."""
    from infractl.offline.engine import run_stack  # noqa: PLC0415 - only when a stack is planned

    try:
        plan = run_stack(stack)
    except (ConfigError, StackFileError, CostError, AvailabilityError) as error:
        raise _fail(str(error)) from None
    except OfflinePlanError as error:
        raise _fail(f"offline plan failed: {error}", code=1) from None
    return from_outputs(f"{stack} (offline plan)", plan.outputs)


@app.command()
def show(
    stack: Annotated[
        str | None, typer.Argument(help="Stack to plan offline: dev or prod.", show_default=False)
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(
            "--outputs",
            metavar="FILE",
            help="Read `pulumi stack output --json` (or `infractl plan --json`) output instead.",
        ),
    ] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
) -> None:
    """Each path's composed figure, allowed downtime, target, weakest link, links and sources."""
    if (stack is None) == (outputs is None):
        raise _fail("give a STACK to plan offline or --outputs FILE, not both or neither")
    try:
        doc = load_document(outputs) if outputs else _stack_document(str(stack))
    except AvailabilityDocumentError as error:
        raise _fail(str(error)) from None
    if markdown:
        sys.stdout.write(render_markdown(doc))
        return
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    render_table(doc, console)


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="Plan or stack-output JSON of the base branch.")],
    head: Annotated[Path, typer.Argument(help="Plan or stack-output JSON of the pull request.")],
) -> None:
    """Markdown comment comparing two plans' availability; a lowered prod path is flagged. A
    base made before the output existed is shown as such, with the head's figures."""
    try:
        text = render_diff(load_document(base, required=False), load_document(head))
    except AvailabilityDocumentError as error:
        raise _fail(str(error)) from None
    sys.stdout.write(text)
