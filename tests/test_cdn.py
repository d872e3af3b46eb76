"""The CDN in both stacks: a private, encrypted, versioned origin bucket that only this
distribution can read; TLS at the edge with a us-east-1 certificate; logging; WAF in prod."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from components.cdn import CACHING_OPTIMIZED_POLICY_ID, CdnParts
from components.shared.waf import MANAGED_RULE_GROUPS
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import (
    IN_EU_WEST_1,
    LIFTED_BUDGET,
    minimal_values,
    plan_with,
    policy,
    region_of,
    stack_config,
    statements,
)

BUCKET = "aws:s3/bucket:Bucket"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CERTIFICATE = "aws:acm/certificate:Certificate"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
RECORD = "aws:route53/record:Record"
DOMAINS = {"dev": "cdn.dev.genericcorp.com", "prod": "cdn.genericcorp.com"}
CDN = "genericcorp:cdn"


def setting(plan: Plan, type_token: str, bucket: PlannedResource) -> PlannedResource:
    [found] = [r for r in plan.of_type(type_token) if r.inputs["bucket"] == bucket.id]
    return found


def buckets(plan: Plan) -> tuple[PlannedResource, PlannedResource]:
    return plan.named("cdn-assets", BUCKET), plan.named("cdn-logs", BUCKET)


@cache
def eu_plan() -> Plan:
    """Prod in another region: what must stay in us-east-1 still does."""
    return plan_with("prod", IN_EU_WEST_1)


# --- the buckets ----------------------------------------------------------------------------


def test_both_buckets_block_all_public_access(plan: Plan) -> None:
    for bucket in buckets(plan):
        block = setting(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        ):
            assert block.inputs[flag] is True, (bucket.name, flag)


def test_no_bucket_of_the_stack_has_acls_enabled(plan: Plan) -> None:
    ownership = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    all_buckets = plan.of_type(BUCKET)
    assert len(all_buckets) >= 3  # the CDN's assets and logs, the ALB's access logs
    for bucket in all_buckets:
        assert setting(plan, ownership, bucket).inputs["rule"] == {
            "objectOwnership": "BucketOwnerEnforced"
        }, bucket.name
    assert plan.of_type("aws:s3/bucketAcl:BucketAcl") == []


def test_assets_are_encrypted_with_their_own_key_and_logs_with_sse_s3(plan: Plan) -> None:
    assets, logs = buckets(plan)
    encryption = (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    key = plan.named("cdn-assets-key", "aws:kms/key:Key")
    [rule] = setting(plan, encryption, assets).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert rule["bucketKeyEnabled"] is True
    assert key.inputs["enableKeyRotation"] is True
    [log_rule] = setting(plan, encryption, logs).inputs["rules"]
    assert log_rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_only_the_log_bucket_declares_its_baseline_exceptions(plan: Plan) -> None:
    assets, logs = buckets(plan)
    # S3.17 only: S3 server access logs need SSE-S3; ACLs are off (S3.12 holds).
    assert logs.tags["SecurityExceptions"] == "S3.17"
    assert "SecurityExceptions" not in assets.tags


def test_buckets_are_versioned_and_expire_old_versions(plan: Plan) -> None:
    days = {"dev": 7, "prod": 30}[plan.stack]
    for bucket in buckets(plan):
        versioning = setting(plan, "aws:s3/bucketVersioning:BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        lifecycle = setting(
            plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket
        )
        [rule] = lifecycle.inputs["rules"]
        assert rule["status"] == "Enabled"
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": days}
        assert versioning.urn in lifecycle.dependencies
    log_rules = setting(
        plan,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        plan.named("cdn-logs", BUCKET),
    ).inputs["rules"]
    assert log_rules[0]["expiration"] == {"days": {"dev": 30, "prod": 365}[plan.stack]}


def test_prod_buckets_are_protected_and_never_force_destroyed(plan: Plan) -> None:
    for bucket in buckets(plan):
        assert bucket.protect is (plan.stack == "prod")
        assert bucket.inputs["forceDestroy"] is False


def test_assets_bucket_access_is_logged_to_the_log_bucket(plan: Plan) -> None:
    assets, logs = buckets(plan)
    logging = setting(plan, "aws:s3/bucketLogging:BucketLogging", assets)
    assert logging.inputs["targetBucket"] == logs.id
    logs_policy = setting(plan, "aws:s3/bucketPolicy:BucketPolicy", logs)
    [allow] = [
        s
        for s in statements(policy(logs_policy, "policy"))
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert allow["Resource"] == f"{logs.outputs['arn']}/s3-access/*"
    assert allow["Condition"]["ArnLike"] == {"aws:SourceArn": assets.outputs["arn"]}


def test_bucket_policies_deny_requests_without_tls(plan: Plan) -> None:
    for bucket in buckets(plan):
        document = policy(setting(plan, "aws:s3/bucketPolicy:BucketPolicy", bucket), "policy")
        [deny] = [s for s in statements(document) if s["Effect"] == "Deny"]
        assert deny["Principal"] == "*"
        assert deny["Action"] == "s3:*"
        assert deny["Resource"] == [bucket.outputs["arn"], f"{bucket.outputs['arn']}/*"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_this_distribution_may_read_the_assets(plan: Plan) -> None:
    assets, _ = buckets(plan)
    distribution_arn = plan.one(DISTRIBUTION).outputs["arn"]
    document = policy(setting(plan, "aws:s3/bucketPolicy:BucketPolicy", assets), "policy")
    [allow] = [s for s in statements(document) if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == f"{assets.outputs['arn']}/*"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    key = plan.named("cdn-assets-key", "aws:kms/key:Key")
    [decrypt] = [
        s
        for s in statements(policy(key, "policy"))
        if s["Sid"] == "CloudFrontDecryptsForThisDistribution"
    ]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn}}


# --- the distribution -----------------------------------------------------------------------


def test_distribution_reads_the_bucket_through_origin_access_control(plan: Plan) -> None:
    assets, _ = buckets(plan)
    oac = plan.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always"
    assert oac.inputs["signingProtocol"] == "sigv4"
    [origin] = plan.one(DISTRIBUTION).inputs["origins"]
    assert origin["domainName"] == assets.outputs["bucketRegionalDomainName"]
    assert origin["originAccessControlId"] == oac.id
    assert "s3OriginConfig" not in origin  # no legacy origin access identity


def test_viewers_get_https_with_a_modern_tls_policy_and_sni(plan: Plan) -> None:
    distribution = plan.one(DISTRIBUTION).inputs
    behavior = distribution["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["compress"] is True
    assert behavior["cachePolicyId"] == CACHING_OPTIMIZED_POLICY_ID
    certificate = distribution["viewerCertificate"]
    assert (
        certificate["acmCertificateArn"]
        == plan.named("cdn-certificate", CERTIFICATE).outputs["arn"]
    )
    assert certificate["sslSupportMethod"] == "sni-only"
    assert certificate["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert distribution["httpVersion"] == "http2and3"
    assert distribution["isIpv6Enabled"] is True
    assert distribution["aliases"] == [DOMAINS[plan.stack]]
    assert distribution["defaultRootObject"] == "index.html"


def test_responses_carry_security_headers(plan: Plan) -> None:
    headers = plan.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    config = headers.inputs["securityHeadersConfig"]
    assert config["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31_536_000
    assert config["strictTransportSecurity"]["includeSubdomains"] is True
    assert config["contentTypeOptions"] == {"override": True}
    assert config["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert config["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    # Off on purpose: components/cdn.py HSTS_PRELOAD and docs/architecture.md say why.
    assert config["strictTransportSecurity"]["preload"] is False
    behavior = plan.one(DISTRIBUTION).inputs["defaultCacheBehavior"]
    assert behavior["responseHeadersPolicyId"] == headers.id


def test_distribution_logs_to_the_log_bucket_with_standard_logging_v2(plan: Plan) -> None:
    _, logs = buckets(plan)
    distribution = plan.one(DISTRIBUTION)
    # No legacy logging: it writes through ACLs.
    assert "loggingConfig" not in distribution.inputs
    source = plan.one("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert source.inputs["resourceArn"] == distribution.outputs["arn"]
    destination = plan.one("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    assert destination.inputs["deliveryDestinationConfiguration"] == {
        "destinationResourceArn": logs.outputs["arn"]
    }
    delivery = plan.one("aws:cloudwatch/logDelivery:LogDelivery")
    assert delivery.inputs["deliverySourceName"] == source.inputs["name"]
    assert delivery.inputs["deliveryDestinationArn"] == destination.outputs["arn"]
    for resource in (source, destination, delivery):
        assert region_of(plan, resource) == "us-east-1", resource.name
    logs_policy = setting(plan, "aws:s3/bucketPolicy:BucketPolicy", logs)
    assert logs_policy.urn in delivery.dependencies
    [allow] = [
        s
        for s in statements(policy(logs_policy, "policy"))
        if s["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    ]
    assert allow["Resource"] == f"{logs.outputs['arn']}/AWSLogs/123456789012/CloudFront/*"
    assert allow["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:delivery-source:*"
    }


def test_dev_uses_the_cheapest_price_class(plan: Plan) -> None:
    expected = {"dev": "PriceClass_100", "prod": "PriceClass_All"}[plan.stack]
    assert plan.one(DISTRIBUTION).inputs["priceClass"] == expected


# --- certificate and DNS --------------------------------------------------------------------


def test_certificate_is_dns_validated_in_the_zone(plan: Plan) -> None:
    certificate = plan.named("cdn-certificate", CERTIFICATE)
    assert certificate.inputs["domainName"] == DOMAINS[plan.stack]
    assert certificate.inputs["validationMethod"] == "DNS"
    assert certificate.inputs["keyAlgorithm"] == "RSA_2048"
    [option] = certificate.outputs["domainValidationOptions"]
    record = plan.named("cdn-certificate-validation-record", RECORD)
    assert record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["type"] == option["resourceRecordType"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    assert record.inputs["zoneId"] == plan.outputs["dns"]["zoneId"]
    validation = plan.named(
        "cdn-certificate-validation", "aws:acm/certificateValidation:CertificateValidation"
    )
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]


def test_certificate_and_waf_stay_in_us_east_1_whatever_the_stack_region() -> None:
    plan = eu_plan()
    assert region_of(plan, plan.named("cdn-assets", BUCKET)) == "eu-west-1"
    for resource in (
        plan.named("cdn-certificate", CERTIFICATE),
        plan.named(
            "cdn-certificate-validation", "aws:acm/certificateValidation:CertificateValidation"
        ),
        plan.named("cdn-waf", WEB_ACL),
        plan.named("dns-query-logs"),
        plan.named("dns-dnssec-key", "aws:kms/key:Key"),
    ):
        assert region_of(plan, resource) == "us-east-1", resource.urn
    assert (
        plan.named("cdn-certificate", CERTIFICATE)
        .outputs["arn"]
        .startswith("arn:aws:acm:us-east-1:")
    )


def test_alias_records_point_at_the_distribution(plan: Plan) -> None:
    distribution = plan.one(DISTRIBUTION)
    aliases = [r for r in plan.of_type(RECORD) if r.name.startswith("cdn-alias-")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    for record in aliases:
        assert record.inputs["name"] == DOMAINS[plan.stack]
        assert record.inputs["aliases"] == [
            {
                "name": distribution.outputs["domainName"],
                "zoneId": "Z2FDTNDATAQYW2",
                "evaluateTargetHealth": False,
            }
        ]


# --- WAF ------------------------------------------------------------------------------------


def test_prod_puts_a_managed_rule_web_acl_in_front_of_the_distribution(prod_plan: Plan) -> None:
    acl = prod_plan.named("cdn-waf", WEB_ACL)
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert region_of(prod_plan, acl) == "us-east-1"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    rules = acl.inputs["rules"]
    groups = [r["statement"]["managedRuleGroupStatement"] for r in rules[:-1]]
    assert [(g["vendorName"], g["name"]) for g in groups] == [
        ("AWS", n) for n in MANAGED_RULE_GROUPS
    ]
    assert all(r["overrideAction"] == {"none": {}} for r in rules[:-1])
    rate = rules[-1]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {"limit": 2000, "aggregateKeyType": "IP"}
    assert len({r["priority"] for r in rules}) == len(rules)
    assert prod_plan.one(DISTRIBUTION).inputs["webAclId"] == acl.outputs["arn"]
    assert prod_plan.outputs["cdn"]["webAclArn"] == acl.outputs["arn"]


def test_the_web_acl_logs_to_an_encrypted_group_named_as_waf_requires(prod_plan: Plan) -> None:
    acl = prod_plan.named("cdn-waf", WEB_ACL)
    logging = prod_plan.named(
        "cdn-waf-logging", "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
    )
    group = prod_plan.named("cdn-waf-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == 365
    assert (
        group.inputs["kmsKeyId"]
        == prod_plan.named("cdn-waf-logs-key", "aws:kms/key:Key").outputs["arn"]
    )
    for resource in (logging, group):
        assert region_of(prod_plan, resource) == "us-east-1"
    redacted = [field["singleHeader"]["name"] for field in logging.inputs["redactedFields"]]
    assert redacted == ["authorization", "cookie"]


def test_the_web_acl_declares_the_rules_its_parts_price(plan: Plan) -> None:
    parts = CdnParts(stack_config(plan.stack).cdn)
    acls = [acl for acl in plan.of_type(WEB_ACL) if acl.inputs["scope"] == "CLOUDFRONT"]
    assert len(acls) == (0 if parts.waf is None else 1)
    for acl in acls:
        rules = sorted(acl.inputs["rules"], key=lambda rule: rule["priority"])
        assert tuple(rule["name"] for rule in rules) == parts.waf_rules


def test_dev_has_no_waf_unless_asked(dev_plan: Plan) -> None:
    assert dev_plan.of_type(WEB_ACL) == []  # neither the CDN's nor the ingress's
    assert "webAclId" not in dev_plan.one(DISTRIBUTION).inputs
    assert dev_plan.outputs["cdn"]["webAclArn"] is None
    plan = plan_with("dev", {CDN: {"waf": {"enabled": True}}, **LIFTED_BUDGET})
    assert (
        plan.one(DISTRIBUTION).inputs["webAclId"] == plan.named("cdn-waf", WEB_ACL).outputs["arn"]
    )


# --- outputs --------------------------------------------------------------------------------


def test_outputs_follow_the_shared_contract(plan: Plan) -> None:
    cdn = plan.outputs["cdn"]
    distribution = plan.one(DISTRIBUTION)
    assert cdn["distributionId"] == distribution.id
    assert cdn["domainName"] == distribution.outputs["domainName"]
    assert cdn["aliasDomain"] == DOMAINS[plan.stack]
    assert cdn["bucketName"] == f"genericcorp-{plan.stack}-cdn-assets-123456789012"
    assert cdn["certificateArn"] == plan.named("cdn-certificate", CERTIFICATE).outputs["arn"]
    assert {
        "distributionId",
        "domainName",
        "aliasDomain",
        "bucketName",
        "certificateArn",
        "webAclArn",
    } <= set(cdn)


# --- bad input ------------------------------------------------------------------------------


def rejected_cdn(environment: str, cdn: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, {CDN: cdn}))
    # The first problem is the CDN's own (an apex domain also clashes with the apex records).
    return caught.value.problems[0].render()


def test_prod_cdn_cannot_sit_in_the_delegated_dev_zone() -> None:
    line = rejected_cdn("prod", {"domain": "cdn.dev.genericcorp.com"})
    assert line.startswith(
        'genericcorp:cdn.domain = "cdn.dev.genericcorp.com": inside the delegated'
    )


@pytest.mark.parametrize(
    ("cdn", "path", "message"),
    [
        ({"priceClass": "PriceClass_300"}, "priceClass", "expected one of 'PriceClass_100'"),
        ({"domain": "cdn..genericcorp.com"}, "domain", "not a valid domain name"),
        ({"domain": "cdn.example.com"}, "domain", "must be a subdomain of the stack's DNS zone"),
        (
            {"domain": "dev.genericcorp.com"},
            "domain",
            "must be a subdomain of the stack's DNS zone",
        ),
        ({"defaultRootObject": "/index.html"}, "defaultRootObject", "String should match"),
        ({"waf": {"rateLimit": 10}}, "waf.rateLimit", "at least 100"),
        ({"noncurrentVersionDays": 0}, "noncurrentVersionDays", "at least 1"),
    ],
)
def test_bad_cdn_settings_are_refused(cdn: dict[str, Any], path: str, message: str) -> None:
    line = rejected_cdn("dev", cdn)
    assert line.startswith(f"genericcorp:cdn.{path} = ")
    assert message in line
