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
    },
}
