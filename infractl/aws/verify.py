"""``infractl verify``: check what runs in AWS against what a stack's outputs promise.

Reads the outputs of ``pulumi stack output --json`` (secrets need not be shown; the kubeconfig is
not used) and checks, read-only:

- cluster: ACTIVE, the outputs' ARN, endpoint and version, Kubernetes secrets encrypted with KMS,
  every control-plane log type on, endpoint access as the outputs say (never open to 0.0.0.0/0),
  its security group, each node group ACTIVE;
- database: available, the outputs' endpoint and engine, encrypted, not publicly accessible,
  Multi-AZ as the outputs say, and in prod Multi-AZ and deletion protection;
- cache: available, the outputs' endpoint and engine, encrypted in transit (required, not
  "preferred") and at rest, AUTH on, and in prod automatic failover and Multi-AZ;
- CDN: deployed and enabled, serving the alias with the outputs' certificate over SNI, TLS policy
  TLSv1.2_2021 or newer, HTTPS for viewers, the WAF web ACL attached;
- DNS: the hosted zone and its name servers, every record the outputs list, and the registrar's
  delegation: the parent zone's NS answer for the zone, compared with the zone's name servers.
  When DNS cannot be reached that check is a warning saying so, not a failure;
- ingress: the one load balancer of the outputs' group (found by its group tag) exists, is an
  active internet-facing ALB, has the declared attributes (idle timeout, access logs to the
  outputs' bucket, invalid headers dropped, deletion protection in prod), an HTTPS listener
  with the outputs' certificate and HTTP redirected to HTTPS; the certificate is issued; the
  web ACL is attached when the outputs name one; each tenant's hostname resolves to the load
  balancer's addresses (a warning when DNS cannot be reached).

A table of checks; exit status 1 when any check fails, 2 when the outputs file is unusable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from rich.console import Console
from rich.table import Table

from infractl.aws.access import (
    AwsAccessError,
    caller_account,
    error_code,
    region_problem,
    session_for,
)

if TYPE_CHECKING:
    import dns.message
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_elasticache import ElastiCacheClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_route53 import Route53Client
    from mypy_boto3_sts import STSClient

EXIT_INVALID = 2
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# CloudFront.15: TLSv1.2_2021 or a newer policy.
MODERN_TLS_POLICIES = frozenset({"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"})
SECTIONS = ("cluster", "database", "cache", "cdn", "dns", "ingress")
#: The tag the ingress's load balancer carries (components/ingress.py GROUP_TAG).
INGRESS_GROUP_TAG = "genericcorp.com/ingress-group"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "FAIL"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    section: str
    name: str
    status: Status
    detail: str


# --- the outputs file ------------------------------------------------------------------------


class _Outputs(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True, frozen=True
    )


class ClusterOutputs(_Outputs):
    name: str
    arn: str
    endpoint: str
    version: str
    security_group_id: str
    endpoint_public_access: bool
    public_access_cidrs: list[str]
    node_groups: list[str]


class DatabaseOutputs(_Outputs):
    identifier: str
    address: str
    port: int
    engine: str
    engine_version: str
    security_group_id: str
    multi_az: bool


class CacheOutputs(_Outputs):
    replication_group_id: str
    primary_endpoint: str
    port: int
    engine: str
    security_group_id: str


class CdnOutputs(_Outputs):
    distribution_id: str
    domain_name: str
    alias_domain: str
    certificate_arn: str
    web_acl_arn: str | None  # None where the stack's config leaves the WAF off (dev by default)


class DnsOutputs(_Outputs):
    zone_id: str
    zone_name: str
    name_servers: list[str]
    records: list[str]


class IngressOutputs(_Outputs):
    group_name: str
    apps_domain: str
    tenant_hostnames: dict[str, str]
    certificate_arn: str
    access_log_bucket: str
    web_acl_arn: str | None
    idle_timeout_seconds: int


_SECTION_MODELS: dict[str, type[_Outputs]] = {
    "cluster": ClusterOutputs,
    "database": DatabaseOutputs,
    "cache": CacheOutputs,
    "cdn": CdnOutputs,
    "dns": DnsOutputs,
    "ingress": IngressOutputs,
}


@dataclass(frozen=True)
class StackOutputs:
    environment: Literal["dev", "prod"]
    region: str
    sections: Mapping[str, _Outputs]

    @property
    def prod(self) -> bool:
        return self.environment == "prod"


class OutputsError(Exception):
    """The outputs file cannot be used; the message lists every problem at once."""


def parse_outputs(text: str, source: str, skip: Iterable[str] = ()) -> StackOutputs:
    """Validate a ``pulumi stack output --json`` document; every problem is reported at once."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise OutputsError(
            f"{source}: not JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "write it with `pulumi stack output --json > FILE`"
        ) from None
    if not isinstance(document, dict):
        raise OutputsError(
            f"{source}: expected a JSON object of stack outputs, got {_kind(document)}"
        )
    outputs: dict[str, Any] = document
    problems: list[str] = []
    environment = outputs.get("environment")
    if environment not in ("dev", "prod"):
        problems.append(
            "environment: required key missing"
            if environment is None
            else f"environment = {environment!r}: expected 'dev' or 'prod'"
        )
    region = outputs.get("region")
    if not isinstance(region, str):
        problems.append(
            "region: required key missing" if region is None else "region: expected a string"
        )
    elif (region_error := region_problem(region)) is not None:
        problems.append(f"region: {region_error}")
    sections: dict[str, _Outputs] = {}
    for name, model in _SECTION_MODELS.items():
        if name in skip:
            continue
        value = outputs.get(name)
        if value is None:
            problems.append(f"{name}: required key missing (or pass --skip {name})")
            continue
        try:
            sections[name] = model.model_validate(value)
        except ValidationError as error:
            problems.extend(_describe(name, e) for e in error.errors())
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise OutputsError(
            f"{source}: {count}; nothing was checked:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return StackOutputs(environment=environment, region=str(region), sections=sections)  # type: ignore[arg-type]


def _describe(section: str, error: Mapping[str, Any]) -> str:
    path = ".".join(str(part) for part in (section, *error["loc"]))
    if error["type"] == "missing":
        return f"{path}: required key missing"
    if error["type"] == "model_type":
        return f"{section}: expected an object, got {_kind(error['input'])}"
    return f"{path} = {error['input']!r}: {error['msg'].lower()}"


def _kind(value: object) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)


# --- the registrar's delegation --------------------------------------------------------------


class DnsUnreachableError(Exception):
    """DNS could not be asked (no network, timeouts, no answering server)."""


class Resolver(Protocol):
    """The part of ``dns.resolver.Resolver`` used here (tests pass a fake object)."""

    def resolve(self, qname: str, rdtype: str) -> Iterable[Any]: ...


class Query(Protocol):
    """``dns.query.udp``'s shape: send one query to one server address."""

    def __call__(
        self, q: dns.message.Message, where: str, timeout: float | None = None
    ) -> dns.message.Message: ...


class ParentDelegation:
    """What the parent zone tells the world about a zone's name servers (its NS referral).

    This is what the registrar controls: for ``genericcorp.com`` the ``com`` servers answer with
    the name servers set at the registrar, whatever Route53 holds.
    """

    def __init__(
        self, resolver: Resolver | None = None, query: Query | None = None, timeout: float = 3.0
    ) -> None:
        import dns.query  # noqa: PLC0415 - dnspython only when a delegation is checked
        import dns.resolver  # noqa: PLC0415

        if resolver is None:
            real = dns.resolver.Resolver()
            real.lifetime = timeout
            resolver = real
        self._resolver = resolver
        self._query: Query = query or dns.query.udp
        self._timeout = timeout

    def name_servers(self, zone: str) -> list[str]:
        """The NS names the parent zone delegates ``zone`` to; [] when it does not delegate it."""
        import dns.exception  # noqa: PLC0415
        import dns.message  # noqa: PLC0415
        import dns.name  # noqa: PLC0415
        import dns.rcode  # noqa: PLC0415
        import dns.rdatatype  # noqa: PLC0415

        name = dns.name.from_text(zone)
        parent = name.parent()
        failures = (dns.exception.DNSException, OSError)
        try:
            parent_servers = sorted(str(r) for r in self._resolver.resolve(str(parent), "NS"))
        except failures as error:
            raise DnsUnreachableError(
                f"cannot look up the name servers of the parent zone {parent}: {_short(error)}"
            ) from None
        last_error = "no address for any of its name servers"
        for server in parent_servers:
            try:
                addresses = [str(r) for r in self._resolver.resolve(server, "A")]
            except failures as error:
                last_error = f"{server}: {_short(error)}"
                continue
            for address in addresses:
                try:
                    response = self._query(
                        dns.message.make_query(name, dns.rdatatype.NS), address, self._timeout
                    )
                except failures as error:
                    last_error = f"{server} ({address}): {_short(error)}"
                    continue
                if response.rcode() == dns.rcode.NXDOMAIN:
                    return []
                return sorted(
                    _host(str(rdata))
                    for section in (response.answer, response.authority)
                    for rrset in section
                    if rrset.rdtype == dns.rdatatype.NS and rrset.name == name
                    for rdata in rrset
                )
        raise DnsUnreachableError(
            f"no name server of the parent zone {parent} answered ({last_error})"
        )


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]


def _host(name: str) -> str:
    return name.lower().rstrip(".")


# --- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    sts: STSClient
    eks: EKSClient
    rds: RDSClient
    elasticache: ElastiCacheClient
    cloudfront: CloudFrontClient
    route53: Route53Client
    elbv2: ElasticLoadBalancingv2Client
    acm: ACMClient
    wafv2: Any
    """The WAFv2 client of the stack's region (regional web ACLs)."""


class _Collector:
    def __init__(self, section: str) -> None:
        self.section = section
        self.checks: list[Check] = []

    def expect(self, name: str, ok: bool, detail: str, failure: str | None = None) -> None:
        self.checks.append(
            Check(
                self.section,
                name,
                Status.PASS if ok else Status.FAIL,
                detail if ok else failure or detail,
            )
        )

    def add(self, name: str, status: Status, detail: str) -> None:
        self.checks.append(Check(self.section, name, status, detail))


def verify(
    outputs: StackOutputs,
    clients: Clients,
    delegation: ParentDelegation | None,
    resolver: Resolver | None = None,
) -> list[Check]:
    """Every check, in table order. AWS refusing a call fails that section, not the run."""
    account = caller_account(clients.sts)
    # ARNs in the outputs name the account the stack was deployed to; other credentials would
    # make every later check fail as "not found", which hides the real cause.
    owners = sorted(
        {
            arn.split(":")[4]
            for section in outputs.sections.values()
            for arn in section.model_dump().values()
            if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5
        }
        - {"", account}
    )
    checks = [
        Check("account", "credentials", Status.PASS, f"account {account}, {outputs.region}")
        if not owners
        else Check(
            "account",
            "credentials",
            Status.FAIL,
            f"the credentials are for account {account}; the outputs' resources are in "
            f"{', '.join(owners)}",
        )
    ]
    runners: dict[str, Callable[[_Collector, Any], None]] = {
        "cluster": lambda c, o: _check_cluster(c, o, clients.eks),
        "database": lambda c, o: _check_database(c, o, clients.rds, prod=outputs.prod),
        "cache": lambda c, o: _check_cache(c, o, clients.elasticache, prod=outputs.prod),
        "cdn": lambda c, o: _check_cdn(c, o, clients.cloudfront),
        "dns": lambda c, o: _check_dns(c, o, clients.route53, delegation),
        "ingress": lambda c, o: _check_ingress(c, o, clients, resolver, prod=outputs.prod),
    }
    for section in SECTIONS:
        collector = _Collector(section)
        if section not in outputs.sections:
            collector.add("all", Status.SKIP, "skipped (--skip)")
        else:
            try:
                runners[section](collector, outputs.sections[section])
            except Exception as error:
                if not error_code(error):
                    raise
                collector.add("AWS", Status.FAIL, _short(error))
        checks.extend(collector.checks)
    return checks


def _check_cluster(c: _Collector, out: ClusterOutputs, eks: EKSClient) -> None:
    try:
        cluster = eks.describe_cluster(name=out.name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        c.add("exists", Status.FAIL, f"no EKS cluster {out.name!r} in this account and region")
        return
    status = cluster.get("status", "?")
    c.expect("status", status == "ACTIVE", "ACTIVE", f"{status}, not ACTIVE")
    same = {
        "arn": (cluster.get("arn"), out.arn),
        "endpoint": (cluster.get("endpoint"), out.endpoint),
        "version": (cluster.get("version"), out.version),
    }
    differ = [
        f"{k} is {live!r}, outputs say {want!r}" for k, (live, want) in same.items() if live != want
    ]
    c.expect("matches outputs", not differ, "ARN, endpoint and version", "; ".join(differ))
    encrypted = [
        e.get("provider", {}).get("keyArn", "")
        for e in cluster.get("encryptionConfig", [])
        if "secrets" in e.get("resources", [])
    ]
    c.expect(
        "secrets encryption",
        bool(encrypted and encrypted[0]),
        f"Kubernetes secrets encrypted with {encrypted[0] if encrypted else ''}",
        "Kubernetes secrets are not encrypted with a KMS key (EKS.3)",
    )
    enabled = {
        kind
        for setup in cluster.get("logging", {}).get("clusterLogging", [])
        if setup.get("enabled")
        for kind in setup.get("types", [])
    }
    missing = [kind for kind in CONTROL_PLANE_LOGS if kind not in enabled]
    c.expect(
        "control-plane logs",
        not missing,
        "all five log types on",
        f"off: {', '.join(missing)} (EKS.8)",
    )
    vpc = cluster.get("resourcesVpcConfig", {})
    public = bool(vpc.get("endpointPublicAccess"))
    cidrs = sorted(vpc.get("publicAccessCidrs", [])) if public else []
    problems: list[str] = []
    if public != out.endpoint_public_access:
        problems.append(f"public endpoint {'on' if public else 'off'}, outputs say the opposite")
    if not vpc.get("endpointPrivateAccess"):
        problems.append("private endpoint off")
    if public and "0.0.0.0/0" in cidrs:
        problems.append("public endpoint open to 0.0.0.0/0 (EKS.1)")
    if public and cidrs != sorted(out.public_access_cidrs):
        problems.append(f"public CIDRs {cidrs}, outputs say {sorted(out.public_access_cidrs)}")
    c.expect(
        "endpoint access",
        not problems,
        f"private on; public {'on for ' + ', '.join(cidrs) if public else 'off'}",
        "; ".join(problems),
    )
    group = vpc.get("clusterSecurityGroupId")
    c.expect(
        "security group",
        group == out.security_group_id,
        str(group),
        f"cluster security group is {group}, outputs say {out.security_group_id}",
    )
    live_groups = set(eks.list_nodegroups(clusterName=out.name).get("nodegroups", []))
    for group_name in out.node_groups:
        if group_name not in live_groups:
            c.add(f"node group {group_name}", Status.FAIL, "not found")
            continue
        ng = eks.describe_nodegroup(clusterName=out.name, nodegroupName=group_name)["nodegroup"]
        ng_status = ng.get("status", "?")
        c.expect(
            f"node group {group_name}", ng_status == "ACTIVE", "ACTIVE", f"{ng_status}, not ACTIVE"
        )


def _check_database(c: _Collector, out: DatabaseOutputs, rds: RDSClient, *, prod: bool) -> None:
    try:
        db = rds.describe_db_instances(DBInstanceIdentifier=out.identifier)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        c.add("exists", Status.FAIL, f"no RDS instance {out.identifier!r}")
        return
    status = db.get("DBInstanceStatus", "?")
    c.expect("status", status == "available", "available", f"{status}, not available")
    endpoint = db.get("Endpoint", {})
    live = (endpoint.get("Address"), endpoint.get("Port"))
    c.expect(
        "endpoint",
        live == (out.address, out.port),
        f"{out.address}:{out.port}",
        f"{live[0]}:{live[1]}, outputs say {out.address}:{out.port}",
    )
    engine = (db.get("Engine", ""), db.get("EngineVersion", ""))
    c.expect(
        "engine",
        engine[0] == out.engine
        and (engine[1] == out.engine_version or engine[1].startswith(f"{out.engine_version}.")),
        f"{engine[0]} {engine[1]}",
        f"{engine[0]} {engine[1]}, outputs say {out.engine} {out.engine_version}",
    )
    c.expect(
        "encrypted at rest",
        bool(db.get("StorageEncrypted")),
        f"KMS key {db.get('KmsKeyId', '?')}",
        "storage is not encrypted (RDS.3)",
    )
    c.expect(
        "not public",
        not db.get("PubliclyAccessible"),
        "not publicly accessible",
        "publicly accessible (RDS.2)",
    )
    groups = [g.get("VpcSecurityGroupId") for g in db.get("VpcSecurityGroups", [])]
    c.expect(
        "security group",
        out.security_group_id in groups,
        out.security_group_id,
        f"security groups {groups}, outputs say {out.security_group_id}",
    )
    multi_az = bool(db.get("MultiAZ"))
    if multi_az != out.multi_az:
        c.add("Multi-AZ", Status.FAIL, f"live Multi-AZ is {multi_az}, outputs say {out.multi_az}")
    elif prod:
        c.expect("Multi-AZ", multi_az, "on", "off in prod (RDS.5)")
    else:
        c.add("Multi-AZ", Status.PASS, f"{'on' if multi_az else 'off'} (dev)")
    protected = bool(db.get("DeletionProtection"))
    if prod:
        c.expect("deletion protection", protected, "on", "off in prod (RDS.8)")
    else:
        c.add("deletion protection", Status.PASS, f"{'on' if protected else 'off'} (dev)")


def _check_cache(
    c: _Collector, out: CacheOutputs, elasticache: ElastiCacheClient, *, prod: bool
) -> None:
    try:
        groups = elasticache.describe_replication_groups(
            ReplicationGroupId=out.replication_group_id
        )["ReplicationGroups"]
    except elasticache.exceptions.ReplicationGroupNotFoundFault:
        c.add("exists", Status.FAIL, f"no replication group {out.replication_group_id!r}")
        return
    group = groups[0]
    status = group.get("Status", "?")
    c.expect("status", status == "available", "available", f"{status}, not available")
    primary = next(
        (
            ng.get("PrimaryEndpoint", {})
            for ng in group.get("NodeGroups", [])
            if ng.get("PrimaryEndpoint")
        ),
        group.get("ConfigurationEndpoint", {}),
    )
    live = (primary.get("Address"), primary.get("Port"))
    c.expect(
        "endpoint",
        live == (out.primary_endpoint, out.port),
        f"{out.primary_endpoint}:{out.port}",
        f"{live[0]}:{live[1]}, outputs say {out.primary_endpoint}:{out.port}",
    )
    engine = group.get("Engine", out.engine)  # older API versions leave the engine out
    c.expect("engine", engine == out.engine, engine, f"{engine}, outputs say {out.engine}")
    mode = group.get("TransitEncryptionMode", "required")
    c.expect(
        "encrypted in transit",
        bool(group.get("TransitEncryptionEnabled")) and mode == "required",
        "TLS required",
        "TLS off"
        if not group.get("TransitEncryptionEnabled")
        else f"TLS mode {mode!r} (ElastiCache.5)",
    )
    c.expect(
        "encrypted at rest",
        bool(group.get("AtRestEncryptionEnabled")),
        "on",
        "off (ElastiCache.4)",
    )
    c.expect(
        "AUTH",
        bool(group.get("AuthTokenEnabled") or group.get("UserGroupIds")),
        "AUTH token" if group.get("AuthTokenEnabled") else "RBAC user group",
        "no AUTH token and no user group (ElastiCache.6)",
    )
    failover = group.get("AutomaticFailover", "disabled")
    multi_az = group.get("MultiAZ", "disabled")
    if prod:
        c.expect(
            "failover",
            failover == "enabled" and multi_az == "enabled",
            "automatic failover and Multi-AZ on",
            f"automatic failover {failover}, Multi-AZ {multi_az} in prod (ElastiCache.3)",
        )
    else:
        c.add("failover", Status.PASS, f"automatic failover {failover} (dev)")


def _check_cdn(c: _Collector, out: CdnOutputs, cloudfront: CloudFrontClient) -> None:
    try:
        distribution = cloudfront.get_distribution(Id=out.distribution_id)["Distribution"]
    except cloudfront.exceptions.NoSuchDistribution:
        c.add("exists", Status.FAIL, f"no distribution {out.distribution_id!r}")
        return
    config = distribution["DistributionConfig"]
    status = distribution.get("Status", "?")
    c.expect(
        "deployed",
        status == "Deployed" and bool(config.get("Enabled")),
        "Deployed, enabled",
        f"status {status}, enabled {config.get('Enabled')}",
    )
    c.expect(
        "domain name",
        distribution.get("DomainName") == out.domain_name,
        out.domain_name,
        f"{distribution.get('DomainName')}, outputs say {out.domain_name}",
    )
    aliases = config.get("Aliases", {}).get("Items", [])
    c.expect(
        "alias",
        out.alias_domain in aliases,
        out.alias_domain,
        f"{out.alias_domain} is not among the aliases {aliases}",
    )
    certificate = config.get("ViewerCertificate", {})
    problems: list[str] = []
    if certificate.get("ACMCertificateArn") != out.certificate_arn:
        problems.append(
            f"certificate {certificate.get('ACMCertificateArn')}, outputs say {out.certificate_arn}"
        )
    if certificate.get("SSLSupportMethod") != "sni-only":
        problems.append(
            f"SSL support {certificate.get('SSLSupportMethod')!r}, not sni-only (CloudFront.8)"
        )
    policy = certificate.get("MinimumProtocolVersion", "?")
    if policy not in MODERN_TLS_POLICIES:
        problems.append(f"TLS policy {policy} is older than TLSv1.2_2021 (CloudFront.15)")
    c.expect(
        "certificate and TLS",
        not problems,
        f"ACM certificate over SNI, {policy}",
        "; ".join(problems),
    )
    viewer = config.get("DefaultCacheBehavior", {}).get("ViewerProtocolPolicy", "?")
    c.expect(
        "HTTPS for viewers",
        viewer in ("redirect-to-https", "https-only"),
        viewer,
        f"viewer protocol policy {viewer} (CloudFront.3)",
    )
    acl = config.get("WebACLId", "")
    c.expect(
        "WAF",
        acl == (out.web_acl_arn or ""),
        "web ACL attached" if out.web_acl_arn else "no web ACL, as configured",
        f"web ACL {acl or 'none'}, outputs say {out.web_acl_arn or 'none'}",
    )


def _check_dns(
    c: _Collector, out: DnsOutputs, route53: Route53Client, delegation: ParentDelegation | None
) -> None:
    try:
        zone = route53.get_hosted_zone(Id=out.zone_id)
    except route53.exceptions.NoSuchHostedZone:
        c.add("zone", Status.FAIL, f"no hosted zone {out.zone_id!r}")
        return
    zone_name = _host(zone["HostedZone"]["Name"])
    c.expect(
        "zone",
        zone_name == _host(out.zone_name),
        zone_name,
        f"zone is {zone_name}, outputs say {out.zone_name}",
    )
    live_servers = sorted(_host(ns) for ns in zone.get("DelegationSet", {}).get("NameServers", []))
    wanted_servers = sorted(_host(ns) for ns in out.name_servers)
    c.expect(
        "name servers",
        live_servers == wanted_servers,
        ", ".join(live_servers),
        f"zone has {live_servers}, outputs say {wanted_servers}",
    )
    names: set[str] = set()
    for page in route53.get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=out.zone_id
    ):
        names.update(_host(r["Name"].replace("\\052", "*")) for r in page["ResourceRecordSets"])
    missing = [record for record in out.records if _host(record) not in names]
    c.expect(
        "records",
        not missing,
        f"all {len(out.records)} present",
        f"missing: {', '.join(missing)}",
    )
    if delegation is None:
        c.add("registrar delegation", Status.SKIP, "not checked (--no-dns)")
        return
    try:
        delegated = delegation.name_servers(zone_name)
    except DnsUnreachableError as error:
        c.add("registrar delegation", Status.WARN, f"DNS unreachable, not checked: {error}")
        return
    instruction = f"set these name servers at the registrar: {', '.join(live_servers)}"
    if not delegated:
        c.add("registrar delegation", Status.FAIL, f"{zone_name} is not delegated; {instruction}")
    elif delegated != live_servers:
        c.add(
            "registrar delegation",
            Status.FAIL,
            f"the parent zone delegates to {', '.join(delegated)}; {instruction}",
        )
    else:
        c.add(
            "registrar delegation",
            Status.PASS,
            "the parent zone delegates to the zone's name servers",
        )


def _check_ingress(
    c: _Collector,
    out: IngressOutputs,
    clients: Clients,
    resolver: Resolver | None,
    *,
    prod: bool,
) -> None:
    balancer = _group_load_balancer(c, out, clients.elbv2)
    if balancer is not None:
        arn = balancer["LoadBalancerArn"]
        _check_load_balancer_attributes(c, out, clients.elbv2, arn, prod=prod)
        _check_listeners(c, out, clients.elbv2, arn)
        if out.web_acl_arn is not None:
            attached = clients.wafv2.get_web_acl_for_resource(ResourceArn=arn).get("WebACL")
            live = (attached or {}).get("ARN")
            c.expect(
                "WAF",
                live == out.web_acl_arn,
                "web ACL attached",
                f"web ACL {live or 'none'}, outputs say {out.web_acl_arn}",
            )
        else:
            c.add("WAF", Status.PASS, "no web ACL, as configured")
    try:
        certificate = clients.acm.describe_certificate(CertificateArn=out.certificate_arn)
        cert_status = certificate["Certificate"].get("Status", "?")
    except clients.acm.exceptions.ResourceNotFoundException:
        cert_status = "not found"
    c.expect(
        "certificate",
        cert_status == "ISSUED",
        f"ISSUED ({out.certificate_arn})",
        f"{cert_status}, not ISSUED: check the validation record in the zone",
    )
    if balancer is not None:
        _check_tenant_hostnames(c, out, balancer["DNSName"], resolver)


def _group_load_balancer(
    c: _Collector, out: IngressOutputs, elbv2: ElasticLoadBalancingv2Client
) -> Any:
    """The one load balancer tagged with the outputs' group, checked: an active internet-facing
    ALB. None (with a failed check) when there is none or more than one."""
    balancers: dict[str, Any] = {}
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        balancers.update({b.get("LoadBalancerArn", ""): b for b in page["LoadBalancers"]})
    arns = list(balancers)
    tagged: list[str] = []
    for start in range(0, len(arns), 20):  # DescribeTags takes 20 ARNs at a time
        for description in elbv2.describe_tags(ResourceArns=arns[start : start + 20])[
            "TagDescriptions"
        ]:
            tags = {t["Key"]: t.get("Value") for t in description.get("Tags", [])}
            if tags.get(INGRESS_GROUP_TAG) == out.group_name:
                tagged.append(description.get("ResourceArn", ""))
    if len(tagged) != 1:
        c.add(
            "load balancer",
            Status.FAIL,
            f"{len(tagged)} load balancers tagged {INGRESS_GROUP_TAG}={out.group_name}; one is "
            "expected (is the controller running, the anchor Ingress in place?)",
        )
        return None
    balancer = balancers[tagged[0]]
    problems = [
        f"{what} is {balancer.get(key)!r}"
        for key, wanted, what in (
            ("Type", "application", "type"),
            ("Scheme", "internet-facing", "scheme"),
        )
        if balancer.get(key) != wanted
    ]
    state = balancer.get("State", {}).get("Code", "?")
    if state != "active":
        problems.append(f"state is {state!r}")
    c.expect(
        "load balancer",
        not problems,
        f"{balancer['LoadBalancerName']}: active internet-facing ALB",
        "; ".join(problems),
    )
    return balancer


def _check_load_balancer_attributes(
    c: _Collector,
    out: IngressOutputs,
    elbv2: ElasticLoadBalancingv2Client,
    arn: str,
    *,
    prod: bool,
) -> None:
    live = {
        a.get("Key"): a.get("Value")
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    }
    wanted = {
        "idle_timeout.timeout_seconds": str(out.idle_timeout_seconds),
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": out.access_log_bucket,
        "routing.http.drop_invalid_header_fields.enabled": "true",
    }
    if prod:
        wanted["deletion_protection.enabled"] = "true"
    differ = [f"{k} is {live.get(k)!r}, not {v!r}" for k, v in wanted.items() if live.get(k) != v]
    c.expect(
        "attributes",
        not differ,
        f"idle timeout {out.idle_timeout_seconds}s, access logs to {out.access_log_bucket}"
        + (", deletion protection" if prod else ""),
        "; ".join(differ),
    )


def _check_listeners(
    c: _Collector, out: IngressOutputs, elbv2: ElasticLoadBalancingv2Client, arn: str
) -> None:
    listeners = elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    by_port = {listener.get("Port"): listener for listener in listeners}
    https = by_port.get(443)
    problems: list[str] = []
    if https is None or https.get("Protocol") != "HTTPS":
        problems.append("no HTTPS listener on 443")
    else:
        certificates = [cert.get("CertificateArn") for cert in https.get("Certificates", [])]
        if out.certificate_arn not in certificates:
            problems.append(f"HTTPS listener serves {certificates}, not {out.certificate_arn}")
    http = by_port.get(80)
    if http is not None:
        actions = http.get("DefaultActions", [])
        redirect = [a.get("RedirectConfig", {}) for a in actions if a.get("Type") == "redirect"]
        if not redirect or redirect[0].get("Protocol") != "HTTPS":
            problems.append("HTTP on 80 is not redirected to HTTPS")
    c.expect(
        "listeners",
        not problems,
        "HTTPS with the outputs' certificate; HTTP redirected to HTTPS",
        "; ".join(problems),
    )


def _check_tenant_hostnames(
    c: _Collector, out: IngressOutputs, balancer_dns: str, resolver: Resolver | None
) -> None:
    if not out.tenant_hostnames:
        c.add("tenant hostnames", Status.SKIP, "no tenants")
        return
    if resolver is None:
        c.add("tenant hostnames", Status.SKIP, "not checked (--no-dns)")
        return
    import dns.exception  # noqa: PLC0415

    failures = (dns.exception.DNSException, OSError)
    try:
        balancer_addresses = {str(r) for r in resolver.resolve(balancer_dns, "A")}
    except failures as error:
        c.add("tenant hostnames", Status.WARN, f"DNS unreachable, not checked: {_short(error)}")
        return
    for tenant, hostname in sorted(out.tenant_hostnames.items()):
        try:
            addresses = {str(r) for r in resolver.resolve(hostname, "A")}
        except failures as error:
            c.add(
                f"hostname {tenant}", Status.FAIL, f"{hostname} does not resolve: {_short(error)}"
            )
            continue
        c.expect(
            f"hostname {tenant}",
            bool(addresses & balancer_addresses),
            f"{hostname} resolves to the load balancer",
            f"{hostname} resolves to {sorted(addresses)}, not to the load balancer "
            f"{balancer_dns} ({sorted(balancer_addresses)}): is external-dns running?",
        )


def _host_resolver(timeout: float = 3.0) -> Resolver:
    import dns.resolver  # noqa: PLC0415 - dnspython only when hostnames are checked

    resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    return resolver


# --- CLI ---------------------------------------------------------------------------------------


def render_checks(checks: list[Check], console: Console) -> None:
    table = Table(title="Post-deploy verification")
    for column in ("section", "check", "result", "detail"):
        table.add_column(column)
    styles = {
        Status.PASS: "green",
        Status.FAIL: "bold red",
        Status.WARN: "yellow",
        Status.SKIP: "dim",
    }
    for check in checks:
        table.add_row(
            check.section, check.name, f"[{styles[check.status]}]{check.status}[/]", check.detail
        )
    console.print(table)
    counts = {status: sum(1 for c in checks if c.status is status) for status in Status}
    console.print(
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.WARN]} warning(s), {counts[Status.SKIP]} skipped",
        markup=False,
    )


def command(
    outputs: Annotated[
        str,
        typer.Option(
            "--outputs",
            metavar="FILE",
            help="The stack's `pulumi stack output --json` ('-' reads stdin).",
        ),
    ],
    skip: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SECTION", help=f"Leave a section out: {', '.join(SECTIONS)} (repeatable)."
        ),
    ] = None,
    no_dns: Annotated[
        bool, typer.Option("--no-dns", help="Do not query DNS for the registrar's delegation.")
    ] = False,
    profile: Annotated[str | None, typer.Option(metavar="NAME", help="AWS profile to use.")] = None,
) -> None:
    """Check the live resources of a deployed stack against its outputs.

    Read-only. Exit status: 0 when every check passes (warnings allowed), 1 when one fails or
    AWS cannot be used, 2 when the outputs file is unusable.
    """
    errors = Console(stderr=True, highlight=False)
    skipped = list(skip or [])
    unknown = [s for s in skipped if s not in SECTIONS]
    if unknown:
        errors.print(
            f"verify: unknown --skip {unknown}; sections: {', '.join(SECTIONS)}", markup=False
        )
        raise typer.Exit(EXIT_INVALID)
    try:
        text = sys.stdin.read() if outputs == "-" else Path(outputs).read_text(encoding="utf-8")
        parsed = parse_outputs(text, "stdin" if outputs == "-" else outputs, skipped)
    except OSError as error:
        errors.print(
            f"verify: cannot read {outputs}: {error.strerror}", markup=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_INVALID) from None
    except OutputsError as error:
        errors.print(f"verify: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    try:
        session = session_for(parsed.region, profile)
        clients = Clients(
            sts=session.client("sts"),
            eks=session.client("eks"),
            rds=session.client("rds"),
            elasticache=session.client("elasticache"),
            # Both are global services served from us-east-1.
            cloudfront=session.client("cloudfront", region_name="us-east-1"),
            route53=session.client("route53", region_name="us-east-1"),
            elbv2=session.client("elbv2"),
            # The ingress certificate and web ACL are regional: the stack's region.
            acm=session.client("acm"),
            wafv2=session.client("wafv2"),
        )
        checks = verify(
            parsed,
            clients,
            None if no_dns else ParentDelegation(),
            None if no_dns else _host_resolver(),
        )
    except AwsAccessError as error:
        errors.print(f"verify: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    render_checks(checks, console)
    if any(check.status is Status.FAIL for check in checks):
        raise typer.Exit(1)
