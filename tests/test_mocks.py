"""The offline plan's stand-in for AWS: realistic, deterministic and strict."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from infractl.offline.engine import run_stack
from infractl.offline.mocks import OfflinePlanError, PlatformMocks
from infractl.offline.plan import Plan


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
    role = dev_plan.named("network-flow-logs-role")
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
        pulumi.export("token", random.RandomPassword("token", length=40, special=False).result)

    first = run_stack("dev", program=program)
    again = run_stack("dev", program=program)
    # The recorded resource masks the generated value, as Pulumi shows a secret.
    assert first.one("random:index/randomPassword:RandomPassword").outputs["result"] == "[secret]"
    assert first.raw_outputs["token"] == again.raw_outputs["token"]
    assert len(first.raw_outputs["token"]) == 40
    assert first.raw_outputs["token"].isalnum()


def test_edge_resources_look_like_aws(prod_plan: Plan) -> None:
    zone = prod_plan.one("aws:route53/zone:Zone")
    assert re.match(r"^Z[0-9A-F]{20}$", zone.outputs["zoneId"])
    assert len(zone.outputs["nameServers"]) == 4
    assert all(re.match(r"^ns-\d+\.awsdns-\d{2}\.", ns) for ns in zone.outputs["nameServers"])
    distribution = prod_plan.one("aws:cloudfront/distribution:Distribution")
    assert re.match(r"^E[0-9A-F]{13}$", distribution.id or "")
    assert distribution.outputs["domainName"].endswith(".cloudfront.net")
    assert distribution.outputs["arn"] == (
        f"arn:aws:cloudfront::123456789012:distribution/{distribution.id}"
    )
    acl = prod_plan.named("cdn-waf", "aws:wafv2/webAcl:WebAcl")
    assert acl.outputs["arn"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/")
    ksk = prod_plan.one("aws:route53/keySigningKey:KeySigningKey")
    assert re.match(r"^\d+ 13 2 [0-9A-F]{64}$", ksk.outputs["dsRecord"])


def test_an_auto_named_bucket_gets_a_pulumi_style_name() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        aws.s3.Bucket("artifacts", opts=pulumi.ResourceOptions(provider=provider))

    bucket = run_stack("dev", program=program).one("aws:s3/bucket:Bucket")
    assert re.match(r"^artifacts-[0-9a-f]{7}$", bucket.id or "")
    assert bucket.outputs["bucketRegionalDomainName"] == f"{bucket.id}.s3.eu-west-1.amazonaws.com"


def test_an_unknown_existing_zone_fails_loudly() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.route53.get_zone(zone_id="Z0NOSUCHZONE", opts=pulumi.InvokeOptions(provider=provider))

    with pytest.raises(OfflinePlanError, match="no hosted zone with id Z0NOSUCHZONE"):
        run_stack("dev", program=program)


def test_eks_resources_get_aws_shaped_attributes(dev_plan: Plan) -> None:
    cluster = dev_plan.one("aws:eks/cluster:Cluster")
    assert re.match(
        r"^https://[0-9A-F]{32}\.gr7\.us-east-1\.eks\.amazonaws\.com$", cluster.outputs["endpoint"]
    )
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert re.match(r"^https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[0-9A-F]{32}$", issuer)
    node_group = dev_plan.one("aws:eks/nodeGroup:NodeGroup")
    assert node_group.outputs["arn"].startswith(
        "arn:aws:eks:us-east-1:123456789012:nodegroup/genericcorp-dev-eks/genericcorp-dev-general/"
    )
    namespace = dev_plan.named("tenants-acme-ns")
    assert namespace.id == "tenant-acme"
    assert namespace.outputs["id"] == namespace.inputs["metadata"]["name"]
    release = dev_plan.named("platform-metrics-server")
    assert release.id == "kube-system/metrics-server"
    assert release.outputs["status"]["status"] == "deployed"
