"""`infractl verify` against a stack deployed into moto, with a fake DNS resolver (no network)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import dns.exception
import dns.message
import dns.rcode
import dns.resolver
import dns.rrset
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.eks.models import eks_backends  # pyright: ignore[reportMissingTypeStubs]
from typer.testing import CliRunner

from infractl.aws import verify as verify_module
from infractl.aws.verify import (
    Check,
    Clients,
    DnsUnreachableError,
    OutputsError,
    ParentDelegation,
    Status,
    parse_outputs,
    verify,
)
from infractl.cli import app
from tests.conftest import plan_for

REGION = "us-east-1"
ACCOUNT = "123456789012"
ZONE = "genericcorp.com"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
runner = CliRunner()


# --- a fake resolver: the parent zone's servers answer from a table ---------------------------


class FakeResolver:
    """Answers NS and A look-ups from a table; raises what the table holds for a name."""

    def __init__(self, table: dict[tuple[str, str], list[str] | Exception]) -> None:
        self.table = table

    def resolve(self, qname: str, rdtype: str) -> Iterable[Any]:
        answer = self.table[(qname.rstrip(".") + ".", rdtype)]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeParent:
    """The parent zone's server: a referral (authority NS records) for the zone, as `com` gives."""

    def __init__(self, delegated_to: list[str] | None, error: Exception | None = None) -> None:
        self.delegated_to = delegated_to
        self.error = error
        self.asked: list[str] = []

    def __call__(
        self, q: dns.message.Message, where: str, timeout: float | None = None
    ) -> dns.message.Message:
        self.asked.append(where)
        if self.error is not None:
            raise self.error
        response = dns.message.make_response(q)
        if self.delegated_to is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        response.authority.append(
            dns.rrset.from_text_list(
                q.question[0].name, 172800, "IN", "NS", [f"{ns}." for ns in self.delegated_to]
            )
        )
        return response


def delegation(
    delegated_to: list[str] | None, parent_error: Exception | None = None
) -> ParentDelegation:
    resolver = FakeResolver(
        {
            ("com.", "NS"): parent_error or ["a.gtld-servers.net.", "b.gtld-servers.net."],
            ("a.gtld-servers.net.", "A"): ["192.0.2.1"],
            ("b.gtld-servers.net.", "A"): ["192.0.2.2"],
        }
    )
    return ParentDelegation(resolver=resolver, query=FakeParent(delegated_to))


@cache
def client(service: str) -> Any:
    """One client per service for the session: moto resets its backends, not the clients, per
    test, and creating a botocore client costs a tenth of a second."""
    name: Any = service  # boto3-stubs types each service's client; these are looked up by name
    return boto3.client(
        name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


# --- a deployed stack in moto ------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # A requested certificate is issued at once (moto waits 60 s by default, as if validating).
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 0)
    # moto's EKS builds a new boto3 session to validate each role ARN, re-reading botocore's
    # endpoint data (over half a second); one session, whose loader caches it, validates the same.
    monkeypatch.setattr("moto.eks.utils.Session", _session)
    with mock_aws():
        yield


@cache
def _session() -> boto3.Session:
    return boto3.Session()


def deploy(environment: str, **weaken: Any) -> dict[str, Any]:
    """Create the stack's resources in moto the way the program would; return its outputs."""
    prod = environment == "prod"
    eks = client("eks")
    public = weaken.get("public_cidrs")
    eks.create_cluster(
        name="genericcorp-prod",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/cluster",
        version="1.33",
        resourcesVpcConfig={
            "subnetIds": ["subnet-1", "subnet-2"],
            "endpointPublicAccess": public is not None,
            "endpointPrivateAccess": True,
            **({"publicAccessCidrs": public} if public else {}),
        },
        encryptionConfig=[]
        if weaken.get("no_secrets_encryption")
        else [{"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}],
        logging={
            "clusterLogging": [
                {"types": weaken.get("log_types", ALL_LOGS), "enabled": True},
            ]
        },
    )
    # AWS computes the cluster security group; moto leaves it out.
    cluster_state = eks_backends[ACCOUNT][REGION].clusters["genericcorp-prod"]  # pyright: ignore[reportUnknownMemberType]
    cluster_state.resources_vpc_config["clusterSecurityGroupId"] = "sg-0cluster"  # pyright: ignore[reportUnknownMemberType]
    node_groups = ["system"] if weaken.get("node_group") else []
    for node_group in node_groups:  # moto takes over a second per node group: only where tested
        eks.create_nodegroup(
            clusterName="genericcorp-prod",
            nodegroupName=node_group,
            nodeRole=f"arn:aws:iam::{ACCOUNT}:role/nodes",
            subnets=["subnet-1"],
        )
    cluster = eks.describe_cluster(name="genericcorp-prod")["cluster"]

    rds = client("rds")
    db = rds.create_db_instance(
        DBInstanceIdentifier="genericcorp-prod-db",
        Engine="postgres",
        EngineVersion="16.4",
        DBInstanceClass="db.t4g.medium",
        MasterUsername="gcadmin",
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
        StorageEncrypted=not weaken.get("db_unencrypted"),
        MultiAZ=weaken.get("db_multi_az", prod),
        DeletionProtection=weaken.get("db_protected", prod),
        PubliclyAccessible=bool(weaken.get("db_public")),
        Port=5433,
        VpcSecurityGroupIds=["sg-0database"],
    )["DBInstance"]

    cache = client("elasticache")
    failover = weaken.get("cache_failover", prod)
    group = cache.create_replication_group(
        ReplicationGroupId="genericcorp-prod-cache",
        ReplicationGroupDescription="analytics cache",
        Engine="valkey",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=2 if failover else 1,
        AutomaticFailoverEnabled=failover,
        MultiAZEnabled=failover,
        TransitEncryptionEnabled=not weaken.get("cache_plaintext"),
        AtRestEncryptionEnabled=True,
        **({} if weaken.get("cache_no_auth") else {"AuthToken": "a" * 32}),
        SecurityGroupIds=["sg-0cache"],
    )["ReplicationGroup"]
    primary = group.get("NodeGroups", [{}])[0].get("PrimaryEndpoint", {})

    certificate = (
        f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    )
    web_acl = (
        None
        if weaken.get("no_waf")
        else f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/genericcorp-prod/abc"
    )
    cloudfront = client("cloudfront")
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "genericcorp-prod",
            "Aliases": {"Quantity": 1, "Items": [f"cdn.{ZONE}"]},
            "DefaultRootObject": "index.html",
            "Comment": "static assets",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "assets",
                        "DomainName": "assets.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "assets",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
            "ViewerCertificate": {
                "ACMCertificateArn": certificate,
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": weaken.get("tls_policy", "TLSv1.2_2021"),
            },
            "WebACLId": web_acl or "",
        }
    )["Distribution"]

    route53 = client("route53")
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="genericcorp")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    records = [("", "A", "76.76.21.21"), ("www.", "CNAME", "cname.vercel-dns.com")]
    if not weaken.get("no_demo_record"):
        records.append(("demo.", "CNAME", "cname.vercel-dns.com"))
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"{prefix}{ZONE}",
                        "Type": kind,
                        "TTL": 300,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
                for prefix, kind, value in records
            ]
        },
    )
    outputs: dict[str, Any] = {}
    if weaken.get("ingress"):
        outputs["ingress"] = deploy_ingress(prod, zone_id, **weaken)
    return outputs | {
        "environment": environment,
        "region": REGION,
        "cluster": {
            "name": cluster["name"],
            "arn": cluster["arn"],
            "endpoint": cluster["endpoint"],
            "version": cluster["version"],
            "securityGroupId": "sg-0cluster",
            "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks",
            "endpointPublicAccess": public is not None,
            "publicAccessCidrs": public or [],
            "nodeGroups": node_groups,
        },
        "kubeconfig": "[secret]",
        "database": {
            "identifier": "genericcorp-prod-db",
            "address": db.get("Endpoint", {}).get("Address"),
            "port": 5433,
            "engine": "postgres",
            "engineVersion": "16.4",
            "masterSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1",
            "securityGroupId": "sg-0database",
            "multiAz": db.get("MultiAZ"),
        },
        "cache": {
            "replicationGroupId": "genericcorp-prod-cache",
            "primaryEndpoint": primary.get("Address"),
            "readerEndpoint": "reader.example",
            "port": primary.get("Port"),
            "engine": "valkey",
            "authTokenSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:cache",
            "securityGroupId": "sg-0cache",
        },
        "cdn": {
            "distributionId": distribution["Id"],
            "domainName": distribution["DomainName"],
            "aliasDomain": f"cdn.{ZONE}",
            "bucketName": "assets",
            "certificateArn": certificate,
            "webAclArn": web_acl,
        },
        "dns": {
            "zoneId": zone_id,
            "zoneName": ZONE,
            "nameServers": zone.get("DelegationSet", {}).get("NameServers", []),
            "registrarInstruction": "set the name servers at the registrar",
            "records": [ZONE, f"www.{ZONE}", f"demo.{ZONE}"],
        },
    }


APPS = f"app.{ZONE}"
#: For CLI runs on a stack deployed without its ingress (and without DNS look-ups).
SKIP_INGRESS = ("--no-dns", "--skip", "ingress")
GROUP = "genericcorp-prod-ingress"
#: The load balancer's addresses, as the stand-in resolver answers for its DNS name.
ALB_ADDRESSES = ["198.51.100.10", "198.51.100.11"]


def deploy_ingress(prod: bool, zone_id: str, **weaken: Any) -> dict[str, Any]:
    """The shared ALB as the controller builds it from the IngressClassParams and the anchor
    Ingress, its certificate, web ACL (prod) and a tenant's alias record; returns its outputs."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    acm = client("acm")
    certificate = acm.request_certificate(DomainName=f"*.{APPS}", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    elbv2 = client("elbv2")
    tags = (
        []
        if weaken.get("no_group_tag")
        else [{"Key": "genericcorp.com/ingress-group", "Value": GROUP}]
    )
    balancer = elbv2.create_load_balancer(
        Name="k8s-genericcorpprodin-0123456789",
        Subnets=subnets,
        Scheme=weaken.get("scheme", "internet-facing"),
        Type="application",
        Tags=tags or [{"Key": "elbv2.k8s.aws/cluster", "Value": "genericcorp-prod"}],
    )["LoadBalancers"][0]
    arn = balancer["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": str(weaken.get("idle_timeout", 600))},
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "genericcorp-prod-alb-logs"},
            {"Key": "access_logs.s3.prefix", "Value": "alb"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "deletion_protection.enabled", "Value": str(prod).lower()},
        ],
    )
    group = elbv2.create_target_group(Name="not-found", Protocol="HTTP", Port=80, VpcId=vpc)
    target = group["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target}],
    )
    http_action: Any = (
        {"Type": "forward", "TargetGroupArn": target}
        if weaken.get("no_redirect")
        else {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    )
    elbv2.create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=[http_action]
    )
    web_acl = None
    if prod:
        wafv2 = client("wafv2")
        created = wafv2.create_web_acl(
            Name=GROUP,
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig={
                "SampledRequestsEnabled": True,
                "CloudWatchMetricsEnabled": True,
                "MetricName": GROUP,
            },
        )["Summary"]
        web_acl = created["ARN"]
        if not weaken.get("waf_detached"):
            wafv2.associate_web_acl(WebACLArn=web_acl, ResourceArn=arn)
    client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"acme.{APPS}",
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": "Z35SXDOTRQ7X7K",
                            "DNSName": balancer["DNSName"],
                            "EvaluateTargetHealth": True,
                        },
                    },
                }
            ]
        },
    )
    return {
        "ingressClass": "shared-alb",
        "groupName": GROUP,
        "appsDomain": APPS,
        "tenantHostnames": {"acme": f"acme.{APPS}"},
        "certificateArn": certificate,
        "accessLogBucket": "genericcorp-prod-alb-logs",
        "webAclArn": web_acl,
        "wafLogGroup": None if web_acl is None else f"aws-waf-logs-{GROUP}",
        "idleTimeoutSeconds": 600,
        "balancerDns": balancer["DNSName"],
    }


def hosts(outputs: dict[str, Any], **answers: list[str] | Exception) -> FakeResolver:
    """A stand-in resolver: the load balancer's name answers ``ALB_ADDRESSES``, each tenant's
    hostname the same unless ``answers`` says otherwise (by tenant name)."""
    ingress = outputs["ingress"]
    table: dict[tuple[str, str], list[str] | Exception] = {
        (ingress["balancerDns"] + ".", "A"): ALB_ADDRESSES
    }
    for tenant, hostname in ingress["tenantHostnames"].items():
        table[(hostname + ".", "A")] = answers.get(tenant, ALB_ADDRESSES[:1])
    return FakeResolver(table)


def clients() -> Clients:
    return Clients(
        sts=client("sts"),
        eks=client("eks"),
        rds=client("rds"),
        elasticache=client("elasticache"),
        cloudfront=client("cloudfront"),
        route53=client("route53"),
        elbv2=client("elbv2"),
        acm=client("acm"),
        wafv2=client("wafv2"),
    )


def run(
    outputs: dict[str, Any],
    dns_check: ParentDelegation | None = None,
    resolver: FakeResolver | None = None,
) -> list[Check]:
    skip = [] if "ingress" in outputs else ["ingress"]
    parsed = parse_outputs(json.dumps(outputs), "outputs.json", skip)
    return verify(parsed, clients(), dns_check, resolver)


def status(checks: list[Check], section: str, name: str) -> tuple[Status, str]:
    found = [c for c in checks if c.section == section and c.name == name]
    assert len(found) == 1, f"{section}/{name}: {found}"
    return found[0].status, found[0].detail


def failures(checks: list[Check]) -> set[tuple[str, str]]:
    return {(c.section, c.name) for c in checks if c.status is Status.FAIL}


# --- a healthy stack ---------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_a_stack_that_keeps_its_promises_passes_every_check(environment: str) -> None:
    # moto takes over a second to create a node group; one stack is enough to prove the check.
    outputs = deploy(environment, node_group=environment == "prod", ingress=True)
    checks = run(outputs, delegation(outputs["dns"]["nameServers"]), hosts(outputs))
    assert failures(checks) == set()
    assert {c.status for c in checks} == {Status.PASS}
    assert {c.section for c in checks} == {
        "account",
        "cluster",
        "database",
        "cache",
        "cdn",
        "dns",
        "ingress",
    }
    assert status(checks, "ingress", "hostname acme") == (
        Status.PASS,
        f"acme.{APPS} resolves to the load balancer",
    )
    assert status(checks, "dns", "registrar delegation")[0] is Status.PASS
    if environment == "prod":
        assert status(checks, "cluster", "node group system") == (Status.PASS, "ACTIVE")


@pytest.mark.usefixtures("aws")
def test_cli_prints_a_table_and_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = deploy("prod", ingress=True)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    monkeypatch.setattr(
        verify_module, "ParentDelegation", lambda: delegation(outputs["dns"]["nameServers"])
    )
    monkeypatch.setattr(verify_module, "_host_resolver", lambda: hosts(outputs))
    result = runner.invoke(app, ["verify", "--outputs", str(path)])
    assert result.exit_code == 0, result.output
    assert "Post-deploy verification" in result.output
    assert "registrar delegation" in result.output
    assert "hostname acme" in result.output
    assert "0 failed" in result.output


@pytest.mark.usefixtures("aws")
def test_cli_reads_outputs_from_stdin_and_can_skip_dns() -> None:
    outputs = deploy("dev")
    result = runner.invoke(
        app,
        ["verify", "--outputs", "-", "--no-dns", "--skip", "ingress"],
        input=json.dumps(outputs),
    )
    assert result.exit_code == 0, result.output
    assert "not checked (--no-dns)" in result.output


# --- what prod demands and dev does not ------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_dev_may_run_single_az_without_deletion_protection_or_failover() -> None:
    checks = run(deploy("dev"))
    assert status(checks, "database", "Multi-AZ") == (Status.PASS, "off (dev)")
    assert status(checks, "database", "deletion protection") == (Status.PASS, "off (dev)")
    assert status(checks, "cache", "failover")[0] is Status.PASS


@pytest.mark.usefixtures("aws")
def test_a_cdn_without_waf_passes_when_the_outputs_say_so_and_fails_when_they_do_not() -> None:
    outputs = deploy("dev", no_waf=True)
    assert outputs["cdn"]["webAclArn"] is None
    assert status(run(outputs), "cdn", "WAF") == (Status.PASS, "no web ACL, as configured")
    outputs["cdn"]["webAclArn"] = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/x/y"
    assert status(run(outputs), "cdn", "WAF")[0] is Status.FAIL


@pytest.mark.usefixtures("aws")
def test_prod_fails_without_multi_az_deletion_protection_and_failover() -> None:
    outputs = deploy("prod", db_multi_az=False, db_protected=False, cache_failover=False)
    checks = run(outputs)
    assert failures(checks) == {
        ("database", "Multi-AZ"),
        ("database", "deletion protection"),
        ("cache", "failover"),
    }
    assert "off in prod (RDS.5)" in status(checks, "database", "Multi-AZ")[1]


@pytest.mark.usefixtures("aws")
def test_multi_az_that_differs_from_the_outputs_fails() -> None:
    outputs = deploy("dev")
    outputs["database"]["multiAz"] = True
    checks = run(outputs)
    assert status(checks, "database", "Multi-AZ") == (
        Status.FAIL,
        "live Multi-AZ is False, outputs say True",
    )


# --- each promise broken -----------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_cluster_without_secrets_encryption_or_all_logs_fails() -> None:
    checks = run(deploy("prod", no_secrets_encryption=True, log_types=["api", "audit"]))
    assert failures(checks) == {
        ("cluster", "secrets encryption"),
        ("cluster", "control-plane logs"),
    }
    assert status(checks, "cluster", "control-plane logs")[1] == (
        "off: authenticator, controllerManager, scheduler (EKS.8)"
    )


@pytest.mark.usefixtures("aws")
def test_public_endpoint_open_to_the_world_fails() -> None:
    checks = run(deploy("prod", public_cidrs=["0.0.0.0/0"]))
    result, detail = status(checks, "cluster", "endpoint access")
    assert result is Status.FAIL
    assert "open to 0.0.0.0/0 (EKS.1)" in detail


@pytest.mark.usefixtures("aws")
def test_endpoint_access_must_match_the_outputs() -> None:
    outputs = deploy("dev", public_cidrs=["203.0.113.0/24"])
    assert status(run(outputs), "cluster", "endpoint access")[0] is Status.PASS
    outputs["cluster"]["publicAccessCidrs"] = ["198.51.100.0/24"]
    assert status(run(outputs), "cluster", "endpoint access")[0] is Status.FAIL
    outputs["cluster"]["endpointPublicAccess"] = False
    detail = status(run(outputs), "cluster", "endpoint access")[1]
    assert "public endpoint on, outputs say the opposite" in detail


@pytest.mark.usefixtures("aws")
def test_missing_node_group_and_cluster_fail_without_crashing() -> None:
    outputs = deploy("dev")
    outputs["cluster"]["nodeGroups"] = ["workers"]
    checks = run(outputs)
    assert status(checks, "cluster", "node group workers") == (Status.FAIL, "not found")
    outputs["cluster"]["name"] = "gone"
    checks = run(outputs)
    assert status(checks, "cluster", "exists")[0] is Status.FAIL


@pytest.mark.usefixtures("aws")
def test_public_or_unencrypted_database_fails() -> None:
    checks = run(deploy("prod", db_public=True, db_unencrypted=True))
    assert failures(checks) == {("database", "not public"), ("database", "encrypted at rest")}


@pytest.mark.usefixtures("aws")
def test_engines_must_be_the_ones_the_outputs_name() -> None:
    outputs = deploy("dev")
    outputs["cache"]["engine"] = "redis"
    outputs["database"]["engineVersion"] = "1"
    checks = run(outputs)
    assert failures(checks) == {("cache", "engine"), ("database", "engine")}
    assert status(checks, "cache", "engine")[1] == "valkey, outputs say redis"


@pytest.mark.usefixtures("aws")
def test_cache_without_tls_or_auth_fails() -> None:
    checks = run(deploy("prod", cache_plaintext=True, cache_no_auth=True))
    assert failures(checks) == {("cache", "encrypted in transit"), ("cache", "AUTH")}


@pytest.mark.usefixtures("aws")
def test_distribution_with_an_old_tls_policy_or_another_certificate_fails() -> None:
    outputs = deploy("prod", tls_policy="TLSv1.2_2019")
    outputs["cdn"]["certificateArn"] = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/other"
    result, detail = status(run(outputs), "cdn", "certificate and TLS")
    assert result is Status.FAIL
    assert "TLS policy TLSv1.2_2019 is older than TLSv1.2_2021 (CloudFront.15)" in detail
    assert "outputs say arn:aws:acm:us-east-1:123456789012:certificate/other" in detail


@pytest.mark.usefixtures("aws")
def test_a_missing_record_is_named() -> None:
    checks = run(deploy("prod", no_demo_record=True))
    assert status(checks, "dns", "records") == (Status.FAIL, f"missing: demo.{ZONE}")


@pytest.mark.usefixtures("aws")
def test_outputs_of_another_account_fail_the_credentials_check() -> None:
    outputs = deploy("dev")
    outputs["cdn"]["webAclArn"] = outputs["cdn"]["webAclArn"].replace(ACCOUNT, "210987654321")
    result, detail = status(run(outputs), "account", "credentials")
    assert result is Status.FAIL
    assert detail == (
        "the credentials are for account 123456789012; the outputs' resources are in 210987654321"
    )


@pytest.mark.usefixtures("aws")
def test_a_refused_call_fails_its_section_and_the_others_still_run() -> None:
    outputs = deploy("prod")
    denied: Any = boto3.client(
        "rds", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(denied) as stub:
        stub.add_client_error(
            "describe_db_instances",
            service_error_code="AccessDenied",
            service_message="not authorized to perform: rds:DescribeDBInstances",
            http_status_code=403,
        )
        parsed = parse_outputs(json.dumps(outputs), "outputs.json", ["ingress"])
        checks = verify(parsed, replace(clients(), rds=denied), None)
    result, detail = status(checks, "database", "AWS")
    assert result is Status.FAIL
    assert "AccessDenied" in detail
    assert "rds:DescribeDBInstances" in detail
    assert failures(checks) == {("database", "AWS")}


# --- the registrar's delegation ---------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_delegation_to_other_name_servers_fails_with_the_servers_to_set() -> None:
    outputs = deploy("prod")
    checks = run(outputs, delegation(["ns1.old-registrar.example", "ns2.old-registrar.example"]))
    result, detail = status(checks, "dns", "registrar delegation")
    assert result is Status.FAIL
    assert (
        "the parent zone delegates to ns1.old-registrar.example, ns2.old-registrar.example"
        in detail
    )
    for server in outputs["dns"]["nameServers"]:
        assert server in detail


@pytest.mark.usefixtures("aws")
def test_an_undelegated_zone_fails() -> None:
    checks = run(deploy("prod"), delegation(None))
    result, detail = status(checks, "dns", "registrar delegation")
    assert result is Status.FAIL
    assert detail.startswith(f"{ZONE} is not delegated; set these name servers at the registrar")


@pytest.mark.usefixtures("aws")
def test_unreachable_dns_is_a_warning_that_says_so_not_a_failure(tmp_path: Path) -> None:
    outputs = deploy("prod")
    unreachable = delegation([], parent_error=dns.exception.Timeout())
    checks = run(outputs, unreachable)
    result, detail = status(checks, "dns", "registrar delegation")
    assert result is Status.WARN
    assert detail.startswith("DNS unreachable, not checked: cannot look up the name servers")
    assert failures(checks) == set()


def test_parent_servers_that_all_time_out_are_unreachable() -> None:
    resolver = FakeResolver(
        {
            ("com.", "NS"): ["a.gtld-servers.net."],
            ("a.gtld-servers.net.", "A"): ["192.0.2.1", "192.0.2.2"],
        }
    )
    parent = FakeParent([], error=dns.exception.Timeout())
    with pytest.raises(
        DnsUnreachableError, match=r"no name server of the parent zone com\. answered"
    ):
        ParentDelegation(resolver=resolver, query=parent).name_servers(ZONE)
    assert parent.asked == ["192.0.2.1", "192.0.2.2"]


def test_delegation_names_are_compared_without_case_or_trailing_dot() -> None:
    servers = ParentDelegation(
        resolver=FakeResolver(
            {("com.", "NS"): ["a.gtld-servers.net."], ("a.gtld-servers.net.", "A"): ["192.0.2.1"]}
        ),
        query=FakeParent(["NS-2.AWSDNS-02.ORG", "ns-1.awsdns-01.com"]),
    ).name_servers(ZONE)
    assert servers == ["ns-1.awsdns-01.com", "ns-2.awsdns-02.org"]


# --- the outputs file ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(text)
    return str(path)


def test_an_outputs_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Current stack outputs (3):\n    OUTPUT  VALUE\n")
    result = runner.invoke(app, ["verify", "--outputs", path])
    assert result.exit_code == 2
    assert "not JSON (Expecting value at line 1, column 1)" in result.output
    assert "pulumi stack output --json" in result.output
    assert "Traceback" not in result.output


def test_an_outputs_file_that_is_a_list_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", "--outputs", write(tmp_path, "[1, 2]")])
    assert result.exit_code == 2
    assert "expected a JSON object of stack outputs, got a list" in result.output


def test_missing_and_mistyped_keys_are_all_listed(tmp_path: Path) -> None:
    document = {
        "region": "us-east-1",
        "cluster": {"name": "c", "arn": "a", "endpoint": "e", "version": "1.33"},
        "database": {
            "identifier": "d",
            "address": "h",
            "port": "5432",
            "engine": "postgres",
            "engineVersion": "16",
            "securityGroupId": "sg",
            "multiAz": True,
        },
        "cache": "not an object",
    }
    result = runner.invoke(app, ["verify", "--outputs", write(tmp_path, json.dumps(document))])
    assert result.exit_code == 2
    out = result.output
    assert "problems; nothing was checked:" in out
    for line in (
        "environment: required key missing",
        "cluster.securityGroupId: required key missing",
        "cluster.nodeGroups: required key missing",
        "database.port = '5432': input should be a valid integer",
        "cache: expected an object, got a string",
        "cdn: required key missing (or pass --skip cdn)",
        "dns: required key missing (or pass --skip dns)",
    ):
        assert f"  - {line}" in out, line


def test_a_bad_environment_or_region_is_refused() -> None:
    with pytest.raises(OutputsError) as caught:
        parse_outputs(
            json.dumps({"environment": "staging", "region": "us-east-9"}),
            "o.json",
            skip=("cluster", "database", "cache", "cdn", "dns"),
        )
    message = str(caught.value)
    assert "environment = 'staging': expected 'dev' or 'prod'" in message
    assert "region: unknown AWS region 'us-east-9'" in message


def test_skipped_sections_need_no_outputs() -> None:
    parsed = parse_outputs(
        json.dumps({"environment": "prod", "region": "us-east-1"}),
        "o.json",
        skip=("cluster", "database", "cache", "cdn", "dns", "ingress"),
    )
    assert parsed.prod
    assert parsed.sections == {}


def test_an_unknown_skip_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", "--outputs", "x.json", "--skip", "network"])
    assert result.exit_code == 2
    assert "unknown --skip ['network']" in result.output
    result = runner.invoke(app, ["verify", "--outputs", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert "No such file or directory" in result.output


@pytest.mark.usefixtures("aws")
def test_any_failure_exits_1(tmp_path: Path) -> None:
    outputs = deploy("prod", db_public=True)
    result = runner.invoke(
        app,
        ["verify", "--outputs", write(tmp_path, json.dumps(outputs)), *SKIP_INGRESS],
    )
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "publicly accessible (RDS.2)" in result.output


def test_missing_credentials_give_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    document = {"environment": "dev", "region": "us-east-1"}
    path = write(tmp_path, json.dumps(document))
    args = ["verify", "--outputs", path, "--no-dns"]
    for section in ("cluster", "database", "cache", "cdn", "dns", "ingress"):
        args += ["--skip", section]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output.startswith("verify: no AWS credentials found")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_program_s_own_outputs_are_what_verify_reads(stack: str) -> None:
    # The contract between the program's exports and the verifier, checked on a real plan: a
    # renamed or retyped output fails here, not on the first post-deploy run.
    plan = plan_for(stack)
    parsed = parse_outputs(json.dumps(plan.raw_outputs), f"{stack} plan")
    assert parsed.environment == stack
    assert set(parsed.sections) == {"cluster", "database", "cache", "cdn", "dns", "ingress"}


# --- the ingress --------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_an_ingress_without_its_load_balancer_fails_and_says_what_to_look_at() -> None:
    outputs = deploy("dev", ingress=True, no_group_tag=True)
    checks = run(outputs, resolver=hosts(outputs))
    result, detail = status(checks, "ingress", "load balancer")
    assert result is Status.FAIL
    assert detail.startswith(f"0 load balancers tagged genericcorp.com/ingress-group={GROUP}")


@pytest.mark.usefixtures("aws")
def test_an_internal_load_balancer_or_another_idle_timeout_fails() -> None:
    outputs = deploy("dev", ingress=True, scheme="internal", idle_timeout=60)
    checks = run(outputs, resolver=hosts(outputs))
    assert "scheme is 'internal'" in status(checks, "ingress", "load balancer")[1]
    result, detail = status(checks, "ingress", "attributes")
    assert result is Status.FAIL
    assert "idle_timeout.timeout_seconds is '60', not '600'" in detail


@pytest.mark.usefixtures("aws")
def test_prod_needs_deletion_protection_and_its_web_acl_attached() -> None:
    outputs = deploy("prod", ingress=True, waf_detached=True)
    client("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=_balancer_arn(),
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
    )
    checks = run(outputs, resolver=hosts(outputs))
    assert "deletion_protection.enabled is 'false'" in status(checks, "ingress", "attributes")[1]
    assert status(checks, "ingress", "WAF")[0] is Status.FAIL


@pytest.mark.usefixtures("aws")
def test_plain_http_that_is_not_redirected_fails() -> None:
    outputs = deploy("dev", ingress=True, no_redirect=True)
    result, detail = status(run(outputs, resolver=hosts(outputs)), "ingress", "listeners")
    assert (result, detail) == (Status.FAIL, "HTTP on 80 is not redirected to HTTPS")


@pytest.mark.usefixtures("aws")
def test_a_certificate_awaiting_validation_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = deploy("dev", ingress=True)
    monkeypatch.setattr(
        client("acm"),
        "describe_certificate",
        lambda **_: {"Certificate": {"Status": "PENDING_VALIDATION"}},
    )
    result, detail = status(run(outputs, resolver=hosts(outputs)), "ingress", "certificate")
    assert result is Status.FAIL
    assert detail.startswith("PENDING_VALIDATION, not ISSUED")


@pytest.mark.usefixtures("aws")
def test_a_tenant_hostname_elsewhere_or_unresolvable_fails_and_dns_down_warns() -> None:
    outputs = deploy("dev", ingress=True)
    elsewhere = run(outputs, resolver=hosts(outputs, acme=["203.0.113.7"]))
    result, detail = status(elsewhere, "ingress", "hostname acme")
    assert result is Status.FAIL
    assert "not to the load balancer" in detail
    missing = run(outputs, resolver=hosts(outputs, acme=dns.resolver.NXDOMAIN()))
    assert status(missing, "ingress", "hostname acme")[0] is Status.FAIL
    down = hosts(outputs)
    down.table[(outputs["ingress"]["balancerDns"] + ".", "A")] = dns.exception.Timeout()
    result, detail = status(run(outputs, resolver=down), "ingress", "tenant hostnames")
    assert result is Status.WARN
    assert detail.startswith("DNS unreachable, not checked")


def _balancer_arn() -> str:
    return client("elbv2").describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
