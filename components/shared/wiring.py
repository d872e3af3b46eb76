"""What every component is handed besides its own settings, as one documented value."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from components.base import StackContext
from components.kms_key import KmsSettings

#: The region of CloudFront's certificates and web ACLs, of Route53's query logs, DNSSEC keys and
#: metrics: they exist there only, whatever the stack's region.
EDGE_REGION = "us-east-1"


@dataclass(frozen=True)
class Wiring:
    """The stack-wide inputs of a component: naming, encryption, alerting and the edge region.

    The program builds one ``Wiring`` once the providers and the alerts topics exist and hands
    the same value to every component; a component reads only what it needs from it.
    """

    context: StackContext
    """Project, stack, environment, region, account and partition: names, ARNs and tags."""
    kms: KmsSettings
    """Settings shared by every customer-managed key (deletion window)."""
    edge_provider: aws.Provider
    """AWS provider for ``EDGE_REGION`` (CloudFront certificates, WAF, Route53 logs and alarms)."""
    alerts_topic_arn: pulumi.Input[str] | None = None
    """SNS topic every alarm in the stack's region notifies (None only while it is built)."""
    edge_alerts_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for alarms in ``EDGE_REGION``: the same topic when the stack runs there."""

    @property
    def alarm_topic(self) -> pulumi.Input[str]:
        """The alerts topic of the stack's region; an error before the topic exists."""
        if self.alerts_topic_arn is None:
            raise ValueError("the alerts topic is not wired yet: build AlertsTopic first")
        return self.alerts_topic_arn

    @property
    def edge_alarm_topic(self) -> pulumi.Input[str]:
        """The alerts topic in ``EDGE_REGION``; an error before it exists."""
        if self.edge_alerts_topic_arn is None:
            raise ValueError("the edge alerts topic is not wired yet: build it first")
        return self.edge_alerts_topic_arn

    @property
    def edge_context(self) -> StackContext:
        """The stack context as seen from ``EDGE_REGION`` (ARNs of edge resources)."""
        return replace(self.context, region=EDGE_REGION)

    def with_alerts(
        self, topic_arn: pulumi.Input[str], edge_topic_arn: pulumi.Input[str]
    ) -> Wiring:
        """This wiring with the alerts topics in place."""
        return replace(self, alerts_topic_arn=topic_arn, edge_alerts_topic_arn=edge_topic_arn)
