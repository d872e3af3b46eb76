"""Availability review: read a stack's ``availability`` output, render it, and compare two.

An *availability document* is the ``availability`` output of a stack (with its ``environment``),
read from the offline plan, from ``infractl plan --json`` output or from ``pulumi stack output
--json``; everything here works from that document alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

AVAILABILITY_KEY = "availability"


class AvailabilityDocumentError(Exception):
    """A file that is not JSON or holds no availability output where one is needed."""


@dataclass(frozen=True)
class AvailabilityDocument:
    """A stack's availability output; ``availability`` is None for a plan made before the
    output existed (a base branch that predates it)."""

    source: str
    environment: str | None
    availability: dict[str, Any] | None

    @property
    def paths(self) -> dict[str, dict[str, Any]]:
        """Each path by name, in the output's order."""
        return {path["path"]: path for path in (self.availability or {}).get("paths", [])}

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def from_outputs(
    source: str, outputs: Mapping[str, Any], *, required: bool = True
) -> AvailabilityDocument:
    """The availability document in a mapping of stack outputs."""
    availability = outputs.get(AVAILABILITY_KEY)
    if not (isinstance(availability, dict) and isinstance(availability.get("paths"), list)):
        if required:
            raise AvailabilityDocumentError(
                f"{source}: no {AVAILABILITY_KEY} object with paths; expected the output of "
                "`pulumi stack output --json` or `infractl plan STACK --json PATH`"
            )
        availability = None
    environment = outputs.get("environment")
    return AvailabilityDocument(
        source=source,
        environment=environment if isinstance(environment, str) else None,
        availability=availability,  # pyright: ignore[reportUnknownArgumentType]
    )


def load_document(path: Path, *, required: bool = True) -> AvailabilityDocument:
    """Read stack-output JSON or offline-plan JSON (whose ``outputs`` hold the stack outputs)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AvailabilityDocumentError(f"{path}: cannot read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise AvailabilityDocumentError(
            f"{path}: not JSON ({error.msg} at line {error.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise AvailabilityDocumentError(f"{path}: expected a JSON object of stack outputs")
    outputs = document
    nested = document.get("outputs")
    if "environment" not in document and isinstance(nested, dict):
        outputs = nested
    return from_outputs(str(path), outputs, required=required)  # pyright: ignore[reportUnknownArgumentType]


# --- rendering -----------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def _meets(path: Mapping[str, Any]) -> str:
    meets = path.get("meetsTarget")
    if meets is None:
        return "-"
    if meets:
        return "yes"
    accepted = path.get("acceptedShortfall")
    if accepted:
        return f"no (shortfall accepted down to {_pct(accepted['figurePercent'])})"
    return "no"


def _weakest(path: Mapping[str, Any]) -> str:
    return f"{path['weakestLink']} ({_pct(path['weakestLinkPercent'])})"


def _status_rows(doc: AvailabilityDocument) -> list[list[str]]:
    return [
        [
            name,
            path["kind"],
            _pct(path["figurePercent"]),
            f"{path['downtimeMinutesPerMonth']:,.1f} min",
            _pct(path.get("targetPercent")),
            _meets(path),
            _weakest(path),
        ]
        for name, path in doc.paths.items()
    ]


_STATUS_COLUMNS = ("path", "kind", "figure", "downtime a month", "target", "meets", "weakest link")


def _gap_lines(path: Mapping[str, Any]) -> list[str]:
    lines = [
        f"{step['setting']} ({step['change']}): {_pct(step['figurePercent'])}, "
        f"{'+' if step['monthlyUsd'] >= 0 else '-'}${abs(step['monthlyUsd']):,.2f}/month "
        f"(${step['cumulativeMonthlyUsd']:,.2f} in all)"
        + (", meets the target" if step["meetsTarget"] else "")
        for step in path.get("toCloseTheGap", [])
    ]
    if path.get("gapNote"):
        lines.append(str(path["gapNote"]))
    return lines


def _footer(doc: AvailabilityDocument) -> list[str]:
    availability = doc.availability or {}
    catalog = availability.get("catalog", {})
    month = availability.get("month", {})
    lines = [
        f"Figures: {catalog.get('file', '?')} (collected {catalog.get('collected', '?')}); a "
        f"month is {month.get('hours', '?')} hours ({month.get('minutes', 0):,} minutes)."
    ]
    lines += [
        f"Not served by this stack: {name} ({why})."
        for name, why in availability.get("notServed", {}).items()
    ]
    return lines


def render_table(doc: AvailabilityDocument, console: Console) -> None:
    """Terminal tables: each path's status, then its links with their sources."""
    table = Table(title=f"Availability: {doc.source}", title_justify="left")
    for column in _STATUS_COLUMNS:
        table.add_column(column)
    for row in _status_rows(doc):
        table.add_row(*row)
    console.print(table)
    for name, path in doc.paths.items():
        links = Table(title=f"{name}: {path['serves']}", title_justify="left")
        for column in ("link", "figure", "how", "source", "confidence"):
            links.add_column(column)
        for link in path["links"]:
            links.add_row(
                link["name"],
                _pct(link["figurePercent"]),
                link["basis"],
                "; ".join(figure["source"] for figure in link["figures"]),
                ", ".join(figure["confidence"] for figure in link["figures"]),
            )
        console.print(links)
        for line in _gap_lines(path):
            console.print(f"  to close the gap: {line}", markup=False, highlight=False)
    for line in _footer(doc):
        console.print(line, markup=False, highlight=False)
    console.print("Assumptions:")
    for assumption in (doc.availability or {}).get("assumptions", []):
        console.print(f"- {assumption}", markup=False, highlight=False)


def _markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows),
    ]


def render_markdown(doc: AvailabilityDocument) -> str:
    out = [f"### Availability: {doc.source}", ""]
    out += _markdown_table(_STATUS_COLUMNS, _status_rows(doc))
    for name, path in doc.paths.items():
        out += ["", f"#### `{name}` ({path['kind']}): {path['serves']}", ""]
        out += _markdown_table(
            ("link", "figure", "how", "source", "confidence"),
            [
                [
                    link["name"],
                    _pct(link["figurePercent"]),
                    link["basis"],
                    "; ".join(
                        f"[{figure['title']}]({figure['source']})" for figure in link["figures"]
                    ),
                    ", ".join(figure["confidence"] for figure in link["figures"]),
                ]
                for link in path["links"]
            ],
        )
        gap = _gap_lines(path)
        if gap:
            out += ["", "To close the gap:", *(f"- {line}" for line in gap)]
    out += ["", *_footer(doc), "", "Assumptions:"]
    out += [f"- {a}" for a in (doc.availability or {}).get("assumptions", [])]
    return "\n".join(out) + "\n"


# --- diff ----------------------------------------------------------------------------------


def _change(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "-"
    delta = after - before
    if abs(delta) < 5e-5:
        return "±0"
    return f"{delta:+.4f} pt"


def lowered_paths(base: AvailabilityDocument, head: AvailabilityDocument) -> list[str]:
    """Paths of ``head`` whose figure is below ``base``'s."""
    return [
        name
        for name, path in head.paths.items()
        if name in base.paths and path["figurePercent"] < base.paths[name]["figurePercent"] - 5e-5
    ]


def render_diff(base: AvailabilityDocument, head: AvailabilityDocument) -> str:
    """A Markdown pull-request comment: each path's figure before and after, a flag on every
    prod path the change lowers, and the links that changed."""
    out = ["### Availability change", ""]
    if base.availability is None:
        out += [
            f"The base plan has no availability output ({base.source}): this change adds it. "
            "The head's figures:",
            "",
            *_markdown_table(_STATUS_COLUMNS, _status_rows(head)),
        ]
        return "\n".join(out) + "\n"
    lowered = lowered_paths(base, head)
    if lowered and head.is_prod:
        out += [
            "**Lowers a prod path:** "
            + "; ".join(
                f"`{name}` {_pct(base.paths[name]['figurePercent'])} → "
                f"{_pct(head.paths[name]['figurePercent'])} (weakest link "
                f"{_weakest(head.paths[name])}; {_meets(head.paths[name])} against its target "
                f"{_pct(head.paths[name].get('targetPercent'))})"
                for name in lowered
            )
            + ". A prod path below its target without an accepted shortfall fails the plan.",
            "",
        ]
    rows: list[list[str]] = []
    for name in [*head.paths, *(n for n in base.paths if n not in head.paths)]:
        before, after = base.paths.get(name), head.paths.get(name)
        b = None if before is None else float(before["figurePercent"])
        a = None if after is None else float(after["figurePercent"])
        status = "added" if before is None else "removed" if after is None else ""
        if name in lowered:
            status = "**lowered in prod**" if head.is_prod else "lowered"
        elif a is not None and b is not None and a > b + 5e-5:
            status = "raised"
        rows.append(
            [
                name,
                _pct(b),
                _pct(a),
                _change(b, a),
                _pct((after or before or {}).get("targetPercent")),
                "-" if after is None else _meets(after),
                status,
            ]
        )
    out += _markdown_table(("path", "base", "head", "change", "target", "meets", ""), rows)
    changed = _changed_links(base, head)
    out.append("")
    if changed:
        out += _markdown_table(("path", "link", "base", "head"), changed)
    else:
        out.append("No link changed.")
    return "\n".join(out) + "\n"


def _changed_links(base: AvailabilityDocument, head: AvailabilityDocument) -> list[list[str]]:
    """Links added, removed or refigured, per path (a link is known by its name)."""
    rows: list[list[str]] = []
    for name in sorted(set(base.paths) | set(head.paths)):
        before = {link["name"]: link for link in base.paths.get(name, {}).get("links", [])}
        after = {link["name"]: link for link in head.paths.get(name, {}).get("links", [])}
        for link in [*after, *(n for n in before if n not in after)]:
            b, a = before.get(link), after.get(link)
            if b and a and b["figurePercent"] == a["figurePercent"]:
                continue
            rows.append(
                [
                    name,
                    link,
                    "-" if b is None else _pct(b["figurePercent"]),
                    "-" if a is None else _pct(a["figurePercent"]),
                ]
            )
    return rows
