"""Tenants' data: each tenant's workload identity reaches its own database role and cache user
only, and the cache has no AUTH token that tenants would share.

A tenant's identity is an ``aws.eks.PodIdentityAssociation`` in its namespace ``tenant-<name>``,
whose role's inline policies (``aws.iam.RolePolicy``) may allow ``rds-db:connect`` on the
``dbuser`` ``tenant_<name with - as _>`` and ``elasticache:Connect`` on replication groups and the
cache user ``<stack>-tenant-<name>``, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    StackRule,
    Unknown,
    get,
    items,
    peek,
)

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TENANT_NAMESPACE_PREFIX = "tenant-"


def _no_shared_token(props: Props, _: Config) -> Iterator[str]:
    if get(props, "authToken"):
        yield "the cache has an AUTH token, which every client would share; use userGroupIds"
    if not items(get(props, "userGroupIds")):
        yield "the cache has no RBAC user group (userGroupIds): tenants cannot have own users"


def _known(value: Any) -> Any:
    if isinstance(value, Unknown):
        raise value.error
    return value


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def grant_problems(tenant: str, document: Mapping[str, Any]) -> list[str]:
    """What ``document`` allows beyond tenant ``tenant``'s own database user and cache user."""
    role = "tenant_" + tenant.replace("-", "_")
    problems = []
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, Mapping):
            problems.append("a statement is not an object")
            continue
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append("a statement uses NotAction or NotResource")
            continue
        resources = [str(r) for r in _as_list(statement.get("Resource", []))]
        for action in (str(a) for a in _as_list(statement.get("Action", []))):
            if action == "rds-db:connect":
                problems += [
                    f"rds-db:connect on {r}, not the dbuser {role}"
                    for r in resources
                    if not (":dbuser:" in r and r.endswith(f"/{role}"))
                ]
            elif action == "elasticache:Connect":
                problems += [
                    f"elasticache:Connect on {r}, not a replication group or the user of {tenant}"
                    for r in resources
                    if ":replicationgroup:" not in r
                    and not (":user:" in r and r.endswith(f"-tenant-{tenant}"))
                ]
            else:
                problems.append(f"allows {action}")
    return problems


def _scoped_identities(
    associations: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    roles = {str(_known(peek(r.props, "arn"))): r for r in everything if r.type == ROLE}
    policies: dict[str, list[Resource]] = {}
    for resource in everything:
        if resource.type == ROLE_POLICY:
            policies.setdefault(str(_known(peek(resource.props, "role"))), []).append(resource)
    for association in associations:
        namespace = str(_known(peek(association.props, "namespace")))
        if not namespace.startswith(TENANT_NAMESPACE_PREFIX):
            continue
        tenant = namespace.removeprefix(TENANT_NAMESPACE_PREFIX)
        role = roles.get(str(_known(peek(association.props, "roleArn"))))
        if role is None:
            yield (
                f"{namespace}: the association's role is not declared in the stack",
                association.urn,
            )
            continue
        role_id = str(_known(peek(role.props, "id")))
        documents = [
            json.loads(str(_known(peek(policy.props, "policy"))))
            for policy in policies.get(role_id, [])
        ]
        if not documents:
            yield (f"{namespace}: role {role.name} has no policy of its own", association.urn)
        for document in documents:
            for problem in grant_problems(tenant, document):
                yield (f"{namespace}: role {role.name} {problem}", association.urn)


RULES = (
    Rule(
        name="cache-no-shared-auth-token",
        control="",
        description="The cache has no AUTH token shared by tenants: clients log in as their own "
        "RBAC users (userGroupIds).",
        types=(REPLICATION_GROUP,),
        check=_no_shared_token,
        reads=("authToken", "userGroupIds"),
    ),
)

STACK_RULES = (
    StackRule(
        name="tenant-identity-scoped",
        control="",
        description="Each tenant namespace's service account maps (EKS Pod Identity) to a role "
        "that may connect only as that tenant's database user and cache user.",
        subjects=(POD_IDENTITY,),
        check=_scoped_identities,
    ),
)
