"""Logs and access: CloudWatch log groups encrypted with KMS and expiring, and no IAM policy
granting every action on every resource."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from genericcorp_policy.framework import Config, Props, Rule, get, items, number

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)

#: Log class whose retention AWS fixes itself (events kept for a day or two before delivery
#: to S3 or Firehose), so it takes no retentionInDays.
DELIVERY_CLASS = "DELIVERY"


def _log_group(props: Props, _: Config) -> Iterator[str]:
    if not get(props, "kmsKeyId"):
        yield "log data is not encrypted with a KMS key (kmsKeyId)"
    if get(props, "logGroupClass") == DELIVERY_CLASS:
        return
    days = number(get(props, "retentionInDays"))
    if not days:
        yield "log events never expire (set retentionInDays; 0 or unset keeps them forever)"


def _documents(props: Props) -> Iterator[tuple[str, Any]]:
    """(where, policy document) of every policy a resource declares."""
    if "policy" in props:
        yield "policy", get(props, "policy")
    for index, inline in enumerate(items(get(props, "inlinePolicies"))):
        yield f"inlinePolicies[{index}] ({get(inline, 'name')})", get(inline, "policy")


def _listed(value: Any) -> set[str]:
    return {str(v) for v in items(value)}


def _admin_statements(document: Mapping[str, Any]) -> Iterator[int]:
    for index, statement in enumerate(items(get(document, "Statement"))):
        if (
            get(statement, "Effect") == "Allow"
            and _listed(get(statement, "Action")) & {"*", "*:*"}
            and "*" in _listed(get(statement, "Resource"))
        ):
            yield index


def _no_admin(props: Props, _: Config) -> Iterator[str]:
    for where, given in _documents(props):
        document = given
        if isinstance(given, str):
            try:
                document = json.loads(given)
            except ValueError:
                yield f"{where} is not a JSON policy document, so it cannot be checked"
                continue
        if not isinstance(document, Mapping):
            continue
        for index in _admin_statements(document):  # pyright: ignore[reportUnknownArgumentType]
            yield (
                f'{where}: Statement[{index}] allows "Action": "*" on "Resource": "*" '
                "(full administrator); grant the actions and resources the role needs"
            )


RULES = (
    Rule(
        name="cloudwatch-log-group-kms-retention",
        control="",
        description="CloudWatch log groups are encrypted with a KMS key and expire their events "
        "(retentionInDays set).",
        types=(LOG_GROUP,),
        check=_log_group,
        reads=("kmsKeyId", "retentionInDays", "logGroupClass"),
    ),
    Rule(
        name="iam-1-no-admin-policy",
        control="IAM.1",
        description='IAM policies do not allow "Action": "*" on "Resource": "*".',
        types=(*POLICY_TYPES, ROLE),
        check=_no_admin,
        reads=("policy", "inlinePolicies"),
    ),
)
