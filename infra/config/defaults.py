"""Defaults per environment: what a stack gets for every key its stack file leaves out.

This table is the single source of defaults (the settings models have none), so the
difference between dev and prod is readable in one place and ``docs/configuration.md`` is
generated from it. Objects are merged key by key with the stack file; lists and scalars in
the stack file replace the default.
"""

from __future__ import annotations

from typing import Any

from components.base import Environment
from infra.config.stack import PROJECT

_SUBNETS = {"public": 24, "private": 19, "database": 24}

# What dev and prod share for PostgreSQL; each environment adds size, availability and backups.
_DATABASE = {
    # Major version only: RDS picks the newest minor and automatic minor upgrades keep it current.
    "engineVersion": "17",
    # Not 5432 (FSBP RDS.23): clients read the port from the stack output anyway.
    "port": 5433,
    "masterUsername": "platform_admin",
    "databaseName": "platform",
    # Backups 03:00-03:30 UTC, maintenance on Sunday after them (night in the Americas).
    "backupWindow": "03:00-03:30",
    "maintenanceWindow": "sun:04:00-sun:04:30",
    # The free tier of Performance Insights.
    "performanceInsightsRetentionDays": 7,
    "monitoringIntervalSeconds": 60,
    "slowStatementMs": 500,
}

# What dev and prod share for the cache.
_CACHE = {
    # Redis OSS as the brief names it; "valkey" (7.2 or 8.0) is 20% cheaper and compatible.
    "engine": "redis",
    "engineVersion": "7.1",
    "transitEncryption": True,
    "authToken": True,
    "snapshotWindow": "05:00-06:00",
    "maintenanceWindow": "sun:06:00-sun:07:00",
    # Analytics keys carry TTLs; evict the least recently used of those first.
    "maxmemoryPolicy": "volatile-lru",
    "slowLogMicroseconds": 10000,
    "alarms": {
        "cpuPercent": 80,
        "engineCpuPercent": 80,
        "memoryPercent": 80,
        "evictions": 0,
        "connections": 1000,
    },
}

ENVIRONMENT_DEFAULTS: dict[Environment, dict[str, Any]] = {
    Environment.DEV: {
        f"{PROJECT}:tagging": {"costCenter": "platform-engineering", "extraTags": {}},
        # Dev keys hold only rebuildable data: the shortest recovery window AWS allows.
        f"{PROJECT}:kms": {"deletionWindowDays": 7},
        f"{PROJECT}:network": {
            "cidr": "10.10.0.0/16",
            "azCount": 2,
            # One NAT gateway ($32.85/month) instead of one per AZ: dev tolerates an AZ outage.
            "natStrategy": "single",
            "subnetPrefixLengths": _SUBNETS,
            "flowLogs": {"enabled": True, "retentionDays": 30, "trafficType": "ALL"},
        },
        f"{PROJECT}:alerts": {"emails": []},
        f"{PROJECT}:database": {
            **_DATABASE,
            # Cheapest Graviton class ($0.016/hour), one AZ: dev tolerates an hour of downtime.
            "instanceClass": "db.t4g.micro",
            "allocatedStorageGb": 20,
            "maxAllocatedStorageGb": 100,
            "multiAz": False,
            "backupRetentionDays": 7,
            "logRetentionDays": 30,
            # Dev holds only test data that can be recreated: no final snapshot (which would
            # outlive the stack and be billed) and no deletion protection, so a dev stack can be
            # torn down and recreated in one command.
            "deletionProtection": False,
            "finalSnapshot": False,
            # db.t4g.micro: 1 GiB of memory, max_connections about 80.
            "alarms": {
                "cpuPercent": 80,
                "freeStorageGb": 2,
                "freeableMemoryMb": 64,
                "connections": 60,
            },
        },
        f"{PROJECT}:cache": {
            **_CACHE,
            # One cache.t4g.micro node ($0.016/hour): no replica, so no failover in dev.
            "nodeType": "cache.t4g.micro",
            "nodeCount": 1,
            "snapshotRetentionDays": 1,
            "slowLogRetentionDays": 30,
            "finalSnapshot": False,
        },
    },
    Environment.PROD: {
        f"{PROJECT}:tagging": {"costCenter": "platform-engineering", "extraTags": {}},
        f"{PROJECT}:kms": {"deletionWindowDays": 30},
        f"{PROJECT}:network": {
            "cidr": "10.20.0.0/16",
            "azCount": 3,
            "natStrategy": "one-per-az",
            "subnetPrefixLengths": _SUBNETS,
            "flowLogs": {"enabled": True, "retentionDays": 365, "trafficType": "ALL"},
        },
        # No default address: prod must name who is woken up (see guardrails).
        f"{PROJECT}:alerts": {"emails": []},
        f"{PROJECT}:database": {
            **_DATABASE,
            # Burstable Graviton with a synchronous standby in a second AZ: $52/month with 20 GiB,
            # inside the brief's $50-100 for PostgreSQL; an AZ outage fails over in 1-2 minutes.
            "instanceClass": "db.t4g.small",
            "allocatedStorageGb": 20,
            "maxAllocatedStorageGb": 200,
            "multiAz": True,
            # Two weeks of point-in-time recovery: a bad migration found after a week is still
            # recoverable.
            "backupRetentionDays": 14,
            "logRetentionDays": 365,
            "deletionProtection": True,
            "finalSnapshot": True,
            # db.t4g.small: 2 GiB of memory, max_connections about 190.
            "alarms": {
                "cpuPercent": 80,
                "freeStorageGb": 2,
                "freeableMemoryMb": 128,
                "connections": 150,
            },
        },
        f"{PROJECT}:cache": {
            **_CACHE,
            # Primary and replica in different AZs with automatic failover: $46.72/month, the
            # brief's $50 for Redis.
            "nodeType": "cache.t4g.small",
            "nodeCount": 2,
            "snapshotRetentionDays": 7,
            "slowLogRetentionDays": 90,
            "finalSnapshot": True,
        },
    },
}
