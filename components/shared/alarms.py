"""CloudWatch metric alarms: described from settings first, declared with their dimensions later.

A component lists its alarms as ``AlarmSpec`` values computed from its settings alone, so the
cost estimate (which runs before anything is declared) counts exactly the alarms the component
will create. ``metric_alarm`` then declares one, with the dimensions known only at deploy time
(an instance identifier, a NAT gateway id), sending both ALARM and OK to the alerts topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.cost import CostLine, PriceCatalog

Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
Statistic = Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"]
MissingData = Literal["missing", "notBreaching", "breaching", "ignore"]


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm as far as settings decide it: everything but its dimensions."""

    suffix: str
    """Distinguishes the alarm within its owner: part of the resource name and Name tag."""
    namespace: str
    """CloudWatch namespace, e.g. ``AWS/RDS``."""
    metric: str
    """Metric name within the namespace."""
    threshold: float
    """Value the statistic is compared with, in the metric's unit."""
    description: str
    """What the alarm means to whoever it wakes up, and what to do."""
    comparison: Comparison = "GreaterThanThreshold"
    statistic: Statistic = "Average"
    period_seconds: int = 300
    evaluation_periods: int = 3
    """Consecutive periods that must breach: 3 x 5 minutes ignores a short spike."""
    treat_missing_data: MissingData = "missing"


def metric_alarm(
    owner: PlatformComponent,
    name: str,
    spec: AlarmSpec,
    *,
    dimensions: Mapping[str, pulumi.Input[str]],
    topic_arn: pulumi.Input[str],
    tag: str,
    provider: pulumi.ProviderResource | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> aws.cloudwatch.MetricAlarm:
    """Declare ``spec`` as a child of ``owner``, notifying ``topic_arn`` on ALARM and on OK.

    ``provider`` places the alarm in another region: Route53 publishes its metrics in us-east-1
    only, so alarms on them must live there.
    """
    placement: dict[str, object] = {}
    if provider is not None:
        placement["provider"] = provider
    if depends_on:
        placement["depends_on"] = list(depends_on)
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric,
        dimensions=dict(dimensions),
        statistic=spec.statistic,
        period=spec.period_seconds,
        evaluation_periods=spec.evaluation_periods,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        treat_missing_data=spec.treat_missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=owner.tags(tag),
        opts=owner.child_opts(**placement),
    )


def alarm_line(
    component: str, catalog: PriceCatalog, count: int, *, label: str = "Alarms", note: str = ""
) -> CostLine:
    """The monthly cost of ``count`` standard-resolution alarms."""
    return CostLine.fixed(
        component,
        label,
        catalog.price("cloudwatch.standard-alarm", resource="aws:cloudwatch/metricAlarm"),
        count,
        note=note,
    )
