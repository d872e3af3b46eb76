"""Log groups: the retention periods CloudWatch Logs accepts, and groups with a key of their own.

Every log group the platform declares is created before the service that writes to it (a
service creates a missing group itself, without retention or encryption), keeps its records for
a set period, and is encrypted with a customer-managed key that CloudWatch Logs may use for that
group alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import pulumi_aws as aws

from components.base import PlatformComponent
from components.kms_key import KmsKey, KmsSettings, logs_statement

#: The retention periods (days) CloudWatch Logs accepts.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
]  # fmt: skip


def encrypted_log_group(
    owner: PlatformComponent,
    name: str,
    *,
    log_group_name: str,
    retention_days: int,
    kms: KmsSettings,
    purpose: str,
    description: str,
    statement_sid: str,
    tag: str,
    key_name: str | None = None,
    provider: aws.Provider | None = None,
    region: str | None = None,
) -> aws.cloudwatch.LogGroup:
    """A log group encrypted with a key of its own, which CloudWatch Logs may use for this log
    group alone. ``provider`` and ``region`` place both in another region than the stack's:
    keys are regional, so the key must live where the log group does."""
    context = owner.context if region is None else replace(owner.context, region=region)
    placement: dict[str, Any] = {} if provider is None else {"provider": provider}
    key = KmsKey(
        key_name or f"{name}-key",
        purpose=purpose,
        description=description,
        settings=kms,
        context=context,
        component_tag=owner.component_tag,
        service_statements=[logs_statement(statement_sid, context, log_group_name)],
        opts=owner.child_opts(**placement),
    )
    return aws.cloudwatch.LogGroup(
        name,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        tags=owner.tags(tag),
        opts=owner.child_opts(**placement),
    )
