"""``infractl restore-drill``: rehearse restoring a stack's database and cache from their backups.

Backups that were never restored are a hope, not a recovery plan. The drill restores the latest
automated snapshot of the stack's RDS instance and of its ElastiCache replication group to new,
isolated resources, waits until each is available, reports each restore's duration against the
recovery time objective (RTO), and deletes what it created: also when waiting fails, times out or
is interrupted (the clean-up runs in ``finally``). Whatever it could not delete is named, with its
identifier and the command to delete it by hand.

What the drill creates, per store, in the source's VPC and subnet group:

- a security group named after the drill, with no inbound rule and its default outbound rule
  removed. The source's security group is deliberately not reused: it admits the application's
  clients (the cluster's security groups), so a drill copy behind it would put every tenant's
  data within reach of the application, outside the stack's lifecycle, and a client pointed at
  the wrong endpoint could write to it. The drill measures how long a restore takes and proves
  the snapshot restores; it needs no connection, so nothing may connect. Security groups are
  free; the group is deleted once the restored store is gone (AWS refuses it while in use);
- RDS: ``<identifier>-drill-<yymmddhhmm>`` restored from the snapshot with the source's instance
  class, storage type, port, parameter group, CA and IAM database authentication; Single-AZ, not
  publicly accessible, no deletion protection. There is no KMS key to choose: a snapshot of an
  encrypted instance restores encrypted with the snapshot's key, and the drill refuses an
  unencrypted snapshot rather than make an unencrypted copy of the data;
- ElastiCache: ``<replicationGroupId>-drill-<yymmddhhmm>`` (cluster mode disabled, as the
  program declares it), one node of the source's node type, engine and parameter group, TLS
  required, encrypted at rest with the source's KMS key, and AUTH as the source has it: the
  source's RBAC user groups, or else a fresh random AUTH token that is never printed or kept
  (nobody is meant to connect);
- both tagged ``Purpose=restore-drill``, ``Environment=<stack>``, ``ManagedBy=infractl
  restore-drill`` and ``RestoredFrom=<source>``.

Single-AZ and one node because the drill restores data, not availability: the data comes back
from the snapshot either way, and a standby or replica would add cost, not information.

Both restores start together and are waited for together, as in a real recovery; each is timed
from its create call until AWS first reports it available (to the poll interval, 30 s).

``--dry-run`` finds the snapshots and prints what would be created (identifiers, snapshot names
and times, subnet groups, security groups, settings) and the recovery point each snapshot implies,
creating nothing. It needs only the read permissions.

Exit status: 0 when both stores were restored within the RTO and everything was deleted; 1 when
the drill ran but a restore failed, timed out or exceeded the RTO, or something could not be
deleted; 2 when nothing could be restored: an unusable outputs file, a refused drill (no
automated snapshot, backups off, an identifier in use) or a permission AWS denied.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol, TypeVar

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from rich.console import Console
from rich.table import Table

from infractl.aws.access import (
    AwsAccessError,
    caller_account,
    error_code,
    region_problem,
    session_for,
)

if TYPE_CHECKING:
    from mypy_boto3_elasticache import ElastiCacheClient
    from mypy_boto3_elasticache.type_defs import CreateReplicationGroupMessageTypeDef
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import RestoreDBInstanceFromDBSnapshotMessageTypeDef
    from mypy_boto3_sts import STSClient

# A snapshot restore of the platform's sizes (tens of GiB of PostgreSQL, a few GiB of Redis)
# takes well under this; a drill slower than it means a real recovery would breach the objective.
DEFAULT_RTO_MINUTES = 60
POLL_SECONDS = 30
# RDS and ElastiCache take 5 to 15 minutes to delete; past this the drill names what is left.
CLEANUP_MINUTES = 45
EXIT_FAILED = 1
EXIT_INVALID = 2
RDS_IDENTIFIER_LIMIT = 63
CACHE_IDENTIFIER_LIMIT = 40
PURPOSE = "restore-drill"

# What the drill calls, as IAM actions (docs/deploying.md lists them; a test keeps both in step).
# Restoring encrypted snapshots also needs kms:CreateGrant and kms:DescribeKey on the stores' keys.
PERMISSIONS = (
    "sts:GetCallerIdentity",
    "rds:DescribeDBInstances",
    "rds:DescribeDBSnapshots",
    "rds:RestoreDBInstanceFromDBSnapshot",
    "rds:AddTagsToResource",
    "rds:DeleteDBInstance",
    "elasticache:DescribeReplicationGroups",
    "elasticache:DescribeCacheClusters",
    "elasticache:DescribeCacheSubnetGroups",
    "elasticache:DescribeSnapshots",
    "elasticache:CreateReplicationGroup",
    "elasticache:AddTagsToResource",
    "elasticache:DeleteReplicationGroup",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DescribeSecurityGroups",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:DeleteSecurityGroup",
    "kms:CreateGrant",
    "kms:DescribeKey",
)

_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
_DENIED_ACTION = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


class DrillError(Exception):
    """The drill cannot go on; the message is one line naming what failed and what to do."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def _aws(service: str, doing: str) -> Generator[None]:
    """Turn an AWS error raised inside into a DrillError naming the action and the remedy."""
    try:
        yield
    except Exception as error:
        if not error_code(error):
            raise
        raise _refusal(error, service, doing) from None


def _refusal(error: Exception, service: str, doing: str) -> DrillError:
    code = error_code(error)
    message = _aws_message(error)
    operation = getattr(error, "operation_name", "") or "?"
    if code in _DENIED_CODES or "not authorized" in message.lower():
        named = _DENIED_ACTION.search(message)
        action = named.group(1) if named else f"{service}:{operation}"
        return DrillError(
            f"AWS denied {action} ({code}) while {doing}; grant the caller {action} "
            "(docs/deploying.md lists every permission the drill needs)",
            EXIT_INVALID,
        )
    if code == "KMSKeyNotAccessibleFault":
        return DrillError(
            f"the caller may not use the snapshot's KMS key while {doing} ({message}); grant it "
            "kms:CreateGrant and kms:DescribeKey on the key",
            EXIT_INVALID,
        )
    return DrillError(f"{service}:{operation} failed while {doing}: {code}: {message}", EXIT_FAILED)


def _aws_message(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})  # pyright: ignore[reportUnknownVariableType]
        if isinstance(details, dict):
            return str(details.get("Message", ""))  # pyright: ignore[reportUnknownArgumentType]
    return str(error)


# --- the outputs file ------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True, frozen=True
    )


class _DatabaseSection(_Section):
    identifier: str = Field(min_length=1)


class _CacheSection(_Section):
    replication_group_id: str = Field(min_length=1)


@dataclass(frozen=True)
class DrillSources:
    """What the drill reads from ``pulumi stack output --json``: where, and which two stores."""

    environment: str
    region: str
    database: str
    cache: str


def parse_sources(text: str, source: str, stack: str) -> DrillSources:
    """The stack's region and store identifiers, or a one-line DrillError listing every problem."""
    remedy = f"write it with `pulumi stack output --stack {stack} --json > FILE`"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DrillError(
            f"{source}: not JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            f"{remedy}",
            EXIT_INVALID,
        ) from None
    if not isinstance(document, dict):
        raise DrillError(
            f"{source}: expected a JSON object of stack outputs; {remedy}", EXIT_INVALID
        )
    outputs: dict[str, Any] = document
    problems: list[str] = []
    environment = outputs.get("environment")
    if not isinstance(environment, str):
        problems.append("environment: required key missing")
    elif environment != stack:
        problems.append(
            f"environment is {environment!r}: these are not the {stack} stack's outputs"
        )
    region = outputs.get("region")
    if not isinstance(region, str):
        problems.append("region: required key missing")
    elif (region_error := region_problem(region)) is not None:
        problems.append(f"region: {region_error}")
    database = _section(_DatabaseSection, "database", outputs, problems)
    cache = _section(_CacheSection, "cache", outputs, problems)
    if problems or database is None or cache is None:
        raise DrillError(f"{source}: {'; '.join(problems)}; {remedy}", EXIT_INVALID)
    return DrillSources(
        environment=stack,
        region=str(region),
        database=database.identifier,
        cache=cache.replication_group_id,
    )


_SectionT = TypeVar("_SectionT", bound=_Section)


def _section(
    model: type[_SectionT], name: str, outputs: Mapping[str, Any], problems: list[str]
) -> _SectionT | None:
    try:
        return model.model_validate(outputs.get(name))
    except ValidationError as error:
        problems.extend(_describe(name, e) for e in error.errors())
        return None


def _describe(section: str, error: Mapping[str, Any]) -> str:
    if error["type"] == "model_type":
        return f"{section}: required object missing"
    path = ".".join(str(part) for part in (section, *error["loc"]))
    if error["type"] == "missing":
        return f"{path}: required key missing"
    return f"{path} = {error['input']!r}: {error['msg'].lower()}"


# --- identifiers -------------------------------------------------------------------------------


def drill_identifier(source: str, started: datetime, limit: int) -> str:
    """``<source>-drill-<yymmddhhmm>``, the source shortened to fit AWS's ``limit``.

    RDS allows 63 characters, ElastiCache 40; both refuse a trailing or doubled hyphen.
    """
    suffix = f"-drill-{started:%y%m%d%H%M}"
    return source[: limit - len(suffix)].rstrip("-") + suffix


# --- the isolated security group -----------------------------------------------------------------


class SecurityGroupApi(Protocol):
    """The EC2 calls the drill makes (typed here: the project installs no EC2 stubs)."""

    def create_security_group(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def describe_security_groups(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def revoke_security_group_egress(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def delete_security_group(self, **kwargs: Any) -> Mapping[str, Any]: ...


def _isolated_group(ec2: SecurityGroupApi, restore: Restore) -> str:
    """Create the drill's security group: no inbound rule, and its default outbound rule removed."""
    name = restore.identifier
    try:
        group_id = str(
            ec2.create_security_group(
                GroupName=name,
                Description=f"Restore drill of {restore.source}: no rules, admits nothing",
                VpcId=restore.vpc_id,
                TagSpecifications=[
                    {
                        "ResourceType": "security-group",
                        "Tags": [
                            {"Key": key, "Value": value}
                            for key, value in {"Name": name, **restore.tags}.items()
                        ],
                    }
                ],
            )["GroupId"]
        )
    except Exception as error:
        if error_code(error) != "InvalidGroup.Duplicate":
            raise
        raise DrillError(
            f"a security group named {name} already exists in {restore.vpc_id} (a drill started "
            "this minute, or one left behind); delete it or rerun in a minute",
            EXIT_INVALID,
        ) from None
    restore.security_group_id = group_id
    described = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    egress = described.get("IpPermissionsEgress", [])
    if egress:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=egress)
    return group_id


# --- one store's restore -------------------------------------------------------------------------


@dataclass(kw_only=True)
class Restore(ABC):
    """One store's drill: what is restored from which snapshot, and what this run created."""

    store: str  # the outputs section: "database" or "cache"
    source: str
    identifier: str  # the drill's
    snapshot: str
    snapshot_time: datetime
    subnet_group: str
    vpc_id: str
    source_security_groups: list[str]
    settings: list[str]  # what the dry run prints beyond the identifiers and the network
    tags: dict[str, str]
    security_group_id: str | None = None
    created: bool = False
    delete_requested: bool = False
    started_at: float = 0.0
    restored_after: float | None = None
    last_status: str = "not started"
    timed_out: bool = False

    service: ClassVar[str]
    noun: ClassVar[str]
    failed_statuses: ClassVar[frozenset[str]]
    not_found_code: ClassVar[str]
    busy_code: ClassVar[str]  # "not in a state to be deleted (yet)"

    @abstractmethod
    def create(self, security_group_id: str) -> None:
        """Start the restore into the drill's security group."""

    @abstractmethod
    def status(self) -> str | None:
        """The drill resource's status, or None once it no longer exists."""

    @abstractmethod
    def delete(self) -> None:
        """Ask AWS to delete the drill resource, keeping nothing of it."""

    @abstractmethod
    def delete_command(self) -> str:
        """The AWS CLI line an operator runs to delete it by hand."""


@dataclass(kw_only=True)
class DatabaseRestore(Restore):
    rds: RDSClient
    request: RestoreDBInstanceFromDBSnapshotMessageTypeDef

    service: ClassVar[str] = "rds"
    noun: ClassVar[str] = "RDS instance"
    failed_statuses: ClassVar[frozenset[str]] = frozenset(
        {
            "failed",
            "incompatible-restore",
            "incompatible-parameters",
            "incompatible-network",
            "incompatible-option-group",
            "inaccessible-encryption-credentials",
            "restore-error",
            "storage-full",
        }
    )
    not_found_code: ClassVar[str] = "DBInstanceNotFound"
    busy_code: ClassVar[str] = "InvalidDBInstanceState"

    def create(self, security_group_id: str) -> None:
        self.request["VpcSecurityGroupIds"] = [security_group_id]
        self.rds.restore_db_instance_from_db_snapshot(**self.request)

    def status(self) -> str | None:
        try:
            found = self.rds.describe_db_instances(DBInstanceIdentifier=self.identifier)
        except self.rds.exceptions.DBInstanceNotFoundFault:
            return None
        return found["DBInstances"][0].get("DBInstanceStatus", "?")

    def delete(self) -> None:
        self.rds.delete_db_instance(
            DBInstanceIdentifier=self.identifier,
            SkipFinalSnapshot=True,
            DeleteAutomatedBackups=True,
        )

    def delete_command(self) -> str:
        return (
            f"aws rds delete-db-instance --db-instance-identifier {self.identifier} "
            "--skip-final-snapshot --delete-automated-backups"
        )


@dataclass(kw_only=True)
class CacheRestore(Restore):
    elasticache: ElastiCacheClient
    request: CreateReplicationGroupMessageTypeDef

    service: ClassVar[str] = "elasticache"
    noun: ClassVar[str] = "ElastiCache replication group"
    failed_statuses: ClassVar[frozenset[str]] = frozenset({"create-failed"})
    not_found_code: ClassVar[str] = "ReplicationGroupNotFoundFault"
    busy_code: ClassVar[str] = "InvalidReplicationGroupState"

    def create(self, security_group_id: str) -> None:
        self.request["SecurityGroupIds"] = [security_group_id]
        self.elasticache.create_replication_group(**self.request)

    def status(self) -> str | None:
        try:
            found = self.elasticache.describe_replication_groups(ReplicationGroupId=self.identifier)
        except self.elasticache.exceptions.ReplicationGroupNotFoundFault:
            return None
        return found["ReplicationGroups"][0].get("Status", "?")

    def delete(self) -> None:
        self.elasticache.delete_replication_group(
            ReplicationGroupId=self.identifier, RetainPrimaryCluster=False
        )

    def delete_command(self) -> str:
        return (
            "aws elasticache delete-replication-group "
            f"--replication-group-id {self.identifier} --no-retain-primary-cluster"
        )


def _drill_tags(environment: str, source: str) -> dict[str, str]:
    return {
        "Purpose": PURPOSE,
        "Environment": environment,
        "ManagedBy": "infractl restore-drill",
        "RestoredFrom": source,
    }


def _backups_off(noun: str, source: str, setting: str, key: str) -> DrillError:
    return DrillError(
        f"{noun} {source} has automated backups off ({setting} 0): a drill on a stack without "
        f"backups has nothing to restore; set {key} above 0 and deploy",
        EXIT_INVALID,
    )


def plan_database(
    rds: RDSClient, source: str, started: datetime, environment: str
) -> DatabaseRestore:
    """The restore of the source instance's latest automated snapshot, checked but not started."""
    with _aws("rds", f"describing the RDS instance {source}"):
        try:
            db = rds.describe_db_instances(DBInstanceIdentifier=source)["DBInstances"][0]
        except rds.exceptions.DBInstanceNotFoundFault:
            raise _not_found("RDS instance", source) from None
    if not db.get("BackupRetentionPeriod", 0):
        raise _backups_off(
            "RDS instance",
            source,
            "BackupRetentionPeriod",
            "genericcorp:database.backupRetentionDays",
        )
    with _aws("rds", f"listing the automated snapshots of {source}"):
        snapshots = [
            snapshot
            for page in rds.get_paginator("describe_db_snapshots").paginate(
                DBInstanceIdentifier=source, SnapshotType="automated"
            )
            for snapshot in page["DBSnapshots"]
            if snapshot.get("Status") == "available" and "SnapshotCreateTime" in snapshot
        ]
    if not snapshots:
        raise DrillError(
            f"RDS instance {source} has no available automated snapshot yet (the first is taken "
            f"in the backup window, {db.get('PreferredBackupWindow', '?')} UTC); rerun after it",
            EXIT_INVALID,
        )
    latest = max(snapshots, key=lambda s: s["SnapshotCreateTime"])
    snapshot_id = latest.get("DBSnapshotIdentifier", "?")
    if not latest.get("Encrypted"):
        raise DrillError(
            f"automated snapshot {snapshot_id} of {source} is not encrypted; the drill will not "
            "make an unencrypted copy of the data (encrypt the instance first, RDS.3)",
            EXIT_INVALID,
        )
    identifier = drill_identifier(source, started, RDS_IDENTIFIER_LIMIT)
    with _aws("rds", f"checking that no RDS instance is named {identifier}"):
        try:
            rds.describe_db_instances(DBInstanceIdentifier=identifier)
        except rds.exceptions.DBInstanceNotFoundFault:
            pass
        else:
            raise _in_use("an RDS instance", identifier)
    subnet_group = db.get("DBSubnetGroup", {})
    subnet_group_name = subnet_group.get("DBSubnetGroupName", "")
    instance_class = db.get("DBInstanceClass", "")
    iam_auth = bool(db.get("IAMDatabaseAuthenticationEnabled"))
    tags = _drill_tags(environment, source)
    request: RestoreDBInstanceFromDBSnapshotMessageTypeDef = {
        "DBInstanceIdentifier": identifier,
        "DBSnapshotIdentifier": snapshot_id,
        "DBInstanceClass": instance_class,
        "DBSubnetGroupName": subnet_group_name,
        "PubliclyAccessible": False,
        "MultiAZ": False,
        "DeletionProtection": False,
        "EnableIAMDatabaseAuthentication": iam_auth,
        "AutoMinorVersionUpgrade": False,
        "CopyTagsToSnapshot": False,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    if "StorageType" in db:
        request["StorageType"] = db["StorageType"]
    if (port := db.get("Endpoint", {}).get("Port")) is not None:
        request["Port"] = port
    parameter_groups = [
        name for g in db.get("DBParameterGroups", []) if (name := g.get("DBParameterGroupName"))
    ]
    if parameter_groups:
        request["DBParameterGroupName"] = parameter_groups[0]
    if "CACertificateIdentifier" in db:
        request["CACertificateIdentifier"] = db["CACertificateIdentifier"]
    settings = [
        f"class {instance_class}, Single-AZ, not publicly accessible, deletion protection off, "
        f"IAM database authentication {'on' if iam_auth else 'off (as the source)'}",
        f"encrypted with the snapshot's KMS key {latest.get('KmsKeyId', '?')}",
        f"parameter group {parameter_groups[0] if parameter_groups else '(default)'}",
    ]
    return DatabaseRestore(
        store="database",
        source=source,
        identifier=identifier,
        snapshot=snapshot_id,
        snapshot_time=latest["SnapshotCreateTime"],
        subnet_group=subnet_group_name,
        vpc_id=subnet_group.get("VpcId", ""),
        source_security_groups=[
            g.get("VpcSecurityGroupId", "?") for g in db.get("VpcSecurityGroups", [])
        ],
        settings=settings,
        tags=tags,
        rds=rds,
        request=request,
    )


def plan_cache(
    elasticache: ElastiCacheClient, source: str, started: datetime, environment: str
) -> CacheRestore:
    """The restore of the source group's latest automated snapshot, checked but not started."""
    with _aws("elasticache", f"describing the replication group {source}"):
        try:
            group = elasticache.describe_replication_groups(ReplicationGroupId=source)[
                "ReplicationGroups"
            ][0]
        except elasticache.exceptions.ReplicationGroupNotFoundFault:
            raise _not_found("ElastiCache replication group", source) from None
    if not group.get("SnapshotRetentionLimit", 0):
        raise _backups_off(
            "ElastiCache replication group",
            source,
            "SnapshotRetentionLimit",
            "genericcorp:cache.snapshotRetentionDays",
        )
    if group.get("ClusterEnabled"):
        raise DrillError(
            f"replication group {source} runs in cluster mode; the drill restores cluster-mode-"
            "disabled groups (the program's) only",
            EXIT_INVALID,
        )
    members = group.get("MemberClusters", [])
    if not members:
        raise DrillError(
            f"replication group {source} has no nodes to read its subnet group from; check its "
            "status in the ElastiCache console",
            EXIT_INVALID,
        )
    with _aws("elasticache", f"describing the nodes and subnet group of {source}"):
        node = elasticache.describe_cache_clusters(CacheClusterId=members[0])["CacheClusters"][0]
        subnet_group = node.get("CacheSubnetGroupName", "")
        vpc_id = elasticache.describe_cache_subnet_groups(CacheSubnetGroupName=subnet_group)[
            "CacheSubnetGroups"
        ][0].get("VpcId", "")
    taken, snapshot_name = _latest_cache_snapshot(
        elasticache, source, group.get("SnapshotWindow", "?")
    )
    identifier = drill_identifier(source, started, CACHE_IDENTIFIER_LIMIT)
    with _aws("elasticache", f"checking that no replication group is named {identifier}"):
        try:
            elasticache.describe_replication_groups(ReplicationGroupId=identifier)
        except elasticache.exceptions.ReplicationGroupNotFoundFault:
            pass
        else:
            raise _in_use("a replication group", identifier)
    tags = _drill_tags(environment, source)
    engine = group.get("Engine") or node.get("Engine", "redis")
    node_type = group.get("CacheNodeType") or node.get("CacheNodeType", "")
    request: CreateReplicationGroupMessageTypeDef = {
        "ReplicationGroupId": identifier,
        "ReplicationGroupDescription": f"Restore drill of {source} from {snapshot_name}",
        "SnapshotName": snapshot_name,
        "Engine": engine,
        "CacheNodeType": node_type,
        "NumCacheClusters": 1,
        "AutomaticFailoverEnabled": False,
        "MultiAZEnabled": False,
        "CacheSubnetGroupName": subnet_group,
        "TransitEncryptionEnabled": True,
        "TransitEncryptionMode": "required",
        "AtRestEncryptionEnabled": True,
        "SnapshotRetentionLimit": 0,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    version = _major_minor(node.get("EngineVersion", ""))
    if version:
        request["EngineVersion"] = version
    parameter_group = node.get("CacheParameterGroup", {}).get("CacheParameterGroupName")
    if parameter_group:
        request["CacheParameterGroupName"] = parameter_group
    if "KmsKeyId" in group:
        request["KmsKeyId"] = group["KmsKeyId"]
    user_groups = group.get("UserGroupIds", [])
    if user_groups:
        request["UserGroupIds"] = user_groups
        auth = f"the source's RBAC user groups {', '.join(user_groups)}"
    else:
        # ElastiCache allows 16-128 printable characters: 64 URL-safe ones.
        request["AuthToken"] = secrets.token_urlsafe(48)
        auth = "a fresh AUTH token, never printed or kept"
    settings = [
        f"one {node_type} node of {engine} {version or '(the default version)'}, no replica, "
        "no failover",
        f"TLS required; encrypted at rest with {group.get('KmsKeyId', 'the AWS-managed key')}",
        f"AUTH: {auth}",
        f"parameter group {parameter_group or '(default)'}",
    ]
    return CacheRestore(
        store="cache",
        source=source,
        identifier=identifier,
        snapshot=snapshot_name,
        snapshot_time=taken,
        subnet_group=subnet_group,
        vpc_id=vpc_id,
        source_security_groups=[
            g.get("SecurityGroupId", "?") for g in node.get("SecurityGroups", [])
        ],
        settings=settings,
        tags=tags,
        elasticache=elasticache,
        request=request,
    )


def _latest_cache_snapshot(
    elasticache: ElastiCacheClient, source: str, window: str
) -> tuple[datetime, str]:
    """When the group's newest available automated snapshot was taken, and its name."""
    with _aws("elasticache", f"listing the automated snapshots of {source}"):
        snapshots = [
            (max(times), snapshot.get("SnapshotName", "?"))
            for page in elasticache.get_paginator("describe_snapshots").paginate(
                ReplicationGroupId=source, SnapshotSource="automated"
            )
            for snapshot in page["Snapshots"]
            if snapshot.get("SnapshotStatus") == "available"
            # ElastiCache times each node it copied; the latest is the snapshot's time.
            and (
                times := [
                    n["SnapshotCreateTime"]
                    for n in snapshot.get("NodeSnapshots", [])
                    if "SnapshotCreateTime" in n
                ]
            )
        ]
    if not snapshots:
        raise DrillError(
            f"ElastiCache replication group {source} has no available automated snapshot yet "
            f"(the first is taken in the snapshot window, {window} UTC); rerun after it",
            EXIT_INVALID,
        )
    return max(snapshots)


def _major_minor(version: str) -> str:
    """ElastiCache reports the patch release ("7.1.0"); the program's versions are "7.1"."""
    return ".".join(version.split(".")[:2])


def _not_found(noun: str, source: str) -> DrillError:
    return DrillError(
        f"no {noun} {source!r} in this account and region: the outputs file names a store the "
        "credentials cannot see; check the account and that --outputs is the stack's current "
        "`pulumi stack output --json`",
        EXIT_INVALID,
    )


def _in_use(noun: str, identifier: str) -> DrillError:
    return DrillError(
        f"{noun} named {identifier} already exists; the drill will not reuse a live identifier "
        "(a drill started this minute, or one left behind): delete it or rerun in a minute",
        EXIT_INVALID,
    )


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Where the drill gets its time from (tests pass a fake clock that sleeps instantly)."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    poll_seconds: float = POLL_SECONDS


TIMING = Timing()


@dataclass(frozen=True)
class Leftover:
    """Something the drill created and could not delete."""

    noun: str
    identifier: str
    reason: str
    command: str

    def line(self) -> str:
        return (
            f"could not delete {self.noun} {self.identifier} ({self.reason}); delete it by hand: "
            f"{self.command}"
        )


class Drill:
    """Start every restore, wait for them together, and always delete what was created."""

    def __init__(
        self,
        restores: list[Restore],
        ec2: SecurityGroupApi,
        *,
        timeout_minutes: int,
        timing: Timing,
        say: Callable[[str], None],
        cleanup_minutes: int = CLEANUP_MINUTES,
    ) -> None:
        self.restores = restores
        self.ec2 = ec2
        self.timeout_minutes = timeout_minutes
        self.timing = timing
        self.say = say
        self.cleanup_minutes = cleanup_minutes
        self.leftovers: list[Leftover] = []

    def run(self) -> None:
        try:
            for restore in self.restores:
                self._start(restore)
            self._wait()
        finally:
            self.leftovers = self._clean_up()

    def _start(self, restore: Restore) -> None:
        with _aws("ec2", f"creating the isolated security group {restore.identifier}"):
            group_id = _isolated_group(self.ec2, restore)
        doing = f"restoring {restore.noun} {restore.identifier} from {restore.snapshot}"
        restore.started_at = self.timing.clock()
        with _aws(restore.service, doing):
            restore.create(group_id)
        restore.created = True
        restore.last_status = "creating"
        self.say(f"{restore.store}: {doing} (security group {group_id})")

    def _wait(self) -> None:
        clock = self.timing.clock
        deadline = clock() + self.timeout_minutes * 60
        pending = list(self.restores)
        while True:
            for restore in list(pending):
                with _aws(restore.service, f"checking {restore.noun} {restore.identifier}"):
                    status = restore.status()
                restore.last_status = status or "gone"
                if status == "available":
                    restore.restored_after = clock() - restore.started_at
                    pending.remove(restore)
                    self.say(
                        f"{restore.store}: {restore.identifier} available after "
                        f"{_minutes(restore.restored_after)}"
                    )
                elif status is None or status in restore.failed_statuses:
                    pending.remove(restore)
                    self.say(
                        f"{restore.store}: restore failed: {restore.identifier} is "
                        f"{restore.last_status}"
                    )
            if not pending or clock() >= deadline:
                break
            self.timing.sleep(min(self.timing.poll_seconds, max(deadline - clock(), 0.0)))
        for restore in pending:
            restore.timed_out = True

    def _clean_up(self) -> list[Leftover]:
        clock = self.timing.clock
        deadline = clock() + self.cleanup_minutes * 60
        pending = [r for r in self.restores if r.created or r.security_group_id]
        leftovers: list[Leftover] = []
        while pending:
            for restore in list(pending):
                try:
                    done = self._clean_up_step(restore)
                except Exception as error:
                    if not error_code(error):
                        raise
                    reason = f"{error_code(error)}: {_aws_message(error)}"
                    leftovers.extend(_left_behind(restore, reason))
                    pending.remove(restore)
                    continue
                if done:
                    pending.remove(restore)
            if not pending or clock() >= deadline:
                break
            self.timing.sleep(self.timing.poll_seconds)
        for restore in pending:
            leftovers.extend(
                _left_behind(restore, f"still there after {self.cleanup_minutes} minutes")
            )
        for leftover in leftovers:
            self.say(leftover.line())
        return leftovers

    def _clean_up_step(self, restore: Restore) -> bool:
        """One round of deleting a restore and then its security group; True when both are gone."""
        if restore.created and not restore.delete_requested:
            try:
                restore.delete()
            except Exception as error:
                if error_code(error) == restore.busy_code:
                    return False  # still being created: AWS accepts the delete once it is done
                if error_code(error) != restore.not_found_code:
                    raise
            restore.delete_requested = True
            self.say(f"{restore.store}: deleting {restore.noun} {restore.identifier}")
        if restore.created:
            if restore.status() is not None:
                return False
            restore.created = False
            self.say(f"{restore.store}: deleted {restore.noun} {restore.identifier}")
        if restore.security_group_id:
            try:
                self.ec2.delete_security_group(GroupId=restore.security_group_id)
            except Exception as error:
                if error_code(error) == "DependencyViolation":
                    return False  # the deleted store's network interfaces are still going
                if error_code(error) != "InvalidGroup.NotFound":
                    raise
            self.say(f"{restore.store}: deleted security group {restore.security_group_id}")
            restore.security_group_id = None
        return True


def _left_behind(restore: Restore, reason: str) -> list[Leftover]:
    leftovers: list[Leftover] = []
    if restore.created:
        leftovers.append(
            Leftover(restore.noun, restore.identifier, reason, restore.delete_command())
        )
    if restore.security_group_id:
        why = f"in use by {restore.identifier}" if restore.created else reason
        leftovers.append(
            Leftover(
                "security group",
                restore.security_group_id,
                why,
                f"aws ec2 delete-security-group --group-id {restore.security_group_id}",
            )
        )
    return leftovers


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _age(taken: datetime, now: datetime) -> str:
    hours = (now - taken).total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


# --- CLI ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    sts: STSClient
    rds: RDSClient
    elasticache: ElastiCacheClient
    ec2: SecurityGroupApi


def make_clients(region: str, profile: str | None) -> Clients:
    session = session_for(region, profile)
    return Clients(
        sts=session.client("sts"),
        rds=session.client("rds"),
        elasticache=session.client("elasticache"),
        ec2=session.client("ec2"),
    )


def render_plan(restores: list[Restore], now: datetime, console: Console) -> None:
    """The dry run: what each restore would create, from which snapshot, and the recovery point."""
    for restore in restores:
        lines = [
            f"{restore.store}: would restore {restore.noun} {restore.identifier}",
            f"  from automated snapshot {restore.snapshot}, taken "
            f"{restore.snapshot_time.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
            f"({_age(restore.snapshot_time, now)} ago: the recovery point)",
            f"  subnet group {restore.subnet_group} in {restore.vpc_id}",
            f"  security group: a new one named {restore.identifier}, no inbound or outbound "
            f"rules (not the source's {', '.join(restore.source_security_groups) or '-'})",
            *(f"  {setting}" for setting in restore.settings),
            f"  tags {', '.join(f'{k}={v}' for k, v in restore.tags.items())}",
        ]
        for line in lines:
            console.print(line, markup=False, soft_wrap=True)
    console.print("Dry run: nothing was created.", markup=False)


def render_results(
    restores: list[Restore], rto_minutes: int, now: datetime, console: Console
) -> None:
    table = Table(title=f"Restore drill (RTO {rto_minutes} min)")
    for column in ("store", "snapshot", "recovery point", "drill", "restored in", "result"):
        table.add_column(column)
    for restore in restores:
        if restore.restored_after is None:
            took = "-"
            result = "[bold red]TIMED OUT[/]" if restore.timed_out else "[bold red]FAILED[/]"
        else:
            took = _minutes(restore.restored_after)
            within = restore.restored_after <= rto_minutes * 60
            result = "[green]pass[/]" if within else "[bold red]OVER RTO[/]"
        table.add_row(
            restore.store,
            restore.snapshot,
            f"{_age(restore.snapshot_time, now)} old",
            restore.identifier,
            took,
            result,
        )
    console.print(table)


def _problems(drill: Drill, rto_minutes: int) -> list[str]:
    """One line per thing that keeps the drill from passing, naming the resource involved."""
    left = {leftover.identifier: leftover for leftover in drill.leftovers}
    lines: list[str] = []
    for restore in drill.restores:
        if restore.timed_out:
            leftover = left.pop(restore.identifier, None)
            fate = (
                "it was deleted"
                if leftover is None
                else f"it could not be deleted ({leftover.reason}); delete it by hand: "
                f"{leftover.command}"
            )
            lines.append(
                f"{restore.noun} {restore.identifier} was still {restore.last_status} after "
                f"{drill.timeout_minutes} minutes; {fate}"
            )
        elif restore.restored_after is None:
            lines.append(
                f"{restore.noun} {restore.identifier} did not restore from {restore.snapshot}: "
                f"its status is {restore.last_status}; see the RDS/ElastiCache events for why"
            )
        elif restore.restored_after > rto_minutes * 60:
            lines.append(
                f"{restore.store}: {restore.identifier} took {_minutes(restore.restored_after)} "
                f"to restore, over the {rto_minutes}-minute RTO"
            )
    lines.extend(leftover.line() for leftover in left.values())
    return lines


def command(  # noqa: PLR0917 - typer maps each option to a parameter
    stack: Annotated[str, typer.Argument(help="Stack whose backups to restore: dev or prod.")],
    outputs: Annotated[
        str,
        typer.Option(
            "--outputs",
            metavar="FILE",
            help="The stack's `pulumi stack output --json` ('-' reads stdin).",
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Find the snapshots and print what would be created; create nothing."
        ),
    ] = False,
    rto_minutes: Annotated[
        int,
        typer.Option(metavar="MINUTES", min=1, help="Recovery time objective for each restore."),
    ] = DEFAULT_RTO_MINUTES,
    timeout_minutes: Annotated[
        int | None,
        typer.Option(
            metavar="MINUTES",
            min=1,
            help="Stop waiting (and delete) after this long. Default: twice the RTO.",
        ),
    ] = None,
    profile: Annotated[str | None, typer.Option(metavar="NAME", help="AWS profile to use.")] = None,
) -> None:
    """Restore the stack's latest automated database and cache snapshots, time them, delete them.

    Creates an isolated RDS instance and ElastiCache replication group (no security group rule
    admits anything), waits until both are available, reports each restore's time against the
    RTO, and deletes them, also when waiting fails. Exit status: 0 when both restored within the
    RTO, 1 when a restore failed, timed out or exceeded the RTO or something could not be
    deleted, 2 when the outputs are unusable, the drill is refused or AWS denied a permission.
    """
    errors = Console(stderr=True, highlight=False)

    def fail(lines: list[str], code: int) -> typer.Exit:
        for line in lines:
            errors.print(f"restore-drill: {line}", markup=False, soft_wrap=True)
        return typer.Exit(code)

    console = Console(highlight=False)
    if not console.is_terminal:  # CI logs: a wide page instead of rich's 80-column default
        console = Console(highlight=False, width=160)
    timing = TIMING
    try:
        try:
            text = sys.stdin.read() if outputs == "-" else Path(outputs).read_text(encoding="utf-8")
        except OSError as error:
            raise DrillError(
                f"cannot read {outputs}: {error.strerror}; write it with "
                f"`pulumi stack output --stack {stack} --json > FILE`",
                EXIT_INVALID,
            ) from None
        sources = parse_sources(text, "stdin" if outputs == "-" else outputs, stack)
        clients = make_clients(sources.region, profile)
        account = caller_account(clients.sts)
        started = timing.now()
        restores: list[Restore] = [
            plan_database(clients.rds, sources.database, started, stack),
            plan_cache(clients.elasticache, sources.cache, started, stack),
        ]
    except AwsAccessError as error:
        raise fail([str(error)], EXIT_INVALID) from None
    except DrillError as error:
        raise fail([str(error)], error.code) from None
    console.print(f"Restore drill of {stack} in account {account}, {sources.region}", markup=False)
    if dry_run:
        render_plan(restores, started, console)
        return
    drill = Drill(
        restores,
        clients.ec2,
        timeout_minutes=timeout_minutes or 2 * rto_minutes,
        timing=timing,
        say=lambda line: console.print(
            f"{timing.now():%H:%M:%S} {line}", markup=False, soft_wrap=True
        ),
    )
    try:
        drill.run()
    except DrillError as error:
        raise fail([str(error), *(left.line() for left in drill.leftovers)], error.code) from None
    render_results(restores, rto_minutes, started, console)
    problems = _problems(drill, rto_minutes)
    if problems:
        raise fail(problems, EXIT_FAILED)
    console.print(
        f"Drill passed: both stores restored within the {rto_minutes}-minute RTO and were deleted.",
        markup=False,
    )
