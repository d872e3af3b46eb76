"""The network component in both stacks: subnets, routing, NAT, endpoints, flow logs, default SG."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.network import (
    EKS_UNSUPPORTED_ZONE_IDS,
    NETWORK_DEFAULTS,
    RESERVED_AZ_SLOTS,
    AvailabilityZone,
    Network,
    NetworkParts,
    NetworkSettings,
    SubnetLayoutError,
    SubnetPrefixLengths,
    SubnetTier,
    ZoneChoiceError,
    choose_availability_zones,
    minimum_vpc_prefix,
    plan_subnets,
)
from infra.config import ConfigError
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import LIFTED_BUDGET, plan_with, policy, stack_config, statements

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
EXPECTED_ZONE_IDS = {
    "dev": ["use1-az1", "use1-az2"],
    "prod": ["use1-az1", "use1-az2", "use1-az4"],
}
EXPECTED_AZS = {
    "dev": ["us-east-1a", "us-east-1b"],
    "prod": ["us-east-1a", "us-east-1b", "us-east-1c"],
}


def subnets(plan: Plan, tier: str) -> list[PlannedResource]:
    return [s for s in plan.of_type(SUBNET) if s.tags.get("Tier") == tier]


def associated_table(plan: Plan, subnet: PlannedResource) -> PlannedResource:
    [association] = [a for a in plan.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    return plan.by_id(association.inputs["routeTableId"])


def routes_of(plan: Plan, table: PlannedResource) -> list[PlannedResource]:
    return [r for r in plan.of_type(ROUTE) if r.inputs["routeTableId"] == table.id]


# --- VPC and subnets ----------------------------------------------------------------------


def test_vpc_uses_the_configured_cidr_with_dns(plan: Plan) -> None:
    vpc = plan.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == {"dev": "10.10.0.0/16", "prod": "10.20.0.0/16"}[plan.stack]
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_dev_spans_two_azs_and_prod_three(plan: Plan) -> None:
    azs = EXPECTED_AZS[plan.stack]
    assert plan.outputs["network"]["availabilityZones"] == azs
    for tier in SubnetTier:
        assert sorted(s.inputs["availabilityZone"] for s in subnets(plan, tier)) == azs


# --- availability zones, chosen by zone ID ----------------------------------------------------

#: us-east-1 as the offline account sees it: us-east-1e is use1-az3, which EKS refuses.
US_EAST_1 = [
    AvailabilityZone(name=f"us-east-1{letter}", zone_id=f"use1-az{number}")
    for letter, number in (("a", 1), ("b", 2), ("c", 4), ("d", 6), ("e", 3), ("f", 5))
]


def network_settings(**changes: object) -> NetworkSettings:
    return NETWORK_DEFAULTS.prod.model_copy(update=changes)


def test_the_network_output_names_each_zone_and_its_zone_id(plan: Plan) -> None:
    network = plan.outputs["network"]
    assert network["availabilityZoneIds"] == EXPECTED_ZONE_IDS[plan.stack]
    zone_ids = dict(zip(network["availabilityZones"], network["availabilityZoneIds"], strict=True))
    for tier in SubnetTier:
        for subnet in subnets(plan, tier):
            assert (
                subnet.outputs["availabilityZoneId"] == zone_ids[subnet.inputs["availabilityZone"]]
            )


def test_zones_eks_refuses_are_never_chosen() -> None:
    chosen = choose_availability_zones(network_settings(az_count=5), "us-east-1", US_EAST_1)
    assert [zone.name for zone in chosen] == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
        "us-east-1d",
        "us-east-1f",
    ]
    assert "use1-az3" in EKS_UNSUPPORTED_ZONE_IDS["us-east-1"]


def test_a_plan_over_more_zones_skips_the_zone_eks_refuses() -> None:
    plan = plan_with("prod", {"genericcorp:network": {"azCount": 4}, **LIFTED_BUDGET})
    assert plan.outputs["network"]["availabilityZoneIds"] == [
        "use1-az1",
        "use1-az2",
        "use1-az4",
        "use1-az6",
    ]
    assert "us-east-1e" not in {s.inputs["availabilityZone"] for s in plan.of_type(SUBNET)}


def test_az_count_beyond_the_zones_eks_supports_is_refused_naming_the_excluded_zone() -> None:
    with pytest.raises(ZoneChoiceError) as caught:
        choose_availability_zones(network_settings(az_count=6), "us-east-1", US_EAST_1)
    assert caught.value.setting == "azCount"
    assert "6 availability zones available" in str(caught.value)
    assert "5 of them supported by Amazon EKS (us-east-1e (use1-az3) is not); use 1 to 5" in str(
        caught.value
    )


def test_configured_zone_ids_are_used_in_their_order() -> None:
    plan = plan_with(
        "prod",
        {
            "genericcorp:network": {
                "azCount": 3,
                "availabilityZoneIds": ["use1-az6", "use1-az1", "use1-az5"],
            }
        },
    )
    network = plan.outputs["network"]
    assert network["availabilityZoneIds"] == ["use1-az6", "use1-az1", "use1-az5"]
    assert network["availabilityZones"] == ["us-east-1d", "us-east-1a", "us-east-1f"]
    assert {s.inputs["availabilityZone"] for s in plan.of_type(SUBNET)} == {
        "us-east-1d",
        "us-east-1a",
        "us-east-1f",
    }


def test_a_zone_id_the_region_does_not_have_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack(
            "prod",
            config_overrides={
                "genericcorp:network": {
                    "azCount": 3,
                    "availabilityZoneIds": ["use1-az1", "use1-az9", "use1-az2"],
                }
            },
        )
    [problem] = caught.value.problems
    assert problem.render() == (
        'genericcorp:network.availabilityZoneIds = ["use1-az1", "use1-az9", "use1-az2"]: region '
        "us-east-1 has no available zone use1-az9; its zone IDs are use1-az1, use1-az2, "
        "use1-az3, use1-az4, use1-az5, use1-az6"
    )


def test_a_configured_zone_id_eks_refuses_is_refused() -> None:
    with pytest.raises(
        ZoneChoiceError,
        match=r"Amazon EKS does not support clusters in use1-az3 "
        r"\(us-east-1e\); choose from use1-az1, use1-az2, use1-az4, use1-az6, use1-az5",
    ):
        choose_availability_zones(
            network_settings(availability_zone_ids=["use1-az1", "use1-az3", "use1-az2"]),
            "us-east-1",
            US_EAST_1,
        )


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["use1-az1", "use1-az1", "use1-az2"], "lists a zone ID twice"),
        (["use1-az1", "use1-az2"], "lists 2 zone IDs for azCount 3; list 3"),
        (["us-east-1a", "use1-az1", "use1-az2"], "should match pattern"),
    ],
)
def test_configured_zone_ids_are_validated(ids: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NetworkSettings.model_validate(
            {
                **NETWORK_DEFAULTS.prod.model_dump(by_alias=True, mode="json"),
                "availabilityZoneIds": ids,
            }
        )


def test_subnet_cidrs_are_inside_the_vpc_and_never_overlap(plan: Plan) -> None:
    vpc = IPv4Network(plan.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    blocks = [IPv4Network(s.inputs["cidrBlock"]) for s in plan.of_type(SUBNET)]
    assert len(blocks) == 3 * len(EXPECTED_AZS[plan.stack])
    assert all(block.subnet_of(vpc) for block in blocks)
    for index, block in enumerate(blocks):
        assert not any(block.overlaps(other) for other in blocks[index + 1 :])


def test_tier_sizes_follow_the_prefix_lengths(plan: Plan) -> None:
    for tier, prefix in {"public": 24, "private": 19, "database": 24}.items():
        assert {IPv4Network(s.inputs["cidrBlock"]).prefixlen for s in subnets(plan, tier)} == {
            prefix
        }


def test_no_subnet_assigns_public_ips(plan: Plan) -> None:
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in plan.of_type(SUBNET))


def test_subnets_carry_the_tags_load_balancers_need(plan: Plan) -> None:
    for subnet in subnets(plan, "public"):
        assert subnet.tags["kubernetes.io/role/elb"] == "1"
        assert "kubernetes.io/role/internal-elb" not in subnet.tags
    for subnet in subnets(plan, "private"):
        assert subnet.tags["kubernetes.io/role/internal-elb"] == "1"
        assert "kubernetes.io/role/elb" not in subnet.tags
    for subnet in subnets(plan, "database"):
        assert not any(key.startswith("kubernetes.io/") for key in subnet.tags)


# --- routing ------------------------------------------------------------------------------


def test_public_subnets_route_to_the_internet_gateway(plan: Plan) -> None:
    igw = plan.one("aws:ec2/internetGateway:InternetGateway")
    tables = {associated_table(plan, s).name for s in subnets(plan, "public")}
    assert tables == {"network-public-rt"}
    [route] = routes_of(plan, plan.named("network-public-rt"))
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert route.inputs["gatewayId"] == igw.id


def test_database_subnets_are_isolated(plan: Plan) -> None:
    tables = {associated_table(plan, s).name for s in subnets(plan, "database")}
    assert tables == {"network-database-rt"}
    assert routes_of(plan, plan.named("network-database-rt")) == []
    assert plan.named("network-database-rt").inputs.get("routes") in (None, [])


def test_dev_shares_one_nat_gateway_and_prod_has_one_per_az(plan: Plan) -> None:
    nats = plan.of_type(NAT)
    public = {s.id: s.inputs["availabilityZone"] for s in subnets(plan, "public")}
    nat_zones = sorted(public[nat.inputs["subnetId"]] for nat in nats)
    assert nat_zones == {"dev": ["us-east-1a"], "prod": EXPECTED_AZS["prod"]}[plan.stack]
    for subnet in subnets(plan, "private"):
        [route] = routes_of(plan, associated_table(plan, subnet))
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        nat = plan.by_id(route.inputs["natGatewayId"])
        expected_zone = "us-east-1a" if plan.stack == "dev" else subnet.inputs["availabilityZone"]
        assert public[nat.inputs["subnetId"]] == expected_zone


def test_each_nat_gateway_has_its_own_elastic_ip(plan: Plan) -> None:
    eips = {str(e.id): e for e in plan.of_type("aws:ec2/eip:Eip")}
    allocations = [nat.inputs["allocationId"] for nat in plan.of_type(NAT)]
    assert sorted(allocations) == sorted(eips)
    assert all(e.inputs["domain"] == "vpc" for e in eips.values())
    assert sorted(plan.outputs["network"]["natGatewayPublicIps"]) == sorted(
        e.outputs["publicIp"] for e in eips.values()
    )


def test_nat_gateways_wait_for_the_internet_gateway(plan: Plan) -> None:
    igw = plan.one("aws:ec2/internetGateway:InternetGateway")
    assert all(igw.urn in nat.dependencies for nat in plan.of_type(NAT))


def test_no_nat_strategy_leaves_private_subnets_without_egress() -> None:
    plan = plan_with("dev", {"genericcorp:network": {"natStrategy": "none"}})
    assert plan.of_type(NAT) == []
    assert plan.of_type("aws:ec2/eip:Eip") == []
    for subnet in subnets(plan, "private"):
        assert routes_of(plan, associated_table(plan, subnet)) == []


def test_single_strategy_shares_one_gateway_across_all_azs() -> None:
    plan = plan_with("dev", {"genericcorp:network": {"azCount": 3}, **LIFTED_BUDGET})
    assert len(plan.of_type(NAT)) == 1
    targets = {r.inputs["natGatewayId"] for r in plan.of_type(ROUTE) if "natGatewayId" in r.inputs}
    assert len(targets) == 1


def test_s3_gateway_endpoint_serves_private_and_database_route_tables(plan: Plan) -> None:
    endpoint = plan.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    expected = {
        associated_table(plan, s).id
        for tier in ("private", "database")
        for s in subnets(plan, tier)
    }
    assert set(endpoint.inputs["routeTableIds"]) == expected


# --- security ----------------------------------------------------------------------------


def test_default_security_group_is_stripped_of_all_rules(plan: Plan) -> None:
    sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sg.inputs["vpcId"] == plan.one("aws:ec2/vpc:Vpc").id
    assert not sg.inputs.get("ingress")
    assert not sg.inputs.get("egress")


def test_flow_logs_record_all_traffic_to_an_encrypted_log_group(plan: Plan) -> None:
    flow_log = plan.one("aws:ec2/flowLog:FlowLog")
    log_group = plan.named("network-flow-logs", "aws:cloudwatch/logGroup:LogGroup")
    key = plan.named("network-flow-logs-key", "aws:kms/key:Key")
    assert flow_log.inputs["vpcId"] == plan.one("aws:ec2/vpc:Vpc").id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow_log.inputs["logDestination"] == log_group.outputs["arn"]
    assert flow_log.inputs["iamRoleArn"] == plan.named("network-flow-logs-role").outputs["arn"]
    assert log_group.inputs["name"] == f"/genericcorp/{plan.stack}/vpc/flow-logs"
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert log_group.inputs["retentionInDays"] == {"dev": 30, "prod": 365}[plan.stack]


def test_flow_log_waits_for_its_role_to_be_allowed_to_write(plan: Plan) -> None:
    write_access = plan.named("network-flow-logs-write")
    assert write_access.urn in plan.one("aws:ec2/flowLog:FlowLog").dependencies


def test_flow_log_key_lets_cloudwatch_logs_encrypt_only_this_log_group(plan: Plan) -> None:
    key = plan.named("network-flow-logs-key", "aws:kms/key:Key")
    [logs] = [
        s for s in statements(policy(key, "policy")) if s["Sid"] == "CloudWatchLogsEncryptsFlowLogs"
    ]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:us-east-1:123456789012:log-group:/genericcorp/{plan.stack}/vpc/flow-logs"
    )


def test_flow_log_role_is_assumable_only_by_this_accounts_flow_logs(plan: Plan) -> None:
    role = plan.named("network-flow-logs-role")
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":vpc-flow-log/*")


def test_flow_log_role_writes_only_to_its_log_group(plan: Plan) -> None:
    log_group_arn = plan.named("network-flow-logs", "aws:cloudwatch/logGroup:LogGroup").outputs[
        "arn"
    ]
    write, describe = statements(policy(plan.named("network-flow-logs-write"), "policy"))
    assert write["Resource"] == [log_group_arn, f"{log_group_arn}:*"]
    assert "logs:CreateLogGroup" not in write["Action"]
    assert describe["Action"] == "logs:DescribeLogGroups"
    assert describe["Resource"] == "arn:aws:logs:us-east-1:123456789012:log-group:*"


def test_flow_logs_can_be_switched_off_in_dev_only() -> None:
    plan = plan_with("dev", {"genericcorp:network": {"flowLogs": {"enabled": False}}})
    assert plan.of_type("aws:ec2/flowLog:FlowLog") == []
    assert not any(
        g.inputs["name"].endswith("/vpc/flow-logs")
        for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    )
    assert plan.outputs["network"]["flowLogGroupName"] is None


def test_every_nat_gateway_alarms_to_the_alerts_topic(plan: Plan) -> None:
    topic_arn = plan.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = [
        alarm
        for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.inputs["namespace"] == "AWS/NATGateway"
    ]
    nats = {nat.id for nat in plan.of_type(NAT)}
    assert {a.inputs["dimensions"]["NatGatewayId"] for a in alarms} == nats
    for alarm in alarms:
        assert alarm.inputs["metricName"] == "ErrorPortAllocation"
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]


def test_the_parts_count_the_nat_gateways_and_alarms_the_plan_declares(plan: Plan) -> None:
    parts = NetworkParts(stack_config(plan.stack).network)
    alarms = [
        alarm
        for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.inputs["namespace"] == "AWS/NATGateway"
    ]
    gateways = len(parts.nat_zone_indexes)
    assert len(plan.of_type(NAT)) == len(plan.of_type("aws:ec2/eip:Eip")) == gateways
    assert len(alarms) == gateways * len(parts.nat_alarms)
    planned = {IPv4Network(s.inputs["cidrBlock"]) for s in plan.of_type(SUBNET)}
    assert planned == {block for blocks in parts.layout.values() for block in blocks}


def test_the_network_output_is_what_the_component_declares(plan: Plan) -> None:
    output = plan.outputs["network"]
    assert set(output) == set(Network.OUTPUTS)
    assert output["cidr"] == plan.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    assert output["vpcId"] == plan.one("aws:ec2/vpc:Vpc").id


# --- the subnet layout, as a property over many inputs --------------------------------------

prefixes = st.builds(
    SubnetPrefixLengths,
    public=st.integers(18, 28),
    private=st.integers(16, 28),
    database=st.integers(18, 28),
)


@settings(deadline=None, max_examples=300)
@given(
    vpc_prefix=st.integers(16, 24),
    base=st.integers(0, 255),
    az_count=st.integers(1, 6),
    lengths=prefixes,
)
def test_plan_subnets_never_overlaps_and_stays_aligned(
    vpc_prefix: int, base: int, az_count: int, lengths: SubnetPrefixLengths
) -> None:
    vpc = IPv4Network((int(ipaddress.IPv4Address(f"10.{base}.0.0")), vpc_prefix), strict=False)
    try:
        layout = plan_subnets(vpc, az_count, lengths)
    except SubnetLayoutError:
        slots = max(az_count, RESERVED_AZ_SLOTS)
        needed = sum(slots * 2 ** (32 - lengths.of(t)) for t in SubnetTier)
        too_big = any(lengths.of(t) <= vpc_prefix for t in SubnetTier)
        assert too_big or needed > vpc.num_addresses
        return
    blocks = [block for tier in SubnetTier for block in layout[tier]]
    assert all(len(layout[tier]) == az_count for tier in SubnetTier)
    assert all(block.subnet_of(vpc) for block in blocks)
    assert all(block.prefixlen == lengths.of(tier) for tier in SubnetTier for block in layout[tier])
    for index, block in enumerate(blocks):
        assert not any(block.overlaps(other) for other in blocks[index + 1 :])


@pytest.mark.parametrize("az_count", [1, 2, 3, 4])
def test_growing_up_to_four_azs_never_renumbers_a_subnet(az_count: int) -> None:
    lengths = SubnetPrefixLengths(public=24, private=19, database=24)
    vpc = IPv4Network("10.20.0.0/16")
    bigger = plan_subnets(vpc, RESERVED_AZ_SLOTS, lengths)
    smaller = plan_subnets(vpc, az_count, lengths)
    for tier in SubnetTier:
        assert smaller[tier] == bigger[tier][:az_count]


@pytest.mark.parametrize(
    ("addresses", "prefix"), [(65536, 16), (65537, 15), (34816, 16), (256, 24)]
)
def test_minimum_vpc_prefix(addresses: int, prefix: int) -> None:
    assert minimum_vpc_prefix(addresses) == prefix
