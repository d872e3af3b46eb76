"""Cdn: a CloudFront distribution in front of a private S3 bucket of static assets.

Creates:
- the assets bucket (in the stack's region): Block Public Access, bucket-owner-enforced ownership
  (no ACLs), default encryption with its own KMS key (bucket keys on, to cut KMS requests),
  versioning with expiry of noncurrent versions, server access logs to the log bucket, and a
  policy that denies requests without TLS and lets CloudFront read objects only on behalf of
  this distribution (origin access control, ``AWS:SourceArn``);
- the log bucket for CloudFront's access logs and the assets bucket's server access logs: Block
  Public Access, ACLs disabled (bucket owner enforced), TLS only, SSE-S3, versioning, expiry.
  SSE-S3 rather than KMS because S3 server access logs can only be delivered to SSE-S3 buckets.
  CloudFront delivers its access logs with standard logging v2 (CloudWatch Logs vended delivery:
  a delivery source for the distribution in us-east-1, a delivery destination for the bucket,
  and the delivery between them), which writes as the ``delivery.logs.amazonaws.com`` service
  under a bucket policy and needs no ACL, unlike the legacy ``logging_config``;
- an ACM certificate for the alias domain in us-east-1 (CloudFront reads certificates only
  there) validated by DNS records in the zone, so it renews automatically (FSBP ACM.1);
- an origin access control, a response-headers policy (HSTS, nosniff, frame options, referrer
  policy) and the distribution: HTTPS redirect, TLSv1.2_2021, SNI, HTTP/2 and HTTP/3, IPv6,
  compression, the managed CachingOptimized cache policy, a default root object and the
  configured price class. HSTS is sent without ``preload``: see ``HSTS_PRELOAD``;
- optionally a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) with AWS managed rule groups and a
  per-IP rate limit (FSBP CloudFront.6), logging to an encrypted CloudWatch log group in
  us-east-1 named ``aws-waf-logs-...`` (the only names WAF accepts), kept ``waf.logRetentionDays``;
- alias A and AAAA records for the domain in the zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    SettingsModel,
    policy_document,
    switched_on,
)
from components.cost import DAYS_PER_MONTH, CostLine, PriceCatalog, UsageSettings
from components.dns_zone import check_hostname
from components.kms_key import KmsKey, KmsSettings, service_statement
from components.shared.buckets import private_bucket
from components.shared.certificates import validated_by_dns
from components.shared.logs import LogRetentionDays
from components.shared.waf import WAF_RULES, WebAclSettings, web_acl_cost_lines, web_acl_with_logs
from components.shared.wiring import EDGE_REGION, Wiring

#: AWS's managed "CachingOptimized" cache policy: long TTLs, gzip and brotli, no cookies or
#: query strings in the cache key (right for static assets).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

#: The newest TLS policy CloudFront offers for all viewers with SNI (FSBP CloudFront.15).
MINIMUM_TLS_POLICY = "TLSv1.2_2021"


#: The FSBP control the log bucket cannot meet: S3.17 (S3 server access logs can only be
#: delivered to SSE-S3 buckets). ACLs are off (S3.12 holds): CloudFront delivers with logging v2.
LOG_BUCKET_EXCEPTIONS = "S3.17"
#: Where standard logging v2 writes (after the ``AWSLogs/<account>/CloudFront/`` prefix that
#: CloudFront's delivery always puts first).
CLOUDFRONT_LOG_SUFFIX = "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"
#: Size of one access-log line as delivered (uncompressed), for pricing the v2 delivery.
DELIVERED_LOG_BYTES_PER_REQUEST = 500

#: HSTS ``preload`` stays off. The preload list is keyed by registrable domain: it would have to
#: be requested for genericcorp.com, whose apex Vercel serves, and it would bind every name under
#: it (dev, demo, tenants' hosts, any future internal tool) to HTTPS in browsers' built-in lists,
#: a commitment that takes months to undo. On cdn.genericcorp.com alone the directive does
#: nothing. The header keeps a two-year max-age and includeSubDomains, which is what browsers
#: enforce after a first visit; docs/architecture.md ("CDN security headers") says the same.
HSTS_PRELOAD = False

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


class WafSettings(WebAclSettings):
    """The web ACL in front of the distribution (in us-east-1, where CloudFront's live)."""


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


@dataclass(frozen=True)
class CdnParts:
    """What a ``Cdn`` declares that costs money by existing, known from its settings alone: the
    assets key and, when WAF is on, the web ACL and its rules. ``Cdn`` declares these and
    ``cost_lines`` prices these; everything else the CDN costs follows from traffic (usage)."""

    settings: CdnSettings

    key_purpose: ClassVar[str] = "cdn-assets"
    """The assets bucket's key (the log bucket uses SSE-S3: see the module docstring)."""
    waf_log_key_purpose: ClassVar[str] = "cdn-waf-logs"
    """The key of the web ACL's log group (in ``EDGE_REGION``, where the group lives)."""

    @property
    def waf(self) -> WafSettings | None:
        """The web ACL's settings, or None when the distribution has no web ACL."""
        return self.settings.waf if self.settings.waf.enabled else None

    @property
    def waf_rules(self) -> tuple[str, ...]:
        """The web ACL's rules in evaluation order (their priorities): the managed rule groups,
        then the per-IP rate limit. Empty without a web ACL."""
        return () if self.waf is None else WAF_RULES

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of these parts and the traffic ``usage`` expects. The distribution,
        origin access control, response-headers policy and the ACM certificate are free; so is
        transfer from S3 to CloudFront."""
        settings = self.settings
        component = Cdn.COMPONENT
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
            CostLine.usage(
                component,
                "Access-log delivery (standard logging v2)",
                catalog.price(
                    "cloudwatch.logs.vended-to-s3", resource="aws:cloudwatch/logDelivery"
                ),
                None
                if requests is None
                else requests * 1e6 * DELIVERED_LOG_BYTES_PER_REQUEST / 1e9,
                note=f"about {DELIVERED_LOG_BYTES_PER_REQUEST} bytes per request as delivered",
            ),
            *KmsKey.cost_lines(component, catalog, purposes=[self.key_purpose]),
        ]
        if self.waf is not None:
            lines += web_acl_cost_lines(
                component,
                catalog,
                web_acl="aws:wafv2/webAcl:WebAcl",
                requests_millions=requests,
                requests_note="every CloudFront request, in millions",
                log_retention_days=self.waf.log_retention_days,
                key_purpose=self.waf_log_key_purpose,
            )
        return lines


class Cdn(PlatformComponent):
    """CloudFront + private S3 origin with a custom domain, TLS and optional WAF.

    Steps: the log bucket; the assets bucket; the certificate in ``EDGE_REGION``, validated in
    the zone; the web ACL in ``EDGE_REGION`` with its logging when ``parts`` asks; the
    distribution (origin access control, security headers); the assets key and encryption, which
    name the distribution; both buckets' policies; then, once the log bucket's policy admits
    them, the assets' server access logs and the distribution's access-log delivery; the alias
    records.
    ``wiring`` names, encrypts and places the edge resources.
    """

    TYPE: ClassVar[str] = "genericcorp:edge:Cdn"
    COMPONENT: ClassVar[str] = "cdn"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "distributionId": "CloudFront distribution id (for invalidations).",
        "domainName": "The distribution's own domain (*.cloudfront.net).",
        "aliasDomain": "The custom domain viewers use (A/AAAA aliases in the zone).",
        "bucketName": "The assets bucket: upload the static assets here.",
        "logBucketName": "Bucket of CloudFront's access logs and the assets' server access logs.",
        "certificateArn": "ACM certificate of the alias domain (in us-east-1).",
        "webAclArn": "WAF web ACL in front of the distribution (null without one).",
    }

    alias_domain: str
    """The custom domain viewers use: the application finds its assets there."""

    def __init__(
        self,
        name: str,
        parts: CdnParts,
        *,
        wiring: Wiring,
        zone_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        self.alias_domain = settings.domain
        logs = self._log_bucket(settings)
        assets = self._assets_bucket(settings)
        certificate_arn = self._certificate(zone_id, wiring.edge_provider)
        web_acl_arn = None if parts.waf is None else self._web_acl(parts, parts.waf, wiring)
        distribution = self._distribution(
            settings,
            assets=assets,
            certificate_arn=certificate_arn,
            web_acl_arn=web_acl_arn,
        )
        self._assets_encryption(parts, assets, distribution, wiring.kms)
        logs_policy = self._bucket_policies(assets, logs, distribution)
        self._access_logging(assets, logs, distribution, logs_policy, wiring)
        self._alias_records(zone_id, distribution)
        self.publish(
            {
                "distributionId": distribution.id,
                "domainName": distribution.domain_name,
                "aliasDomain": self.alias_domain,
                "bucketName": assets.bucket,
                "logBucketName": logs.bucket,
                "certificateArn": certificate_arn,
                "webAclArn": web_acl_arn,
            }
        )

    def _log_bucket(self, settings: CdnSettings) -> aws.s3.Bucket:
        """Where CloudFront's access logs and the assets bucket's server access logs go, ACLs
        off. Its baseline exception (module docstring) is named in a tag, so that a policy or
        an auditor can tell a decision from a mistake."""
        logs = self._bucket(
            "logs",
            settings,
            expire_days=settings.log_retention_days,
            SecurityExceptions=LOG_BUCKET_EXCEPTIONS,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-logs-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child_opts(),
        )
        return logs

    def _assets_bucket(self, settings: CdnSettings) -> aws.s3.Bucket:
        """The origin: no ACLs, old versions kept for rollback (its access is logged once the
        log bucket admits the logs: ``_access_logging``)."""
        return self._bucket("assets", settings, expire_days=None)

    def _bucket(
        self,
        role: str,
        settings: CdnSettings,
        *,
        expire_days: int | None,
        **tags: str,
    ) -> aws.s3.Bucket:
        """A private, versioned bucket without ACLs (protected in prod) whose noncurrent
        versions expire, and whose current objects do too when ``expire_days`` is set."""
        name = f"{self._name}-{role}"
        bucket = private_bucket(self, name, purpose=f"cdn-{role}", **tags)
        self._versioned(name, bucket, settings, expire_days=expire_days)
        return bucket

    def _versioned(
        self, name: str, bucket: aws.s3.Bucket, settings: CdnSettings, *, expire_days: int | None
    ) -> None:
        """Versioning, so that a bad upload can be rolled back, and a lifecycle that bounds
        what the versions cost."""
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

    def _certificate(
        self, zone_id: pulumi.Input[str], edge_provider: aws.Provider
    ) -> pulumi.Output[str]:
        """A certificate for the alias domain in ``EDGE_REGION`` (CloudFront reads certificates
        from there only), validated by a record in the zone so that ACM renews it by itself for
        as long as the record exists. Returns its ARN once validated: CloudFront refuses a
        certificate that is not issued yet."""
        certificate = aws.acm.Certificate(
            f"{self._name}-certificate",
            domain_name=self.alias_domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options={"certificate_transparency_logging_preference": "ENABLED"},
            tags=self.tags("cdn"),
            opts=self.child_opts(provider=edge_provider),
        )
        return validated_by_dns(
            self, self._name, certificate, zone_id=zone_id, provider=edge_provider
        )

    def _web_acl(self, parts: CdnParts, waf: WafSettings, wiring: Wiring) -> pulumi.Output[str]:
        """Managed rule groups and a per-IP rate limit (FSBP CloudFront.6). Web ACLs for
        CloudFront exist only in ``EDGE_REGION``."""
        web_acl, _ = web_acl_with_logs(
            self,
            self._name,
            metric_prefix=self.context.physical_name("cdn"),
            description="Managed rule groups and a per-IP rate limit for the CDN.",
            scope="CLOUDFRONT",
            rate_limit=waf.rate_limit,
            log_retention_days=waf.log_retention_days,
            kms=wiring.kms,
            key_purpose=parts.waf_log_key_purpose,
            key_description="encrypts the CDN's WAF logs",
            tag="cdn",
            provider=wiring.edge_provider,
            region=EDGE_REGION,
        )
        return web_acl.arn

    def _distribution(
        self,
        settings: CdnSettings,
        *,
        assets: aws.s3.Bucket,
        certificate_arn: pulumi.Output[str],
        web_acl_arn: pulumi.Output[str] | None,
    ) -> aws.cloudfront.Distribution:
        """HTTPS only with a modern TLS policy, cached with the managed CachingOptimized
        policy, reading the private bucket through origin access control, logging every
        request."""
        origin_id = "assets"
        return aws.cloudfront.Distribution(
            f"{self._name}-distribution",
            comment=f"{self.context.physical_name('cdn')}: static assets at {self.alias_domain}",
            enabled=True,
            aliases=[self.alias_domain],
            default_root_object=settings.default_root_object,
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=str(settings.price_class),
            origins=[
                {
                    "domain_name": assets.bucket_regional_domain_name,
                    "origin_id": origin_id,
                    "origin_access_control_id": self._origin_access_control().id,
                }
            ],
            default_cache_behavior={
                "target_origin_id": origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID,
                "response_headers_policy_id": self._security_headers().id,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MINIMUM_TLS_POLICY,
            },
            # Access logs go through standard logging v2 (``_access_logging``), not the legacy
            # logging_config, which needs ACLs on the bucket.
            web_acl_id=web_acl_arn,
            tags=self.tags("cdn"),
            opts=self.child_opts(),
        )

    def _origin_access_control(self) -> aws.cloudfront.OriginAccessControl:
        """CloudFront signs every request to the bucket, which admits no one else."""
        return aws.cloudfront.OriginAccessControl(
            f"{self._name}-oac",
            name=self.context.physical_name("cdn-assets"),
            description="CloudFront signs every request to the assets bucket (SigV4).",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self.child_opts(),
        )

    def _security_headers(self) -> aws.cloudfront.ResponseHeadersPolicy:
        """S3 sets none of these headers; CloudFront adds them to every response."""
        return aws.cloudfront.ResponseHeadersPolicy(
            f"{self._name}-security-headers",
            name=self.context.physical_name("cdn-security-headers"),
            comment="HSTS, nosniff, frame denial and a strict referrer policy on every response.",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": HSTS_MAX_AGE_SECONDS,
                    "include_subdomains": True,
                    "preload": HSTS_PRELOAD,
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

    def _assets_encryption(
        self,
        parts: CdnParts,
        assets: aws.s3.Bucket,
        distribution: aws.cloudfront.Distribution,
        kms: KmsSettings,
    ) -> None:
        """The assets' key, declared after the distribution so that its policy can name it
        exactly; the bucket's encryption is a resource of its own, so there is no cycle."""
        key = KmsKey.owned_by(
            self,
            f"{self._name}-assets-key",
            purpose=parts.key_purpose,
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
            f"{self._name}-assets-encryption",
            bucket=assets.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    # Bucket keys cut the KMS requests (and their cost) per object.
                    "bucket_key_enabled": True,
                }
            ],
            opts=self.child_opts(),
        )

    def _bucket_policies(
        self,
        assets: aws.s3.Bucket,
        logs: aws.s3.Bucket,
        distribution: aws.cloudfront.Distribution,
    ) -> aws.s3.BucketPolicy:
        """Both buckets refuse requests without TLS; the assets admit only this distribution's
        reads, the log bucket only S3's server access logs of the assets bucket and CloudWatch
        Logs' delivery of this account's CloudFront logs. Returns the log bucket's policy,
        which the log deliveries wait for."""
        self._bucket_policy(
            "assets",
            assets,
            {
                "Sid": "CloudFrontReadsForThisDistribution",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": pulumi.Output.concat(assets.arn, "/*"),
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution.arn}},
            },
        )
        account = self.context.account_id
        return self._bucket_policy(
            "logs",
            logs,
            {
                "Sid": "S3ServerAccessLogsOfTheAssetsBucket",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": pulumi.Output.concat(logs.arn, "/s3-access/*"),
                "Condition": {
                    "ArnLike": {"aws:SourceArn": assets.arn},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
            {
                "Sid": "CloudFrontStandardLoggingV2",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": pulumi.Output.concat(logs.arn, f"/AWSLogs/{account}/CloudFront/*"),
                "Condition": {
                    # The one ACL header S3 still accepts with ACLs disabled.
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceAccount": account,
                    },
                    "ArnLike": {
                        # CloudFront's delivery sources live in EDGE_REGION.
                        "aws:SourceArn": replace(self.context, region=EDGE_REGION).arn(
                            "logs", "delivery-source:*"
                        )
                    },
                },
            },
        )

    def _bucket_policy(
        self, role: str, bucket: aws.s3.Bucket, *allow: dict[str, Any]
    ) -> aws.s3.BucketPolicy:
        """TLS first, for everyone; then ``allow``, the services the bucket serves."""
        return aws.s3.BucketPolicy(
            f"{self._name}-{role}-policy",
            bucket=bucket.id,
            policy=policy_document([_deny_insecure_transport(bucket.arn), *allow]),
            opts=self.child_opts(),
        )

    def _access_logging(
        self,
        assets: aws.s3.Bucket,
        logs: aws.s3.Bucket,
        distribution: aws.cloudfront.Distribution,
        logs_policy: aws.s3.BucketPolicy,
        wiring: Wiring,
    ) -> None:
        """The assets' server access logs and the distribution's standard logging v2, both
        after the log bucket's policy: S3 and CloudWatch Logs check that they may write when
        logging is set up. CloudFront's delivery source exists only in ``EDGE_REGION``."""
        aws.s3.BucketLogging(
            f"{self._name}-assets-access-logs",
            bucket=assets.id,
            target_bucket=logs.id,
            target_prefix="s3-access/",
            opts=self.child_opts(depends_on=[logs_policy]),
        )
        at_edge = self.child_opts(provider=wiring.edge_provider)
        source = aws.cloudwatch.LogDeliverySource(
            f"{self._name}-access-log-source",
            name=self.context.physical_name("cdn-access-logs"),
            log_type="ACCESS_LOGS",
            resource_arn=distribution.arn,
            tags=self.tags("cdn-access-logs"),
            opts=at_edge,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{self._name}-access-log-destination",
            name=self.context.physical_name("cdn-access-logs"),
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": logs.arn},
            tags=self.tags("cdn-access-logs"),
            opts=at_edge,
        )
        aws.cloudwatch.LogDelivery(
            f"{self._name}-access-log-delivery",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            s3_delivery_configurations=[
                {"suffix_path": CLOUDFRONT_LOG_SUFFIX, "enable_hive_compatible_path": False}
            ],
            tags=self.tags("cdn-access-logs"),
            opts=self.child_opts(provider=wiring.edge_provider, depends_on=[logs_policy]),
        )

    def _alias_records(
        self, zone_id: pulumi.Input[str], distribution: aws.cloudfront.Distribution
    ) -> None:
        """A and AAAA aliases: the distribution serves IPv6 too, and alias queries are free."""
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{self._name}-alias-{record_type}",
                zone_id=zone_id,
                name=self.alias_domain,
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


def _deny_insecure_transport(bucket_arn: pulumi.Output[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


# Defaults per environment and prod rules


def _cdn(
    *,
    domain: str,
    price_class: PriceClass,
    noncurrent_version_days: int,
    log_retention_days: int,
    waf_enabled: bool,
    waf_log_retention_days: LogRetentionDays,
) -> CdnSettings:
    """What dev and prod share: the root object and the WAF's rate limit."""
    return CdnSettings(
        domain=domain,
        price_class=price_class,
        default_root_object="index.html",
        noncurrent_version_days=noncurrent_version_days,
        log_retention_days=log_retention_days,
        waf=WafSettings(
            enabled=waf_enabled, rate_limit=2000, log_retention_days=waf_log_retention_days
        ),
    )


CDN_DEFAULTS = ByEnvironment(
    dev=_cdn(
        domain="cdn.dev.genericcorp.com",
        # The cheapest class (North America, Europe, Israel): dev is used from the office.
        price_class=PriceClass.PRICE_CLASS_100,
        noncurrent_version_days=7,
        log_retention_days=30,
        # Off: a web ACL costs $5/month plus $1 per rule, more than a dev CDN serves.
        waf_enabled=False,
        waf_log_retention_days=30,
    ),
    prod=_cdn(
        domain="cdn.genericcorp.com",
        # Every edge location: customers are worldwide and latency is the CDN's purpose.
        price_class=PriceClass.PRICE_CLASS_ALL,
        noncurrent_version_days=30,
        log_retention_days=365,
        waf_enabled=True,
        # A year, like every audit log of prod: the record of blocked attacks.
        waf_log_retention_days=365,
    ),
)

CDN_PROD_RULES = (
    switched_on(
        CdnSettings,
        key=lambda s: s.waf.enabled,
        reason="the public CDN sits behind a web application firewall (FSBP CloudFront.6)",
        policy="cloudfront-6-waf",
    ),
)
