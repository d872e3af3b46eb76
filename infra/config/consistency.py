"""Rules that compare one setting with another, checked once every setting is valid on its own.

Each problem names the exact key path (``genericcorp:dns.records[2].name``), like the model's own
errors, so a stack file is fixed in one pass.
"""

from __future__ import annotations

from components.dns_zone import in_zone, is_subdomain, valid_delegations, zone_problems
from components.tenant_data import tenant_data_problems
from infra.config.errors import ConfigProblem
from infra.config.stack import PROJECT, StackConfig


def check_consistency(config: StackConfig) -> list[ConfigProblem]:
    """Problems between settings (records against their zone, the CDN domain against the zone)."""
    problems: list[ConfigProblem] = []
    zone = config.dns.zone_name
    cdn_domain = config.cdn.domain
    if not is_subdomain(cdn_domain, zone):
        problems.append(
            ConfigProblem(
                path=f"{PROJECT}:cdn.domain",
                value=cdn_domain,
                message=(
                    f"must be a subdomain of the stack's DNS zone {zone} (genericcorp:dns."
                    "zoneName): its certificate is validated and its alias created there"
                ),
            )
        )
    delegated = [d for d in valid_delegations(config.dns) if in_zone(cdn_domain, d)]
    if delegated:
        problems.append(
            ConfigProblem(
                path=f"{PROJECT}:cdn.domain",
                value=cdn_domain,
                message=(
                    f"inside the delegated subdomain {delegated[0]}: the stack's zone cannot "
                    "hold its alias and certificate records; use a name outside it"
                ),
            )
        )
    problems += [
        ConfigProblem(
            path=f"{PROJECT}:dns.{problem.path}",
            value=problem.value,
            message=problem.message,
            secret=config.is_secret(f"{PROJECT}:dns"),
        )
        for problem in zone_problems(config.dns, reserved=[cdn_domain])
    ]
    problems += [
        ConfigProblem(
            path=f"{PROJECT}:{problem.path}", value=problem.value, message=problem.message
        )
        for problem in tenant_data_problems(
            [tenant.name for tenant in config.tenants],
            config.tenant_data,
            stack=config.stack,
            is_prod=config.environment == "prod",
            master_username=config.database.master_username,
        )
    ]
    return problems
