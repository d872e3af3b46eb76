"""The alerts topic: encrypted, published to only by this account's alarms, mailed to people."""

from __future__ import annotations

import hashlib
from typing import Any

from components.alerts import AlertsParts, AlertsTopic
from infractl.offline.engine import SECRET_MASK, run_program
from infractl.offline.plan import Plan
from infractl.offline.stackfile import StackFile, read_stack_file
from tests.conftest import plan_with, policy, stack_config, statements

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EMAILS = {
    "dev": ["platform-alerts-dev@genericcorp.com"],
    "prod": ["platform-oncall@genericcorp.com"],
}


def test_topic_is_encrypted_with_its_own_customer_managed_key(plan: Plan) -> None:
    topic = plan.one(TOPIC)
    key = plan.named("alerts-key", "aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert topic.inputs["name"] == f"genericcorp-{plan.stack}-alerts"
    assert key.inputs["enableKeyRotation"] is True


def test_cloudwatch_and_budgets_may_use_the_topic_key(plan: Plan) -> None:
    key = plan.named("alerts-key", "aws:kms/key:Key")
    publishers = [s for s in statements(policy(key, "policy")) if s["Sid"].startswith("Publisher")]
    assert [p["Principal"] for p in publishers] == [
        {"Service": "cloudwatch.amazonaws.com"},
        {"Service": "budgets.amazonaws.com"},
    ]
    for publisher in publishers:
        assert publisher["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        # Confused-deputy guard: only for this account, only for this topic's messages.
        assert publisher["Condition"] == {
            "StringEquals": {
                "aws:SourceAccount": "123456789012",
                "kms:EncryptionContext:aws:sns:topicArn": plan.one(TOPIC).outputs["arn"],
            }
        }


def test_topic_policy_admits_only_this_accounts_alarms_over_tls(plan: Plan) -> None:
    topic_policy = plan.one("aws:sns/topicPolicy:TopicPolicy")
    topic_arn = plan.one(TOPIC).outputs["arn"]
    assert topic_policy.inputs["arn"] == topic_arn
    found = {s["Sid"]: s for s in statements(policy(topic_policy, "policy"))}
    for index, service in enumerate(("cloudwatch.amazonaws.com", "budgets.amazonaws.com")):
        publish = found[f"ServicePublishes{index}"]
        assert publish["Principal"] == {"Service": service}
        assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    deny = found["DenyPublishWithoutTls"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert all(s["Resource"] == topic_arn for s in found.values())
    assert found["AccountManagesTopic"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_one_email_subscription_per_address(plan: Plan) -> None:
    subscriptions = plan.of_type(SUBSCRIPTION)
    topic_arn = plan.one(TOPIC).outputs["arn"]
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == EMAILS[plan.stack]
    assert all(s.inputs["protocol"] == "email" for s in subscriptions)
    assert all(s.inputs["topic"] == topic_arn for s in subscriptions)


def test_subscription_names_keep_addresses_out_of_urns(plan: Plan) -> None:
    for subscription in plan.of_type(SUBSCRIPTION):
        email = subscription.inputs["endpoint"]
        assert email not in subscription.urn
        assert (
            subscription.name == f"alerts-email-{hashlib.sha256(email.encode()).hexdigest()[:10]}"
        )


def test_alerts_topic_is_a_stack_output(plan: Plan) -> None:
    assert plan.outputs["alerts"]["topicArn"] == plan.one(TOPIC).outputs["arn"]
    assert set(plan.outputs["alerts"]) == set(AlertsTopic.OUTPUTS)


def alert_keys(plan: Plan) -> list[dict[str, Any]]:
    return [e for e in plan.outputs["monthlyCost"]["lines"] if e["item"] == "KMS key (alerts)"]


def test_a_stack_in_the_edge_region_has_one_topic(plan: Plan) -> None:
    parts = AlertsParts(stack_config(plan.stack).alerts, region=plan.outputs["region"])
    assert not parts.edge_topic
    assert len(plan.of_type(TOPIC)) == len(alert_keys(plan)) == len(parts.topic_regions) == 1


def test_a_stack_elsewhere_has_a_second_topic_in_the_edge_region() -> None:
    plan = plan_with(
        "dev",
        {
            "aws:region": "eu-west-1",
            "genericcorp:costModel": {"priceFallbackRegion": "us-east-1"},
        },
    )
    parts = AlertsParts(stack_config("dev").alerts, region="eu-west-1")
    assert parts.edge_topic
    regions = [topic.outputs["arn"].split(":")[3] for topic in plan.of_type(TOPIC)]
    assert sorted(regions) == sorted(parts.topic_regions) == ["eu-west-1", "us-east-1"]
    # The estimate prices the key of each topic the program declares.
    assert len(alert_keys(plan)) == len(regions)


def test_addresses_set_as_secure_values_stay_secret() -> None:
    secret = "oncall-private@genericcorp.com"
    # Mark the key secret the way the CLI does for a `secure:` value.
    stack_file = read_stack_file("prod")
    secret_file = StackFile(
        project=stack_file.project,
        stack="prod",
        path=stack_file.path,
        values=stack_file.values | {"genericcorp:alerts": {"emails": [secret]}},
        secret_keys=frozenset({"genericcorp:alerts"}),
    )
    plan = run_program(secret_file, preview=False)
    [subscription] = plan.of_type(SUBSCRIPTION)
    assert subscription.inputs["endpoint"] == SECRET_MASK
    assert "endpoint" in subscription.secret_inputs
    assert subscription.raw_inputs["endpoint"] == secret
    assert secret not in str(plan.to_json())
