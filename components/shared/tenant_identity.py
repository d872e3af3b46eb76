"""How a tenant's name becomes the names of its data: schema, database role, cache user, keys.

One mapping, used by the program (the resources and the provisioning SQL), the tenant's
``platform-endpoints`` ConfigMap, the configuration checks and the real-server tests:

- schema and database role: ``tenant_<name>`` with every ``-`` replaced by ``_`` (``acme-eu`` ->
  ``tenant_acme_eu``): a PostgreSQL identifier that needs no quoting, at most 63 bytes (longer
  names would be truncated silently by PostgreSQL, so they are refused);
- cache user (its id and its user name, which IAM authentication requires to be equal):
  ``<stack>-tenant-<name>`` (``dev-tenant-acme``): ElastiCache user ids are unique per account and
  region, so the stack is part of them; at most 40 characters, letters, digits and single
  hyphens, starting with a letter and not ending with a hyphen;
- cache keys and channels: ``<name>:`` followed by anything (``acme:orders:42``); the colon ends
  the prefix, so ``acme:*`` never matches ``acme-eu:...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA_PREFIX = "tenant_"
#: PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes.
MAX_POSTGRES_IDENTIFIER = 63
#: ElastiCache user ids and user names (CreateUser).
MAX_CACHE_USER_ID = 40
_POSTGRES_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_CACHE_USER_ID = re.compile(r"^[a-zA-Z](?:-?[a-zA-Z0-9])*$")


def schema_name(tenant: str) -> str:
    """``acme-eu`` -> ``tenant_acme_eu``: the tenant's schema, and its database role."""
    return SCHEMA_PREFIX + tenant.replace("-", "_")


def cache_user_id(tenant: str, stack: str) -> str:
    """``acme`` in stack ``dev`` -> ``dev-tenant-acme``: id and user name of its cache user."""
    return f"{stack}-tenant-{tenant}"


def key_prefix(tenant: str) -> str:
    """``acme`` -> ``acme:``: what every key and channel of the tenant starts with."""
    return f"{tenant}:"


def postgres_identifier_problem(identifier: str) -> str | None:
    """Why ``identifier`` cannot be an unquoted PostgreSQL identifier, or None."""
    if len(identifier.encode()) > MAX_POSTGRES_IDENTIFIER:
        return (
            f"{identifier!r} is {len(identifier.encode())} bytes; PostgreSQL identifiers hold at "
            f"most {MAX_POSTGRES_IDENTIFIER} (longer ones are truncated)"
        )
    if not _POSTGRES_IDENTIFIER.match(identifier):
        return f"{identifier!r} is not a lowercase PostgreSQL identifier (a-z, 0-9, _)"
    return None


def cache_user_problem(user_id: str) -> str | None:
    """Why ``user_id`` cannot be an ElastiCache user id, or None."""
    if len(user_id) > MAX_CACHE_USER_ID:
        return (
            f"{user_id!r} is {len(user_id)} characters; ElastiCache user ids hold at most "
            f"{MAX_CACHE_USER_ID}"
        )
    if not _CACHE_USER_ID.match(user_id):
        return (
            f"{user_id!r} is not an ElastiCache user id (letters, digits and single hyphens, "
            "starting with a letter, not ending with a hyphen)"
        )
    return None


@dataclass(frozen=True)
class TenantIdentity:
    """The names of one tenant's data in one stack."""

    tenant: str
    stack: str

    @property
    def schema(self) -> str:
        return schema_name(self.tenant)

    @property
    def database_role(self) -> str:
        """The login role: named as its schema, so a DBA reads one name for both."""
        return schema_name(self.tenant)

    @property
    def cache_user(self) -> str:
        return cache_user_id(self.tenant, self.stack)

    @property
    def key_prefix(self) -> str:
        return key_prefix(self.tenant)

    def problems(self) -> list[str]:
        """Why this tenant's name cannot be mapped (empty when it can)."""
        found = [postgres_identifier_problem(self.schema), cache_user_problem(self.cache_user)]
        return [problem for problem in found if problem]

    def config_map_keys(self) -> dict[str, str]:
        """What the tenant's app reads to connect as itself (names only, never a secret)."""
        return {
            "DATABASE_SCHEMA": self.schema,
            "DATABASE_USER": self.database_role,
            "CACHE_USER": self.cache_user,
            "CACHE_KEY_PREFIX": self.key_prefix,
        }
