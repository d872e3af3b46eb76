"""DnsZone: the stack's public Route53 hosted zone and every record in it that config names.

Creates:
- ``aws.route53.Zone`` for the zone name (protected in prod: replacing a zone changes its name
  servers and takes the domain offline until the registrar is updated), or, when config names
  ``existingZoneId``, uses that zone as it is and manages only the records in it;
- one ``aws.route53.Record`` per configured record (A, AAAA, CNAME, TXT, MX, CAA) and one NS
  record per delegated subdomain whose name servers are known;
- optionally, DNS query logging: a CloudWatch log group in us-east-1 (Route53 writes query logs
  only there), the CloudWatch Logs resource policy that lets Route53 write to it (scoped to this
  account's hosted zones) and the ``aws.route53.QueryLog`` (FSBP Route53.2);
- optionally, DNSSEC signing: an asymmetric ECC_NIST_P256 KMS key in us-east-1 (the only region
  Route53 accepts), a key-signing key and zone signing, plus alarms on the two DNSSEC metrics
  AWS says to watch. The zone's DS record is an output: it must be added at the registrar (or
  parent zone) before the chain of trust is complete.

Record names are fully qualified (``www.genericcorp.com``); validation here checks each record on
its own, and ``zone_problems`` checks records against the zone and each other (names outside the
zone, a CNAME at the apex or beside other records, duplicates, names below a delegation).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import PROD_AUDIT_LOG_RETENTION_DAYS
from pydantic import Field, ValidationInfo, field_validator, model_validator

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
from components.kms_key import KmsKey
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.logs import LogRetentionDays, encrypted_log_group
from components.shared.wiring import EDGE_REGION, Wiring

#: TTL bounds for configured records: at least a minute (lower values multiply query costs and
#: resolvers clamp them anyway) and at most two days (the longest a mistake may stay cached).
MIN_TTL = 60
MAX_TTL = 172_800

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Record owner names may also hold service labels such as _dmarc or _acme-challenge.
_OWNER_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_CAA = re.compile(r'^(?P<flags>\d{1,3}) (?P<tag>issue|issuewild|iodef) "(?P<value>[^"]*)"$')
_MX = re.compile(r"^(?P<priority>\d{1,5}) (?P<host>\S+)$")
#: Route53 accepts at most 255 characters in one TXT string; longer values are split.
_TXT_CHUNK = 255

#: Size of one query-log entry in CloudWatch Logs (about 100 characters of log line plus the
#: 26 bytes CloudWatch counts per event): an estimate for pricing query-log ingestion.
QUERY_LOG_BYTES = 150


def hostname_problem(value: str, *, owner: bool = False) -> str | None:
    """Why ``value`` is not a valid DNS hostname (None when it is).

    ``owner=True`` accepts what record owner names may hold besides hostnames: a leading ``*``
    wildcard label and underscores (``_dmarc.genericcorp.com``).
    """
    name = value.rstrip(".")
    if not name or len(name) > 253:
        return "must be 1 to 253 characters"
    if name != name.lower():
        return "must be lowercase"
    labels = name.split(".")
    if len(labels) < 2:
        return "must have at least two labels (for example genericcorp.com)"
    pattern = _OWNER_LABEL if owner else _HOST_LABEL
    first = labels[0]
    body = labels[1:] if owner and first == "*" else labels
    bad = [label for label in body if not pattern.match(label)]
    if bad:
        allowed = "letters, digits, hyphens" + (" and underscores" if owner else "")
        return (
            f"label {bad[0]!r} is not valid: labels are 1-63 {allowed}, not starting or "
            "ending with a hyphen"
        )
    if labels[-1].isdigit():
        return "the last label cannot be all digits"
    return None


def check_hostname(value: str, *, owner: bool = False) -> str:
    """A pydantic-validator helper: the normalised hostname, or a ValueError naming the rule."""
    problem = hostname_problem(value, owner=owner)
    if problem:
        raise ValueError(f"not a valid domain name: {problem}")
    return value.rstrip(".")


def in_zone(name: str, zone: str) -> bool:
    """Whether ``name`` is the zone apex or below it."""
    return name == zone or name.endswith("." + zone)


def is_subdomain(name: str, zone: str) -> bool:
    """Whether ``name`` is strictly below ``zone``."""
    return name.endswith("." + zone)


class RecordType(StrEnum):
    """Record types config may declare. NS and SOA at the apex belong to Route53; delegations
    have their own list; alias records are made by the components that own their targets."""

    A = "A"
    AAAA = "AAAA"
    CAA = "CAA"
    CNAME = "CNAME"
    MX = "MX"
    TXT = "TXT"


class DnsRecord(SettingsModel):
    """One record set: every value of one name and type."""

    name: str = Field(
        description="Fully qualified name inside the zone, e.g. www.genericcorp.com (the apex "
        "is the zone name itself)."
    )
    type: RecordType = Field(description="Record type: A, AAAA, CAA, CNAME, MX or TXT.")
    ttl: int = Field(
        ge=MIN_TTL,
        le=MAX_TTL,
        description=f"Seconds resolvers cache the record ({MIN_TTL} to {MAX_TTL}).",
    )
    values: list[str] = Field(
        min_length=1,
        description="Values in the type's form: IPv4 for A, IPv6 for AAAA, one hostname for "
        'CNAME, "<priority> <host>" for MX, `<flags> issue|issuewild|iodef "<value>"` for CAA, '
        "plain text for TXT (quoted and split into 255-character strings by the program).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return check_hostname(name, owner=True)

    @field_validator("values")
    @classmethod
    def _values(cls, values: list[str], info: ValidationInfo) -> list[str]:
        record_type = info.data.get("type")
        if record_type is None:
            return values  # the type itself was refused; that error says enough
        if len(set(values)) != len(values):
            raise ValueError("each value may appear once")
        if record_type is RecordType.CNAME and len(values) != 1:
            raise ValueError("a CNAME has exactly one value (the name it points at)")
        for index, value in enumerate(values):
            problem = _value_problem(RecordType(record_type), value)
            if problem:
                raise ValueError(f"values[{index}] = {value!r}: {problem}")
        return values


def _value_problem(record_type: RecordType, value: str) -> str | None:
    if record_type in {RecordType.A, RecordType.AAAA}:
        version = 4 if record_type is RecordType.A else 6
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version != version:
            return f"an {record_type} value must be an IPv{version} address"
        return None
    if record_type is RecordType.CNAME:
        problem = hostname_problem(value)
        return f"the CNAME target is not a valid domain name: {problem}" if problem else None
    if record_type is RecordType.MX:
        match = _MX.match(value)
        if not match or int(match["priority"]) > 65535:
            return 'an MX value is "<priority 0-65535> <mail host>", e.g. "10 mx.genericcorp.com"'
        problem = hostname_problem(match["host"])
        return f"the mail host is not a valid domain name: {problem}" if problem else None
    if record_type is RecordType.CAA:
        return _caa_problem(value)
    if not value or any(ord(c) < 32 or ord(c) > 126 for c in value):  # TXT
        return "TXT values are non-empty printable ASCII text"
    return None


def _caa_problem(value: str) -> str | None:
    match = _CAA.match(value)
    if not match or int(match["flags"]) > 255:
        return (
            'a CAA value is <flags 0-255> issue|issuewild|iodef "<value>", e.g. '
            '0 issue "amazon.com"'
        )
    authority = match["value"]
    if match["tag"] == "iodef":
        if not authority.startswith(("mailto:", "https://")):
            return 'an iodef value is a mailto: or https:// URL, e.g. 0 iodef "mailto:sec@x.com"'
        return None
    # issue/issuewild: a CA's domain, optionally with parameters, or ";" to allow no CA.
    domain = authority.split(";", 1)[0].strip()
    if domain and hostname_problem(domain):
        return f"{domain!r} is not a certificate authority's domain name"
    if not domain and authority.strip() != ";":
        return 'an issue value names a CA\'s domain, or is ";" to allow none'
    return None


class DnsDelegation(SettingsModel):
    """A subdomain whose records live in another zone (for example another stack's)."""

    name: str = Field(description="Fully qualified subdomain, e.g. dev.genericcorp.com.")
    name_servers: list[str] = Field(
        max_length=8,
        description="The child zone's name servers (its stack's dns.nameServers output). Empty "
        "until the child zone exists: no NS record is created then.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return check_hostname(name)

    @field_validator("name_servers")
    @classmethod
    def _name_servers(cls, servers: list[str]) -> list[str]:
        for index, server in enumerate(servers):
            problem = hostname_problem(server)
            if problem:
                raise ValueError(f"nameServers[{index}] = {server!r} is not a domain: {problem}")
        if len(set(servers)) != len(servers):
            raise ValueError("each name server may appear once")
        return [server.rstrip(".") for server in servers]


class QueryLoggingSettings(SettingsModel):
    """DNS query logs to CloudWatch Logs in us-east-1 (FSBP Route53.2)."""

    enabled: bool = Field(description="Log every DNS query Route53 answers for the zone.")
    retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps query logs (one of CloudWatch's periods)."
    )


class DnsSettings(SettingsModel):
    """The stack's public hosted zone and its records."""

    zone_name: str = Field(description="Domain the zone serves, e.g. genericcorp.com.")
    parent_zone: str | None = Field(
        description="Zone that delegates to this one with NS records (e.g. genericcorp.com for "
        "dev.genericcorp.com); null when the domain's name servers are set at the registrar.",
    )
    existing_zone_id: str | None = Field(
        description="Id of an existing public hosted zone to manage records in instead of "
        "creating one (the zone itself is then left alone, also on destroy); null to create.",
    )
    records: list[DnsRecord] = Field(description="Record sets of the zone.")
    delegations: list[DnsDelegation] = Field(
        description="Subdomains delegated to other zones with NS records."
    )
    query_logging: QueryLoggingSettings = Field(description="DNS query logging.")
    dnssec: bool = Field(
        description="Sign the zone with DNSSEC. The DS record output must then be added at the "
        "registrar (or parent zone); see docs/dns.md.",
    )

    @field_validator("zone_name")
    @classmethod
    def _zone_name(cls, name: str) -> str:
        return check_hostname(name)

    @field_validator("parent_zone")
    @classmethod
    def _parent_zone(cls, name: str | None) -> str | None:
        return None if name is None else check_hostname(name)

    @field_validator("existing_zone_id")
    @classmethod
    def _zone_id(cls, zone_id: str | None) -> str | None:
        if zone_id is not None and not re.fullmatch(r"Z[A-Z0-9]{1,31}", zone_id):
            raise ValueError("not a Route53 hosted zone id (Z followed by letters and digits)")
        return zone_id

    @model_validator(mode="after")
    def _parent_contains_zone(self) -> DnsSettings:
        if self.parent_zone is not None and not self.zone_name.endswith("." + self.parent_zone):
            raise ValueError(
                f"parentZone {self.parent_zone!r} must be a parent domain of zoneName "
                f"{self.zone_name!r}"
            )
        return self


def valid_delegations(settings: DnsSettings) -> list[str]:
    """Names of the delegated subdomains that really are below the zone."""
    return sorted(
        {d.name for d in settings.delegations if is_subdomain(d.name, settings.zone_name)}
    )


@dataclass(frozen=True)
class SettingsProblem:
    """A problem found by comparing settings with each other; ``path`` is relative to the key."""

    path: str
    value: object
    message: str


def zone_problems(settings: DnsSettings, reserved: Sequence[str] = ()) -> list[SettingsProblem]:
    """Problems between records, delegations and the zone (each record alone is valid).

    ``reserved`` lists names other components create records at (the CDN's alias), which a
    configured record may not take.
    """
    zone = settings.zone_name
    problems: list[SettingsProblem] = []
    names = [d.name for d in settings.delegations]
    for index, name in enumerate(names):
        path = f"delegations[{index}].name"
        if not is_subdomain(name, zone):
            problems.append(SettingsProblem(path, name, f"must be a subdomain of {zone}"))
        elif names.index(name) != index:
            problems.append(SettingsProblem(path, name, "delegated twice"))
    # Only well-formed delegations are held against records: one mistake, one message.
    delegated = valid_delegations(settings)

    seen: dict[tuple[str, RecordType], int] = {}
    for index, record in enumerate(settings.records):
        path = f"records[{index}].name"
        name = record.name
        if not in_zone(name, zone):
            problems.append(
                SettingsProblem(
                    path, name, f"outside the zone {zone}: use {zone} or a name ending in .{zone}"
                )
            )
            continue
        if record.type is RecordType.CNAME and name == zone:
            problems.append(
                SettingsProblem(
                    path,
                    name,
                    "a CNAME cannot be at the zone apex (the apex holds the zone's SOA and NS "
                    "records); use an A/AAAA record instead",
                )
            )
        below = [d for d in delegated if in_zone(name, d)]
        if below:
            problems.append(
                SettingsProblem(
                    path, name, f"inside the delegated subdomain {below[0]}: its own zone holds it"
                )
            )
        if name in reserved:
            problems.append(
                SettingsProblem(path, name, "the CDN's alias records use this name; pick another")
            )
        key = (name, record.type)
        if key in seen:
            problems.append(
                SettingsProblem(
                    path,
                    name,
                    f"records[{seen[key]}] already declares {record.type} {name}; put all "
                    "values in one record",
                )
            )
        seen.setdefault(key, index)
    for index, record in enumerate(settings.records):
        others = [
            other.type
            for other in settings.records
            if other.name == record.name and other.type is not record.type
        ]
        if record.type is RecordType.CNAME and others:
            problems.append(
                SettingsProblem(
                    f"records[{index}].name",
                    record.name,
                    f"a CNAME cannot share its name with other records ({', '.join(others)} "
                    f"{record.name}); DNS answers only the CNAME at that name",
                )
            )
    return problems


def txt_value(text: str) -> str:
    """A TXT value as Route53 wants it: quoted strings of at most 255 characters each."""
    # The limit applies to the text itself, so split first and escape afterwards.
    chunks = [text[i : i + _TXT_CHUNK] for i in range(0, len(text), _TXT_CHUNK)]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


def record_values(record: DnsRecord) -> list[str]:
    """The values Route53 receives for a configured record."""
    if record.type is RecordType.TXT:
        return [txt_value(value) for value in record.values]
    return list(record.values)


@dataclass(frozen=True)
class ExistingZone:
    """A hosted zone the stack uses but does not manage (``existingZoneId``)."""

    zone_id: str
    name_servers: Sequence[str]


@dataclass(frozen=True)
class DnsZoneParts:
    """What a ``DnsZone`` declares, known from its settings alone: whether it creates the zone,
    the delegations it points, query logging with its key, and DNSSEC's key and alarms.
    ``DnsZone`` declares these and ``cost_lines`` prices these, so the estimate, made before
    anything is declared, counts what the zone will have."""

    settings: DnsSettings

    query_log_key_purpose: ClassVar[str] = "dns-query-logs"
    """The key of the query-log group (in ``EDGE_REGION``, where the group lives)."""
    signing_key_purpose: ClassVar[str] = "dnssec"
    """The asymmetric key Route53 signs the zone with (its key-signing key)."""

    @property
    def creates_zone(self) -> bool:
        """Whether the stack creates (and pays for) the zone, rather than using an existing one
        whose owner pays for it."""
        return self.settings.existing_zone_id is None

    @property
    def delegations(self) -> tuple[DnsDelegation, ...]:
        """The delegations that get NS records: those whose child zone's name servers are known
        (until the child zone exists there is nothing to point at; see docs/dns.md)."""
        return tuple(d for d in self.settings.delegations if d.name_servers)

    @property
    def query_logging(self) -> QueryLoggingSettings | None:
        """Query logging's settings, or None when the zone's queries are not logged."""
        logging = self.settings.query_logging
        return logging if logging.enabled else None

    @property
    def alarms(self) -> tuple[AlarmSpec, ...]:
        """The two DNSSEC metrics AWS says to watch, when the zone is signed: either means
        validating resolvers may stop resolving the zone."""
        if not self.settings.dnssec:
            return ()
        zone = self.settings.zone_name
        return tuple(
            AlarmSpec(
                metric,
                "AWS/Route53",
                metric,
                0,
                f"{meaning}: validating resolvers may stop resolving {zone}. See docs/dns.md.",
                statistic="Maximum",
                evaluation_periods=1,
                treat_missing_data="notBreaching",
            )
            for metric, meaning in (
                ("DNSSECInternalFailure", "Route53 could not sign the zone"),
                ("DNSSECKeySigningKeysNeedingAction", "a key-signing key needs action (KMS key)"),
            )
        )

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of these parts. Records are free (part of the zone), as are alias
        queries to CloudFront; an existing zone is paid for by whoever owns it."""
        component = DnsZone.COMPONENT
        settings = self.settings
        queries = usage.dns_queries_millions
        lines: list[CostLine] = []
        if self.creates_zone:
            lines.append(
                CostLine.fixed(
                    component,
                    "Hosted zone",
                    catalog.price("route53.hosted-zone", resource="aws:route53/zone:Zone"),
                    1,
                    note=settings.zone_name,
                )
            )
        lines.append(
            CostLine.usage(
                component,
                "DNS queries",
                catalog.price("route53.standard-queries", resource="aws:route53/zone:Zone"),
                queries,
                note="standard queries, in millions",
            )
        )
        logging = self.query_logging
        if logging is not None:
            ingested = None if queries is None else queries * 1e6 * QUERY_LOG_BYTES / 1024**3
            lines += [
                CostLine.usage(
                    component,
                    "Query-log ingestion",
                    catalog.price(
                        "cloudwatch.logs.ingestion", resource="aws:route53/queryLog:QueryLog"
                    ),
                    ingested,
                    note=f"every query, about {QUERY_LOG_BYTES} bytes each (an estimate)",
                ),
                CostLine.usage(
                    component,
                    "Query-log storage",
                    catalog.price("cloudwatch.logs.storage", resource="Route53 query-log group"),
                    None
                    if ingested is None
                    else ingested * logging.retention_days / DAYS_PER_MONTH,
                    note=f"kept {logging.retention_days} days (upper bound: stored uncompressed)",
                ),
                *KmsKey.cost_lines(component, catalog, purposes=[self.query_log_key_purpose]),
            ]
        if settings.dnssec:
            # The key-signing key is an asymmetric KMS key: $1 a month like any other. Route53
            # signs with it only when it rotates the zone-signing key, so requests are nil.
            lines += [
                CostLine.fixed(
                    component,
                    f"KMS key ({self.signing_key_purpose})",
                    catalog.price("kms.customer-managed-key", resource="aws:kms/key:Key"),
                    1,
                    note="ECC_NIST_P256, asymmetric",
                ),
                alarm_line(component, catalog, len(self.alarms), label="DNSSEC alarms"),
            ]
        return lines


class DnsZone(PlatformComponent):
    """A public hosted zone with configured records, query logging and DNSSEC.

    Steps: the zone (created, or an existing one adopted); its records and delegations; query
    logging to ``EDGE_REGION``; DNSSEC signing (the key in ``EDGE_REGION``, the key-signing key,
    zone signing) and its alarms. ``parts`` says what each step declares; ``wiring`` names,
    encrypts, alerts and places the edge resources.
    """

    TYPE: ClassVar[str] = "genericcorp:edge:DnsZone"
    COMPONENT: ClassVar[str] = "dns"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "zoneId": "Route53 hosted zone id.",
        "zoneName": "Domain the zone serves.",
        "nameServers": "Name servers of the zone: the registrar or parent zone must name them.",
        "registrarInstruction": "One line: what to set where so the world resolves (and trusts) "
        "the zone.",
        "dsRecord": "DS record to add at the registrar or parent zone (null when unsigned).",
        "records": "Every name with records in the zone: configured records, delegations and "
        "the names other components create (the CDN's alias).",
    }

    zone_id: pulumi.Output[str]
    """Id of the hosted zone, created or adopted: other components add their records to it."""

    def __init__(
        self,
        name: str,
        parts: DnsZoneParts,
        *,
        wiring: Wiring,
        existing_zone: ExistingZone | None = None,
        names_of_others: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``existing_zone`` is the zone ``existingZoneId`` names, looked up (required then);
        ``names_of_others`` are the names other components create records at in this zone (the
        CDN's alias), published in ``records`` beside the zone's own."""
        super().__init__(name, context=wiring.context, opts=opts)
        self._zone_name = parts.settings.zone_name
        self.zone_id, name_servers = self._zone(parts, existing_zone)
        own_names = self._records(parts)
        if parts.query_logging is not None:
            self._query_logging(parts.query_logging, wiring)
        ds_record = self._dnssec(parts, wiring) if parts.settings.dnssec else None
        self.publish(
            {
                "zoneId": self.zone_id,
                "zoneName": self._zone_name,
                "nameServers": name_servers,
                "registrarInstruction": registrar_instruction(
                    parts.settings, name_servers, ds_record
                ),
                "dsRecord": ds_record,
                "records": sorted({*own_names, *names_of_others}),
            }
        )

    def _zone(
        self, parts: DnsZoneParts, existing_zone: ExistingZone | None
    ) -> tuple[pulumi.Output[str], pulumi.Output[Sequence[str]]]:
        """The zone's id and name servers. An existing zone is looked up, not imported: it
        outlives the stack, whoever created it. A created zone is protected in prod: replacing
        it changes its name servers and takes the domain offline until the registrar follows."""
        if not parts.creates_zone:
            if existing_zone is None:
                raise ValueError("existingZoneId is set: pass the zone it names as existing_zone")
            return (
                pulumi.Output.from_input(existing_zone.zone_id),
                pulumi.Output.from_input(list(existing_zone.name_servers)),
            )
        zone = aws.route53.Zone(
            f"{self._name}-zone",
            name=self._zone_name,
            comment=f"{self.context.physical_name('dns')}: public zone of {self._zone_name}",
            force_destroy=False,
            tags=self.tags("dns"),
            opts=self.child_opts(protect=self.context.is_prod),
        )
        return zone.zone_id, zone.name_servers

    def _records(self, parts: DnsZoneParts) -> list[str]:
        """The configured records and the delegations' NS records; returns the names they use,
        which the ``records`` output lists."""
        for record in parts.settings.records:
            aws.route53.Record(
                f"{self._name}-{record.name}-{record.type}",
                zone_id=self.zone_id,
                name=record.name,
                type=str(record.type),
                ttl=record.ttl,
                records=record_values(record),
                opts=self.child_opts(),
            )
        for delegation in parts.delegations:
            aws.route53.Record(
                f"{self._name}-{delegation.name}-NS",
                zone_id=self.zone_id,
                name=delegation.name,
                type="NS",
                # Two days, as Route53 sets for a zone's own NS records: delegations rarely move.
                ttl=MAX_TTL,
                records=delegation.name_servers,
                opts=self.child_opts(),
            )
        return [
            *(record.name for record in parts.settings.records),
            *(delegation.name for delegation in parts.delegations),
        ]

    def _query_logging(self, settings: QueryLoggingSettings, wiring: Wiring) -> None:
        """Route53 writes query logs to CloudWatch Logs in ``EDGE_REGION`` only, so the log
        group and its key live there; it may write once a resource policy lets it."""
        log_group = encrypted_log_group(
            self,
            f"{self._name}-query-logs",
            log_group_name=f"/aws/route53/{self._zone_name}",
            retention_days=settings.retention_days,
            kms=wiring.kms,
            purpose=DnsZoneParts.query_log_key_purpose,
            description=f"encrypts the DNS query logs of {self._zone_name}",
            statement_sid="CloudWatchLogsEncryptsQueryLogs",
            tag="dns-query-logs",
            provider=wiring.edge_provider,
            region=EDGE_REGION,
        )
        write_access = aws.cloudwatch.LogResourcePolicy(
            f"{self._name}-query-logs-policy",
            policy_name=self.context.physical_name("route53-query-logs"),
            policy_document=policy_document(
                [
                    {
                        "Sid": "Route53WritesQueryLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "route53.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": pulumi.Output.concat(log_group.arn, ":*"),
                        "Condition": _zones_of_account(self.context),
                    }
                ]
            ),
            opts=self.child_opts(provider=wiring.edge_provider),
        )
        aws.route53.QueryLog(
            f"{self._name}-query-log",
            zone_id=self.zone_id,
            cloudwatch_log_group_arn=log_group.arn,
            # Route53 checks that it may write when the configuration is created.
            opts=self.child_opts(depends_on=[write_access]),
        )

    def _dnssec(self, parts: DnsZoneParts, wiring: Wiring) -> pulumi.Output[str]:
        """Sign the zone and watch the signing; returns the DS record the registrar (or parent
        zone) must publish before resolvers can validate the zone."""
        key = self._signing_key(wiring)
        signing_key = aws.route53.KeySigningKey(
            f"{self._name}-ksk",
            hosted_zone_id=self.zone_id,
            key_management_service_arn=key.arn,
            name=f"{self.context.project}_{self.context.stack}_ksk".replace("-", "_"),
            status="ACTIVE",
            opts=self.child_opts(),
        )
        aws.route53.HostedZoneDnsSec(
            f"{self._name}-dnssec",
            hosted_zone_id=signing_key.hosted_zone_id,
            signing_status="SIGNING",
            opts=self.child_opts(depends_on=[signing_key]),
        )
        for spec in parts.alarms:
            metric_alarm(
                self,
                f"{self._name}-{spec.suffix}",
                spec,
                dimensions={"HostedZoneId": self.zone_id},
                topic_arn=wiring.edge_alarm_topic,
                tag=f"dns-{spec.suffix}",
                # Route53 publishes its metrics in EDGE_REGION only.
                provider=wiring.edge_provider,
            )
        return signing_key.ds_record

    def _signing_key(self, wiring: Wiring) -> aws.kms.Key:
        """Route53 requires an asymmetric P-256 signing key in ``EDGE_REGION``. Asymmetric keys
        cannot rotate automatically; rotating a KSK is a registrar-coordinated procedure."""
        context = self.context
        purpose = DnsZoneParts.signing_key_purpose
        key = aws.kms.Key(
            f"{self._name}-dnssec-key",
            description=f"{context.physical_name(purpose)}: signs {self._zone_name} (DNSSEC KSK)",
            customer_master_key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
            deletion_window_in_days=wiring.kms.deletion_window_days,
            policy=policy_document(_signing_key_statements(context)),
            tags=self.tags(purpose, Purpose=purpose),
            # Losing the key while the DS record is published makes the domain unresolvable.
            opts=self.child_opts(provider=wiring.edge_provider, protect=context.is_prod),
        )
        aws.kms.Alias(
            f"{self._name}-dnssec-key-alias",
            name=f"alias/{context.project}/{context.stack}/{purpose}",
            target_key_id=key.key_id,
            opts=self.child_opts(provider=wiring.edge_provider),
        )
        return key


def _zones_of_account(context: StackContext) -> dict[str, object]:
    """Confused-deputy guard for Route53 acting as a service: only this account's hosted zones."""
    return {
        "StringEquals": {"aws:SourceAccount": context.account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{context.partition}:route53:::hostedzone/*"},
    }


def _signing_key_statements(context: StackContext) -> list[dict[str, object]]:
    """The signing key's policy: the account administers it; Route53's DNSSEC service signs
    with it for this account's zones and may grant itself access for that purpose only."""
    return [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": context.account_root_arn},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Route53DnssecSigns",
            "Effect": "Allow",
            "Principal": {"Service": "dnssec-route53.amazonaws.com"},
            "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
            "Resource": "*",
            "Condition": _zones_of_account(context),
        },
        {
            "Sid": "Route53DnssecGrants",
            "Effect": "Allow",
            "Principal": {"Service": "dnssec-route53.amazonaws.com"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def registrar_instruction(
    settings: DnsSettings,
    name_servers: pulumi.Input[Sequence[str]],
    ds_record: pulumi.Output[str] | None,
) -> pulumi.Output[str]:
    """One line: what to set where, so that the world resolves the zone (and trusts it)."""
    zone = settings.zone_name
    if settings.parent_zone is None:
        where = f"At the registrar of {zone}, set the name servers to"
        ds_where = "the registrar"
    else:
        where = (
            f"In the parent zone {settings.parent_zone}, set NS records for {zone} "
            f"(genericcorp:dns.delegations of the stack that owns it) to"
        )
        ds_where = f"the parent zone {settings.parent_zone}"

    def render(args: list[object]) -> str:
        servers = args[0]
        listed = ", ".join(str(s) for s in servers) if isinstance(servers, list) else ""
        line = f"{where} {listed}."
        if len(args) > 1:
            line += f" DNSSEC: then add this DS record at {ds_where}: {args[1]}."
        return line

    parts: list[pulumi.Input[object]] = [name_servers]
    if ds_record is not None:
        parts.append(ds_record)
    return pulumi.Output.all(*parts).apply(render)


# Defaults per environment and prod rules

# The only certificate authorities in use: Amazon (ACM, for the CDN) and Let's Encrypt (Vercel,
# for the landing page and the demo). Nobody may issue wildcard certificates.
_CAA_AMAZON = ['0 issue "amazon.com"', '0 issue "amazontrust.com"']
_CAA_VERCEL = ['0 issue "letsencrypt.org"']
_CAA_NO_WILDCARDS = ['0 issuewild ";"']
_VERCEL_CNAME = "cname.vercel-dns.com"
_VERCEL_APEX_IP = "76.76.21.21"
#: Record values that send a name to Vercel: the availability model serves a name from Vercel
#: when one of its records holds one of them.
VERCEL_TARGETS = frozenset({_VERCEL_CNAME, _VERCEL_APEX_IP})
# Five minutes for records that may need to move quickly (Vercel targets); an hour for policy.
_SHORT_TTL = 300
_POLICY_TTL = 3600

DNS_DEFAULTS = ByEnvironment(
    dev=DnsSettings(
        zone_name="dev.genericcorp.com",
        # Delegated by NS records in the prod zone (prod's dns.delegations).
        parent_zone="genericcorp.com",
        existing_zone_id=None,
        records=[
            DnsRecord(
                name="dev.genericcorp.com",
                type=RecordType.CAA,
                ttl=_POLICY_TTL,
                values=[*_CAA_AMAZON, *_CAA_NO_WILDCARDS],
            )
        ],
        delegations=[],
        # Off: a dev zone's queries are not audit evidence. DNSSEC off: it needs a DS record in
        # the prod zone and a $1/month key, for a zone only the team resolves.
        query_logging=QueryLoggingSettings(enabled=False, retention_days=30),
        dnssec=False,
    ),
    prod=DnsSettings(
        zone_name="genericcorp.com",
        # Registered directly: the name servers are set at the registrar (docs/dns.md).
        parent_zone=None,
        existing_zone_id=None,
        records=[
            DnsRecord(
                name="genericcorp.com",
                type=RecordType.A,
                ttl=_SHORT_TTL,
                values=[_VERCEL_APEX_IP],
            ),
            DnsRecord(
                name="www.genericcorp.com",
                type=RecordType.CNAME,
                ttl=_SHORT_TTL,
                values=[_VERCEL_CNAME],
            ),
            DnsRecord(
                name="demo.genericcorp.com",
                type=RecordType.CNAME,
                ttl=_SHORT_TTL,
                values=[_VERCEL_CNAME],
            ),
            DnsRecord(
                name="genericcorp.com",
                type=RecordType.CAA,
                ttl=_POLICY_TTL,
                values=[*_CAA_AMAZON, *_CAA_VERCEL, *_CAA_NO_WILDCARDS],
            ),
        ],
        # The dev zone's name servers: empty until the dev stack exists (docs/dns.md).
        delegations=[DnsDelegation(name="dev.genericcorp.com", name_servers=[])],
        query_logging=QueryLoggingSettings(enabled=True, retention_days=365),
        dnssec=True,
    ),
)

DNS_PROD_RULES = (
    switched_on(
        DnsSettings,
        key=lambda s: s.query_logging.enabled,
        reason="DNS query logs are the audit trail of the public zone (FSBP Route53.2)",
        policy="route53-2-query-logging",
    ),
    ProdRule(
        DnsSettings,
        key=lambda s: s.query_logging.retention_days,
        accepts=lambda days: days >= PROD_AUDIT_LOG_RETENTION_DAYS,
        allowed=f"{PROD_AUDIT_LOG_RETENTION_DAYS} or more",
        reason="DNS audit records are kept for at least a year",
        policy="cloudwatch-audit-log-retention",
    ),
    switched_on(
        DnsSettings,
        key=lambda s: s.dnssec,
        reason="the zone is signed so resolvers can detect forged answers; switching signing off "
        "while the registrar still publishes the DS record makes the domain unresolvable for "
        "validating resolvers (remove the DS record at the registrar first, see docs/dns.md)",
        policy="route53-dnssec",
    ),
)
