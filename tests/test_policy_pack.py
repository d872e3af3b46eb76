"""The policy pack as the pulumi CLI runs it: its entry point, its files, and its gRPC analyzer
answering Analyze / AnalyzeStack / Configure requests like the CLI sends them."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from genericcorp_policy import PACK_NAME, RULES, PolicyConfigError, Rule, StackRule, policies
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy

from infractl.offline.schema import resource_class
from infractl.offline.sdk import PolicyAnalyzer, policy_analyzer_servicer, property_wire_name
from infractl.offline.stackfile import PROJECT_DIR
from tests.test_policy_rules import GOOD_CACHE, GOOD_RDS, tagged

PACK_DIR = PROJECT_DIR / "policy"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_entry_point_builds_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}

    def fake_pack(name: str, policies: list[Policy], **kwargs: Any) -> None:
        built.update(name=name, policies=policies, **kwargs)

    # The real PolicyPack serves gRPC forever; the entry point is run with a recorder instead.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")
    assert built["name"] == PACK_NAME == "genericcorp-baseline"
    assert [p.name for p in built["policies"]] == [p.name for p in policies()]
    assert built["enforcement_level"] is EnforcementLevel.MANDATORY


def test_pack_project_file_is_a_python_pack() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])


def _pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9-]+)==([^\s\\]+)", path.read_text(), flags=re.MULTILINE))


def test_pack_requirements_pin_the_locked_versions() -> None:
    pack = _pins(PACK_DIR / "requirements.txt")
    lock = _pins(PROJECT_DIR / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy"}
    assert {name: lock[name] for name in pack} == pack


def test_every_rule_names_real_types_and_properties() -> None:
    """A misspelt type token or property would make a rule silently pass; read the SDK."""
    for rule in RULES:
        if not isinstance(rule, Rule) or not rule.types:
            continue
        classes = [resource_class(t) for t in rule.types]
        assert all(classes), (rule.name, rule.types)
        names = {
            property_wire_name(member) or attr
            for cls in classes
            for attr, member in vars(cls).items()
            if isinstance(member, property)
        }
        missing = [prop for prop in rule.reads if prop not in names]
        assert not missing, (rule.name, missing)


def test_stack_rules_name_real_types() -> None:
    from genericcorp_policy import edge, governance, kubernetes, network  # noqa: PLC0415

    companions = [
        value
        for module in (edge, governance, network, kubernetes)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and value.startswith(("aws:", "kubernetes:"))
    ]
    subjects = [t for rule in RULES if isinstance(rule, StackRule) for t in rule.subjects]
    assert len(companions) > 15
    # Custom resources (a controller's CRDs) have no SDK class; the pack names these on purpose.
    custom_resources = {edge.INGRESS_CLASS_PARAMS}
    for type_token in {*companions, *subjects} - custom_resources:
        assert resource_class(type_token) is not None, type_token


# --- the analyzer, as the CLI drives it ---------------------------------------------------------


def servicer(config: dict[str, Any] | None = None) -> PolicyAnalyzer:
    """The analyzer the pack's PolicyPack serves over gRPC to the pulumi CLI, called directly
    instead of through a server."""
    analyzer = policy_analyzer_servicer(PACK_NAME, "1.0.0", policies(), EnforcementLevel.MANDATORY)
    request = proto.ConfigureAnalyzerRequest()
    for name, value in (config or {}).items():
        policy_config = request.policyConfig[name]
        policy_config.enforcementLevel = proto.MANDATORY
        if isinstance(value, str):
            policy_config.enforcementLevel = {
                "advisory": proto.ADVISORY,
                "disabled": proto.DISABLED,
            }[value]
        else:
            policy_config.properties.update(value)
    analyzer.Configure(request, None)
    return analyzer


def analyze(
    analyzer: PolicyAnalyzer,
    type_token: str,
    props: dict[str, Any],
    protect: bool = False,
    provider_props: dict[str, Any] | None = None,
) -> list[Any]:
    properties = struct_pb2.Struct()
    properties.update(props)
    request = proto.AnalyzeRequest(
        type=type_token,
        properties=properties,
        urn=f"urn:pulumi:prod::genericcorp::{type_token}::db",
        name="db",
        options=proto.AnalyzerResourceOptions(protect=protect),
    )
    if provider_props is not None:
        request.provider.type = "pulumi:providers:aws"
        request.provider.urn = "urn:pulumi:prod::genericcorp::pulumi:providers:aws::aws"
        request.provider.name = "aws"
        request.provider.properties.update(provider_props)
    return list(analyzer.Analyze(request, None).diagnostics)


def test_analyzer_lists_every_policy_with_its_config_schema() -> None:
    info = servicer().GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    by_name = {p.name: p for p in info.policies}
    assert set(by_name) == {p.name for p in policies()}
    schema = json_format.MessageToDict(by_name["required-tags"].configSchema)
    assert schema["properties"]["requiredTags"]["type"] == "array"
    assert by_name["rds-2-not-public"].enforcementLevel == proto.MANDATORY


def test_analyzer_reports_a_mandatory_violation_and_passes_a_compliant_resource() -> None:
    rds = "aws:rds/instance:Instance"
    analyzer = servicer()
    assert analyze(analyzer, rds, tagged("prod", GOOD_RDS), protect=True) == []
    found = analyze(
        analyzer, rds, tagged("prod", {**GOOD_RDS, "publiclyAccessible": True}), protect=True
    )
    assert [(d.policyName, d.enforcementLevel) for d in found] == [
        ("rds-2-not-public", proto.MANDATORY)
    ]
    assert "publicly accessible" in found[0].message


def test_analyzer_sees_the_protect_option() -> None:
    found = analyze(
        servicer(), "aws:rds/instance:Instance", tagged("prod", GOOD_RDS), protect=False
    )
    assert [d.policyName for d in found] == ["prod-protect-stateful"]


def test_analyzer_refuses_a_secret_auth_token_without_showing_it() -> None:
    """A token arrives as a secret; the cache must have none (tenants would share it)."""
    cache = tagged("prod", {**GOOD_CACHE, "authToken": {**SECRET_SIG, "value": "t0ken-value"}})
    found = analyze(
        servicer(), "aws:elasticache/replicationGroup:ReplicationGroup", cache, protect=True
    )
    assert {d.policyName for d in found} == {"cache-no-shared-auth-token"}
    assert all("t0ken-value" not in d.message for d in found)


def test_analyzer_skips_what_a_preview_cannot_know_with_an_advisory_note() -> None:
    props = tagged("prod", {**GOOD_RDS, "publiclyAccessible": UNKNOWN})
    found = analyze(servicer(), "aws:rds/instance:Instance", props, protect=True)
    assert [(d.policyName, d.enforcementLevel) for d in found] == [
        ("rds-2-not-public", proto.ADVISORY)
    ]
    assert "can't be known during preview" in found[0].message


def test_analyzer_applies_config_and_enforcement_overrides() -> None:
    analyzer = servicer(
        {"rds-2-not-public": "advisory", "required-tags": {"requiredTags": ["Owner"]}}
    )
    found = analyze(
        analyzer,
        "aws:rds/instance:Instance",
        tagged("prod", {**GOOD_RDS, "publiclyAccessible": True}),
        protect=True,
    )
    levels = {d.policyName: d.enforcementLevel for d in found}
    assert levels == {"rds-2-not-public": proto.ADVISORY, "required-tags": proto.MANDATORY}


def test_analyzer_refuses_a_config_value_of_the_wrong_type() -> None:
    analyzer = servicer({"required-tags": {"requiredTags": "Project"}})
    with pytest.raises(
        PolicyConfigError, match=r"required-tags\.requiredTags = 'Project': expected an array"
    ):
        analyze(analyzer, "aws:ec2/vpc:Vpc", tagged("prod"))


def test_analyzer_runs_the_budget_stack_rule() -> None:
    properties = struct_pb2.Struct()
    budget = tagged("prod", {"limitAmount": "500", "limitUnit": "USD"})
    budget["tagsAll"]["EstimatedMonthlyCostUSD"] = "750.10"
    properties.update(budget)
    urn = "urn:pulumi:prod::genericcorp::aws:budgets/budget:Budget::budget"
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type="aws:budgets/budget:Budget", properties=properties, urn=urn, name="budget"
            )
        ]
    )
    found = list(servicer().AnalyzeStack(request, None).diagnostics)
    assert [(d.policyName, d.urn, d.enforcementLevel) for d in found] == [
        ("cost-within-budget", urn, proto.MANDATORY)
    ]
    assert "estimated $750.10/month exceeds the budget of $500.00" in found[0].message


def test_analyzer_merges_the_provider_default_tags_when_tags_all_is_absent() -> None:
    rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    props = {"tags": {"Component": "data"}, "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432}
    defaults = {k: v for k, v in tagged("prod")["tagsAll"].items() if k != "Component"}
    provider = {"region": "us-east-1", "defaultTags": json.dumps({"tags": defaults})}
    assert analyze(servicer(), rule, props, provider_props=provider) == []
    assert [d.policyName for d in analyze(servicer(), rule, props)] == ["required-tags"]
