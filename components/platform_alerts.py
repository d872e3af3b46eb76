"""Where Prometheus's alerts go, and the platform's own alert rules.

kube-prometheus-stack's Alertmanager sends every alert to the stack's alerts topic (the SNS topic
the CloudWatch alarms notify, ``components/alerts.py``) through an ``sns_configs`` receiver. It
signs with SigV4 using the credentials of its service account's IAM role (IRSA): with no
``access_key``/``secret_key`` in its ``sigv4`` block, Alertmanager's SNS notifier loads the AWS
SDK's default credential chain, which reads the web-identity token and role the EKS pod identity
webhook injects for an annotated service account (``AWS_ROLE_ARN``,
``AWS_WEB_IDENTITY_TOKEN_FILE``; prometheus/alertmanager notify/sns/sns.go). No static key exists
anywhere. The role may publish to that topic alone, and use the topic's KMS key only through SNS
for that topic's messages.

Routing: in prod, alerts labelled ``severity: critical`` go to the ``page`` receiver, the rest
to ``notify``; in dev everything goes to ``notify`` (dev never pages). Both publish to the same
topic, whose email subscribers get both; each message carries the SNS message attributes
``severity`` and ``page`` (``"true"`` only from ``page``), so a pager subscribed with the filter
policy ``{"page": ["true"]}`` receives pages only (docs/architecture.md, "Alert routing").

The platform rules (``PLATFORM_RULES``), in both stacks beside the chart's defaults: a node not
ready, a pod crash looping, a persistent volume filling, a tenant near its quota, a Prometheus
target down. Each metric they read is listed in ``METRIC_SOURCES`` with the exporter that
serves it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.shared.iam import OidcIdentity, service_account_role
from components.tenants import NAMESPACE_PREFIX

#: The service account kube-prometheus-stack runs Alertmanager as (``alertmanager.
#: serviceAccount.name``); only it may assume the publishing role.
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"

PAGE_RECEIVER = "page"
NOTIFY_RECEIVER = "notify"
#: The chart's receiver for its Watchdog alert, which fires all the time by design.
NULL_RECEIVER = "null"

#: Each metric the platform rules read, and what serves it (read in each project's source).
METRIC_SOURCES: dict[str, str] = {
    "kube_node_status_condition": "kube-state-metrics internal/store/node.go",
    "kube_pod_container_status_waiting_reason": "kube-state-metrics internal/store/pod.go",
    "kube_resourcequota": "kube-state-metrics internal/store/resourcequota.go",
    "kubelet_volume_stats_available_bytes": "kubelet pkg/kubelet/metrics/collectors/"
    "volume_stats.go (scraped by the chart's kubelet ServiceMonitor)",
    "kubelet_volume_stats_capacity_bytes": "kubelet pkg/kubelet/metrics/collectors/volume_stats.go",
    "up": "Prometheus itself, one series per scrape target",
}


@dataclass(frozen=True)
class AlertRule:
    """One platform alert: what it watches and how urgent it is."""

    name: str
    expr: str
    for_: str
    severity: str
    """``critical`` pages in prod; ``warning`` notifies."""
    summary: str
    description: str

    def to_rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "description": self.description},
        }


PLATFORM_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "PlatformNodeNotReady",
        'kube_node_status_condition{condition="Ready",status="true"} == 0',
        "10m",
        "critical",
        "Node {{ $labels.node }} is not Ready",
        "Node {{ $labels.node }} has not been Ready for 10 minutes: its pods are being evicted "
        "and the cluster has one node less than planned.",
    ),
    AlertRule(
        "PlatformPodCrashLooping",
        "max by (namespace, pod, container) (kube_pod_container_status_waiting_reason"
        '{reason="CrashLoopBackOff"}) == 1',
        "15m",
        "warning",
        "{{ $labels.namespace }}/{{ $labels.pod }} is crash looping",
        "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has "
        "been in CrashLoopBackOff for 15 minutes.",
    ),
    AlertRule(
        "PlatformPersistentVolumeFilling",
        "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.15",
        "15m",
        "warning",
        "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 85% full",
        "Less than 15% of the volume is free; grow the claim (the gp3 class allows expansion) "
        "or reduce what it keeps.",
    ),
    AlertRule(
        "PlatformPersistentVolumeFull",
        "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.03",
        "5m",
        "critical",
        "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is almost full",
        "Less than 3% of the volume is free: writes fail soon (Prometheus stops ingesting).",
    ),
    AlertRule(
        "PlatformTenantNearQuota",
        f'kube_resourcequota{{namespace=~"{NAMESPACE_PREFIX}.*",type="used"}} '
        f'/ ignoring(type) (kube_resourcequota{{namespace=~"{NAMESPACE_PREFIX}.*",'
        'type="hard"} > 0) > 0.9',
        "15m",
        "warning",
        "Tenant {{ $labels.namespace }} uses over 90% of its {{ $labels.resource }} quota",
        "New pods of the tenant will be refused once the quota is reached: raise its tier or "
        "find what grew.",
    ),
    AlertRule(
        "PlatformTargetDown",
        "up == 0",
        "10m",
        "warning",
        "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
        "The target has been down for 10 minutes: its metrics, and the alerts built on them, "
        "are blind.",
    ),
)


def platform_rules() -> dict[str, Any]:
    """``additionalPrometheusRulesMap`` of kube-prometheus-stack: one PrometheusRule."""
    return {
        "genericcorp-platform": {
            "groups": [
                {"name": "genericcorp.platform", "rules": [r.to_rule() for r in PLATFORM_RULES]}
            ]
        }
    }


#: The message subject (SNS takes under 100 characters): state, alert name and severity.
SUBJECT = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})"


def _sns_receiver(
    name: str, topic_arn: pulumi.Input[str], region: str, *, page: bool
) -> dict[str, Any]:
    prefix = "[PAGE] " if page else ""
    return {
        "name": name,
        "sns_configs": [
            {
                "topic_arn": topic_arn,
                # No access_key or secret_key: the SDK's default chain, i.e. the service
                # account's IAM role (IRSA).
                "sigv4": {"region": region},
                "subject": prefix + SUBJECT,
                "attributes": {
                    "severity": "{{ .CommonLabels.severity }}",
                    "page": "true" if page else "false",
                },
                "send_resolved": True,
            }
        ],
    }


def alertmanager_config(
    topic_arn: pulumi.Input[str], region: str, *, pages: bool
) -> dict[str, Any]:
    """Alertmanager's configuration: every alert to the alerts topic; critical ones through the
    paging receiver where ``pages`` (prod). The chart's inhibition rules and templates stay."""
    routes: list[dict[str, Any]] = [
        {"receiver": NULL_RECEIVER, "matchers": ['alertname = "Watchdog"']},
    ]
    receivers = [
        {"name": NULL_RECEIVER},
        _sns_receiver(NOTIFY_RECEIVER, topic_arn, region, page=False),
    ]
    if pages:
        routes.append(
            {
                "receiver": PAGE_RECEIVER,
                "matchers": ['severity = "critical"'],
                "repeat_interval": "1h",
            }
        )
        receivers.append(_sns_receiver(PAGE_RECEIVER, topic_arn, region, page=True))
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h" if pages else "12h",
            "receiver": NOTIFY_RECEIVER,
            "routes": routes,
        },
        "receivers": receivers,
    }


def publish_policy(topic_arn: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """sns:Publish on the alerts topic alone; its key only through SNS, for that topic."""
    return pulumi.Output.from_input(topic_arn).apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublishToTheAlertsTopic",
                        "Effect": "Allow",
                        "Action": "sns:Publish",
                        "Resource": arn,
                    },
                    {
                        # SNS encrypts each message with the topic's key on the publisher's
                        # behalf; the key is named by the condition, not by ARN.
                        "Sid": "UseTheTopicKeyThroughSns",
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"sns.{region}.amazonaws.com",
                                "kms:EncryptionContext:aws:sns:topicArn": arn,
                            }
                        },
                    },
                ],
            },
            sort_keys=True,
        )
    )


def alert_routing_values(
    owner: PlatformComponent,
    name: str,
    *,
    oidc: OidcIdentity,
    topic_arn: pulumi.Input[str],
    namespace: str,
) -> dict[str, Any]:
    """Declare Alertmanager's publishing role ``name`` (a child of ``owner``); return the values
    of kube-prometheus-stack that route alerts to the topic with it and add the platform rules."""
    context = owner.context
    role: aws.iam.Role = service_account_role(
        owner,
        name,
        oidc=oidc,
        namespace=namespace,
        service_account=ALERTMANAGER_SERVICE_ACCOUNT,
        description="Lets Alertmanager publish to the stack's alerts topic, nothing else.",
        inline_policy=publish_policy(topic_arn, context.region),
    )
    return {
        "alertmanager": {
            "serviceAccount": {
                "create": True,
                "name": ALERTMANAGER_SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            "config": alertmanager_config(topic_arn, context.region, pages=context.is_prod),
        },
        "additionalPrometheusRulesMap": platform_rules(),
    }


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mapping by mapping (as Helm merges values)."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = merged(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            result[key] = value
    return result
