"""Cdn: a CloudFront distribution in front of a private S3 bucket of static assets.

Creates:
- the assets bucket (in the stack's region): Block Public Access, bucket-owner-enforced ownership
  (no ACLs), default encryption with its own KMS key (bucket keys on, to cut KMS requests),
  versioning with expiry of noncurrent versions, server access logs to the log bucket, and a
  policy that denies requests without TLS and lets CloudFront read objects only on behalf of
  this distribution (origin access control, ``AWS:SourceArn``);
- the log bucket for CloudFront's standard access logs and the assets bucket's server access
  logs: Block Public Access, TLS only, SSE-S3, versioning, expiry. It is the one bucket with ACLs
  enabled (``BucketOwnerPreferred``): CloudFront's standard logging writes log files through an
  ACL grant and fails against a bucket whose ACLs are disabled. SSE-S3 rather than KMS because
  S3 server access logs can only be delivered to SSE-S3 buckets;
- an ACM certificate for the alias domain in us-east-1 (CloudFront reads certificates only
  there) validated by DNS records in the zone, so it renews automatically (FSBP ACM.1);
- an origin access control, a response-headers policy (HSTS, nosniff, frame options, referrer
  policy) and the distribution: HTTPS redirect, TLSv1.2_2021, SNI, HTTP/2 and HTTP/3, IPv6,
  compression, the managed CachingOptimized cache policy, a default root object, standard
  logging and the configured price class;
- optionally a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) with AWS managed rule groups and a
  per-IP rate limit (FSBP CloudFront.6);
- alias A and AAAA records for the domain in the zone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import PlatformComponent, SettingsModel, StackContext, policy_document
from components.cost import DAYS_PER_MONTH, CostLine, PriceCatalog, UsageSettings
from components.dns_zone import check_hostname
from components.kms_key import KmsKey, KmsSettings, service_statement

#: AWS's managed "CachingOptimized" cache policy: long TTLs, gzip and brotli, no cookies or
#: query strings in the cache key (right for static assets).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

#: The newest TLS policy CloudFront offers for all viewers with SNI (FSBP CloudFront.15).
MINIMUM_TLS_POLICY = "TLSv1.2_2021"

#: AWS managed rule groups in the web ACL, in evaluation order (each costs $1/month).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)

#: FSBP controls the log bucket cannot meet: S3.12 (CloudFront standard logging writes through
#: ACLs) and S3.17 (S3 server access logs can only be delivered to SSE-S3 buckets).
LOG_BUCKET_EXCEPTIONS = "S3.12 S3.17"

#: HSTS lifetime: two years, the value browsers' preload lists expect.
HSTS_MAX_AGE_SECONDS = 63_072_000

#: Share of viewer requests CloudFront passes to the S3 origin (cache misses), for pricing S3
#: GET requests: a planning figure for static assets under CachingOptimized (a day's default
#: TTL); CloudFront's cache statistics give the real one.
CACHE_MISS_SHARE = 0.1
#: Size of one access-log line once CloudFront has gzipped the log file (about 500 bytes
#: uncompressed): an estimate for pricing the log bucket.
ACCESS_LOG_BYTES_PER_REQUEST = 100


class PriceClass(StrEnum):
    """CloudFront price classes: which edge locations serve the distribution."""

    PRICE_CLASS_100 = "PriceClass_100"
    """North America, Europe and Israel: the cheapest."""
    PRICE_CLASS_200 = "PriceClass_200"
    """Adds most of Asia, the Middle East and Africa."""
    PRICE_CLASS_ALL = "PriceClass_All"
    """Every edge location: the fastest everywhere, the most expensive."""


class WafSettings(SettingsModel):
    """The WAFv2 web ACL in front of the distribution."""

    enabled: bool = Field(
        description="Attach a web ACL with AWS managed rules and a rate limit ($5/month plus "
        "$1 per rule and $0.60 per million requests)."
    )
    rate_limit: int = Field(
        ge=100,
        le=2_000_000_000,
        description="Requests one IP may make in 5 minutes before it is blocked.",
    )


class CdnSettings(SettingsModel):
    """The static-asset CDN."""

    domain: str = Field(
        description="Custom domain of the distribution, inside the stack's DNS zone (e.g. "
        "cdn.genericcorp.com)."
    )
    price_class: PriceClass = Field(
        description="CloudFront price class: PriceClass_100, PriceClass_200 or PriceClass_All."
    )
    default_root_object: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@/-]*$",
        description="Object served for the domain's root URL (no leading slash).",
    )
    noncurrent_version_days: int = Field(
        ge=1,
        le=3650,
        description="Days a replaced or deleted asset version is kept (for rollback) before it "
        "expires.",
    )
    log_retention_days: int = Field(
        ge=1, le=3650, description="Days access logs are kept in the log bucket."
    )
    waf: WafSettings = Field(description="Web application firewall.")

    @field_validator("domain")
    @classmethod
    def _domain(cls, domain: str) -> str:
        return check_hostname(domain)


class Cdn(PlatformComponent):
    """CloudFront + private S3 origin with a custom domain, TLS and optional WAF."""

    distribution_id: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    alias_domain: str
    bucket_name: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        settings: CdnSettings,
        *,
        zone_id: pulumi.Input[str],
        kms: KmsSettings,
        context: StackContext,
        us_east_1: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "genericcorp:edge:Cdn", name, context=context, component_tag="cdn", opts=opts
        )
        self.alias_domain = settings.domain
        stateful = self.child_opts(protect=context.is_prod)

        logs = aws.s3.Bucket(
            f"{name}-logs",
            bucket=context.physical_name("cdn-logs", context.account_id),
            force_destroy=False,
            # The two baseline controls this bucket deliberately does not meet (module docstring),
            # named so that a policy or an auditor can tell a decision from a mistake.
            tags=self.tags("cdn-logs", SecurityExceptions=LOG_BUCKET_EXCEPTIONS),
            opts=stateful,
        )
        self._private(f"{name}-logs", logs)
        log_acls = aws.s3.BucketOwnershipControls(
            f"{name}-logs-ownership",
            bucket=logs.id,
            # CloudFront standard logging delivers through an ACL grant (see module docstring).
            rule={"object_ownership": "BucketOwnerPreferred"},
            opts=self.child_opts(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child_opts(),
        )
        self._versioned(f"{name}-logs", logs, settings, expire_days=settings.log_retention_days)

        assets = aws.s3.Bucket(
            f"{name}-assets",
            bucket=context.physical_name("cdn-assets", context.account_id),
            force_destroy=False,
            tags=self.tags("cdn-assets"),
            opts=stateful,
        )
        self._private(f"{name}-assets", assets)
        aws.s3.BucketOwnershipControls(
            f"{name}-assets-ownership",
            bucket=assets.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self.child_opts(),
        )
        self._versioned(f"{name}-assets", assets, settings, expire_days=None)
        aws.s3.BucketLogging(
            f"{name}-assets-access-logs",
            bucket=assets.id,
            target_bucket=logs.id,
            target_prefix="s3-access/",
            opts=self.child_opts(),
        )

        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=settings.domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options={"certificate_transparency_logging_preference": "ENABLED"},
            tags=self.tags("cdn"),
            # CloudFront reads certificates from us-east-1 only, whatever the stack's region.
            opts=self.child_opts(provider=us_east_1),
        )
        # One domain, so one validation record; ACM renews through it for as long as it exists.
        validation_option = certificate.domain_validation_options.apply(lambda options: options[0])
        validation_record = aws.route53.Record(
            f"{name}-certificate-validation-record",
            zone_id=zone_id,
            name=validation_option.resource_record_name,
            type=validation_option.resource_record_type,
            records=[validation_option.resource_record_value],
            ttl=300,
            # The same CNAME validates a re-created certificate for the same domain.
            allow_overwrite=True,
            opts=self.child_opts(),
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=self.child_opts(provider=us_east_1),
        )

        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=context.physical_name("cdn-assets"),
            description="CloudFront signs every request to the assets bucket (SigV4).",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self.child_opts(),
        )
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            name=context.physical_name("cdn-security-headers"),
            comment="HSTS, nosniff, frame denial and a strict referrer policy on every response.",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": HSTS_MAX_AGE_SECONDS,
                    "include_subdomains": True,
                    "preload": False,
                    "override": True,
                },
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "DENY", "override": True},
                "referrer_policy": {
                    "referrer_policy": "strict-origin-when-cross-origin",
                    "override": True,
                },
            },
            opts=self.child_opts(),
        )
        self.web_acl_arn = (
            self._web_acl(name, settings.waf, us_east_1) if settings.waf.enabled else None
        )

        origin_id = "assets"
        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            comment=f"{context.physical_name('cdn')}: static assets at {settings.domain}",
            enabled=True,
            aliases=[settings.domain],
            default_root_object=settings.default_root_object,
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=str(settings.price_class),
            origins=[
                {
                    "domain_name": assets.bucket_regional_domain_name,
                    "origin_id": origin_id,
                    "origin_access_control_id": access_control.id,
                }
            ],
            default_cache_behavior={
                "target_origin_id": origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID,
                "response_headers_policy_id": headers.id,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={
                "acm_certificate_arn": validation.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MINIMUM_TLS_POLICY,
            },
            logging_config={
                "bucket": logs.bucket_domain_name,
                "prefix": "cloudfront/",
                "include_cookies": False,
            },
            web_acl_id=self.web_acl_arn,
            tags=self.tags("cdn"),
            # CloudFront grants its log delivery access through an ACL when logging is set up.
            opts=self.child_opts(depends_on=[log_acls]),
        )

        # The key is created after the distribution so that its policy can name it exactly.
        key = KmsKey.owned_by(
            self,
            f"{name}-assets-key",
            purpose="cdn-assets",
            description="encrypts the CDN assets bucket",
            settings=kms,
            service_statements=[
                service_statement(
                    "CloudFrontDecryptsForThisDistribution",
                    "cloudfront.amazonaws.com",
                    actions=("kms:Decrypt",),
                    condition={"StringEquals": {"AWS:SourceArn": distribution.arn}},
                )
            ],
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-assets-encryption",
            bucket=assets.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self.child_opts(),
        )
        aws.s3.BucketPolicy(
            f"{name}-assets-policy",
            bucket=assets.id,
            policy=policy_document(
                [
                    _deny_insecure_transport(assets.arn),
                    {
                        "Sid": "CloudFrontReadsForThisDistribution",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": pulumi.Output.concat(assets.arn, "/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": distribution.arn}},
                    },
                ]
            ),
            opts=self.child_opts(),
        )
        aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=logs.id,
            policy=policy_document(
                [
                    _deny_insecure_transport(logs.arn),
                    {
                        "Sid": "S3ServerAccessLogsOfTheAssetsBucket",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": pulumi.Output.concat(logs.arn, "/s3-access/*"),
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": assets.arn},
                            "StringEquals": {"aws:SourceAccount": context.account_id},
                        },
                    },
                ]
            ),
            opts=self.child_opts(),
        )

        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{name}-alias-{record_type}",
                zone_id=zone_id,
                name=settings.domain,
                type=record_type,
                aliases=[
                    {
                        "name": distribution.domain_name,
                        "zone_id": distribution.hosted_zone_id,
                        "evaluate_target_health": False,
                    }
                ],
                opts=self.child_opts(),
            )

        self.distribution_id = distribution.id
        self.domain_name = distribution.domain_name
        self.bucket_name = assets.bucket
        self.log_bucket_name = logs.bucket
        self.certificate_arn = validation.certificate_arn
        self.register_outputs(
            {
                "distributionId": self.distribution_id,
                "domainName": self.domain_name,
                "aliasDomain": self.alias_domain,
                "bucketName": self.bucket_name,
                "logBucketName": self.log_bucket_name,
                "certificateArn": self.certificate_arn,
                "webAclArn": self.web_acl_arn,
            }
        )

    @classmethod
    def cost_lines(
        cls, settings: CdnSettings, catalog: PriceCatalog, usage: UsageSettings
    ) -> list[CostLine]:
        """Monthly cost of what ``settings`` declares and the traffic ``usage`` expects. The
        distribution, origin access control, response-headers policy and the ACM certificate
        are free; so is transfer from S3 to CloudFront."""
        component = "cdn"
        distribution = "aws:cloudfront/distribution:Distribution"
        requests = usage.cdn_requests_millions
        log_gb = None if requests is None else requests * 1e6 * ACCESS_LOG_BYTES_PER_REQUEST / 1e9
        lines = [
            CostLine.usage(
                component,
                "CloudFront data out",
                catalog.price("cloudfront.transfer-out.us-first-10tb", resource=distribution),
                usage.cdn_transfer_out_gb,
                note=f"{settings.price_class} at the US/Europe rate (other edges cost more), "
                "before CloudFront's free 1 TB a month",
            ),
            CostLine.usage(
                component,
                "CloudFront HTTPS requests",
                catalog.price("cloudfront.requests.https", resource=distribution),
                None if requests is None else requests * 100,
                note=f"{requests} million, before CloudFront's free 10 million a month",
            ),
            CostLine.usage(
                component,
                "S3 asset storage",
                catalog.price("s3.standard-storage", resource="aws:s3/bucket:Bucket"),
                usage.s3_storage_gb,
                note=f"including versions kept {settings.noncurrent_version_days} days",
            ),
            CostLine.usage(
                component,
                "S3 GET requests from CloudFront",
                catalog.price("s3.requests.get", resource="aws:s3/bucket:Bucket"),
                None if requests is None else requests * 1000 * CACHE_MISS_SHARE,
                note=f"{CACHE_MISS_SHARE:.0%} of requests miss the cache (a planning figure)",
            ),
            CostLine.usage(
                component,
                "Access-log storage",
                catalog.price("s3.standard-storage", resource="the CDN log bucket"),
                None if log_gb is None else log_gb * settings.log_retention_days / DAYS_PER_MONTH,
                note=f"about {ACCESS_LOG_BYTES_PER_REQUEST} bytes per request gzipped, kept "
                f"{settings.log_retention_days} days",
            ),
            *KmsKey.cost_lines(component, catalog, purposes=["cdn-assets"]),
        ]
        waf = settings.waf
        if waf.enabled:
            web_acl = "aws:wafv2/webAcl:WebAcl"
            # The managed groups used here are in WAF's base price (no subscription or extra
            # per-request fee) and stay below 1,500 WCUs, beyond which requests cost more.
            lines += [
                CostLine.fixed(
                    component, "WAF web ACL", catalog.price("waf.web-acl", resource=web_acl), 1
                ),
                CostLine.fixed(
                    component,
                    "WAF rules",
                    catalog.price("waf.rule", resource=web_acl),
                    len(MANAGED_RULE_GROUPS) + 1,
                    note=f"{len(MANAGED_RULE_GROUPS)} managed rule groups and the rate limit",
                ),
                CostLine.usage(
                    component,
                    "WAF requests",
                    catalog.price("waf.requests", resource=web_acl),
                    requests,
                    note="every CloudFront request, in millions",
                ),
            ]
        return lines

    def _private(self, name: str, bucket: aws.s3.Bucket) -> None:
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child_opts(),
        )

    def _versioned(
        self, name: str, bucket: aws.s3.Bucket, settings: CdnSettings, *, expire_days: int | None
    ) -> None:
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=self.child_opts(),
        )
        rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": settings.noncurrent_version_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
        if expire_days is not None:
            rule["expiration"] = {"days": expire_days}
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[rule],
            # A lifecycle on an unversioned bucket would not see noncurrent versions yet.
            opts=self.child_opts(depends_on=[versioning]),
        )

    def _web_acl(
        self, name: str, settings: WafSettings, us_east_1: aws.Provider
    ) -> pulumi.Output[str]:
        metric_prefix = self.context.physical_name("cdn")
        rules: list[aws.wafv2.WebAclRuleArgsDict] = [
            {
                "name": group,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}
                },
                "visibility_config": _visibility(f"{metric_prefix}-{group}"),
            }
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            {
                "name": "rate-limit-per-ip",
                "priority": len(MANAGED_RULE_GROUPS),
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "limit": settings.rate_limit,
                        "aggregate_key_type": "IP",
                    }
                },
                "visibility_config": _visibility(f"{metric_prefix}-rate-limit"),
            }
        )
        web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=self.context.physical_name("cdn"),
            description="Managed rule groups and a per-IP rate limit for the CDN.",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=_visibility(metric_prefix),
            tags=self.tags("cdn-waf"),
            # Web ACLs for CloudFront exist only in us-east-1.
            opts=self.child_opts(provider=us_east_1),
        )
        return web_acl.arn


def _visibility(metric_name: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric_name,
        "sampled_requests_enabled": True,
    }


def _deny_insecure_transport(bucket_arn: pulumi.Output[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
