"""Bad configuration is refused before anything is declared, with a message naming the stack file,
the key path, the bad value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, StackConfig, parse_stack_config
from infra.config.defaults import environment_defaults
from infra.config.guardrails import prod_rules
from infractl.offline.engine import RecordingMonitor, run_program, run_stack
from infractl.offline.mocks import PlatformMocks
from infractl.offline.stackfile import StackFileError, read_stack_file
from tests.conftest import ADMIN_ENTRY, LIFTED_BUDGET, minimal_values

NETWORK = "genericcorp:network"
CLUSTER = "genericcorp:cluster"
PLATFORM = "genericcorp:platform"
AVAILABILITY = "genericcorp:availability"


def node_group(**changes: Any) -> dict[str, Any]:
    """A valid node group with some fields changed."""
    group = {
        "name": "general",
        "instanceTypes": ["m7g.large"],
        "capacityType": "ON_DEMAND",
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 6,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [],
    }
    return group | changes


def cluster(**changes: Any) -> dict[str, dict[str, Any]]:
    """A cluster override that keeps the admin entry every stack needs."""
    return {CLUSTER: {"accessEntries": [ADMIN_ENTRY], **changes}}


def rejected(environment: str, overrides: dict[str, Any], stack: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack or environment, minimal_values(environment, overrides))
    return caught.value


def only_line(error: ConfigError) -> str:
    assert len(error.problems) == 1, error.render()
    return error.problems[0].render()


# --- the committed stack files are valid --------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stack_files_validate(stack: str) -> None:
    stack_file = read_stack_file(stack)
    config = parse_stack_config(stack, stack_file.values, stack_file.secret_keys)
    assert isinstance(config, StackConfig)
    assert config.stack == stack
    assert config.environment == stack


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_defaults_alone_form_a_valid_config(environment: str) -> None:
    config = parse_stack_config(environment, minimal_values(environment))
    assert config.network.az_count == environment_defaults(config.environment)[NETWORK]["azCount"]


# --- the bad inputs the foundation must refuse ---------------------------------------------


def test_unknown_stack_names_the_missing_file_and_the_known_stacks() -> None:
    with pytest.raises(StackFileError) as caught:
        run_stack("qa")
    message = str(caught.value)
    assert "Pulumi.qa.yaml" in message
    assert "dev, prod" in message


def test_unknown_top_level_key_is_an_error_with_a_suggestion() -> None:
    line = only_line(rejected("dev", {"genericcorp:netwrok": {"azCount": 2}}))
    assert line.startswith("genericcorp:netwrok = ")
    assert "unknown key; did you mean 'genericcorp:network'?" in line


def test_unknown_nested_key_is_an_error_listing_the_allowed_keys() -> None:
    line = only_line(rejected("dev", {NETWORK: {"natStratgy": "single"}}))
    assert line.startswith("genericcorp:network.natStratgy = ")
    assert "did you mean 'natStrategy'?" in line
    assert (
        "Allowed keys here: availabilityZoneIds, azCount, cidr, flowLogs, natStrategy, "
        "subnetPrefixLengths" in line
    )


def test_unknown_namespace_and_unread_aws_keys_are_errors() -> None:
    error = rejected("dev", {"random:seed": "1", "aws:profile": "admin"})
    paths = {problem.path: problem.message for problem in error.problems}
    assert set(paths) == {"random:seed", "aws:profile"}
    assert "unknown namespace 'random'" in paths["random:seed"]
    assert "AWS_PROFILE" in paths["aws:profile"]


def test_engine_options_are_left_to_the_engine() -> None:
    config = parse_stack_config(
        "dev", minimal_values("dev", {"pulumi:disable-default-providers": ["aws"]})
    )
    assert config.environment == "dev"


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/33", "not an IPv4 network in CIDR form such as 10.20.0.0/16"),
        ("10.0.0.1/16", "has host bits set"),
        ("banana", "not an IPv4 network in CIDR form"),
        (16, "expected a string in CIDR form"),
        ("8.8.0.0/16", "must be private RFC 1918 space"),
        ("10.0.0.0/8", "AWS allows VPC prefixes /16 to /28, not /8"),
    ],
)
def test_malformed_cidr(cidr: Any, expected: str) -> None:
    line = only_line(rejected("dev", {NETWORK: {"cidr": cidr}}))
    assert line.startswith(f"genericcorp:network.cidr = {cidr!r}".replace("'", '"'))
    assert expected in line


def test_vpc_cidr_too_small_for_the_subnets_says_what_would_fit() -> None:
    line = only_line(
        rejected(
            "dev",
            {NETWORK: {"cidr": "10.0.0.0/18", "subnetPrefixLengths": {"private": 20}}},
        )
    )
    assert line.startswith('genericcorp:network.cidr = "10.0.0.0/18": too small')
    assert "4 AZ slots" in line
    assert "use a /17 or larger" in line


def test_subnets_larger_than_the_vpc_are_refused() -> None:
    line = only_line(rejected("dev", {NETWORK: {"cidr": "10.0.0.0/20"}}))
    assert "private subnets (/19) must be smaller than the VPC (/20)" in line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "must be at least 1"),
        (-2, "must be at least 1"),
        (2.5, "expected a whole number, got a decimal number"),
        (2.0, "expected a whole number"),
        ("3", "expected a whole number, got a string"),
        (True, "expected a whole number, got a boolean"),
        (None, "expected a whole number, got null"),
    ],
)
def test_az_count_must_be_a_positive_whole_number(value: Any, expected: str) -> None:
    line = only_line(rejected("dev", {NETWORK: {"azCount": value}}))
    assert line.startswith("genericcorp:network.azCount = ")
    assert expected in line


@pytest.mark.parametrize("prefix", [0, 15, 29, "24"])
def test_subnet_prefix_lengths_must_be_whole_numbers_aws_accepts(prefix: Any) -> None:
    line = only_line(rejected("dev", {NETWORK: {"subnetPrefixLengths": {"public": prefix}}}))
    assert line.startswith("genericcorp:network.subnetPrefixLengths.public = ")


def test_unknown_nat_strategy_lists_the_strategies() -> None:
    line = only_line(rejected("dev", {NETWORK: {"natStrategy": "two"}}))
    assert line == (
        'genericcorp:network.natStrategy = "two": not allowed; expected one of '
        "'none', 'single' or 'one-per-az'"
    )


def test_wrong_type_for_a_whole_object() -> None:
    line = only_line(rejected("dev", {NETWORK: "large"}))
    assert line == (
        'genericcorp:network = "large": expected an object (a mapping of keys to values), '
        "got a string"
    )


@pytest.mark.parametrize("value", ["yes", 1])
def test_wrong_type_for_a_boolean(value: Any) -> None:
    line = only_line(rejected("dev", {NETWORK: {"flowLogs": {"enabled": value}}}))
    assert "genericcorp:network.flowLogs.enabled" in line
    assert "expected true or false" in line


@pytest.mark.parametrize("email", ["not-an-email", "ops@", "@genericcorp.com", 42])
def test_invalid_alert_email(email: Any) -> None:
    line = only_line(rejected("dev", {"genericcorp:alerts": {"emails": [email]}}))
    assert line.startswith("genericcorp:alerts.emails[0] = ")


def test_duplicate_alert_emails_are_refused() -> None:
    line = only_line(
        rejected(
            "dev", {"genericcorp:alerts": {"emails": ["a@genericcorp.com", "A@genericcorp.com"]}}
        )
    )
    assert "repeated: a@genericcorp.com" in line


def test_flow_log_retention_must_be_a_cloudwatch_period() -> None:
    line = only_line(rejected("dev", {NETWORK: {"flowLogs": {"retentionDays": 42}}}))
    assert (
        "genericcorp:network.flowLogs.retentionDays = 42: not allowed; expected one of 1, 3" in line
    )


@pytest.mark.parametrize("days", [6, 31])
def test_kms_deletion_window_is_what_aws_allows(days: int) -> None:
    line = only_line(rejected("dev", {"genericcorp:kms": {"deletionWindowDays": days}}))
    assert line.startswith(f"genericcorp:kms.deletionWindowDays = {days}: must be at")


def test_unknown_region_suggests_close_names() -> None:
    line = only_line(rejected("dev", {"aws:region": "us-east-7"}))
    assert line.startswith('aws:region = "us-east-7": not an AWS region; did you mean')
    assert "us-east-1" in line


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_regions_outside_the_commercial_partition_are_refused(region: str) -> None:
    line = only_line(rejected("dev", {"aws:region": region}))
    assert line.startswith(f'aws:region = "{region}": a region of the aws-')
    assert "supports the commercial partition (aws) only" in line


@pytest.mark.parametrize("stack", ["qa.eu", "QA", "9lives", "-x", "a" * 21, "a_b"])
def test_stack_names_that_aws_names_cannot_hold_are_refused(stack: str) -> None:
    line = only_line(rejected("dev", {}, stack=stack))
    assert line.startswith(f'stack name = "{stack}": must be 1 to 20 lowercase letters')


def test_missing_environment_says_what_to_set() -> None:
    values = minimal_values("dev")
    del values["genericcorp:environment"]
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", values)
    assert only_line(caught.value) == (
        "genericcorp:environment: required key is missing; set one of 'dev', 'prod'"
    )


def test_unknown_environment_is_refused() -> None:
    line = only_line(rejected("dev", {"genericcorp:environment": "staging"}, stack="staging"))
    assert (
        line == "genericcorp:environment = \"staging\": not allowed; expected one of 'dev', 'prod'"
    )


def test_the_prod_stack_cannot_take_the_dev_profile() -> None:
    line = only_line(rejected("dev", {}, stack="prod"))
    assert "stack 'prod' must use the 'prod' environment profile" in line


def test_other_stack_names_choose_their_profile() -> None:
    config = parse_stack_config("staging", minimal_values("prod"))
    assert config.environment == "prod"
    assert config.stack_file == "Pulumi.staging.yaml"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"Project": "x"}, "tag 'Project' is set by the project itself"),
        ({"aws:owner": "x"}, "reserved 'aws:' prefix"),
        ({"Owner": "a*b"}, "may hold only letters"),
        ({"k" * 129: "x"}, "AWS allows at most 128"),
    ],
)
def test_extra_tags_follow_aws_tag_rules(tags: dict[str, str], expected: str) -> None:
    line = only_line(rejected("dev", {"genericcorp:tagging": {"extraTags": tags}}))
    assert line.startswith("genericcorp:tagging.extraTags = ")
    assert expected in line


def test_every_problem_is_reported_at_once() -> None:
    error = rejected(
        "prod",
        {NETWORK: {"azCount": "3", "natStrategy": "double"}, "genericcorp:kms": {"x": 1}},
    )
    assert {problem.path for problem in error.problems} == {
        "genericcorp:network.azCount",
        "genericcorp:network.natStrategy",
        "genericcorp:kms.x",
    }
    assert error.render().startswith(
        "Pulumi.prod.yaml: 3 configuration errors; nothing was deployed:"
    )


def test_secret_values_are_not_echoed_in_errors() -> None:
    values = minimal_values("dev", {"genericcorp:alerts": {"emails": ["hidden-address"]}})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", values, {"genericcorp:alerts"})
    assert "hidden-address" not in str(caught.value)
    assert "genericcorp:alerts.emails[0] = [secret]" in str(caught.value)


# --- prod guardrails: what dev may do and prod refuses ---------------------------------------

GUARDRAIL_VIOLATIONS: dict[str, dict[str, Any]] = {
    "genericcorp:network.azCount": {NETWORK: {"azCount": 1}},
    "genericcorp:network.natStrategy": {NETWORK: {"natStrategy": "single"}},
    "genericcorp:network.flowLogs.enabled": {NETWORK: {"flowLogs": {"enabled": False}}},
    "genericcorp:network.flowLogs.trafficType": {NETWORK: {"flowLogs": {"trafficType": "REJECT"}}},
    "genericcorp:network.flowLogs.retentionDays": {NETWORK: {"flowLogs": {"retentionDays": 90}}},
    "genericcorp:kms.deletionWindowDays": {"genericcorp:kms": {"deletionWindowDays": 7}},
    "genericcorp:alerts.emails": {"genericcorp:alerts": {"emails": []}},
    "genericcorp:budget.notifyAlertsTopic": {
        "genericcorp:budget": {"notifyAlertsTopic": False, "emails": ["finance@genericcorp.com"]}
    },
    "genericcorp:dns.queryLogging.enabled": {
        "genericcorp:dns": {"queryLogging": {"enabled": False}}
    },
    "genericcorp:dns.queryLogging.retentionDays": {
        "genericcorp:dns": {"queryLogging": {"retentionDays": 30}}
    },
    "genericcorp:dns.dnssec": {"genericcorp:dns": {"dnssec": False}},
    "genericcorp:cdn.waf.enabled": {"genericcorp:cdn": {"waf": {"enabled": False}}},
    "genericcorp:ingress.waf.enabled": {"genericcorp:ingress": {"waf": {"enabled": False}}},
    "genericcorp:ingress.waf.logRetentionDays": {
        "genericcorp:ingress": {"waf": {"logRetentionDays": 30}}
    },
    "genericcorp:ingress.deletionProtection": {
        "genericcorp:ingress": {"deletionProtection": False}
    },
    "genericcorp:uptime.checks": {"genericcorp:uptime": {"checks": []}},
    "genericcorp:database.multiAz": {"genericcorp:database": {"multiAz": False}},
    "genericcorp:database.backupRetentionDays": {
        "genericcorp:database": {"backupRetentionDays": 7}
    },
    "genericcorp:database.deletionProtection": {
        "genericcorp:database": {"deletionProtection": False}
    },
    "genericcorp:database.finalSnapshot": {"genericcorp:database": {"finalSnapshot": False}},
    "genericcorp:database.port": {"genericcorp:database": {"port": 5432}},
    "genericcorp:cache.nodeCount": {"genericcorp:cache": {"nodeCount": 1}},
    "genericcorp:cache.snapshotRetentionDays": {"genericcorp:cache": {"snapshotRetentionDays": 1}},
    "genericcorp:cache.finalSnapshot": {"genericcorp:cache": {"finalSnapshot": False}},
    "genericcorp:cluster.nodeGroups[].capacityType": cluster(
        nodeGroups=[node_group(), node_group(name="batch", capacityType="SPOT")]
    ),
    "genericcorp:cluster.nodeGroups[].minSize": cluster(
        nodeGroups=[node_group(minSize=1, desiredSize=1)]
    ),
    "genericcorp:cluster.logRetentionDays": cluster(logRetentionDays=90),
    "genericcorp:platform.prometheus.replicas": {PLATFORM: {"prometheus": {"replicas": 1}}},
    "genericcorp:platform.alertmanager.replicas": {PLATFORM: {"alertmanager": {"replicas": 1}}},
    "genericcorp:platform.grafana.persistenceEnabled": {
        PLATFORM: {"grafana": {"persistenceEnabled": False}}
    },
    "genericcorp:availability.targets.api": {AVAILABILITY: {"targets": {"api": 99.5}}},
    "genericcorp:availability.targets.landing": {AVAILABILITY: {"targets": {"landing": None}}},
    "genericcorp:availability.targets.demo": {AVAILABILITY: {"targets": {"demo": 99}}},
    "genericcorp:availability.targets.cdn": {AVAILABILITY: {"targets": {"cdn": 99.75}}},
}


def test_every_guardrail_has_a_violation_case() -> None:
    assert set(GUARDRAIL_VIOLATIONS) == {path for path, _ in prod_rules()}


@pytest.mark.parametrize("path", sorted(GUARDRAIL_VIOLATIONS))
def test_prod_refuses_what_dev_allows(path: str) -> None:
    overrides = GUARDRAIL_VIOLATIONS[path]
    line = only_line(rejected("prod", overrides))
    assert line.startswith(f"{path} = ")
    assert "not allowed in prod: " in line
    assert "Prod allows: " in line
    parse_stack_config("dev", minimal_values("dev", overrides))  # the same is fine in dev


def test_prod_refuses_no_nat_gateway_too() -> None:
    line = only_line(rejected("prod", {NETWORK: {"natStrategy": "none"}}))
    assert 'genericcorp:network.natStrategy = "none": not allowed in prod' in line


# --- checks that need the region: they run in the program, still before any resource -------

#: The price catalog covers us-east-1 only; other regions must opt in to its prices.
US_EAST_1_PRICES = {"genericcorp:costModel": {"priceFallbackRegion": "us-east-1"}}


def test_more_azs_than_the_region_has_is_refused_by_the_program() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack("prod", config_overrides={"aws:region": "us-west-1", **US_EAST_1_PRICES})
    assert only_line(caught.value) == (
        "genericcorp:network.azCount = 3: region us-west-1 has 2 availability zones available "
        "(us-west-1a, us-west-1c); use 1 to 2 (2 or more in prod)"
    )


def test_az_count_above_the_largest_region_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", config_overrides={NETWORK: {"azCount": 7}, **LIFTED_BUDGET})
    assert "region us-east-1 has 6 availability zones available" in only_line(caught.value)


def test_nothing_is_declared_when_config_is_invalid() -> None:
    stack_file = read_stack_file("prod")
    bad = stack_file.values | {NETWORK: {"natStrategy": "single"}}
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ConfigError):
        run_program(
            type(stack_file)(stack_file.project, "prod", stack_file.path, bad),
            preview=False,
            monitor=monitor,
        )
    assert [r.type for r in monitor.records] == ["pulumi:pulumi:Stack"]


def test_nothing_but_the_provider_is_declared_when_the_region_lacks_zones() -> None:
    stack_file = read_stack_file("prod")
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ConfigError):
        run_program(
            type(stack_file)(
                stack_file.project,
                "prod",
                stack_file.path,
                stack_file.values | {"aws:region": "us-west-1", **US_EAST_1_PRICES},
            ),
            preview=False,
            monitor=monitor,
        )
    assert sorted(r.type for r in monitor.records) == [
        "pulumi:providers:aws",
        "pulumi:pulumi:Stack",
    ]
