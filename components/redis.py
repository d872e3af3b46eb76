"""RedisCache: the ElastiCache replication group used beside PostgreSQL for real-time analytics.

Creates:
- a ``KmsKey`` (rotation on) for the data at rest, the snapshots and the slow-log group
  (CloudWatch Logs may use it only for that group);
- ``aws.elasticache.SubnetGroup`` over the isolated database subnets (never the default group);
- ``aws.ec2.SecurityGroup`` without rules of its own, and one ``aws.vpc.SecurityGroupIngressRule``
  per client security group on the Redis port: no CIDR range is ever admitted;
- ``aws.elasticache.ParameterGroup`` for the engine's family (eviction policy, slow-log
  threshold);
- RBAC instead of a shared AUTH token: ``aws.elasticache.UserGroup`` holding a user named
  ``default`` that is switched off (an unauthenticated connection can do nothing) and the
  platform administrator ``<stack>-cache-admin`` (IAM-authenticated, no password anywhere);
  each tenant's own user joins the group from components/tenant_data.py;
- the slow-log ``aws.cloudwatch.LogGroup`` the engine delivers to;
- ``aws.elasticache.ReplicationGroup`` (cluster mode disabled): TLS only, encrypted at rest,
  automatic minor upgrades, daily snapshots; with two or more nodes (prod), Multi-AZ with
  automatic failover (one node, as in dev, has nothing to fail over to);
- CloudWatch alarms per node to the alerts topic: host CPU, engine CPU, memory, evictions,
  connections.

In prod the replication group is also ``protect``-ed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import PROD_CACHE_MIN_NODES, PROD_CACHE_SNAPSHOT_RETENTION_DAYS
from pydantic import Field, ValidationInfo, field_validator

from components.base import ByEnvironment, PlatformComponent, ProdRule, SettingsModel, switched_on
from components.cost import CostError, CostLine, PriceCatalog, hourly
from components.kms_key import KmsKey, KmsSettings, logs_statement
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.logs import LogRetentionDays
from components.shared.placement import DataStoreNetwork, IsolatedPlacement, isolated_placement
from components.shared.windows import daily_window, instance_class_family, weekly_window
from components.shared.wiring import Wiring

PORT = 6379
_NAMESPACE = "AWS/ElastiCache"


class CacheEngine(StrEnum):
    """Engines of the replication group. Valkey is the Redis-compatible fork, 20% cheaper."""

    REDIS = "redis"
    VALKEY = "valkey"


#: Versions the component supports per engine, each with its parameter-group family.
SUPPORTED_VERSIONS: dict[CacheEngine, dict[str, str]] = {
    CacheEngine.REDIS: {"7.1": "redis7"},
    CacheEngine.VALKEY: {"7.2": "valkey7", "8.0": "valkey8"},
}

#: Node type families ElastiCache offers for these engines (current generations).
NODE_FAMILIES = frozenset({"t3", "t4g", "m5", "m6g", "m7g", "r5", "r6g", "r7g"})
BURSTABLE_FAMILIES = frozenset({"t3", "t4g"})

#: A primary and up to five replicas (cluster mode disabled).
MAX_NODES = 6

#: RBAC users (and their IAM authentication) exist for every supported version: IAM
#: authentication needs Redis OSS 7.0+ or Valkey 7.2+.
IAM_AUTH_MINIMUM = {CacheEngine.REDIS: (7, 0), CacheEngine.VALKEY: (7, 2)}


def supports_iam_auth(engine: CacheEngine, version: str) -> bool:
    """Whether ElastiCache authenticates users of ``engine`` ``version`` through IAM."""
    return tuple(int(part) for part in version.split(".")) >= IAM_AUTH_MINIMUM[engine]


#: Users and user groups use the engine "redis", which ElastiCache accepts on Redis OSS and
#: Valkey replication groups alike (a "valkey" group fits Valkey only).
USER_ENGINE = "redis"
#: The platform administrator: everything (operators reach it through IAM, no password).
ADMIN_ACCESS_STRING = "on ~* &* +@all"
#: The group's user named ``default`` (a user group must have one): switched off, so an
#: unauthenticated connection can do nothing.
DEFAULT_USER_ACCESS_STRING = "off resetkeys resetchannels -@all"


class RedisAlarmSettings(SettingsModel):
    """Thresholds of the cache alarms (per node, each over three 5-minute periods)."""

    cpu_percent: int = Field(ge=1, le=100, description="Alarm when host CPU exceeds this %.")
    engine_cpu_percent: int = Field(
        ge=1, le=100, description="Alarm when the engine thread's CPU exceeds this %."
    )
    memory_percent: int = Field(
        ge=1, le=100, description="Alarm when used memory exceeds this % of maxmemory."
    )
    evictions: int = Field(
        ge=0, description="Alarm when more keys than this are evicted in 5 minutes."
    )
    connections: int = Field(ge=1, description="Alarm when client connections exceed this.")


class RedisSettings(SettingsModel):
    """ElastiCache (Redis OSS or Valkey): nodes, availability, encryption, snapshots."""

    engine: CacheEngine = Field(description="redis (Redis OSS) or valkey.")
    engine_version: str = Field(
        description='Engine version: "7.1" for redis; "7.2" or "8.0" for valkey.',
    )
    node_type: str = Field(description="Node type, e.g. cache.t4g.micro or cache.m7g.large.")
    node_count: int = Field(
        ge=1,
        le=MAX_NODES,
        description=(
            "Nodes: one primary plus replicas (1-6). With 2 or more, replicas sit in other AZs "
            "and one is promoted automatically when the primary fails (Multi-AZ)."
        ),
    )
    transit_encryption: bool = Field(
        description="TLS between clients and nodes; only TLS connections are accepted. "
        "Required: users authenticate (through IAM) only over TLS.",
    )
    snapshot_retention_days: int = Field(
        ge=1, le=35, description="Days of daily snapshots (1-35; FSBP ElastiCache.1 needs 1+)."
    )
    snapshot_window: str = Field(
        description='Daily snapshot window, UTC "hh:mm-hh:mm", at least 60 minutes.',
    )
    maintenance_window: str = Field(
        description=(
            'Weekly maintenance window, UTC "ddd:hh:mm-ddd:hh:mm", at least 60 minutes, not '
            "overlapping the snapshot window."
        ),
    )
    maxmemory_policy: Literal[
        "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-ttl", "noeviction"
    ] = Field(description="What the engine evicts when memory is full.")
    slow_log_microseconds: int = Field(
        ge=0, description="Commands slower than this go to the slow log."
    )
    slow_log_retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps the slow log.",
    )
    final_snapshot: bool = Field(
        description="Take a final snapshot when the replication group is deleted.",
    )
    alarms: RedisAlarmSettings = Field(description="Alarm thresholds.")

    @field_validator("engine_version")
    @classmethod
    def _supported_version(cls, version: str, info: ValidationInfo) -> str:
        engine = info.data.get("engine")
        if isinstance(engine, CacheEngine) and version not in SUPPORTED_VERSIONS[engine]:
            supported = ", ".join(f'"{v}"' for v in SUPPORTED_VERSIONS[engine])
            raise ValueError(f"not a supported {engine} version; supported: {supported}")
        return version

    @field_validator("node_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        instance_class_family(
            value, prefix="cache", families=NODE_FAMILIES, burstable=BURSTABLE_FAMILIES
        )
        return value

    @field_validator("transit_encryption")
    @classmethod
    def _users_need_tls(cls, enabled: bool) -> bool:
        if not enabled:
            raise ValueError(
                "clients authenticate as their own users (RBAC with IAM), which ElastiCache "
                "accepts only over TLS; keep transitEncryption: true"
            )
        return enabled

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, window: str) -> str:
        daily_window(window, minimum_minutes=60)
        return window

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, window: str, info: ValidationInfo) -> str:
        maintenance = weekly_window(window, minimum_minutes=60)
        snapshot = info.data.get("snapshot_window")
        if isinstance(snapshot, str) and maintenance.overlaps(
            daily_window(snapshot, minimum_minutes=60)
        ):
            raise ValueError(f"overlaps the snapshot window {snapshot!r}; ElastiCache refuses that")
        return window

    @property
    def parameter_group_family(self) -> str:
        return SUPPORTED_VERSIONS[self.engine][self.engine_version]

    @property
    def highly_available(self) -> bool:
        """Automatic failover and Multi-AZ: on whenever there is a replica to fail over to."""
        return self.node_count >= 2


@dataclass(frozen=True)
class TenantCacheUser:
    """A tenant's cache user: its id (also its name, as IAM authentication requires) and the
    access string that confines it to its own keys and channels
    (``components/tenant_data.py``, ``cache_access_string``)."""

    tenant: str
    user_id: str
    access_string: str


@dataclass(frozen=True)
class RedisParts:
    """What a ``RedisCache`` declares, derived once from its settings.

    The constructor declares exactly these parts and ``cost_lines`` prices exactly these, so the
    estimate (computed before anything is declared) cannot drift from the resources.
    """

    settings: RedisSettings
    tenant_users: tuple[TenantCacheUser, ...] = ()
    """Each tenant's cache user, a member of the user group from the start."""

    key_purpose: ClassVar[str] = "redis"
    """The one customer-managed key: data at rest, snapshots, the slow log."""
    log_type: ClassVar[str] = "slow-log"
    """The log the engine delivers to CloudWatch Logs, into a log group declared beforehand."""

    @property
    def members(self) -> tuple[str, ...]:
        """The member clusters' suffixes: ElastiCache names the nodes ``<group>-001``,
        ``-002``, ..., so their alarms can be declared before the nodes exist."""
        return tuple(f"{number:03d}" for number in range(1, self.settings.node_count + 1))

    @property
    def node_alarms(self) -> tuple[AlarmSpec, ...]:
        """What every node alarms on, from the settings' thresholds; ``for_node`` names the
        node in each description."""
        thresholds = self.settings.alarms
        return (
            AlarmSpec("cpu", _NAMESPACE, "CPUUtilization", thresholds.cpu_percent,
                      f"host CPU above {thresholds.cpu_percent}%."),
            AlarmSpec("engine-cpu", _NAMESPACE, "EngineCPUUtilization",
                      thresholds.engine_cpu_percent,
                      f"engine thread above {thresholds.engine_cpu_percent}% CPU."),
            AlarmSpec("memory", _NAMESPACE, "DatabaseMemoryUsagePercentage",
                      thresholds.memory_percent,
                      f"uses more than {thresholds.memory_percent}% of its memory."),
            AlarmSpec("evictions", _NAMESPACE, "Evictions", thresholds.evictions,
                      f"evicted more than {thresholds.evictions} keys in 5 minutes.",
                      statistic="Sum"),
            AlarmSpec("connections", _NAMESPACE, "CurrConnections", thresholds.connections,
                      f"has more than {thresholds.connections} client connections.",
                      statistic="Maximum"),
        )  # fmt: skip

    @staticmethod
    def for_node(spec: AlarmSpec, node_id: str) -> AlarmSpec:
        """``spec`` as the alarm of node ``node_id``, which its description names."""
        return replace(spec, description=f"Cache node {node_id} {spec.description}")

    def cost_lines(self, catalog: PriceCatalog) -> list[CostLine]:
        """Monthly cost of these parts. The subnet group, parameter group and security group
        are free, as are the cache users and their group; the slow log (commands slower than
        the threshold, a few entries a day) stays far below a cent of CloudWatch Logs and has
        no line."""
        settings = self.settings
        component = RedisCache.COMPONENT
        resource = "aws:elasticache/replicationGroup:ReplicationGroup"
        node = catalog.price(f"elasticache.redis.{settings.node_type}", resource=resource)
        engine_note = "Redis OSS"
        if settings.engine is CacheEngine.VALKEY:
            factor = catalog.factor("elasticache.valkey-factor", resource=resource)
            node = node.model_copy(
                update={"usd": node.usd * factor.value, "key": f"{node.key} x {factor.key}"}
            )
            engine_note = f"Valkey, {factor.value} x the Redis OSS price"
        if node.memory_gib is None:
            raise CostError(f"price {node.key} lacks memoryGib: cannot bound the snapshot size")
        # One snapshot as large as the cache is free; each further day kept is billed. A
        # snapshot holds at most the node's memory, so this is an upper bound.
        extra_snapshots = settings.snapshot_retention_days - 1
        lines = [
            CostLine.fixed(
                component,
                "Cache nodes",
                node,
                hourly(catalog, len(self.members)),
                note=f"{len(self.members)} x {settings.node_type} x "
                f"{catalog.hours_per_month} h, {engine_note}",
            ),
            CostLine.fixed(
                component,
                "Snapshot storage beyond the free one",
                catalog.price("elasticache.backup-storage", resource=resource),
                extra_snapshots * node.memory_gib,
                note=f"{extra_snapshots} x {node.memory_gib} GiB (upper bound: full memory)",
            ),
        ]
        return [
            *lines,
            *KmsKey.cost_lines(component, catalog, purposes=[self.key_purpose]),
            alarm_line(
                component,
                catalog,
                len(self.members) * len(self.node_alarms),
                note=f"{len(self.node_alarms)} per node",
            ),
        ]


class RedisCache(PlatformComponent):
    """ElastiCache replication group in isolated subnets, reachable only from given groups.

    Steps: a key of its own; placement (subnet group, clients-only security group); the
    parameter group; the slow-log group; the user group (default user off, administrator); the
    replication group;
    each node's alarms. ``parts`` says what each step declares; ``wiring`` names, encrypts and
    alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:data:RedisCache"
    COMPONENT: ClassVar[str] = "cache"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "replicationGroupId": "Replication group id (genericcorp-<stack>-redis).",
        "primaryEndpoint": "Host name for writes (follows the primary on failover).",
        "readerEndpoint": "Host name spreading reads over the replicas.",
        "port": "Port the cache listens on.",
        "engine": "Cache engine: redis (Redis OSS) or valkey.",
        "userGroupId": "RBAC user group of the cache (default user off, administrator, tenants).",
        "adminUser": "IAM-authenticated administrator user id and name (<stack>-cache-admin).",
        "securityGroupId": "Security group of the nodes (admits only the client groups).",
    }

    replication_group_id: pulumi.Output[str]
    """The group's id, which also prefixes its member clusters' ids."""
    primary_endpoint: pulumi.Output[str]
    """Where clients write: follows the primary when a replica is promoted."""
    reader_endpoint: pulumi.Output[str]
    """Where clients read: spreads connections over the replicas."""
    port: int
    """The port clients connect to (the engine's default; only client groups reach it)."""
    engine: str
    """``redis`` or ``valkey``: clients speak the same protocol to either."""
    user_group_id: pulumi.Output[str]
    """The user group tenants' users join (components/tenant_data.py)."""
    arn: pulumi.Output[str]
    """The replication group's ARN, which ``elasticache:Connect`` names."""
    security_group_id: pulumi.Output[str]
    """The nodes' security group, which admits only the client groups."""
    kms_key_arn: pulumi.Output[str]
    """The cache's key: data at rest, snapshots and the slow log."""

    def __init__(
        self,
        name: str,
        parts: RedisParts,
        *,
        wiring: Wiring,
        network: DataStoreNetwork,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        self._group_id = wiring.context.physical_name("redis")
        key = self._key(parts, wiring.kms)
        placement = isolated_placement(
            self,
            name,
            network,
            subnet_group_type=aws.elasticache.SubnetGroup,
            physical_name=self._group_id,
            service="Redis",
            port=PORT,
            tag="redis",
        )
        users = self._user_group(parts)
        group = self._replication_group(
            parts,
            key=key,
            placement=placement,
            parameters=self._parameter_group(parts),
            slow_log=self._slow_log(parts, key),
            users=users,
        )
        self._alarms(parts, wiring.alarm_topic)

        self.replication_group_id = group.replication_group_id
        self.arn = group.arn
        self.primary_endpoint = group.primary_endpoint_address
        self.reader_endpoint = group.reader_endpoint_address
        self.port = PORT
        self.engine = str(settings.engine)
        self.security_group_id = placement.security_group.id
        self.kms_key_arn = key.arn
        self.publish(
            {
                "replicationGroupId": self.replication_group_id,
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "port": self.port,
                "engine": self.engine,
                "userGroupId": self.user_group_id,
                "adminUser": self.admin_user,
                "securityGroupId": self.security_group_id,
            }
        )

    @property
    def _slow_log_name(self) -> str:
        return self.context.path("redis", RedisParts.log_type)

    def _key(self, parts: RedisParts, kms: KmsSettings) -> KmsKey:
        """The cache's key; CloudWatch Logs may use it for the slow-log group only."""
        return KmsKey.owned_by(
            self,
            f"{self._name}-key",
            purpose=parts.key_purpose,
            description="encrypts the cache data, snapshots and slow log",
            settings=kms,
            service_statements=[
                logs_statement("CloudWatchLogsEncryptsSlowLog", self.context, self._slow_log_name)
            ],
        )

    def _parameter_group(self, parts: RedisParts) -> aws.elasticache.ParameterGroup:
        family = parts.settings.parameter_group_family
        return aws.elasticache.ParameterGroup(
            f"{self._name}-parameters",
            # The family is in the name: an engine upgrade creates a new group beside the old one.
            name=f"{self._group_id}-{family}",
            family=family,
            description=f"{self._group_id}: eviction policy and slow-log threshold",
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(
                    name="maxmemory-policy", value=parts.settings.maxmemory_policy
                ),
                aws.elasticache.ParameterGroupParameterArgs(
                    name="slowlog-log-slower-than", value=str(parts.settings.slow_log_microseconds)
                ),
            ],
            tags=self.tags("redis"),
            opts=self.child_opts(),
        )

    def _slow_log(self, parts: RedisParts, key: KmsKey) -> aws.cloudwatch.LogGroup:
        """The group the engine delivers its slow log to, declared first: with a retention
        period and the key, which a group ElastiCache created would lack."""
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{parts.log_type}",
            name=self._slow_log_name,
            retention_in_days=parts.settings.slow_log_retention_days,
            kms_key_id=key.arn,
            tags=self.tags(f"redis-{parts.log_type}"),
            opts=self.child_opts(),
        )

    def _user_group(self, parts: RedisParts) -> aws.elasticache.UserGroup:
        """The RBAC user group: a ``default`` user that is off, the administrator and every
        tenant's user. The group lists them all itself: ElastiCache takes one change to a user
        group at a time, so a deploy that onboards or retires many tenants changes it once,
        instead of one membership after another."""
        if not supports_iam_auth(parts.settings.engine, parts.settings.engine_version):
            raise ValueError(
                f"{parts.settings.engine} {parts.settings.engine_version} has no IAM "
                "authentication; cache users need Redis OSS 7.0+ or Valkey 7.2+"
            )
        default = aws.elasticache.User(
            f"{self._name}-default-user",
            user_id=self.context.stack + "-cache-default",
            user_name="default",
            engine=USER_ENGINE,
            access_string=DEFAULT_USER_ACCESS_STRING,
            # Off: no login is possible whatever the mode; no password to keep anywhere.
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
                type="no-password-required"
            ),
            tags=self.tags("redis-default-user"),
            opts=self.child_opts(),
        )
        self.admin_user = self.context.stack + "-cache-admin"
        admin = aws.elasticache.User(
            f"{self._name}-admin-user",
            user_id=self.admin_user,
            user_name=self.admin_user,
            engine=USER_ENGINE,
            access_string=ADMIN_ACCESS_STRING,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            tags=self.tags("redis-admin-user"),
            opts=self.child_opts(),
        )
        # Cache users are not protected in prod: they hold no data, and a retired tenant's keys
        # stay in the cache (readable by the administrator) until they expire.
        tenants = [
            aws.elasticache.User(
                f"{self._name}-tenant-{user.tenant}-user",
                user_id=user.user_id,
                user_name=user.user_id,
                engine=USER_ENGINE,
                access_string=user.access_string,
                authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
                tags=self.tags(f"tenant-{user.tenant}", Tenant=user.tenant),
                opts=self.child_opts(),
            )
            for user in parts.tenant_users
        ]
        group = aws.elasticache.UserGroup(
            f"{self._name}-users",
            user_group_id=self._group_id,
            engine=USER_ENGINE,
            user_ids=[default.user_id, admin.user_id, *(user.user_id for user in tenants)],
            tags=self.tags("redis-users"),
            opts=self.child_opts(),
        )
        self.user_group_id = group.user_group_id
        return group

    def _replication_group(
        self,
        parts: RedisParts,
        *,
        key: KmsKey,
        placement: IsolatedPlacement[aws.elasticache.SubnetGroup],
        parameters: aws.elasticache.ParameterGroup,
        slow_log: aws.cloudwatch.LogGroup,
        users: aws.elasticache.UserGroup,
    ) -> aws.elasticache.ReplicationGroup:
        settings = parts.settings
        group_id = self._group_id
        return aws.elasticache.ReplicationGroup(
            f"{self._name}-group",
            replication_group_id=group_id,
            description=f"{self.context.project} {self.context.stack} cache",
            engine=str(settings.engine),
            engine_version=settings.engine_version,
            auto_minor_version_upgrade=True,
            node_type=settings.node_type,
            num_cache_clusters=len(parts.members),
            # A replica is only worth having if it takes over by itself, from another AZ.
            automatic_failover_enabled=settings.highly_available,
            multi_az_enabled=settings.highly_available,
            port=PORT,
            parameter_group_name=parameters.name,
            subnet_group_name=placement.subnet_group.name,
            security_group_ids=[placement.security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            transit_encryption_enabled=settings.transit_encryption,
            transit_encryption_mode="required" if settings.transit_encryption else None,
            # RBAC, never a shared AUTH token: every client logs in as its own user.
            user_group_ids=[users.user_group_id],
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window=settings.snapshot_window,
            maintenance_window=settings.maintenance_window,
            final_snapshot_identifier=f"{group_id}-final" if settings.final_snapshot else None,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=parts.log_type,
                )
            ],
            tags=self.tags("redis"),
            opts=self.child_opts(protect=self.context.is_prod),
        )

    def _alarms(self, parts: RedisParts, topic_arn: pulumi.Input[str]) -> None:
        """Each node's alarms, by the member id ElastiCache will give it: a replica can fill
        up or run hot while the primary looks fine."""
        for member in parts.members:
            node_id = f"{self._group_id}-{member}"
            for spec in parts.node_alarms:
                metric_alarm(
                    self,
                    f"{self._name}-{member}-{spec.suffix}",
                    parts.for_node(spec, node_id),
                    dimensions={"CacheClusterId": node_id},
                    topic_arn=topic_arn,
                    tag=f"redis-{spec.suffix}",
                )


# Defaults per environment and prod rules


def _cache(
    *,
    node_type: str,
    node_count: int,
    snapshot_retention_days: int,
    slow_log_retention_days: LogRetentionDays,
    final_snapshot: bool,
) -> RedisSettings:
    """What dev and prod share for the cache; each environment adds size, replicas and
    snapshots."""
    return RedisSettings(
        # Redis OSS as the brief names it; "valkey" (7.2 or 8.0) is 20% cheaper and compatible.
        engine=CacheEngine.REDIS,
        engine_version="7.1",
        node_type=node_type,
        node_count=node_count,
        transit_encryption=True,
        snapshot_retention_days=snapshot_retention_days,
        snapshot_window="05:00-06:00",
        maintenance_window="sun:06:00-sun:07:00",
        # Analytics keys carry TTLs; evict the least recently used of those first.
        maxmemory_policy="volatile-lru",
        slow_log_microseconds=10000,
        slow_log_retention_days=slow_log_retention_days,
        final_snapshot=final_snapshot,
        alarms=RedisAlarmSettings(
            cpu_percent=80,
            engine_cpu_percent=80,
            memory_percent=80,
            evictions=0,
            connections=1000,
        ),
    )


CACHE_DEFAULTS = ByEnvironment(
    # One cache.t4g.micro node ($0.016/hour): no replica, so no failover in dev.
    dev=_cache(
        node_type="cache.t4g.micro",
        node_count=1,
        snapshot_retention_days=1,
        slow_log_retention_days=30,
        final_snapshot=False,
    ),
    # Primary and replica in different AZs with automatic failover: $46.72/month, the brief's
    # $50 for Redis.
    prod=_cache(
        node_type="cache.t4g.small",
        node_count=2,
        snapshot_retention_days=7,
        slow_log_retention_days=90,
        final_snapshot=True,
    ),
)

CACHE_PROD_RULES = (
    ProdRule(
        RedisSettings,
        key=lambda s: s.node_count,
        accepts=lambda count: count >= PROD_CACHE_MIN_NODES,
        allowed=f"{PROD_CACHE_MIN_NODES} or more (replicas in other AZs, automatic failover)",
        reason="a single cache node has no replica to fail over to (FSBP ElastiCache.3)",
        policy="elasticache-3-failover",
    ),
    ProdRule(
        RedisSettings,
        key=lambda s: s.snapshot_retention_days,
        accepts=lambda days: days >= PROD_CACHE_SNAPSHOT_RETENTION_DAYS,
        allowed=f"{PROD_CACHE_SNAPSHOT_RETENTION_DAYS} or more",
        reason="a week of daily snapshots to restore analytics state from",
        policy="elasticache-snapshot-retention",
    ),
    switched_on(
        RedisSettings,
        key=lambda s: s.final_snapshot,
        reason="deleting the cache must leave a snapshot to restore from",
        policy="prod-final-snapshot",
    ),
)
