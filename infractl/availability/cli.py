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
from typing import Annotated

import typer
from rich.console import Console

from infractl.availability.report import (
    AvailabilityDocument,
    AvailabilityDocumentError,
    from_outputs,
    load_document,
    render_diff,
    render_markdown,
    render_table,
)
from infractl.commands import DefaultToShow, fail, plan_or_fail

app = typer.Typer(
    cls=DefaultToShow,
    help="Availability of each path of a stack, and its change between two plans.",
    no_args_is_help=True,
)


def _stack_document(stack: str) -> AvailabilityDocument:
    """The availability output of ``stack``'s offline plan."""
    return from_outputs(f"{stack} (offline plan)", plan_or_fail(stack).outputs)


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
        raise fail("give a STACK to plan offline or --outputs FILE, not both or neither")
    try:
        doc = load_document(outputs) if outputs else _stack_document(str(stack))
    except AvailabilityDocumentError as error:
        raise fail(str(error)) from None
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
        raise fail(str(error)) from None
    sys.stdout.write(text)
