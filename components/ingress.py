"""Ingress: the one internet-facing load balancer every tenant is reached through, declared.

The AWS Load Balancer Controller creates the ALB at run time; this component declares what it
builds it from, so that no tenant decides how customers reach the platform:
- ``IngressClassParams`` (``elbv2.k8s.aws/v1beta1``): one load balancer group for every Ingress of
  the class, internet-facing in the public subnets (by id), the certificate (so every Ingress of
  the class listens on HTTPS 443, not HTTP 80 alone), a TLS 1.3/1.2 security policy, the
  idle timeout (long enough for server-sent events), access logs to the access-log bucket,
  invalid header fields dropped, deletion protection in prod, and the project's tags;
- ``IngressClass`` ``INGRESS_CLASS``, the cluster's default, bound to those parameters (the
  controller chart's own ``alb`` class is switched off, so there is no second door);
- the group's anchor Ingress in the ``ingress`` namespace: the listeners (HTTP 80 and HTTPS
  443), HTTP redirected to HTTPS for every host of the group, the certificate, the web ACL, and a
  fixed 404 for hosts no tenant serves. These settings are group-wide in the controller (one
  Ingress sets them for all), so the platform sets them and tenants may not;
- a regional ACM certificate for ``*.<appsDomain>`` validated in the stack's zone, and a CAA
  record at the apps domain that lets Amazon issue that one wildcard (the zone's apex CAA
  forbids wildcards everywhere else). An ACM key never leaves ACM and the ALB, so the usual
  argument against wildcards (one key copied to many servers) does not apply, and onboarding a
  tenant neither re-issues the certificate nor runs into ACM's 10-names-per-certificate quota;
- the access-log bucket: Block Public Access, ACLs disabled (bucket owner enforced), SSE-S3
  (Elastic Load Balancing writes access logs only to SSE-S3 buckets; it cannot use a KMS key),
  versioning, expiry, TLS-only, and a policy that admits Elastic Load Balancing's log delivery
  for this account's load balancers under one prefix;
- in prod (``waf.enabled``), a regional WAFv2 web ACL with AWS managed rule groups and a per-IP
  rate limit, logging to an encrypted CloudWatch log group named ``aws-waf-logs-...`` (the only
  names WAF accepts) with a retention, ``authorization`` and ``cookie`` headers redacted;
- external-dns (Helm chart, ``CHARTS["external-dns"]``) with an IRSA role that may change only
  A, AAAA and TXT records named below the apps domain in the stack's zone: it writes each
  tenant's alias record from its Ingress and a TXT ownership record beside it, and can never
  touch the apex, ``www``, ``demo`` (Vercel), the CDN's alias or the CAA records;
- a ``ValidatingAdmissionPolicy`` and its binding: in a tenant namespace an Ingress must use
  ``INGRESS_CLASS``, name only the tenant's own host, set no default backend, and leave the
  group, the listeners and the DNS annotations alone (``ADMISSION_RULES``).

Why in the cluster and not in the policy pack: tenants' Ingresses are created by the tenants'
deploys (kubectl, Helm, GitOps), never by this Pulumi program, so a policy pack, which sees only
what a stack declares, would never see them. The API server's admission runs for every writer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    StackContext,
    policy_document,
    switched_on,
)
from components.cost import DAYS_PER_MONTH, CostLine, PriceCatalog, UsageSettings
from components.dns_zone import check_hostname
from components.kubernetes_platform import CHARTS, spread_and_budget
from components.shared.buckets import private_bucket
from components.shared.certificates import validated_by_dns
from components.shared.iam import OidcIdentity, service_account_role
from components.shared.logs import LogRetentionDays
from components.shared.waf import WAF_RULES, WebAclSettings, web_acl_cost_lines, web_acl_with_logs
from components.shared.wiring import Wiring

#: The IngressClass every tenant Ingress uses: the cluster's default.
INGRESS_CLASS = "shared-alb"
#: The controller that serves it (the AWS Load Balancer Controller's ALB controller name).
INGRESS_CONTROLLER = "ingress.k8s.aws/alb"
#: The namespace of the group's anchor Ingress (platform-owned, not a tenant's).
INGRESS_NAMESPACE = "ingress"
#: The label tenant namespaces carry (components/tenants.py); its value is the tenant's name.
TENANT_LABEL = "genericcorp.com/tenant"
#: The tag the load balancer carries (through ``IngressClassParams``): how ``infractl verify``
#: finds it among the account's load balancers.
GROUP_TAG = "genericcorp.com/ingress-group"
#: Where the ALB writes its access logs in the bucket.
ACCESS_LOG_PREFIX = "alb"
#: The ALB annotations prefix; tenants may set only ``TENANT_ALB_ANNOTATIONS`` under it.
ALB_ANNOTATION = "alb.ingress.kubernetes.io/"
#: Per-target-group settings, which affect only the tenant's own targets. Everything else under
#: ``ALB_ANNOTATION`` is either group-wide (listeners, certificates, web ACL, scheme, subnets,
#: attributes: one tenant's value would conflict with the platform's and stop the whole group
#: from reconciling) or could route other hosts (``conditions.*``, ``actions.*``).
TENANT_ALB_ANNOTATIONS = tuple(
    ALB_ANNOTATION + key
    for key in (
        "target-type",
        "backend-protocol",
        "backend-protocol-version",
        "healthcheck-path",
        "healthcheck-port",
        "healthcheck-protocol",
        "healthcheck-interval-seconds",
        "healthcheck-timeout-seconds",
        "healthy-threshold-count",
        "unhealthy-threshold-count",
        "success-codes",
        "target-group-attributes",
    )
)

#: Elastic Load Balancing's log-delivery accounts of the regions that predate August 2022; a
#: region launched since then delivers as the ``logdelivery.elasticloadbalancing.amazonaws.com``
#: service principal instead. Source: Elastic Load Balancing User Guide for ALBs, "Enable access
#: logs", step 2 (bucket policy), as of 2026-11.
ELB_LOG_DELIVERY_ACCOUNTS: Mapping[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-central-1": "054676820928",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
}
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

#: Size of one ALB access-log line once gzipped (about 600 bytes uncompressed): an estimate.
ACCESS_LOG_BYTES_PER_REQUEST = 100

#: The records external-dns may write: an alias A/AAAA record per host and its TXT ownership
#: records (``txtOwnerId``). No CNAME, so it cannot shadow another name.
EXTERNAL_DNS_RECORD_TYPES = ("A", "AAAA", "TXT")
#: external-dns's requests: a single replica that lists Ingresses and the zone every minute.
EXTERNAL_DNS_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"memory": "128Mi"},
}


class SslPolicy(StrEnum):
    """ALB security policies of TLS 1.3 and 1.2 with forward secrecy only (FSBP ELB.17)."""

    TLS13_12 = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS 1.3 and 1.2, AWS's recommended policy."""
    TLS13_12_RESTRICTED = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    """TLS 1.3 and 1.2 with the GCM ciphers only."""
    TLS13_ONLY = "ELBSecurityPolicy-TLS13-1-3-2021-06"
    """TLS 1.3 only: older clients cannot connect."""


class IngressWafSettings(WebAclSettings):
    """The regional web ACL in front of the load balancer."""

    fail_open: bool = Field(
        description="Let the load balancer route requests when it cannot reach AWS WAF (the "
        "ALB attribute waf.fail_open.enabled). On: a WAF outage leaves the API serving, "
        "unfiltered, for its duration. Off: the web ACL joins the API's availability in series "
        "(WAF's SLA is 99.95%), which takes prod's api path below its 99.9% target."
    )


class IngressSettings(SettingsModel):
    """The shared ingress: one load balancer for every tenant, its hostnames and firewall."""

    apps_domain: str = Field(
        description="Domain under which each tenant is reached as <tenant>.<appsDomain>; a "
        "subdomain of the stack's zone (e.g. app.genericcorp.com)."
    )
    idle_timeout_seconds: int = Field(
        ge=1,
        le=4000,
        description="Seconds the load balancer keeps an idle connection open (1-4000, the ALB's "
        "range). Server-sent event streams must send something (a comment line) more often "
        "than this, or the load balancer closes them.",
    )
    ssl_policy: SslPolicy = Field(
        description="TLS security policy of the HTTPS listener: "
        + ", ".join(str(policy) for policy in SslPolicy)
        + "."
    )
    access_log_retention_days: int = Field(
        ge=1, le=3650, description="Days the load balancer's access logs are kept."
    )
    deletion_protection: bool = Field(
        description="Refuse deleting the load balancer (an Ingress change cannot remove it)."
    )
    waf: IngressWafSettings = Field(description="Regional web application firewall.")

    @field_validator("apps_domain")
    @classmethod
    def _apps_domain(cls, domain: str) -> str:
        return check_hostname(domain)


def tenant_hostname(tenant: str, apps_domain: str) -> str:
    """The one hostname a tenant is reached at."""
    return f"{tenant}.{apps_domain}"


@dataclass(frozen=True)
class IngressParts:
    """What ``Ingress`` declares that costs money, known from its settings alone: the regional
    web ACL with its rules, logs and key when WAF is on, and the access-log bucket. The ALB
    itself (hours, LCUs, public addresses) is priced by ``KubernetesPlatformParts``, whose
    controller creates it; certificates from ACM are free."""

    settings: IngressSettings
    tenants: tuple[str, ...] = ()
    """The tenants' names, whose hostnames the load balancer serves."""

    waf_log_key_purpose: ClassVar[str] = "ingress-waf-logs"

    @property
    def hostnames(self) -> dict[str, str]:
        """Each tenant's hostname, by tenant name."""
        return {name: tenant_hostname(name, self.settings.apps_domain) for name in self.tenants}

    @property
    def certificate_domain(self) -> str:
        return f"*.{self.settings.apps_domain}"

    @property
    def waf(self) -> IngressWafSettings | None:
        return self.settings.waf if self.settings.waf.enabled else None

    @property
    def waf_rules(self) -> tuple[str, ...]:
        """The web ACL's rules in evaluation order; empty without a web ACL."""
        return () if self.waf is None else WAF_RULES

    @property
    def load_balancer_attributes(self) -> dict[str, str]:
        """The ALB attributes ``IngressClassParams`` sets, less the bucket name (known once the
        bucket exists): the idle timeout, access logs, invalid headers dropped, deletion
        protection."""
        settings = self.settings
        return {
            "idle_timeout.timeout_seconds": str(settings.idle_timeout_seconds),
            "access_logs.s3.enabled": "true",
            "access_logs.s3.prefix": ACCESS_LOG_PREFIX,
            # FSBP ELB.4: a header the ALB cannot parse is dropped, not passed to the pods.
            "routing.http.drop_invalid_header_fields.enabled": "true",
            "deletion_protection.enabled": str(settings.deletion_protection).lower(),
        } | ({} if self.waf is None else {"waf.fail_open.enabled": str(self.waf.fail_open).lower()})

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of the web ACL (with its logs and key) and of the access logs."""
        component = Ingress.COMPONENT
        settings = self.settings
        requests = usage.ingress_requests_millions
        access_gb = (
            None if requests is None else requests * 1e6 * ACCESS_LOG_BYTES_PER_REQUEST / 1e9
        )
        lines = [
            CostLine.usage(
                component,
                "Access-log storage",
                catalog.price("s3.standard-storage", resource="the ALB access-log bucket"),
                None
                if access_gb is None
                else access_gb * settings.access_log_retention_days / DAYS_PER_MONTH,
                note=f"about {ACCESS_LOG_BYTES_PER_REQUEST} bytes per request gzipped, kept "
                f"{settings.access_log_retention_days} days; delivery by ELB is free",
            ),
            CostLine.usage(
                component,
                "Tenant hostname queries",
                catalog.price("route53.alias-queries", resource="external-dns's alias records"),
                usage.dns_queries_millions,
                note="of the zone's queries (usage.dnsQueriesMillions), those for tenants' "
                "hostnames are alias queries to the ALB, which Route 53 answers free; "
                "external-dns's Route 53 API calls are free too",
            ),
        ]
        if self.waf is None:
            return lines
        return lines + web_acl_cost_lines(
            component,
            catalog,
            web_acl="aws:wafv2/webAcl:WebAcl (REGIONAL)",
            requests_millions=requests,
            requests_note="every request to the load balancer, in millions",
            log_retention_days=self.waf.log_retention_days,
            key_purpose=self.waf_log_key_purpose,
        )


@dataclass(frozen=True)
class IngressCluster:
    """What the ingress needs of the cluster: its provider, identity and the controller."""

    provider: k8s.Provider
    oidc: OidcIdentity
    cluster_name: pulumi.Input[str]
    load_balancer_controller: pulumi.Resource
    """The controller's release: its CRDs (IngressClassParams) and Service webhook come with it."""
    ready: Sequence[pulumi.Resource]
    """Nodes, DNS and volumes, which every workload waits for."""


class Ingress(PlatformComponent):
    """The shared load balancer's parameters, class, certificate, logs, firewall and DNS.

    Steps: the access-log bucket; the certificate (validated in the zone) and the apps domain's
    CAA record; the web ACL with its logging when ``parts`` asks; in the cluster, the
    parameters, the class, the anchor Ingress, the admission policy; external-dns with its role.
    """

    TYPE: ClassVar[str] = "genericcorp:platform:Ingress"
    COMPONENT: ClassVar[str] = "ingress"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "ingressClass": "The IngressClass tenant Ingresses use (the cluster's default).",
        "groupName": "The load balancer group every Ingress of the class joins (one ALB).",
        "appsDomain": "Tenants are reached at <tenant>.<appsDomain>.",
        "tenantHostnames": "Each tenant's hostname, by tenant name.",
        "certificateArn": "Regional ACM certificate of *.<appsDomain>, validated in the zone.",
        "accessLogBucket": "Bucket of the load balancer's access logs (prefix alb/).",
        "webAclArn": "Regional WAF web ACL of the load balancer (null without one).",
        "wafLogGroup": "CloudWatch log group of the web ACL's logs (null without one).",
        "idleTimeoutSeconds": "The load balancer's idle timeout (event streams must beat it).",
    }

    def __init__(
        self,
        name: str,
        parts: IngressParts,
        *,
        wiring: Wiring,
        zone_id: pulumi.Input[str],
        public_subnet_ids: pulumi.Input[Sequence[str]],
        cluster: IngressCluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        self.group_name = self.context.physical_name("ingress")
        logs = self._access_log_bucket(settings)
        certificate_arn = self._certificate(parts, zone_id)
        waf = None if parts.waf is None else self._web_acl(parts, parts.waf, wiring)
        in_cluster = self.child_opts(
            provider=cluster.provider,
            depends_on=[*cluster.ready, cluster.load_balancer_controller],
        )
        self._class(parts, logs, certificate_arn, public_subnet_ids, in_cluster)
        self._anchor(certificate_arn, None if waf is None else waf.arn, in_cluster)
        self._admission_policy(settings, in_cluster)
        self._external_dns(parts, zone_id, cluster, in_cluster)
        self.publish(
            {
                "ingressClass": INGRESS_CLASS,
                "groupName": self.group_name,
                "appsDomain": settings.apps_domain,
                "tenantHostnames": parts.hostnames,
                "certificateArn": certificate_arn,
                "accessLogBucket": logs.bucket,
                "webAclArn": None if waf is None else waf.arn,
                "wafLogGroup": None if waf is None else waf.log_group,
                "idleTimeoutSeconds": settings.idle_timeout_seconds,
            }
        )

    # --- AWS ----------------------------------------------------------------------------------

    def _access_log_bucket(self, settings: IngressSettings) -> aws.s3.Bucket:
        """Private, no ACLs, SSE-S3 (the only encryption ELB access logs support), versioned,
        expiring, TLS only; ELB's log delivery may write under ``alb/`` for this account."""
        context = self.context
        name = f"{self._name}-access-logs"
        bucket = private_bucket(self, name, purpose="alb-logs", SecurityExceptions="S3.17")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child_opts(),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=self.child_opts(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": settings.access_log_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=self.child_opts(depends_on=[versioning]),
        )
        self._bucket_policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=policy_document(access_log_bucket_statements(context, bucket.arn)),
            opts=self.child_opts(),
        )
        self._bucket = bucket
        return bucket

    def _certificate(self, parts: IngressParts, zone_id: pulumi.Input[str]) -> pulumi.Output[str]:
        """``*.<appsDomain>`` in the stack's region (an ALB reads certificates from its own
        region), validated by a record in the zone so ACM renews it unattended; the CAA record
        at the apps domain lets Amazon issue this wildcard and nothing else issue anything."""
        apps_domain = parts.settings.apps_domain
        caa = aws.route53.Record(
            f"{self._name}-apps-domain-caa",
            zone_id=zone_id,
            name=apps_domain,
            type="CAA",
            ttl=3600,
            records=list(APPS_DOMAIN_CAA),
            opts=self.child_opts(),
        )
        certificate = aws.acm.Certificate(
            f"{self._name}-certificate",
            domain_name=parts.certificate_domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options={"certificate_transparency_logging_preference": "ENABLED"},
            tags=self.tags("ingress"),
            # ACM checks CAA when it issues: the record must be there first.
            opts=self.child_opts(depends_on=[caa]),
        )
        return validated_by_dns(self, self._name, certificate, zone_id=zone_id)

    def _web_acl(self, parts: IngressParts, waf: IngressWafSettings, wiring: Wiring) -> _WebAcl:
        """Managed rule groups and a per-IP rate limit, logged to an encrypted group whose name
        WAF accepts (``aws-waf-logs-``)."""
        web_acl, log_group = web_acl_with_logs(
            self,
            self._name,
            metric_prefix=self.context.physical_name("ingress"),
            description="Managed rule groups and a per-IP rate limit for the shared ALB.",
            scope="REGIONAL",
            rate_limit=waf.rate_limit,
            log_retention_days=waf.log_retention_days,
            kms=wiring.kms,
            key_purpose=IngressParts.waf_log_key_purpose,
            key_description="encrypts the shared ALB's WAF logs",
            tag="ingress",
        )
        return _WebAcl(web_acl.arn, log_group.name)

    # --- Kubernetes ---------------------------------------------------------------------------

    def _class(
        self,
        parts: IngressParts,
        bucket: aws.s3.Bucket,
        certificate_arn: pulumi.Input[str],
        public_subnet_ids: pulumi.Input[Sequence[str]],
        in_cluster: pulumi.ResourceOptions,
    ) -> None:
        """The parameters every Ingress of the class shares, and the default class itself."""
        params = k8s.apiextensions.CustomResource(
            f"{self._name}-class-params",
            api_version="elbv2.k8s.aws/v1beta1",
            kind="IngressClassParams",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=INGRESS_CLASS),
            spec=class_params_spec(
                parts,
                group_name=self.group_name,
                bucket=bucket.bucket,
                certificate_arn=certificate_arn,
                public_subnet_ids=public_subnet_ids,
            ),
            # Elastic Load Balancing checks that it may write to the bucket when access logs
            # are switched on: the controller must not build the load balancer before the
            # bucket's policy admits it (it would fail, and only succeed on a later retry).
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[self._bucket_policy])
            ),
        )
        k8s.networking.v1.IngressClass(
            f"{self._name}-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=INGRESS_CLASS,
                annotations={"ingressclass.kubernetes.io/is-default-class": "true"},
            ),
            spec=k8s.networking.v1.IngressClassSpecArgs(
                controller=INGRESS_CONTROLLER,
                parameters=k8s.networking.v1.IngressClassParametersReferenceArgs(
                    api_group="elbv2.k8s.aws", kind="IngressClassParams", name=INGRESS_CLASS
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[params])
            ),
        )

    def _anchor(
        self,
        certificate_arn: pulumi.Input[str],
        web_acl_arn: pulumi.Input[str] | None,
        in_cluster: pulumi.ResourceOptions,
    ) -> None:
        """The group's platform-owned Ingress: it holds the group-wide settings and answers 404
        for hosts no tenant serves, so the load balancer exists before the first tenant."""
        namespace = k8s.core.v1.Namespace(
            f"{self._name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=INGRESS_NAMESPACE,
                labels={"pod-security.kubernetes.io/enforce": "restricted"},
            ),
            opts=in_cluster,
        )
        k8s.networking.v1.Ingress(
            f"{self._name}-anchor",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="shared-load-balancer",
                namespace=INGRESS_NAMESPACE,
                annotations=anchor_annotations(certificate_arn, web_acl_arn),
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=INGRESS_CLASS,
                default_backend=k8s.networking.v1.IngressBackendArgs(
                    service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=NOT_FOUND_ACTION,
                        port=k8s.networking.v1.ServiceBackendPortArgs(name="use-annotation"),
                    )
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[namespace])
            ),
        )

    def _admission_policy(
        self, settings: IngressSettings, in_cluster: pulumi.ResourceOptions
    ) -> None:
        """Tenants' Ingresses stay on their own host, in the shared group (``ADMISSION_RULES``)."""
        spec = admission_policy_spec(settings.apps_domain, self.group_name)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{self._name}-tenant-ingress-policy",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ADMISSION_POLICY_NAME),
            # camelCase keys, as the API server reads them (the SDK passes them through).
            spec=cast("k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgsDict", spec),
            opts=in_cluster,
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{self._name}-tenant-ingress-policy-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ADMISSION_POLICY_NAME),
            spec=cast(
                "k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgsDict",
                binding_spec(),
            ),
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[policy])
            ),
        )

    def _external_dns(
        self,
        parts: IngressParts,
        zone_id: pulumi.Input[str],
        cluster: IngressCluster,
        in_cluster: pulumi.ResourceOptions,
    ) -> None:
        """external-dns, allowed to write only the apps domain's names in the stack's zone."""
        apps_domain = parts.settings.apps_domain
        role = service_account_role(
            self,
            f"{self._name}-external-dns-irsa",
            oidc=cluster.oidc,
            namespace="kube-system",
            service_account="external-dns",
            description=f"Lets external-dns write records below {apps_domain} in the stack's zone.",
            inline_policy=pulumi.Output.from_input(zone_id).apply(
                lambda zone: json.dumps(
                    external_dns_policy(self.context.partition, zone, apps_domain)
                )
            ),
        )
        key = "external-dns"
        chart = CHARTS[key]
        k8s.helm.v3.Release(
            f"{self._name}-{key}",
            name=key,
            chart=chart.chart,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace="kube-system",
            create_namespace=False,
            values=spread_and_budget(
                key,
                external_dns_values(
                    zone_id=zone_id,
                    apps_domain=apps_domain,
                    owner_id=self.context.physical_name("external-dns"),
                    role_arn=role.arn,
                    region=self.context.region,
                ),
            ),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            max_history=5,
            opts=in_cluster,
        )


@dataclass(frozen=True)
class _WebAcl:
    arn: pulumi.Output[str]
    log_group: pulumi.Output[str]


#: The CAA record at the apps domain: Amazon may issue the wildcard there (and certificates for
#: names below it); no one else may issue anything below the apps domain.
APPS_DOMAIN_CAA = (
    '0 issue "amazon.com"',
    '0 issue "amazontrust.com"',
    '0 issuewild "amazon.com"',
    '0 issuewild "amazontrust.com"',
)
#: The anchor's fixed-response action, the listeners' default for unknown hosts.
NOT_FOUND_ACTION = "not-found"
ADMISSION_POLICY_NAME = "tenant-ingress"


def access_log_bucket_statements(
    context: StackContext, bucket_arn: pulumi.Output[str]
) -> list[dict[str, Any]]:
    """TLS only; Elastic Load Balancing's log delivery writes under ``alb/AWSLogs/<account>/``:
    as the region's ELB account where the region predates August 2022, as the log-delivery
    service principal everywhere (the newer regions' only way)."""
    prefix = pulumi.Output.concat(
        bucket_arn, f"/{ACCESS_LOG_PREFIX}/AWSLogs/{context.account_id}/*"
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "ElbLogDeliveryService",
            "Effect": "Allow",
            "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": prefix,
        },
    ]
    account = ELB_LOG_DELIVERY_ACCOUNTS.get(context.region)
    if account is not None:
        statements.append(
            {
                "Sid": "ElbLogDeliveryAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{context.partition}:iam::{account}:root"},
                "Action": "s3:PutObject",
                "Resource": prefix,
            }
        )
    return statements


def class_params_spec(
    parts: IngressParts,
    *,
    group_name: str,
    bucket: pulumi.Input[str],
    certificate_arn: pulumi.Input[str],
    public_subnet_ids: pulumi.Input[Sequence[str]],
) -> dict[str, Any]:
    """The ``IngressClassParams`` spec (fields of the controller's v1beta1 CRD: group.name,
    scheme, ipAddressType, certificateArn, sslPolicy, subnets.ids, tags, loadBalancerAttributes).

    ``certificateArn`` is what puts tenants' Ingresses on HTTPS: the controller gives an Ingress
    without a ``listen-ports`` annotation (which tenants may not set) HTTPS 443 when it has an
    explicit certificate, from its class's parameters or its own annotation, and HTTP 80
    otherwise (pkg/ingress/model_build_listener.go, computeIngressListenPorts). On HTTP 80 alone
    its rules would sit behind the group's redirect to 443, where the listener answers 404."""
    attributes = {**parts.load_balancer_attributes, "access_logs.s3.bucket": bucket}
    return {
        "group": {"name": group_name},
        "scheme": "internet-facing",
        "ipAddressType": "ipv4",
        "certificateArn": [certificate_arn],
        "sslPolicy": str(parts.settings.ssl_policy),
        "subnets": {"ids": public_subnet_ids},
        "tags": [
            {"key": GROUP_TAG, "value": group_name},
            {"key": "Component", "value": Ingress.COMPONENT},
        ],
        "loadBalancerAttributes": [
            {"key": key, "value": value} for key, value in sorted(attributes.items())
        ],
    }


def anchor_annotations(
    certificate_arn: pulumi.Input[str], web_acl_arn: pulumi.Input[str] | None
) -> dict[str, pulumi.Input[str]]:
    """The group-wide settings: both listeners, HTTP redirected to HTTPS for every host, the
    certificate, the web ACL, and the 404 action for unknown hosts."""
    annotations: dict[str, pulumi.Input[str]] = {
        ALB_ANNOTATION + "listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        ALB_ANNOTATION + "ssl-redirect": "443",
        ALB_ANNOTATION + "certificate-arn": certificate_arn,
        ALB_ANNOTATION + f"actions.{NOT_FOUND_ACTION}": json.dumps(
            {
                "type": "fixed-response",
                "fixedResponseConfig": {
                    "contentType": "text/plain",
                    "statusCode": "404",
                    "messageBody": "not found",
                },
            }
        ),
    }
    if web_acl_arn is not None:
        annotations[ALB_ANNOTATION + "wafv2-acl-arn"] = web_acl_arn
    return annotations


#: Each rule the admission policy holds a tenant's Ingress to: (CEL expression, message).
#: ``variables.host`` is the tenant's hostname, from its namespace's tenant label.
def admission_rules(group_name: str) -> list[tuple[str, str]]:
    allowed = ", ".join(f"'{key}'" for key in TENANT_ALB_ANNOTATIONS)
    return [
        (
            "has(object.spec.ingressClassName) && "
            f"object.spec.ingressClassName == '{INGRESS_CLASS}'",
            f"tenant Ingresses use the IngressClass {INGRESS_CLASS} (the shared load balancer)",
        ),
        (
            "!has(object.spec.defaultBackend)",
            "a default backend would take the traffic of every host in the shared group",
        ),
        (
            "!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && "
            "r.host == variables.host)",
            "every rule names the tenant's own host (a rule without a host matches every host)",
        ),
        (
            "!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || "
            "t.hosts.all(h, h == variables.host))",
            "TLS hosts are the tenant's own host",
        ),
        (
            f"!('{ALB_ANNOTATION}group.name' in variables.annotations) || "
            f"variables.annotations['{ALB_ANNOTATION}group.name'] == '{group_name}'",
            f"tenant Ingresses stay in the load balancer group {group_name}",
        ),
        (
            f"variables.annotations.all(k, !k.startsWith('{ALB_ANNOTATION}') || "
            f"k == '{ALB_ANNOTATION}group.name' || k in [{allowed}])",
            "only per-target-group ALB annotations are allowed: listeners, certificates, the web "
            "ACL, conditions and actions belong to the platform",
        ),
        (
            "!('kubernetes.io/ingress.class' in variables.annotations)",
            "the legacy kubernetes.io/ingress.class annotation is not allowed; use "
            "spec.ingressClassName",
        ),
        (
            "variables.annotations.all(k, !k.startsWith('external-dns.alpha.kubernetes.io/'))",
            "external-dns annotations are not allowed: DNS follows the Ingress's host",
        ),
    ]


def admission_variables(apps_domain: str) -> list[tuple[str, str]]:
    """(name, CEL expression) of the policy's variables."""
    return [
        (
            "host",
            f"namespaceObject.metadata.labels['{TENANT_LABEL}'] + '.{apps_domain}'",
        ),
        (
            "annotations",
            "has(object.metadata.annotations) ? object.metadata.annotations : {}",
        ),
    ]


def admission_policy_spec(apps_domain: str, group_name: str) -> dict[str, Any]:
    """The ``ValidatingAdmissionPolicy`` spec: Ingress creates and updates, refused when the
    policy cannot be evaluated (``failurePolicy: Fail``)."""
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["networking.k8s.io"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["ingresses"],
                }
            ]
        },
        "variables": [
            {"name": name, "expression": expression}
            for name, expression in admission_variables(apps_domain)
        ],
        "validations": [
            {"expression": expression, "message": message}
            for expression, message in admission_rules(group_name)
        ],
    }


def binding_spec() -> dict[str, Any]:
    """The policy applies to every namespace labelled as a tenant's, and refuses (``Deny``)."""
    return {
        "policyName": ADMISSION_POLICY_NAME,
        "validationActions": ["Deny"],
        "matchResources": {
            "namespaceSelector": {"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]}
        },
    }


def external_dns_policy(partition: str, zone_id: str, apps_domain: str) -> dict[str, Any]:
    """Change only A, AAAA and TXT records named below the apps domain, in this zone only;
    list this zone's records; find the zone (ListHostedZones has no resource scope)."""
    zone_arn = f"arn:{partition}:route53:::hostedzone/{zone_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeTenantRecordsOnly",
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": zone_arn,
                "Condition": {
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                            f"*.{apps_domain}"
                        ]
                    },
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsRecordTypes": list(
                            EXTERNAL_DNS_RECORD_TYPES
                        )
                    },
                },
            },
            {
                "Sid": "ReadTheZone",
                "Effect": "Allow",
                "Action": ["route53:ListResourceRecordSets", "route53:ListTagsForResources"],
                "Resource": zone_arn,
            },
            {
                "Sid": "FindTheZone",
                "Effect": "Allow",
                "Action": "route53:ListHostedZones",
                "Resource": "*",
            },
        ],
    }


def external_dns_values(
    *,
    zone_id: pulumi.Input[str],
    apps_domain: str,
    owner_id: str,
    role_arn: pulumi.Input[str],
    region: str,
) -> dict[str, Any]:
    """Values of the external-dns chart (kubernetes-sigs/external-dns charts/external-dns):
    Ingresses only, the apps domain only, this zone only, TXT ownership records under this
    stack's owner id, and ``sync`` so a removed Ingress's records go too (only records this
    owner's TXT records claim)."""
    return {
        "provider": {"name": "aws"},
        "sources": ["ingress"],
        "domainFilters": [apps_domain],
        "policy": "sync",
        "registry": "txt",
        "txtOwnerId": owner_id,
        "serviceAccount": {
            "create": True,
            "name": "external-dns",
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "env": [{"name": "AWS_DEFAULT_REGION", "value": region}],
        "extraArgs": [
            pulumi.Output.concat("--zone-id-filter=", zone_id),
            "--aws-zone-type=public",
        ],
        "resources": EXTERNAL_DNS_RESOURCES,
    }


# Defaults per environment and prod rules


def _ingress(
    *,
    apps_domain: str,
    access_log_retention_days: int,
    deletion_protection: bool,
    waf_enabled: bool,
    waf_log_retention_days: LogRetentionDays,
) -> IngressSettings:
    """What dev and prod share: the idle timeout, the TLS policy and the WAF's rate limit."""
    return IngressSettings(
        apps_domain=apps_domain,
        # Ten minutes: an event stream that sends a heartbeat every few seconds never idles
        # out, while abandoned connections still close. The ALB's default is 60 s.
        idle_timeout_seconds=600,
        ssl_policy=SslPolicy.TLS13_12,
        access_log_retention_days=access_log_retention_days,
        deletion_protection=deletion_protection,
        waf=IngressWafSettings(
            enabled=waf_enabled,
            rate_limit=2000,
            log_retention_days=waf_log_retention_days,
            # The api path's 99.9% target cannot carry WAF's 99.95% SLA in series
            # (docs/architecture.md, "Availability"): an outage of WAF must not stop the API.
            fail_open=True,
        ),
    )


INGRESS_DEFAULTS = ByEnvironment(
    dev=_ingress(
        apps_domain="app.dev.genericcorp.com",
        access_log_retention_days=30,
        # Off in dev: the load balancer is rebuilt at will, and a stack destroy must pass.
        deletion_protection=False,
        # Off in dev: $9/month and more for the team's own traffic.
        waf_enabled=False,
        waf_log_retention_days=30,
    ),
    prod=_ingress(
        apps_domain="app.genericcorp.com",
        access_log_retention_days=365,
        deletion_protection=True,
        waf_enabled=True,
        waf_log_retention_days=365,
    ),
)

INGRESS_PROD_RULES = (
    switched_on(
        IngressSettings,
        key=lambda s: s.waf.enabled,
        reason="the tenants' API is public: it sits behind a web application firewall with "
        "managed rules and a rate limit (FSBP ELB.16 / WAF)",
    ),
    switched_on(
        IngressSettings,
        key=lambda s: s.deletion_protection,
        reason="deleting the shared load balancer takes every tenant offline and changes its "
        "DNS name (FSBP ELB.6)",
    ),
    ProdRule(
        IngressSettings,
        key=lambda s: s.waf.log_retention_days,
        accepts=lambda days: days >= 90,
        allowed="90 or more",
        reason="the firewall's logs are the record of blocked attacks for incident reviews",
    ),
)
