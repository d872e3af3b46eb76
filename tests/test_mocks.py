"""The offline plan's stand-in for AWS: realistic, deterministic and strict."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from infractl.engine import run_stack
from infractl.mocks import OfflinePlanError, PlatformMocks
from infractl.plan import Plan


def test_ids_and_arns_look_like_aws(dev_plan: Plan) -> None:
    patterns = {
        "aws:ec2/vpc:Vpc": r"^vpc-[0-9a-f]{17}$",
        "aws:ec2/subnet:Subnet": r"^subnet-[0-9a-f]{17}$",
        "aws:ec2/natGateway:NatGateway": r"^nat-[0-9a-f]{17}$",
        "aws:ec2/eip:Eip": r"^eipalloc-[0-9a-f]{17}$",
        "aws:kms/key:Key": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    }
    for type_token, pattern in patterns.items():
        for resource in dev_plan.of_type(type_token):
            assert re.match(pattern, resource.id or ""), (type_token, resource.id)
    key = dev_plan.of_type("aws:kms/key:Key")[0]
    assert key.outputs["arn"] == f"arn:aws:kms:us-east-1:123456789012:key/{key.id}"


def test_auto_named_resources_get_pulumi_style_names(dev_plan: Plan) -> None:
    role = dev_plan.one("aws:iam/role:Role")
    # Pulumi auto-names in the provider, so the generated name is a computed attribute.
    assert re.match(r"^network-flow-logs-role-[0-9a-f]{7}$", role.outputs["name"])
    assert role.outputs["arn"] == f"arn:aws:iam::123456789012:role/{role.outputs['name']}"


def test_nat_gateway_reports_its_elastic_ip_and_a_private_ip_in_its_subnet(dev_plan: Plan) -> None:
    nat = dev_plan.one("aws:ec2/natGateway:NatGateway")
    eip = dev_plan.by_id(nat.inputs["allocationId"])
    subnet = dev_plan.by_id(nat.inputs["subnetId"])
    assert nat.outputs["publicIp"] == eip.outputs["publicIp"]
    assert nat.outputs["privateIp"].startswith(subnet.inputs["cidrBlock"].rsplit(".", 2)[0])


def test_a_look_up_the_mocks_do_not_know_fails_loudly() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.get_region(opts=pulumi.InvokeOptions(provider=provider))

    with pytest.raises(OfflinePlanError, match="no answer for the look-up aws:index/getRegion"):
        run_stack("dev", program=program)


def test_the_default_provider_is_refused_as_the_stacks_disable_it() -> None:
    def program() -> None:
        aws.s3.Bucket("stray")

    with pytest.raises(OfflinePlanError, match=r"\(aws:s3/bucket:Bucket\) uses the default aws"):
        run_stack("dev", program=program)


def test_a_kubernetes_resource_without_the_program_s_provider_is_refused() -> None:
    # The default Kubernetes provider would act on whatever cluster the local kubeconfig names.
    with pytest.raises(OfflinePlanError, match="uses the default kubernetes provider"):
        PlatformMocks()._provider_facts("kubernetes:core/v1:Namespace", None)  # pyright: ignore[reportPrivateUsage]


def test_random_passwords_need_no_provider_and_are_deterministic() -> None:
    def program() -> None:
        random.RandomPassword("token", length=40, special=False)

    first = run_stack("dev", program=program).one("random:index/randomPassword:RandomPassword")
    again = run_stack("dev", program=program).one("random:index/randomPassword:RandomPassword")
    # `result` is an additional secret output: masked in the plan, as pulumi returns it secret.
    assert first.outputs["result"] == "[secret]"
    assert (
        dict(first.secret_values)["outputs.result"] == dict(again.secret_values)["outputs.result"]
    )
    assert len(dict(first.secret_values)["outputs.result"]) == 40
