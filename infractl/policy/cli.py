"""``infractl policy STACK``: the policy pack's results over the offline plan, as a table, JSON or
a Markdown PR comment; and the check ``infractl plan`` runs after rendering a stack.

Exit status: 0 when no mandatory policy is violated, 3 when one is (``--exit-zero`` reports
only), 2 for an invalid stack, stack config or policy pack config, 1 on other errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from genericcorp_policy import PolicyConfigError
from rich.console import Console
from rich.table import Table

from infractl.commands import fail, plan_or_fail
from infractl.offline.plan import Plan
from infractl.offline.stackfile import PROJECT_DIR
from infractl.policy.runner import MANDATORY, PolicyReport, load_pack_config, run_policies

EXIT_POLICY_VIOLATION = 3

PolicyConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--policy-config",
        metavar="PATH",
        help="Policy pack config (the JSON `pulumi preview --policy-pack-config` takes).",
    ),
]


def pack_config(path: Path | None) -> dict[str, Any]:
    """The pack config file, checked before the stack runs; a bad one exits 2 with one line."""
    try:
        return load_pack_config(path)
    except PolicyConfigError as error:
        raise fail(str(error)) from None


def check_plan(plan: Plan, config: dict[str, Any]) -> PolicyReport:
    """The pack's results for ``plan``."""
    try:
        return run_policies(plan, config)
    except PolicyConfigError as error:
        raise fail(str(error)) from None


def enforce(report: PolicyReport) -> None:
    """Print one line per violation on stderr; exit 3 when any is mandatory."""
    err = Console(stderr=True, highlight=False, width=200)
    for finding in report.findings:
        err.print(f"policy: {finding.line()}", markup=False, soft_wrap=True)
    if report.mandatory:
        raise fail(
            f"policy: {len(report.mandatory)} mandatory violation(s) in "
            f"{report.project}/{report.stack}; nothing may be deployed until they are fixed "
            "(infractl policy STACK shows every rule)",
            EXIT_POLICY_VIOLATION,
        )


def policy(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    stack: Annotated[str, typer.Argument(help="Stack to check: dev or prod.")],
    policy_config: PolicyConfigOption = None,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write the results as JSON ('-': stdout)."),
    ] = None,
    markdown: Annotated[
        str | None,
        typer.Option(
            "--markdown", metavar="PATH", help="Write a Markdown PR comment ('-': stdout)."
        ),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Leave computed values unknown, as a preview does.")
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even on mandatory violations.")
    ] = False,
    project_dir: Annotated[
        Path, typer.Option(help="Directory holding Pulumi.yaml and the stack files.")
    ] = PROJECT_DIR,
) -> None:
    """Run the policy pack over the stack's offline plan and report every rule's result."""
    config = pack_config(policy_config)
    plan = plan_or_fail(stack, project_dir, preview=preview)
    report = check_plan(plan, config)
    to_stdout = "-" in (json_path, markdown)
    if json_path:
        _write(json_path, json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
    if markdown:
        _write(markdown, render_markdown(report))
    if not to_stdout:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=160)
        render_table(report, console)
    if report.mandatory and not exit_zero:
        raise typer.Exit(EXIT_POLICY_VIOLATION)


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def render_table(report: PolicyReport, console: Console) -> None:
    mode = "preview" if report.preview else "offline plan"
    console.print(f"Policy pack results for {report.project}/{report.stack} ({mode})", style="bold")
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("policy", "control", "level", "result"):
        table.add_column(column)
    for outcome in report.outcomes:
        style = "red" if outcome.violations and outcome.level == MANDATORY else ""
        table.add_row(outcome.name, outcome.control, outcome.level, outcome.status, style=style)
    console.print(table)
    if report.findings:
        console.print("Violations", style="bold")
        for finding in report.findings:
            console.print(finding.line(), markup=False, soft_wrap=True)
    console.print(_summary(report), style="bold")


def _summary(report: PolicyReport) -> str:
    passed = sum(1 for o in report.outcomes if o.status == "pass")
    return (
        f"{len(report.mandatory)} mandatory and {len(report.advisory)} advisory violation(s); "
        f"{passed} of {len(report.outcomes)} policies passed, the others had nothing to check"
        if not report.findings
        else f"{len(report.mandatory)} mandatory and {len(report.advisory)} advisory "
        f"violation(s) from {sum(1 for o in report.outcomes if o.violations)} policies"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: PolicyReport) -> str:
    """A PR comment: the verdict, every violation, and every rule's result folded away."""
    icon = "❌" if report.mandatory else ("⚠️" if report.findings else "✅")
    lines = [
        f"### {icon} Policy pack: `{report.project}/{report.stack}`",
        "",
        _summary(report) + ".",
        "",
    ]
    if report.findings:
        lines += ["| level | policy | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {f.level} | `{f.policy}` | `{_cell(f.resource)}` ({_cell(f.type)}) | "
            f"{_cell(f.message)} |"
            for f in report.findings
        ]
        lines.append("")
    lines += [
        "<details><summary>Every policy</summary>",
        "",
        "| policy | control | level | result |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{o.name}` | {o.control} | {o.level} | {o.status} |" for o in report.outcomes]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


REFERENCE_START = "<!-- policy-reference:start (generated by `make docs`) -->"
REFERENCE_END = "<!-- policy-reference:end -->"


def render_reference() -> str:
    """The rules table of docs/policies.md, generated from the rules themselves."""
    from genericcorp_policy import RULES, Rule  # noqa: PLC0415 - docs only

    lines = [
        "| policy | control | requirement | applies to | scope | configurable |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        if isinstance(rule, Rule):
            types = rule.types or ("every taggable AWS resource",)
        else:
            types = (*rule.subjects, "(stack rule)")
        applies = "<br>".join(f"`{t}`" if ":" in t else t for t in types)
        config = ", ".join(f"`{key}`" for key in rule.config) or "-"
        lines.append(
            f"| `{rule.name}` | {rule.control or '-'} | {rule.description} | {applies} | "
            f"{rule.scope} | {config} |"
        )
    return "\n".join(lines) + "\n"


def write_reference(path: Path) -> None:
    """Replace the generated section of ``path`` (between the markers) with the rules table."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(REFERENCE_START)
    _, _, tail = rest.partition(REFERENCE_END)
    path.write_text(
        f"{head}{REFERENCE_START}\n{render_reference()}{REFERENCE_END}{tail}", encoding="utf-8"
    )


def policy_reference(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Markdown file holding the rules table.")
    ] = PROJECT_DIR / "docs" / "policies.md",
) -> None:
    """Regenerate the rules table of docs/policies.md from the policy pack."""
    write_reference(output)
