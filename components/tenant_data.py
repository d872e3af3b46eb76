"""TenantData: each tenant's own database schema and role, cache user and IAM identity.

Creates, for the stack:
- the namespace ``platform-tenant-data`` (Pod Security ``restricted``, default-deny network
  policy that lets out only DNS, the Pod Identity agent, the database and HTTPS for Secrets
  Manager), its service account ``tenant-provisioner`` and, through EKS Pod Identity, an IAM
  role that may read the RDS-managed master secret and nothing else;

and for each tenant of ``genericcorp:tenants``:
- a cache user ``<stack>-tenant-<name>``, IAM-authenticated, whose access string
  (``cache_access_string``) confines it to keys and channels ``<name>:*`` and denies every
  command that could list, flush or reconfigure the cache: declared by the cache itself
  (``components/redis.py``), whose user group lists it, from ``tenant_cache_users`` here;
- ``aws.iam.Role`` for the tenant's ``app`` service account (``aws.eks.PodIdentityAssociation``),
  allowed ``rds-db:connect`` as its own database role and ``elasticache:Connect`` as its own
  cache user on the stack's replication group, nothing else;
- ``kubernetes:batch/v1:Job`` ``<name>-<hash>`` in ``platform-tenant-data``, running the SQL
  that ``provisioning_sql`` generates (schema, IAM-authenticated login role, privileges on its
  own schema only, the tier's limits). The hash of the SQL is in the Job's name, so a changed
  definition runs a new Job; pulumi-kubernetes waits for the Job, so a failed Job fails the
  deploy;

and for each retired tenant of ``genericcorp:tenantData.offboarding`` a Job that keeps its
schema and data and stops its role from logging in (``retirement_sql``), or, with
``dropData: true`` (in prod only with ``approvedBy``), drops schema and role (``drop_sql``).

The SQL is generated here and nowhere else: tests/test_tenant_isolation.py runs exactly this
text against a real PostgreSQL server, and the access strings against a real Redis server.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from components.base import ByEnvironment, PlatformComponent, SettingsModel, policy_document
from components.redis import TenantCacheUser
from components.shared.tenant_identity import TenantIdentity
from components.shared.wiring import Wiring
from components.tenants import NAMESPACE_PREFIX, TIERS, Tier, TierSpec

#: Where the provisioning Jobs run: a platform namespace, never a tenant's.
PROVISIONING_NAMESPACE = "platform-tenant-data"
PROVISIONER_SERVICE_ACCOUNT = "tenant-provisioner"
#: The service account of a tenant's workloads (declared by components/tenants.py).
APP_SERVICE_ACCOUNT = "app"
#: EKS Pod Identity: the agent on every node serves credentials here (IPv4), port 80.
POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
POD_IDENTITY_AGENT_PORT = 80
#: The role RDS checks for IAM database authentication (a stand-in exists on test servers).
RDS_IAM_ROLE = "rds_iam"
#: Images of the provisioning Job, pinned: the AWS CLI reads the master secret, psql runs the SQL.
AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.17.0"
PSQL_IMAGE = "public.ecr.aws/docker/library/postgres:17.2-alpine"
#: The postgres user of the alpine image, and an unprivileged user for the AWS CLI.
PSQL_UID = 70
AWS_CLI_UID = 65534
#: A Job gives up after this long (pulumi-kubernetes then reports the deploy as failed).
JOB_DEADLINE_SECONDS = 600
JOB_RETRIES = 2

#: Upper bounds of the tier limits a stack may set: a tenant's role may never hold more than
#: the smallest prod instance's max_connections allows, nor run statements for more than an hour.
MAX_CONNECTIONS = 150
MAX_STATEMENT_TIMEOUT_SECONDS = 3600
MAX_LOCK_TIMEOUT_SECONDS = 600
MAX_IDLE_IN_TRANSACTION_SECONDS = 3600
MAX_WORK_MEM_MIB = 1024

#: Command categories and commands a tenant's cache user may run, in order (later rules win).
#: Data commands on its own keys and channels, transactions and connection commands; then
#: everything dangerous or administrative is taken away, and the commands that list or count
#: the whole keyspace (they take no key, so key patterns cannot confine them), SORT (its BY and
#: GET patterns read other keys on Redis 6), PUBSUB (lists every channel) and SELECT.
TENANT_CACHE_RULES = (
    "-@all",
    "+@read",
    "+@write",
    "+@pubsub",
    "+@transaction",
    "+@connection",
    "-@dangerous",
    "-@admin",
    "-scan",
    "-randomkey",
    "-dbsize",
    "-sort",
    "-pubsub",
    "-select",
    "-client",
)


def cache_access_string(prefix: str) -> str:
    """The access string of a tenant's cache user: keys and channels ``<prefix>*`` only.

    ``resetchannels`` comes first because Redis 6.2 grants every channel to a new user by
    default (``acl-pubsub-default allchannels``); Redis 7 and Valkey start with none.
    """
    return " ".join(("on", f"~{prefix}*", "resetchannels", f"&{prefix}*", *TENANT_CACHE_RULES))


def tenant_cache_users(tenants: Sequence[str], stack: str) -> tuple[TenantCacheUser, ...]:
    """Each tenant's cache user, which the cache declares in its user group."""
    users: list[TenantCacheUser] = []
    for tenant in tenants:
        identity = TenantIdentity(tenant, stack)
        users.append(
            TenantCacheUser(
                tenant=tenant,
                user_id=identity.cache_user,
                access_string=cache_access_string(identity.key_prefix),
            )
        )
    return tuple(users)


class DatabaseLimits(SettingsModel):
    """What one tenant's database role may use (set with ALTER ROLE)."""

    connection_limit: int = Field(
        ge=1,
        le=MAX_CONNECTIONS,
        description=f"CONNECTION LIMIT of the tenant's role (1-{MAX_CONNECTIONS}).",
    )
    statement_timeout_seconds: int = Field(
        ge=1,
        le=MAX_STATEMENT_TIMEOUT_SECONDS,
        description=f"statement_timeout (1-{MAX_STATEMENT_TIMEOUT_SECONDS} s).",
    )
    lock_timeout_seconds: int = Field(
        ge=1,
        le=MAX_LOCK_TIMEOUT_SECONDS,
        description=f"lock_timeout (1-{MAX_LOCK_TIMEOUT_SECONDS} s).",
    )
    idle_in_transaction_timeout_seconds: int = Field(
        ge=1,
        le=MAX_IDLE_IN_TRANSACTION_SECONDS,
        description=f"idle_in_transaction_session_timeout (1-{MAX_IDLE_IN_TRANSACTION_SECONDS} s).",
    )
    work_mem_mib: int = Field(
        ge=1, le=MAX_WORK_MEM_MIB, description=f"work_mem (1-{MAX_WORK_MEM_MIB} MiB)."
    )

    @classmethod
    def of_tier(cls, spec: TierSpec) -> DatabaseLimits:
        """The limits ``TIERS`` gives a tier."""
        return cls(
            connection_limit=spec.database_connection_limit,
            statement_timeout_seconds=spec.statement_timeout_seconds,
            lock_timeout_seconds=spec.lock_timeout_seconds,
            idle_in_transaction_timeout_seconds=spec.idle_in_transaction_timeout_seconds,
            work_mem_mib=spec.work_mem_mib,
        )


class TierLimits(SettingsModel):
    """Database limits per tier (defaults: the tier table, components/tenants.py)."""

    starter: DatabaseLimits = Field(description="Limits of a starter tenant's role.")
    standard: DatabaseLimits = Field(description="Limits of a standard tenant's role.")
    enterprise: DatabaseLimits = Field(description="Limits of an enterprise tenant's role.")

    def of(self, tier: Tier) -> DatabaseLimits:
        limits: DatabaseLimits = getattr(self, str(tier))
        return limits


_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class RetiredTenant(SettingsModel):
    """A tenant removed from genericcorp:tenants, and what happens to its data."""

    name: str = Field(description="The retired tenant's name, as it was in genericcorp:tenants.")
    drop_data: bool = Field(
        default=False,
        description="Drop its schema (with every table in it) and its role. Off: both are kept, "
        "the role cannot log in.",
    )
    approved_by: str | None = Field(
        default=None,
        description="Who reviewed dropping the data (required in prod with dropData: true).",
    )

    @field_validator("name")
    @classmethod
    def _dns_label(cls, name: str) -> str:
        if not _DNS_LABEL.match(name):
            raise ValueError("must be a tenant name: lowercase letters, digits or hyphens")
        return name


class TenantDataSettings(SettingsModel):
    """Tenants' data: per-tier database limits and the retired tenants."""

    tier_limits: TierLimits = Field(description="Database limits per tier.")
    offboarding: list[RetiredTenant] = Field(
        description="Tenants removed from genericcorp:tenants: their schema is kept (the role "
        "cannot log in) unless dropData is true, which prod accepts only with approvedBy.",
    )


# --- the SQL ------------------------------------------------------------------------------------


def _quote(identifier: str) -> str:
    """A PostgreSQL identifier, double-quoted (the mapping allows no quote in a name)."""
    if '"' in identifier:
        raise ValueError(f"identifier {identifier!r} holds a double quote")
    return f'"{identifier}"'


def _literal(text: str) -> str:
    if "'" in text:
        raise ValueError(f"literal {text!r} holds a quote")
    return f"'{text}'"


def _role_exists(role: str) -> str:
    return f"EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {_literal(role)})"


def provisioning_sql(identity: TenantIdentity, limits: DatabaseLimits, database: str) -> str:
    """The SQL that gives a tenant its schema and IAM-authenticated role, run by the database's
    administrator (the RDS master user: CREATEROLE, owner of the database and of ``public``).

    Idempotent: running it again changes nothing; it touches only this tenant's objects and
    the shared ``public``/database privileges every tenant's SQL sets alike. The schema belongs
    to the administrator, so the tenant can use it and create in it but cannot grant it to
    anyone; its role cannot create roles, databases or log in with a password.
    """
    role, schema, db = _quote(identity.database_role), _quote(identity.schema), _quote(database)
    return "\n".join(
        (
            f"-- tenant {identity.tenant}: schema and role {identity.schema}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
            f"REVOKE ALL ON DATABASE {db} FROM PUBLIC;",
            "DO $$",
            "BEGIN",
            f"  IF NOT {_role_exists(identity.database_role)} THEN",
            f"    CREATE ROLE {role};",
            "  END IF;",
            "END",
            "$$;",
            # Created NOSUPERUSER, NOREPLICATION and NOBYPASSRLS: only a superuser changes those.
            f"ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD NULL "
            f"CONNECTION LIMIT {limits.connection_limit};"
            f"GRANT {RDS_IAM_ROLE} TO {role};",
            f"ALTER ROLE {role} SET statement_timeout = '{limits.statement_timeout_seconds}s';",
            f"ALTER ROLE {role} SET lock_timeout = '{limits.lock_timeout_seconds}s';",
            f"ALTER ROLE {role} SET idle_in_transaction_session_timeout = "
            f"'{limits.idle_in_transaction_timeout_seconds}s';",
            f"ALTER ROLE {role} SET work_mem = '{limits.work_mem_mib}MB';",
            f"ALTER ROLE {role} SET search_path = {schema};",
            f"CREATE SCHEMA IF NOT EXISTS {schema};",
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;",
            f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role};",
            f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role};",
        )
    )


def retirement_sql(identity: TenantIdentity) -> str:
    """A retired tenant whose data is kept: schema, tables and privileges stay; the role can no
    longer log in (and no longer authenticates through IAM). Idempotent; nothing if the role
    does not exist."""
    role = _quote(identity.database_role)
    return "\n".join(
        (
            f"-- tenant {identity.tenant} retired: schema {identity.schema} and its data kept",
            "DO $$",
            "BEGIN",
            f"  IF {_role_exists(identity.database_role)} THEN",
            f"    ALTER ROLE {role} WITH NOLOGIN CONNECTION LIMIT 0;",
            f"    REVOKE {RDS_IAM_ROLE} FROM {role};",
            "  END IF;",
            "END",
            "$$;",
        )
    )


def drop_sql(identity: TenantIdentity, database: str) -> str:
    """A retired tenant whose data is dropped after review: the schema with everything in it
    (the administrator owns the schema, so it may drop the tenant's tables in it), then the
    role. Idempotent."""
    role, schema, db = _quote(identity.database_role), _quote(identity.schema), _quote(database)
    return "\n".join(
        (
            f"-- tenant {identity.tenant} retired: schema {identity.schema} and role dropped",
            f"DROP SCHEMA IF EXISTS {schema} CASCADE;",
            "DO $$",
            "BEGIN",
            f"  IF {_role_exists(identity.database_role)} THEN",
            f"    REVOKE ALL ON DATABASE {db} FROM {role};",
            f"    DROP ROLE {role};",
            "  END IF;",
            "END",
            "$$;",
        )
    )


def sql_digest(sql: str) -> str:
    """Six hex digits of the SQL's SHA-256: part of its Job's name."""
    return hashlib.sha256(sql.encode()).hexdigest()[:6]


# --- what a stack declares ------------------------------------------------------------------------


class DataAction(StrEnum):
    PROVISION = "provision"
    RETIRE = "retire"
    DROP = "drop"


@dataclass(frozen=True)
class DataJob:
    """One provisioning Job: a tenant, what it does and its SQL."""

    identity: TenantIdentity
    action: DataAction
    sql: str

    @property
    def job_name(self) -> str:
        """``<tenant>-<digest>``: at most 63 characters, new whenever the SQL changes."""
        return f"{self.identity.tenant}-{sql_digest(self.sql)}"


@dataclass(frozen=True)
class TenantDataParts:
    """What ``TenantData`` declares, derived from the settings, the tenants and the stack."""

    settings: TenantDataSettings
    tenants: Sequence[tuple[str, Tier]]
    stack: str
    database: str

    @property
    def identities(self) -> list[TenantIdentity]:
        return [TenantIdentity(name, self.stack) for name, _ in self.tenants]

    @property
    def jobs(self) -> list[DataJob]:
        """A provisioning Job per tenant, a retirement or drop Job per retired tenant."""
        jobs = [
            DataJob(
                TenantIdentity(name, self.stack),
                DataAction.PROVISION,
                provisioning_sql(
                    TenantIdentity(name, self.stack),
                    self.settings.tier_limits.of(tier),
                    self.database,
                ),
            )
            for name, tier in self.tenants
        ]
        for retired in self.settings.offboarding:
            identity = TenantIdentity(retired.name, self.stack)
            jobs.append(
                DataJob(identity, DataAction.DROP, drop_sql(identity, self.database))
                if retired.drop_data
                else DataJob(identity, DataAction.RETIRE, retirement_sql(identity))
            )
        return jobs

    def offboarding_report(self) -> dict[str, dict[str, Any]]:
        """Per retired tenant: what is kept and what is removed (a stack output)."""
        report: dict[str, dict[str, Any]] = {}
        for retired in self.settings.offboarding:
            identity = TenantIdentity(retired.name, self.stack)
            namespace = f"{NAMESPACE_PREFIX}{retired.name}"
            gone = [
                f"cache user {identity.cache_user} (its keys expire with their TTL)",
                f"IAM role of {APP_SERVICE_ACCOUNT} in {namespace}",
                f"Pod Identity association of {APP_SERVICE_ACCOUNT} in {namespace}",
                f"namespace {namespace} and everything in it",
            ]
            if retired.drop_data:
                report[retired.name] = {
                    "kept": [],
                    "removed": [
                        f"schema {identity.schema} with all its data",
                        f"database role {identity.database_role}",
                        *gone,
                    ],
                    "approvedBy": retired.approved_by,
                }
            else:
                report[retired.name] = {
                    "kept": [
                        f"schema {identity.schema} with all its data",
                        f"database role {identity.database_role} (NOLOGIN, no IAM login)",
                    ],
                    "removed": gone,
                    "approvedBy": None,
                }
        return report


def retired_tenants_kept(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``<tenant>: kept <what>`` per retired tenant of an ``offboarding_report``: the preview's
    warning, and what ``infractl tenants diff`` says a removal keeps."""
    return [
        f"{tenant}: kept {', '.join(what['kept']) or 'nothing'}" for tenant, what in report.items()
    ]


def retired_tenants_removed(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``<tenant>: removed <what>`` per retired tenant of an ``offboarding_report``."""
    return [f"{tenant}: removed {', '.join(what['removed'])}" for tenant, what in report.items()]


@dataclass(frozen=True)
class DataPlatform:
    """What the tenants' data lives in, from the components that declare it."""

    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    database_resource_id: pulumi.Input[str]
    database_address: pulumi.Input[str]
    database_port: int
    database_admin: str
    master_secret_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    cache_group_arn: pulumi.Input[str]
    data_subnets: Sequence[str]
    waits_for: Sequence[pulumi.Resource] = ()
    """What the Jobs need running first (the node groups and their add-ons)."""


def _pod_identity_trust(
    context_account: str, cluster_arn: str, namespace: str, account: str
) -> str:
    """Trust of a Pod Identity role: only the EKS Pod Identity service, for this cluster, and
    only for sessions tagged with ``namespace``/``account`` (the tags the agent sets)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    # The session tags the agent sets (EKS user guide, "Create IAM role with
                    # trust policy required by EKS Pod Identity"): this cluster, namespace and
                    # service account only.
                    "Condition": {
                        "StringEquals": {
                            "aws:SourceAccount": context_account,
                            "aws:RequestTag/eks-cluster-arn": cluster_arn,
                            "aws:RequestTag/kubernetes-namespace": namespace,
                            "aws:RequestTag/kubernetes-service-account": account,
                        },
                    },
                }
            ],
        },
        sort_keys=True,
    )


def tenant_policy_statements(
    context_arn: Any, *, resource_id: str, role: str, group_arn: str, user_arn: str
) -> list[dict[str, Any]]:
    """What a tenant's IAM role may do: connect as its own database role and cache user."""
    return [
        {
            "Sid": "ConnectAsOwnDatabaseRole",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": context_arn("rds-db", f"dbuser:{resource_id}/{role}"),
        },
        {
            "Sid": "ConnectAsOwnCacheUser",
            "Effect": "Allow",
            "Action": "elasticache:Connect",
            "Resource": [group_arn, user_arn],
        },
    ]


class TenantData(PlatformComponent):
    """Every tenant's data identity: schema and role (through Jobs), cache user, IAM role.

    Steps: the provisioning namespace, its service account and role; per tenant, the cache
    user, the IAM role of its ``app`` service account and its provisioning Job; per retired
    tenant, its retirement or drop Job.
    """

    TYPE: ClassVar[str] = "genericcorp:data:TenantData"
    COMPONENT: ClassVar[str] = "tenant-data"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "tenants": "Per tenant: schema, databaseRole, cacheUser, cacheKeyPrefix, iamRoleArn.",
        "offboarding": "Per retired tenant: what is kept and what is removed.",
        "provisioningNamespace": "Namespace of the provisioning Jobs (platform-tenant-data).",
    }

    def __init__(
        self,
        name: str,
        parts: TenantDataParts,
        *,
        wiring: Wiring,
        platform: DataPlatform,
        kubernetes: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self._platform = platform
        in_cluster = self.child_opts(provider=kubernetes)
        namespace = self._provisioning_namespace(in_cluster)
        in_namespace = self.child_opts(provider=kubernetes, depends_on=[namespace])
        provisioner = self._provisioner_identity(in_namespace)
        # A Job needs nodes to run on and its credentials in place before it starts.
        before_jobs = self.child_opts(
            provider=kubernetes, depends_on=[namespace, *provisioner, *platform.waits_for]
        )
        tenants = {identity.tenant: self._tenant(identity) for identity in parts.identities}
        for job in parts.jobs:
            self._job(job, parts.database, before_jobs)
        if parts.settings.offboarding:
            pulumi.log.warn(
                "retired tenants: " + "; ".join(retired_tenants_kept(parts.offboarding_report())),
                resource=self,
            )
        self.publish(
            {
                "tenants": tenants,
                "offboarding": parts.offboarding_report(),
                "provisioningNamespace": PROVISIONING_NAMESPACE,
            }
        )

    def _labels(self, **extra: str) -> dict[str, str]:
        return {"genericcorp.com/purpose": "tenant-data", **extra}

    def _provisioning_namespace(self, in_cluster: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
        """The Jobs' namespace: restricted pods; out only to DNS, the Pod Identity agent, the
        database and HTTPS (Secrets Manager's endpoint, through the NAT gateways)."""
        namespace = k8s.core.v1.Namespace(
            f"{self._name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=PROVISIONING_NAMESPACE,
                labels=self._labels(
                    **{
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    }
                ),
            ),
            opts=in_cluster,
        )
        kube_dns = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="default-deny", namespace=PROVISIONING_NAMESPACE, labels=self._labels()
            ),
            spec=cast(
                "k8s.networking.v1.NetworkPolicySpecArgsDict",
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [],
                    "egress": [
                        {
                            "to": [kube_dns],
                            "ports": [
                                {"protocol": "UDP", "port": 53},
                                {"protocol": "TCP", "port": 53},
                            ],
                        },
                        {
                            "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT_CIDR}}],
                            "ports": [{"protocol": "TCP", "port": POD_IDENTITY_AGENT_PORT}],
                        },
                        {
                            "to": [
                                {"ipBlock": {"cidr": cidr}} for cidr in self._platform.data_subnets
                            ],
                            "ports": [{"protocol": "TCP", "port": self._platform.database_port}],
                        },
                        {"ports": [{"protocol": "TCP", "port": 443}]},
                    ],
                },
            ),
            opts=self.child_opts(provider=in_cluster.provider, depends_on=[namespace]),
        )
        return namespace

    def _provisioner_identity(self, in_namespace: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """The Jobs' service account and its role: read the master secret, decrypt it through
        Secrets Manager only."""
        platform, context = self._platform, self.context
        account = k8s.core.v1.ServiceAccount(
            f"{self._name}-provisioner",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=PROVISIONER_SERVICE_ACCOUNT,
                namespace=PROVISIONING_NAMESPACE,
                labels=self._labels(),
            ),
            automount_service_account_token=False,
            opts=in_namespace,
        )
        role = aws.iam.Role(
            f"{self._name}-provisioner-role",
            description="Tenant provisioning Jobs: read the RDS master secret.",
            assume_role_policy=pulumi.Output.from_input(platform.cluster_arn).apply(
                lambda arn: _pod_identity_trust(
                    context.account_id, arn, PROVISIONING_NAMESPACE, PROVISIONER_SERVICE_ACCOUNT
                )
            ),
            tags=self.tags("tenant-provisioner"),
            opts=self.child_opts(),
        )
        policy = aws.iam.RolePolicy(
            f"{self._name}-provisioner-policy",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "ReadMasterSecret",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": platform.master_secret_arn,
                    },
                    {
                        "Sid": "DecryptMasterSecretThroughSecretsManager",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": platform.database_key_arn,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"secretsmanager.{context.region}.amazonaws.com"
                            }
                        },
                    },
                ]
            ),
            opts=self.child_opts(),
        )
        association = aws.eks.PodIdentityAssociation(
            f"{self._name}-provisioner-identity",
            cluster_name=platform.cluster_name,
            namespace=PROVISIONING_NAMESPACE,
            service_account=PROVISIONER_SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=self.tags("tenant-provisioner"),
            opts=self.child_opts(),
        )
        return [account, policy, association]

    def _tenant(self, identity: TenantIdentity) -> dict[str, Any]:
        """The IAM role of the tenant's app (its cache user is the cache's: ``RedisParts``)."""
        platform, context = self._platform, self.context
        tenant = identity.tenant
        namespace = f"{NAMESPACE_PREFIX}{tenant}"
        role = aws.iam.Role(
            f"{self._name}-{tenant}-role",
            description=f"Tenant {tenant}: connect as its database role and cache user only.",
            assume_role_policy=pulumi.Output.from_input(platform.cluster_arn).apply(
                lambda arn: _pod_identity_trust(
                    context.account_id, arn, namespace, APP_SERVICE_ACCOUNT
                )
            ),
            tags=self.tags(f"tenant-{tenant}", Tenant=tenant),
            opts=self.child_opts(),
        )
        # The user's ARN from its id (known before the user exists): the policy names it exactly.
        user_arn = context.arn("elasticache", f"user:{identity.cache_user}")
        # One apply for the whole document: hundreds of tenants each pay for every Output step.
        policy = pulumi.Output.all(platform.database_resource_id, platform.cache_group_arn).apply(
            lambda values: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": tenant_policy_statements(
                        context.arn,
                        resource_id=str(values[0]),
                        role=identity.database_role,
                        group_arn=str(values[1]),
                        user_arn=user_arn,
                    ),
                }
            )
        )
        aws.iam.RolePolicy(
            f"{self._name}-{tenant}-policy", role=role.id, policy=policy, opts=self.child_opts()
        )
        aws.eks.PodIdentityAssociation(
            f"{self._name}-{tenant}-identity",
            cluster_name=platform.cluster_name,
            namespace=namespace,
            service_account=APP_SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=self.tags(f"tenant-{tenant}", Tenant=tenant),
            opts=self.child_opts(),
        )
        return {
            "schema": identity.schema,
            "databaseRole": identity.database_role,
            "cacheUser": identity.cache_user,
            "cacheKeyPrefix": identity.key_prefix,
            "iamRoleArn": role.arn,
        }

    def _job(self, job: DataJob, database: str, in_namespace: pulumi.ResourceOptions) -> None:
        """The Job that runs ``job.sql`` as the administrator: an init container reads the
        master secret into a memory-backed volume, psql runs the SQL in one transaction."""
        platform = self._platform
        secret_mount = k8s.core.v1.VolumeMountArgs(name="master-secret", mount_path="/run/secret")
        labels = self._labels(
            **{"genericcorp.com/tenant": job.identity.tenant, "genericcorp.com/action": job.action}
        )
        k8s.batch.v1.Job(
            f"{self._name}-{job.identity.tenant}-{job.action}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=job.job_name,
                namespace=PROVISIONING_NAMESPACE,
                labels=labels,
                annotations={
                    "genericcorp.com/sql-sha256": hashlib.sha256(job.sql.encode()).hexdigest()
                },
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=JOB_RETRIES,
                active_deadline_seconds=JOB_DEADLINE_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=PROVISIONER_SERVICE_ACCOUNT,
                        restart_policy="Never",
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="master-secret",
                                empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory"),
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()
                            ),
                        ],
                        init_containers=[
                            k8s.core.v1.ContainerArgs(
                                name="read-master-secret",
                                image=AWS_CLI_IMAGE,
                                command=["/bin/sh", "-c"],
                                args=[
                                    "aws secretsmanager get-secret-value --secret-id "
                                    '"$SECRET_ARN" --query SecretString --output text '
                                    "> /run/secret/master.json"
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(
                                        name="SECRET_ARN", value=platform.master_secret_arn
                                    ),
                                    k8s.core.v1.EnvVarArgs(
                                        name="AWS_REGION", value=self.context.region
                                    ),
                                    k8s.core.v1.EnvVarArgs(name="HOME", value="/home/aws"),
                                ],
                                security_context=_restricted(AWS_CLI_UID),
                                volume_mounts=[
                                    secret_mount,
                                    k8s.core.v1.VolumeMountArgs(
                                        name="home", mount_path="/home/aws"
                                    ),
                                ],
                                resources=_job_resources(),
                            )
                        ],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="psql",
                                image=PSQL_IMAGE,
                                command=["/bin/sh", "-c"],
                                args=[PSQL_SCRIPT],
                                env=[
                                    k8s.core.v1.EnvVarArgs(
                                        name="PGHOST", value=platform.database_address
                                    ),
                                    k8s.core.v1.EnvVarArgs(
                                        name="PGPORT", value=str(platform.database_port)
                                    ),
                                    k8s.core.v1.EnvVarArgs(name="PGDATABASE", value=database),
                                    k8s.core.v1.EnvVarArgs(
                                        name="PGUSER", value=platform.database_admin
                                    ),
                                    # The parameter group forces TLS (rds.force_ssl).
                                    k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value="require"),
                                    k8s.core.v1.EnvVarArgs(
                                        name="PGAPPNAME", value=f"tenant-data-{job.action}"
                                    ),
                                    k8s.core.v1.EnvVarArgs(name="TENANT_SQL", value=job.sql),
                                ],
                                security_context=_restricted(PSQL_UID),
                                volume_mounts=[secret_mount],
                                resources=_job_resources(),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                in_namespace,
                pulumi.ResourceOptions(
                    custom_timeouts=pulumi.CustomTimeouts(create="15m", update="15m")
                ),
            ),
        )


#: Reads the master password from the secret's JSON (RDS-managed passwords hold no quote or
#: backslash, so the value needs no unescaping), removes the file, and runs the SQL in one
#: transaction (psql --command sends it as one query string), stopping at the first error.
PSQL_SCRIPT = (
    "set -eu; "
    'PGPASSWORD="$(sed -n \'s/.*"password" *: *"\\([^"]*\\)".*/\\1/p\' /run/secret/master.json)"; '
    "rm -f /run/secret/master.json; "
    'test -n "$PGPASSWORD"; export PGPASSWORD; '
    'exec psql --no-psqlrc --set ON_ERROR_STOP=1 --command "$TENANT_SQL"'
)


def _restricted(uid: int) -> k8s.core.v1.SecurityContextArgs:
    """A container as Pod Security ``restricted`` requires it, running as ``uid``."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=uid,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def _job_resources() -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "256Mi"}
    )


# --- configuration checks -------------------------------------------------------------------

#: Roles that exist on RDS for PostgreSQL (or in every PostgreSQL) and that no tenant may map to.
RESERVED_ROLES = frozenset(
    {"postgres", "public", "rds_iam", "rds_superuser", "rds_replication", "rds_password",
     "rdsadmin", "rdsrepladmin", "rdstopmgr", "rds_ad", "pg_monitor"}
)  # fmt: skip


@dataclass(frozen=True)
class DataProblem:
    """One problem with the tenants' data settings: the key path below ``genericcorp:``."""

    path: str
    value: Any
    message: str


def tenant_data_problems(
    tenants: Sequence[str],
    settings: TenantDataSettings,
    *,
    stack: str,
    is_prod: bool,
    master_username: str,
) -> list[DataProblem]:
    """Names that cannot be mapped, names that map to one schema, role or cache user, a retired
    tenant still configured, and a prod drop nobody approved."""
    problems: list[DataProblem] = []
    claimed: dict[str, str] = {master_username.lower(): "database.masterUsername"}
    claimed |= {role: f"a role RDS reserves ({role})" for role in RESERVED_ROLES}
    claimed_users: dict[str, str] = {}
    named = [(f"tenants[{i}].name", name) for i, name in enumerate(tenants)] + [
        (f"tenantData.offboarding[{i}].name", retired.name)
        for i, retired in enumerate(settings.offboarding)
    ]
    for path, name in named:
        identity = TenantIdentity(name, stack)
        problems += [
            DataProblem(
                path,
                name,
                f"{problem}; tenant names map to schema and role tenant_<name with - as _> and "
                f"to cache user <stack>-tenant-<name>: use a shorter name without '--'",
            )
            for problem in identity.problems()
        ]
        other = claimed.get(identity.schema) or claimed_users.get(identity.cache_user)
        if other is not None:
            problems.append(
                DataProblem(
                    path,
                    name,
                    f"maps to schema/role {identity.schema} and cache user {identity.cache_user}, "
                    f"already taken by {other}; each tenant needs names of its own",
                )
            )
        claimed.setdefault(identity.schema, path)
        claimed_users.setdefault(identity.cache_user, path)
    for index, retired in enumerate(settings.offboarding):
        path = f"tenantData.offboarding[{index}]"
        if retired.drop_data and is_prod and not (retired.approved_by or "").strip():
            problems.append(
                DataProblem(
                    f"{path}.dropData",
                    True,
                    f"dropping tenant {retired.name}'s schema {schema_name_of(retired.name)} and "
                    "its data needs a review in prod: set approvedBy to who approved it, or "
                    "dropData: false to keep the schema and data (the role cannot log in)",
                )
            )
    return problems


def schema_name_of(tenant: str) -> str:
    return TenantIdentity(tenant, "").schema


# Defaults per environment and prod rules

TENANT_DATA_DEFAULTS = ByEnvironment.same(
    TenantDataSettings(
        tier_limits=TierLimits(
            starter=DatabaseLimits.of_tier(TIERS[Tier.STARTER]),
            standard=DatabaseLimits.of_tier(TIERS[Tier.STANDARD]),
            enterprise=DatabaseLimits.of_tier(TIERS[Tier.ENTERPRISE]),
        ),
        offboarding=[],
    )
)
