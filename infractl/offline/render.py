"""Human-readable rendering of a plan: the resource tree, counts by type and the stack outputs."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infractl.offline.plan import Plan, PlannedResource

#: Inputs worth a glance in the tree, in order of preference; at most two are shown per line.
_HIGHLIGHTS = (
    "cidrBlock",
    "availabilityZone",
    "destinationCidrBlock",
    "name",
    "type",
    "fqdn",
    "domainName",
    "priceClass",
    "metricName",
    "trafficType",
    "retentionInDays",
    "serviceName",
    "protocol",
    "region",
)


def render_plan(plan: Plan, console: Console) -> None:
    mode = "preview (computed values unknown)" if plan.preview else "offline plan"
    console.print(
        Text.assemble(
            ("Stack ", "bold"),
            (f"{plan.project}/{plan.stack}", "bold cyan"),
            f": {mode}, mock runtime, no AWS calls",
        )
    )
    console.print(resource_tree(plan))
    console.print(counts_table(plan))
    console.print(Text("Stack outputs", style="bold"))
    console.print(
        json.dumps(plan.outputs, indent=2, sort_keys=True),
        highlight=False,
        markup=False,
        emoji=False,  # ARNs hold ":secret:", which rich would draw as an emoji
    )


def resource_tree(plan: Plan) -> Tree:
    roots = [r for r in plan.resources if r.parent is None]
    stack = roots[0] if roots else None
    tree = Tree(Text(stack.name if stack else plan.stack, style="bold"), guide_style="dim")

    def add_children(node: Tree, parent: str | None) -> None:
        # Components first, then resources grouped by type.
        for child in sorted(plan.children(parent or ""), key=lambda r: (r.custom, r.type, r.name)):
            add_children(node.add(_label(child)), child.urn)

    add_children(tree, stack.urn if stack else None)
    return tree


def _label(resource: PlannedResource) -> Text:
    style = "bold" if not resource.custom else ""
    label = Text.assemble((resource.name, style), " ", (resource.type, "dim"))
    details = [
        f"{key}={_short(resource.inputs[key])}" for key in _HIGHLIGHTS if key in resource.inputs
    ]
    if details:
        label.append("  " + "  ".join(details[:2]), style="cyan")
    if resource.protect:
        label.append("  [protected]", style="yellow")
    return label


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def counts_table(plan: Plan) -> Group:
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    table.add_column("resource type")
    table.add_column("count", justify="right")
    for type_token, count in plan.counts_by_type().items():
        table.add_row(type_token, str(count))
    components = sum(1 for r in plan.resources if not r.custom) - 1  # not the stack itself
    providers = sum(1 for r in plan.resources if r.type.startswith("pulumi:providers:"))
    summary = Text(
        f"{len(plan.cloud_resources)} cloud resources in {components} components, "
        f"{providers} provider{'s' if providers != 1 else ''}",
        style="bold",
    )
    return Group(Text("Resources by type", style="bold"), table, summary)
