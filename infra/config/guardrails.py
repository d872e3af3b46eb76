"""What a prod stack refuses, whatever its stack file says.

Prod is held to the brief's 99.9% uptime target and to the security baseline, so settings that
are fine for a cheap dev stack are errors there. Each rule names the key it guards, what prod
allows and why; ``docs/configuration.md`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.base import Environment
from components.network import NatStrategy
from components.node_group import CapacityType
from components.postgres import DEFAULT_PORT as DEFAULT_POSTGRES_PORT
from infra.config.errors import ConfigProblem
from infra.config.stack import PROJECT, StackConfig


@dataclass(frozen=True)
class Guardrail:
    path: str
    """Key path the rule guards."""
    allowed: str
    """What prod accepts, in words."""
    reason: str
    """Why prod needs it."""
    value: Callable[[StackConfig], Any]
    accepts: Callable[[Any], bool]

    def check(self, config: StackConfig) -> ConfigProblem | None:
        value = self.value(config)
        if self.accepts(value):
            return None
        return ConfigProblem(
            path=self.path,
            value=value,
            message=f"not allowed in prod: {self.reason}. Prod allows: {self.allowed}",
            secret=config.is_secret(self.path.split(".", 1)[0]),
        )


PROD_GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail(
        path=f"{PROJECT}:network.azCount",
        allowed="2 or more (default 3)",
        reason="a single availability zone cannot meet the 99.9% uptime target",
        value=lambda c: c.network.az_count,
        accepts=lambda v: v >= 2,
    ),
    Guardrail(
        path=f"{PROJECT}:network.natStrategy",
        allowed='"one-per-az"',
        reason="with fewer NAT gateways than AZs, one AZ outage cuts egress for the others",
        value=lambda c: str(c.network.nat_strategy),
        accepts=lambda v: v == NatStrategy.ONE_PER_AZ,
    ),
    Guardrail(
        path=f"{PROJECT}:network.flowLogs.enabled",
        allowed="true",
        reason="VPC flow logs are the network audit trail (FSBP EC2.6)",
        value=lambda c: c.network.flow_logs.enabled,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:network.flowLogs.trafficType",
        allowed='"ALL"',
        reason="an investigation needs accepted and rejected traffic alike",
        value=lambda c: c.network.flow_logs.traffic_type,
        accepts=lambda v: v == "ALL",
    ),
    Guardrail(
        path=f"{PROJECT}:network.flowLogs.retentionDays",
        allowed="365 or more",
        reason="network audit records are kept for at least a year",
        value=lambda c: c.network.flow_logs.retention_days,
        accepts=lambda v: v >= 365,
    ),
    Guardrail(
        path=f"{PROJECT}:kms.deletionWindowDays",
        allowed="30",
        reason="a key scheduled for deletion by mistake must stay recoverable for the longest "
        "window AWS offers",
        value=lambda c: c.kms.deletion_window_days,
        accepts=lambda v: v == 30,
    ),
    Guardrail(
        path=f"{PROJECT}:dns.queryLogging.enabled",
        allowed="true",
        reason="DNS query logs are the audit trail of the public zone (FSBP Route53.2)",
        value=lambda c: c.dns.query_logging.enabled,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:dns.queryLogging.retentionDays",
        allowed="365 or more",
        reason="DNS audit records are kept for at least a year",
        value=lambda c: c.dns.query_logging.retention_days,
        accepts=lambda v: v >= 365,
    ),
    Guardrail(
        path=f"{PROJECT}:dns.dnssec",
        allowed="true",
        reason="the zone is signed so resolvers can detect forged answers; switching signing off "
        "while the registrar still publishes the DS record makes the domain unresolvable for "
        "validating resolvers (remove the DS record at the registrar first, see docs/dns.md)",
        value=lambda c: c.dns.dnssec,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:cdn.waf.enabled",
        allowed="true",
        reason="the public CDN sits behind a web application firewall (FSBP CloudFront.6)",
        value=lambda c: c.cdn.waf.enabled,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:uptime.checks",
        allowed="at least one check",
        reason="the 99.9% uptime target needs the public endpoints watched",
        value=lambda c: [check.name for check in c.uptime.checks],
        accepts=lambda v: len(v) >= 1,
    ),
    Guardrail(
        path=f"{PROJECT}:database.multiAz",
        allowed="true",
        reason="a single-AZ database is down for the whole of an AZ outage (FSBP RDS.5)",
        value=lambda c: c.database.multi_az,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:database.backupRetentionDays",
        allowed="14 to 35",
        reason="tenant data needs two weeks of point-in-time recovery (0 turns backups off)",
        value=lambda c: c.database.backup_retention_days,
        accepts=lambda v: v >= 14,
    ),
    Guardrail(
        path=f"{PROJECT}:database.deletionProtection",
        allowed="true",
        reason="the database holds every tenant's data (FSBP RDS.8)",
        value=lambda c: c.database.deletion_protection,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:database.finalSnapshot",
        allowed="true",
        reason="deleting the database must leave a snapshot to restore from",
        value=lambda c: c.database.final_snapshot,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:database.port",
        allowed=f"any port but {DEFAULT_POSTGRES_PORT}",
        reason="FSBP RDS.23 flags databases on the engine's default port",
        value=lambda c: c.database.port,
        accepts=lambda v: v != DEFAULT_POSTGRES_PORT,
    ),
    Guardrail(
        path=f"{PROJECT}:cache.nodeCount",
        allowed="2 or more (replicas in other AZs, automatic failover)",
        reason="a single cache node has no replica to fail over to (FSBP ElastiCache.3)",
        value=lambda c: c.cache.node_count,
        accepts=lambda v: v >= 2,
    ),
    Guardrail(
        path=f"{PROJECT}:cache.authToken",
        allowed="true (which needs transitEncryption: true)",
        reason="clients must authenticate over TLS (FSBP ElastiCache.5 and ElastiCache.6)",
        value=lambda c: c.cache.auth_token,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:cache.snapshotRetentionDays",
        allowed="7 or more",
        reason="a week of daily snapshots to restore analytics state from",
        value=lambda c: c.cache.snapshot_retention_days,
        accepts=lambda v: v >= 7,
    ),
    Guardrail(
        path=f"{PROJECT}:cache.finalSnapshot",
        allowed="true",
        reason="deleting the cache must leave a snapshot to restore from",
        value=lambda c: c.cache.final_snapshot,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:alerts.emails",
        allowed="at least one address",
        reason="prod alarms must reach a person",
        value=lambda c: list(c.alerts.emails),
        accepts=lambda v: len(v) >= 1,
    ),
    Guardrail(
        path=f"{PROJECT}:budget.notifyAlertsTopic",
        allowed="true",
        reason="budget warnings must reach the on-call addresses of the alerts topic",
        value=lambda c: c.budget.notify_alerts_topic,
        accepts=lambda v: v is True,
    ),
    Guardrail(
        path=f"{PROJECT}:cluster.nodeGroups[].capacityType",
        allowed='capacityType "ON_DEMAND" for every node group',
        reason="spot capacity is reclaimed at two minutes' notice, all at once when a pool runs "
        "dry, which the 99.9% uptime target cannot absorb",
        value=lambda c: [str(g.capacity_type) for g in c.cluster.node_groups],
        accepts=lambda v: all(t == CapacityType.ON_DEMAND for t in v),
    ),
    Guardrail(
        path=f"{PROJECT}:cluster.nodeGroups[].minSize",
        allowed="a node group with minSize 2 or more",
        reason="with a single node, a node or AZ failure stops every service until a new node "
        "boots",
        value=lambda c: [g.min_size for g in c.cluster.node_groups],
        accepts=lambda v: max(v, default=0) >= 2,
    ),
    Guardrail(
        path=f"{PROJECT}:cluster.logRetentionDays",
        allowed="365 or more",
        reason="control-plane audit logs are kept for at least a year",
        value=lambda c: c.cluster.log_retention_days,
        accepts=lambda v: v >= 365,
    ),
    Guardrail(
        path=f"{PROJECT}:platform.prometheus.replicas",
        allowed="2 or more",
        reason="monitoring must survive the loss of the node or AZ it runs in",
        value=lambda c: c.platform.prometheus.replicas,
        accepts=lambda v: v >= 2,
    ),
    Guardrail(
        path=f"{PROJECT}:platform.alertmanager.replicas",
        allowed="2 or more",
        reason="alerts must still be sent when one node or AZ is lost",
        value=lambda c: c.platform.alertmanager.replicas,
        accepts=lambda v: v >= 2,
    ),
    Guardrail(
        path=f"{PROJECT}:platform.grafana.persistenceEnabled",
        allowed="true",
        reason="Grafana's users, API keys and alert silences must survive a pod restart",
        value=lambda c: c.platform.grafana.persistence_enabled,
        accepts=lambda v: v is True,
    ),
)


def check_guardrails(config: StackConfig) -> list[ConfigProblem]:
    """The prod rules this configuration breaks (none for dev)."""
    if config.environment is not Environment.PROD:
        return []
    return [problem for rule in PROD_GUARDRAILS if (problem := rule.check(config)) is not None]
