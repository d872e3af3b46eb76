"""Rules that compare one setting with another, checked once every setting is valid on its own.

Each problem names the exact key path (``genericcorp:dns.records[2].name``), like the model's own
errors, so a stack file is fixed in one pass.
"""

from __future__ import annotations

from components.dns_zone import in_zone, is_subdomain, valid_delegations, zone_problems
from components.network import SubnetTier, plan_subnets
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
    return problems + ci_problems(config)


def ci_problems(config: StackConfig) -> list[ConfigProblem]:
    """The runner's subnets must be the stack's private subnets (the only ones with a route to
    the cluster endpoint and NAT egress, and no public address); a CI role may not also be in
    cluster.accessEntries (EKS refuses a second entry for one principal)."""
    problems: list[ConfigProblem] = []
    network = config.network
    private = [
        str(block)
        for block in plan_subnets(network.cidr, network.az_count, network.subnet_prefix_lengths)[
            SubnetTier.PRIVATE
        ]
    ]
    for index, cidr in enumerate(config.ci.runner.subnet_cidrs or []):
        if cidr not in private:
            problems.append(
                ConfigProblem(
                    path=f"{PROJECT}:ci.runner.subnetCidrs[{index}]",
                    value=cidr,
                    message="is not one of the stack's private subnets; allowed: "
                    + ", ".join(private),
                )
            )
    admins = {entry.principal_arn for entry in config.cluster.access_entries}
    for key, arn in (
        ("deployRoleArn", config.ci.deploy_role_arn),
        ("previewRoleArn", config.ci.preview_role_arn),
    ):
        if arn is not None and arn in admins:
            problems.append(
                ConfigProblem(
                    path=f"{PROJECT}:ci.{key}",
                    value=arn,
                    message="is also in genericcorp:cluster.accessEntries: EKS allows one access "
                    "entry per principal; keep it here (it gets cluster-admin) and remove it there",
                )
            )
    return problems
