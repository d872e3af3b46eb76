"""Mocks that answer the program's resource registrations and look-ups offline.

They stand in for the AWS provider: each resource gets the id, ARN and other computed
attributes AWS would give it (deterministic, so plans are stable and can be snapshotted),
physical names are auto-named the way Pulumi does, ``tagsAll`` merges the provider's default
tags, and look-ups (availability zones, caller identity) answer as AWS would for a fixed
account ``123456789012``. A look-up the mocks do not know fails loudly instead of returning
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infractl.offline.schema import is_taggable

ACCOUNT_ID = "123456789012"
MOCK_USER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan"

#: Zones per region, as the offline account sees them without opt-in zones: each zone name's
#: letter and the number of its zone ID. Names map to zone IDs per account, so the IDs are not in
#: letter order; in us-east-1 the names the committed stacks use (a, b, c) are not use1-az3, the
#: zone Amazon EKS refuses, which is present (as us-east-1e) so that the exclusion is exercised.
#: Regions not listed get a, b and c as az1, az2 and az3.
REGION_ZONES: dict[str, dict[str, int]] = {
    "us-east-1": {"a": 1, "b": 2, "c": 4, "d": 6, "e": 3, "f": 5},
    "us-east-2": {"a": 1, "b": 2, "c": 3},
    "us-west-1": {"a": 1, "c": 3},
    "us-west-2": {"a": 2, "b": 1, "c": 3, "d": 4},
    "ca-central-1": {"a": 1, "b": 2, "d": 4},
    "eu-west-1": {"a": 1, "b": 2, "c": 3},
    "eu-west-2": {"a": 2, "b": 3, "c": 1},
    "eu-central-1": {"a": 1, "b": 2, "c": 3},
    "eu-north-1": {"a": 1, "b": 2, "c": 3},
    "ap-northeast-1": {"a": 4, "c": 1, "d": 2},
    "ap-southeast-1": {"a": 1, "b": 2, "c": 3},
    "ap-southeast-2": {"a": 1, "b": 3, "c": 2},
    "ap-south-1": {"a": 1, "b": 3, "c": 2},
    "sa-east-1": {"a": 1, "b": 2, "c": 3},
}

#: How zone IDs abbreviate a region name's middle part (us-east-1 -> use1, ap-northeast-1 -> apne1).
_ZONE_ID_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def region_zones(region: str) -> dict[str, str]:
    """Each zone name of ``region`` with its zone ID, in name order, as the offline account
    sees them."""
    area, direction, number = region.split("-")
    prefix = f"{area}{_ZONE_ID_DIRECTIONS[direction]}{number}"
    letters = REGION_ZONES.get(region, {"a": 1, "b": 2, "c": 3})
    return {f"{region}{letter}": f"{prefix}-az{index}" for letter, index in letters.items()}


#: Hosted zones that exist outside any stack (id -> zone name, private?), for adoption.
EXISTING_ZONES: dict[str, tuple[str, bool]] = {
    "Z0EXISTINGPUBLIC1": ("genericcorp.com.", False),
    "Z0EXISTINGPRIVATE": ("genericcorp.com.", True),
}

#: Resource types whose ``name`` Pulumi generates (logical name + 7 hex digits) when not given.
AUTONAMED = frozenset(
    {
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:sns/topic:Topic",
    }
)


#: Packages whose resources must use an explicit provider (see ``_provider_facts``).
EXPLICIT_PROVIDER_PACKAGES = frozenset({"aws", "kubernetes"})


class OfflinePlanError(Exception):
    """The program did something the offline plan cannot answer or a real deployment refuses."""


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass
class MockResource:
    """What a computed-attribute function sees of a resource being created."""

    type: str
    name: str
    inputs: dict[str, Any]
    region: str
    lookup: Callable[[str], dict[str, Any]] = field(repr=False)
    """State of another resource by id (empty when unknown)."""

    def hex(self, length: int = 17) -> str:
        return digest(self.type, self.name, length=length)

    def ec2_id(self, prefix: str) -> str:
        return f"{prefix}-{self.hex()}"

    def uuid(self) -> str:
        return str(uuid.UUID(hex=digest(self.type, self.name, length=32)))

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{ACCOUNT_ID}:{resource}"

    def ip(self, network: str, salt: str = "") -> str:
        block = ipaddress.ip_network(network)
        offset = 4 + int(digest(self.type, self.name, salt, length=8), 16) % (
            block.num_addresses - 5
        )
        return str(block.network_address + offset)


def _ec2(prefix: str, arn_kind: str) -> Callable[[MockResource], dict[str, Any]]:
    def compute(r: MockResource) -> dict[str, Any]:
        rid = r.ec2_id(prefix)
        return {"id": rid, "arn": r.arn("ec2", f"{arn_kind}/{rid}"), "ownerId": ACCOUNT_ID}

    return compute


def _vpc(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("vpc")
    return {
        "id": rid,
        "arn": r.arn("ec2", f"vpc/{rid}"),
        "ownerId": ACCOUNT_ID,
        "defaultSecurityGroupId": f"sg-{r.hex()[::-1]}",
        "defaultNetworkAclId": f"acl-{r.hex()[::-1]}",
        "defaultRouteTableId": f"rtb-{r.hex()[::-1]}",
        "mainRouteTableId": f"rtb-{r.hex()[::-1]}",
        "dhcpOptionsId": f"dopt-{r.hex()[::-1]}",
    }


def _subnet(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("subnet")
    zone = str(r.inputs.get("availabilityZone", ""))
    return {
        "id": rid,
        "arn": r.arn("ec2", f"subnet/{rid}"),
        "ownerId": ACCOUNT_ID,
        "availabilityZoneId": region_zones(r.region).get(zone, ""),
    }


def _eip(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("eipalloc")
    public_ip = r.ip("198.51.100.0/24")  # documentation range (RFC 5737)
    return {
        "id": rid,
        "allocationId": rid,
        "arn": r.arn("ec2", f"elastic-ip/{rid}"),
        "publicIp": public_ip,
        "publicDns": f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com",
        "domain": "vpc",
    }


def _nat_gateway(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("nat")
    subnet = r.lookup(str(r.inputs.get("subnetId", "")))
    address = r.lookup(str(r.inputs.get("allocationId", "")))
    return {
        "id": rid,
        "arn": r.arn("ec2", f"natgateway/{rid}"),
        "publicIp": address.get("publicIp", r.ip("198.51.100.0/24")),
        "privateIp": r.ip(str(subnet.get("cidrBlock", "10.0.0.0/24"))),
        "networkInterfaceId": r.ec2_id("eni"),
    }


def _vpc_endpoint(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("vpce")
    return {
        "id": rid,
        "arn": r.arn("ec2", f"vpc-endpoint/{rid}"),
        "prefixListId": f"pl-{r.hex(8)}",
        "state": "available",
        "ownerId": ACCOUNT_ID,
    }


def _default_security_group(r: MockResource) -> dict[str, Any]:
    vpc = r.lookup(str(r.inputs.get("vpcId", "")))
    rid = vpc.get("defaultSecurityGroupId", r.ec2_id("sg"))
    return {
        "id": rid,
        "arn": r.arn("ec2", f"security-group/{rid}"),
        "name": "default",
        "ownerId": ACCOUNT_ID,
        "ingress": [],
        "egress": [],
    }


def _log_group(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    return {"id": name, "arn": r.arn("logs", f"log-group:{name}")}


def _metric_alarm(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    return {"id": name, "arn": r.arn("cloudwatch", f"alarm:{name}")}


def _kms_key(r: MockResource) -> dict[str, Any]:
    key_id = r.uuid()
    return {"id": key_id, "keyId": key_id, "arn": r.arn("kms", f"key/{key_id}")}


def _kms_alias(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    key = r.lookup(str(r.inputs.get("targetKeyId", "")))
    return {"id": name, "arn": r.arn("kms", name), "targetKeyArn": key.get("arn", "")}


def _iam_role(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    return {
        "id": name,
        "arn": r.arn("iam", f"role/{name}", regional=False),
        "uniqueId": "AROA" + r.hex(17).upper(),
        "createDate": "2026-01-01T00:00:00Z",
    }


def _iam_role_policy(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.inputs.get('role', '')}:{r.inputs['name']}"}


def _sns_topic(r: MockResource) -> dict[str, Any]:
    arn = r.arn("sns", r.inputs["name"])
    return {"id": arn, "arn": arn, "owner": ACCOUNT_ID}


def _sns_topic_policy(r: MockResource) -> dict[str, Any]:
    return {"id": r.inputs.get("arn", ""), "owner": ACCOUNT_ID}


def _sns_subscription(r: MockResource) -> dict[str, Any]:
    arn = f"{r.inputs.get('topic', '')}:{r.uuid()}"
    return {
        "id": arn,
        "arn": arn,
        "ownerId": ACCOUNT_ID,
        "pendingConfirmation": r.inputs.get("protocol") == "email",
    }


def _random_password(r: MockResource) -> dict[str, Any]:
    # Deterministic, and drawn from the characters the inputs allow, so the value is valid
    # wherever the real one would be (an ElastiCache AUTH token refuses some punctuation).
    length = int(r.inputs.get("length", 32))
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    if r.inputs.get("special"):
        alphabet += str(r.inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?")
    seed = bytes.fromhex(digest(r.type, r.name, length=64))
    result = "".join(alphabet[seed[i % len(seed)] % len(alphabet)] for i in range(length))
    return {"id": "none", "result": result, "bcryptHash": "$2a$10$" + "x" * 53}


def _budget(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    return {
        "id": f"{ACCOUNT_ID}:{name}",
        "arn": r.arn("budgets", f"budget/{name}", regional=False),
        "accountId": ACCOUNT_ID,
    }


def _cost_allocation_tag(r: MockResource) -> dict[str, Any]:
    return {"id": r.inputs["tagKey"], "type": "UserDefined"}


def _name_servers(seed: str) -> list[str]:
    """Four name servers in four TLDs, as Route53 assigns a delegation set."""
    number = int(digest("ns", seed, length=6), 16)
    return [
        f"ns-{(number + i * 509) % 2048}.awsdns-{(number + i * 7) % 64:02d}.{tld}"
        for i, tld in enumerate(("com", "net", "org", "co.uk"))
    ]


def _zone_id(seed: str) -> str:
    return "Z" + digest("zone", seed, length=20).upper()


def _route53_zone(r: MockResource) -> dict[str, Any]:
    zone_id = _zone_id(r.name)
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "nameServers": _name_servers(r.name),
        "primaryNameServer": _name_servers(r.name)[0],
    }


def _route53_record(r: MockResource) -> dict[str, Any]:
    name = str(r.inputs.get("name", "")).rstrip(".")
    return {"id": f"{r.inputs.get('zoneId', '')}_{name}_{r.inputs.get('type', '')}", "fqdn": name}


def _health_check(r: MockResource) -> dict[str, Any]:
    check_id = r.uuid()
    return {"id": check_id, "arn": f"arn:aws:route53:::healthcheck/{check_id}"}


def _key_signing_key(r: MockResource) -> dict[str, Any]:
    key_tag = int(digest(r.name, length=4), 16) % 65536
    digest_value = hashlib.sha256(r.name.encode()).hexdigest().upper()
    return {
        "id": f"{r.inputs.get('hostedZoneId', '')},{r.inputs.get('name', '')}",
        "keyTag": key_tag,
        "signingAlgorithmType": 13,
        "digestAlgorithmType": 2,
        "digestValue": digest_value,
        "dsRecord": f"{key_tag} 13 2 {digest_value}",
        "flag": 257,
    }


def _acm_certificate(r: MockResource) -> dict[str, Any]:
    certificate_id = r.uuid()
    domain = str(r.inputs.get("domainName", ""))
    token = digest("validation", r.name, length=32)
    return {
        "id": r.arn("acm", f"certificate/{certificate_id}"),
        "arn": r.arn("acm", f"certificate/{certificate_id}"),
        "status": "PENDING_VALIDATION",
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{token}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{token[::-1]}.xlfgrmvvlj.acm-validations.aws.",
            }
        ],
    }


def _certificate_validation(r: MockResource) -> dict[str, Any]:
    return {"id": "2026-01-01 00:00:00 +0000 UTC"}


def _s3_bucket(r: MockResource) -> dict[str, Any]:
    # Pulumi auto-names a bucket without ``bucket`` (or from ``bucketPrefix``) like other types.
    name = r.inputs.get("bucket") or f"{r.inputs.get('bucketPrefix') or r.name + '-'}{r.hex(7)}"
    return {
        "id": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{r.region}.amazonaws.com",
        "hostedZoneId": "Z3AQBSTGFYJSTF",
        "region": r.region,
    }


def _cloudfront_id(r: MockResource) -> str:
    return "E" + digest(r.type, r.name, length=13).upper()


def _distribution(r: MockResource) -> dict[str, Any]:
    distribution_id = _cloudfront_id(r)
    return {
        "id": distribution_id,
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}",
        "domainName": f"d{digest(r.name, length=13)}.cloudfront.net",
        # CloudFront's fixed hosted zone id for alias records.
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
        "etag": "E" + digest("etag", r.name, length=13).upper(),
        "callerReference": r.uuid(),
    }


def _cloudfront_policy(r: MockResource) -> dict[str, Any]:
    return {"id": r.uuid(), "etag": "E" + digest("etag", r.name, length=13).upper()}


def _web_acl(r: MockResource) -> dict[str, Any]:
    acl_id = r.uuid()
    name = r.inputs.get("name") or f"{r.name}-{r.hex(7)}"
    scope = "global" if r.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return {
        "id": acl_id,
        "arn": r.arn("wafv2", f"{scope}/webacl/{name}/{acl_id}"),
        "capacity": 1200,
        "lockToken": r.uuid(),
    }


def _security_group(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("sg")
    return {"id": rid, "arn": r.arn("ec2", f"security-group/{rid}"), "ownerId": ACCOUNT_ID}


def _security_group_rule(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("sgr")
    return {
        "id": rid,
        "arn": r.arn("ec2", f"security-group-rule/{rid}"),
        "securityGroupRuleId": rid,
    }


def _named_arn(service: str, kind: str) -> Callable[[MockResource], dict[str, Any]]:
    """Resources whose id is their name and whose ARN ends ``:<kind>:<name>``."""

    def compute(r: MockResource) -> dict[str, Any]:
        name = r.inputs["name"]
        return {"id": name, "arn": r.arn(service, f"{kind}:{name}")}

    return compute


#: What RDS reports as the running version when a stack asks for a major version only.
_POSTGRES_MINOR = {"16": "16.9", "17": "17.5"}


def _rds_instance(r: MockResource) -> dict[str, Any]:
    identifier = r.inputs.get("identifier") or f"{r.name}-{r.hex(7)}"
    port = int(r.inputs.get("port", 5432))
    address = f"{identifier}.c{r.hex(12)}.{r.region}.rds.amazonaws.com"
    version = str(r.inputs.get("engineVersion", ""))
    computed: dict[str, Any] = {
        # pulumi-aws v6+ uses the DbiResourceId as the instance's id.
        "id": "db-" + r.hex(26).upper(),
        "resourceId": "db-" + r.hex(26).upper(),
        "arn": r.arn("rds", f"db:{identifier}"),
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "engineVersionActual": _POSTGRES_MINOR.get(version, version),
        "status": "available",
    }
    if r.inputs.get("manageMasterUserPassword"):
        suffix = r.hex(6)
        computed["masterUserSecrets"] = [
            {
                "secretArn": r.arn("secretsmanager", f"secret:rds!db-{r.uuid()}-{suffix}"),
                "kmsKeyId": r.inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ]
    return computed


def _replication_group(r: MockResource) -> dict[str, Any]:
    group_id = r.inputs.get("replicationGroupId") or f"{r.name}-{r.hex(7)}"
    area, direction, number = r.region.split("-")
    short = {"southeast": "se", "northeast": "ne", "southwest": "sw", "northwest": "nw"}
    # ElastiCache abbreviates the region in endpoints: us-east-1 -> use1, ap-southeast-2 -> apse2.
    suffix = f"{r.hex(6)}.{area}{short.get(direction, direction[0])}{number}.cache.amazonaws.com"
    count = int(r.inputs.get("numCacheClusters", 1))
    return {
        "id": group_id,
        "arn": r.arn("elasticache", f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{group_id}.{suffix}",
        "readerEndpointAddress": f"replica.{group_id}.{suffix}",
        "memberClusters": [f"{group_id}-{n:03d}" for n in range(1, count + 1)],
        "engineVersionActual": f"{r.inputs.get('engineVersion', '')}.0",
        "clusterEnabled": False,
    }


def _secret(r: MockResource) -> dict[str, Any]:
    arn = r.arn("secretsmanager", f"secret:{r.inputs.get('name') or r.name}-{r.hex(6)}")
    return {"id": arn, "arn": arn}


def _secret_version(r: MockResource) -> dict[str, Any]:
    version = r.uuid()
    return {
        "id": f"{r.inputs.get('secretId', '')}|{version}",
        "arn": r.inputs.get("secretId", ""),
        "versionId": version,
        "versionStages": ["AWSCURRENT"],
    }


def _eks_cluster(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    endpoint_id = r.hex(32).upper()
    vpc_config = dict(r.inputs.get("vpcConfig") or {})
    subnet = r.lookup(str((vpc_config.get("subnetIds") or [""])[0]))
    vpc_config.update(
        {
            "clusterSecurityGroupId": f"sg-{r.hex()}",
            "vpcId": subnet.get("vpcId", ""),
            "securityGroupIds": [],
        }
    )
    vpc_config.setdefault("publicAccessCidrs", [])
    certificate = base64.b64encode(
        f"-----BEGIN CERTIFICATE-----\n{r.hex(64)}\n-----END CERTIFICATE-----\n".encode()
    ).decode()
    return {
        "id": name,
        "arn": r.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{endpoint_id}.gr7.{r.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": certificate},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{r.region}.amazonaws.com/id/{endpoint_id}"}]}
        ],
        "vpcConfig": vpc_config,
        "platformVersion": "eks.3",
        "status": "ACTIVE",
        "createdAt": "2026-01-01T00:00:00Z",
        "clusterId": r.uuid(),
    }


def _eks_node_group(r: MockResource) -> dict[str, Any]:
    cluster, name = r.inputs["clusterName"], r.inputs["nodeGroupName"]
    return {
        "id": f"{cluster}:{name}",
        "arn": r.arn("eks", f"nodegroup/{cluster}/{name}/{r.uuid()}"),
        "status": "ACTIVE",
        "releaseVersion": f"{r.inputs.get('version', '1.35')}.0-20261101",
        "resources": [
            {
                "autoscalingGroups": [{"name": f"eks-{name}-{r.uuid()}"}],
                "remoteAccessSecurityGroupId": "",
            }
        ],
    }


def _launch_template(r: MockResource) -> dict[str, Any]:
    rid = r.ec2_id("lt")
    return {"id": rid, "arn": r.arn("ec2", f"launch-template/{rid}"), "latestVersion": 1,
            "defaultVersion": 1}  # fmt: skip


def _oidc_provider(r: MockResource) -> dict[str, Any]:
    url = str(r.inputs.get("url", "")).removeprefix("https://")
    arn = r.arn("iam", f"oidc-provider/{url}", regional=False)
    return {"id": arn, "arn": arn, "thumbprintLists": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]}


def _eks_addon(r: MockResource) -> dict[str, Any]:
    cluster, addon = r.inputs["clusterName"], r.inputs["addonName"]
    return {
        "id": f"{cluster}:{addon}",
        "arn": r.arn("eks", f"addon/{cluster}/{addon}/{r.uuid()}"),
        "createdAt": "2026-01-01T00:00:00Z",
    }


def _access_entry(r: MockResource) -> dict[str, Any]:
    cluster, principal = r.inputs["clusterName"], r.inputs["principalArn"]
    return {
        "id": f"{cluster}:{principal}",
        "accessEntryArn": r.arn("eks", f"access-entry/{cluster}/role/{ACCOUNT_ID}/{r.uuid()}"),
        "kubernetesGroups": [],
        "userName": principal,
    }


def _access_policy_association(r: MockResource) -> dict[str, Any]:
    inputs = r.inputs
    return {
        "id": f"{inputs['clusterName']}#{inputs['principalArn']}#{inputs['policyArn']}",
        "associatedAt": "2026-01-01T00:00:00Z",
    }


def _kubernetes(r: MockResource) -> dict[str, Any]:
    """A Kubernetes object as the API server returns it: metadata filled in."""
    metadata = dict(r.inputs.get("metadata") or {})
    metadata.setdefault("name", f"{r.name}-{r.hex(8)}")
    metadata.update(
        {
            "uid": r.uuid(),
            "resourceVersion": str(int(r.hex(6), 16)),
            "creationTimestamp": "2026-01-01T00:00:00Z",
        }
    )
    namespace = metadata.get("namespace")
    object_id = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
    return {"id": object_id, "metadata": metadata}


def _helm_release(r: MockResource) -> dict[str, Any]:
    name, namespace = r.inputs.get("name", r.name), r.inputs.get("namespace", "default")
    return {
        "id": f"{namespace}/{name}",
        "status": {
            "name": name,
            "namespace": namespace,
            "chart": r.inputs.get("chart", ""),
            "version": r.inputs.get("version", ""),
            "revision": 1,
            "status": "deployed",
        },
    }


COMPUTED: dict[str, Callable[[MockResource], dict[str, Any]]] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:eks/addon:Addon": _eks_addon,
    "aws:eks/accessEntry:AccessEntry": _access_entry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy_association,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "kubernetes:helm.sh/v3:Release": _helm_release,
    "random:index/randomPassword:RandomPassword": _random_password,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/route:Route": lambda r: {"id": f"r-{r.inputs.get('routeTableId', '')}1080289494"},
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2("rtbassoc", "route-table-assoc"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/flowLog:FlowLog": _ec2("fl", "vpc-flow-log"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _default_security_group,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": _sns_topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:budgets/budget:Budget": _budget,
    "aws:costexplorer/costAllocationTag:CostAllocationTag": _cost_allocation_tag,
    "aws:route53/zone:Zone": _route53_zone,
    "aws:route53/record:Record": _route53_record,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/keySigningKey:KeySigningKey": _key_signing_key,
    "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec": lambda r: {
        "id": str(r.inputs.get("hostedZoneId", ""))
    },
    "aws:route53/queryLog:QueryLog": lambda r: {
        "id": r.uuid(),
        "arn": f"arn:aws:route53:::queryloggingconfig/{r.uuid()}",
    },
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": lambda r: {"id": r.inputs["policyName"]},
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:acm/certificateValidation:CertificateValidation": _certificate_validation,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda r: {
        "id": _cloudfront_id(r),
        "etag": "E" + digest("etag", r.name, length=13).upper(),
    },
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _cloudfront_policy,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _security_group_rule,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _named_arn("rds", "pg"),
    "aws:rds/instance:Instance": _rds_instance,
    "aws:elasticache/subnetGroup:SubnetGroup": _named_arn("elasticache", "subnetgroup"),
    "aws:elasticache/parameterGroup:ParameterGroup": _named_arn("elasticache", "parametergroup"),
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda r: {
        "id": f"{r.inputs.get('role', '')}-{r.hex(8)}"
    },
}


def _computer(type_token: str) -> Callable[[MockResource], dict[str, Any]]:
    if type_token in COMPUTED:
        return COMPUTED[type_token]
    return _kubernetes if type_token.startswith("kubernetes:") else _generic


def _generic(r: MockResource) -> dict[str, Any]:
    """Fallback for types without a specific entry: an id and an ARN of the right service."""
    service = r.type.split(":")[1].split("/")[0]
    return {"id": f"{r.name}-{r.hex(8)}", "arn": r.arn(service, f"{r.name}-{r.hex(8)}")}


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes as AWS would, deterministically.

    With ``preview=True`` resources get back only their inputs and no id, so every computed
    attribute is unknown, as in a real ``pulumi preview`` of a new stack.
    """

    def __init__(self, *, preview: bool = False) -> None:
        self.preview = preview
        self.providers: dict[str, dict[str, Any]] = {}
        self.states: dict[str, dict[str, Any]] = {}

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            provider_id = str(uuid.UUID(hex=digest(args.typ, args.name, length=32)))
            self.providers[provider_id] = inputs
            return provider_id, inputs
        if not args.custom:
            return "", {}  # a component: nothing in the cloud to compute
        region, default_tags = self._provider_facts(args.typ, args.provider)
        if args.typ in AUTONAMED and not inputs.get("name"):
            inputs["name"] = f"{args.name}-{digest(args.typ, args.name, length=7)}"
        if is_taggable(args.typ):
            inputs["tagsAll"] = {**default_tags, **(inputs.get("tags") or {})}
        if self.preview:
            return "", inputs
        resource = MockResource(args.typ, args.name, inputs, region, self._lookup)
        computed = _computer(args.typ)(resource)
        resource_id = str(computed.pop("id"))
        state = {**inputs, **computed}
        self.states[resource_id] = state
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return self._answer(args), []

    def _answer(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        region, _ = self._provider_facts(args.token, args.provider)
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = region_zones(region)
            names = list(zones)
            return {
                "id": region,
                "names": names,
                "zoneIds": list(zones.values()),
                "groupNames": [region] * len(names),
                "state": args.args.get("state", "available"),
                "region": region,
            }
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ACCOUNT_ID,
                "accountId": ACCOUNT_ID,
                "arn": MOCK_USER_ARN,
                "userId": "AIDAOFFLINEPLAN0000000",
            }
        if args.token == "aws:route53/getZone:getZone":
            return self._existing_zone(str(args.args.get("zoneId", "")))
        raise OfflinePlanError(
            f"the offline plan has no answer for the look-up {args.token}; add one to "
            "infractl/offline/mocks.py (PlatformMocks.call)"
        )

    def _existing_zone(self, zone_id: str) -> dict[str, Any]:
        """A zone created outside the stack: the mocks know ``EXISTING_ZONES``, nothing else."""
        if zone_id not in EXISTING_ZONES:
            raise OfflinePlanError(
                f"no hosted zone with id {zone_id} (the offline plan knows "
                f"{', '.join(sorted(EXISTING_ZONES))})"
            )
        name, private = EXISTING_ZONES[zone_id]
        return {
            "id": zone_id,
            "zoneId": zone_id,
            "name": name,
            "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
            "nameServers": _name_servers(zone_id),
            "primaryNameServer": _name_servers(zone_id)[0],
            "privateZone": private,
            "resourceRecordSetCount": 2,
            "callerReference": zone_id,
            "comment": "",
            "linkedServiceDescription": "",
            "linkedServicePrincipal": "",
            "tags": {},
            "vpcId": "",
        }

    def _provider_facts(self, token: str, reference: str | None) -> tuple[str, dict[str, str]]:
        """Region and default tags of the explicit provider a resource or invoke uses.

        AWS and Kubernetes resources must name an explicit provider: a default AWS provider is
        disabled in the stack files, and a default Kubernetes provider would act on whatever
        cluster the operator's kubeconfig points at. Providers without ambient targets
        (random) may use their default provider and have no region or default tags.
        """
        package = token.split(":", 1)[0]
        if package not in EXPLICIT_PROVIDER_PACKAGES:
            return "", {}
        provider = self.providers.get((reference or "").rsplit("::", 1)[-1])
        if provider is None:
            raise OfflinePlanError(
                f"a resource or look-up ({token}) uses the default {package} provider; pass the "
                "program's explicit provider (opts=ResourceOptions(provider=...) or parent=...)"
            )
        if package != "aws":
            return "", {}
        tags_json = provider.get("defaultTags")
        default_tags = json.loads(tags_json).get("tags", {}) if tags_json else {}
        return str(provider["region"]), default_tags

    def _lookup(self, resource_id: str) -> dict[str, Any]:
        return self.states.get(resource_id, {})
