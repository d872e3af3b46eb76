"""Zone loss: prod survives any one zone, dev's weak points are the documented ones, and the
nodes left hold (or visibly do not hold) the platform and its tenants."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.composition import StackParts
from infra.config import ConfigError, parse_stack_config
from infra.node_capacity import CapacityError, Resources
from infra.zone_loss import (
    RESTORE_RTO_MINUTES,
    Placement,
    ServicePath,
    State,
    Tier,
    ZoneLossError,
    ZoneLossReport,
    nat_zone_for,
    simulate,
)
from infractl.aws.restore_drill import DEFAULT_RTO_MINUTES
from infractl.cli import app
from infractl.offline.plan import Plan
from infractl.offline.stackfile import read_stack_file
from tests.conftest import plan_for

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

PROD_ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
DEV_ZONES = ("us-east-1a", "us-east-1b")


def zones_of(stack: str) -> list[str]:
    """The zones a stack's plan placed its subnets in."""
    return list(plan_for(stack).outputs["network"]["availabilityZones"])


def report_for(
    stack: str,
    overrides: dict[str, Any] | None = None,
    *,
    zones: tuple[str, ...] | None = None,
    placement: Placement | None = None,
) -> ZoneLossReport:
    """The simulation of a committed stack file, some keys replaced (full key -> value)."""
    stack_file = read_stack_file(stack)
    config = parse_stack_config(
        stack, {**stack_file.values, **(overrides or {})}, stack_file.secret_keys
    )
    return simulate(StackParts.of(config), zones or zones_of(stack), placement)


def states(report: ZoneLossReport, zone: str) -> dict[Tier, State]:
    return {outcome.tier: outcome.state for outcome in report.loss_of(zone).tiers}


def standard_tenants(count: int) -> dict[str, Any]:
    return {"genericcorp:tenants": [{"name": f"t{n}", "tier": "standard"} for n in range(count)]}


def prod_nodes(*, min_size: int, desired: int, max_size: int, **extra: Any) -> dict[str, Any]:
    """A prod node-group override (the stack file's access entries kept)."""
    cluster = dict(read_stack_file("prod").values["genericcorp:cluster"])
    group = {
        "name": "general",
        "instanceTypes": ["m7g.large"],
        "capacityType": "ON_DEMAND",
        "minSize": min_size,
        "desiredSize": desired,
        "maxSize": max_size,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [],
    }
    return {"genericcorp:cluster": {**cluster, "nodeGroups": [group, *extra.values()]}}


# Prod


def test_the_simulation_uses_the_plans_zones() -> None:
    assert tuple(zones_of("prod")) == PROD_ZONES
    assert tuple(zones_of("dev")) == DEV_ZONES


def test_prod_survives_the_loss_of_each_zone() -> None:
    report = report_for("prod")
    assert [loss.zone for loss in report.losses] == list(PROD_ZONES)
    for zone in PROD_ZONES:
        assert report.loss_of(zone).survives, zone
        assert states(report, zone) == {
            Tier.LOAD_BALANCER: State.SERVING,
            Tier.NODES: State.SERVING,
            # The primaries' zones are unknown: each loss is taken as the primary's.
            Tier.DATABASE: State.DEGRADED,
            Tier.CACHE: State.DEGRADED,
            Tier.EGRESS: State.SERVING,
            Tier.CONTROL_PLANE: State.SERVING,
        }, zone
    assert report.survives_any_single_zone
    assert report.single_points_of_failure == ()


def test_prod_failovers_state_their_documented_times() -> None:
    loss = report_for("prod").loss_of("us-east-1a")
    assert "60-120 s" in loss.outcome(Tier.DATABASE).detail
    assert "a few seconds" in loss.outcome(Tier.CACHE).detail
    assert "2 of 3 NAT gateways" in loss.outcome(Tier.EGRESS).capacity
    assert loss.outcome(Tier.CONTROL_PLANE).path is ServicePath.CONTROL
    assert loss.outcome(Tier.DATABASE).path is ServicePath.REQUEST


def test_a_known_primary_outside_the_lost_zone_serves_on() -> None:
    report = report_for("prod", placement=Placement(database="us-east-1a", cache="us-east-1b"))
    assert states(report, "us-east-1c")[Tier.DATABASE] is State.SERVING
    assert states(report, "us-east-1c")[Tier.CACHE] is State.SERVING
    assert states(report, "us-east-1a")[Tier.DATABASE] is State.DEGRADED
    assert states(report, "us-east-1a")[Tier.CACHE] is State.SERVING


def test_prod_capacity_after_a_zone_loss_by_hand() -> None:
    report = report_for("prod")
    # Three m7g.large nodes, one per zone. Each offers 1,930m / 6,903 MiB
    # (test_node_capacity.py), less 230m / 152 MiB of DaemonSets: 1,700m / 6,751 MiB.
    assert report.baseline.nodes == 3
    assert report.baseline.capacity == Resources(5100, 20253)
    for zone in PROD_ZONES:
        nodes = report.loss_of(zone).outcome(Tier.NODES).nodes
        assert nodes is not None
        assert nodes.nodes == 2
        assert nodes.capacity == Resources(3400, 13502)
        # The platform requests 1,610m / 4,192 MiB; prod has no tenant yet.
        assert nodes.platform == Resources(1610, 4192)
        assert nodes.tenants == Resources(0, 0)
        assert nodes.fits
        assert nodes.spare == Resources(1790, 9310)
        assert nodes.max_nodes == 9
        assert nodes.can_scale


def test_prod_with_a_standard_tenant_still_fits_two_nodes() -> None:
    nodes = report_for("prod", standard_tenants(1)).loss_of("us-east-1b").outcome(Tier.NODES)
    assert nodes.state is State.SERVING
    assert nodes.nodes is not None
    # 1,790m / 9,310 MiB to spare, less the tenant's 1,000m / 2,048 MiB.
    assert nodes.nodes.spare == Resources(790, 7262)


def test_nodes_that_do_not_fit_after_a_zone_loss_are_degraded_naming_the_shortfall() -> None:
    report = report_for("prod", standard_tenants(3))
    # Before: 5,100m for pods, 1,610m + 3,000m requested: it fits on three nodes.
    assert report.baseline.fits
    for zone in PROD_ZONES:
        outcome = report.loss_of(zone).outcome(Tier.NODES)
        assert outcome.state is State.DEGRADED
        assert outcome.nodes is not None
        # After: 3,400m for 4,610m requested.
        assert outcome.nodes.shortfall == Resources(1210, 0)
        assert "insufficient: short 1,210m CPU for" in outcome.detail
        # A third node in the zones left holds it again (maxSize 9).
        assert outcome.nodes.nodes_needed == 3
        assert "fits again at 3 nodes" in outcome.detail
        # Degraded is still serving: the zone's loss is survived.
        assert report.loss_of(zone).survives


def test_nodes_short_even_at_max_size_say_so() -> None:
    report = report_for(
        "prod", {**prod_nodes(min_size=3, desired=3, max_size=3), **standard_tenants(2)}
    )
    outcome = report.loss_of("us-east-1a").outcome(Tier.NODES)
    assert outcome.state is State.DEGRADED
    assert outcome.nodes is not None
    # Two nodes offer 3,400m for 3,610m; three (the most) would offer 5,100m: that fits.
    assert outcome.nodes.nodes_needed == 3
    # Four standard tenants need four nodes even before a zone is lost: the stack file is
    # refused (tests/test_tenant_capacity.py). A config built past the loader still gets a
    # plain verdict from the simulation.
    with pytest.raises(ConfigError, match="above its maxSize 3"):
        report_for("prod", {**prod_nodes(min_size=3, desired=3, max_size=3), **standard_tenants(4)})
    stack_file = read_stack_file("prod")
    fitting = parse_stack_config(
        "prod",
        {**stack_file.values, **prod_nodes(min_size=3, desired=3, max_size=3)},
        stack_file.secret_keys,
    )
    four = parse_stack_config(
        "prod", {**read_stack_file("prod").values, **standard_tenants(4)}
    ).tenants
    tight_config = fitting.model_copy(update={"tenants": four})
    tight = simulate(StackParts.of(tight_config), zones_of("prod"), None)
    outcome = tight.loss_of("us-east-1a").outcome(Tier.NODES)
    assert outcome.nodes is not None
    assert outcome.nodes.nodes_needed is None
    assert "still short at maxSize (3 nodes)" in outcome.detail


def test_a_tainted_group_holds_no_platform_or_tenant_pods() -> None:
    batch = {
        "name": "batch",
        "instanceTypes": ["m7g.large"],
        "capacityType": "ON_DEMAND",
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 3,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [{"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}],
    }
    report = report_for("prod", prod_nodes(min_size=3, desired=3, max_size=9, batch=batch))
    nodes = report.loss_of("us-east-1a").outcome(Tier.NODES).nodes
    assert nodes is not None
    assert nodes.nodes == 4
    assert nodes.capacity == Resources(3400, 13502)


def test_prod_refuses_a_single_nat_gateway() -> None:
    with pytest.raises(ConfigError, match="natStrategy"):
        report_for("prod", {"genericcorp:network": {"azCount": 3, "natStrategy": "single"}})


# Dev


def _documented_table(header: str) -> list[dict[str, str]]:
    """The rows of the table in docs/architecture.md's "Zone loss" section whose header row
    has ``header`` as a column, keyed by column."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Zone loss\n", 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"((?:^\|.*\|\n)+)", section, re.MULTILINE):
        rows = [
            [cell.strip() for cell in line.strip("|").split("|")] for line in block.splitlines()
        ]
        if header in rows[0]:
            return [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]
    raise AssertionError(f"docs/architecture.md's Zone loss section has no '{header}' table")


def test_devs_single_points_of_failure_are_the_documented_ones() -> None:
    documented = {
        (row["tier"], row["single point of failure"])
        for row in _documented_table("single point of failure")
    }
    simulated = {(str(s.tier), s.component) for s in report_for("dev").single_points_of_failure}
    assert simulated == documented


def test_prods_documented_states_are_the_simulated_ones() -> None:
    report = report_for("prod")
    worst = {
        str(tier): max(
            (states(report, zone)[tier] for zone in PROD_ZONES), key=list(State).index
        ).value
        for tier in Tier
    }
    documented = {row["tier"]: row["state"] for row in _documented_table("state")}
    assert documented == worst


def test_dev_losing_the_nat_gateways_zone_cuts_egress_everywhere() -> None:
    report = report_for("dev")
    loss = report.loss_of("us-east-1a")
    assert not loss.survives
    egress = loss.outcome(Tier.EGRESS)
    assert egress.state is State.DOWN
    assert egress.single_point_of_failure == "the one NAT gateway"
    assert "us-east-1b lose internet egress" in egress.detail
    # Without egress no node can join: the one node left is all there is.
    nodes = loss.outcome(Tier.NODES)
    assert nodes.state is State.DEGRADED
    assert nodes.nodes is not None
    assert not nodes.nodes.can_scale
    assert "no node can join" in nodes.detail
    # Losing the other zone leaves the gateway serving.
    assert states(report, "us-east-1b")[Tier.EGRESS] is State.SERVING


def test_devs_one_node_left_cannot_hold_the_platform_and_tenants() -> None:
    report = report_for("dev")
    # Before: two t4g.medium nodes of 1,930m / 3,246 MiB allocatable, less DaemonSets, offer
    # 3,400m / 6,188 MiB for the platform's 1,140m / 2,812 MiB and the tenants' 1,250m /
    # 2,560 MiB (acme starter, globex standard).
    assert report.baseline.capacity == Resources(3400, 6188)
    assert report.baseline.tenants == Resources(1250, 2560)
    assert report.baseline.fits
    outcome = report.loss_of("us-east-1b").outcome(Tier.NODES)
    assert outcome.state is State.DEGRADED
    assert outcome.nodes is not None
    assert outcome.nodes.shortfall == Resources(690, 2278)
    assert "short 690m CPU and 2,278 MiB memory" in outcome.detail
    # The NAT gateway's zone is left: a second node joins there.
    assert outcome.nodes.nodes_needed == 2


def test_a_single_nat_gateway_in_three_zones() -> None:
    report = report_for(
        "dev",
        {"genericcorp:network": {"azCount": 3, "natStrategy": "single"}},
        zones=PROD_ZONES,
    )
    assert states(report, "us-east-1a")[Tier.EGRESS] is State.DOWN
    assert "us-east-1b, us-east-1c lose internet egress" in (
        report.loss_of("us-east-1a").outcome(Tier.EGRESS).detail
    )
    for zone in ("us-east-1b", "us-east-1c"):
        assert states(report, zone)[Tier.EGRESS] is State.SERVING
        # Three zones: two are left for the load balancer.
        assert states(report, zone)[Tier.LOAD_BALANCER] is State.SERVING
    egress = [s for s in report.single_points_of_failure if s.tier is Tier.EGRESS]
    assert [(s.component, s.zones) for s in egress] == [("the one NAT gateway", ("us-east-1a",))]


def test_dev_with_a_nat_gateway_per_zone_keeps_egress() -> None:
    report = report_for("dev", {"genericcorp:network": {"natStrategy": "one-per-az"}})
    assert all(states(report, zone)[Tier.EGRESS] is State.SERVING for zone in DEV_ZONES)
    assert Tier.EGRESS not in {s.tier for s in report.single_points_of_failure}


def test_dev_without_nat_gateways_has_no_egress_to_lose() -> None:
    report = report_for("dev", {"genericcorp:network": {"natStrategy": "none"}})
    loss = report.loss_of("us-east-1b")
    assert loss.outcome(Tier.EGRESS).state is State.SERVING
    assert "natStrategy none" in loss.outcome(Tier.EGRESS).capacity
    nodes = loss.outcome(Tier.NODES).nodes
    assert nodes is not None
    assert not nodes.can_scale


def test_a_known_single_az_database_zone_is_down_only_with_that_zone() -> None:
    report = report_for("dev", placement=Placement(database="us-east-1b", cache="us-east-1a"))
    assert states(report, "us-east-1a")[Tier.DATABASE] is State.SERVING
    assert states(report, "us-east-1b")[Tier.DATABASE] is State.DOWN
    assert states(report, "us-east-1a")[Tier.CACHE] is State.DOWN
    assert states(report, "us-east-1b")[Tier.CACHE] is State.SERVING
    spofs = {s.tier: s.zones for s in report.single_points_of_failure}
    assert spofs[Tier.DATABASE] == ("us-east-1b",)
    assert spofs[Tier.CACHE] == ("us-east-1a",)


def test_the_single_az_database_states_the_restore_objectives() -> None:
    # The objective the restore drill times restores against.
    assert RESTORE_RTO_MINUTES == DEFAULT_RTO_MINUTES
    detail = report_for("dev").loss_of("us-east-1a").outcome(Tier.DATABASE).detail
    assert f"RTO {DEFAULT_RTO_MINUTES} minutes" in detail
    assert "the last 5 minutes" in detail


def test_one_zone_takes_everything_but_the_control_plane() -> None:
    report = report_for(
        "dev",
        {**{"genericcorp:network": {"azCount": 1}}, "genericcorp:budget": {"limitUsd": 1000}},
        zones=("us-east-1a",),
    )
    loss = report.loss_of("us-east-1a")
    assert {o.tier for o in loss.down} == set(Tier) - {Tier.CONTROL_PLANE}
    assert not loss.survives


def test_dev_loses_a_zone_with_the_load_balancer_in_the_other_alone() -> None:
    outcome = report_for("dev").loss_of("us-east-1a").outcome(Tier.LOAD_BALANCER)
    assert outcome.state is State.DEGRADED
    assert "us-east-1b alone" in outcome.detail


# The plan as the simulation reads it


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_private_routes_leave_through_the_nat_gateway_the_simulation_names(stack: str) -> None:
    plan: Plan = plan_for(stack)
    zones = zones_of(stack)
    network = StackParts.of(parse_stack_config(stack, read_stack_file(stack).values)).network
    for index, zone in enumerate(zones):
        route = plan.named(f"network-private-default-{zone}", "aws:ec2/route:Route")
        gateway = plan.by_id(str(route.inputs["natGatewayId"]))
        expected = nat_zone_for(network, index)
        assert expected is not None
        assert gateway.name == f"network-nat-{zones[expected]}"


# Errors


def test_zones_that_are_not_the_stacks_are_refused() -> None:
    with pytest.raises(ZoneLossError, match=r"azCount = 3 zones; got 2"):
        report_for("prod", zones=DEV_ZONES)
    with pytest.raises(ZoneLossError, match="got 3"):
        report_for("prod", zones=("us-east-1a", "us-east-1a", "us-east-1b"))


def test_a_primary_outside_the_stacks_zones_is_refused() -> None:
    with pytest.raises(ZoneLossError, match=r"database cannot be in us-east-1d"):
        report_for("prod", placement=Placement(database="us-east-1d"))


def test_an_instance_type_without_figures_is_named() -> None:
    cluster = prod_nodes(min_size=3, desired=3, max_size=9)
    cluster["genericcorp:cluster"]["nodeGroups"][0]["instanceTypes"] = ["m7g.4xlarge"]
    with pytest.raises(CapacityError, match=r"m7g\.4xlarge"):
        report_for("prod", cluster)


# The command


@pytest.fixture
def cached_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command plans each stack offline; tests reuse the session's plans."""
    monkeypatch.setattr("infractl.offline.engine.run_stack", lambda stack, **_: plan_for(stack))


def test_zone_loss_prints_every_zone_the_verdict_and_the_sources() -> None:
    result = runner.invoke(app, ["zone-loss", "dev"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Loss of us-east-1a: does not survive" in out
    assert "Loss of us-east-1b: does not survive" in out
    assert "egress: the one NAT gateway (lost with us-east-1a)" in out
    assert "Failing over a Multi-AZ DB instance" in out


@pytest.mark.usefixtures("cached_plans")
def test_zone_loss_json() -> None:
    result = runner.invoke(app, ["zone-loss", "prod", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["survivesAnySingleZone"] is True
    assert document["zones"] == list(PROD_ZONES)
    assert document["singlePointsOfFailure"] == []
    nodes = document["losses"][0]["tiers"][1]
    assert nodes["tier"] == "nodes"
    assert nodes["figures"]["capacity"] == {"cpuMillicores": 3400, "memoryMib": 13502}
    assert document["sources"]


@pytest.mark.usefixtures("cached_plans")
def test_zone_loss_markdown_with_known_primaries() -> None:
    result = runner.invoke(
        app,
        [
            "zone-loss",
            "prod",
            "--markdown",
            "--database-zone",
            "us-east-1a",
            "--cache-zone",
            "us-east-1a",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "### Loss of us-east-1a: survives" in result.stdout
    assert "| database | request | serving |" in result.stdout
    assert "**prod survives the loss of any one zone.**" in result.stdout
    assert "Data stores: database primary in us-east-1a, cache primary in us-east-1a." in (
        result.stdout
    )


@pytest.mark.usefixtures("cached_plans")
def test_zone_loss_refuses_a_zone_the_stack_does_not_span() -> None:
    result = runner.invoke(app, ["zone-loss", "prod", "--database-zone", "eu-west-1a"])
    assert result.exit_code == 2
    assert "zone-loss: the database cannot be in eu-west-1a" in result.output


def test_zone_loss_refuses_two_formats_and_unknown_stacks() -> None:
    both = runner.invoke(app, ["zone-loss", "prod", "--json", "--markdown"])
    assert both.exit_code == 2
    assert "exclusive" in both.output
    unknown = runner.invoke(app, ["zone-loss", "qa"])
    assert unknown.exit_code == 2
    assert "Pulumi.qa.yaml" in unknown.output
