"""``infractl cost``: the cost review commands.

  cost STACK | --outputs FILE      the estimate as a terminal table (--markdown for Markdown)
  cost diff BASE HEAD              Markdown PR comment: per-component and per-line deltas
  cost chart STACK --output PNG    cost per customer vs customers, and the breakdown
  cost actual STACK | --outputs F  last month's Cost Explorer spend beside the estimate
  cost figures [--write FILE]      dev and prod side by side (docs/cost.md)

A STACK is planned offline (no AWS); FILE is ``pulumi stack output --json`` output or
``infractl plan STACK --json PATH`` output. ``cost STACK`` is short for ``cost show STACK``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from infractl.commands import DefaultToShow, fail, plan_or_fail
from infractl.cost.report import (
    ActualCostError,
    CostDocument,
    CostDocumentError,
    actual_by_component,
    from_outputs,
    last_month,
    load_document,
    render_actual,
    render_diff,
    render_figures,
    render_markdown,
    render_table,
    replace_figures,
    write_chart,
)

app = typer.Typer(
    cls=DefaultToShow,
    help="Cost estimate, review and actual spend of a stack.",
    no_args_is_help=True,
)


def _stack_document(stack: str) -> CostDocument:
    """The cost outputs of ``stack``'s offline plan."""
    return from_outputs(f"{stack} (offline plan)", plan_or_fail(stack).outputs)


def _document(stack: str | None, outputs: Path | None) -> CostDocument:
    if (stack is None) == (outputs is None):
        raise fail("give a STACK to plan offline or --outputs FILE, not both or neither")
    try:
        return load_document(outputs) if outputs else _stack_document(str(stack))
    except CostDocumentError as error:
        raise fail(str(error)) from None


StackArg = Annotated[
    str | None, typer.Argument(help="Stack to plan offline: dev or prod.", show_default=False)
]
OutputsOpt = Annotated[
    Path | None,
    typer.Option(
        "--outputs",
        metavar="FILE",
        help="Read `pulumi stack output --json` (or `infractl plan --json`) output instead.",
    ),
]


@app.command()
def show(
    stack: StackArg = None,
    outputs: OutputsOpt = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
) -> None:
    """The estimate: every line, per component, total, budget headroom, cost per customer."""
    doc = _document(stack, outputs)
    if markdown:
        sys.stdout.write(render_markdown(doc))
        return
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=140)
    render_table(doc, console)


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="Cost JSON of the base branch.")],
    head: Annotated[Path, typer.Argument(help="Cost JSON of the pull request.")],
) -> None:
    """Markdown comment comparing two estimates (offline-plan or stack-output JSON files)."""
    try:
        text = render_diff(load_document(base), load_document(head))
    except CostDocumentError as error:
        raise fail(str(error)) from None
    sys.stdout.write(text)


@app.command()
def chart(
    stack: StackArg = None,
    outputs: OutputsOpt = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="PNG", help="Where to write the PNG.")
    ] = Path("cost.png"),
) -> None:
    """PNG chart: cost per customer against customer count, and the breakdown by component."""
    doc = _document(stack, outputs)
    try:
        write_chart(doc, output)
    except CostDocumentError as error:
        raise fail(str(error)) from None
    Console(stderr=True).print(f"chart written to {output}")


@app.command()
def actual(
    stack: StackArg = None,
    outputs: OutputsOpt = None,
    environment: Annotated[
        str | None,
        typer.Option(help="Environment tag to read (default: the stack's environment output)."),
    ] = None,
) -> None:
    """Last month's spend from Cost Explorer, grouped by the Component tag, beside the estimate.

    Needs AWS credentials allowed ce:GetCostAndUsage (AWS_PROFILE or the AWS_* variables).
    """
    import boto3  # noqa: PLC0415 - only this command talks to AWS

    doc = _document(stack, outputs)
    env = environment or doc.environment
    if env is None:
        raise fail(f"{doc.source}: no environment output; pass --environment dev|prod")
    period = last_month(dt.datetime.now(dt.UTC).date())
    # Cost Explorer has one endpoint, in us-east-1, whatever the stack's region.
    client: Any = boto3.client("ce", region_name="us-east-1")
    try:
        spent = actual_by_component(env, period, client)
    except ActualCostError as error:
        raise fail(str(error), code=1) from None
    sys.stdout.write(render_actual(doc, spent, period))


@app.command()
def figures(
    write: Annotated[
        Path | None,
        typer.Option("--write", metavar="MARKDOWN", help="Replace the figures block of this file."),
    ] = None,
) -> None:
    """The dev and prod estimates side by side (the figures block of docs/cost.md)."""
    block = render_figures({stack: _stack_document(stack) for stack in ("dev", "prod")})
    if write is None:
        sys.stdout.write(block + "\n")
        return
    write.write_text(replace_figures(write.read_text(encoding="utf-8"), block), encoding="utf-8")
