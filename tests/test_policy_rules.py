"""Every rule of the policy pack with a compliant and a violating resource.

The rules run through the pack's real pulumi-policy objects (the harness below). Resources are
prod unless a test says otherwise, so prod-only rules apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from genericcorp_policy import RULES, PolicyConfigError, Rule, StackRule, policies
from genericcorp_policy.framework import WAIVER_POLICY
from genericcorp_policy.thresholds import (
    PROD_AUDIT_LOG_RETENTION_DAYS,
    PROD_CACHE_SNAPSHOT_RETENTION_DAYS,
    PROD_DATABASE_BACKUP_RETENTION_DAYS,
    PROD_KMS_DELETION_WINDOW_DAYS,
)
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

# --- a harness: one policy of the pack on hand-written properties, through pulumi-policy's own
# argument objects and unknown-checking proxies (the path `pulumi preview --policy-pack` takes).

POLICIES: dict[str, Policy] = {p.name: p for p in policies()}


def tagged(environment: str, props: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Props of a resource in ``environment`` carrying all the required tags."""
    tags = {
        "Project": "genericcorp",
        "Environment": environment,
        "ManagedBy": "pulumi",
        "CostCenter": "platform-engineering",
        "Component": "test",
    }
    return {"tags": {"Component": "test"}, "tagsAll": tags, **(props or {})}


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def violations(
    policy_name: str,
    type_token: str,
    props: Mapping[str, Any],
    *,
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
    provider_default_tags: Mapping[str, str] | None = None,
) -> list[str]:
    provider = None
    if provider_default_tags is not None:
        # The Python SDK sends the provider's defaultTags as JSON text.
        provider = PolicyProviderResource(
            "pulumi:providers:aws",
            unknown_checking_proxy({"defaultTags": json.dumps({"tags": provider_default_tags})}),
            "urn:pulumi:test::genericcorp::pulumi:providers:aws::aws",
            "aws",
        )
    policy = POLICIES[policy_name]
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    args = ResourceValidationArgs(
        type_token,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:test::genericcorp::{type_token}::subject",
        "subject",
        options(protect),
        provider,
        dict(config) if config is not None else None,
    )
    policy.validate(args, lambda message, _urn=None: found.append(message))
    return found


def stack_violations(
    policy_name: str,
    resources: Sequence[tuple[str, str, Mapping[str, Any]]],
    *,
    config: Mapping[str, Any] | None = None,
) -> list[tuple[str, str | None]]:
    """``resources`` as (type, name, props); returns (message, urn) pairs."""
    policy = POLICIES[policy_name]
    assert isinstance(policy, StackValidationPolicy)
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(
        [
            PolicyResource(
                type_token,
                unknown_checking_proxy(dict(props)),
                f"urn:pulumi:test::genericcorp::{type_token}::{name}",
                name,
                options(),
                None,
                None,
                [],
                {},
            )
            for type_token, name, props in resources
        ],
        dict(config) if config is not None else None,
    )
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


EKS = "aws:eks/cluster:Cluster"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
RDS = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
CF = "aws:cloudfront/distribution:Distribution"
KEY = "aws:kms/key:Key"
CERT = "aws:acm/certificate:Certificate"
SECRET = "aws:secretsmanager/secret:Secret"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
CMK = "arn:aws:kms:us-east-1:1:key/k"

GOOD_EKS: dict[str, Any] = {
    "version": "1.34",
    "vpcConfig": {
        "endpointPrivateAccess": True,
        "endpointPublicAccess": True,
        "publicAccessCidrs": ["203.0.113.0/24"],
    },
    "encryptionConfig": {
        "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"},
        "resources": ["secrets"],
    },
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}
GOOD_LT: dict[str, Any] = {
    "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3"}}
    ],
    "networkInterfaces": [{"associatePublicIpAddress": "false"}],
}
GOOD_RDS: dict[str, Any] = {
    "engine": "postgres",
    "publiclyAccessible": False,
    "storageEncrypted": True,
    "multiAz": True,
    "monitoringInterval": 60,
    "monitoringRoleArn": "arn:aws:iam::1:role/monitoring",
    "deletionProtection": True,
    "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
    "iamDatabaseAuthenticationEnabled": True,
    "backupRetentionPeriod": 14,
    "autoMinorVersionUpgrade": True,
    "copyTagsToSnapshot": True,
    "dbSubnetGroupName": "genericcorp-prod-db",
    "port": 5433,
    "username": "gcadmin",
    "manageMasterUserPassword": True,
    "masterUserSecretKmsKeyId": "arn:aws:kms:us-east-1:1:key/db",
    "skipFinalSnapshot": False,
    "finalSnapshotIdentifier": "genericcorp-prod-db-final",
}
GOOD_CACHE: dict[str, Any] = {
    "snapshotRetentionLimit": 7,
    "autoMinorVersionUpgrade": True,
    "automaticFailoverEnabled": True,
    "multiAzEnabled": True,
    "numCacheClusters": 2,
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "transitEncryptionMode": "required",
    "authToken": "s3cret-token-value-0123456789",
    "subnetGroupName": "genericcorp-prod-cache",
    "finalSnapshotIdentifier": "genericcorp-prod-cache-final",
}
GOOD_CF: dict[str, Any] = {
    "defaultRootObject": "index.html",
    "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https"},
    "orderedCacheBehaviors": [{"viewerProtocolPolicy": "https-only"}],
    "webAclId": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y",
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    },
    "origins": [
        {
            "domainName": "assets.s3.us-east-1.amazonaws.com",
            "originId": "assets",
            "originAccessControlId": "E2QWRUHAPOMQZL",
        }
    ],
}
GOOD_KEY: dict[str, Any] = {
    "enableKeyRotation": True,
    "deletionWindowInDays": 30,
    "keyUsage": "ENCRYPT_DECRYPT",
}
GOOD_LOG_GROUP: dict[str, Any] = {
    "name": "/genericcorp/prod/app",
    "kmsKeyId": CMK,
    "retentionInDays": 365,
}


def iam_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
READ_LOGS = {"Effect": "Allow", "Action": ["logs:GetLogEvents"], "Resource": "*"}


def tenant_namespace(name: str = "acme", enforce: str | None = "restricted") -> dict[str, Any]:
    labels = {"genericcorp.com/tenant": name, "genericcorp.com/tier": "standard"}
    if enforce is not None:
        labels |= {
            "pod-security.kubernetes.io/enforce": enforce,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        }
    return {"metadata": {"name": f"tenant-{name}", "labels": labels}}


GOOD_CERT: dict[str, Any] = {
    "domainName": "genericcorp.com",
    "validationMethod": "DNS",
    "keyAlgorithm": "EC_prime256v1",
}


def but(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with top-level keys replaced (a value of ``...`` removes the key)."""
    result = {**base, **changes}
    return {k: v for k, v in result.items() if v is not ...}


# (policy, type, compliant props, violating props, a phrase the violation must contain)
CASES: list[tuple[str, str, dict[str, Any] | None, dict[str, Any], str]] = [
    (
        "required-tags",
        "aws:ec2/vpc:Vpc",
        {},
        {"tagsAll": {"Project": "genericcorp"}},
        "Environment",
    ),
    (
        "prod-no-force-destroy",
        "aws:s3/bucket:Bucket",
        {"forceDestroy": False},
        {"forceDestroy": True},
        "forceDestroy",
    ),
    (
        "eks-1-endpoint-not-public",
        EKS,
        GOOD_EKS,
        but(
            GOOD_EKS, vpcConfig={"endpointPrivateAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
        ),
        "whole internet",
    ),
    (
        "eks-2-supported-version",
        EKS,
        GOOD_EKS,
        but(GOOD_EKS, version="1.29"),
        "not in standard support",
    ),
    ("eks-3-secrets-encrypted", EKS, GOOD_EKS, but(GOOD_EKS, encryptionConfig=...), "KMS"),
    ("eks-8-audit-logging", EKS, GOOD_EKS, but(GOOD_EKS, enabledClusterLogTypes=["api"]), "audit"),
    (
        "ec2-8-170-imdsv2",
        LT,
        GOOD_LT,
        but(GOOD_LT, metadataOptions={"httpTokens": "optional"}),
        "IMDSv2",
    ),
    (
        "eks-node-group-launch-template",
        "aws:eks/nodeGroup:NodeGroup",
        {"launchTemplate": {"id": "lt-1", "version": "1"}},
        {"instanceTypes": ["t4g.medium"]},
        "launch template",
    ),
    (
        "eks-node-group-on-demand",
        "aws:eks/nodeGroup:NodeGroup",
        {"capacityType": "ON_DEMAND"},
        {"capacityType": "SPOT"},
        "runs on SPOT capacity",
    ),
    (
        "ec2-3-181-ebs-encrypted",
        LT,
        GOOD_LT,
        but(
            GOOD_LT,
            blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}],
        ),
        "not encrypted",
    ),
    (
        "ec2-3-ebs-volume-encrypted",
        "aws:ebs/volume:Volume",
        {"encrypted": True, "size": 20},
        {"size": 20},
        "not encrypted",
    ),
    (
        "rds-2-not-public",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, publiclyAccessible=True),
        "publicly accessible",
    ),
    ("rds-3-encrypted", RDS, GOOD_RDS, but(GOOD_RDS, storageEncrypted=...), "not encrypted"),
    ("rds-5-multi-az", RDS, GOOD_RDS, but(GOOD_RDS, multiAz=False), "Multi-AZ"),
    (
        "rds-6-enhanced-monitoring",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, monitoringInterval=0),
        "enhanced monitoring",
    ),
    (
        "rds-8-deletion-protection",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, deletionProtection=False),
        "deletion protection",
    ),
    (
        "rds-9-36-log-exports",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, enabledCloudwatchLogsExports=["postgresql"]),
        "upgrade",
    ),
    ("rds-10-iam-auth", RDS, GOOD_RDS, but(GOOD_RDS, iamDatabaseAuthenticationEnabled=...), "IAM"),
    ("rds-11-backups", RDS, GOOD_RDS, but(GOOD_RDS, backupRetentionPeriod=0), "backups are off"),
    (
        "rds-backup-retention",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, backupRetentionPeriod=7),
        f"keeps {PROD_DATABASE_BACKUP_RETENTION_DAYS} days or more of automated backups "
        "(backupRetentionPeriod: 7 days)",
    ),
    (
        "rds-13-minor-upgrades",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, autoMinorVersionUpgrade=False),
        "minor version",
    ),
    ("rds-17-copy-tags", RDS, GOOD_RDS, but(GOOD_RDS, copyTagsToSnapshot=False), "snapshots"),
    ("rds-18-in-vpc", RDS, GOOD_RDS, but(GOOD_RDS, dbSubnetGroupName=...), "subnet group"),
    ("rds-23-non-default-port", RDS, GOOD_RDS, but(GOOD_RDS, port=5432), "default port 5432"),
    ("rds-25-custom-admin", RDS, GOOD_RDS, but(GOOD_RDS, username="postgres"), "engine default"),
    (
        "secretsmanager-1-rds-managed-password",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, manageMasterUserPassword=..., password="hunter2hunter2"),
        "managed and rotated",
    ),
    (
        "rds-master-secret-cmk",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, masterUserSecretKmsKeyId=...),
        "AWS-managed aws/secretsmanager key (set masterUserSecretKmsKeyId)",
    ),
    (
        "secretsmanager-cmk",
        SECRET,
        {"name": "genericcorp/prod/app", "kmsKeyId": CMK},
        {"name": "genericcorp/prod/app"},
        "AWS-managed aws/secretsmanager key (set kmsKeyId)",
    ),
    (
        "cloudwatch-log-group-kms-retention",
        LOG_GROUP,
        GOOD_LOG_GROUP,
        but(GOOD_LOG_GROUP, retentionInDays=0),
        "never expire",
    ),
    (
        "iam-1-no-admin-policy",
        ROLE_POLICY,
        {"role": "app", "policy": iam_document(READ_LOGS)},
        {"role": "app", "policy": iam_document(READ_LOGS, ADMIN)},
        'policy: Statement[1] allows "Action": "*" on "Resource": "*"',
    ),
    (
        "k8s-tenant-pod-security",
        NAMESPACE,
        tenant_namespace(),
        tenant_namespace(enforce="baseline"),
        "enforces Pod Security Admission 'baseline'",
    ),
    (
        "k8s-configmap-no-credentials",
        CONFIG_MAP,
        {"metadata": {"namespace": "tenant-acme"}, "data": {"LOG_LEVEL": "info"}},
        {
            "metadata": {"namespace": "tenant-acme"},
            "data": {"LOG_LEVEL": "info", "DB_PASSWORD": "x"},
        },
        "data key(s) DB_PASSWORD look like credentials",
    ),
    (
        "prod-final-snapshot",
        RDS,
        GOOD_RDS,
        but(GOOD_RDS, skipFinalSnapshot=True, finalSnapshotIdentifier=...),
        "final snapshot",
    ),
    (
        "elasticache-1-backups",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, snapshotRetentionLimit=0),
        "backups are off",
    ),
    (
        "elasticache-snapshot-retention",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, snapshotRetentionLimit=1),
        f"keeps {PROD_CACHE_SNAPSHOT_RETENTION_DAYS} days or more of daily snapshots",
    ),
    (
        "elasticache-2-minor-upgrades",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, autoMinorVersionUpgrade=False),
        "minor version",
    ),
    (
        "elasticache-3-failover",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, numCacheClusters=1, automaticFailoverEnabled=False),
        "at least 2 nodes",
    ),
    (
        "elasticache-4-at-rest",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, atRestEncryptionEnabled=False),
        "at rest",
    ),
    (
        "elasticache-5-in-transit",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, transitEncryptionMode="preferred"),
        "plain-text",
    ),
    ("elasticache-6-auth", CACHE, GOOD_CACHE, but(GOOD_CACHE, authToken=...), "AUTH"),
    (
        "cache-no-shared-auth-token",
        CACHE,
        but(GOOD_CACHE, authToken=..., userGroupIds=["genericcorp-prod-redis"]),
        but(GOOD_CACHE, userGroupIds=["genericcorp-prod-redis"]),
        "AUTH token, which every client would share",
    ),
    (
        "elasticache-7-subnet-group",
        CACHE,
        GOOD_CACHE,
        but(GOOD_CACHE, subnetGroupName="default"),
        "default subnet group",
    ),
    (
        "cloudfront-1-default-root-object",
        CF,
        GOOD_CF,
        but(GOOD_CF, defaultRootObject=...),
        "root object",
    ),
    (
        "cloudfront-3-https",
        CF,
        GOOD_CF,
        but(GOOD_CF, orderedCacheBehaviors=[{"viewerProtocolPolicy": "allow-all"}]),
        "orderedCacheBehaviors[0]",
    ),
    ("cloudfront-6-waf", CF, GOOD_CF, but(GOOD_CF, webAclId=...), "WAF"),
    (
        "cloudfront-7-8-custom-certificate",
        CF,
        GOOD_CF,
        but(GOOD_CF, viewerCertificate={"cloudfrontDefaultCertificate": True}),
        "default *.cloudfront.net",
    ),
    (
        "cloudfront-12-13-origin-access-control",
        CF,
        GOOD_CF,
        but(
            GOOD_CF,
            origins=[
                {
                    "domainName": "a.s3.us-east-1.amazonaws.com",
                    "s3OriginConfig": {
                        "originAccessIdentity": "origin-access-identity/cloudfront/E1"
                    },
                }
            ],
        ),
        "legacy origin access identity",
    ),
    (
        "cloudfront-13-no-oai",
        "aws:cloudfront/originAccessIdentity:OriginAccessIdentity",
        None,
        {"comment": "legacy"},
        "legacy",
    ),
    (
        "cloudfront-15-tls-policy",
        CF,
        GOOD_CF,
        but(
            GOOD_CF,
            viewerCertificate={
                **GOOD_CF["viewerCertificate"],
                "minimumProtocolVersion": "TLSv1.2_2019",
            },
        ),
        "TLSv1.2_2019",
    ),
    (
        "s3-1-account-public-access-block",
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        {"blockPublicAcls": True},
        "restrictPublicBuckets",
    ),
    (
        "acm-1-auto-renewal",
        CERT,
        GOOD_CERT,
        but(GOOD_CERT, validationMethod="EMAIL"),
        "DNS-validated",
    ),
    ("acm-2-key-algorithm", CERT, GOOD_CERT, but(GOOD_CERT, keyAlgorithm="RSA_1024"), "weaker"),
    (
        "ec2-2-default-sg-closed",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        {"vpcId": "vpc-1"},
        {
            "vpcId": "vpc-1",
            "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
        },
        "1 egress rule",
    ),
    (
        "ec2-18-19-open-ingress",
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]},
            ]
        },
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
        "ports 22-22",
    ),
    (
        "ec2-9-15-25-no-public-ip",
        "aws:ec2/subnet:Subnet",
        {"mapPublicIpOnLaunch": False},
        {"mapPublicIpOnLaunch": True},
        "public IPs on launch",
    ),
    ("kms-4-rotation", KEY, GOOD_KEY, but(GOOD_KEY, enableKeyRotation=False), "rotation"),
    (
        "kms-3-deletion-window",
        KEY,
        GOOD_KEY,
        but(GOOD_KEY, deletionWindowInDays=...),
        "no explicit deletion window",
    ),
    (
        "kms-prod-deletion-window",
        KEY,
        GOOD_KEY,
        but(GOOD_KEY, deletionWindowInDays=7),
        f"deletion window of 7 days; a prod key stays recoverable for "
        f"{PROD_KMS_DELETION_WINDOW_DAYS}",
    ),
]


@pytest.mark.parametrize(
    ("policy", "type_token", "good", "bad", "phrase"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_passes_a_compliant_and_flags_a_violating_resource(
    policy: str, type_token: str, good: dict[str, Any] | None, bad: dict[str, Any], phrase: str
) -> None:
    if good is not None:
        assert violations(policy, type_token, tagged("prod", good)) == []
    found = violations(policy, type_token, tagged("prod", bad))
    assert found, f"{policy} accepted {bad}"
    assert any(phrase in message for message in found), found


def test_every_rule_has_a_case() -> None:
    covered = {case[0] for case in CASES} | {name for name, *_ in STACK_CASES}
    covered |= {"prod-protect-stateful"}  # tested below with the protect option
    assert {rule.name for rule in RULES} == covered


def test_each_rule_ignores_other_resource_types() -> None:
    for policy, _, _, bad, _ in CASES:
        if policy == "required-tags":
            continue
        assert violations(policy, "aws:sns/topic:Topic", tagged("prod", bad)) == [], policy


# --- scopes: prod-only rules, and the controls dev may waive ----------------------------------


def test_prod_only_rules_do_not_apply_to_dev() -> None:
    bad = but(GOOD_RDS, multiAz=False, deletionProtection=False)
    assert violations("rds-5-multi-az", RDS, tagged("dev", bad)) == []
    assert violations("rds-8-deletion-protection", RDS, tagged("dev", bad)) == []
    assert (
        violations(
            "elasticache-3-failover", CACHE, tagged("dev", but(GOOD_CACHE, numCacheClusters=1))
        )
        == []
    )


def test_a_waivable_control_is_advisory_outside_prod() -> None:
    without_waf = tagged("dev", but(GOOD_CF, webAclId=...))
    assert violations("cloudfront-6-waf", CF, without_waf) == []
    waived = violations(WAIVER_POLICY, CF, without_waf)
    assert waived == [
        "cloudfront-6-waf (CloudFront.6) is waived outside prod: "
        "no WAF web ACL is associated (webAclId)"
    ]
    level = POLICIES[WAIVER_POLICY].enforcement_level
    assert level is not None
    assert level.value == "advisory"
    # In prod the waiver policy is silent: the mandatory policy speaks.
    assert violations(WAIVER_POLICY, CF, tagged("prod", but(GOOD_CF, webAclId=...))) == []


def test_security_invariants_hold_in_dev_too() -> None:
    assert violations(
        "rds-2-not-public", RDS, tagged("dev", but(GOOD_RDS, publiclyAccessible=True))
    )
    assert violations("elasticache-6-auth", CACHE, tagged("dev", but(GOOD_CACHE, authToken=...)))


def test_every_policy_is_mandatory_except_the_waiver_reports() -> None:
    for name, policy in POLICIES.items():
        assert policy.enforcement_level is not None
        expected = "advisory" if name.startswith(WAIVER_POLICY) else "mandatory"
        assert policy.enforcement_level.value == expected, name


def test_descriptions_cite_their_control() -> None:
    for rule in RULES:
        if rule.control:
            assert f"FSBP {rule.control}:" in POLICIES[rule.name].description


# --- rules with the protect option, and details ------------------------------------------------


def test_prod_data_stores_must_be_protected() -> None:
    db = tagged("prod", GOOD_RDS)
    assert violations("prod-protect-stateful", RDS, db, protect=True) == []
    assert violations("prod-protect-stateful", RDS, db) == [
        "a prod data store must be protected from `pulumi destroy` (ResourceOptions(protect=True))"
    ]
    zone = "aws:route53/zone:Zone"
    assert violations(
        "prod-protect-stateful", zone, tagged("prod", {"forceDestroy": True}), protect=True
    )
    assert violations("prod-protect-stateful", RDS, tagged("dev", GOOD_RDS)) == []


def test_eks_public_endpoint_defaults_are_refused() -> None:
    # AWS's defaults: public endpoint to 0.0.0.0/0, no private endpoint.
    found = violations("eks-1-endpoint-not-public", EKS, tagged("prod", {"version": "1.34"}))
    assert any("private endpoint is off" in m for m in found)
    assert any("default 0.0.0.0/0" in m for m in found)
    private_only = but(
        GOOD_EKS, vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": False}
    )
    assert violations("eks-1-endpoint-not-public", EKS, tagged("prod", private_only)) == []


def test_eks_public_cidrs_must_lie_in_the_configured_list() -> None:
    config = {"allowedPublicCidrs": ["198.51.100.0/24"]}
    found = violations("eks-1-endpoint-not-public", EKS, tagged("prod", GOOD_EKS), config=config)
    assert found == [
        "public endpoint CIDR 203.0.113.0/24 is outside the allowed list ['198.51.100.0/24']"
    ]
    inside = but(
        GOOD_EKS, vpcConfig={**GOOD_EKS["vpcConfig"], "publicAccessCidrs": ["198.51.100.7/32"]}
    )
    assert violations("eks-1-endpoint-not-public", EKS, tagged("prod", inside), config=config) == []


def test_launch_template_public_ip_and_instance_rules() -> None:
    bad = but(GOOD_LT, networkInterfaces=[{"associatePublicIpAddress": "true"}])
    assert violations("ec2-9-15-25-no-public-ip", LT, tagged("prod", bad)) == [
        "networkInterfaces[0] associates a public IP"
    ]
    instance = {"associatePublicIpAddress": True, "rootBlockDevice": {"encrypted": False}}
    assert violations("ec2-9-15-25-no-public-ip", INSTANCE, tagged("prod", instance))
    assert violations("ec2-3-181-ebs-encrypted", INSTANCE, tagged("prod", instance)) == [
        "rootBlockDevice is not encrypted"
    ]


def test_open_ingress_on_all_ports_and_standalone_rules() -> None:
    all_traffic = {
        "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
    }
    assert violations(
        "ec2-18-19-open-ingress", "aws:ec2/securityGroup:SecurityGroup", tagged("prod", all_traffic)
    )
    rule = {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "cidrIpv6": "::/0"}
    sg_rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    assert violations("ec2-18-19-open-ingress", sg_rule, tagged("prod", rule))
    https = {**rule, "fromPort": 443, "toPort": 443}
    assert violations("ec2-18-19-open-ingress", sg_rule, tagged("prod", https)) == []
    legacy = {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 80,
        "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"],
    }
    assert violations(
        "ec2-18-19-open-ingress", "aws:ec2/securityGroupRule:SecurityGroupRule", legacy
    )


def test_asymmetric_keys_are_not_asked_to_rotate() -> None:
    # A DNSSEC signing key (ECC_NIST_P256, SIGN_VERIFY) cannot rotate automatically.
    signing = {
        "customerMasterKeySpec": "ECC_NIST_P256",
        "keyUsage": "SIGN_VERIFY",
        "deletionWindowInDays": 7,
    }
    assert violations("kms-4-rotation", KEY, tagged("prod", signing)) == []


def test_rds_cluster_rules_read_its_own_property_names() -> None:
    cluster = {**GOOD_RDS, "masterUsername": "admin"}
    del cluster["username"]
    assert violations("rds-25-custom-admin", RDS_CLUSTER, tagged("prod", cluster)) == [
        "the administrator username 'admin' is an engine default"
    ]


def test_properties_arrive_as_protobuf_numbers() -> None:
    # The pulumi CLI sends numbers as floats; the rules must treat 14.0 as 14.
    assert (
        violations("rds-11-backups", RDS, tagged("prod", but(GOOD_RDS, backupRetentionPeriod=14.0)))
        == []
    )
    assert violations("rds-23-non-default-port", RDS, tagged("prod", but(GOOD_RDS, port=5432.0)))


# --- stack rules ---------------------------------------------------------------------------


BUCKET = "aws:s3/bucket:Bucket"
TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::assets", "arn:aws:s3:::assets/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def bucket_with_settings(
    name: str, environment: str = "prod"
) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (BUCKET, name, tagged(environment, {"bucket": name, "id": name})),
        (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{name}-pab",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {"bucket": name, "policy": TLS_ONLY},
        ),
        (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            f"{name}-owner",
            {"bucket": name, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        (
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            f"{name}-lifecycle",
            {"bucket": name, "rules": [{"id": "noncurrent", "status": "Enabled"}]},
        ),
        (
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{name}-versioning",
            {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
        ),
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{name}-sse",
            {
                "bucket": name,
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
        ),
    ]


def budget(estimate: str | None, limit: str | None = "500") -> tuple[str, str, dict[str, Any]]:
    props = tagged("prod")
    if estimate is not None:
        props["tagsAll"] = {**props["tagsAll"], "EstimatedMonthlyCostUSD": estimate}
    if limit is not None:
        props["limitAmount"] = limit
    props["limitUnit"] = "USD"
    return ("aws:budgets/budget:Budget", "budget", props)


VPC = ("aws:ec2/vpc:Vpc", "vpc", tagged("prod", {"id": "vpc-1"}))
ZONE = (
    "aws:route53/zone:Zone",
    "zone",
    tagged("prod", {"zoneId": "Z1", "name": "genericcorp.com"}),
)
ZONE_SIGNING = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"


def flow_log_to(log_group: str, retention_days: int) -> list[tuple[str, str, dict[str, Any]]]:
    """A VPC flow log and the log group it writes to, kept ``retention_days``."""
    arn = f"arn:aws:logs:us-east-1:1:log-group:{log_group}"
    return [
        ("aws:ec2/flowLog:FlowLog", "fl", {"vpcId": "vpc-1", "logDestination": arn}),
        (
            LOG_GROUP,
            "flow-logs",
            tagged(
                "prod", {**GOOD_LOG_GROUP, "name": log_group, "retentionInDays": retention_days}
            ),
        ),
    ]


DIST = (
    "aws:cloudfront/distribution:Distribution",
    "cdn",
    tagged("prod", {"arn": "arn:aws:cloudfront::1:distribution/E1"}),
)


def tenant_stack(
    name: str = "acme", *, deny: dict[str, Any] | None = None
) -> list[tuple[str, str, dict[str, Any]]]:
    """A tenant namespace with its default-deny NetworkPolicy, ResourceQuota and LimitRange."""
    namespace = f"tenant-{name}"
    spec = deny or {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return [
        (NAMESPACE, namespace, tenant_namespace(name)),
        (
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            f"{namespace}-default-deny",
            {"metadata": {"name": "default-deny", "namespace": namespace}, "spec": spec},
        ),
        (
            "kubernetes:core/v1:ResourceQuota",
            f"{namespace}-quota",
            {
                "metadata": {"name": "quota", "namespace": namespace},
                "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "40"}},
            },
        ),
        (
            "kubernetes:core/v1:LimitRange",
            f"{namespace}-limits",
            {
                "metadata": {"name": "limits", "namespace": namespace},
                "spec": {
                    "limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}}]
                },
            },
        ),
    ]


def tenant_identity(tenant: str, database_role: str) -> list[tuple[str, str, dict[str, Any]]]:
    """A tenant's Pod Identity association, its role and the role's policy."""
    arn = f"arn:aws:iam::1:role/{tenant}"
    statements = [
        {
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": f"arn:aws:rds-db:us-east-1:1:dbuser:db-ABC/{database_role}",
        },
        {
            "Effect": "Allow",
            "Action": "elasticache:Connect",
            "Resource": [
                "arn:aws:elasticache:us-east-1:1:replicationgroup:genericcorp-prod-redis",
                f"arn:aws:elasticache:us-east-1:1:user:prod-tenant-{tenant}",
            ],
        },
    ]
    return [
        (
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            f"{tenant}-identity",
            {"namespace": f"tenant-{tenant}", "serviceAccount": "app", "roleArn": arn},
        ),
        ("aws:iam/role:Role", f"{tenant}-role", {"arn": arn, "id": f"{tenant}-role"}),
        (
            "aws:iam/rolePolicy:RolePolicy",
            f"{tenant}-policy",
            {"role": f"{tenant}-role", "policy": json.dumps({"Statement": statements})},
        ),
    ]


# (policy, compliant stack, violating stack, phrase)
STACK_CASES: list[
    tuple[str, list[tuple[str, str, dict[str, Any]]], list[tuple[str, str, dict[str, Any]]], str]
] = [
    (
        "cost-within-budget",
        [budget("412.50")],
        [budget("612.35")],
        "estimated $612.35/month exceeds the budget of $500.00",
    ),
    (
        "ec2-6-vpc-flow-logs",
        [VPC, ("aws:ec2/flowLog:FlowLog", "fl", {"vpcId": "vpc-1"})],
        [VPC],
        "no flow log",
    ),
    (
        "route53-2-query-logging",
        [ZONE, ("aws:route53/queryLog:QueryLog", "ql", {"zoneId": "Z1"})],
        [ZONE],
        "does not log DNS queries",
    ),
    (
        "route53-dnssec",
        [ZONE, (ZONE_SIGNING, "signing", {"hostedZoneId": "Z1", "signingStatus": "SIGNING"})],
        [ZONE, (ZONE_SIGNING, "signing", {"hostedZoneId": "Z1", "signingStatus": "NOT_SIGNING"})],
        "public zone zone is not signed with DNSSEC",
    ),
    (
        "cloudwatch-audit-log-retention",
        flow_log_to("/genericcorp/prod/vpc/flow-logs", PROD_AUDIT_LOG_RETENTION_DAYS),
        flow_log_to("/genericcorp/prod/vpc/flow-logs", 90),
        "holds the audit records of VPC flow log fl for 90 days",
    ),
    (
        "cloudfront-5-logging",
        [
            DIST,
            (
                "aws:cloudwatch/logDeliverySource:LogDeliverySource",
                "src",
                {"resourceArn": "arn:aws:cloudfront::1:distribution/E1", "logType": "ACCESS_LOGS"},
            ),
        ],
        [DIST],
        "no access logging",
    ),
    (
        "s3-bucket-baseline",
        bucket_with_settings("assets"),
        bucket_with_settings("assets")[:1],
        "no public access block (S3.8)",
    ),
    (
        "tenant-identity-scoped",
        tenant_identity("acme-eu", "tenant_acme_eu"),
        tenant_identity("acme-eu", "tenant_globex"),
        "tenant-acme-eu: role acme-eu-role rds-db:connect on "
        "arn:aws:rds-db:us-east-1:1:dbuser:db-ABC/tenant_globex, not the dbuser tenant_acme_eu",
    ),
    (
        "k8s-tenant-isolation",
        tenant_stack(),
        tenant_stack(deny={"podSelector": {}, "policyTypes": ["Ingress"]}),
        "tenant namespace tenant-acme has no default-deny NetworkPolicy",
    ),
    (
        "s3-9-access-logging",
        [
            *bucket_with_settings("assets"),
            *bucket_with_settings("logs"),
            (
                "aws:s3/bucketLogging:BucketLogging",
                "assets-logging",
                {"bucket": "assets", "targetBucket": "logs"},
            ),
        ],
        bucket_with_settings("assets"),
        "no server access logging",
    ),
]


@pytest.mark.parametrize(
    ("policy", "good", "bad", "phrase"), STACK_CASES, ids=[c[0] for c in STACK_CASES]
)
def test_stack_rule_passes_a_compliant_and_flags_a_violating_stack(
    policy: str,
    good: list[tuple[str, str, dict[str, Any]]],
    bad: list[tuple[str, str, dict[str, Any]]],
    phrase: str,
) -> None:
    assert stack_violations(policy, good) == []
    found = stack_violations(policy, bad)
    assert any(phrase in message for message, _ in found), found
    assert all(urn and urn.startswith("urn:pulumi:test::") for _, urn in found)


def test_bucket_baseline_names_each_missing_setting() -> None:
    stack = bucket_with_settings("assets")
    weakened = [
        (t, n, {**p, "rule": {"objectOwnership": "BucketOwnerPreferred"}} if "owner" in n else p)
        for t, n, p in stack
        if not n.endswith(("-policy", "-lifecycle", "-versioning", "-sse"))
    ]
    messages = [m for m, _ in stack_violations("s3-bucket-baseline", weakened)]
    for control in ("S3.5", "S3.12", "S3.13", "S3.14", "S3.17"):
        assert any(f"({control})" in m for m in messages), (control, messages)
    assert not any("(S3.8)" in m for m in messages)


def test_budget_without_the_estimate_tag_or_with_junk_is_a_violation() -> None:
    assert stack_violations("cost-within-budget", [budget(None)])[0][0].endswith(
        "does not carry the cost estimate (tag EstimatedMonthlyCostUSD)"
    )
    assert "is not a number" in stack_violations("cost-within-budget", [budget("lots")])[0][0]
    assert (
        "no fixed monthly limit"
        in stack_violations("cost-within-budget", [budget("10", None)])[0][0]
    )


def test_budget_headroom_is_configurable() -> None:
    assert stack_violations("cost-within-budget", [budget("460")]) == []
    found = stack_violations("cost-within-budget", [budget("460")], config={"headroomPercent": 10})
    assert found[0][0] == (
        "estimated $460.00/month exceeds the budget of $500.00 less 10% headroom ($450.00)"
    )


def test_no_budget_in_the_stack_is_not_a_violation() -> None:
    assert stack_violations("cost-within-budget", [VPC]) == []


def test_waived_stack_controls_are_reported_outside_prod() -> None:
    dev_zone = ("aws:route53/zone:Zone", "zone", tagged("dev", {"zoneId": "Z1"}))
    assert stack_violations("route53-2-query-logging", [dev_zone]) == []
    found = stack_violations(f"{WAIVER_POLICY}-stack", [dev_zone])
    assert [m for m, _ in found] == [
        "route53-2-query-logging (Route53.2) is waived outside prod: public zone zone does not "
        "log DNS queries (aws.route53.QueryLog)"
    ]


def test_private_zones_need_no_query_log() -> None:
    private = (
        "aws:route53/zone:Zone",
        "zone",
        tagged("prod", {"zoneId": "Z1", "vpcs": [{"vpcId": "vpc-1"}]}),
    )
    assert stack_violations("route53-2-query-logging", [private]) == []


# --- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "type_token", "config", "error"),
    [
        (
            "required-tags",
            "aws:ec2/vpc:Vpc",
            {"requiredTags": "Project"},
            "required-tags.requiredTags = 'Project': expected an array, got str",
        ),
        (
            "required-tags",
            "aws:ec2/vpc:Vpc",
            {"requiredTags": [1]},
            "item 0: expected a string, got int",
        ),
        ("required-tags", "aws:ec2/vpc:Vpc", {"requiredTags": []}, "needs at least 1 item(s)"),
        (
            "kms-3-deletion-window",
            KEY,
            {"minimumDays": "30"},
            "minimumDays = '30': expected an integer, got str",
        ),
        ("kms-3-deletion-window", KEY, {"minimumDays": 3}, "must be at least 7"),
        ("kms-3-deletion-window", KEY, {"minimumDays": True}, "expected a whole number"),
        ("eks-8-audit-logging", EKS, {"requiredLogTypes": ["audits"]}, "must be one of api, audit"),
        (
            "eks-2-supported-version",
            EKS,
            {"versions": ["1.34"]},
            "unknown key(s) versions; allowed: supportedVersions",
        ),
    ],
)
def test_a_wrong_config_value_is_a_clear_error(
    policy: str, type_token: str, config: dict[str, Any], error: str
) -> None:
    with pytest.raises(PolicyConfigError, match="policy pack config") as raised:
        violations(policy, type_token, tagged("prod", GOOD_EKS), config=config)
    assert error in str(raised.value)


def test_tags_without_tags_all_take_the_provider_default_tags() -> None:
    # pulumi-aws adds tagsAll at check time only for its SDKv2-based types; for the
    # plugin-framework ones (this ingress rule) the analyzer sees `tags` alone.
    rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    props = {"tags": {"Component": "data"}, "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432}
    defaults = {k: v for k, v in tagged("prod")["tagsAll"].items() if k != "Component"}
    assert violations("required-tags", rule, props, provider_default_tags=defaults) == []
    assert violations("required-tags", rule, props) == [
        "missing required tag(s): Project, Environment, ManagedBy, CostCenter"
    ]
    # The Environment tag from the provider also puts the resource in prod's scope.
    db = {**GOOD_RDS, "multiAz": False, "tags": {"Component": "data"}}
    assert violations("rds-5-multi-az", RDS, db, provider_default_tags=defaults)
    assert violations("rds-5-multi-az", RDS, db) == []


def test_config_tunes_a_rule() -> None:
    props = tagged("prod")
    props["tagsAll"] = {**props["tagsAll"], "Owner": "sre"}
    assert (
        violations("required-tags", "aws:ec2/vpc:Vpc", props, config={"requiredTags": ["Owner"]})
        == []
    )
    assert violations(
        "required-tags", "aws:ec2/vpc:Vpc", tagged("prod"), config={"requiredTags": ["Owner"]}
    ) == ["missing required tag(s): Owner"]


def test_rule_kinds_are_consistent() -> None:
    for rule in RULES:
        assert isinstance(rule, Rule | StackRule)
        assert rule.name == rule.name.lower()
        assert " " not in rule.name
    assert len({rule.name for rule in RULES}) == len(RULES)


def _log_bucket(*, receives_cloudfront_logs: bool, receives_access_logs: bool) -> list[Any]:
    """A bucket with ACLs on and SSE-S3, and whatever delivers logs to it."""
    weakened = [
        (t, n, {**p, "rule": {"objectOwnership": "BucketOwnerPreferred"}} if "owner" in n else p)
        for t, n, p in bucket_with_settings("logs")
    ]
    weakened = [
        (
            t,
            n,
            {**p, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
            if n.endswith("-sse")
            else p,
        )
        for t, n, p in weakened
    ]
    delivery: list[Any] = []
    if receives_cloudfront_logs:
        delivery.append((DIST[0], "dist", {"loggingConfig": {"bucket": "logs.s3.amazonaws.com"}}))
    if receives_access_logs:
        delivery.append(
            ("aws:s3/bucketLogging:BucketLogging", "l", {"bucket": "x", "targetBucket": "logs"})
        )
    return weakened + delivery


def test_the_bucket_cloudfront_and_s3_deliver_logs_to_may_keep_acls_and_sse_s3() -> None:
    # CloudFront's standard logs are written through an ACL; S3 access logs only land in
    # SSE-S3 buckets. The exceptions come from the graph, so no other bucket gets them.
    stack = _log_bucket(receives_cloudfront_logs=True, receives_access_logs=True)
    assert [m for m, _ in stack_violations("s3-bucket-baseline", stack)] == []


def test_a_bucket_that_receives_no_logs_gets_no_acl_or_sse_s3_exception() -> None:
    stack = _log_bucket(receives_cloudfront_logs=False, receives_access_logs=False)
    messages = [m for m, _ in stack_violations("s3-bucket-baseline", stack)]
    assert any("(S3.12)" in m for m in messages), messages
    assert any("(S3.17)" in m for m in messages), messages


# --- secrets, log groups, IAM ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["alias/aws/secretsmanager", "arn:aws:kms:us-east-1:1:alias/aws/secretsmanager"]
)
def test_the_aws_managed_secrets_key_is_not_customer_managed(key: str) -> None:
    assert violations("secretsmanager-cmk", SECRET, tagged("prod", {"kmsKeyId": key})) == [
        f"the secret is encrypted with the AWS-managed key {key}; use a customer-managed one"
    ]
    own_alias = {"kmsKeyId": "alias/genericcorp-prod-secrets"}
    assert violations("secretsmanager-cmk", SECRET, tagged("dev", own_alias)) == []


def test_a_database_without_a_managed_password_has_no_secret_to_encrypt() -> None:
    replica = but(GOOD_RDS, manageMasterUserPassword=..., masterUserSecretKmsKeyId=...)
    assert violations("rds-master-secret-cmk", RDS, tagged("dev", replica)) == []


def test_log_groups_need_a_kms_key_and_delivery_class_needs_no_retention() -> None:
    plain = {"name": "/genericcorp/dev/app"}
    assert violations("cloudwatch-log-group-kms-retention", LOG_GROUP, tagged("dev", plain)) == [
        "log data is not encrypted with a KMS key (kmsKeyId)",
        "log events never expire (set retentionInDays; 0 or unset keeps them forever)",
    ]
    # AWS fixes the retention of the DELIVERY class itself.
    delivery = {**plain, "kmsKeyId": CMK, "logGroupClass": "DELIVERY"}
    assert violations("cloudwatch-log-group-kms-retention", LOG_GROUP, delivery) == []


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": "*:*", "Resource": "*", "Condition": {"Bool": {"x": "y"}}},
    ],
)
def test_admin_statements_in_any_shape_are_refused(statement: dict[str, Any]) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": statement})
    found = violations("iam-1-no-admin-policy", "aws:iam/policy:Policy", {"policy": policy})
    assert found == [
        'policy: Statement[0] allows "Action": "*" on "Resource": "*" (full administrator); '
        "grant the actions and resources the role needs"
    ]


def test_denies_and_service_wildcards_are_not_administrator() -> None:
    deny_all = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    s3_everywhere = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    admin_on_one_bucket = {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}
    document = iam_document(deny_all, s3_everywhere, admin_on_one_bucket)
    assert violations("iam-1-no-admin-policy", ROLE_POLICY, {"policy": document}) == []


def test_role_inline_policies_and_object_documents_are_checked() -> None:
    role = {
        "assumeRolePolicy": iam_document(),
        "inlinePolicies": [
            {"name": "ok", "policy": iam_document(READ_LOGS)},
            {"name": "admin", "policy": iam_document(ADMIN)},
        ],
    }
    assert violations("iam-1-no-admin-policy", "aws:iam/role:Role", tagged("prod", role)) == [
        'inlinePolicies[1] (admin): Statement[0] allows "Action": "*" on "Resource": "*" '
        "(full administrator); grant the actions and resources the role needs"
    ]
    as_object = {"policy": {"Version": "2012-10-17", "Statement": [ADMIN]}}
    assert violations("iam-1-no-admin-policy", ROLE_POLICY, as_object)
    assert violations("iam-1-no-admin-policy", ROLE_POLICY, {"policy": "{not json"}) == [
        "policy is not a JSON policy document, so it cannot be checked"
    ]


def test_an_unknown_policy_document_skips_the_resource_in_preview() -> None:
    with pytest.raises(UnknownValueError):
        violations("iam-1-no-admin-policy", ROLE_POLICY, {"policy": UNKNOWN_STRING_VALUE})


def _sse_s3(stack: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    aes = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
    return [(t, n, {**p, **aes} if n.endswith("-sse") else p) for t, n, p in stack]


def test_an_alb_log_bucket_may_use_sse_s3_and_is_a_log_bucket_only_when_the_alb_names_it() -> None:
    # Elastic Load Balancing delivers access logs only to SSE-S3 buckets: the exception follows
    # the controller's IngressClassParams that names the bucket, not a tag anyone could set.
    params = (
        "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams",
        "shared-alb",
        {
            "spec": {
                "loadBalancerAttributes": [
                    {"key": "access_logs.s3.enabled", "value": "true"},
                    {"key": "access_logs.s3.bucket", "value": "alb-logs"},
                ]
            }
        },
    )
    bucket = _sse_s3(bucket_with_settings("alb-logs"))
    unnamed = [m for m, _ in stack_violations("s3-bucket-baseline", bucket)]
    assert any("(S3.17)" in m for m in unnamed), unnamed
    assert stack_violations("s3-bucket-baseline", [*bucket, params]) == []
    # A log bucket does not log its own access (S3.9), once the ALB names it.
    assert stack_violations("s3-9-access-logging", bucket)
    assert stack_violations("s3-9-access-logging", [*bucket, params]) == []
