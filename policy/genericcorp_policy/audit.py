"""Logs and access: CloudWatch log groups encrypted with KMS and expiring, prod audit logs kept
long enough, and no IAM policy granting every action on every resource."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    Scope,
    StackRule,
    get,
    items,
    number,
)
from genericcorp_policy.thresholds import PROD_AUDIT_LOG_RETENTION_DAYS

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
QUERY_LOG = "aws:route53/queryLog:QueryLog"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
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


def _log_group_name(arn: Any) -> str | None:
    """``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` -> ``<name>``."""
    _, found, name = str(arn or "").partition(":log-group:")
    return name.removesuffix(":*") if found else None


def _audit_log_groups(everything: Sequence[Resource]) -> dict[str, str]:
    """The log groups that receive audit records (by name), each with what writes to it: VPC flow
    logs, Route53 query logs and EKS control-plane logs (which EKS writes to
    ``/aws/eks/<cluster>/cluster``)."""
    audit: dict[str, str] = {}
    for resource in everything:
        props = resource.props
        if resource.type == FLOW_LOG:
            if get(props, "logDestinationType") not in (None, "cloud-watch-logs"):
                continue  # flow logs to S3 or Firehose expire by those services' rules
            name = _log_group_name(get(props, "logDestination")) or get(props, "logGroupName")
            source = f"VPC flow log {resource.name}"
        elif resource.type == QUERY_LOG:
            name = _log_group_name(get(props, "cloudwatchLogGroupArn"))
            source = f"Route53 query log {resource.name}"
        elif resource.type == EKS_CLUSTER and items(get(props, "enabledClusterLogTypes")):
            name = f"/aws/eks/{get(props, 'name')}/cluster"
            source = f"EKS cluster {resource.name}"
        else:
            continue
        if name:
            audit[str(name)] = source
    return audit


def _audit_log_retention(
    log_groups: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    audit = _audit_log_groups(everything)
    for group in log_groups:
        source = audit.get(str(get(group.props, "name")))
        days = number(get(group.props, "retentionInDays"))
        # 0 or unset keeps events forever (cloudwatch-log-group-kms-retention refuses that).
        if source is not None and days and days < PROD_AUDIT_LOG_RETENTION_DAYS:
            yield (
                f"log group {group.name} holds the audit records of {source} for {int(days)} "
                f"days; prod keeps them {PROD_AUDIT_LOG_RETENTION_DAYS} or more (retentionInDays)",
                group.urn,
            )


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

STACK_RULES = (
    StackRule(
        name="cloudwatch-audit-log-retention",
        control="",
        description="Prod keeps audit logs (VPC flow logs, Route53 query logs, EKS control-plane "
        f"logs) for {PROD_AUDIT_LOG_RETENTION_DAYS} days or more.",
        subjects=(LOG_GROUP,),
        check=_audit_log_retention,
        scope=Scope.PROD,
    ),
)
