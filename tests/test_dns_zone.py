"""The DNS zone in both stacks: Vercel records, CAA, delegation, query logging, DNSSEC, adoption,
and every record the configuration must refuse."""

from __future__ import annotations

from typing import Any

import pytest

from components.dns_zone import MAX_TTL, MIN_TTL, DnsZoneParts, hostname_problem, txt_value
from infra.config import ConfigError, parse_stack_config
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import minimal_values, plan_with, policy, region_of, stack_config, statements

ZONE = "aws:route53/zone:Zone"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DNS = "genericcorp:dns"
ZONE_NAMES = {"dev": "dev.genericcorp.com", "prod": "genericcorp.com"}
VERCEL = "cname.vercel-dns.com"
DEV_NAME_SERVERS = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"]


def records(plan: Plan) -> dict[tuple[str, str], PlannedResource]:
    return {(r.inputs["name"], r.inputs["type"]): r for r in plan.of_type(RECORD)}


def zone_records(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.of_type(RECORD) if r.name.startswith("dns-")]


# --- the zone -------------------------------------------------------------------------------


def test_each_stack_owns_its_zone(plan: Plan) -> None:
    zone = plan.one(ZONE)
    assert zone.inputs["name"] == ZONE_NAMES[plan.stack]
    assert zone.inputs["forceDestroy"] is False
    # Replacing the prod zone would change its name servers: the domain would go dark.
    assert zone.protect is (plan.stack == "prod")
    assert zone.tags["Component"] == "dns"


def test_every_record_lives_in_the_stacks_zone(plan: Plan) -> None:
    zone_id = plan.one(ZONE).outputs["zoneId"]
    assert plan.of_type(RECORD)
    for record in plan.of_type(RECORD):
        assert record.inputs["zoneId"] == zone_id, record.urn
        name = str(record.inputs["name"]).rstrip(".")
        assert name == ZONE_NAMES[plan.stack] or name.endswith("." + ZONE_NAMES[plan.stack])


def test_prod_points_the_landing_page_and_the_demo_at_vercel(prod_plan: Plan) -> None:
    found = records(prod_plan)
    apex = found[("genericcorp.com", "A")]
    assert apex.inputs["records"] == ["76.76.21.21"]
    for name in ("www.genericcorp.com", "demo.genericcorp.com"):
        assert found[(name, "CNAME")].inputs["records"] == [VERCEL]
        assert found[(name, "CNAME")].inputs["ttl"] == 300


def test_caa_allows_only_the_certificate_authorities_in_use(plan: Plan) -> None:
    caa = records(plan)[(ZONE_NAMES[plan.stack], "CAA")]
    issuers = {"dev": {"amazon.com", "amazontrust.com"}}.get(
        plan.stack, {"amazon.com", "amazontrust.com", "letsencrypt.org"}
    )
    assert set(caa.inputs["records"]) == {f'0 issue "{ca}"' for ca in issuers} | {'0 issuewild ";"'}


def test_dev_holds_no_vercel_records(dev_plan: Plan) -> None:
    assert not [r for r in dev_plan.of_type(RECORD) if r.inputs.get("records") == [VERCEL]]


def test_prod_delegates_dev_only_once_its_name_servers_are_known(prod_plan: Plan) -> None:
    assert ("dev.genericcorp.com", "NS") not in records(prod_plan)
    plan = plan_with(
        "prod",
        {DNS: {"delegations": [{"name": "dev.genericcorp.com", "nameServers": DEV_NAME_SERVERS}]}},
    )
    delegation = records(plan)[("dev.genericcorp.com", "NS")]
    assert delegation.inputs["records"] == DEV_NAME_SERVERS
    assert delegation.inputs["ttl"] == MAX_TTL
    assert "dev.genericcorp.com" in plan.outputs["dns"]["records"]


# --- query logging --------------------------------------------------------------------------


def test_prod_logs_queries_to_a_us_east_1_log_group(prod_plan: Plan) -> None:
    log_group = prod_plan.named("dns-query-logs")
    assert log_group.inputs["name"] == "/aws/route53/genericcorp.com"
    assert log_group.inputs["retentionInDays"] == 365
    assert region_of(prod_plan, log_group) == "us-east-1"
    query_log = prod_plan.one("aws:route53/queryLog:QueryLog")
    assert query_log.inputs["cloudwatchLogGroupArn"] == log_group.outputs["arn"]
    assert query_log.inputs["zoneId"] == prod_plan.one(ZONE).outputs["zoneId"]


def test_query_logs_are_encrypted_with_a_us_east_1_key_only_that_log_group_may_use(
    prod_plan: Plan,
) -> None:
    log_group = prod_plan.named("dns-query-logs")
    key = prod_plan.named("dns-query-logs-key", "aws:kms/key:Key")
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert region_of(prod_plan, key) == "us-east-1"
    assert key.inputs["enableKeyRotation"] is True
    logs = next(s for s in statements(policy(key, "policy")) if s["Sid"].startswith("CloudWatch"))
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:"
            "log-group:/aws/route53/genericcorp.com"
        }
    }


def test_only_this_accounts_zones_may_write_query_logs(prod_plan: Plan) -> None:
    resource_policy = prod_plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    assert region_of(prod_plan, resource_policy) == "us-east-1"
    [statement] = statements(policy(resource_policy, "policyDocument"))
    assert statement["Principal"] == {"Service": "route53.amazonaws.com"}
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    log_group_arn = prod_plan.named("dns-query-logs").outputs["arn"]
    assert statement["Resource"] == f"{log_group_arn}:*"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"},
    }
    # Route53 refuses the logging configuration until it may write.
    assert resource_policy.urn in prod_plan.one("aws:route53/queryLog:QueryLog").dependencies


def test_dev_does_not_log_queries(dev_plan: Plan) -> None:
    assert dev_plan.of_type("aws:route53/queryLog:QueryLog") == []
    assert dev_plan.of_type("aws:cloudwatch/logResourcePolicy:LogResourcePolicy") == []


# --- DNSSEC ---------------------------------------------------------------------------------


def test_prod_signs_the_zone_with_a_p256_key_in_us_east_1(prod_plan: Plan) -> None:
    key = prod_plan.named("dns-dnssec-key", "aws:kms/key:Key")
    assert key.inputs["customerMasterKeySpec"] == "ECC_NIST_P256"
    assert key.inputs["keyUsage"] == "SIGN_VERIFY"
    assert region_of(prod_plan, key) == "us-east-1"
    assert key.protect is True
    ksk = prod_plan.one("aws:route53/keySigningKey:KeySigningKey")
    assert ksk.inputs["keyManagementServiceArn"] == key.outputs["arn"]
    assert ksk.inputs["status"] == "ACTIVE"
    signing = prod_plan.one("aws:route53/hostedZoneDnsSec:HostedZoneDnsSec")
    assert signing.inputs["signingStatus"] == "SIGNING"
    assert signing.inputs["hostedZoneId"] == prod_plan.one(ZONE).outputs["zoneId"]
    assert ksk.urn in signing.dependencies


def test_only_route53_dnssec_for_this_account_may_sign(prod_plan: Plan) -> None:
    key = prod_plan.named("dns-dnssec-key", "aws:kms/key:Key")
    by_sid = {s["Sid"]: s for s in statements(policy(key, "policy"))}
    assert set(by_sid) == {"AccountAdministration", "Route53DnssecSigns", "Route53DnssecGrants"}
    signs = by_sid["Route53DnssecSigns"]
    assert signs["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}
    assert signs["Action"] == ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
    assert signs["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    grants = by_sid["Route53DnssecGrants"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_dnssec_failures_alarm_in_us_east_1(prod_plan: Plan) -> None:
    topic_arn = prod_plan.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = [a for a in prod_plan.of_type(ALARM) if a.inputs["metricName"].startswith("DNSSEC")]
    assert {a.inputs["metricName"] for a in alarms} == {
        "DNSSECInternalFailure",
        "DNSSECKeySigningKeysNeedingAction",
    }
    for alarm in alarms:
        assert region_of(prod_plan, alarm) == "us-east-1"
        assert alarm.inputs["dimensions"] == {"HostedZoneId": prod_plan.one(ZONE).outputs["zoneId"]}
        assert alarm.inputs["alarmActions"] == [topic_arn]


def test_the_zone_and_the_alarms_its_parts_price_are_declared(plan: Plan) -> None:
    parts = DnsZoneParts(stack_config(plan.stack).dns)
    assert len(plan.of_type(ZONE)) == int(parts.creates_zone)
    zone_alarms = [r for r in plan.children(plan.named("dns").urn) if r.type == ALARM]
    assert {a.name for a in zone_alarms} == {f"dns-{spec.suffix}" for spec in parts.alarms}
    assert len(parts.alarms) == (2 if plan.stack == "prod" else 0)


def test_dev_zone_is_unsigned(dev_plan: Plan) -> None:
    assert dev_plan.of_type("aws:route53/keySigningKey:KeySigningKey") == []
    assert dev_plan.outputs["dns"]["dsRecord"] is None


# --- outputs --------------------------------------------------------------------------------


def test_outputs_name_the_zone_and_its_records(plan: Plan) -> None:
    zone = plan.one(ZONE)
    dns = plan.outputs["dns"]
    assert dns["zoneId"] == zone.outputs["zoneId"]
    assert dns["zoneName"] == ZONE_NAMES[plan.stack]
    assert dns["nameServers"] == zone.outputs["nameServers"]
    expected = {str(r.inputs["name"]) for r in zone_records(plan)} | {
        plan.outputs["cdn"]["aliasDomain"],
        plan.outputs["ingress"]["appsDomain"],  # its CAA record
    }
    assert dns["records"] == sorted(expected)


def test_prod_instruction_names_the_registrar_name_servers_and_ds_record(prod_plan: Plan) -> None:
    dns = prod_plan.outputs["dns"]
    instruction = dns["registrarInstruction"]
    assert "\n" not in instruction
    assert instruction.startswith("At the registrar of genericcorp.com, set the name servers to ")
    assert all(server in instruction for server in dns["nameServers"])
    ds_record = prod_plan.one("aws:route53/keySigningKey:KeySigningKey").outputs["dsRecord"]
    assert dns["dsRecord"] == ds_record
    assert f"DS record at the registrar: {ds_record}" in instruction


def test_dev_instruction_names_the_parent_zone(dev_plan: Plan) -> None:
    dns = dev_plan.outputs["dns"]
    instruction = dns["registrarInstruction"]
    assert instruction.startswith(
        "In the parent zone genericcorp.com, set NS records for dev.genericcorp.com"
    )
    assert all(server in instruction for server in dns["nameServers"])
    assert "DS record" not in instruction


# --- adopting an existing zone --------------------------------------------------------------


def test_an_existing_zone_is_used_not_created() -> None:
    plan = plan_with("prod", {DNS: {"existingZoneId": "Z0EXISTINGPUBLIC1"}})
    assert plan.of_type(ZONE) == []
    assert plan.outputs["dns"]["zoneId"] == "Z0EXISTINGPUBLIC1"
    assert {r.inputs["zoneId"] for r in plan.of_type(RECORD)} == {"Z0EXISTINGPUBLIC1"}
    assert plan.one("aws:route53/queryLog:QueryLog").inputs["zoneId"] == "Z0EXISTINGPUBLIC1"


@pytest.mark.parametrize(
    ("stack", "zone_id", "message"),
    [
        ("dev", "Z0EXISTINGPUBLIC1", "is the zone of genericcorp.com, not of zoneName dev."),
        ("prod", "Z0EXISTINGPRIVATE", "is a private hosted zone"),
    ],
)
def test_an_existing_zone_must_be_the_configured_public_zone(
    stack: str, zone_id: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack(stack, config_overrides={DNS: {"existingZoneId": zone_id}})
    [problem] = caught.value.problems
    assert problem.path == "genericcorp:dns.existingZoneId"
    assert message in problem.message


# --- values as Route53 wants them -------------------------------------------------------------


def test_txt_values_are_quoted_and_split_into_255_character_strings() -> None:
    assert txt_value("v=spf1 -all") == '"v=spf1 -all"'
    assert txt_value('say "hi"') == '"say \\"hi\\""'
    long = "k=" + "a" * 400
    assert txt_value(long) == f'"{long[:255]}" "{long[255:]}"'


def test_txt_records_reach_route53_quoted() -> None:
    spf = {"name": "genericcorp.com", "type": "TXT", "ttl": 3600, "values": ["v=spf1 -all"]}
    plan = plan_with(
        "dev",
        {
            DNS: {"zoneName": "genericcorp.com", "parentZone": None, "records": [spf]},
            "genericcorp:cdn": {"domain": "cdn.genericcorp.com"},
        },
    )
    assert records(plan)[("genericcorp.com", "TXT")].inputs["records"] == ['"v=spf1 -all"']


@pytest.mark.parametrize(
    ("name", "owner", "valid"),
    [
        ("genericcorp.com", False, True),
        ("a-b.genericcorp.com", False, True),
        ("_dmarc.genericcorp.com", True, True),
        ("*.genericcorp.com", True, True),
        ("_dmarc.genericcorp.com", False, False),
        ("-bad.genericcorp.com", False, False),
        ("genericcorp", False, False),
        ("Genericcorp.com", False, False),
        ("a..genericcorp.com", False, False),
        ("genericcorp.123", False, False),
        ("x" * 64 + ".com", False, False),
    ],
)
def test_hostname_rules(name: str, owner: bool, valid: bool) -> None:
    assert (hostname_problem(name, owner=owner) is None) is valid


# --- bad records are refused, each naming its key path --------------------------------------


def rejected_dns(environment: str, dns: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, {DNS: dns}))
    return [problem.render() for problem in caught.value.problems]


def record(name: str, record_type: str, *values: str, ttl: int = 300) -> dict[str, Any]:
    return {"name": name, "type": record_type, "ttl": ttl, "values": list(values)}


GOOD = [
    record("genericcorp.com", "A", "76.76.21.21"),
    record("www.genericcorp.com", "CNAME", VERCEL),
]


@pytest.mark.parametrize(
    ("bad", "path", "message"),
    [
        (
            record("www.example.com", "A", "192.0.2.1"),
            "records[2].name",
            "outside the zone genericcorp.com",
        ),
        (
            record("genericcorp.com", "CNAME", VERCEL),
            "records[2].name",
            "cannot be at the zone apex",
        ),
        (
            record("www.genericcorp.com", "TXT", "hello"),
            "records[1].name",
            "a CNAME cannot share its name with other records (TXT www.genericcorp.com)",
        ),
        (
            record("genericcorp.com", "A", "192.0.2.1"),
            "records[2].name",
            "records[0] already declares A genericcorp.com",
        ),
        (
            record("x.dev.genericcorp.com", "A", "192.0.2.1"),
            "records[2].name",
            "inside the delegated subdomain dev.genericcorp.com",
        ),
        (
            record("cdn.genericcorp.com", "A", "192.0.2.1"),
            "records[2].name",
            "the CDN's alias records use this name",
        ),
    ],
)
def test_records_that_clash_with_the_zone_are_refused(
    bad: dict[str, Any], path: str, message: str
) -> None:
    lines = rejected_dns("prod", {"records": [*GOOD, bad]})
    assert any(
        line.startswith(f"genericcorp:dns.{path} = ") and message in line for line in lines
    ), lines


def test_a_lone_cname_at_the_apex_is_refused_for_that_reason() -> None:
    [line] = rejected_dns("prod", {"records": [record("genericcorp.com", "CNAME", VERCEL)]})
    assert line.startswith('genericcorp:dns.records[0].name = "genericcorp.com": a CNAME cannot')


@pytest.mark.parametrize(
    ("bad", "path", "message"),
    [
        (record("mail.genericcorp.com", "SRV", "x"), "type", "not allowed; expected one of"),
        (record("genericcorp.com", "A", "1.2.3.4", ttl=MIN_TTL - 1), "ttl", f"at least {MIN_TTL}"),
        (record("genericcorp.com", "A", "1.2.3.4", ttl=MAX_TTL + 1), "ttl", f"at most {MAX_TTL}"),
        (record("genericcorp.com", "A", "76.76.21"), "values", "must be an IPv4 address"),
        (record("genericcorp.com", "A", "2001:db8::1"), "values", "must be an IPv4 address"),
        (record("genericcorp.com", "AAAA", "76.76.21.21"), "values", "IPv6 address"),
        (record("genericcorp.com", "CAA", 'issue "amazon.com"'), "values", "a CAA value is"),
        (record("genericcorp.com", "CAA", '0 policy "amazon.com"'), "values", "a CAA value is"),
        (record("genericcorp.com", "CAA", '0 iodef "sec@x.com"'), "values", "mailto: or https://"),
        (record("genericcorp.com", "CAA", '0 issue "not a ca"'), "values", "not a certificate"),
        (record("www.genericcorp.com", "CNAME", "a", "b"), "values", "exactly one value"),
        (record("www.genericcorp.com", "CNAME", "-vercel.com"), "values", "not a valid domain"),
        (record("genericcorp.com", "MX", "mx.genericcorp.com"), "values", "an MX value is"),
        (record("genericcorp.com", "TXT", "tab\there"), "values", "printable ASCII"),
        (
            record("genericcorp.com", "A", "1.2.3.4", "1.2.3.4"),
            "values",
            "each value may appear once",
        ),
        (record("genericcorp.com", "MX", "70000 mx.genericcorp.com"), "values", "an MX value is"),
        (record("genericcorp.com", "MX", "10 mx_1.genericcorp.com"), "values", "mail host"),
        (record("genericcorp.com", "CAA", '256 issue "amazon.com"'), "values", "a CAA value is"),
        (record("genericcorp.com", "CAA", '0 issue ""'), "values", "names a CA's domain"),
        (record("genericcorp.com", "A"), "values", "at least 1 item"),
        (
            record("bad_name.genericcorp.com", "A", "1.2.3.4") | {"name": "bad name.x.com"},
            "name",
            "not a valid domain name",
        ),
    ],
)
def test_malformed_records_are_refused(bad: dict[str, Any], path: str, message: str) -> None:
    lines = rejected_dns("prod", {"records": [bad]})
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"genericcorp:dns.records[0].{path} = ")
    assert message in lines[0]


@pytest.mark.parametrize(
    ("dns", "path", "message"),
    [
        ({"zoneName": "genericcorp..com"}, "zoneName", "not a valid domain name"),
        ({"zoneName": "genericcorp"}, "zoneName", "at least two labels"),
        ({"parentZone": "example.com"}, "", "must be a parent domain of zoneName"),
        ({"existingZoneId": "zone-1"}, "existingZoneId", "not a Route53 hosted zone id"),
        (
            {"delegations": [{"name": "dev.example.com", "nameServers": []}]},
            "delegations[0].name",
            "must be a subdomain of dev.genericcorp.com",
        ),
        (
            {"delegations": [{"name": "x.dev.genericcorp.com", "nameServers": ["ns_1.aws"]}]},
            "delegations[0].nameServers",
            "is not a domain",
        ),
        (
            {"queryLogging": {"retentionDays": 10}},
            "queryLogging.retentionDays",
            "expected one of 1, 3, 5",
        ),
        (
            {
                "delegations": [
                    {"name": "x.dev.genericcorp.com", "nameServers": []},
                    {"name": "x.dev.genericcorp.com", "nameServers": []},
                ]
            },
            "delegations[1].name",
            "delegated twice",
        ),
        (
            {"delegations": [{"name": "x.dev.genericcorp.com", "nameServers": ["a.b.c", "a.b.c"]}]},
            "delegations[0].nameServers",
            "each name server may appear once",
        ),
        (
            {"delegations": [{"name": "dev.genericcorp.com", "nameServers": []}]},
            "delegations[0].name",
            "must be a subdomain of dev.genericcorp.com",
        ),
    ],
)
def test_bad_zone_settings_are_refused(dns: dict[str, Any], path: str, message: str) -> None:
    lines = rejected_dns("dev", dns)
    assert len(lines) == 1, lines
    key = f"genericcorp:dns.{path}" if path else "genericcorp:dns"
    assert lines[0].startswith(f"{key} = ")
    assert message in lines[0]


def test_every_bad_record_is_reported_at_once() -> None:
    lines = rejected_dns(
        "prod",
        {
            "records": [
                record("www.example.com", "A", "192.0.2.1"),
                record("genericcorp.com", "CNAME", VERCEL),
            ]
        },
    )
    assert [line.split(" = ")[0] for line in lines] == [
        "genericcorp:dns.records[0].name",
        "genericcorp:dns.records[1].name",
    ]


def test_well_formed_records_of_every_type_are_accepted() -> None:
    accepted = [
        record("genericcorp.com", "AAAA", "2001:db8::1"),
        record("genericcorp.com", "MX", "10 mx1.genericcorp.com", "20 mx2.genericcorp.com"),
        record("genericcorp.com", "TXT", "v=spf1 -all"),
        record("_dmarc.genericcorp.com", "TXT", "v=DMARC1; p=reject"),
        record(
            "genericcorp.com",
            "CAA",
            '0 issue "amazon.com"',
            '0 issue "letsencrypt.org; validationmethods=dns-01"',
            '0 issuewild ";"',
            '0 iodef "mailto:security@genericcorp.com"',
            '0 iodef "https://genericcorp.com/caa"',
        ),
        record("*.genericcorp.com", "A", "192.0.2.1", ttl=MAX_TTL),
        record("www.genericcorp.com", "CNAME", VERCEL, ttl=MIN_TTL),
    ]
    config = parse_stack_config("prod", minimal_values("prod", {DNS: {"records": accepted}}))
    assert [r.name for r in config.dns.records] == [r["name"] for r in accepted]
