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
                    # Graviton burstable: 2 vCPU / 4 GiB for $0.0336 an hour, the cheapest size
                    # that holds the monitoring stack and a few tenants. ON_DEMAND, not SPOT: the
                    # saving is about $30 a month, and a reclaimed node restarts Prometheus and
                    # moves its zonal volume's pod, which costs developers more time than that.
                    "instanceTypes": ["t4g.medium"],
                    "capacityType": "ON_DEMAND",
                    "minSize": 2,
                    "desiredSize": 2,
                    "maxSize": 4,
                    "diskSizeGib": 30,
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
