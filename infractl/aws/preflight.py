"""``infractl preflight STACK``: does every zone the stack will use offer its node groups' types?

Zone IDs name the same physical zone in every account, but EC2 does not offer every instance type
in every zone, Graviton types least of all in a region's older zones. A managed node group whose
subnets are in a zone without its type fails, or never places a node there, only once the
cluster is up. Before the first deploy this reads the stack file, chooses the zones exactly as
the program does (``choose_availability_zones``: by zone ID, without the zones Amazon EKS
refuses, ``network.availabilityZoneIds`` when set) from EC2's list of the region's zones, and asks
EC2 which of the node groups' instance types each zone offers (``DescribeInstanceTypeOfferings``
by ``availability-zone-id``). Read-only.

Per zone and node group: ``pass`` when the zone offers every type of the group; ``warn`` when it
offers some (the group launches the others there, with fewer spot pools); ``FAIL`` when it offers
none (the group cannot place a node in that zone). Exit status 1 on a failure or when AWS cannot
be used, 2 when the stack file is invalid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from components.network import AvailabilityZone, ZoneChoiceError, choose_availability_zones
from infra.config import ConfigError, StackConfig, parse_stack_config
from infractl.aws.access import AwsAccessError, caller_account, error_code, session_for
from infractl.offline.stackfile import StackFileError, read_stack_file

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

EXIT_INVALID = 2


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class ZoneOffer:
    """What one zone offers of one node group's instance types."""

    zone: AvailabilityZone
    node_group: str
    offered: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def status(self) -> Status:
        if not self.missing:
            return Status.PASS
        return Status.WARN if self.offered else Status.FAIL


def region_zones(ec2: EC2Client) -> list[AvailabilityZone]:
    """The region's available zones that need no opt-in: what the program's look-up returns."""
    answer = ec2.describe_availability_zones(
        Filters=[
            {"Name": "opt-in-status", "Values": ["opt-in-not-required"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )
    return [
        AvailabilityZone(name=zone.get("ZoneName", ""), zone_id=zone.get("ZoneId", ""))
        for zone in answer["AvailabilityZones"]
        # Local Zones and Wavelength Zones are opt-in; the filter leaves them out already.
        if zone.get("ZoneType", "availability-zone") == "availability-zone"
    ]


def offerings(
    ec2: EC2Client, zone_ids: Iterable[str], instance_types: Iterable[str]
) -> set[tuple[str, str]]:
    """(zone ID, instance type) of every pair EC2 offers, among those asked about."""
    found: set[tuple[str, str]] = set()
    paginator = ec2.get_paginator("describe_instance_type_offerings")
    pages = paginator.paginate(
        LocationType="availability-zone-id",
        Filters=[
            {"Name": "location", "Values": sorted(set(zone_ids))},
            {"Name": "instance-type", "Values": sorted(set(instance_types))},
        ],
    )
    for page in pages:
        for offer in page["InstanceTypeOfferings"]:
            found.add((offer.get("Location", ""), offer.get("InstanceType", "")))
    return found


def preflight(config: StackConfig, ec2: EC2Client) -> list[ZoneOffer]:
    """Each chosen zone against each node group's instance types. A zone choice the region
    cannot give raises ``ZoneChoiceError``, as the program would."""
    zones = choose_availability_zones(config.network, config.region, region_zones(ec2))
    groups = config.cluster.node_groups
    offered = offerings(
        ec2,
        (zone.zone_id for zone in zones),
        (instance_type for group in groups for instance_type in group.instance_types),
    )
    return [
        ZoneOffer(
            zone=zone,
            node_group=group.name,
            offered=tuple(t for t in group.instance_types if (zone.zone_id, t) in offered),
            missing=tuple(t for t in group.instance_types if (zone.zone_id, t) not in offered),
        )
        for zone in zones
        for group in groups
    ]


def render(stack: str, offers: list[ZoneOffer], console: Console) -> None:
    table = Table(title=f"Instance types per zone: {stack}", title_justify="left")
    for column in ("zone", "zone ID", "node group", "status", "offered", "not offered"):
        table.add_column(column)
    for offer in offers:
        table.add_row(
            offer.zone.name,
            offer.zone.zone_id,
            offer.node_group,
            str(offer.status),
            ", ".join(offer.offered) or "-",
            ", ".join(offer.missing) or "-",
        )
    console.print(table)
    failed = [o for o in offers if o.status is Status.FAIL]
    if failed:
        console.print(
            "A node group cannot place a node in "
            + ", ".join(f"{o.zone.zone_id} ({o.node_group})" for o in failed)
            + ": list zones that offer its types in genericcorp:network.availabilityZoneIds, "
            "or change the group's instanceTypes.",
            markup=False,
            soft_wrap=True,
        )


def command(
    stack: Annotated[str, typer.Argument(help="The stack whose file to check (dev, prod).")],
    profile: Annotated[str | None, typer.Option(metavar="NAME", help="AWS profile to use.")] = None,
) -> None:
    """Check that every zone the stack will use offers its node groups' instance types.

    Read-only (ec2:DescribeAvailabilityZones, ec2:DescribeInstanceTypeOfferings). Exit status:
    0 when every zone offers every group a type, 1 when one does not or AWS cannot be used, 2
    when the stack file is invalid.
    """
    errors = Console(stderr=True, highlight=False)
    try:
        stack_file = read_stack_file(stack)
        config = parse_stack_config(stack, stack_file.values, stack_file.secret_keys)
    except (StackFileError, ConfigError) as error:
        message = error.render() if isinstance(error, ConfigError) else str(error)
        errors.print(f"preflight: {message}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    from botocore.exceptions import ClientError  # noqa: PLC0415 - keep start-up light

    try:
        session = session_for(config.region, profile)
        caller_account(session.client("sts"))
        offers = preflight(config, session.client("ec2"))
    except AwsAccessError as error:
        errors.print(f"preflight: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ClientError as error:
        errors.print(
            f"preflight: EC2 refused the look-up ({error_code(error)}): needs "
            "ec2:DescribeAvailabilityZones and ec2:DescribeInstanceTypeOfferings",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except ZoneChoiceError as error:
        errors.print(
            f"preflight: {config.stack_file}: genericcorp:network.{error.setting}: {error}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    render(stack, offers, console)
    if any(offer.status is Status.FAIL for offer in offers):
        raise typer.Exit(1)
