"""``infractl tenants diff BASE HEAD``: tenants a change removes, and what happens to their data.

The program itself sees only the stack file it deploys, so it cannot tell a tenant deleted from
``genericcorp:tenants`` from one never added. This command compares the base branch's stack
file with the head's. Per tenant in the base's ``genericcorp:tenants`` and not in the head's:

- listed in the head's ``genericcorp:tenantData.offboarding``: what is kept and removed, in the
  words of the plan's own offboarding report (``TenantDataParts.offboarding_report``);
- not listed, in prod: refused (exit status 2), naming the head stack file, the key, the tenant,
  what retiring it would keep and the entry to add. Prod never retires or drops a tenant's data
  implicitly; without this, only the namespace's ``protect`` would stop the deploy, with
  Pulumi's generic message;
- not listed, in dev: a warning (dev may drop data without review).

Both files are read as written (``secure:`` values masked), without AWS or the pulumi CLI. The
head is validated as the plan validates it; of the base only the tenant names are read, so a
base written for an older configuration schema still compares.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from components.base import Environment
from components.tenant_data import (
    RetiredTenant,
    TenantDataParts,
    retired_tenants_kept,
    retired_tenants_removed,
)
from components.tenants import TENANT_DEFAULTS
from infra.config import ConfigError
from infra.config.loader import parse_stack_config
from infra.config.stack import PROJECT
from infractl.commands import fail
from infractl.offline.stackfile import StackFile, StackFileError, read_stack_file_at

TENANTS_KEY = f"{PROJECT}:tenants"
OFFBOARDING_KEY = f"{PROJECT}:tenantData.offboarding"
ENVIRONMENT_KEY = f"{PROJECT}:environment"

app = typer.Typer(help="Tenants a change removes, and what happens to their data.")


@app.callback()
def tenants() -> None:
    """Tenants a change removes, and what happens to their data."""


class TenantsDiffError(Exception):
    """A stack file that cannot be compared."""


@dataclass(frozen=True)
class RemovedTenant:
    """A tenant of the base's ``genericcorp:tenants`` that the head no longer configures."""

    name: str
    report: Mapping[str, Any]
    """Its entry of the head's offboarding report (as if ``dropData: false`` when unlisted)."""
    listed: bool
    """Whether the head lists it in ``genericcorp:tenantData.offboarding``."""

    @property
    def decision(self) -> str:
        """The offboarding entry's choice, as written in the stack file."""
        if self.report["kept"]:
            return "dropData: false"
        approved = self.report.get("approvedBy")
        return f"dropData: true, approvedBy: {approved}" if approved else "dropData: true"

    @property
    def kept(self) -> str:
        [line] = retired_tenants_kept({self.name: self.report})
        return line

    @property
    def removed(self) -> str:
        [line] = retired_tenants_removed({self.name: self.report})
        return line


@dataclass(frozen=True)
class TenantsDiff:
    head_file: Path
    stack: str
    environment: Environment
    removed: Sequence[RemovedTenant]

    @property
    def unlisted(self) -> list[RemovedTenant]:
        return [tenant for tenant in self.removed if not tenant.listed]

    @property
    def refused(self) -> bool:
        """Prod refuses a removal the head does not list in the offboarding list."""
        return self.environment is Environment.PROD and bool(self.unlisted)


def base_tenant_names(stack_file: StackFile) -> list[str]:
    """The names in a stack file's ``genericcorp:tenants`` (its environment's defaults when the
    key is left out), without validating anything else."""
    if TENANTS_KEY not in stack_file.values:
        try:
            environment = Environment(stack_file.values.get(ENVIRONMENT_KEY))
        except ValueError:
            return []
        return [tenant.name for tenant in TENANT_DEFAULTS.of(environment)]
    raw = stack_file.values[TENANTS_KEY] or []
    if not isinstance(raw, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) for item in raw
    ):
        raise TenantsDiffError(
            f"{stack_file.path}: {TENANTS_KEY} must be a list of {{name, tier}} items"
        )
    return [str(item["name"]) for item in raw]


def compare(base_path: Path, head_path: Path) -> TenantsDiff:
    """The tenants ``head_path`` removes against ``base_path``, each with what happens to it."""
    base = read_stack_file_at(base_path)
    head = read_stack_file_at(head_path)
    if base.stack != head.stack:
        raise TenantsDiffError(
            f"{base_path} and {head_path} are stack files of different stacks "
            f"({base.stack} and {head.stack})"
        )
    config = parse_stack_config(head.stack, head.values, head.secret_keys)
    configured = {tenant.name for tenant in config.tenants}
    listed = {retired.name for retired in config.tenant_data.offboarding}
    gone = [name for name in base_tenant_names(base) if name not in configured]
    # Unlisted tenants are reported as the entry the error asks for would retire them.
    settings = config.tenant_data.model_copy(
        update={
            "offboarding": [
                *config.tenant_data.offboarding,
                *(RetiredTenant(name=name) for name in gone if name not in listed),
            ]
        }
    )
    report = TenantDataParts(
        settings,
        [(tenant.name, tenant.tier) for tenant in config.tenants],
        stack=config.stack,
        database=config.database.database_name,
    ).offboarding_report()
    return TenantsDiff(
        head_file=head_path,
        stack=head.stack,
        environment=config.environment,
        removed=[RemovedTenant(name, report[name], name in listed) for name in gone],
    )


def render(diff: TenantsDiff) -> str:
    """What each removal does: retirements, dev's warnings; prod's refusals are ``refusal``'s."""
    if not diff.removed:
        return f"{diff.head_file}: no tenant removed from {TENANTS_KEY}.\n"
    lines = [f"{diff.head_file}: tenants removed from {TENANTS_KEY}:"]
    for tenant in diff.removed:
        if tenant.listed:
            lines.append(f"- {tenant.name}: retired in {OFFBOARDING_KEY} ({tenant.decision})")
            if diff.environment is Environment.PROD:
                lines.append(
                    "    its namespace is protected in prod: unprotect it on purpose "
                    "(pulumi state unprotect) before pulumi up"
                )
        elif diff.environment is Environment.PROD:
            lines.append(f"- {tenant.name}: REFUSED, not in {OFFBOARDING_KEY} (see the error)")
            continue
        else:
            lines.append(
                f"- {tenant.name}: warning: not in {OFFBOARDING_KEY}. Its namespace, IAM role, "
                "Pod Identity association and cache user are deleted, and no Job retires or "
                "drops its data: its schema stays and its role keeps LOGIN. Dev may drop without "
                f"review: list it with dropData: true to drop, or dropData: false to keep "
                "the data with a role that cannot log in, which would be:"
            )
        lines += [f"    {tenant.kept}", f"    {tenant.removed}"]
    return "\n".join(lines) + "\n"


def refusal(diff: TenantsDiff) -> str:
    """The error for prod tenants removed without an offboarding entry."""
    names = [tenant.name for tenant in diff.unlisted]
    lines = [
        f"{diff.head_file}: {TENANTS_KEY}: prod tenant(s) {', '.join(names)} removed without "
        f"an entry in {OFFBOARDING_KEY}; prod retires or drops a tenant's data only when told "
        "to (its namespace is protected, so the deploy would fail). Retired, each would be:"
    ]
    for tenant in diff.unlisted:
        lines += [f"  {tenant.kept}", f"  {tenant.removed}"]
    lines.append(f"Add to {diff.head_file}, to keep the schema and data:")
    lines += [f"  {OFFBOARDING_KEY}: - {{name: {name}, dropData: false}}" for name in names]
    lines.append(
        "(dropData: true with approvedBy: <who reviewed it> drops the schema and its data.)"
    )
    return "\n".join(lines)


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="The base branch's Pulumi.<stack>.yaml.")],
    head: Annotated[Path, typer.Argument(help="The change's Pulumi.<stack>.yaml.")],
) -> None:
    """Tenants removed from genericcorp:tenants: retired, warned (dev) or refused (prod)."""
    try:
        result = compare(base, head)
    except (StackFileError, TenantsDiffError, ConfigError) as error:
        raise fail(str(error)) from None
    sys.stdout.write(render(result))
    sys.stdout.flush()
    if result.refused:
        raise fail(refusal(result))
