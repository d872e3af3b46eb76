"""VercelDomains: the landing page's and the demo's domains attached to their Vercel projects.

The zone's records send ``demo``, the apex and ``www`` to Vercel (components/dns_zone.py), but
Vercel serves a name only once it is attached to a project. With projects configured
(``genericcorp:vercel.projects``), this component declares, through the pulumiverse-vercel
provider:
- one ``vercel.Provider`` whose API token is the secret config value ``genericcorp:
  vercelApiToken`` (kept secret in state; never in outputs, errors or logs);
- one ``vercel.ProjectDomain`` per configured domain.

Without projects nothing is declared and the stack keeps writing the DNS records alone. A
project configured without a token is a config error, as is a token given in plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

import pulumi
import pulumiverse_vercel as vercel
from pydantic import AfterValidator, Field, field_validator

from components.base import ByEnvironment, PlatformComponent, SettingsModel
from components.cost import CostLine
from components.dns_zone import check_hostname
from components.shared.wiring import Wiring

_PROJECT_ID = re.compile(r"^prj_[A-Za-z0-9]{10,64}$")
_TEAM_ID = re.compile(r"^team_[A-Za-z0-9]{10,64}$")


class VercelProject(SettingsModel):
    """One Vercel project and the domains it serves."""

    project_id: str = Field(
        description="The project's id (prj_..., Project Settings > General in Vercel)."
    )
    domains: list[str] = Field(
        min_length=1,
        description="Domains inside the stack's zone to attach, e.g. demo.genericcorp.com; "
        "each must have records pointing at Vercel in genericcorp:dns.records.",
    )

    @field_validator("project_id")
    @classmethod
    def _project_id(cls, project_id: str) -> str:
        if not _PROJECT_ID.match(project_id):
            raise ValueError("not a Vercel project id (prj_ followed by letters and digits)")
        return project_id

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        checked = [check_hostname(domain) for domain in domains]
        if len(set(checked)) != len(checked):
            raise ValueError("each domain may appear once")
        return checked


def _unique_domains(projects: list[VercelProject]) -> list[VercelProject]:
    domains = [domain for project in projects for domain in project.domains]
    repeated = sorted({domain for domain in domains if domains.count(domain) > 1})
    if repeated:
        raise ValueError(f"a domain belongs to one project; repeated: {', '.join(repeated)}")
    return projects


class VercelSettings(SettingsModel):
    """Vercel projects whose domains the stack attaches (the token is genericcorp:vercelApiToken,
    a secret)."""

    team_id: str | None = Field(
        description="The Vercel team owning the projects (team_...), or null for a personal "
        "account."
    )
    projects: Annotated[list[VercelProject], AfterValidator(_unique_domains)] = Field(
        description="Projects and their domains; empty to write the DNS records only."
    )

    @field_validator("team_id")
    @classmethod
    def _team_id(cls, team_id: str | None) -> str | None:
        if team_id is not None and not _TEAM_ID.match(team_id):
            raise ValueError("not a Vercel team id (team_ followed by letters and digits)")
        return team_id


@dataclass(frozen=True)
class VercelParts:
    """What ``VercelDomains`` declares: one project domain per configured domain (free: the
    projects' plans are in the external services of genericcorp:costModel)."""

    settings: VercelSettings

    @property
    def domains(self) -> tuple[tuple[str, str], ...]:
        """(project id, domain) of every domain to attach."""
        return tuple(
            (project.project_id, domain)
            for project in self.settings.projects
            for domain in project.domains
        )

    def cost_lines(self) -> list[CostLine]:
        return []


class VercelDomains(PlatformComponent):
    """The configured domains attached to their Vercel projects.

    Steps: the provider (token from the secret config value); a project domain per domain.
    """

    TYPE: ClassVar[str] = "genericcorp:edge:VercelDomains"
    COMPONENT: ClassVar[str] = "vercel"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "domains": "Each attached domain and the Vercel project serving it (empty when none is "
        "configured: the zone's records alone).",
    }

    def __init__(
        self,
        name: str,
        parts: VercelParts,
        *,
        wiring: Wiring,
        api_token: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        attached: dict[str, str] = {}
        if parts.domains:
            if api_token is None:
                raise ValueError("Vercel projects are configured: pass the API token")
            provider = vercel.Provider(
                f"{name}-provider",
                api_token=pulumi.Output.secret(api_token),
                team=parts.settings.team_id,
                opts=self.child_opts(),
            )
            for project_id, domain in parts.domains:
                vercel.ProjectDomain(
                    f"{name}-{domain}",
                    project_id=project_id,
                    domain=domain,
                    team_id=parts.settings.team_id,
                    opts=self.child_opts(provider=provider),
                )
                attached[domain] = project_id
        self.publish({"domains": attached})


def vercel_domains(settings: VercelSettings) -> Sequence[str]:
    """Every domain configured for Vercel."""
    return [domain for project in settings.projects for domain in project.domains]


# Defaults per environment and prod rules

VERCEL_DEFAULTS = ByEnvironment.same(
    # No project until its id is known: the stack writes the DNS records only.
    VercelSettings(team_id=None, projects=[])
)
