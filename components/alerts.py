"""AlertsTopic: the encrypted SNS topic every CloudWatch alarm of the stack publishes to.

Creates:
- a ``KmsKey`` for the topic whose policy lets CloudWatch use it (CloudWatch alarms cannot publish
  to a topic encrypted with the AWS-managed ``alias/aws/sns`` key, whose policy excludes them);
- ``aws.sns.Topic`` encrypted with that key;
- ``aws.sns.TopicPolicy``: the account manages the topic, only this account's CloudWatch alarms
  (and any other listed AWS service) may publish, and publishing without TLS is denied;
- one ``aws.sns.TopicSubscription`` per alert email address. AWS mails each address a
  confirmation link; until it is followed the subscription stays "pending confirmation".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import EmailStr, Field, field_validator

from components.base import PlatformComponent, SettingsModel, StackContext, policy_document
from components.cost import CostLine, PriceCatalog
from components.kms_key import KmsKey, KmsSettings, service_statement


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


class AlertsTopic(PlatformComponent):
    """Encrypted SNS topic for alarms, with email subscriptions."""

    topic_arn: pulumi.Output[str]
    topic_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: AlertsSettings,
        *,
        kms: KmsSettings,
        context: StackContext,
        publisher_services: Sequence[str] = ("cloudwatch.amazonaws.com",),
        emails_are_secret: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "genericcorp:monitoring:AlertsTopic",
            name,
            context=context,
            component_tag="monitoring",
            opts=opts,
        )
        topic_name = context.physical_name("alerts")
        topic_arn = context.arn("sns", topic_name)
        key = KmsKey.owned_by(
            self,
            f"{name}-key",
            purpose="alerts",
            description="encrypts the alerts SNS topic",
            settings=kms,
            service_statements=[
                service_statement(
                    f"Publisher{index}",
                    service,
                    actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                    # Only on behalf of this account, and only for this topic's messages.
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
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            display_name=f"{context.project} {context.stack} alerts",
            kms_master_key_id=key.arn,
            tags=self.tags("alerts"),
            opts=self.child_opts(),
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=policy_document(_topic_statements(topic.arn, context, publisher_services)),
            opts=self.child_opts(),
        )
        for email in settings.emails:
            # Named by a digest, not an index: reordering the list must not replace (and so
            # re-confirm) subscriptions, and no address appears in a resource URN.
            digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10]
            endpoint: pulumi.Input[str] = (
                pulumi.Output.secret(email) if emails_are_secret else email
            )
            aws.sns.TopicSubscription(
                f"{name}-email-{digest}",
                topic=topic.arn,
                protocol="email",
                endpoint=endpoint,
                opts=self.child_opts(),
            )

        self.topic_arn = topic.arn
        self.topic_name = topic.name
        self.kms_key_arn = key.arn
        self.register_outputs(
            {"topicArn": self.topic_arn, "topicName": self.topic_name, "kmsKeyArn": key.arn}
        )

    @classmethod
    def cost_lines(cls, catalog: PriceCatalog) -> list[CostLine]:
        """The topic's key. SNS itself has no line: alarm traffic stays inside its free tier
        (1 million publishes and 1,000 email deliveries a month)."""
        return KmsKey.cost_lines("monitoring", catalog, purposes=["alerts"])


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
