"""Network: the VPC that every other component of the platform sits in.

Creates, over the stack's availability zones:
- ``aws.ec2.Vpc`` with DNS support and hostnames (EKS and RDS endpoints need both);
- per AZ, three subnet tiers with computed, non-overlapping CIDRs (see ``plan_subnets``):
  ``public`` (NAT gateways and internet-facing load balancers; tagged ``kubernetes.io/role/elb``),
  ``private`` (EKS nodes and pods, the largest tier because the VPC CNI gives every pod a VPC
  address; tagged ``kubernetes.io/role/internal-elb``) and ``database`` (isolated: no route to
  or from the internet at all);
- an internet gateway and the public route table;
- NAT gateways per the NAT strategy (``none``, ``single`` or ``one-per-az``) with their Elastic
  IPs, one private route table per AZ, and an alarm per gateway on port-allocation errors;
- an S3 gateway endpoint on the private and database route tables (free, and keeps S3 traffic
  off the NAT gateways);
- VPC flow logs to a KMS-encrypted CloudWatch log group with a retention period;
- the VPC's default security group, adopted and stripped of every rule (FSBP EC2.2).

No subnet assigns public IPs on launch, public ones included (FSBP EC2.15): NAT gateways use
Elastic IPs and load balancers get their own addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated, Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import PROD_AUDIT_LOG_RETENTION_DAYS
from pydantic import Field, PlainValidator, ValidationInfo, field_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    policy_document,
    static_policy_document,
    switched_on,
)
from components.cost import CostLine, PriceCatalog, UsageSettings, hourly, log_lines
from components.kms_key import KmsKey, KmsSettings
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.logs import LogRetentionDays, encrypted_log_group
from components.shared.wiring import Wiring

#: Zone IDs in which Amazon EKS refuses cluster subnets (UnsupportedAvailabilityZoneException),
#: per region, as listed on 2026-11-29 by the Amazon EKS User Guide, "View Amazon EKS networking
#: requirements for VPC and subnets", subnet requirements
#: (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets).
#: By ID, not name: each account maps zone names to zone IDs differently.
EKS_UNSUPPORTED_ZONE_IDS: Mapping[str, frozenset[str]] = {
    "us-east-1": frozenset({"use1-az3"}),
    "us-west-1": frozenset({"usw1-az2"}),
    "ca-central-1": frozenset({"cac1-az3"}),
}

#: Subnets are laid out for at least this many AZs, so that growing from 2 or 3 AZs up to 4
#: adds subnets without renumbering (and so replacing) any existing one.
RESERVED_AZ_SLOTS = 4


class NatStrategy(StrEnum):
    """How private subnets reach the internet."""

    NONE = "none"
    """No NAT gateway: private subnets have no internet egress (VPC endpoints only)."""
    SINGLE = "single"
    """One NAT gateway in the first AZ shared by all AZs: cheap, but an AZ outage cuts egress."""
    ONE_PER_AZ = "one-per-az"
    """A NAT gateway per AZ: each AZ keeps egress when another fails."""


class SubnetTier(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DATABASE = "database"


class SubnetPrefixLengths(SettingsModel):
    """Prefix length of each tier's subnets (AWS allows /16 to /28)."""

    public: int = Field(ge=16, le=28, description="Public subnets: NAT gateways, load balancers.")
    private: int = Field(
        ge=16, le=28, description="Private subnets: EKS nodes and pods (one VPC IP per pod)."
    )
    database: int = Field(ge=16, le=28, description="Isolated subnets: RDS and ElastiCache.")

    def of(self, tier: SubnetTier) -> int:
        return {
            SubnetTier.PUBLIC: self.public,
            SubnetTier.PRIVATE: self.private,
            SubnetTier.DATABASE: self.database,
        }[tier]


class FlowLogSettings(SettingsModel):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = Field(description="Record VPC flow logs (FSBP EC2.6).")
    retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps flow-log records (one of CloudWatch's periods).",
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field(
        description="Which traffic is recorded: ALL, ACCEPT or REJECT.",
    )


class SubnetLayoutError(ValueError):
    """The VPC CIDR cannot hold the requested subnets."""


def plan_subnets(
    vpc_cidr: IPv4Network, az_count: int, prefixes: SubnetPrefixLengths
) -> dict[SubnetTier, list[IPv4Network]]:
    """Carve the VPC into ``az_count`` subnets per tier, none overlapping.

    Each tier gets ``max(az_count, RESERVED_AZ_SLOTS)`` consecutive slots; tiers are placed
    largest first, so every block starts on a boundary of its own size. Only the first
    ``az_count`` slots of each tier are returned (and created).
    """
    slots = max(az_count, RESERVED_AZ_SLOTS)
    tiers = sorted(SubnetTier, key=lambda tier: (prefixes.of(tier), list(SubnetTier).index(tier)))
    for tier in tiers:
        if prefixes.of(tier) <= vpc_cidr.prefixlen:
            raise SubnetLayoutError(
                f"{tier} subnets (/{prefixes.of(tier)}) must be smaller than the VPC "
                f"(/{vpc_cidr.prefixlen}); use a larger VPC or a longer {tier} prefix"
            )
    needed = sum(slots * 2 ** (32 - prefixes.of(tier)) for tier in tiers)
    if needed > vpc_cidr.num_addresses:
        raise SubnetLayoutError(
            f"too small: {slots} AZ slots of "
            + " + ".join(f"{tier} /{prefixes.of(tier)}" for tier in tiers)
            + f" need {needed} addresses, a /{vpc_cidr.prefixlen} has {vpc_cidr.num_addresses}; "
            f"use a /{minimum_vpc_prefix(needed)} or larger, or longer subnet prefixes"
        )
    layout: dict[SubnetTier, list[IPv4Network]] = {}
    cursor = int(vpc_cidr.network_address)
    for tier in tiers:
        size = 2 ** (32 - prefixes.of(tier))
        blocks = [
            ipaddress.ip_network((cursor + slot * size, prefixes.of(tier))) for slot in range(slots)
        ]
        layout[tier] = [IPv4Network(block) for block in blocks[:az_count]]
        cursor += slots * size
    return {tier: layout[tier] for tier in SubnetTier}


def minimum_vpc_prefix(addresses: int) -> int:
    """The longest prefix whose block holds ``addresses`` addresses."""
    return 32 - (addresses - 1).bit_length()


@dataclass(frozen=True)
class AvailabilityZone:
    """A zone by both its names: the account's name (what subnets take) and the zone ID (the
    same physical zone in every account)."""

    name: str
    zone_id: str


class ZoneChoiceError(ValueError):
    """The region cannot give the zones the settings ask for; ``setting`` is the key at fault
    (``azCount`` or ``availabilityZoneIds``)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


def choose_availability_zones(
    settings: NetworkSettings, region: str, available: Sequence[AvailabilityZone]
) -> list[AvailabilityZone]:
    """The zones the subnets go in: the configured zone IDs in their order, or else the first
    ``azCount`` zones by name; never a zone ID Amazon EKS refuses (``EKS_UNSUPPORTED_ZONE_IDS``).

    By name, so that zones already in use keep their place: a zone is skipped only when EKS
    refuses it, and a cluster could not have been created with it in the first place.
    """
    unsupported = EKS_UNSUPPORTED_ZONE_IDS.get(region, frozenset())
    by_id = {zone.zone_id: zone for zone in available}
    supported = sorted(
        (zone for zone in available if zone.zone_id not in unsupported), key=lambda z: z.name
    )
    wanted_ids = settings.availability_zone_ids
    if wanted_ids is not None:
        region_ids = ", ".join(sorted(by_id))
        for zone_id in wanted_ids:
            if zone_id not in by_id:
                raise ZoneChoiceError(
                    "availabilityZoneIds",
                    f"region {region} has no available zone {zone_id}; its zone IDs are "
                    f"{region_ids}",
                )
            if zone_id in unsupported:
                raise ZoneChoiceError(
                    "availabilityZoneIds",
                    f"Amazon EKS does not support clusters in {zone_id} ({by_id[zone_id].name}); "
                    f"choose from {', '.join(zone.zone_id for zone in supported)}",
                )
        return [by_id[zone_id] for zone_id in wanted_ids]
    wanted = settings.az_count
    if wanted > len(supported):
        names = ", ".join(sorted(zone.name for zone in available))
        excluded = sorted(
            f"{zone.name} ({zone.zone_id})" for zone in available if zone.zone_id in unsupported
        )
        raise ZoneChoiceError(
            "azCount",
            f"region {region} has {len(available)} availability zones available ({names})"
            + (
                f", {len(supported)} of them supported by Amazon EKS ({', '.join(excluded)} is not)"
                if excluded
                else ""
            )
            + f"; use 1 to {len(supported)}",
        )
    return supported[:wanted]


def _parse_cidr(value: Any) -> IPv4Network:
    if isinstance(value, IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a string in CIDR form such as 10.20.0.0/16")
    try:
        return IPv4Network(value)
    except ValueError as error:
        raise ValueError(
            f"not an IPv4 network in CIDR form such as 10.20.0.0/16 ({error})"
        ) from None


#: A zone ID: the region's short form and the zone's number (use1-az1, apne1-az4).
ZoneId = Annotated[str, Field(pattern=r"^[a-z]{2,}[0-9]+-az[0-9]+$")]


class NetworkSettings(SettingsModel):
    """The VPC, its subnets, NAT and flow logs."""

    az_count: int = Field(
        ge=1,
        description="Availability zones to spread subnets over: the first N of the region, by "
        "name, among those Amazon EKS supports.",
    )
    availability_zone_ids: list[ZoneId] | None = Field(
        description="Zone IDs to place the subnets in, in this order (e.g. use1-az1), instead of "
        "the first azCount zones; one per AZ (azCount of them). IDs name the same physical "
        "zone in every account, names do not.",
    )
    nat_strategy: NatStrategy = Field(
        description="NAT gateways for private egress: none, single or one-per-az.",
    )
    subnet_prefix_lengths: SubnetPrefixLengths = Field(
        description="Prefix length per subnet tier.",
    )
    flow_logs: FlowLogSettings = Field(description="VPC flow logs.")
    # Declared last so that its validator sees the fields above (pydantic validates in order).
    cidr: Annotated[IPv4Network, PlainValidator(_parse_cidr)] = Field(
        description="VPC CIDR: RFC 1918 space, /16 to /28, large enough for the subnet layout.",
    )

    @field_validator("availability_zone_ids")
    @classmethod
    def _one_id_per_zone(cls, ids: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if ids is None:
            return None
        if len(set(ids)) != len(ids):
            raise ValueError("lists a zone ID twice; each AZ needs a zone of its own")
        az_count = info.data.get("az_count")
        if isinstance(az_count, int) and len(ids) != az_count:
            raise ValueError(f"lists {len(ids)} zone IDs for azCount {az_count}; list {az_count}")
        return ids

    @field_validator("cidr")
    @classmethod
    def _cidr_fits(cls, cidr: IPv4Network, info: ValidationInfo) -> IPv4Network:
        if not cidr.is_private or not any(
            cidr.subnet_of(block)
            for block in map(IPv4Network, ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
        ):
            raise ValueError("must be private RFC 1918 space (10/8, 172.16/12 or 192.168/16)")
        if not 16 <= cidr.prefixlen <= 28:
            raise ValueError(f"AWS allows VPC prefixes /16 to /28, not /{cidr.prefixlen}")
        az_count = info.data.get("az_count")
        prefixes = info.data.get("subnet_prefix_lengths")
        if isinstance(az_count, int) and isinstance(prefixes, SubnetPrefixLengths):
            try:
                plan_subnets(cidr, az_count, prefixes)
            except SubnetLayoutError as error:
                raise ValueError(str(error)) from error
        return cidr


@dataclass(frozen=True)
class NetworkParts:
    """What a ``Network`` declares, derived once from its settings.

    The constructor declares exactly these parts and ``cost_lines`` prices exactly these, so the
    estimate (computed before anything is declared) cannot drift from the resources.
    """

    settings: NetworkSettings

    flow_log_key_purpose: ClassVar[str] = "flow-logs"
    """The flow-log group's key of its own (only when flow logs are on)."""
    nat_alarms: ClassVar[tuple[AlarmSpec, ...]] = (
        AlarmSpec(
            "port-allocation",
            "AWS/NATGateway",
            "ErrorPortAllocation",
            0,
            "NAT gateway could not allocate a source port: connections from private subnets are "
            "failing.",
            statistic="Sum",
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        ),
    )
    """Alarms of each NAT gateway: a single failed port allocation is a failed connection."""

    @property
    def layout(self) -> dict[SubnetTier, list[IPv4Network]]:
        """Each tier's subnet CIDRs, one per availability zone (see ``plan_subnets``)."""
        settings = self.settings
        return plan_subnets(settings.cidr, settings.az_count, settings.subnet_prefix_lengths)

    @property
    def nat_zone_indexes(self) -> tuple[int, ...]:
        """Positions, among the stack's availability zones, of the zones that get a NAT gateway
        (each with an Elastic IP and its alarms): none, the first alone, or every zone."""
        settings = self.settings
        count = {NatStrategy.NONE: 0, NatStrategy.SINGLE: 1}.get(
            settings.nat_strategy, settings.az_count
        )
        return tuple(range(count))

    @property
    def flow_logs(self) -> FlowLogSettings | None:
        """The flow-log settings when flow logs are on, None when they are off."""
        return self.settings.flow_logs if self.settings.flow_logs.enabled else None

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of these parts. The VPC, subnets, route tables, the internet gateway
        and the S3 gateway endpoint are free and have no line."""
        component = Network.COMPONENT
        gateways = len(self.nat_zone_indexes)
        running = f"{gateways} x {catalog.hours_per_month} h"
        lines: list[CostLine] = []
        if gateways:
            # Each gateway runs, and holds its public IPv4 address, every hour.
            always_on = (
                ("NAT gateways", "vpc.nat-gateway", "aws:ec2/natGateway:NatGateway"),
                ("NAT Elastic IPs (public IPv4)", "vpc.public-ipv4-address", "aws:ec2/eip:Eip"),
            )
            lines += [
                *(
                    CostLine.fixed(
                        component,
                        item,
                        catalog.price(key, resource=resource),
                        hourly(catalog, gateways),
                        note=running,
                    )
                    for item, key, resource in always_on
                ),
                CostLine.usage(
                    component,
                    "NAT data processed",
                    catalog.price("vpc.nat-gateway.data-processed", resource="NAT gateways"),
                    usage.nat_processed_gb,
                ),
                alarm_line(
                    component,
                    catalog,
                    gateways * len(self.nat_alarms),
                    label="NAT port-allocation alarms",
                ),
            ]
        flow_logs = self.flow_logs
        if flow_logs is not None:
            lines += [
                *KmsKey.cost_lines(component, catalog, purposes=[self.flow_log_key_purpose]),
                *log_lines(
                    component,
                    catalog,
                    label="Flow-log",
                    resource="VPC flow logs",
                    ingested_gb=usage.flow_logs_ingested_gb,
                    retention_days=flow_logs.retention_days,
                ),
            ]
        return lines


class Network(PlatformComponent):
    """VPC with public, private and isolated database subnets across availability zones.

    Steps: the VPC (its default security group locked); the subnets of each tier; public
    routing through the internet gateway; the NAT gateways with their alarms; private routing
    through them; the isolated tier's route table; the S3 gateway endpoint; the flow logs.
    ``parts`` says what each step declares; ``wiring`` names, encrypts and alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:network:Network"
    COMPONENT: ClassVar[str] = "network"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "vpcId": "VPC id.",
        "cidr": "The VPC's CIDR block.",
        "availabilityZones": "Availability zones the subnets span, in the order of the subnets.",
        "availabilityZoneIds": "The zone IDs of availabilityZones, in the same order: the same "
        "physical zones in every account (names differ per account).",
        "publicSubnetIds": "Public subnets (NAT gateways, internet-facing load balancers), per AZ.",
        "privateSubnetIds": "Private subnets (EKS nodes and pods), per AZ.",
        "databaseSubnetIds": "Isolated subnets (RDS, ElastiCache), per AZ.",
        "natGatewayPublicIps": "Elastic IPs of the NAT gateways: where private egress comes from.",
        "flowLogGroupName": "Log group of the VPC flow logs (null when flow logs are off).",
    }

    availability_zones: list[str]
    """The zones the subnets span, by name; the N-th subnet of each tier is in the N-th zone."""
    availability_zone_ids: list[str]
    """The zone IDs of ``availability_zones``, in the same order."""
    layout: dict[SubnetTier, list[IPv4Network]]
    """Each tier's subnet CIDRs, known before deployment (security-group rules name them)."""
    vpc_id: pulumi.Output[str]
    """The VPC every other component sits in."""
    public_subnet_ids: pulumi.Output[list[str]]
    """Public subnets, in zone order: NAT gateways and internet-facing load balancers."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Private subnets, in zone order: EKS nodes and pods, egress through NAT only."""
    database_subnet_ids: pulumi.Output[list[str]]
    """Isolated subnets, in zone order: the data stores, no route to or from the internet."""
    nat_gateway_public_ips: pulumi.Output[list[str]]
    """Elastic IPs of the NAT gateways (empty without NAT): allow-list them at third parties."""
    flow_log_group_name: pulumi.Output[str] | None
    """None when flow logs are off."""

    def __init__(
        self,
        name: str,
        parts: NetworkParts,
        *,
        wiring: Wiring,
        availability_zones: Sequence[AvailabilityZone],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``availability_zones`` are the program's choice (``choose_availability_zones``)."""
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        if len(availability_zones) != settings.az_count:
            raise ValueError(
                f"Network needs {settings.az_count} availability zones, got "
                f"{len(availability_zones)}: {[zone.name for zone in availability_zones]}"
            )
        self.availability_zones = [zone.name for zone in availability_zones]
        self.availability_zone_ids = [zone.zone_id for zone in availability_zones]
        self.layout = parts.layout

        vpc = self._vpc(parts)
        subnets = self._subnets(vpc)
        internet_gateway = self._public_routing(vpc, subnets[SubnetTier.PUBLIC])
        nat_gateways = self._nat_gateways(
            parts, subnets[SubnetTier.PUBLIC], internet_gateway, wiring.alarm_topic
        )
        private_routes = self._private_routing(vpc, subnets[SubnetTier.PRIVATE], nat_gateways)
        database_routes = self._isolated_routing(vpc, subnets[SubnetTier.DATABASE])
        self._s3_endpoint(vpc, [*private_routes, database_routes])
        flow_logs = parts.flow_logs
        self.flow_log_group_name = (
            None if flow_logs is None else self._flow_logs(parts, flow_logs, vpc, wiring.kms)
        )

        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in subnets[SubnetTier.PUBLIC]])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in subnets[SubnetTier.PRIVATE]])
        self.database_subnet_ids = pulumi.Output.all(*[s.id for s in subnets[SubnetTier.DATABASE]])
        self.nat_gateway_public_ips = pulumi.Output.all(*[nat.public_ip for nat in nat_gateways])
        self.publish(
            {
                "vpcId": self.vpc_id,
                "cidr": str(settings.cidr),
                "availabilityZones": self.availability_zones,
                "availabilityZoneIds": self.availability_zone_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "databaseSubnetIds": self.database_subnet_ids,
                "natGatewayPublicIps": self.nat_gateway_public_ips,
                "flowLogGroupName": self.flow_log_group_name,
            }
        )

    def _vpc(self, parts: NetworkParts) -> aws.ec2.Vpc:
        """The VPC, with DNS support and host names (EKS and RDS endpoints need both), and its
        default security group stripped of every rule, so nothing that falls back to it can talk
        to anything (FSBP EC2.2)."""
        vpc = aws.ec2.Vpc(
            f"{self._name}-vpc",
            cidr_block=str(parts.settings.cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self.tags("vpc"),
            opts=self.child_opts(),
        )
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            vpc_id=vpc.id,
            # No ingress or egress arguments: the provider removes every rule of the group.
            tags=self.tags("default-sg-locked"),
            opts=self.child_opts(),
        )
        return vpc

    def _subnets(self, vpc: aws.ec2.Vpc) -> dict[SubnetTier, list[aws.ec2.Subnet]]:
        """One subnet per tier and zone, from the layout; none assigns public IPs on launch
        (FSBP EC2.15), and the tags tell the load balancer controller where to place
        load balancers."""
        return {
            tier: [
                aws.ec2.Subnet(
                    f"{self._name}-{tier}-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=str(block),
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags=self.tags(f"{tier}-{zone}", Tier=str(tier), **_load_balancer_tag(tier)),
                    opts=self.child_opts(),
                )
                for zone, block in zip(self.availability_zones, self.layout[tier], strict=True)
            ]
            for tier in SubnetTier
        }

    def _public_routing(
        self, vpc: aws.ec2.Vpc, public_subnets: Sequence[aws.ec2.Subnet]
    ) -> aws.ec2.InternetGateway:
        """The internet gateway and the one route table of the public subnets."""
        name = self._name
        internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self.tags("igw"), opts=self.child_opts()
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags=self.tags("public"), opts=self.child_opts()
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=internet_gateway.id,
            opts=self.child_opts(),
        )
        self._associate(SubnetTier.PUBLIC, public_subnets, [public_routes] * len(public_subnets))
        return internet_gateway

    def _nat_gateways(
        self,
        parts: NetworkParts,
        public_subnets: Sequence[aws.ec2.Subnet],
        internet_gateway: aws.ec2.InternetGateway,
        topic_arn: pulumi.Input[str],
    ) -> list[aws.ec2.NatGateway]:
        """A NAT gateway with its Elastic IP in each zone the parts name, and its alarms: the
        NAT gateways are the private subnets' only way out, and they fail quietly."""
        gateways: list[aws.ec2.NatGateway] = []
        for index in parts.nat_zone_indexes:
            zone = self.availability_zones[index]
            address = aws.ec2.Eip(
                f"{self._name}-nat-eip-{zone}",
                domain="vpc",
                tags=self.tags(f"nat-{zone}"),
                opts=self.child_opts(),
            )
            gateway = aws.ec2.NatGateway(
                f"{self._name}-nat-{zone}",
                allocation_id=address.allocation_id,
                subnet_id=public_subnets[index].id,
                connectivity_type="public",
                tags=self.tags(f"nat-{zone}"),
                # A NAT gateway only works once the VPC has its internet gateway.
                opts=self.child_opts(depends_on=[internet_gateway]),
            )
            for spec in parts.nat_alarms:
                metric_alarm(
                    self,
                    f"{self._name}-nat-{zone}-{spec.suffix}",
                    spec,
                    dimensions={"NatGatewayId": gateway.id},
                    topic_arn=topic_arn,
                    tag=f"nat-{zone}-{spec.suffix}",
                )
            gateways.append(gateway)
        return gateways

    def _private_routing(
        self,
        vpc: aws.ec2.Vpc,
        private_subnets: Sequence[aws.ec2.Subnet],
        nat_gateways: Sequence[aws.ec2.NatGateway],
    ) -> list[aws.ec2.RouteTable]:
        """A route table per zone, so that each zone leaves through its own NAT gateway where it
        has one (one-per-az) and through the shared one otherwise; without NAT gateways, no
        default route at all."""
        tables: list[aws.ec2.RouteTable] = []
        for index, zone in enumerate(self.availability_zones):
            table = aws.ec2.RouteTable(
                f"{self._name}-private-rt-{zone}",
                vpc_id=vpc.id,
                tags=self.tags(f"private-{zone}"),
                opts=self.child_opts(),
            )
            if nat_gateways:
                aws.ec2.Route(
                    f"{self._name}-private-default-{zone}",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_gateways[min(index, len(nat_gateways) - 1)].id,
                    opts=self.child_opts(),
                )
            tables.append(table)
        self._associate(SubnetTier.PRIVATE, private_subnets, tables)
        return tables

    def _isolated_routing(
        self, vpc: aws.ec2.Vpc, database_subnets: Sequence[aws.ec2.Subnet]
    ) -> aws.ec2.RouteTable:
        """One route table with only the implicit local route: the database tier has no way to
        or from the internet."""
        table = aws.ec2.RouteTable(
            f"{self._name}-database-rt",
            vpc_id=vpc.id,
            tags=self.tags("database"),
            opts=self.child_opts(),
        )
        self._associate(SubnetTier.DATABASE, database_subnets, [table] * len(database_subnets))
        return table

    def _s3_endpoint(self, vpc: aws.ec2.Vpc, route_tables: Sequence[aws.ec2.RouteTable]) -> None:
        """An S3 gateway endpoint on the given route tables: free, and it keeps S3 traffic
        (image layers, backups) off the NAT gateways, which bill per GB."""
        aws.ec2.VpcEndpoint(
            f"{self._name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{self.context.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in route_tables],
            tags=self.tags("s3-endpoint"),
            opts=self.child_opts(),
        )

    def _associate(
        self,
        tier: SubnetTier,
        subnets: Sequence[aws.ec2.Subnet],
        route_tables: Sequence[aws.ec2.RouteTable],
    ) -> None:
        """Associate each subnet of ``tier`` with the route table of its AZ."""
        for zone, subnet, table in zip(self.availability_zones, subnets, route_tables, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{self._name}-{tier}-{zone}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=self.child_opts(),
            )

    def _flow_logs(
        self, parts: NetworkParts, settings: FlowLogSettings, vpc: aws.ec2.Vpc, kms: KmsSettings
    ) -> pulumi.Output[str]:
        """The VPC's flow log into a log group with a key of its own (FSBP EC2.6); returns the
        group's name."""
        name = self._name
        log_group = encrypted_log_group(
            self,
            f"{name}-flow-logs",
            log_group_name=self.context.path("vpc", "flow-logs"),
            retention_days=settings.retention_days,
            kms=kms,
            purpose=parts.flow_log_key_purpose,
            description="encrypts the VPC flow-log group",
            statement_sid="CloudWatchLogsEncryptsFlowLogs",
            tag="flow-logs",
        )
        role, write_access = self._flow_log_role(log_group)
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type=settings.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=self.tags("flow-log"),
            # A flow log created before its role may write goes to "access error" for good.
            opts=self.child_opts(depends_on=[write_access]),
        )
        return log_group.name

    def _flow_log_role(
        self, log_group: aws.cloudwatch.LogGroup
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The role flow logs deliver with, and its permission: only this account's flow logs
        may assume it, and it writes to ``log_group`` alone."""
        context = self.context
        role = aws.iam.Role(
            f"{self._name}-flow-logs-role",
            description="Lets VPC flow logs write to their CloudWatch log group.",
            assume_role_policy=static_policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": context.account_id},
                            "ArnLike": {
                                "aws:SourceArn": context.arn("ec2", "vpc-flow-log/*"),
                            },
                        },
                    }
                ]
            ),
            tags=self.tags("flow-logs"),
            opts=self.child_opts(),
        )
        write_access = aws.iam.RolePolicy(
            f"{self._name}-flow-logs-write",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "logs:DescribeLogGroups",
                        "Resource": context.arn("logs", "log-group:*"),
                    },
                ]
            ),
            opts=self.child_opts(),
        )
        return role, write_access


def _load_balancer_tag(tier: SubnetTier) -> dict[str, str]:
    """Subnet tags the AWS Load Balancer Controller uses to place load balancers."""
    return {
        SubnetTier.PUBLIC: {"kubernetes.io/role/elb": "1"},
        SubnetTier.PRIVATE: {"kubernetes.io/role/internal-elb": "1"},
    }.get(tier, {})


# Defaults per environment and prod rules

_SUBNET_PREFIX_LENGTHS = SubnetPrefixLengths(public=24, private=19, database=24)

NETWORK_DEFAULTS = ByEnvironment(
    dev=NetworkSettings(
        cidr=IPv4Network("10.10.0.0/16"),
        az_count=2,
        availability_zone_ids=None,
        # One NAT gateway ($32.85/month) instead of one per AZ: dev tolerates an AZ outage.
        nat_strategy=NatStrategy.SINGLE,
        subnet_prefix_lengths=_SUBNET_PREFIX_LENGTHS,
        flow_logs=FlowLogSettings(enabled=True, retention_days=30, traffic_type="ALL"),
    ),
    prod=NetworkSettings(
        cidr=IPv4Network("10.20.0.0/16"),
        az_count=3,
        availability_zone_ids=None,
        nat_strategy=NatStrategy.ONE_PER_AZ,
        subnet_prefix_lengths=_SUBNET_PREFIX_LENGTHS,
        flow_logs=FlowLogSettings(enabled=True, retention_days=365, traffic_type="ALL"),
    ),
)

NETWORK_PROD_RULES = (
    ProdRule(
        NetworkSettings,
        key=lambda s: s.az_count,
        accepts=lambda count: count >= 2,
        allowed="2 or more (default 3)",
        reason="a single availability zone cannot meet the 99.9% uptime target",
    ),
    ProdRule(
        NetworkSettings,
        key=lambda s: s.nat_strategy,
        accepts=lambda strategy: strategy is NatStrategy.ONE_PER_AZ,
        allowed='"one-per-az"',
        reason="with fewer NAT gateways than AZs, one AZ outage cuts egress for the others",
    ),
    switched_on(
        NetworkSettings,
        key=lambda s: s.flow_logs.enabled,
        reason="VPC flow logs are the network audit trail (FSBP EC2.6)",
        policy="ec2-6-vpc-flow-logs",
    ),
    ProdRule(
        NetworkSettings,
        key=lambda s: s.flow_logs.traffic_type,
        accepts=lambda traffic: traffic == "ALL",
        allowed='"ALL"',
        reason="an investigation needs accepted and rejected traffic alike",
    ),
    ProdRule(
        NetworkSettings,
        key=lambda s: s.flow_logs.retention_days,
        accepts=lambda days: days >= PROD_AUDIT_LOG_RETENTION_DAYS,
        allowed=f"{PROD_AUDIT_LOG_RETENTION_DAYS} or more",
        reason="network audit records are kept for at least a year",
        policy="cloudwatch-audit-log-retention",
    ),
)
