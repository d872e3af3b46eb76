"""Who may reach the data tier: only the client security groups a component is given.

The stack's program wires in the EKS cluster's security group; here a small program builds both
components with made-up client groups, so the rule holds whatever the clients are.
"""

from __future__ import annotations

from functools import cache

import pulumi
import pulumi_aws as aws

from components.base import Environment, StackContext
from components.postgres import PostgresDatabase, PostgresParts
from components.redis import RedisCache, RedisParts
from components.shared.placement import DataStoreNetwork
from components.shared.wiring import Wiring
from infra.config import parse_stack_config
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan
from tests.conftest import minimal_values

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC = "vpc-0123456789abcdef0"
CLIENTS = ("sg-0eksclusternodes000", "sg-0batchworkers00000")
CIDR_KEYS = ("cidrIpv4", "cidrIpv6", "prefixListId", "cidrBlocks", "ipv6CidrBlocks")


@cache
def data_tier_with_clients() -> Plan:
    config = parse_stack_config("dev", minimal_values("dev"))

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        context = StackContext(
            project="genericcorp",
            stack="dev",
            environment=Environment.DEV,
            region="us-east-1",
            account_id="123456789012",
        )
        opts = pulumi.ResourceOptions(provider=provider)
        subnets = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
        topic = "arn:aws:sns:us-east-1:123456789012:genericcorp-dev-alerts"
        wiring = Wiring(
            context=context,
            kms=config.kms,
            edge_provider=provider,
            alerts_topic_arn=topic,
            edge_alerts_topic_arn=topic,
        )
        network = DataStoreNetwork(
            vpc_id=VPC, subnet_ids=subnets, client_security_group_ids=CLIENTS
        )
        PostgresDatabase(
            "database",
            PostgresParts(config.database),
            wiring=wiring,
            network=network,
            opts=opts,
        )
        RedisCache(
            "cache",
            RedisParts(config.cache),
            wiring=wiring,
            network=network,
            opts=opts,
        )

    return run_stack("dev", program=program)


def test_each_client_group_is_admitted_on_the_service_port_only() -> None:
    plan = data_tier_with_clients()
    for component, port in (("database", 5433), ("cache", 6379)):
        group = plan.named(f"{component}-sg", SECURITY_GROUP)
        rules = [r for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == group.id]
        assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == sorted(CLIENTS)
        for rule in rules:
            assert rule.inputs["ipProtocol"] == "tcp"
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == port
            assert not any(key in rule.inputs for key in CIDR_KEYS)


def test_the_database_port_follows_config() -> None:
    plan = data_tier_with_clients()
    database_sg = plan.named("database-sg", SECURITY_GROUP).id
    ports = {
        r.inputs["fromPort"]
        for r in plan.of_type(INGRESS)
        if r.inputs["securityGroupId"] == database_sg
    }
    assert ports == {5433}


def test_no_data_tier_security_group_admits_an_address_range(plan: Plan) -> None:
    data_groups = {plan.named(f"{c}-sg", SECURITY_GROUP).id for c in ("database", "cache")}
    for group in plan.of_type(SECURITY_GROUP):
        if group.id in data_groups:
            assert not group.inputs.get("ingress")
    for rule in plan.of_type(INGRESS):
        if rule.inputs["securityGroupId"] in data_groups:
            assert not any(key in rule.inputs for key in CIDR_KEYS)
    for rule in plan.of_type("aws:ec2/securityGroupRule:SecurityGroupRule"):
        assert rule.inputs["securityGroupId"] not in data_groups


def test_nothing_stateful_is_publicly_accessible(plan: Plan) -> None:
    assert plan.one("aws:rds/instance:Instance").inputs["publiclyAccessible"] is False
    subnet_groups = [
        plan.one("aws:rds/subnetGroup:SubnetGroup"),
        plan.one("aws:elasticache/subnetGroup:SubnetGroup"),
    ]
    database_subnets = set(plan.outputs["network"]["databaseSubnetIds"])
    for group in subnet_groups:
        assert set(group.inputs["subnetIds"]) == database_subnets
