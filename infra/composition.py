"""The stack's composition: which components it has, and each one's parts, from config alone.

``StackParts.of(config)`` is the one place that says what a stack is made of. The program
declares each component from its parts here (``infra/program.py``), and the estimate prices the
very same parts before anything is declared (``infra/cost.py``): a component cannot be declared
without being priced, or priced differently from what is declared.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.alerts import AlertsParts
from components.budget import BudgetParts
from components.cdn import CdnParts
from components.ci_runner import CiRunnerParts
from components.cost import CostLine, PriceCatalog, UsageSettings, external_lines
from components.dns_zone import DnsZoneParts
from components.eks_compute import EksComputeParts
from components.ingress import IngressParts
from components.kubernetes_platform import KubernetesPlatformParts
from components.network import NetworkParts
from components.postgres import PostgresParts
from components.redis import RedisParts
from components.tenant_data import tenant_cache_users
from components.uptime import UptimeParts
from components.vercel import VercelParts
from infra.config import StackConfig


@dataclass(frozen=True)
class StackParts:
    """Every component of a stack as the parts it declares, in the order the program builds
    them. Tenants are not here: they cost nothing by existing (their pods use the nodes)."""

    config: StackConfig
    alerts: AlertsParts
    network: NetworkParts
    budget: BudgetParts
    dns: DnsZoneParts
    cdn: CdnParts
    uptime: UptimeParts
    compute: EksComputeParts
    database: PostgresParts
    cache: RedisParts
    platform: KubernetesPlatformParts
    ingress: IngressParts
    vercel: VercelParts
    ci: CiRunnerParts

    @classmethod
    def of(cls, config: StackConfig) -> StackParts:
        """The parts ``config`` declares."""
        return cls(
            config=config,
            alerts=AlertsParts(config.alerts, region=config.region),
            network=NetworkParts(config.network),
            budget=BudgetParts(config.budget),
            dns=DnsZoneParts(config.dns),
            cdn=CdnParts(config.cdn),
            uptime=UptimeParts(
                config.uptime,
                # Delegated by another stack's zone (dev's by prod's): see docs/dns.md.
                zone_awaiting_delegation=(
                    config.dns.zone_name if config.dns.parent_zone is not None else None
                ),
            ),
            compute=EksComputeParts(config.cluster),
            database=PostgresParts(config.database),
            cache=RedisParts(
                config.cache,
                tenant_users=tenant_cache_users(
                    [tenant.name for tenant in config.tenants], config.stack
                ),
            ),
            platform=KubernetesPlatformParts(config.platform),
            ingress=IngressParts(
                config.ingress, tenants=tuple(tenant.name for tenant in config.tenants)
            ),
            vercel=VercelParts(config.vercel),
            ci=CiRunnerParts(config.ci),
        )

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """The monthly cost of every part, then of the external services the stack pays for."""
        model = self.config.cost_model
        return [
            *self.alerts.cost_lines(catalog),
            *self.network.cost_lines(catalog, usage),
            *self.database.cost_lines(catalog, usage),
            *self.cache.cost_lines(catalog),
            *self.dns.cost_lines(catalog, usage),
            *self.cdn.cost_lines(catalog, usage),
            *self.uptime.cost_lines(catalog),
            *self.compute.cost_lines(
                catalog, usage, spot_discount_percent=model.spot_discount_percent
            ),
            *self.platform.cost_lines(
                catalog, usage, availability_zones=self.config.network.az_count
            ),
            *self.ingress.cost_lines(catalog, usage),
            *self.vercel.cost_lines(),
            *self.budget.cost_lines(catalog),
            *self.ci.cost_lines(catalog),
            *external_lines(model),
        ]
