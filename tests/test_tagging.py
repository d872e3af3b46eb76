"""Every taggable resource carries Project, Environment, Component, ManagedBy and CostCenter."""

from __future__ import annotations

import json

import pytest

from infractl.offline.plan import Plan
from infractl.offline.schema import aws_resource_class, is_taggable
from tests.conftest import plan_with

REQUIRED = {"Project", "Environment", "Component", "ManagedBy", "CostCenter"}
COMPONENT_TAGS = {
    "genericcorp:data:TenantData": "tenant-data",
    "genericcorp:network:Network": "network",
    "genericcorp:monitoring:AlertsTopic": "monitoring",
    "genericcorp:cost:Budget": "cost",
    "genericcorp:monitoring:Uptime": "monitoring",
    "genericcorp:edge:DnsZone": "dns",
    "genericcorp:edge:Cdn": "cdn",
    "genericcorp:data:PostgresDatabase": "database",
    "genericcorp:data:RedisCache": "cache",
    "genericcorp:compute:EksCompute": "compute",
    "genericcorp:compute:EksCluster": "compute",
    "genericcorp:compute:NodeGroup": "compute",
    "genericcorp:compute:EksAddons": "compute",
    "genericcorp:platform:KubernetesPlatform": "platform",
    "genericcorp:platform:Ingress": "ingress",
    "genericcorp:ci:CiRunner": "ci",
}
PROVIDER = "pulumi:providers:aws"
#: The program's two providers: the stack's region, and us-east-1 for what AWS keeps only there.
PROVIDERS = {"aws": "us-east-1", "us-east-1": "us-east-1"}


def test_provider_default_tags_carry_the_cost_allocation_tags(plan: Plan) -> None:
    assert {p.name for p in plan.of_type(PROVIDER)} == set(PROVIDERS)
    for provider in plan.of_type(PROVIDER):
        default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert default_tags == {
            "Project": "genericcorp",
            "Environment": plan.stack,
            "ManagedBy": "pulumi",
            "CostCenter": "platform-engineering",
        }
        assert provider.inputs["region"] == PROVIDERS[provider.name]


def test_every_taggable_resource_has_all_required_tags(plan: Plan) -> None:
    taggable = [r for r in plan.cloud_resources if is_taggable(r.type)]
    assert len(taggable) > 20
    for resource in taggable:
        assert "Component" in resource.tags, resource.urn
        assert set(resource.inputs["tagsAll"]) >= REQUIRED, resource.urn


def test_component_tag_names_the_owning_component(plan: Plan) -> None:
    for resource in plan.cloud_resources:
        if not is_taggable(resource.type):
            continue
        owner = plan.component_of(resource)
        top = owner
        while top is not None and top.type not in COMPONENT_TAGS:
            top = plan.component_of(top)
        assert top is not None, resource.urn
        assert resource.tags["Component"] == COMPONENT_TAGS[top.type], resource.urn


def test_every_aws_and_kubernetes_resource_uses_an_explicit_provider(plan: Plan) -> None:
    providers = {
        package: {p.urn for p in plan.of_type(f"pulumi:providers:{package}")}
        for package in ("aws", "kubernetes")
    }
    for resource in plan.cloud_resources:
        package = resource.type.split(":", 1)[0]
        if package == "random":
            continue  # no ambient target: its default provider is safe
        assert resource.provider in providers[package], resource.urn


def test_extra_tags_from_config_reach_every_resource() -> None:
    plan = plan_with("dev", {"genericcorp:tagging": {"extraTags": {"Owner": "sre"}}})
    for provider in plan.of_type(PROVIDER):
        assert json.loads(provider.inputs["defaultTags"])["tags"]["Owner"] == "sre"
    assert all(
        r.inputs["tagsAll"]["Owner"] == "sre" for r in plan.cloud_resources if is_taggable(r.type)
    )


@pytest.mark.parametrize(
    ("type_token", "taggable"),
    [
        ("aws:ec2/vpc:Vpc", True),
        ("aws:kms/key:Key", True),
        ("aws:ec2/routeTableAssociation:RouteTableAssociation", False),
        ("aws:kms/alias:Alias", False),
        ("aws:iam/rolePolicy:RolePolicy", False),
        ("genericcorp:network:Network", False),
    ],
)
def test_taggability_is_read_from_the_sdk(type_token: str, taggable: bool) -> None:
    assert is_taggable(type_token) is taggable


def test_unknown_aws_types_are_not_resolved() -> None:
    assert aws_resource_class("aws:ec2/noSuchThing:NoSuchThing") is None
