"""AlertsTopic: the encrypted SNS topic every CloudWatch alarm of the stack publishes to.

Creates:
- a ``KmsKey`` for the topic whose policy lets CloudWatch use it (CloudWatch alarms cannot publish
  to a topic encrypted with the AWS-managed ``alias/aws/sns`` key, whose policy excludes them);
- ``aws.sns.Topic`` encrypted with that key;
- ``aws.sns.TopicPolicy``: the account manages the topic, only this account's CloudWatch alarms
  (and any other listed AWS service) may publish, and publishing without TLS is denied;
- one ``aws.sns.TopicSubscription`` per alert email address. AWS mails each address a
  confirmation link; until it is followed the subscription stays "pending confirmation".

A stack outside ``EDGE_REGION`` gets a second such topic there, for the alarms that live there
(``AlertsParts.edge_topic`` decides, for the program and the estimate alike).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
from pydantic import EmailStr, Field, field_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    StackContext,
    policy_document,
)
from components.cost import CostLine, PriceCatalog
from components.kms_key import KmsKey, KmsSettings, service_statement
from components.shared.wiring import EDGE_REGION, Wiring


class AlertsSettings(SettingsModel):
    """Who is told when an alarm fires."""

    emails: list[EmailStr] = Field(
        description=(
            "Email addresses subscribed to the alerts topic. Each receives a confirmation mail "
            "from AWS on first deploy."
        ),
    )

    @field_validator("emails")
    @classmethod
    def _unique(cls, emails: list[str]) -> list[str]:
        lowered = [e.lower() for e in emails]
        duplicates = sorted({e for e in lowered if lowered.count(e) > 1})
        if duplicates:
            raise ValueError(f"each address may appear once; repeated: {', '.join(duplicates)}")
        return emails


@dataclass(frozen=True)
class AlertsParts:
    """What the alerts topics are, derived once from the settings and the stack's region.

    The program declares a topic per region in ``topic_regions`` and ``cost_lines`` prices a
    key for each, so whether the edge topic exists is decided here alone.
    """

    settings: AlertsSettings
    region: str
    """The stack's region."""

    key_purpose: ClassVar[str] = "alerts"
    """Each topic's key: CloudWatch may use it, which it may not with ``alias/aws/sns``."""

    @property
    def edge_topic(self) -> bool:
        """Whether a second topic lives in ``EDGE_REGION``: an alarm notifies a topic in its own
        region, and the edge's alarms (Route53 health checks, DNSSEC) live there. A stack that
        runs there has its one topic."""
        return self.region != EDGE_REGION

    @property
    def topic_regions(self) -> tuple[str, ...]:
        """The regions with a topic (and its key): the stack's, and the edge region's."""
        return (self.region, EDGE_REGION) if self.edge_topic else (self.region,)

    def cost_lines(self, catalog: PriceCatalog) -> list[CostLine]:
        """The topics' keys. SNS itself has no line: alarm traffic stays inside its free tier
        (1 million publishes and 1,000 email deliveries a month)."""
        return KmsKey.cost_lines(
            AlertsTopic.COMPONENT,
            catalog,
            purposes=[self.key_purpose for _ in self.topic_regions],
        )


class AlertsTopic(PlatformComponent):
    """Encrypted SNS topic for alarms, with email subscriptions.

    Steps: the topic's key (its publishers may use it for this topic's messages only); the
    topic; its policy; a subscription per address. ``at_edge`` places all of it in
    ``EDGE_REGION`` with the wiring's edge provider, for the topic ``AlertsParts.edge_topic``
    asks for.
    """

    TYPE: ClassVar[str] = "genericcorp:monitoring:AlertsTopic"
    COMPONENT: ClassVar[str] = "monitoring"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "topicArn": "ARN of the SNS topic every alarm in the stack's region notifies.",
        "topicName": "Name of that topic (genericcorp-<stack>-alerts).",
    }

    topic_arn: pulumi.Output[str]
    """What alarms and budgets notify."""
    topic_name: pulumi.Output[str]
    """The topic's name, as operators find it in the console."""

    def __init__(
        self,
        name: str,
        parts: AlertsParts,
        *,
        wiring: Wiring,
        at_edge: bool = False,
        publisher_services: Sequence[str] = ("cloudwatch.amazonaws.com",),
        emails_are_secret: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``wiring`` need not hold the alerts topics yet (this builds them); ``publisher_services``
        are the AWS services that may publish; ``emails_are_secret`` keeps the addresses secret
        Outputs when the stack file holds them as secure values."""
        if at_edge:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(provider=wiring.edge_provider)
            )
        super().__init__(
            name, context=wiring.edge_context if at_edge else wiring.context, opts=opts
        )
        topic_name = self.context.physical_name("alerts")
        key = self._key(parts, wiring.kms, self.context.arn("sns", topic_name), publisher_services)
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            display_name=f"{self.context.project} {self.context.stack} alerts",
            kms_master_key_id=key.arn,
            tags=self.tags("alerts"),
            opts=self.child_opts(),
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=policy_document(_topic_statements(topic.arn, self.context, publisher_services)),
            opts=self.child_opts(),
        )
        self._subscriptions(parts, topic, emails_are_secret)

        self.topic_arn = topic.arn
        self.topic_name = topic.name
        self.publish({"topicArn": self.topic_arn, "topicName": self.topic_name})

    def _key(
        self,
        parts: AlertsParts,
        kms: KmsSettings,
        topic_arn: str,
        publisher_services: Sequence[str],
    ) -> KmsKey:
        """The topic's key: each publisher may use it on behalf of this account only, and only
        for this topic's messages."""
        context = self.context
        return KmsKey.owned_by(
            self,
            f"{self._name}-key",
            purpose=parts.key_purpose,
            description="encrypts the alerts SNS topic",
            settings=kms,
            service_statements=[
                service_statement(
                    f"Publisher{index}",
                    service,
                    actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                    condition={
                        "StringEquals": {
                            "aws:SourceAccount": context.account_id,
                            "kms:EncryptionContext:aws:sns:topicArn": topic_arn,
                        }
                    },
                )
                for index, service in enumerate(publisher_services)
            ],
        )

    def _subscriptions(
        self, parts: AlertsParts, topic: aws.sns.Topic, emails_are_secret: bool
    ) -> None:
        """A subscription per address, named by a digest rather than an index: reordering the
        list must not replace (and so re-confirm) subscriptions, and no address appears in a
        resource URN."""
        for email in parts.settings.emails:
            digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10]
            endpoint: pulumi.Input[str] = (
                pulumi.Output.secret(email) if emails_are_secret else email
            )
            aws.sns.TopicSubscription(
                f"{self._name}-email-{digest}",
                topic=topic.arn,
                protocol="email",
                endpoint=endpoint,
                opts=self.child_opts(),
            )


def _topic_statements(
    topic_arn: pulumi.Input[str], context: StackContext, publisher_services: Sequence[str]
) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountManagesTopic",
            "Effect": "Allow",
            "Principal": {"AWS": context.account_root_arn},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:AddPermission",
                "sns:RemovePermission",
                "sns:DeleteTopic",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ],
            "Resource": topic_arn,
        },
    ]
    statements += [
        {
            "Sid": f"ServicePublishes{index}",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            # Confused-deputy guard: only this account's resources may publish through the service.
            "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
        }
        for index, service in enumerate(publisher_services)
    ]
    statements.append(
        {
            "Sid": "DenyPublishWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return statements


# Defaults per environment and prod rules

ALERTS_DEFAULTS = ByEnvironment.same(
    # No default address: each stack file names who is woken up (prod must: see below).
    AlertsSettings(emails=[])
)

ALERTS_PROD_RULES = (
    ProdRule(
        AlertsSettings,
        key=lambda s: s.emails,
        accepts=lambda emails: len(emails) >= 1,
        allowed="at least one address",
        reason="prod alarms must reach a person",
    ),
)
