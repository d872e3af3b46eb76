"""PostgresDatabase: the platform's PostgreSQL on RDS (every tenant's schema lives here).

Creates:
- a ``KmsKey`` (rotation on) that encrypts the storage, the snapshots, Performance Insights, the
  master-password secret and the log groups; CloudWatch Logs may use it only for this
  instance's log groups;
- ``aws.rds.SubnetGroup`` over the isolated database subnets (no route to the internet);
- ``aws.ec2.SecurityGroup`` without rules of its own, and one ``aws.vpc.SecurityGroupIngressRule``
  per client security group on the database port: no CIDR range is ever admitted;
- ``aws.rds.ParameterGroup`` for the engine's family: TLS required (``rds.force_ssl``), slow
  statements, connections and disconnections logged, ``pg_stat_statements`` loaded;
- the CloudWatch log groups RDS exports to (``postgresql``, ``upgrade``), declared first so they
  carry a retention period, the KMS key and tags instead of being auto-created without them;
- the enhanced-monitoring IAM role;
- ``aws.rds.Instance``: gp3 storage with autoscaling up to a ceiling, a master password that RDS
  generates, keeps in Secrets Manager under the KMS key and rotates (it never reaches config,
  code or state), a non-default administrator name, IAM database authentication, automated
  backups, Performance Insights, CloudWatch log exports, copy tags to snapshots, automatic minor
  upgrades; Multi-AZ, deletion protection and a final snapshot when the settings ask (prod);
- CloudWatch alarms to the alerts topic: CPU, free storage, freeable memory, connections.

In prod the instance is also ``protect``-ed, so ``pulumi destroy`` stops before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import POSTGRES_DEFAULT_PORT, PROD_DATABASE_BACKUP_RETENTION_DAYS
from pydantic import Field, ValidationInfo, field_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    static_policy_document,
    switched_on,
)
from components.cost import DAYS_PER_MONTH, CostLine, PriceCatalog, UsageSettings, hourly, log_lines
from components.kms_key import KmsKey, KmsSettings, logs_statement
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.logs import LogRetentionDays
from components.shared.placement import DataStoreNetwork, IsolatedPlacement, isolated_placement
from components.shared.windows import daily_window, instance_class_family, weekly_window
from components.shared.wiring import Wiring

ENGINE = "postgres"

#: Major versions the component supports, each with its parameter-group family. RDS picks the
#: newest minor version of the major and automatic minor upgrades keep it current; pinning a
#: minor version would make every minor upgrade show up as drift that Pulumi tries to undo.
SUPPORTED_VERSIONS: dict[str, str] = {"16": "postgres16", "17": "postgres17"}

#: Instance class families RDS for PostgreSQL offers (current Graviton and Intel generations).
INSTANCE_FAMILIES = frozenset(
    {"t3", "t4g", "m5", "m6g", "m6i", "m7g", "m7i", "r5", "r6g", "r6i", "r7g", "r7i"}
)
BURSTABLE_FAMILIES = frozenset({"t3", "t4g"})

#: gp3 storage limits of RDS for PostgreSQL, in GiB.
MIN_STORAGE_GB = 20
MAX_STORAGE_GB = 65536

#: Names RDS reserves or that FSBP RDS.25 counts as the engine default.
RESERVED_USERNAMES = frozenset({"postgres", "rdsadmin", "rds_superuser", "admin", "root", "master"})
LOG_EXPORTS = ("postgresql", "upgrade")
_GIB = 1024**3
_MIB = 1024**2

#: Parameters RDS applies only at a reboot (the others apply at once).
STATIC_PARAMETERS = frozenset({"shared_preload_libraries"})
#: Size of one enhanced-monitoring sample in CloudWatch Logs (the OS metrics JSON document with
#: its process list): an estimate, since the size grows with the number of processes. AWS bills
#: these samples as CloudWatch Logs ingestion in the RDSOSMetrics log group.
ENHANCED_MONITORING_KB_PER_SAMPLE = 10
#: How long RDS keeps enhanced-monitoring samples in RDSOSMetrics unless changed (days).
ENHANCED_MONITORING_RETENTION_DAYS = 30
#: Performance Insights keeps this many days free of charge.
FREE_INSIGHTS_DAYS = 7
_KB_PER_GB = 1024**2


class PostgresAlarmSettings(SettingsModel):
    """Thresholds of the database alarms (each evaluated over three 5-minute periods)."""

    cpu_percent: int = Field(ge=1, le=100, description="Alarm when average CPU exceeds this %.")
    free_storage_gb: int = Field(
        ge=1, description="Alarm when free storage falls below this many GiB."
    )
    freeable_memory_mb: int = Field(
        ge=1, description="Alarm when freeable memory falls below this many MiB."
    )
    connections: int = Field(
        ge=1,
        description="Alarm when open connections exceed this number (max_connections "
        "grows with the instance's memory).",
    )


class PostgresSettings(SettingsModel):
    """RDS for PostgreSQL: size, availability, backups, access and monitoring."""

    engine_version: str = Field(
        description="PostgreSQL major version (16 or 17); RDS applies minor versions itself.",
    )
    instance_class: str = Field(
        description="RDS instance class, e.g. db.t4g.micro (burstable Graviton) or db.m7g.large.",
    )
    allocated_storage_gb: int = Field(
        ge=MIN_STORAGE_GB,
        le=MAX_STORAGE_GB,
        description="Initial gp3 storage in GiB (RDS for PostgreSQL needs at least 20).",
    )
    max_allocated_storage_gb: int = Field(
        le=MAX_STORAGE_GB,
        description=(
            "Ceiling for storage autoscaling in GiB; at least 10% above the allocated storage."
        ),
    )
    multi_az: bool = Field(
        description="A synchronous standby in a second AZ with automatic failover.",
    )
    port: int = Field(
        ge=1150,
        le=65535,
        description=(
            "Database port (RDS allows 1150-65535). A non-default port (FSBP RDS.23) keeps "
            "untargeted scans for 5432 away; clients must be told the port (it is an output)."
        ),
    )
    master_username: str = Field(
        description="Administrator login: not the engine default (FSBP RDS.25).",
    )
    database_name: str = Field(description="Database created with the instance.")
    backup_retention_days: int = Field(
        ge=0, le=35, description="Days of automated backups and point-in-time recovery (0-35)."
    )
    backup_window: str = Field(
        description='Daily backup window, UTC "hh:mm-hh:mm", at least 30 minutes.',
    )
    maintenance_window: str = Field(
        description=(
            'Weekly maintenance window, UTC "ddd:hh:mm-ddd:hh:mm", at least 30 minutes, not '
            "overlapping the backup window."
        ),
    )
    performance_insights_retention_days: int = Field(
        description="Days Performance Insights keeps data: 7 (free), a multiple of 31, or 731.",
    )
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(
        description="Enhanced monitoring granularity (FSBP RDS.6).",
    )
    log_retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps the exported postgresql and upgrade logs.",
    )
    slow_statement_ms: int = Field(
        ge=0, description="Statements running longer than this are logged with their duration."
    )
    deletion_protection: bool = Field(description="RDS refuses to delete the instance.")
    final_snapshot: bool = Field(
        description=(
            "Take a final snapshot (and keep automated backups) when the instance is deleted."
        ),
    )
    alarms: PostgresAlarmSettings = Field(description="Alarm thresholds.")

    @field_validator("engine_version")
    @classmethod
    def _supported_version(cls, version: str) -> str:
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(
                "not a supported PostgreSQL major version; supported: "
                + ", ".join(f'"{v}"' for v in SUPPORTED_VERSIONS)
            )
        return version

    @field_validator("instance_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        instance_class_family(
            value, prefix="db", families=INSTANCE_FAMILIES, burstable=BURSTABLE_FAMILIES
        )
        return value

    @field_validator("max_allocated_storage_gb")
    @classmethod
    def _ceiling_above_allocation(cls, ceiling: int, info: ValidationInfo) -> int:
        allocated = info.data.get("allocated_storage_gb")
        if isinstance(allocated, int) and ceiling * 10 < allocated * 11:
            raise ValueError(
                f"below the allocated storage ({allocated} GiB) plus the 10% RDS needs for "
                f"autoscaling; use at least {-(-allocated * 11 // 10)}"
            )
        return ceiling

    @field_validator("master_username")
    @classmethod
    def _username(cls, name: str) -> str:
        _check_identifier(name)
        if name.lower() in RESERVED_USERNAMES:
            raise ValueError(
                "an engine default or reserved name; choose another (reserved: "
                + ", ".join(sorted(RESERVED_USERNAMES))
                + ")"
            )
        return name

    @field_validator("database_name")
    @classmethod
    def _database_name(cls, name: str) -> str:
        return _check_identifier(name)

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, window: str) -> str:
        daily_window(window, minimum_minutes=30)
        return window

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, window: str, info: ValidationInfo) -> str:
        maintenance = weekly_window(window, minimum_minutes=30)
        backup = info.data.get("backup_window")
        if isinstance(backup, str) and maintenance.overlaps(
            daily_window(backup, minimum_minutes=30)
        ):
            raise ValueError(f"overlaps the backup window {backup!r}; RDS refuses that")
        return window

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _insights_retention(cls, days: int) -> int:
        if days not in (7, 731) and not (days % 31 == 0 and 31 <= days <= 713):
            raise ValueError(
                "Performance Insights keeps 7 days, a multiple of 31 up to 713, or 731"
            )
        return days

    @property
    def parameter_group_family(self) -> str:
        return SUPPORTED_VERSIONS[self.engine_version]


@dataclass(frozen=True)
class PostgresParts:
    """What a ``PostgresDatabase`` declares, derived once from its settings.

    The constructor declares exactly these parts and ``cost_lines`` prices exactly these, so the
    estimate (computed before anything is declared) cannot drift from the resources.
    """

    settings: PostgresSettings

    key_purpose: ClassVar[str] = "postgres"
    """The one customer-managed key: storage, snapshots, secret, Performance Insights, logs."""
    log_exports: ClassVar[tuple[str, ...]] = LOG_EXPORTS
    """Logs RDS exports to CloudWatch Logs, each to a log group declared beforehand."""

    @property
    def alarms(self) -> tuple[AlarmSpec, ...]:
        """CPU, free storage, freeable memory and connections, from the settings' thresholds."""
        thresholds = self.settings.alarms
        return (
            AlarmSpec("cpu", "AWS/RDS", "CPUUtilization", thresholds.cpu_percent,
                      f"Database CPU above {thresholds.cpu_percent}% for 15 minutes."),
            AlarmSpec("free-storage", "AWS/RDS", "FreeStorageSpace",
                      thresholds.free_storage_gb * _GIB,
                      f"Database free storage below {thresholds.free_storage_gb} GiB: "
                      "autoscaling has reached its ceiling or cannot keep up.",
                      comparison="LessThanThreshold"),
            AlarmSpec("freeable-memory", "AWS/RDS", "FreeableMemory",
                      thresholds.freeable_memory_mb * _MIB,
                      f"Database freeable memory below {thresholds.freeable_memory_mb} MiB.",
                      comparison="LessThanThreshold"),
            AlarmSpec("connections", "AWS/RDS", "DatabaseConnections", thresholds.connections,
                      f"More than {thresholds.connections} database connections."),
        )  # fmt: skip

    @property
    def parameters(self) -> dict[str, str]:
        """The parameter group's values: TLS only, slow statements and connections logged."""
        return {
            "rds.force_ssl": "1",
            "log_min_duration_statement": str(self.settings.slow_statement_ms),
            "log_connections": "1",
            "log_disconnections": "1",
            "log_lock_waits": "1",
            "shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "all",
        }

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of these parts. The subnet group, parameter group, security group and
        IAM role are free and have no line."""
        settings = self.settings
        component = PostgresDatabase.COMPONENT
        resource = "aws:rds/instance:Instance"
        az = "multi-az" if settings.multi_az else "single-az"
        storage = catalog.price(f"rds.storage.gp3.{az}", resource=resource)
        growth = usage.storage_growth_gb_per_month
        samples = catalog.hours_per_month * 3600 / settings.monitoring_interval_seconds
        monitoring_gb = samples * ENHANCED_MONITORING_KB_PER_SAMPLE / _KB_PER_GB
        insights = (
            f"; Performance Insights {FREE_INSIGHTS_DAYS} days is free"
            if settings.performance_insights_retention_days == FREE_INSIGHTS_DAYS
            else ""
        )
        lines = [
            CostLine.fixed(
                component,
                "PostgreSQL instance",
                catalog.price(f"rds.postgres.{settings.instance_class}.{az}", resource=resource),
                hourly(catalog, 1),
                note=f"{settings.instance_class}, {az}, {catalog.hours_per_month} h" + insights,
            ),
            CostLine.fixed(
                component,
                "gp3 storage",
                storage,
                settings.allocated_storage_gb,
                note=f"{settings.allocated_storage_gb} GiB allocated, {az}",
            ),
            CostLine.usage(
                component,
                "Storage growth",
                storage,
                growth,
                note="one month's growth; autoscaling adds it to the allocated storage",
            ),
            # RDS keeps backups up to 100% of the allocated storage free. Beyond that: the
            # data written during the retention period, assuming the database already fills
            # its allocation (an upper bound for a database that does not).
            CostLine.usage(
                component,
                "Backup storage beyond the free allocation",
                catalog.price("rds.backup-storage", resource=resource),
                None if growth is None else growth * settings.backup_retention_days / 30,
                note=f"{growth} GB/month written, kept {settings.backup_retention_days} days "
                "(upper bound)",
            ),
            CostLine.fixed(
                component,
                "Enhanced monitoring (CloudWatch Logs ingestion)",
                catalog.price("cloudwatch.logs.ingestion", resource="RDS enhanced monitoring"),
                monitoring_gb,
                note=f"one sample every {settings.monitoring_interval_seconds} s of about "
                f"{ENHANCED_MONITORING_KB_PER_SAMPLE} KB (an estimate)",
            ),
            CostLine.fixed(
                component,
                "Enhanced monitoring (CloudWatch Logs storage)",
                catalog.price("cloudwatch.logs.storage", resource="RDS enhanced monitoring"),
                monitoring_gb * ENHANCED_MONITORING_RETENTION_DAYS / DAYS_PER_MONTH,
                note=f"kept {ENHANCED_MONITORING_RETENTION_DAYS} days in RDSOSMetrics",
            ),
            *log_lines(
                component,
                catalog,
                label="Exported log",
                resource="RDS log exports",
                ingested_gb=usage.logs_ingested_gb,
                retention_days=settings.log_retention_days,
                note=f"{', '.join(self.log_exports)} logs",
            ),
            CostLine.fixed(
                component,
                "Master-password secret",
                catalog.price("secretsmanager.secret", resource="RDS-managed master secret"),
                1,
                note="kept and rotated by RDS in Secrets Manager",
            ),
            *KmsKey.cost_lines(component, catalog, purposes=[self.key_purpose]),
            alarm_line(component, catalog, len(self.alarms)),
        ]
        if settings.performance_insights_retention_days > FREE_INSIGHTS_DAYS:
            # Longer retention is billed per vCPU-month; the catalog has no such price yet,
            # so the lookup fails and names the key rather than pricing it at zero.
            lines.append(
                CostLine.fixed(
                    component,
                    "Performance Insights retention",
                    catalog.price(
                        "rds.performance-insights.long-term-retention", resource=resource
                    ),
                    1,
                )
            )
        return lines


class PostgresDatabase(PlatformComponent):
    """RDS for PostgreSQL in isolated subnets, reachable only from the given security groups.

    Steps: a key of its own; placement (subnet group, clients-only security group); the
    parameter group; the log groups RDS exports to; the enhanced-monitoring role; the instance;
    its alarms. ``parts`` says what each step declares; ``wiring`` names, encrypts and alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:data:PostgresDatabase"
    COMPONENT: ClassVar[str] = "database"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "identifier": "RDS instance identifier (genericcorp-<stack>-postgres).",
        "address": "Host name clients connect to (resolves to the current primary).",
        "port": "Port the database listens on (not the engine default, FSBP RDS.23).",
        "engine": "Database engine: postgres.",
        "engineVersion": "Running engine version, minor version included.",
        "masterSecretArn": "Secrets Manager secret holding the RDS-managed master password.",
        "securityGroupId": "Security group of the instance (admits only the client groups).",
        "multiAz": "Whether a synchronous standby in a second AZ takes over on failure.",
    }

    identifier: pulumi.Output[str]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    security_group_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        parts: PostgresParts,
        *,
        wiring: Wiring,
        network: DataStoreNetwork,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        self._identifier = wiring.context.physical_name("postgres")
        key = self._key(parts, wiring.kms)
        placement = isolated_placement(
            self,
            name,
            network,
            subnet_group_type=aws.rds.SubnetGroup,
            physical_name=self._identifier,
            service="PostgreSQL",
            port=settings.port,
            tag="postgres",
        )
        monitoring_role, monitoring_access = self._monitoring_role()
        instance = self._instance(
            parts,
            key=key,
            placement=placement,
            parameters=self._parameter_group(parts),
            monitoring_role=monitoring_role,
            prerequisites=[*self._log_groups(parts, key), monitoring_access],
        )
        for spec in parts.alarms:
            metric_alarm(
                self,
                f"{name}-{spec.suffix}",
                spec,
                dimensions={"DBInstanceIdentifier": self._identifier},
                topic_arn=wiring.alarm_topic,
                tag=f"postgres-{spec.suffix}",
            )

        self.identifier = instance.identifier
        self.address = instance.address
        # IAM database authentication names the instance by its resource id (rds-db:connect).
        self.resource_id = instance.resource_id
        self.master_secret_arn = instance.master_user_secrets.apply(_master_secret_arn)
        self.port = instance.port
        self.security_group_id = placement.security_group.id
        self.kms_key_arn = key.arn
        self.publish(
            {
                "identifier": self.identifier,
                "address": self.address,
                "port": self.port,
                "engine": ENGINE,
                "engineVersion": instance.engine_version_actual,
                "masterSecretArn": self.master_secret_arn,
                "securityGroupId": self.security_group_id,
                "multiAz": instance.multi_az,
            }
        )

    def _key(self, parts: PostgresParts, kms: KmsSettings) -> KmsKey:
        """The instance's key; CloudWatch Logs may use it for this instance's log groups only."""
        return KmsKey.owned_by(
            self,
            f"{self._name}-key",
            purpose=parts.key_purpose,
            description="encrypts the PostgreSQL storage, snapshots, secret and logs",
            settings=kms,
            service_statements=[
                logs_statement(
                    "CloudWatchLogsEncryptsDatabaseLogs", self.context, f"{self._log_prefix}/*"
                )
            ],
        )

    @property
    def _log_prefix(self) -> str:
        return f"/aws/rds/instance/{self._identifier}"

    def _parameter_group(self, parts: PostgresParts) -> aws.rds.ParameterGroup:
        family = parts.settings.parameter_group_family
        return aws.rds.ParameterGroup(
            f"{self._name}-parameters",
            # The family is in the name: a major upgrade creates a new group beside the old one.
            name=f"{self._identifier}-{family}",
            family=family,
            description=f"{self._identifier}: TLS only, slow statements and connections logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(
                    name=key,
                    value=value,
                    # A static parameter: applied at the next reboot.
                    apply_method=("pending-reboot" if key in STATIC_PARAMETERS else "immediate"),
                )
                for key, value in parts.parameters.items()
            ],
            tags=self.tags("postgres"),
            opts=self.child_opts(),
        )

    def _log_groups(self, parts: PostgresParts, key: KmsKey) -> list[aws.cloudwatch.LogGroup]:
        """The groups RDS exports to, declared first: RDS would create them itself, with no
        retention and no key, if they did not exist yet."""
        return [
            aws.cloudwatch.LogGroup(
                f"{self._name}-log-{export}",
                name=f"{self._log_prefix}/{export}",
                retention_in_days=parts.settings.log_retention_days,
                kms_key_id=key.arn,
                tags=self.tags(f"postgres-{export}"),
                opts=self.child_opts(),
            )
            for export in parts.log_exports
        ]

    def _monitoring_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """The enhanced-monitoring role and its policy: monitoring fails to start until the
        role holds its permissions."""
        context = self.context
        role = aws.iam.Role(
            f"{self._name}-monitoring-role",
            description="Lets RDS enhanced monitoring publish OS metrics to CloudWatch Logs.",
            assume_role_policy=static_policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
                    }
                ]
            ),
            tags=self.tags("postgres-monitoring"),
            opts=self.child_opts(),
        )
        return role, aws.iam.RolePolicyAttachment(
            f"{self._name}-monitoring-policy",
            role=role.name,
            policy_arn=(
                f"arn:{context.partition}:iam::aws:policy/service-role/"
                "AmazonRDSEnhancedMonitoringRole"
            ),
            opts=self.child_opts(),
        )

    def _instance(
        self,
        parts: PostgresParts,
        *,
        key: KmsKey,
        placement: IsolatedPlacement[aws.rds.SubnetGroup],
        parameters: aws.rds.ParameterGroup,
        monitoring_role: aws.iam.Role,
        prerequisites: Sequence[pulumi.Resource],
    ) -> aws.rds.Instance:
        settings = parts.settings
        identifier = self._identifier
        return aws.rds.Instance(
            f"{self._name}-instance",
            identifier=identifier,
            engine=ENGINE,
            engine_version=settings.engine_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            instance_class=settings.instance_class,
            storage_type="gp3",
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name=settings.database_name,
            username=settings.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            iam_database_authentication_enabled=True,
            port=settings.port,
            db_subnet_group_name=placement.subnet_group.name,
            vpc_security_group_ids=[placement.security_group.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            multi_az=settings.multi_az,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not settings.final_snapshot,
            skip_final_snapshot=not settings.final_snapshot,
            final_snapshot_identifier=f"{identifier}-final" if settings.final_snapshot else None,
            deletion_protection=settings.deletion_protection,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=settings.performance_insights_retention_days,
            monitoring_interval=settings.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(parts.log_exports),
            tags=self.tags("postgres"),
            opts=self.child_opts(
                protect=self.context.is_prod,
                # The log groups must exist before RDS exports to them, and the monitoring
                # role must hold its permissions before monitoring starts.
                depends_on=list(prerequisites),
            ),
        )


def _check_identifier(name: str) -> str:
    """RDS's rule for the administrator and database names."""
    if not (1 <= len(name) <= 63 and name.isascii() and name[:1].isalpha()) or not (
        name.replace("_", "").isalnum()
    ):
        raise ValueError("must be 1-63 letters, digits or underscores, starting with a letter")
    return name


def _master_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    """The ARN of the secret RDS keeps the master password in (one per instance)."""
    arns = [secret.secret_arn for secret in secrets if secret.secret_arn]
    if len(arns) != 1:
        raise ValueError(f"expected RDS to report one master-password secret, got {arns}")
    return arns[0]


# Defaults per environment and prod rules


def _postgres(
    *,
    instance_class: str,
    max_allocated_storage_gb: int,
    multi_az: bool,
    backup_retention_days: int,
    log_retention_days: LogRetentionDays,
    deletion_protection: bool,
    final_snapshot: bool,
    alarms: PostgresAlarmSettings,
) -> PostgresSettings:
    """What dev and prod share for PostgreSQL; each environment adds size, availability and
    backups."""
    return PostgresSettings(
        # Major version only: RDS picks the newest minor and automatic minor upgrades keep it
        # current.
        engine_version="17",
        instance_class=instance_class,
        allocated_storage_gb=20,
        max_allocated_storage_gb=max_allocated_storage_gb,
        multi_az=multi_az,
        # Not 5432 (FSBP RDS.23): clients read the port from the stack output anyway.
        port=5433,
        master_username="platform_admin",
        database_name="platform",
        backup_retention_days=backup_retention_days,
        # Backups 03:00-03:30 UTC, maintenance on Sunday after them (night in the Americas).
        backup_window="03:00-03:30",
        maintenance_window="sun:04:00-sun:04:30",
        # The free tier of Performance Insights.
        performance_insights_retention_days=7,
        monitoring_interval_seconds=60,
        log_retention_days=log_retention_days,
        slow_statement_ms=500,
        deletion_protection=deletion_protection,
        final_snapshot=final_snapshot,
        alarms=alarms,
    )


POSTGRES_DEFAULTS = ByEnvironment(
    dev=_postgres(
        # Cheapest Graviton class ($0.016/hour), one AZ: dev tolerates an hour of downtime.
        instance_class="db.t4g.micro",
        max_allocated_storage_gb=100,
        multi_az=False,
        backup_retention_days=7,
        log_retention_days=30,
        # Dev holds only test data that can be recreated: no final snapshot (which would outlive
        # the stack and be billed) and no deletion protection, so a dev stack can be torn down
        # and recreated in one command.
        deletion_protection=False,
        final_snapshot=False,
        # db.t4g.micro: 1 GiB of memory, max_connections about 80.
        alarms=PostgresAlarmSettings(
            cpu_percent=80, free_storage_gb=2, freeable_memory_mb=64, connections=60
        ),
    ),
    prod=_postgres(
        # Burstable Graviton with a synchronous standby in a second AZ: $52/month with 20 GiB,
        # inside the brief's $50-100 for PostgreSQL; an AZ outage fails over in 1-2 minutes.
        instance_class="db.t4g.small",
        max_allocated_storage_gb=200,
        multi_az=True,
        # Two weeks of point-in-time recovery: a bad migration found after a week is still
        # recoverable.
        backup_retention_days=14,
        log_retention_days=365,
        deletion_protection=True,
        final_snapshot=True,
        # db.t4g.small: 2 GiB of memory, max_connections about 190.
        alarms=PostgresAlarmSettings(
            cpu_percent=80, free_storage_gb=2, freeable_memory_mb=128, connections=150
        ),
    ),
)

POSTGRES_PROD_RULES = (
    switched_on(
        PostgresSettings,
        key=lambda s: s.multi_az,
        reason="a single-AZ database is down for the whole of an AZ outage (FSBP RDS.5)",
        policy="rds-5-multi-az",
    ),
    ProdRule(
        PostgresSettings,
        key=lambda s: s.backup_retention_days,
        accepts=lambda days: days >= PROD_DATABASE_BACKUP_RETENTION_DAYS,
        allowed=f"{PROD_DATABASE_BACKUP_RETENTION_DAYS} to 35",
        reason="tenant data needs two weeks of point-in-time recovery (0 turns backups off)",
        policy="rds-backup-retention",
    ),
    switched_on(
        PostgresSettings,
        key=lambda s: s.deletion_protection,
        reason="the database holds every tenant's data (FSBP RDS.8)",
        policy="rds-8-deletion-protection",
    ),
    switched_on(
        PostgresSettings,
        key=lambda s: s.final_snapshot,
        reason="deleting the database must leave a snapshot to restore from",
        policy="prod-final-snapshot",
    ),
    ProdRule(
        PostgresSettings,
        key=lambda s: s.port,
        accepts=lambda port: port != POSTGRES_DEFAULT_PORT,
        allowed=f"any port but {POSTGRES_DEFAULT_PORT}",
        reason="FSBP RDS.23 flags databases on the engine's default port",
        policy="rds-23-non-default-port",
    ),
)
