"""Rules that compare one setting with another, checked once every setting is valid on its own.

Each problem names the exact key path (``genericcorp:dns.records[2].name``), like the model's own
errors, so a stack file is fixed in one pass.
"""

from __future__ import annotations

from components.base import Environment
from components.cost import CostError, load_catalog, unknown_usage
from components.dns_zone import (
    VERCEL_TARGETS,
    in_zone,
    is_subdomain,
    valid_delegations,
    zone_problems,
)
from components.ingress import tenant_hostname
from components.network import SubnetTier, plan_subnets
from components.tenant_data import tenant_data_problems
from components.vercel import vercel_domains
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
    problems += check_ingress(config)
    problems += check_vercel(config)
    problems += ci_problems(config)
    return problems


def check_ingress(config: StackConfig) -> list[ConfigProblem]:
    """The apps domain against the zone, and tenants' hostnames against every name the stack
    manages: a tenant's hostname is written by external-dns, and must not take a name the zone
    already answers for (the apex, www, demo, the CDN, a delegation)."""
    problems: list[ConfigProblem] = []
    zone = config.dns.zone_name
    apps_domain = config.ingress.apps_domain
    apps_path = f"{PROJECT}:ingress.appsDomain"
    if not is_subdomain(apps_domain, zone):
        problems.append(
            ConfigProblem(
                path=apps_path,
                value=apps_domain,
                message=(
                    f"must be a subdomain of the stack's DNS zone {zone} (genericcorp:dns."
                    "zoneName): its certificate is validated and the tenants' records written "
                    "there"
                ),
            )
        )
        return problems
    delegated = [d for d in valid_delegations(config.dns) if in_zone(apps_domain, d)]
    if delegated:
        problems.append(
            ConfigProblem(
                path=apps_path,
                value=apps_domain,
                message=f"inside the delegated subdomain {delegated[0]}: the stack's zone "
                "cannot hold its records; use a name outside it",
            )
        )
    if config.cdn.domain == apps_domain:
        problems.append(
            ConfigProblem(
                path=apps_path,
                value=apps_domain,
                message="is the CDN's domain (genericcorp:cdn.domain); pick another name",
            )
        )
    if apps_domain in {record.name for record in config.dns.records}:
        problems.append(
            ConfigProblem(
                path=apps_path,
                value=apps_domain,
                message="genericcorp:dns.records already has records at this name; the apps "
                "domain's own CAA record (Amazon's wildcard certificate) goes there",
            )
        )
    managed = managed_names(config)
    for index, tenant in enumerate(config.tenants):
        hostname = tenant_hostname(tenant.name, apps_domain)
        if hostname in managed:
            problems.append(
                ConfigProblem(
                    path=f"{PROJECT}:tenants[{index}].name",
                    value=tenant.name,
                    message=f"its hostname {hostname} is already {managed[hostname]}; choose "
                    "another tenant name (or another genericcorp:ingress.appsDomain)",
                )
            )
    return problems


def managed_names(config: StackConfig) -> dict[str, str]:
    """Every name the stack's zone answers for besides the tenants', and what holds it."""
    names = {config.dns.zone_name: "the zone's apex"}
    for record in config.dns.records:
        names.setdefault(record.name, f"a {record.type} record in genericcorp:dns.records")
    for delegation in config.dns.delegations:
        names.setdefault(delegation.name, "a delegated subdomain (genericcorp:dns.delegations)")
    names[config.cdn.domain] = "the CDN's domain (genericcorp:cdn.domain)"
    names[config.ingress.apps_domain] = "the apps domain itself (its CAA record)"
    for domain in vercel_domains(config.vercel):
        names.setdefault(domain, "a Vercel domain (genericcorp:vercel)")
    return names


def check_vercel(config: StackConfig) -> list[ConfigProblem]:
    """A configured project needs the token, the token must be secret, and each domain must be
    in the zone with records that send it to Vercel."""
    problems: list[ConfigProblem] = []
    token_key = f"{PROJECT}:vercelApiToken"
    if config.vercel_api_token is not None and not config.is_secret(token_key):
        problems.append(
            ConfigProblem(
                path=token_key,
                value=config.vercel_api_token,
                secret=True,
                message="a token must be stored encrypted: set it with `pulumi config set "
                f"--secret {token_key} <token>` (and revoke this one, which the stack file "
                "held in plain text)",
            )
        )
    if config.vercel.projects and config.vercel_api_token is None:
        problems.append(
            ConfigProblem(
                path=token_key,
                message="required when genericcorp:vercel.projects lists a project: set it with "
                f"`pulumi config set --secret {token_key} <token>`",
            )
        )
    zone = config.dns.zone_name
    vercel_names = {
        record.name
        for record in config.dns.records
        if any(value.rstrip(".") in VERCEL_TARGETS for value in record.values)
    }
    for p_index, project in enumerate(config.vercel.projects):
        for d_index, domain in enumerate(project.domains):
            path = f"{PROJECT}:vercel.projects[{p_index}].domains[{d_index}]"
            if not in_zone(domain, zone):
                problems.append(
                    ConfigProblem(path=path, value=domain, message=f"outside the zone {zone}")
                )
            elif domain not in vercel_names:
                problems.append(
                    ConfigProblem(
                        path=path,
                        value=domain,
                        message="no record in genericcorp:dns.records sends it to Vercel ("
                        + ", ".join(sorted(VERCEL_TARGETS))
                        + "): Vercel would hold a domain nobody reaches",
                    )
                )
    return problems


def check_cost_inputs(config: StackConfig) -> list[ConfigProblem]:
    """Problems that would make the estimate or the capacity model dishonest: an unknown usage
    figure in prod (its line would drop out of the total the budget guards), a purchase option
    the region's catalog has no price for, and configured tenants the stack cannot hold."""
    # Imported here: the capacity model reads the platform's charts, which import the config.
    from infra.tenant_capacity import capacity_problems  # noqa: PLC0415

    problems: list[ConfigProblem] = []
    if config.environment is Environment.PROD:
        problems += [
            ConfigProblem(
                path=f"{PROJECT}:usage.{key}",
                value=None,
                message=(
                    f"unknown in prod ({description.rstrip('.')}): give a figure (0 if there "
                    "is none); an unknown figure would leave its line out of the total the "
                    "budget guards"
                ),
            )
            for key, description in unknown_usage(config.usage)
        ]
    options = config.cost_model.purchase_options
    try:
        catalog = load_catalog(config.region, config.cost_model.price_fallback_region)
    except CostError:
        catalog = None  # the estimate reports the missing catalog itself
    if catalog is not None:
        factors = {factor.key for factor in catalog.factors}
        for service, key in options.factor_keys().items():
            if key not in factors:
                offered = sorted(
                    f.key.rsplit(".", 1)[1]
                    for f in catalog.factors
                    if f.key.startswith(f"purchase.{service}.")
                )
                problems.append(
                    ConfigProblem(
                        path=f"{PROJECT}:costModel.purchaseOptions.{service}",
                        value=getattr(options, service),
                        message=(
                            f"price catalog {catalog.region} (pricing/catalog-{catalog.region}"
                            f".yaml) has no factor {key!r}: allowed here are on-demand"
                            + "".join(f", {o}" for o in offered)
                            + "; add the factor with its source to price the commitment"
                        ),
                    )
                )
    problems += [
        ConfigProblem(path=f"{PROJECT}:{path}", value=value, message=message)
        for path, value, message in capacity_problems(config)
    ]
    return problems


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
