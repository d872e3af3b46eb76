"""The availability model: the catalog, each path composed from the stack, the targets and the
prod guard that refuses a path below its target."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.availability import (
    CATALOG_FILE,
    AvailabilityCatalog,
    AvailabilityError,
    Figure,
    Link,
    PathKind,
    PathName,
    load_availability_catalog,
)
from infra.availability import (
    BelowTargetError,
    availability_report,
    check_availability,
    stack_paths,
)
from infra.composition import StackParts
from infra.config import ConfigError, StackConfig, parse_stack_config
from infra.cost import estimate_stack
from infractl.offline.engine import RecordingMonitor, run_program, run_stack
from infractl.offline.mocks import PlatformMocks
from infractl.offline.plan import Plan
from infractl.offline.stackfile import read_stack_file
from tests.conftest import LIFTED_BUDGET, minimal_values, stack_config

AVAILABILITY = "genericcorp:availability"
CATALOG = load_availability_catalog()


def percent(key: str) -> float:
    return CATALOG.figure(key, needed_by="the test").percent


def fraction(key: str) -> float:
    return percent(key) / 100


def paths(plan: Plan) -> dict[str, dict[str, Any]]:
    return {path["path"]: path for path in plan.outputs["availability"]["paths"]}


def with_prod_availability(**changes: Any) -> dict[str, Any]:
    """Prod's availability key as its stack file has it, with ``changes``: an override replaces
    the whole key, so the stack file's accepted shortfall is kept unless changed."""
    committed = dict(read_stack_file("prod").values[AVAILABILITY])
    return {AVAILABILITY: committed | changes}


# --- the catalog -----------------------------------------------------------------------------


def test_every_figure_has_kind_title_source_date_and_confidence() -> None:
    assert CATALOG.figures
    for figure in CATALOG.figures:
        assert figure.kind in {"sla", "design", "planning"}, figure.key
        assert figure.title, figure.key
        assert figure.source.startswith("https://"), figure.key
        assert figure.date.startswith("2026-"), figure.key
        assert figure.confidence in {"high", "medium", "low"}, figure.key


def test_a_figure_that_is_not_confirmed_says_so() -> None:
    for figure in CATALOG.figures:
        if figure.confidence != "high":
            assert figure.note, f"{figure.key}: say why it is not high confidence"
        if figure.kind == "planning":
            assert figure.confidence == "low", figure.key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("route53.dns", 100),
        ("cloudfront.distribution", 99.9),
        ("s3.standard", 99.9),
        ("waf.web-acl", 99.95),
        ("elb.multi-az", 99.99),
        ("elb.single-az", 99.9),
        ("ec2.region-level", 99.99),
        ("ec2.instance-level", 99.5),
        ("eks.control-plane", 99.95),
        ("rds.multi-az", 99.95),
        ("rds.single-az", 99.5),
        ("elasticache.multi-az", 99.99),
        ("elasticache.single-az", 99.5),
    ],
)
def test_catalog_holds_the_published_slas(key: str, expected: float) -> None:
    figure = CATALOG.figure(key, needed_by="the test")
    assert figure.percent == expected
    assert figure.kind == "sla"
    assert "Service Level Agreement" in figure.title


def test_a_catalog_with_a_repeated_key_is_refused() -> None:
    entry = CATALOG.figures[0].model_dump()
    with pytest.raises(ValueError, match=f"repeated: {entry['key']}"):
        AvailabilityCatalog.model_validate({"collected": "2026-11", "figures": [entry, entry]})


def without(key: str) -> AvailabilityCatalog:
    return CATALOG.model_copy(update={"figures": [f for f in CATALOG.figures if f.key != key]})


def test_a_missing_figure_names_the_service_that_needs_it_and_the_catalog_file() -> None:
    with pytest.raises(AvailabilityError) as caught:
        availability_report(stack_config("prod"), catalog=without("rds.multi-az"))
    message = str(caught.value)
    assert message.startswith(f"availability catalog {CATALOG_FILE} has no figure 'rds.multi-az'")
    assert "the api path's PostgreSQL (Multi-AZ) needs it" in message
    assert "figures of that service: rds.single-az" in message


def test_a_missing_figure_fails_the_plan_before_any_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "infra.availability.load_availability_catalog", lambda: without("vercel.hosting")
    )
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(AvailabilityError, match="the landing path's hosting \\(Vercel\\)"):
        run_program(read_stack_file("prod"), preview=False, monitor=monitor)
    assert [r.type for r in monitor.records] == ["pulumi:pulumi:Stack"]


# --- composition ---------------------------------------------------------------------------


def test_the_api_path_is_the_product_of_its_links_computed_by_hand(plan: Plan) -> None:
    zones = {"dev": 2, "prod": 3}[plan.stack]
    nodes = min(1 - (1 - fraction("ec2.instance-level")) ** zones, fraction("ec2.region-level"))
    database = fraction({"dev": "rds.single-az", "prod": "rds.multi-az"}[plan.stack])
    cache = fraction({"dev": "elasticache.single-az", "prod": "elasticache.multi-az"}[plan.stack])
    by_hand = fraction("route53.dns") * fraction("elb.multi-az") * nodes * database * cache
    api = paths(plan)["api"]
    assert api["figurePercent"] == round(100 * by_hand, 4)
    assert api["figurePercent"] == {"dev": 98.9827, "prod": 99.92}[plan.stack]
    assert api["downtimeMinutesPerMonth"] == round((1 - by_hand) * 43_800, 1)
    assert [link["name"] for link in api["links"]][:3] == [
        "Route 53 (DNS)",
        f"Ingress ALB ({zones} zones)",
        f"Nodes (general: {zones} of {zones} zones)",
    ]


def test_prod_meets_the_api_target_and_dev_falls_short_on_its_single_az_data_tier(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    dev, prod = paths(dev_plan)["api"], paths(prod_plan)["api"]
    assert prod["targetPercent"] == dev["targetPercent"] == 99.9
    assert prod["meetsTarget"] is True
    assert prod["weakestLink"] == "PostgreSQL (RDS Multi-AZ)"
    assert prod["weakestLinkPercent"] == 99.95
    assert prod["targetDowntimeMinutesPerMonth"] == 43.8
    assert dev["meetsTarget"] is False
    assert dev["figurePercent"] < prod["figurePercent"]
    assert dev["weakestLink"] == "PostgreSQL (RDS Single-AZ) and Redis OSS (ElastiCache, 1 node)"
    assert dev["weakestLinkPercent"] == 99.5


def test_what_closes_the_dev_gap_is_priced_from_the_price_catalog() -> None:
    dev = stack_config("dev")
    api = availability_report(dev).path(PathName.API)
    assert [step.setting for step in api.gap] == [
        "genericcorp:cache.nodeCount: 2",
        "genericcorp:database.multiAz: true",
    ]
    replica = dev.model_copy(update={"cache": dev.cache.model_copy(update={"node_count": 2})})
    both = replica.model_copy(
        update={"database": dev.database.model_copy(update={"multi_az": True})}
    )
    base = estimate_stack(dev).total_usd
    assert api.gap[0].monthly_usd == pytest.approx(estimate_stack(replica).total_usd - base)
    assert api.gap[1].cumulative_usd == pytest.approx(estimate_stack(both).total_usd - base)
    assert [step.meets_target for step in api.gap] == [False, True]
    assert api.gap[1].percent == pytest.approx(
        availability_report(both).path(PathName.API).path.percent
    )


def dev_with(overrides: dict[str, Any]) -> StackConfig:
    return parse_stack_config("dev", minimal_values("dev", overrides))


def test_a_change_of_topology_changes_the_figure() -> None:
    base = availability_report(dev_with({})).path(PathName.API).path
    multi_az = availability_report(dev_with({"genericcorp:database": {"multiAz": True}}))
    raised = multi_az.path(PathName.API).path
    assert raised.percent > base.percent
    assert raised.weakest_name == "Redis OSS (ElastiCache, 1 node)"
    one_node = dev_with(
        {
            "genericcorp:cluster": {
                "accessEntries": minimal_values("dev")["genericcorp:cluster"]["accessEntries"],
                "nodeGroups": [
                    {
                        **stack_config("dev")
                        .cluster.node_groups[0]
                        .model_dump(by_alias=True, mode="json"),
                        "minSize": 1,
                        "desiredSize": 1,
                    }
                ],
            }
        }
    )
    report = availability_report(one_node).path(PathName.API)
    [nodes] = [link for link in report.path.links if link.name.startswith("Nodes")]
    assert nodes.name == "Nodes (general: 1 of 2 zones)"
    assert nodes.percent == percent("ec2.instance-level")
    assert report.path.percent < base.percent
    assert "genericcorp:cluster.nodeGroups[0].minSize: 2" in [s.setting for s in report.gap]


def test_one_zone_uses_the_single_zone_load_balancer_figure() -> None:
    one_zone = availability_report(
        dev_with({"genericcorp:network": {"azCount": 1}, **LIFTED_BUDGET})
    ).path(PathName.API)
    alb = one_zone.path.links[1]
    assert alb.name == "Ingress ALB (1 zone)"
    assert alb.percent == percent("elb.single-az")
    assert one_zone.gap[0].setting.startswith("genericcorp:")


def test_every_path_names_its_kind_links_and_sources(plan: Plan) -> None:
    found = paths(plan)
    served = {
        "dev": ["api", "cdn", "control"],
        "prod": ["api", "landing", "demo", "cdn", "control"],
    }
    assert list(found) == served[plan.stack]
    for name, path in found.items():
        assert path["kind"] == ("control" if name == "control" else "request")
        assert path["confidence"] in {"high", "medium", "low"}
        for link in path["links"]:
            assert link["basis"]
            for figure in link["figures"]:
                assert figure["source"].startswith("https://")
                assert {"key", "percent", "kind", "title", "date", "confidence"} <= set(figure)
    availability = plan.outputs["availability"]
    assert availability["month"] == {"hours": 730, "minutes": 43800}
    assert availability["catalog"]["file"] == CATALOG_FILE
    assert any("Instance-Level SLA (99.5%)" in a for a in availability["assumptions"])
    if plan.stack == "dev":
        assert set(availability["notServed"]) == {"landing", "demo"}
        assert any("SPOT" in a for a in availability["assumptions"])


def test_the_control_path_holds_what_serves_no_request(prod_plan: Plan) -> None:
    control = paths(prod_plan)["control"]
    assert control["kind"] == str(PathKind.CONTROL)
    assert control["targetPercent"] is None
    assert control["meetsTarget"] is None
    assert [link["name"] for link in control["links"]] == [
        "EKS control plane",
        "NAT egress (3 gateways)",
        "ECR (image pulls)",
        "CI deploys (GitHub Actions)",
    ]
    api_links = " ".join(link["name"] for link in paths(prod_plan)["api"]["links"])
    assert "EKS" not in api_links
    assert "NAT" not in api_links


def test_the_cdn_cannot_reach_its_target_on_published_figures_and_prod_accepts_it(
    prod_plan: Plan,
) -> None:
    cdn = paths(prod_plan)["cdn"]
    by_hand = (
        fraction("route53.dns")
        * fraction("cloudfront.distribution")
        * fraction("waf.web-acl")
        * fraction("s3.standard")
    )
    assert cdn["figurePercent"] == round(100 * by_hand, 4) == 99.7502
    assert cdn["targetPercent"] == 99.9
    assert cdn["meetsTarget"] is False
    assert cdn["acceptedShortfall"]["figurePercent"] == 99.75
    assert cdn["toCloseTheGap"] == []
    assert cdn["gapNote"].startswith("No change of this stack brings the cdn path to 99.9%")


@given(
    zone=st.floats(min_value=50, max_value=99.99),
    headroom=st.floats(min_value=0, max_value=1),
    zones=st.integers(min_value=1, max_value=6),
)
def test_redundancy_across_zones_never_lowers_a_link_nor_passes_its_cap(
    zone: float, headroom: float, zones: int
) -> None:
    cap = zone + (100 - zone) * headroom

    def figure(key: str, value: float) -> Figure:
        return Figure(
            key=key,
            percent=value,
            kind="sla",
            title=key,
            source="https://example.com",
            date="2026-11",
            confidence="high",
        )

    def across(count: int) -> Link:
        return Link.across_zones("x", figure("zone", zone), count, figure("cap", cap), what="x")

    fewer, more = across(zones), across(zones + 1)
    assert zone - 1e-9 <= fewer.percent <= cap + 1e-9
    assert fewer.percent - 1e-9 <= more.percent <= cap + 1e-9
    assert across(0).percent == 0


# --- targets and accepted shortfalls: bad input --------------------------------------------


def only_problem(environment: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    [problem] = caught.value.problems
    return problem.render()


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ({"api": 0}, "genericcorp:availability.targets.api = 0: must be greater than 0"),
        ({"api": 100}, "genericcorp:availability.targets.api = 100: must be less than 100"),
        ({"api": -1}, "genericcorp:availability.targets.api = -1: must be greater than 0"),
        ({"api": 150}, "genericcorp:availability.targets.api = 150: must be less than 100"),
        ({"cdn": 100}, "genericcorp:availability.targets.cdn = 100: must be less than 100"),
        ({"control": 0}, "genericcorp:availability.targets.control = 0: must be greater than 0"),
        (
            {"api": "99.9"},
            'genericcorp:availability.targets.api = "99.9": expected a number, got a string',
        ),
        (
            {"api": None},
            "genericcorp:availability.targets.api = null: expected a number, got null",
        ),
        (
            {"apis": 99.9},
            "genericcorp:availability.targets.apis = 99.9: unknown key; did you mean 'api'? "
            "Allowed keys here: api, cdn, control, demo, landing",
        ),
    ],
)
def test_a_target_outside_0_to_100_is_refused_naming_its_key(
    targets: dict[str, Any], expected: str
) -> None:
    for environment in ("dev", "prod"):
        assert only_problem(environment, {AVAILABILITY: {"targets": targets}}) == expected


def shortfall(path: str = "cdn", figure: Any = 99.5, reason: str = "a reason") -> dict[str, Any]:
    return {"path": path, "figurePercent": figure, "reason": reason}


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        (
            [shortfall(figure=0)],
            "genericcorp:availability.acceptedShortfall[0].figurePercent = 0: must be greater "
            "than 0",
        ),
        (
            [shortfall(figure=100)],
            "genericcorp:availability.acceptedShortfall[0].figurePercent = 100: must be less "
            "than 100",
        ),
        (
            [shortfall(figure=99.95)],
            "item 0 (cdn): figurePercent 99.95 is not below the path's target 99.9, so it is no "
            "shortfall",
        ),
        (
            [shortfall(path="control")],
            "item 0 accepts a shortfall of path control, which has no target "
            "(genericcorp:availability.targets.control is null)",
        ),
        ([shortfall(), shortfall()], "one entry per path; repeated: cdn"),
        (
            [shortfall(path="www")],
            'genericcorp:availability.acceptedShortfall[0].path = "www": not allowed; expected '
            "one of 'api', 'landing', 'demo', 'cdn' or 'control'",
        ),
        (
            [shortfall(reason="")],
            'genericcorp:availability.acceptedShortfall[0].reason = "": String should have at '
            "least 1 character",
        ),
    ],
)
def test_a_bad_accepted_shortfall_is_refused(accepted: list[Any], expected: str) -> None:
    assert expected in only_problem("prod", {AVAILABILITY: {"acceptedShortfall": accepted}})


# --- the prod guard --------------------------------------------------------------------------


def test_prod_refuses_a_change_that_takes_a_path_below_its_target() -> None:
    overrides = with_prod_availability(targets={"api": 99.95})
    with pytest.raises(BelowTargetError) as caught:
        run_stack("prod", config_overrides=overrides)
    message = str(caught.value)
    assert message.startswith(
        "Pulumi.prod.yaml: 1 availability problem; nothing was deployed:\n  - path api: 99.92% "
        "(35.0 minutes a month) is below its target genericcorp:availability.targets.api = "
        "99.95 (21.9 minutes); weakest link: PostgreSQL (RDS Multi-AZ) at 99.95%."
    )
    assert "The target stays" in message


def test_the_guard_refuses_before_any_resource_is_declared() -> None:
    stack_file = read_stack_file("prod")
    monitor = RecordingMonitor(PlatformMocks())
    values = stack_file.values | with_prod_availability(targets={"api": 99.95})
    with pytest.raises(BelowTargetError):
        run_program(
            type(stack_file)(stack_file.project, "prod", stack_file.path, values),
            preview=False,
            monitor=monitor,
        )
    assert [r.type for r in monitor.records] == ["pulumi:pulumi:Stack"]


def test_a_lowered_topology_is_refused_naming_the_path_and_the_link() -> None:
    # Prod's rules refuse a single-AZ database before the model runs; the guard refuses what
    # the rules do not know about, here the same change reaching the model.
    prod = stack_config("prod")
    lowered = prod.model_copy(
        update={"database": prod.database.model_copy(update={"multi_az": False})}
    )
    with pytest.raises(BelowTargetError) as caught:
        check_availability(availability_report(lowered))
    message = str(caught.value)
    assert "path api: 99.4702% (232.1 minutes a month) is below its target" in message
    assert "weakest link: PostgreSQL (RDS Single-AZ) at 99.5%" in message
    assert "What raises it: genericcorp:database.multiAz: true (a synchronous standby in a " in (
        message
    )


def test_without_its_acknowledgement_the_prod_cdn_is_refused() -> None:
    with pytest.raises(BelowTargetError) as caught:
        run_stack("prod", config_overrides=with_prod_availability(acceptedShortfall=[]))
    message = str(caught.value)
    assert "path cdn: 99.7502% (109.4 minutes a month) is below its target" in message
    assert "weakest link: CloudFront and S3 origin at 99.9%" in message
    assert "No change of this stack brings the cdn path to 99.9%" in message


def test_a_change_below_the_accepted_shortfall_is_refused() -> None:
    overrides = with_prod_availability(acceptedShortfall=[shortfall(figure=99.76)])
    with pytest.raises(BelowTargetError) as caught:
        run_stack("prod", config_overrides=overrides)
    assert (
        "is below its target genericcorp:availability.targets.cdn = 99.9 (43.8 minutes) and "
        "below the shortfall accepted for it, genericcorp:availability.acceptedShortfall[0]."
        "figurePercent = 99.76"
    ) in str(caught.value)


def test_an_acceptance_of_a_shortfall_that_is_not_there_is_refused() -> None:
    committed = read_stack_file("prod").values[AVAILABILITY]["acceptedShortfall"]
    overrides = with_prod_availability(
        acceptedShortfall=[*committed, shortfall(path="api", figure=99.5)]
    )
    with pytest.raises(BelowTargetError) as caught:
        run_stack("prod", config_overrides=overrides)
    assert (
        "path api: 99.92% (35.0 minutes a month) meets its target genericcorp:availability."
        "targets.api = 99.9 (43.8 minutes), yet genericcorp:availability.acceptedShortfall[1] "
        "accepts a shortfall for it: remove the entry"
    ) in str(caught.value)


def test_an_acceptance_for_a_path_the_stack_does_not_serve_is_refused() -> None:
    prod = stack_config("prod")
    without_vercel = prod.model_copy(
        update={
            "dns": prod.dns.model_copy(
                update={"records": [r for r in prod.dns.records if r.type != "CNAME"]}
            ),
            "availability": prod.availability.model_copy(
                update={
                    "accepted_shortfall": [
                        *prod.availability.accepted_shortfall,
                        prod.availability.accepted_shortfall[0].model_copy(
                            update={"path": PathName.DEMO}
                        ),
                    ]
                }
            ),
        }
    )
    with pytest.raises(BelowTargetError) as caught:
        check_availability(availability_report(without_vercel))
    assert (
        "genericcorp:availability.acceptedShortfall[1] accepts a shortfall of path demo, which "
        "this stack does not serve (no record of demo.genericcorp.com points at Vercel)"
    ) in str(caught.value)


def test_dev_is_reported_against_its_targets_but_not_refused(dev_plan: Plan) -> None:
    assert paths(dev_plan)["api"]["meetsTarget"] is False
    check_availability(availability_report(stack_config("dev")))


def test_the_api_web_acl_fails_open_and_so_stays_out_of_the_api_figure(prod_plan: Plan) -> None:
    # Prod's regional web ACL is attached with waf.fail_open.enabled: a WAF outage does not stop
    # requests, so the api path is the product computed without it (99.92%).
    assert paths(prod_plan)["api"]["figurePercent"] == 99.92
    assert "WAF web ACL (regional)" not in [
        link["name"] for link in paths(prod_plan)["api"]["links"]
    ]
    closed = parse_stack_config(
        "prod",
        read_stack_file("prod").values | {"genericcorp:ingress": {"waf": {"failOpen": False}}},
    )
    served, _ = stack_paths(StackParts.of(closed), load_availability_catalog())
    api = served[PathName.API]
    assert "WAF web ACL (regional)" in [link.name for link in api.links]
    # In series, WAF's 99.95% takes prod below its 99.9% target.
    assert api.fraction < 0.999
