"""RDS, ElastiCache and Secrets Manager controls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from genericcorp_policy.framework import (
    Config,
    Props,
    Rule,
    Scope,
    get,
    is_false,
    is_true,
    items,
    number,
)
from genericcorp_policy.thresholds import (
    POSTGRES_DEFAULT_PORT,
    PROD_CACHE_MIN_NODES,
    PROD_CACHE_SNAPSHOT_RETENTION_DAYS,
    PROD_DATABASE_BACKUP_RETENTION_DAYS,
)

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRETS_MANAGER_SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
RDS = (RDS_INSTANCE, RDS_CLUSTER)

#: The port each engine family listens on by default (FSBP RDS.23 wants another).
DEFAULT_PORTS = {
    "postgres": POSTGRES_DEFAULT_PORT,
    "mysql": 3306,
    "mariadb": 3306,
    "oracle": 1521,
    "sqlserver": 1433,
}
#: Administrator names RDS.25 treats as defaults.
DEFAULT_USERNAMES = frozenset({"admin", "administrator", "root", "postgres", "master", "sa"})
#: Log exports RDS.9/RDS.36 want per engine family.
REQUIRED_LOG_EXPORTS = {
    "postgres": ("postgresql", "upgrade"),
    "mysql": ("audit", "error", "general", "slowquery"),
}


def _family(props: Props) -> str:
    engine = str(get(props, "engine") or "")
    for family in DEFAULT_PORTS:
        if family in engine:
            return family
    return engine


def _not_public(props: Props, _: Config) -> Iterator[str]:
    if is_true(get(props, "publiclyAccessible")):
        yield "the database is publicly accessible (publiclyAccessible)"


def _encrypted(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "storageEncrypted")):
        yield "storage is not encrypted at rest (storageEncrypted)"


def _multi_az(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "multiAz")):
        yield "a prod database must be Multi-AZ (multiAz)"


def _monitoring(props: Props, _: Config) -> Iterator[str]:
    interval = number(get(props, "monitoringInterval"))
    if not interval or not get(props, "monitoringRoleArn"):
        yield "enhanced monitoring is off (monitoringInterval > 0 with monitoringRoleArn)"


def _deletion_protection(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "deletionProtection")):
        yield "a prod database must have deletion protection (deletionProtection)"


def _log_exports(props: Props, _: Config) -> Iterator[str]:
    wanted = REQUIRED_LOG_EXPORTS.get(_family(props), ())
    exported = {str(t) for t in items(get(props, "enabledCloudwatchLogsExports"))}
    missing = [t for t in wanted if t not in exported]
    if missing:
        yield (
            f"logs not published to CloudWatch: {', '.join(missing)} (enabledCloudwatchLogsExports)"
        )


def _iam_auth(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "iamDatabaseAuthenticationEnabled")):
        yield "IAM database authentication is off (iamDatabaseAuthenticationEnabled)"


def _backups(props: Props, _: Config) -> Iterator[str]:
    days = number(get(props, "backupRetentionPeriod"))
    if days is not None and days < 1:
        yield "automatic backups are off (backupRetentionPeriod 0)"
    if days is None and get(props, "replicateSourceDb") is None:
        # RDS's own default is 7 days for a cluster but 1 day (console) or 0 (API) otherwise.
        yield "no backup retention set (backupRetentionPeriod)"


def _backup_retention(props: Props, _: Config) -> Iterator[str]:
    if get(props, "replicateSourceDb") is not None:
        return  # a read replica has no backups of its own to keep
    days = number(get(props, "backupRetentionPeriod"))
    if days is None or days < PROD_DATABASE_BACKUP_RETENTION_DAYS:
        kept = "not set" if days is None else f"{int(days)} days"
        yield (
            f"a prod database keeps {PROD_DATABASE_BACKUP_RETENTION_DAYS} days or more of "
            f"automated backups (backupRetentionPeriod: {kept})"
        )


def _minor_upgrades(props: Props, _: Config) -> Iterator[str]:
    if is_false(get(props, "autoMinorVersionUpgrade")):
        yield "automatic minor version upgrades are off (autoMinorVersionUpgrade)"


def _copy_tags(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "copyTagsToSnapshot")):
        yield "tags are not copied to snapshots (copyTagsToSnapshot)"


def _in_vpc(props: Props, _: Config) -> Iterator[str]:
    if not get(props, "dbSubnetGroupName"):
        yield "no DB subnet group (dbSubnetGroupName): the database would land in the default VPC"


def _port(props: Props, _: Config) -> Iterator[str]:
    default = DEFAULT_PORTS.get(_family(props))
    port = number(get(props, "port"))
    if default is not None and (port is None or int(port) == default):
        yield f"the database listens on the engine's default port {default} (set port)"


def _username(props: Props, _: Config) -> Iterator[str]:
    name = get(props, "username") or get(props, "masterUsername")
    if (
        name is None
        and get(props, "replicateSourceDb") is None
        and get(props, "snapshotIdentifier") is None
    ):
        yield "no administrator username set; the engine default would be used"
    elif name is not None and str(name).lower() in DEFAULT_USERNAMES:
        yield f"the administrator username {name!r} is an engine default"


def _managed_password(props: Props, _: Config) -> Iterator[str]:
    if get(props, "replicateSourceDb") is not None:
        return
    if not is_true(get(props, "manageMasterUserPassword")):
        yield (
            "the master password is not managed and rotated by RDS in Secrets Manager "
            "(manageMasterUserPassword)"
        )
    if get(props, "password") or get(props, "masterPassword"):
        yield "a master password is passed in the program; let RDS manage it"


def _aws_managed_key(key: str) -> bool:
    """``alias/aws/secretsmanager`` (or its ARN): the account's AWS-managed key, whose policy
    the account cannot narrow and which cannot be shared or disabled."""
    return key.startswith("alias/aws/") or ":alias/aws/" in key


def _key_problem(key: Any, where: str) -> Iterator[str]:
    if not key:
        yield f"the secret is encrypted with the AWS-managed aws/secretsmanager key (set {where})"
    elif _aws_managed_key(str(key)):
        yield f"the secret is encrypted with the AWS-managed key {key}; use a customer-managed one"


def _secret_cmk(props: Props, _: Config) -> Iterator[str]:
    yield from _key_problem(get(props, "kmsKeyId"), "kmsKeyId")


def _master_secret_cmk(props: Props, _: Config) -> Iterator[str]:
    if is_true(get(props, "manageMasterUserPassword")):
        yield from _key_problem(get(props, "masterUserSecretKmsKeyId"), "masterUserSecretKmsKeyId")


def _final_snapshot(props: Props, _: Config) -> Iterator[str]:
    if is_true(get(props, "skipFinalSnapshot")):
        yield "a prod data store must keep a final snapshot (skipFinalSnapshot is true)"
    if not get(props, "finalSnapshotIdentifier"):
        yield "a prod data store must name its final snapshot (finalSnapshotIdentifier)"


def _cache_backups(props: Props, _: Config) -> Iterator[str]:
    days = number(get(props, "snapshotRetentionLimit"))
    if not days or days < 1:
        yield "automatic backups are off (snapshotRetentionLimit must be 1 or more)"


def _cache_snapshot_retention(props: Props, _: Config) -> Iterator[str]:
    days = number(get(props, "snapshotRetentionLimit")) or 0
    if days < PROD_CACHE_SNAPSHOT_RETENTION_DAYS:
        yield (
            f"a prod cache keeps {PROD_CACHE_SNAPSHOT_RETENTION_DAYS} days or more of daily "
            f"snapshots (snapshotRetentionLimit: {int(days)})"
        )


def _cache_minor_upgrades(props: Props, _: Config) -> Iterator[str]:
    if is_false(get(props, "autoMinorVersionUpgrade")):
        yield "automatic minor version upgrades are off (autoMinorVersionUpgrade)"


def _cache_failover(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "automaticFailoverEnabled")):
        yield "a prod cache must fail over automatically (automaticFailoverEnabled)"
    if not is_true(get(props, "multiAzEnabled")):
        yield "a prod cache must spread its nodes over AZs (multiAzEnabled)"
    clusters = number(get(props, "numCacheClusters"))
    replicas = number(get(props, "replicasPerNodeGroup"))
    nodes = clusters if clusters is not None else (1 + replicas if replicas is not None else 1)
    if nodes < PROD_CACHE_MIN_NODES:
        yield (
            f"a prod cache needs at least {PROD_CACHE_MIN_NODES} nodes per shard (has {int(nodes)})"
        )


def _cache_at_rest(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "atRestEncryptionEnabled")):
        yield "data at rest is not encrypted (atRestEncryptionEnabled)"


def _cache_in_transit(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "transitEncryptionEnabled")):
        yield "traffic is not encrypted in transit (transitEncryptionEnabled)"
    if get(props, "transitEncryptionMode") == "preferred":
        yield 'transitEncryptionMode "preferred" still accepts plain-text clients; use "required"'


def _cache_auth(props: Props, _: Config) -> Iterator[str]:
    if not get(props, "authToken") and not items(get(props, "userGroupIds")):
        yield "clients connect without AUTH (set authToken or userGroupIds)"


def _cache_subnet_group(props: Props, _: Config) -> Iterator[str]:
    name = get(props, "subnetGroupName")
    if not name or str(name) == "default":
        yield "the cache uses the default subnet group (subnetGroupName)"


RULES = (
    Rule(
        "rds-2-not-public",
        "RDS.2",
        "Databases are not publicly accessible.",
        RDS,
        _not_public,
        reads=("publiclyAccessible",),
    ),
    Rule(
        "rds-3-encrypted",
        "RDS.3",
        "Databases are encrypted at rest.",
        RDS,
        _encrypted,
        reads=("storageEncrypted",),
    ),
    Rule(
        "rds-5-multi-az",
        "RDS.5",
        "Prod databases are Multi-AZ.",
        (RDS_INSTANCE,),
        _multi_az,
        scope=Scope.PROD,
        reads=("multiAz",),
    ),
    Rule(
        "rds-6-enhanced-monitoring",
        "RDS.6",
        "Enhanced monitoring is on.",
        RDS,
        _monitoring,
        scope=Scope.PROD_WAIVABLE,
        reads=("monitoringInterval", "monitoringRoleArn"),
    ),
    Rule(
        "rds-8-deletion-protection",
        "RDS.8",
        "Prod databases have deletion protection.",
        RDS,
        _deletion_protection,
        scope=Scope.PROD,
        reads=("deletionProtection",),
    ),
    Rule(
        "rds-9-36-log-exports",
        "RDS.9/RDS.36",
        "Database logs are published to CloudWatch Logs (PostgreSQL: postgresql, upgrade).",
        RDS,
        _log_exports,
        scope=Scope.PROD_WAIVABLE,
        reads=("enabledCloudwatchLogsExports", "engine"),
    ),
    Rule(
        "rds-10-iam-auth",
        "RDS.10",
        "IAM database authentication is on.",
        RDS,
        _iam_auth,
        reads=("iamDatabaseAuthenticationEnabled",),
    ),
    Rule(
        "rds-11-backups",
        "RDS.11",
        "Automatic backups are on.",
        RDS,
        _backups,
        reads=("backupRetentionPeriod",),
    ),
    Rule(
        "rds-backup-retention",
        "",
        f"Prod databases keep {PROD_DATABASE_BACKUP_RETENTION_DAYS} days or more of automated "
        "backups (point-in-time recovery).",
        RDS,
        _backup_retention,
        scope=Scope.PROD,
        reads=("backupRetentionPeriod",),
    ),
    Rule(
        "rds-13-minor-upgrades",
        "RDS.13",
        "Automatic minor version upgrades are on.",
        RDS,
        _minor_upgrades,
        reads=("autoMinorVersionUpgrade",),
    ),
    Rule(
        "rds-17-copy-tags",
        "RDS.17",
        "Tags are copied to snapshots.",
        RDS,
        _copy_tags,
        reads=("copyTagsToSnapshot",),
    ),
    Rule(
        "rds-18-in-vpc",
        "RDS.18",
        "Databases are deployed in a VPC (own subnet group).",
        RDS,
        _in_vpc,
        reads=("dbSubnetGroupName",),
    ),
    Rule(
        "rds-23-non-default-port",
        "RDS.23",
        "Databases do not listen on the engine's default port.",
        RDS,
        _port,
        reads=("port", "engine"),
    ),
    Rule(
        "rds-25-custom-admin",
        "RDS.25",
        "The administrator username is not an engine default.",
        RDS,
        _username,
        reads=("username", "masterUsername"),
    ),
    Rule(
        "secretsmanager-1-rds-managed-password",
        "SecretsManager.1",
        "The master password lives in Secrets Manager, managed and rotated by RDS.",
        RDS,
        _managed_password,
        reads=("manageMasterUserPassword", "password", "masterPassword"),
    ),
    Rule(
        "secretsmanager-cmk",
        "",
        "Secrets Manager secrets are encrypted with a customer-managed KMS key.",
        (SECRETS_MANAGER_SECRET,),
        _secret_cmk,
        reads=("kmsKeyId",),
    ),
    Rule(
        "rds-master-secret-cmk",
        "",
        "The RDS-managed master password secret is encrypted with a customer-managed KMS key.",
        RDS,
        _master_secret_cmk,
        reads=("manageMasterUserPassword", "masterUserSecretKmsKeyId"),
    ),
    Rule(
        "prod-final-snapshot",
        "",
        "Prod data stores keep a named final snapshot on deletion.",
        (*RDS, REPLICATION_GROUP),
        _final_snapshot,
        scope=Scope.PROD,
        reads=("skipFinalSnapshot", "finalSnapshotIdentifier"),
    ),
    Rule(
        "elasticache-1-backups",
        "ElastiCache.1",
        "Automatic backups are kept for 1 day or more.",
        (REPLICATION_GROUP,),
        _cache_backups,
        scope=Scope.PROD_WAIVABLE,
        reads=("snapshotRetentionLimit",),
    ),
    Rule(
        "elasticache-snapshot-retention",
        "",
        f"Prod caches keep {PROD_CACHE_SNAPSHOT_RETENTION_DAYS} days or more of daily snapshots.",
        (REPLICATION_GROUP,),
        _cache_snapshot_retention,
        scope=Scope.PROD,
        reads=("snapshotRetentionLimit",),
    ),
    Rule(
        "elasticache-2-minor-upgrades",
        "ElastiCache.2",
        "Automatic minor version upgrades are on.",
        (REPLICATION_GROUP,),
        _cache_minor_upgrades,
        reads=("autoMinorVersionUpgrade",),
    ),
    Rule(
        "elasticache-3-failover",
        "ElastiCache.3",
        f"Prod caches have {PROD_CACHE_MIN_NODES} or more nodes across AZs and fail over "
        "automatically.",
        (REPLICATION_GROUP,),
        _cache_failover,
        scope=Scope.PROD,
        reads=(
            "automaticFailoverEnabled",
            "multiAzEnabled",
            "numCacheClusters",
            "replicasPerNodeGroup",
        ),
    ),
    Rule(
        "elasticache-4-at-rest",
        "ElastiCache.4",
        "Cache data is encrypted at rest.",
        (REPLICATION_GROUP,),
        _cache_at_rest,
        reads=("atRestEncryptionEnabled",),
    ),
    Rule(
        "elasticache-5-in-transit",
        "ElastiCache.5",
        "Cache traffic is encrypted in transit.",
        (REPLICATION_GROUP,),
        _cache_in_transit,
        reads=("transitEncryptionEnabled", "transitEncryptionMode"),
    ),
    Rule(
        "elasticache-6-auth",
        "ElastiCache.6",
        "Clients authenticate (AUTH token or RBAC user group).",
        (REPLICATION_GROUP,),
        _cache_auth,
        reads=("authToken", "userGroupIds"),
    ),
    Rule(
        "elasticache-7-subnet-group",
        "ElastiCache.7",
        "Caches use their own subnet group, not the default.",
        (REPLICATION_GROUP,),
        _cache_subnet_group,
        reads=("subnetGroupName",),
    ),
)
