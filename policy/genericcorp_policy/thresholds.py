"""What prod is held to, in numbers: one constant per threshold, read by the pack's rules and by the
stack configuration's prod rules alike.

A prod stack file that asks for less is refused before anything is declared (the prod rules beside
each settings model in ``components/``, which import this module: the pack is packaged with the
project), and a prod resource declared with less fails the pack's rule that names the same
constant. Changing a number here moves both lines at once.

The pack runs in a virtualenv of its own with pulumi and pulumi-policy only, so this module
imports nothing.
"""

from __future__ import annotations

#: Days of automated backups (point-in-time recovery) a prod database keeps: two weeks, so a bad
#: migration found after a week is still recoverable.
PROD_DATABASE_BACKUP_RETENTION_DAYS = 14

#: Days of daily snapshots a prod cache keeps: a week to restore analytics state from.
PROD_CACHE_SNAPSHOT_RETENTION_DAYS = 7

#: Nodes a prod cache needs: a primary and a replica in another AZ to fail over to.
PROD_CACHE_MIN_NODES = 2

#: Days a prod KMS key stays recoverable after it is scheduled for deletion: the longest window
#: AWS offers.
PROD_KMS_DELETION_WINDOW_DAYS = 30

#: Days prod keeps audit logs: VPC flow logs, DNS query logs and EKS control-plane logs.
PROD_AUDIT_LOG_RETENTION_DAYS = 365

#: The only capacity type of a prod node group: spot capacity is reclaimed at two minutes' notice.
PROD_CAPACITY_TYPE = "ON_DEMAND"

#: PostgreSQL's default port, which FSBP RDS.23 flags in every environment.
POSTGRES_DEFAULT_PORT = 5432
