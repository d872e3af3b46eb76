"""``infractl``: the operator CLI of the platform stacks.

Commands:
  plan STACK               render the stack offline (mock runtime): tree, counts, outputs
  policy STACK             the policy pack's results over the offline plan (table, JSON, Markdown)
  config-reference         write the stack configuration reference (docs/configuration.md)
  cost ...                 cost estimate, diff, chart and actual spend (infractl/cost/cli.py)
  availability ...         each path's availability, and its diff (infractl/availability/cli.py)
  tenants diff BASE HEAD   tenants a stack file change removes: retired, or refused in prod
  policy-reference         write the rules table of docs/policies.md
  outputs-reference        write every component's outputs (docs/outputs.md)
  bootstrap                create or check the S3 state bucket and KMS secrets key (boto3)
  verify                   check a deployed stack's live resources against its outputs (boto3)
  preflight STACK          before a deploy: each zone offers the node groups' instance types
  restore-drill STACK      restore the latest backups to isolated copies, time them, delete them
  zone-loss STACK          each zone's loss, tier by tier: what keeps serving, with what capacity

Exit status: 0 on success, 2 when a stack or its configuration is invalid, 3 when a mandatory
policy is violated, 1 on other errors.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infractl import tenants, zone_loss
from infractl.availability import cli as availability_cli
from infractl.aws import bootstrap, preflight, restore_drill, verify
from infractl.commands import plan_or_fail
from infractl.cost import cli as cost_cli
from infractl.offline.render import render_plan
from infractl.offline.stackfile import PROJECT_DIR
from infractl.policy.cli import (
    PolicyConfigOption,
    check_plan,
    enforce,
    pack_config,
    policy_reference,
)
from infractl.policy.cli import policy as policy_command

app = typer.Typer(
    help="Operator CLI for the Generic Corp platform stacks. Works without an AWS account, "
    "credentials or the pulumi CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cost_cli.app, name="cost")
app.add_typer(availability_cli.app, name="availability")
app.add_typer(tenants.app, name="tenants")
app.command("bootstrap")(bootstrap.command)
app.command("verify")(verify.command)
app.command("preflight")(preflight.command)
app.command("restore-drill")(restore_drill.command)
app.command("zone-loss")(zone_loss.command)


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="Stack to render: dev or prod.")],
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="PATH",
            help="Also write the machine-readable plan to PATH ('-' writes only JSON to stdout).",
        ),
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Leave computed values unknown, as a real `pulumi preview` of a new stack does.",
        ),
    ] = False,
    project_dir: Annotated[
        Path, typer.Option(help="Directory holding Pulumi.yaml and the stack files.")
    ] = PROJECT_DIR,
    policy_config: PolicyConfigOption = None,
) -> None:
    """Run the real program with the stack's real config under Pulumi's mock runtime.

    Prints the tree of components and resources, the count of each resource type and the
    stack outputs (secret values masked), then runs the policy pack over the recorded
    resources: one line per violation, exit 3 on a mandatory one. Needs no AWS account,
    credentials, pulumi CLI or network.
    """
    policies_config = pack_config(policy_config)
    result = plan_or_fail(stack, project_dir, preview=preview)
    report = check_plan(result, policies_config)
    document = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    if json_path == "-":
        sys.stdout.write(document)
        enforce(report)
        return
    # Piped output (CI logs) gets a wide page instead of rich's 80-column default.
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    render_plan(result, console)
    if json_path:
        Path(json_path).write_text(document, encoding="utf-8")
        Console(stderr=True).print(f"plan written to {json_path}")
    enforce(report)


app.command("policy")(policy_command)
app.command("policy-reference")(policy_reference)


@app.command("outputs-reference")
def outputs_reference(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print every output each component publishes, with its description."""
    from infra.outputs_reference import render_outputs_reference  # noqa: PLC0415 - docs only

    text = render_outputs_reference()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("config-reference")
def config_reference(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the reference of every stack config key with its dev and prod defaults."""
    from infra.config.reference import render_reference  # noqa: PLC0415 - docs only

    text = render_reference()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def main() -> None:
    """The ``infractl`` command. Each run is one short process, so the cyclic garbage collector
    stays off and the memory goes back at exit: collecting the offline plan's cycles just before
    exiting was a tenth of a plan's time (see ``infractl.offline.engine``)."""
    gc.disable()
    app()
