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

# AWS Budgets: mail at 80% of the month's actual spend (time to act) and when AWS forecasts the
# month to end above the limit.
_BUDGET_NOTIFICATIONS = [
    {"type": "ACTUAL", "thresholdPercent": 80},
    {"type": "FORECASTED", "thresholdPercent": 100},
]

# Cost per customer is reported at these customer counts and for the brief's targets
# ($25 per customer at first, $7 at scale).
_SCALE_POINTS = [1, 5, 10, 25, 50, 100, 250, 500, 1000]
_PER_CUSTOMER_TARGETS = [25, 7]

# Spot capacity is "often 60-70% below on-demand" (the price reference, low confidence: it varies
# by pool and hour); t4g, the dev nodes' family, sits at the top of that range in us-east-1.
# Only SPOT node groups use it (prod refuses SPOT). Each 5 points move dev by $2.45 a month.
_SPOT_DISCOUNT_PERCENT = 70

# The only certificate authorities in use: Amazon (ACM, for the CDN) and Let's Encrypt (Vercel,
# for the landing page and the demo). Nobody may issue wildcard certificates.
_CAA_AMAZON = ['0 issue "amazon.com"', '0 issue "amazontrust.com"']
_CAA_VERCEL = ['0 issue "letsencrypt.org"']
_CAA_NO_WILDCARDS = ['0 issuewild ";"']
_VERCEL_CNAME = "cname.vercel-dns.com"
_VERCEL_APEX_IP = "76.76.21.21"
# Five minutes for records that may need to move quickly (Vercel targets); an hour for policy.
_SHORT_TTL = 300
_POLICY_TTL = 3600

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

# Managed add-on versions built for Kubernetes 1.35 (aws eks describe-addon-versions
# --kubernetes-version 1.35). kube-proxy must carry the cluster's minor version.
_ADDONS_1_35 = {
    "vpcCni": "v1.20.4-eksbuild.2",
    "coredns": "v1.12.4-eksbuild.1",
    "kubeProxy": "v1.35.0-eksbuild.2",
    "awsEbsCsiDriver": "v1.53.0-eksbuild.1",
    "eksPodIdentityAgent": "v1.3.10-eksbuild.1",
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
        # Dev traffic is the team's own: small figures, stated so the estimate has no blanks.
        f"{PROJECT}:usage": {
            "natProcessedGb": 20,
            "flowLogsIngestedGb": 2,
            "logsIngestedGb": 2,
            "cdnTransferOutGb": 10,
            "cdnRequestsMillions": 1,
            "s3StorageGb": 5,
            "dnsQueriesMillions": 1,
            "storageGrowthGbPerMonth": 1,
            # EKS control-plane logs: the audit log runs even when the cluster is idle
            # (controllers renew leases every few seconds). A planning figure; check it against
            # the log group's IncomingBytes after a month.
            "clusterLogsIngestedGb": 3,
            # The ingress ALB serves the team's own requests: a tenth of an LCU on average.
            "albAverageLcus": 0.1,
        },
        # The brief's dev target; the plan fails when the estimate exceeds it.
        f"{PROJECT}:budget": {
            "limitUsd": 200,
            "notifications": _BUDGET_NOTIFICATIONS,
            "notifyAlertsTopic": True,
            "emails": [],
            # Account-wide: the prod stack owns the activation (see components/budget.py).
            "activateCostAllocationTags": False,
        },
        f"{PROJECT}:costModel": {
            "scalePoints": _SCALE_POINTS,
            "spotDiscountPercent": _SPOT_DISCOUNT_PERCENT,
            "perCustomerTargetsUsd": _PER_CUSTOMER_TARGETS,
            # External services are company-wide and counted once, in prod.
            "externalServices": [],
            "priceFallbackRegion": None,
        },
        f"{PROJECT}:dns": {
            "zoneName": "dev.genericcorp.com",
            # Delegated by NS records in the prod zone (prod's dns.delegations).
            "parentZone": "genericcorp.com",
            "existingZoneId": None,
            "records": [
                {
                    "name": "dev.genericcorp.com",
                    "type": "CAA",
                    "ttl": _POLICY_TTL,
                    "values": [*_CAA_AMAZON, *_CAA_NO_WILDCARDS],
                }
            ],
            "delegations": [],
            # Off: a dev zone's queries are not audit evidence. DNSSEC off: it needs a DS record
            # in the prod zone and a $1/month key, for a zone only the team resolves.
            "queryLogging": {"enabled": False, "retentionDays": 30},
            "dnssec": False,
        },
        f"{PROJECT}:cdn": {
            "domain": "cdn.dev.genericcorp.com",
            # The cheapest class (North America, Europe, Israel): dev is used from the office.
            "priceClass": "PriceClass_100",
            "defaultRootObject": "index.html",
            "noncurrentVersionDays": 7,
            "logRetentionDays": 30,
            # Off: a web ACL costs $5/month plus $1 per rule, more than a dev CDN serves.
            "waf": {"enabled": False, "rateLimit": 2000},
        },
        f"{PROJECT}:uptime": {
            # Only the dev CDN: the landing page and the demo are prod's.
            "checks": [{"name": "cdn", "domain": "cdn.dev.genericcorp.com", "path": "/"}],
            "requestIntervalSeconds": 30,
            "failureThreshold": 3,
        },
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
        f"{PROJECT}:cluster": {
            "version": "1.35",
            # Private endpoint only: pulumi and kubectl run from inside the VPC unless a stack
            # file lists its operators' CIDRs.
            "endpointPublicAccess": False,
            "publicAccessCidrs": [],
            # No default admin: the stack file names the account's own roles.
            "accessEntries": [],
            "logRetentionDays": 30,
            "nodeGroups": [
                {
                    "name": "general",
                    # Graviton, 2 vCPU / 4 GiB: the cheapest size that holds the monitoring stack
                    # and a few tenants. SPOT, so dev fits its $200 budget: two on-demand
                    # t4g.medium cost $49.06 a month, two spot ones about $14.72 (priced from
                    # the first type at costModel.spotDiscountPercent). A reclaimed node restarts
                    # its pods on the other one within minutes, which dev tolerates (prod refuses
                    # SPOT). Two more types of the same size (2 vCPU / 4 GiB, arm64) give EC2
                    # six spot pools across the two AZs, so one pool running dry does not take
                    # both nodes, and the autoscaler's plans hold for whichever type starts.
                    "instanceTypes": ["t4g.medium", "c7g.large", "c6g.large"],
                    "capacityType": "SPOT",
                    "minSize": 2,
                    "desiredSize": 2,
                    "maxSize": 4,
                    # The AMI's own 20 GiB: dev pulls few images, and each GiB is $0.08 a month.
                    "diskSizeGib": 20,
                    "labels": {"genericcorp.com/workload": "general"},
                    "taints": [],
                }
            ],
            "addons": _ADDONS_1_35,
        },
        f"{PROJECT}:platform": {
            # A week of metrics on one replica is enough to debug dev; Grafana dashboards live
            # in code, so losing its state on restart costs nothing.
            "prometheus": {"retentionDays": 7, "storageGib": 20, "replicas": 1},
            "grafana": {"persistenceEnabled": False, "storageGib": 5},
            "alertmanager": {"replicas": 1, "storageGib": 2},
        },
        # Dev tenants are listed in Pulumi.dev.yaml.
        f"{PROJECT}:tenants": [],
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
        # Early production: a few customers, image pulls and webhooks through NAT, all VPC
        # traffic in the flow logs. Revisit with Cost Explorer figures (`infractl cost actual`).
        f"{PROJECT}:usage": {
            "natProcessedGb": 100,
            "flowLogsIngestedGb": 10,
            "logsIngestedGb": 10,
            "cdnTransferOutGb": 200,
            "cdnRequestsMillions": 10,
            "s3StorageGb": 20,
            "dnsQueriesMillions": 5,
            "storageGrowthGbPerMonth": 5,
            # Three nodes, twice the controllers and tenant deployments: more audit events.
            "clusterLogsIngestedGb": 20,
            # Early production traffic through the ingress ALB: one LCU on average (25 new
            # connections a second, or 1 GB an hour, or 3,000 active connections a minute).
            "albAverageLcus": 1,
        },
        # The brief's prod target, well inside the company's $2,000-3,000 for everything.
        f"{PROJECT}:budget": {
            "limitUsd": 1000,
            "notifications": _BUDGET_NOTIFICATIONS,
            "notifyAlertsTopic": True,
            "emails": [],
            "activateCostAllocationTags": True,
        },
        f"{PROJECT}:costModel": {
            "scalePoints": _SCALE_POINTS,
            "spotDiscountPercent": _SPOT_DISCOUNT_PERCENT,
            "perCustomerTargetsUsd": _PER_CUSTOMER_TARGETS,
            "externalServices": [
                {
                    "name": "BetterStack uptime monitoring",
                    "monthlyUsd": 10,
                    "included": True,
                    "note": "the company's plan: $10/month",
                },
                {
                    "name": "Vercel Pro (landing page and demo)",
                    "monthlyUsd": 20,
                    "included": True,
                    "note": "one Pro seat; the company's plan names Vercel without a figure",
                },
                {
                    "name": "Temporal Cloud",
                    "monthlyUsd": 25,
                    "included": False,
                    "note": "optional in the company's plan ($25-50/month); not adopted yet",
                },
            ],
            "priceFallbackRegion": None,
        },
        f"{PROJECT}:dns": {
            "zoneName": "genericcorp.com",
            # Registered directly: the name servers are set at the registrar (docs/dns.md).
            "parentZone": None,
            "existingZoneId": None,
            "records": [
                {
                    "name": "genericcorp.com",
                    "type": "A",
                    "ttl": _SHORT_TTL,
                    "values": [_VERCEL_APEX_IP],
                },
                {
                    "name": "www.genericcorp.com",
                    "type": "CNAME",
                    "ttl": _SHORT_TTL,
                    "values": [_VERCEL_CNAME],
                },
                {
                    "name": "demo.genericcorp.com",
                    "type": "CNAME",
                    "ttl": _SHORT_TTL,
                    "values": [_VERCEL_CNAME],
                },
                {
                    "name": "genericcorp.com",
                    "type": "CAA",
                    "ttl": _POLICY_TTL,
                    "values": [*_CAA_AMAZON, *_CAA_VERCEL, *_CAA_NO_WILDCARDS],
                },
            ],
            # The dev zone's name servers: empty until the dev stack exists (docs/dns.md).
            "delegations": [{"name": "dev.genericcorp.com", "nameServers": []}],
            "queryLogging": {"enabled": True, "retentionDays": 365},
            "dnssec": True,
        },
        f"{PROJECT}:cdn": {
            "domain": "cdn.genericcorp.com",
            # Every edge location: customers are worldwide and latency is the CDN's purpose.
            "priceClass": "PriceClass_All",
            "defaultRootObject": "index.html",
            "noncurrentVersionDays": 30,
            "logRetentionDays": 365,
            "waf": {"enabled": True, "rateLimit": 2000},
        },
        f"{PROJECT}:uptime": {
            "checks": [
                {"name": "landing", "domain": "genericcorp.com", "path": "/"},
                {"name": "demo", "domain": "demo.genericcorp.com", "path": "/"},
                {"name": "cdn", "domain": "cdn.genericcorp.com", "path": "/"},
            ],
            "requestIntervalSeconds": 30,
            "failureThreshold": 3,
        },
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
        f"{PROJECT}:cluster": {
            "version": "1.35",
            "endpointPublicAccess": False,
            "publicAccessCidrs": [],
            "accessEntries": [],
            # Control-plane audit logs are kept a year, like the network's.
            "logRetentionDays": 365,
            "nodeGroups": [
                {
                    "name": "general",
                    # Graviton general purpose (2 vCPU / 8 GiB, $0.0816 an hour): no CPU credits
                    # to run out of under sustained load. One node per AZ at least; the
                    # autoscaler adds up to three per AZ.
                    "instanceTypes": ["m7g.large"],
                    "capacityType": "ON_DEMAND",
                    "minSize": 3,
                    "desiredSize": 3,
                    "maxSize": 9,
                    "diskSizeGib": 50,
                    "labels": {"genericcorp.com/workload": "general"},
                    "taints": [],
                }
            ],
            "addons": _ADDONS_1_35,
        },
        f"{PROJECT}:platform": {
            # Two Prometheus and Alertmanager replicas survive a node or AZ loss; 30 days of
            # metrics cover a monthly review.
            "prometheus": {"retentionDays": 30, "storageGib": 100, "replicas": 2},
            "grafana": {"persistenceEnabled": True, "storageGib": 10},
            "alertmanager": {"replicas": 2, "storageGib": 5},
        },
        # Customers are added by onboarding through the stack file; prod holds no demo tenant.
        f"{PROJECT}:tenants": [],
    },
}
