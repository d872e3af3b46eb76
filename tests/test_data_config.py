"""Bad data-tier configuration is refused before anything is declared, naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.shared.windows import Window, daily_window, weekly_window
from infra.config import ConfigError, parse_stack_config
from tests.conftest import minimal_values

DATABASE = "genericcorp:database"
CACHE = "genericcorp:cache"


def problems(environment: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    return [problem.render() for problem in caught.value.problems]


def only_line(environment: str, overrides: dict[str, Any]) -> str:
    lines = problems(environment, overrides)
    assert len(lines) == 1, lines
    return lines[0]


def accepted(environment: str, overrides: dict[str, Any]) -> None:
    parse_stack_config(environment, minimal_values(environment, overrides))


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("db.x9.large", "unknown or unsupported db class family 'x9'; supported families: m5,"),
        ("db.t2.micro", "unknown or unsupported db class family 't2'"),
        ("t4g.micro", 'expected "db.<family>.<size>" such as "db.t4g.micro"'),
        ("cache.t4g.micro", 'expected "db.<family>.<size>"'),
        ("db.m7g.micro", "the m7g family has no size 'micro'; sizes: large, xlarge, Nxlarge"),
        ("db.t4g.huge", "the t4g family has no size 'huge'"),
    ],
)
def test_unknown_instance_class_is_refused(value: str, expected: str) -> None:
    line = only_line("dev", {DATABASE: {"instanceClass": value}})
    assert line.startswith(f'genericcorp:database.instanceClass = "{value}": ')
    assert expected in line


@pytest.mark.parametrize("value", ["db.m7g.large", "db.r6g.4xlarge", "db.t3.small"])
def test_known_instance_classes_are_accepted(value: str) -> None:
    accepted("dev", {DATABASE: {"instanceClass": value}})


@pytest.mark.parametrize("version", ["15", "17.2", "18", "latest"])
def test_unsupported_engine_version_lists_the_supported_ones(version: str) -> None:
    line = only_line("dev", {DATABASE: {"engineVersion": version}})
    assert line == (
        f'genericcorp:database.engineVersion = "{version}": not a supported PostgreSQL major '
        'version; supported: "16", "17"'
    )


def test_storage_below_the_engine_minimum_is_refused() -> None:
    line = only_line("dev", {DATABASE: {"allocatedStorageGb": 10}})
    assert line == "genericcorp:database.allocatedStorageGb = 10: must be at least 20"


def test_ceiling_below_the_allocated_storage_is_refused() -> None:
    line = only_line("dev", {DATABASE: {"allocatedStorageGb": 100, "maxAllocatedStorageGb": 50}})
    assert line.startswith("genericcorp:database.maxAllocatedStorageGb = 50: ")
    assert "below the allocated storage (100 GiB)" in line
    assert "use at least 110" in line


def test_ceiling_needs_ten_percent_headroom() -> None:
    assert "use at least 110" in only_line(
        "dev", {DATABASE: {"allocatedStorageGb": 100, "maxAllocatedStorageGb": 109}}
    )
    accepted("dev", {DATABASE: {"allocatedStorageGb": 100, "maxAllocatedStorageGb": 110}})


@pytest.mark.parametrize(
    ("days", "expected"), [(36, "must be at most 35"), (-1, "must be at least 0")]
)
def test_backup_retention_outside_0_to_35_is_refused(days: int, expected: str) -> None:
    line = only_line("dev", {DATABASE: {"backupRetentionDays": days}})
    assert line == f"genericcorp:database.backupRetentionDays = {days}: {expected}"


def test_backups_may_be_off_in_dev_but_never_in_prod() -> None:
    accepted("dev", {DATABASE: {"backupRetentionDays": 0}})
    line = only_line("prod", {DATABASE: {"backupRetentionDays": 0}})
    assert line.startswith("genericcorp:database.backupRetentionDays = 0: not allowed in prod")
    assert "Prod allows: 14 to 35" in line


def test_prod_without_multi_az_is_refused() -> None:
    line = only_line("prod", {DATABASE: {"multiAz": False}})
    assert line.startswith("genericcorp:database.multiAz = false: not allowed in prod")
    assert "FSBP RDS.5" in line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgres", "an engine default or reserved name"),
        ("rdsadmin", "an engine default or reserved name"),
        ("1admin", "must be 1-63 letters, digits or underscores, starting with a letter"),
        ("ops-admin", "must be 1-63 letters, digits or underscores"),
        ("", "must be 1-63"),
    ],
)
def test_administrator_name_must_not_be_a_default(name: str, expected: str) -> None:
    line = only_line("dev", {DATABASE: {"masterUsername": name}})
    assert line.startswith("genericcorp:database.masterUsername = ")
    assert expected in line


def test_database_name_must_be_an_identifier() -> None:
    line = only_line("dev", {DATABASE: {"databaseName": "my-db"}})
    assert line.startswith('genericcorp:database.databaseName = "my-db": must be 1-63')


@pytest.mark.parametrize("port", [80, 1149, 65536])
def test_port_outside_what_rds_allows_is_refused(port: int) -> None:
    assert only_line("dev", {DATABASE: {"port": port}}).startswith(
        f"genericcorp:database.port = {port}: must be at "
    )


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("3am-4am", 'expected a daily UTC window "hh:mm-hh:mm"'),
        ("03:00-03:15", "the window lasts 15 minutes; AWS requires at least 30"),
        ("25:00-01:00", "expected a daily UTC window"),
    ],
)
def test_bad_backup_window_is_refused(window: str, expected: str) -> None:
    line = only_line("dev", {DATABASE: {"backupWindow": window}})
    assert line.startswith(f'genericcorp:database.backupWindow = "{window}": ')
    assert expected in line


def test_maintenance_window_overlapping_backups_is_refused() -> None:
    line = only_line("dev", {DATABASE: {"maintenanceWindow": "tue:03:15-tue:04:00"}})
    assert line == (
        'genericcorp:database.maintenanceWindow = "tue:03:15-tue:04:00": overlaps the backup '
        "window '03:00-03:30'; RDS refuses that"
    )


def test_malformed_maintenance_window_is_refused() -> None:
    line = only_line("dev", {DATABASE: {"maintenanceWindow": "sunday 4am"}})
    assert 'expected a weekly UTC window "ddd:hh:mm-ddd:hh:mm"' in line


@pytest.mark.parametrize("days", [0, 30, 100, 800])
def test_performance_insights_retention_must_be_a_period_aws_offers(days: int) -> None:
    line = only_line("dev", {DATABASE: {"performanceInsightsRetentionDays": days}})
    assert line.startswith(f"genericcorp:database.performanceInsightsRetentionDays = {days}: ")
    assert "7 days, a multiple of 31" in line


def test_enhanced_monitoring_cannot_be_switched_off() -> None:
    line = only_line("dev", {DATABASE: {"monitoringIntervalSeconds": 0}})
    assert line.startswith("genericcorp:database.monitoringIntervalSeconds = 0: not allowed")


def test_unknown_database_key_is_an_error_with_a_suggestion() -> None:
    line = only_line("dev", {DATABASE: {"multiAZ": True}})
    assert line.startswith(
        "genericcorp:database.multiAZ = true: unknown key; did you mean 'multiAz'?"
    )


def test_alarm_threshold_must_be_a_percentage() -> None:
    line = only_line("dev", {DATABASE: {"alarms": {"cpuPercent": 120}}})
    assert line == "genericcorp:database.alarms.cpuPercent = 120: must be at most 100"


# --- cache -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cache.x1.large", "unknown or unsupported cache class family 'x1'; supported families:"),
        ("cache.t2.micro", "unknown or unsupported cache class family 't2'"),
        ("db.t4g.micro", 'expected "cache.<family>.<size>" such as "cache.t4g.micro"'),
        ("cache.r7g.small", "the r7g family has no size 'small'"),
    ],
)
def test_unknown_node_type_is_refused(value: str, expected: str) -> None:
    line = only_line("dev", {CACHE: {"nodeType": value}})
    assert line.startswith(f'genericcorp:cache.nodeType = "{value}": ')
    assert expected in line


@pytest.mark.parametrize(
    ("engine", "version", "expected"),
    [
        ("redis", "7.2", 'not a supported redis version; supported: "7.1"'),
        ("redis", "6.2", 'not a supported redis version; supported: "7.1"'),
        ("valkey", "7.1", 'not a supported valkey version; supported: "7.2", "8.0"'),
    ],
)
def test_unsupported_cache_engine_version_is_refused(
    engine: str, version: str, expected: str
) -> None:
    line = only_line("dev", {CACHE: {"engine": engine, "engineVersion": version}})
    assert line == f'genericcorp:cache.engineVersion = "{version}": {expected}'


def test_unknown_cache_engine_is_refused() -> None:
    line = only_line("dev", {CACHE: {"engine": "memcached"}})
    assert line.startswith('genericcorp:cache.engine = "memcached": not allowed; expected one of')


@pytest.mark.parametrize("version", ["7.2", "8.0"])
def test_valkey_versions_are_accepted(version: str) -> None:
    accepted("prod", {CACHE: {"engine": "valkey", "engineVersion": version}})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_cache_without_tls_is_refused(stack: str) -> None:
    line = only_line(stack, {CACHE: {"transitEncryption": False}})
    assert line == (
        "genericcorp:cache.transitEncryption = false: clients authenticate as their own users "
        "(RBAC with IAM), which ElastiCache accepts only over TLS; keep transitEncryption: true"
    )


def test_the_shared_auth_token_setting_is_gone() -> None:
    line = only_line("dev", {CACHE: {"authToken": True}})
    assert line.startswith("genericcorp:cache.authToken = true: unknown key")


def test_prod_refuses_a_single_cache_node() -> None:
    line = only_line("prod", {CACHE: {"nodeCount": 1}})
    assert line.startswith("genericcorp:cache.nodeCount = 1: not allowed in prod")
    assert "no replica to fail over to" in line


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "must be at least 1"), (7, "must be at most 6")]
)
def test_node_count_outside_what_elasticache_allows(count: int, expected: str) -> None:
    assert only_line("dev", {CACHE: {"nodeCount": count}}) == (
        f"genericcorp:cache.nodeCount = {count}: {expected}"
    )


def test_snapshots_cannot_be_switched_off() -> None:
    line = only_line("dev", {CACHE: {"snapshotRetentionDays": 0}})
    assert line == "genericcorp:cache.snapshotRetentionDays = 0: must be at least 1"


def test_cache_maintenance_window_overlapping_snapshots_is_refused() -> None:
    line = only_line("dev", {CACHE: {"maintenanceWindow": "wed:05:30-wed:06:30"}})
    assert line.startswith('genericcorp:cache.maintenanceWindow = "wed:05:30-wed:06:30": overlaps')


def test_cache_windows_need_an_hour() -> None:
    line = only_line("dev", {CACHE: {"snapshotWindow": "05:00-05:30"}})
    assert "AWS requires at least 60" in line


def test_every_data_tier_problem_is_reported_at_once() -> None:
    lines = problems(
        "prod",
        {
            DATABASE: {"instanceClass": "db.z1.large", "engineVersion": "12"},
            CACHE: {"nodeType": "cache.z1.large", "engineVersion": "5.0"},
        },
    )
    paths = sorted(line.split(" = ")[0] for line in lines)
    assert paths == [
        "genericcorp:cache.engineVersion",
        "genericcorp:cache.nodeType",
        "genericcorp:database.engineVersion",
        "genericcorp:database.instanceClass",
    ]


# --- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("daily", "weekly", "overlap"),
    [
        ("03:00-03:30", "sun:04:00-sun:04:30", False),
        ("03:00-03:30", "sun:03:29-sun:04:00", True),
        ("03:00-03:30", "sun:03:30-sun:04:00", False),
        ("23:30-00:30", "mon:00:00-mon:01:00", True),
        ("00:00-01:00", "sun:23:30-mon:00:30", True),
        ("22:00-23:00", "sun:23:00-mon:00:00", False),
    ],
)
def test_window_overlap_wraps_around_midnight_and_the_week(
    daily: str, weekly: str, overlap: bool
) -> None:
    first = daily_window(daily, minimum_minutes=30)
    second = weekly_window(weekly, minimum_minutes=30)
    assert first.overlaps(second) is overlap
    assert second.overlaps(first) is overlap


def _minutes(window: Window) -> set[int]:
    week = 7 * 24 * 60
    return {(start + m) % week for start, _ in window.occurrences() for m in range(window.length)}


@given(
    daily_start=st.integers(0, 24 * 60 - 1),
    daily_length=st.integers(30, 180),
    weekly_start=st.integers(0, 7 * 24 * 60 - 1),
    weekly_length=st.integers(30, 24 * 60),
)
def test_window_overlap_agrees_with_counting_minutes(
    daily_start: int, daily_length: int, weekly_start: int, weekly_length: int
) -> None:
    daily = Window(daily_start, daily_length, 24 * 60)
    weekly = Window(weekly_start, weekly_length, 7 * 24 * 60)
    assert daily.overlaps(weekly) == bool(_minutes(daily) & _minutes(weekly))
