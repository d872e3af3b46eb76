"""``infractl zone-loss STACK``: what each tier of a stack does when one zone is lost.

Plans the stack offline for the zones its network spans (the ``network.availabilityZones``
output), runs ``infra.zone_loss.simulate`` over its composition and prints, per zone, each
tier's state, capacity and why, then the verdict and the single points of failure: a terminal
table, Markdown (``--markdown``) or JSON (``--json``). Needs no AWS account.

Exit status: 0 when the simulation ran (whatever it found), 2 when the stack, its configuration
or the options are invalid, 1 when the offline plan fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.composition import StackParts
from infra.config import ConfigError, parse_stack_config
from infra.node_capacity import CapacityError
from infra.zone_loss import (
    SOURCES,
    NodeFigures,
    Placement,
    State,
    ZoneLoss,
    ZoneLossError,
    ZoneLossReport,
    simulate,
)
from infractl.commands import fail, plan_or_fail
from infractl.offline.stackfile import PROJECT_DIR, StackFileError, read_stack_file

_STATE_STYLE = {State.SERVING: "green", State.DEGRADED: "yellow", State.DOWN: "bold red"}


def command(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    stack: Annotated[str, typer.Argument(help="Stack to simulate: dev or prod.")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_zone: Annotated[
        str | None,
        typer.Option(
            metavar="ZONE",
            help="The database primary's zone, when known; otherwise each zone's loss is "
            "reported as if it were there.",
        ),
    ] = None,
    cache_zone: Annotated[
        str | None,
        typer.Option(metavar="ZONE", help="The cache primary's zone, when known."),
    ] = None,
    project_dir: Annotated[
        Path, typer.Option(help="Directory holding Pulumi.yaml and the stack files.")
    ] = PROJECT_DIR,
) -> None:
    """Remove each of the stack's zones in turn and report what keeps serving.

    Per tier (load balancer, nodes, database, cache, egress, control plane): serving, degraded or
    down, the capacity left and why; whether the platform's and tenants' requests still fit the
    nodes left; the verdict and the single points of failure.
    """
    if markdown and as_json:
        raise fail("zone-loss: --markdown and --json are exclusive")
    plan = plan_or_fail(stack, project_dir)
    try:
        stack_file = read_stack_file(stack, project_dir)
        config = parse_stack_config(stack, stack_file.values, stack_file.secret_keys)
    except (ConfigError, StackFileError) as error:
        raise fail(str(error)) from None
    zones = [str(zone) for zone in plan.outputs["network"]["availabilityZones"]]
    try:
        report = simulate(StackParts.of(config), zones, Placement(database_zone, cache_zone))
    except (ZoneLossError, CapacityError) as error:
        raise fail(f"zone-loss: {error}") from None
    if as_json:
        document = {**report.to_json(), "sources": list(SOURCES)}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif markdown:
        sys.stdout.write(render_markdown(report))
    else:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=160)
        render_table(report, console)


def verdict(report: ZoneLossReport) -> str:
    """One sentence: whether the stack survives any single zone's loss, and which it does not."""
    if report.survives_any_single_zone:
        return f"{report.stack} survives the loss of any one zone."
    lost = "; ".join(
        f"{loss.zone} ({', '.join(str(o.tier) for o in loss.down)} down)"
        for loss in report.losses
        if not loss.survives
    )
    return f"{report.stack} does not survive the loss of {lost}."


def single_points_of_failure(report: ZoneLossReport) -> list[str]:
    """Each single point of failure as a line: tier, component, the zones whose loss it is."""
    return [
        f"{spof.tier}: {spof.component} (lost with {', '.join(spof.zones)})"
        for spof in report.single_points_of_failure
    ]


def _baseline(figures: NodeFigures) -> str:
    fit = (
        f"{figures.spare} to spare"
        if figures.fits
        else f"short {figures.shortfall} even before any loss"
    )
    return (
        f"Before any loss: {figures.nodes} nodes offer {figures.capacity} for pods after the "
        f"DaemonSets; the platform requests {figures.platform}, the tenants {figures.tenants}: "
        f"{fit}."
    )


def _assumptions(report: ZoneLossReport) -> str:
    placement = report.placement
    known = [
        f"{store} primary in {zone}"
        for store, zone in (("database", placement.database), ("cache", placement.cache))
        if zone is not None
    ]
    stores = (
        f"Data stores: {', '.join(known)}."
        if len(known) == 2
        else "Data stores: a primary whose zone is not given is assumed to be in the lost zone "
        "(the worst case)" + (f"; {', '.join(known)}." if known else ".")
    )
    return (
        f"Zones: {', '.join(report.zones)}. Nodes: desiredSize spread evenly over the zones, the "
        "remainder on the first; requests are counted whole, including pods whose gp3 volume "
        "was in the lost zone (a Prometheus or Alertmanager replica, Grafana), which cannot "
        f"start elsewhere until it returns. {stores}"
    )


def render_table(report: ZoneLossReport, console: Console) -> None:
    """The report for a terminal: a table per zone, then the verdict and the sources."""
    console.print(f"Zone loss: {report.stack} ({report.environment})", style="bold")
    console.print(_assumptions(report), markup=False)
    console.print(_baseline(report.baseline), markup=False)
    for loss in report.losses:
        console.print()
        console.print(_heading(loss), style="bold", markup=False)
        table = Table(show_lines=True)
        for column in ("tier", "path", "state", "capacity", "why"):
            table.add_column(column, overflow="fold")
        for outcome in loss.tiers:
            table.add_row(
                str(outcome.tier),
                str(outcome.path),
                f"[{_STATE_STYLE[outcome.state]}]{outcome.state}[/]",
                outcome.capacity,
                outcome.detail,
            )
        console.print(table)
    console.print()
    console.print(verdict(report), style="bold", markup=False)
    spofs = single_points_of_failure(report)
    console.print("Single points of failure:" + ("" if spofs else " none"), markup=False)
    for line in spofs:
        console.print(f"  {line}", markup=False)
    console.print("Sources:", markup=False)
    for source in SOURCES:
        console.print(f"  {source}", markup=False)


def _heading(loss: ZoneLoss) -> str:
    return f"Loss of {loss.zone}: {'survives' if loss.survives else 'does not survive'}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: ZoneLossReport) -> str:
    """The report as Markdown: a table per zone, then the verdict and the sources."""
    lines = [
        f"## Zone loss: {report.stack}",
        "",
        _assumptions(report),
        "",
        _baseline(report.baseline),
    ]
    for loss in report.losses:
        lines += [
            "",
            f"### {_heading(loss)}",
            "",
            "| tier | path | state | capacity | why |",
            "|---|---|---|---|---|",
            *(
                f"| {o.tier} | {o.path} | {o.state} | {_cell(o.capacity)} | {_cell(o.detail)} |"
                for o in loss.tiers
            ),
        ]
    spofs = single_points_of_failure(report)
    lines += [
        "",
        f"**{verdict(report)}**",
        "",
        "Single points of failure:" + (" none" * (not spofs)),
    ]
    lines += [f"- {line}" for line in spofs]
    lines += ["", "Sources:", *(f"- {source}" for source in SOURCES)]
    return "\n".join(lines) + "\n"
