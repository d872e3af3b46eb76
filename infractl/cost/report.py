"""Cost review: read a stack's cost outputs, render them, compare two, chart them, and set
last month's Cost Explorer spend beside them.

A *cost document* is the three cost outputs of a stack (``monthlyCost``, ``costPerCustomer``,
``budget``), read from the offline plan, from ``infractl plan --json`` output or from
``pulumi stack output --json``; everything here works from that document alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

COST_KEY = "monthlyCost"


class CostDocumentError(Exception):
    """A file that is not JSON or holds no cost outputs."""


@dataclass(frozen=True)
class CostDocument:
    """A stack's cost outputs."""

    source: str
    """Where they came from (stack name or file), for headings."""
    monthly: dict[str, Any]
    per_customer: dict[str, Any] | None
    budget: dict[str, Any] | None
    environment: str | None

    @property
    def total(self) -> float:
        return float(self.monthly["totalUsd"])

    @property
    def by_component(self) -> dict[str, float]:
        return {k: float(v) for k, v in sorted(self.monthly["byComponent"].items())}

    @property
    def lines(self) -> list[dict[str, Any]]:
        return list(self.monthly["lines"])


def from_outputs(source: str, outputs: Mapping[str, Any]) -> CostDocument:
    """The cost document in a mapping of stack outputs."""
    monthly = outputs.get(COST_KEY)
    if not isinstance(monthly, dict) or not {"totalUsd", "byComponent", "lines"} <= set(monthly):
        raise CostDocumentError(
            f"{source}: no {COST_KEY} object with totalUsd, byComponent and lines; expected the "
            "output of `pulumi stack output --json` or `infractl plan STACK --json PATH`"
        )
    per_customer = outputs.get("costPerCustomer")
    budget = outputs.get("budget")
    environment = outputs.get("environment")
    return CostDocument(
        source=source,
        monthly=dict(monthly),  # pyright: ignore[reportUnknownArgumentType]
        per_customer=dict(per_customer) if isinstance(per_customer, dict) else None,  # pyright: ignore[reportUnknownArgumentType]
        budget=dict(budget) if isinstance(budget, dict) else None,  # pyright: ignore[reportUnknownArgumentType]
        environment=environment if isinstance(environment, str) else None,
    )


def load_document(path: Path) -> CostDocument:
    """Read stack-output JSON or offline-plan JSON (whose ``outputs`` hold the stack outputs)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CostDocumentError(f"{path}: cannot read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise CostDocumentError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise CostDocumentError(f"{path}: expected a JSON object of stack outputs")
    outputs = document
    nested = document.get("outputs")
    if COST_KEY not in document and isinstance(nested, dict):
        outputs = nested
    return from_outputs(str(path), outputs)  # pyright: ignore[reportUnknownArgumentType]


# --- rendering -----------------------------------------------------------------------------


def _usd(value: float | None) -> str:
    return "usage not given" if value is None else f"${value:,.2f}"


def _signed(value: float) -> str:
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    return f"{sign}${abs(value):,.2f}"


def _quantity(line: Mapping[str, Any]) -> str:
    quantity = line.get("quantity")
    return "-" if quantity is None else f"{quantity:,.4g} {line['unit']}"


def summary_lines(doc: CostDocument) -> list[str]:
    """Budget, per-customer figures and blanks, as plain sentences."""
    out: list[str] = []
    catalog = doc.monthly.get("catalog", {})
    out.append(
        f"Total: {_usd(doc.total)}/month (prices: catalog {catalog.get('region', '?')}, "
        f"collected {catalog.get('collected', '?')})"
    )
    if doc.budget:
        out.append(
            f"Budget: ${float(doc.budget['limitUsd']):,.2f}; headroom "
            f"${float(doc.budget['headroomUsd']):,.2f} ({doc.budget['headroomPercent']}%)"
        )
    if doc.per_customer:
        out += per_customer_sentences(doc.per_customer)
    blanks = doc.monthly.get("usageNotGiven") or []
    if blanks:
        out.append("Usage not given (not in the total): " + "; ".join(blanks))
    return out


def _point(point: Mapping[str, Any]) -> str:
    usd = point.get("usd")
    shown = "does not fit" if usd is None else _usd(float(usd))
    beyond = "" if point.get("withinNodeGroupMax", True) else ", above maxSize"
    return f"{point['customers']}: {shown} ({point['nodes']} nodes{beyond})"


def _holds(targets: Mapping[str, Any], searched: int) -> str:
    return "; ".join(
        f"${target} from {customers} customers"
        if customers is not None
        else f"${target} not reached (up to {searched:,} customers)"
        for target, customers in targets.items()
    )


def per_customer_sentences(pc: Mapping[str, Any]) -> list[str]:
    """The costPerCustomer output as plain sentences: the configured tenants' figure, each
    tier's and the mix's scale points with their node counts, and where the targets hold."""
    at = pc["atConfiguredTenants"]
    searched = int(pc.get("targetsSearchedUpTo", 0))
    out = [
        f"Cost per customer: {_usd(at['usd'])} at {at['customers']} customer(s) on "
        f"{at['nodes']} node(s) (fixed ${float(pc['fixedMonthlyUsd']):,.2f} a month shared; "
        f"nodes {pc['pricedOn']}, ${float(pc['nodeMonthlyUsd']):,.2f} each; "
        f"{pc['baselineNodes']} in the fixed cost, at most {pc['maxNodes']})"
    ]
    for tier, entry in pc["tiers"].items():
        if not entry["fitsNodeType"]:
            out.append(
                f"  {tier}: does not fit this node type (largest container "
                f"{entry['largestContainer']})"
            )
            continue
        out.append(
            f"  {tier}: {entry['tenantsPerNode']} a node ({entry['bindingResource']} binds), "
            f"at most {entry['ceilingTenants']}; "
            + ", ".join(_point(p) for p in entry["scalePoints"])
            + f"; {_holds(entry['targets'], searched)}"
        )
    mix = pc["tierMix"]
    shares = ", ".join(f"{tier} {share:g}" for tier, share in mix["shares"].items())
    out.append(
        f"  mix ({shares}; {mix['basis']}): at most {mix['ceilingTenants']}; "
        + ", ".join(_point(p) for p in mix["scalePoints"])
        + f"; {_holds(mix['targets'], searched)}"
    )
    for change in pc.get("cheapestChanges", []):
        effects = ", ".join(
            f"{tier} {_usd(usd)} at {change['atCustomers']} "
            f"({_holds(change['targetHoldsFrom'][tier], searched)})"
            for tier, usd in change["usdAt"].items()
            if usd is not None
        )
        out.append(f"  if {change['change']} ({change['pricedOn']}): {effects}")
    return out


def render_table(doc: CostDocument, console: Console) -> None:
    table = Table(title=f"Monthly cost estimate: {doc.source}", title_justify="left")
    for column, justify in (
        ("component", "left"),
        ("item", "left"),
        ("quantity", "right"),
        ("unit price", "right"),
        ("monthly", "right"),
    ):
        table.add_column(column, justify=justify)  # pyright: ignore[reportArgumentType]
    for line in doc.lines:
        table.add_row(
            line["component"],
            line["item"] + (" *" if line.get("usageBased") else ""),
            _quantity(line),
            f"${line['unitPriceUsd']}",
            _usd(line["monthlyUsd"]),
        )
    table.add_section()
    for component, usd in doc.by_component.items():
        table.add_row(component, "subtotal", "", "", _usd(usd))
    table.add_row("", "total", "", "", _usd(doc.total), style="bold")
    console.print(table)
    console.print("* usage-based: quantity from genericcorp:usage")
    for sentence in summary_lines(doc):
        console.print(sentence, markup=False, highlight=False)


def render_markdown(doc: CostDocument) -> str:
    out = [f"### Monthly cost estimate: {doc.source}", ""]
    out += ["| component | monthly |", "|---|---:|"]
    out += [f"| {name} | {_usd(usd)} |" for name, usd in doc.by_component.items()]
    out += [f"| **total** | **{_usd(doc.total)}** |", ""]
    out += ["| component | item | quantity | unit price | monthly | note |"]
    out += ["|---|---|---:|---:|---:|---|"]
    out += [
        f"| {line['component']} | {line['item']}{' (usage)' if line.get('usageBased') else ''} "
        f"| {_quantity(line)} | ${line['unitPriceUsd']} | {_usd(line['monthlyUsd'])} "
        f"| {line.get('note') or ''} |"
        for line in doc.lines
    ]
    out.append("")
    out += [f"- {sentence.strip()}" for sentence in summary_lines(doc)]
    return "\n".join(out) + "\n"


# --- diff ----------------------------------------------------------------------------------


def _unknown_lines(doc: CostDocument) -> set[tuple[str, str]]:
    return {(ln["component"], ln["item"]) for ln in doc.lines if ln["monthlyUsd"] is None}


def render_diff(base: CostDocument, head: CostDocument) -> str:
    """A Markdown pull-request comment: total, per-component and per-line deltas.

    A line whose cost became unknown (its usage figure set to null) is shown as unknown, never
    as a saving: the totals and components it belongs to say that their change leaves it out.
    """
    became_unknown = {
        (ln["component"], ln["item"]): ln
        for ln in base.lines
        if ln["monthlyUsd"] is not None and (ln["component"], ln["item"]) in _unknown_lines(head)
    }
    unknown_usd = sum(float(ln["monthlyUsd"]) for ln in became_unknown.values())
    delta = head.total - base.total
    percent = f" ({100 * delta / base.total:+.1f}%)" if base.total else ""
    out = [
        "### Cost estimate change",
        "",
        f"Monthly total: {_usd(base.total)} → **{_usd(head.total)}** "
        f"(**{_signed(delta)}**{percent})",
        "",
    ]
    if became_unknown:
        out += [
            f"**{len(became_unknown)} line(s) became unknown** (usage not given), "
            f"{_usd(unknown_usd)} a month in the base: the head total leaves them out, so the "
            f"change above is not a saving. Without them the change is "
            f"{_signed(delta + unknown_usd)} plus whatever they cost.",
            "",
        ]
    if head.budget:
        out += [
            f"Budget ${float(head.budget['limitUsd']):,.2f}: headroom after this change "
            f"${float(head.budget['headroomUsd']):,.2f}",
            "",
        ]
    unknown_components = {component for component, _ in became_unknown}
    components = sorted(set(base.by_component) | set(head.by_component))
    out += ["| component | base | head | change |", "|---|---:|---:|---:|"]
    for name in components:
        before = base.by_component.get(name, 0.0)
        after = head.by_component.get(name, 0.0)
        change = (
            f"{_signed(after - before)} + unknown"
            if name in unknown_components
            else _signed(after - before)
        )
        out.append(f"| {name} | {_usd(before)} | {_usd(after)} | {change} |")
    base_lines = {(ln["component"], ln["item"]): ln for ln in base.lines}
    head_lines = {(ln["component"], ln["item"]): ln for ln in head.lines}
    changed: list[str] = []
    for key in sorted(set(base_lines) | set(head_lines)):
        before, after = base_lines.get(key), head_lines.get(key)
        b = before["monthlyUsd"] if before else None
        a = after["monthlyUsd"] if after else None
        if before and after and b == a and before["quantity"] == after["quantity"]:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        change = _signed((a or 0.0) - (b or 0.0))
        if after is not None and a is None:
            status, change = "now unknown", "unknown"
        elif before is not None and b is None and after is not None:
            status, change = "now known", f"+{_usd(a)}"
        shown_b = "-" if before is None else _usd(b)
        shown_a = "-" if after is None else _usd(a)
        changed.append(f"| {key[0]} | {key[1]} | {status} | {shown_b} | {shown_a} | {change} |")
    out.append("")
    if changed:
        out += ["| component | item | | base | head | change |", "|---|---|---|---:|---:|---:|"]
        out += changed
    else:
        out.append("No cost line changed.")
    return "\n".join(out) + "\n"


# --- chart ---------------------------------------------------------------------------------


def write_chart(doc: CostDocument, output: Path) -> None:
    """PNG: cost per customer against customer count, and the breakdown by component."""
    import matplotlib  # noqa: PLC0415 - heavy; only the chart command needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if doc.per_customer is None:
        raise CostDocumentError(f"{doc.source}: no costPerCustomer object to chart")
    pc = doc.per_customer
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = {tier: e["scalePoints"] for tier, e in pc["tiers"].items() if e.get("scalePoints")}
    series["mix"] = pc["tierMix"]["scalePoints"]
    for label, points in series.items():
        fitting = [p for p in points if p["usd"] is not None]
        left.plot(
            [int(p["customers"]) for p in fitting],
            [float(p["usd"]) for p in fitting],
            marker="o",
            label=label,
        )
    for target in pc["tierMix"]["targets"]:
        left.axhline(float(target), linestyle="--", linewidth=1, color="grey")
    left.legend()
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("customers")
    left.set_ylabel("USD per customer per month")
    left.set_title(f"Cost per customer ({doc.source})")
    names = list(doc.by_component)
    right.barh(names, [doc.by_component[n] for n in names])
    right.set_xlabel("USD per month")
    right.set_title(f"By component: total ${doc.total:,.2f}/month")
    figure.tight_layout()
    figure.savefig(output, format="png", dpi=100)
    plt.close(figure)


# --- actual spend (Cost Explorer) -----------------------------------------------------------


class ActualCostError(Exception):
    """Cost Explorer could not be read (no credentials, no access)."""


def last_month(today: dt.date) -> tuple[str, str]:
    """Start (inclusive) and end (exclusive) of the month before ``today``'s, ISO dates."""
    first = today.replace(day=1)
    start = (first - dt.timedelta(days=1)).replace(day=1)
    return start.isoformat(), first.isoformat()


def actual_by_component(environment: str, period: tuple[str, str], client: Any) -> dict[str, float]:
    """Last month's unblended cost of ``environment`` grouped by the Component tag.

    Spend without a Component tag (account-wide or untagged) is reported as ``(untagged)``.
    """
    from botocore.exceptions import (  # noqa: PLC0415
        BotoCoreError,
        ClientError,
        NoCredentialsError,
    )

    try:
        response = client.get_cost_and_usage(
            TimePeriod={"Start": period[0], "End": period[1]},
            Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
            GroupBy=[{"Type": "TAG", "Key": "Component"}],
            Filter={"Tags": {"Key": "Environment", "Values": [environment]}},
        )
    except NoCredentialsError:
        raise ActualCostError(
            "no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for an identity allowed ce:GetCostAndUsage"
        ) from None
    except ClientError as error:
        raise ActualCostError(
            f"Cost Explorer refused: {error.response.get('Error', {}).get('Message', error)}"
        ) from None
    except BotoCoreError as error:
        raise ActualCostError(f"Cost Explorer could not be called: {error}") from None
    totals: dict[str, float] = {}
    for period_result in response.get("ResultsByTime", []):
        for group in period_result.get("Groups", []):
            tag = group["Keys"][0].partition("$")[2] or "(untagged)"
            amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
            totals[tag] = totals.get(tag, 0.0) + amount
    return dict(sorted(totals.items()))


def render_actual(doc: CostDocument, actual: Mapping[str, float], period: tuple[str, str]) -> str:
    """Markdown: estimate and last month's actual spend side by side, per component."""
    out = [
        f"### Estimate vs actual: {doc.source}, {period[0]} to {period[1]} (exclusive)",
        "",
        "| component | estimate | actual | actual - estimate |",
        "|---|---:|---:|---:|",
    ]
    for name in sorted(set(doc.by_component) | set(actual)):
        estimate = doc.by_component.get(name)
        spent = actual.get(name)
        diff = _signed((spent or 0.0) - (estimate or 0.0))
        out.append(
            f"| {name} | {'-' if estimate is None else _usd(estimate)} "
            f"| {'-' if spent is None else _usd(spent)} | {diff} |"
        )
    total_actual = sum(actual.values())
    out.append(
        f"| **total** | **{_usd(doc.total)}** | **{_usd(total_actual)}** "
        f"| **{_signed(total_actual - doc.total)}** |"
    )
    out += [
        "",
        "External services are not billed through AWS; the estimate's `external` line has no "
        "actual figure here.",
    ]
    return "\n".join(out) + "\n"


# --- the figures in docs/cost.md ------------------------------------------------------------------

FIGURES_BEGIN = "<!-- cost-figures:begin (generated by `make docs`; do not edit) -->"
FIGURES_END = "<!-- cost-figures:end -->"


def render_figures(docs: Mapping[str, CostDocument]) -> str:
    """The estimate of each stack side by side, for docs/cost.md."""
    stacks = list(docs)
    out = [
        "| component | " + " | ".join(stacks) + " |",
        "|---|" + "---:|" * len(stacks),
    ]
    names = sorted({name for doc in docs.values() for name in doc.by_component})
    for name in names:
        cells = [
            _usd(doc.by_component[name]) if name in doc.by_component else "-"
            for doc in docs.values()
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("| **total** | " + " | ".join(f"**{_usd(d.total)}**" for d in docs.values()) + " |")
    budgets = [
        f"{_usd(float(d.budget['limitUsd']))} ({_usd(float(d.budget['headroomUsd']))} headroom)"
        if d.budget
        else "-"
        for d in docs.values()
    ]
    out.append("| budget | " + " | ".join(budgets) + " |")
    out.append("")
    for stack, doc in docs.items():
        if not doc.per_customer:
            continue
        out += ["", f"**{stack}**, cost per customer:", ""]
        out += [f"- {sentence.strip()}" for sentence in per_customer_sentences(doc.per_customer)]
    return "\n".join([FIGURES_BEGIN, *out, FIGURES_END])


def replace_figures(text: str, figures: str) -> str:
    """``text`` with its generated figures block replaced by ``figures``."""
    start = text.index(FIGURES_BEGIN)
    end = text.index(FIGURES_END) + len(FIGURES_END)
    return text[:start] + figures + text[end:]
