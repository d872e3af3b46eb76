"""The program as a whole: outputs, determinism, preview behaviour, keys and naming."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from pulumi.runtime import config as runtime_config

from infra.config import loader
from infractl.offline.engine import run_stack
from infractl.offline.plan import Plan
from infractl.offline.sdk import stack_trace_hook, unknowns_scan_hook
from infractl.offline.stackfile import read_stack_file
from tests.conftest import STACKS, plan_for, plan_with

KEY = "aws:kms/key:Key"


def test_outputs_point_at_the_declared_resources(plan: Plan) -> None:
    network = plan.outputs["network"]
    assert network["vpcId"] == plan.one("aws:ec2/vpc:Vpc").id
    assert network["cidr"] == plan.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    subnets = {s.id: s.tags["Tier"] for s in plan.of_type("aws:ec2/subnet:Subnet")}
    for tier in ("public", "private", "database"):
        ids = network[f"{tier}SubnetIds"]
        assert len(ids) == len(network["availabilityZones"])
        assert {subnets[i] for i in ids} == {tier}
    assert network["flowLogGroupName"] == f"/genericcorp/{plan.stack}/vpc/flow-logs"
    assert plan.outputs["environment"] == plan.stack
    assert plan.outputs["region"] == "us-east-1"


def test_no_output_is_secret_or_unknown(plan: Plan) -> None:
    # The kubeconfig is secret by design (tests/test_eks_cluster.py); nothing else may be.
    text = json.dumps({k: v for k, v in plan.outputs.items() if k != "kubeconfig"})
    assert "[secret]" not in text
    assert "[unknown]" not in text


def test_every_kms_key_rotates_and_has_the_environment_deletion_window(plan: Plan) -> None:
    keys = plan.of_type(KEY)
    # Prod adds the DNSSEC signing key (asymmetric, which AWS cannot rotate automatically), the
    # query-log key and the keys of the two web ACLs' log groups (the CDN's and the ingress's).
    assert len(keys) == {"dev": 8, "prod": 12}[plan.stack]
    for key in keys:
        assert key.inputs["deletionWindowInDays"] == {"dev": 7, "prod": 30}[plan.stack]
        if key.inputs["customerMasterKeySpec"] != "SYMMETRIC_DEFAULT":
            assert key.name == "dns-dnssec-key"
            continue
        assert key.inputs["enableKeyRotation"] is True
        [admin] = [
            s
            for s in json.loads(key.inputs["policy"])["Statement"]
            if s["Sid"] == "AccountAdministration"
        ]
        assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_every_key_has_an_alias_under_the_stack(plan: Plan) -> None:
    aliases = {a.inputs["name"] for a in plan.of_type("aws:kms/alias:Alias")}
    purposes = {
        "alerts",
        "flow-logs",
        "cdn-assets",
        "postgres",
        "redis",
        "eks-secrets",
        "eks-logs",
        "ci-runner-logs",
    } | (
        {"dnssec", "dns-query-logs", "cdn-waf-logs", "ingress-waf-logs"}
        if plan.stack == "prod"
        else set()
    )
    assert aliases == {f"alias/genericcorp/{plan.stack}/{p}" for p in purposes}


@pytest.mark.parametrize("stack", STACKS)
def test_preview_declares_the_same_resources(stack: str) -> None:
    # A real `pulumi preview` sees unknown ids; a resource created inside apply() would be
    # missing from it. Both modes must declare exactly the same URNs.
    full = plan_for(stack)
    preview = plan_for(stack, preview=True)
    assert [r.urn for r in preview.resources] == [r.urn for r in full.resources]
    assert preview.outputs["network"]["vpcId"] == "[unknown]"


def test_plans_are_deterministic() -> None:
    assert run_stack("dev").to_json() == plan_for("dev").to_json()


def test_prod_is_larger_than_dev_where_it_should_be(dev_plan: Plan, prod_plan: Plan) -> None:
    for type_token, (dev, prod) in {
        "aws:ec2/natGateway:NatGateway": (1, 3),
        "aws:ec2/subnet:Subnet": (6, 9),
        "aws:ec2/routeTable:RouteTable": (4, 5),
    }.items():
        assert len(dev_plan.of_type(type_token)) == dev, type_token
        assert len(prod_plan.of_type(type_token)) == prod, type_token


def test_the_entry_point_pulumi_runs_declares_the_stack() -> None:
    entry = Path(__file__).resolve().parent.parent / "__main__.py"

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    plan = run_stack("dev", program=program)
    assert [r.urn for r in plan.resources] == [r.urn for r in plan_for("dev").resources]


def test_config_arrives_from_the_cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pulumi CLI hands config to the program in PULUMI_CONFIG (every value a string) and
    # names the secure keys in PULUMI_CONFIG_SECRET_KEYS.
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(read_stack_file("prod").wire_config()))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["genericcorp:alerts"]))
    monkeypatch.setattr(loader.pulumi, "get_stack", lambda: "prod")
    runtime_config.set_all_config({}, [])
    config = loader.load_stack_config()
    assert config.stack == "prod"
    assert config.network.az_count == 3
    assert str(config.network.cidr) == "10.20.0.0/16"
    assert config.is_secret("genericcorp:alerts")
    assert not config.is_secret("genericcorp:network")


def test_an_offline_run_restores_the_sdk_and_the_garbage_collector() -> None:
    import gc  # noqa: PLC0415 - only this test needs it

    capture = stack_trace_hook()
    scan = unknowns_scan_hook()
    assert gc.isenabled()
    plan_with("dev", {})
    assert stack_trace_hook() is capture
    assert unknowns_scan_hook() is scan
    assert gc.isenabled()
