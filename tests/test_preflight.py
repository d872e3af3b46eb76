"""``infractl preflight``: each zone the stack will use, by zone ID, against the node groups'
instance types, as EC2 (moto, with its recorded offerings of us-east-1) reports them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.ec2.models.instance_types import (  # pyright: ignore[reportMissingTypeStubs]
    INSTANCE_TYPE_OFFERINGS,
)
from typer.testing import CliRunner

from infra.config import parse_stack_config
from infractl.aws.preflight import Status, offerings, preflight
from infractl.cli import app
from tests.conftest import ADMIN_ENTRY, minimal_values, stack_config

runner = CliRunner()

#: Taken out of use1-az5 by ``without_in_az5``: in moto's record of us-east-1 (as on AWS today)
#: every Graviton type the stacks may use is offered in the five zones EKS supports.
NOT_IN_AZ5 = "c7g.large"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("ec2", region_name="us-east-1")


@pytest.fixture
def without_in_az5(monkeypatch: pytest.MonkeyPatch) -> None:
    """EC2 as it answers for a zone that does not offer ``NOT_IN_AZ5``."""
    recorded = INSTANCE_TYPE_OFFERINGS["availability-zone-id"]
    offers = [
        offer
        for offer in recorded["us-east-1"]
        if (offer["Location"], offer["InstanceType"]) != ("use1-az5", NOT_IN_AZ5)
    ]
    assert len(offers) == len(recorded["us-east-1"]) - 1
    monkeypatch.setitem(recorded, "us-east-1", offers)


def prod_with(zone_ids: list[str], instance_types: list[str]) -> Any:
    group = {
        "name": "general",
        "instanceTypes": instance_types,
        "capacityType": "ON_DEMAND",
        "minSize": 3,
        "desiredSize": 3,
        "maxSize": 6,
        "diskSizeGib": 50,
        "labels": {},
        "taints": [],
    }
    overrides = {
        "genericcorp:network": {"azCount": len(zone_ids), "availabilityZoneIds": zone_ids},
        "genericcorp:cluster": {"accessEntries": [ADMIN_ENTRY], "nodeGroups": [group]},
    }
    return parse_stack_config("prod", minimal_values("prod", overrides))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stacks_zones_offer_their_graviton_types(aws: Any, stack: str) -> None:
    offers = preflight(stack_config(stack), aws)
    groups = stack_config(stack).cluster.node_groups
    assert len(offers) == stack_config(stack).network.az_count * len(groups)
    # Chosen as the program chooses them: by name, never use1-az3 (EKS refuses it).
    assert [o.zone.zone_id for o in offers] == ["use1-az6", "use1-az1", "use1-az2"][
        : stack_config(stack).network.az_count
    ]
    assert all(o.status is Status.PASS for o in offers), offers
    assert {t for o in offers for t in o.offered} == {
        t for group in groups for t in group.instance_types
    }


@pytest.mark.usefixtures("without_in_az5")
def test_a_zone_that_offers_none_of_a_groups_types_fails(aws: Any) -> None:
    offers = preflight(prod_with(["use1-az6", "use1-az1", "use1-az5"], [NOT_IN_AZ5]), aws)
    by_zone = {o.zone.zone_id: o for o in offers}
    assert by_zone["use1-az5"].status is Status.FAIL
    assert by_zone["use1-az5"].missing == (NOT_IN_AZ5,)
    assert by_zone["use1-az6"].status is Status.PASS


@pytest.mark.usefixtures("without_in_az5")
def test_a_zone_that_offers_some_of_a_groups_types_warns(aws: Any) -> None:
    offers = preflight(
        prod_with(["use1-az6", "use1-az1", "use1-az5"], ["m7g.large", NOT_IN_AZ5]), aws
    )
    az5 = next(o for o in offers if o.zone.zone_id == "use1-az5")
    assert (az5.status, az5.offered, az5.missing) == (Status.WARN, ("m7g.large",), (NOT_IN_AZ5,))


@pytest.mark.usefixtures("without_in_az5")
def test_offerings_are_asked_by_zone_id(aws: Any) -> None:
    found = offerings(aws, ["use1-az5", "use1-az6"], [NOT_IN_AZ5])
    assert found == {("use1-az6", NOT_IN_AZ5)}


def test_the_command_prints_each_zone_and_exits_0(aws: Any) -> None:
    result = runner.invoke(app, ["preflight", "prod"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for zone_id in ("use1-az6", "use1-az1", "use1-az2"):
        assert zone_id in result.output
    assert "m7g.large" in result.output
    assert "FAIL" not in result.output


@pytest.mark.usefixtures("without_in_az5")
def test_the_command_fails_naming_the_zone_and_the_fix(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = prod_with(["use1-az6", "use1-az1", "use1-az5"], [NOT_IN_AZ5])
    monkeypatch.setattr("infractl.aws.preflight.parse_stack_config", lambda *_: config)
    result = runner.invoke(app, ["preflight", "prod"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "use1-az5 (general)" in result.output
    assert "genericcorp:network.availabilityZoneIds" in result.output


def test_an_unknown_stack_is_refused_before_any_call() -> None:
    result = runner.invoke(app, ["preflight", "staging"])
    assert result.exit_code == 2
    assert "unknown stack 'staging'" in result.output


def test_missing_credentials_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = runner.invoke(app, ["preflight", "dev"])
    assert result.exit_code == 1
    assert "preflight: no AWS credentials found" in result.output
