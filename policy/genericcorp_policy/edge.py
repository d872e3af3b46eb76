"""CloudFront, S3, Route53 and ACM controls.

pulumi-aws v7 splits a bucket's settings into separate resources (public access block,
versioning, encryption, ownership, lifecycle, logging, policy), so the S3 controls are stack
rules: each bucket must have its companion resources, matched by bucket name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    Scope,
    StackRule,
    get,
    is_true,
    items,
)

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAI = "aws:cloudfront/originAccessIdentity:OriginAccessIdentity"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
ZONE = "aws:route53/zone:Zone"
QUERY_LOG = "aws:route53/queryLog:QueryLog"
ZONE_SIGNING = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"
CERTIFICATE = "aws:acm/certificate:Certificate"
#: The AWS Load Balancer Controller's parameters, whose attributes name the ALB's log bucket.
INGRESS_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"

#: CloudFront security policies at or above TLSv1.2_2021 (CloudFront.15).
RECOMMENDED_TLS_POLICIES = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
#: Key algorithms ACM.2 accepts (RSA of 2048 bits or more, or ECDSA).
KEY_ALGORITHMS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)


# --- CloudFront --------------------------------------------------------------------------------


def _root_object(props: Props, _: Config) -> Iterator[str]:
    if not get(props, "defaultRootObject"):
        yield "no default root object (defaultRootObject)"


def _https(props: Props, _: Config) -> Iterator[str]:
    behaviours = [("defaultCacheBehavior", get(props, "defaultCacheBehavior"))] + [
        (f"orderedCacheBehaviors[{i}]", b)
        for i, b in enumerate(items(get(props, "orderedCacheBehaviors")))
    ]
    for where, behaviour in behaviours:
        if get(behaviour, "viewerProtocolPolicy") not in ("https-only", "redirect-to-https"):
            yield f"{where} lets viewers use plain HTTP (viewerProtocolPolicy)"


def _waf(props: Props, _: Config) -> Iterator[str]:
    if not get(props, "webAclId"):
        yield "no WAF web ACL is associated (webAclId)"


def _certificate(props: Props, _: Config) -> Iterator[str]:
    certificate = get(props, "viewerCertificate")
    if is_true(get(certificate, "cloudfrontDefaultCertificate")) or not (
        get(certificate, "acmCertificateArn") or get(certificate, "iamCertificateId")
    ):
        yield "the distribution serves the default *.cloudfront.net certificate, not its own"
    elif get(certificate, "sslSupportMethod") != "sni-only":
        yield 'the custom certificate is not served with SNI (sslSupportMethod "sni-only")'


def _tls_policy(props: Props, config: Config) -> Iterator[str]:
    version = get(props, "viewerCertificate.minimumProtocolVersion")
    allowed = list(config["allowedPolicies"])
    if version not in allowed:
        yield (
            f"TLS security policy {version or 'TLSv1 (default)'} is below the recommended "
            f"{', '.join(allowed)} (viewerCertificate.minimumProtocolVersion)"
        )


def _s3_origins(props: Props, _: Config) -> Iterator[str]:
    for index, origin in enumerate(items(get(props, "origins"))):
        domain = str(get(origin, "domainName") or "")
        if get(origin, "s3OriginConfig.originAccessIdentity"):
            yield f"origins[{index}] uses a legacy origin access identity, not access control"
        elif ".s3." in domain and not get(origin, "originAccessControlId"):
            yield f"origins[{index}] reads S3 bucket {domain} without origin access control"
        if ".s3-website" in domain:
            yield f"origins[{index}] is a public S3 website endpoint ({domain})"


def _no_oai(_props: Props, _: Config) -> Iterator[str]:
    yield "origin access identities are legacy; use an origin access control"


def _distribution_logging(
    distributions: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    delivered = {get(r.props, "resourceArn") for r in everything if r.type == LOG_DELIVERY_SOURCE}
    for distribution in distributions:
        if get(distribution.props, "loggingConfig.bucket"):
            continue
        if get(distribution.props, "arn") in delivered:
            continue
        yield (
            f"distribution {distribution.name} has no access logging (loggingConfig or a "
            "CloudWatch log delivery source)",
            distribution.urn,
        )


# --- S3 ----------------------------------------------------------------------------------------


def _elb_access_log_buckets(everything: Sequence[Resource]) -> set[Any]:
    """Buckets an ALB writes its access logs to (``access_logs.s3.bucket`` of the controller's
    IngressClassParams): Elastic Load Balancing delivers only to SSE-S3 buckets."""
    names: set[Any] = set()
    for resource in everything:
        if resource.type != INGRESS_CLASS_PARAMS:
            continue
        for attribute in items(get(resource.props, "spec.loadBalancerAttributes")):
            if get(attribute, "key") == "access_logs.s3.bucket":
                names.add(get(attribute, "value"))
    return names


def _bucket_name(bucket: Resource) -> Any:
    return get(bucket.props, "bucket") or get(bucket.props, "id")


def _companions(everything: Sequence[Resource], type_token: str) -> dict[Any, Resource]:
    return {get(r.props, "bucket"): r for r in everything if r.type == type_token}


def _public_access_block(props: Props) -> list[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    return [flag for flag in flags if not is_true(get(props, flag))]


def _denies_insecure_transport(policy: Any) -> bool:
    if not isinstance(policy, str):
        return False
    try:
        document = json.loads(policy)
    except ValueError:
        return False
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    for statement in statements:
        condition = json.dumps(statement.get("Condition", {}))
        if (
            statement.get("Effect") == "Deny"
            and "aws:SecureTransport" in condition
            and "false" in condition.lower()
        ):
            return True
    return False


def _encryption_algorithms(props: Props) -> list[str]:
    return [
        str(get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"))
        for rule in items(get(props, "rules"))
    ]


def _bucket_baseline(
    buckets: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    blocks = _companions(everything, PUBLIC_ACCESS_BLOCK)
    policies = _companions(everything, BUCKET_POLICY)
    ownership = _companions(everything, OWNERSHIP)
    lifecycle = _companions(everything, LIFECYCLE)
    versioning = _companions(everything, VERSIONING)
    encryption = _companions(everything, ENCRYPTION)
    acls = _companions(everything, BUCKET_ACL)
    # Two exceptions that the services themselves impose, derived from the resource graph (not
    # from a tag anyone could set): CloudFront's standard logs are written through an ACL, so
    # the bucket a distribution logs to must keep ACLs on; S3 delivers server access logs only
    # to buckets encrypted with S3-managed keys, so a bucket that receives them uses SSE-S3.
    cloudfront_log_domains = {
        get(r.props, "loggingConfig.bucket") for r in everything if r.type == DISTRIBUTION
    }
    access_log_targets = {
        get(r.props, "targetBucket") for r in everything if r.type == BUCKET_LOGGING
    } | _elb_access_log_buckets(everything)
    for bucket in buckets:
        name = _bucket_name(bucket)
        label = f"bucket {bucket.name}"
        receives_cloudfront_logs = (
            get(bucket.props, "bucketDomainName") in cloudfront_log_domains
            or f"{name}.s3.amazonaws.com" in cloudfront_log_domains
        )
        block = blocks.get(name)
        if block is None:
            yield f"{label} has no public access block (S3.8)", bucket.urn
        elif missing := _public_access_block(block.props):
            yield f"{label}'s public access block leaves off {', '.join(missing)} (S3.8)", block.urn
        policy = policies.get(name)
        if policy is None or not _denies_insecure_transport(get(policy.props, "policy")):
            yield (
                f"{label} has no policy denying requests without TLS "
                "(Deny when aws:SecureTransport is false) (S3.5)",
                (policy or bucket).urn,
            )
        owner = ownership.get(name)
        owned = get(owner.props, "rule.objectOwnership") if owner else None
        acls_needed = receives_cloudfront_logs and owned == "BucketOwnerPreferred"
        if owned != "BucketOwnerEnforced" and not acls_needed:
            yield (
                f"{label} does not disable ACLs (ownership BucketOwnerEnforced) (S3.12)",
                bucket.urn,
            )
        if name in acls:
            yield f"{label} sets an ACL (S3.12)", acls[name].urn
        if name not in lifecycle:
            yield f"{label} has no lifecycle configuration (S3.13)", bucket.urn
        version = versioning.get(name)
        if version is None or get(version.props, "versioningConfiguration.status") != "Enabled":
            yield f"{label} does not have versioning enabled (S3.14)", bucket.urn
        sse = encryption.get(name)
        algorithms = _encryption_algorithms(sse.props) if sse else []
        allowed = ("aws:kms", "aws:kms:dsse", *(("AES256",) if name in access_log_targets else ()))
        if not algorithms or any(a not in allowed for a in algorithms):
            yield f"{label} is not encrypted by default with KMS (S3.17)", bucket.urn


def _bucket_access_logging(
    buckets: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    logging = _companions(everything, BUCKET_LOGGING)
    # A bucket that receives access logs (S3's or an ALB's) does not log itself: its own logs
    # would loop.
    targets = {get(r.props, "targetBucket") for r in logging.values()}
    targets |= _elb_access_log_buckets(everything)
    for bucket in buckets:
        name = _bucket_name(bucket)
        if name not in logging and name not in targets:
            yield f"bucket {bucket.name} has no server access logging (BucketLogging)", bucket.urn


def _account_public_access_block(props: Props, _: Config) -> Iterator[str]:
    missing = _public_access_block(props)
    if missing:
        yield f"the account public access block leaves off {', '.join(missing)}"


# --- Route53 and ACM ---------------------------------------------------------------------------


def _query_logging(
    zones: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    logged = {get(r.props, "zoneId") for r in everything if r.type == QUERY_LOG}
    for zone in zones:
        if items(get(zone.props, "vpcs")):
            continue  # a private zone: Route53.2 is about public zones
        if get(zone.props, "zoneId") not in logged and get(zone.props, "id") not in logged:
            yield (
                f"public zone {zone.name} does not log DNS queries (aws.route53.QueryLog)",
                zone.urn,
            )


def _dnssec(
    zones: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    signed = {
        get(r.props, "hostedZoneId")
        for r in everything
        if r.type == ZONE_SIGNING and get(r.props, "signingStatus") in (None, "SIGNING")
    }
    for zone in zones:
        if items(get(zone.props, "vpcs")):
            continue  # a private zone: resolvers outside the VPC never see it
        if get(zone.props, "zoneId") not in signed and get(zone.props, "id") not in signed:
            yield (
                f"public zone {zone.name} is not signed with DNSSEC (aws.route53.HostedZoneDnsSec "
                'with signingStatus "SIGNING")',
                zone.urn,
            )


def _certificate_renewal(props: Props, _: Config) -> Iterator[str]:
    if get(props, "certificateBody") or get(props, "privateKey"):
        yield "an imported certificate does not renew automatically; request it from ACM"
    elif get(props, "certificateAuthorityArn") is None and get(props, "validationMethod") != "DNS":
        yield (
            'the certificate is not DNS-validated (validationMethod "DNS"), so it cannot renew '
            "unattended"
        )


def _certificate_key(props: Props, _: Config) -> Iterator[str]:
    algorithm = get(props, "keyAlgorithm")
    if algorithm is not None and algorithm not in KEY_ALGORITHMS:
        yield f"key algorithm {algorithm} is weaker than RSA 2048 or ECDSA P-256"


RULES = (
    Rule(
        "cloudfront-1-default-root-object",
        "CloudFront.1",
        "Distributions set a default root object.",
        (DISTRIBUTION,),
        _root_object,
        reads=("defaultRootObject",),
    ),
    Rule(
        "cloudfront-3-https",
        "CloudFront.3",
        "Viewers must use HTTPS.",
        (DISTRIBUTION,),
        _https,
        reads=("defaultCacheBehavior", "orderedCacheBehaviors"),
    ),
    Rule(
        "cloudfront-6-waf",
        "CloudFront.6",
        "Distributions are protected by a WAF web ACL.",
        (DISTRIBUTION,),
        _waf,
        scope=Scope.PROD_WAIVABLE,
        reads=("webAclId",),
    ),
    Rule(
        "cloudfront-7-8-custom-certificate",
        "CloudFront.7/CloudFront.8",
        "Distributions serve their own certificate, with SNI.",
        (DISTRIBUTION,),
        _certificate,
        reads=("viewerCertificate",),
    ),
    Rule(
        "cloudfront-12-13-origin-access-control",
        "CloudFront.12/CloudFront.13",
        "S3 origins "
        "are read through origin access control, never a legacy OAI or a public website "
        "endpoint.",
        (DISTRIBUTION,),
        _s3_origins,
        reads=("origins",),
    ),
    Rule(
        "cloudfront-13-no-oai",
        "CloudFront.13",
        "No legacy origin access identities.",
        (OAI,),
        _no_oai,
    ),
    Rule(
        "cloudfront-15-tls-policy",
        "CloudFront.15",
        "Distributions use a recommended TLS security policy (TLSv1.2_2021 or newer).",
        (DISTRIBUTION,),
        _tls_policy,
        config={
            "allowedPolicies": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "default": list(RECOMMENDED_TLS_POLICIES),
                "description": "Accepted minimumProtocolVersion values.",
            }
        },
        reads=("viewerCertificate",),
    ),
    Rule(
        "s3-1-account-public-access-block",
        "S3.1",
        "The account-level public access block blocks everything.",
        ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",),
        _account_public_access_block,
        reads=("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    ),
    Rule(
        "acm-1-auto-renewal",
        "ACM.1",
        "Certificates are issued by ACM with DNS validation, so they renew automatically.",
        (CERTIFICATE,),
        _certificate_renewal,
        reads=("certificateBody", "privateKey", "certificateAuthorityArn", "validationMethod"),
    ),
    Rule(
        "acm-2-key-algorithm",
        "ACM.2",
        "Certificates use RSA 2048 or more, or ECDSA.",
        (CERTIFICATE,),
        _certificate_key,
        reads=("keyAlgorithm",),
    ),
)

STACK_RULES = (
    StackRule(
        "cloudfront-5-logging",
        "CloudFront.5",
        "Distributions log access.",
        (DISTRIBUTION,),
        _distribution_logging,
        scope=Scope.PROD_WAIVABLE,
    ),
    StackRule(
        "s3-bucket-baseline",
        "S3.5/S3.8/S3.12/S3.13/S3.14/S3.17",
        "Every bucket has a "
        "public access block, a TLS-only policy, ACLs disabled, a lifecycle, versioning "
        "and KMS default encryption.",
        (BUCKET,),
        _bucket_baseline,
    ),
    StackRule(
        "s3-9-access-logging",
        "S3.9",
        "Buckets log server access (log buckets excepted).",
        (BUCKET,),
        _bucket_access_logging,
        scope=Scope.PROD_WAIVABLE,
    ),
    StackRule(
        "route53-2-query-logging",
        "Route53.2",
        "Public hosted zones log DNS queries.",
        (ZONE,),
        _query_logging,
        scope=Scope.PROD_WAIVABLE,
    ),
    StackRule(
        "route53-dnssec",
        "",
        "Prod public hosted zones are signed with DNSSEC, so resolvers can detect forged answers.",
        (ZONE,),
        _dnssec,
        scope=Scope.PROD,
    ),
)
