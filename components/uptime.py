"""Uptime: Route53 HTTPS health checks of the public endpoints, each with an alarm.

Creates, per configured check:
- ``aws.route53.HealthCheck`` of type HTTPS (with SNI) that requests ``https://<domain><path>``
  from Route53's checkers in several regions; a 2xx or 3xx answer within the timeout is healthy;
- ``aws.cloudwatch.MetricAlarm`` on the check's ``HealthCheckStatus`` in us-east-1 (Route53
  publishes health-check metrics only there) that notifies the alerts topic when the endpoint
  is down and again when it recovers. No data counts as down: a silent check is not a healthy one.

These checks watch from AWS; the external uptime service of the brief (an independent view) is
a separate cost line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import ByEnvironment, PlatformComponent, ProdRule, SettingsModel
from components.cost import CostLine, PriceCatalog
from components.dns_zone import check_hostname
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.wiring import Wiring

#: The request interval Route53 bills as the "fast interval" optional feature.
FAST_INTERVAL_SECONDS = 10


class UptimeCheck(SettingsModel):
    """One public endpoint to watch."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="Short name of the check (lowercase letters, digits, hyphens), e.g. demo.",
    )
    domain: str = Field(description="Domain requested over HTTPS, e.g. demo.genericcorp.com.")
    path: str = Field(
        pattern=r"^/[^\s]{0,254}$", description="Path requested, starting with /, e.g. /."
    )

    @field_validator("domain")
    @classmethod
    def _domain(cls, domain: str) -> str:
        return check_hostname(domain)


class UptimeSettings(SettingsModel):
    """Health checks and how quickly they call an endpoint down."""

    checks: list[UptimeCheck] = Field(description="Endpoints to watch.")
    request_interval_seconds: Literal[10, 30] = Field(
        description="Seconds between requests from each checker: 30, or 10 (fast, $2 more per "
        "check-month for an endpoint outside AWS)."
    )
    failure_threshold: int = Field(
        ge=1,
        le=10,
        description="Consecutive failed requests before a checker calls the endpoint down.",
    )

    @field_validator("checks")
    @classmethod
    def _unique(cls, checks: list[UptimeCheck]) -> list[UptimeCheck]:
        names = [check.name for check in checks]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"each check name may appear once; repeated: {', '.join(repeated)}")
        return checks


@dataclass(frozen=True)
class UptimeParts:
    """What an ``Uptime`` declares, derived once from its settings: a health check and an alarm
    per configured endpoint. The constructor declares exactly these and ``cost_lines`` prices
    exactly these."""

    settings: UptimeSettings
    zone_awaiting_delegation: str | None = None
    """The stack's zone when another stack's zone delegates it (dev.genericcorp.com, delegated
    from prod's genericcorp.com): a check of a name inside it fails, and its alarm fires, until
    that delegation exists (docs/dns.md)."""

    def note(self, check: UptimeCheck) -> str | None:
        """What the operator must know about ``check`` before trusting its alarm, if anything."""
        zone = self.zone_awaiting_delegation
        if zone is None or not (check.domain == zone or check.domain.endswith(f".{zone}")):
            return None
        return f"fails until {zone} is delegated from its parent zone (docs/dns.md)"

    @property
    def checks(self) -> tuple[UptimeCheck, ...]:
        """The endpoints watched, one Route53 health check each."""
        return tuple(self.settings.checks)

    @property
    def alarms(self) -> tuple[AlarmSpec, ...]:
        """One alarm per check, in the checks' order, on the check's ``HealthCheckStatus``."""
        return tuple(_down_alarm(check, self.note(check)) for check in self.checks)

    def cost_lines(self, catalog: PriceCatalog) -> list[CostLine]:
        """Monthly cost of the checks and their alarms. Each check is priced at the non-AWS
        endpoint rate: Route53 charges the lower AWS rate only for resources of the same
        account it recognises (EC2 instances, load balancers), not Vercel's hosts; for the
        CDN check it is an upper bound. HTTPS is an optional feature, billed per check."""
        component = Uptime.COMPONENT
        checks = len(self.checks)
        feature = catalog.price(
            "route53.health-check.optional-feature.non-aws",
            resource="aws:route53/healthCheck:HealthCheck",
        )
        lines = [
            CostLine.fixed(
                component,
                "Route53 health checks",
                catalog.price(
                    "route53.health-check.non-aws-endpoint",
                    resource="aws:route53/healthCheck:HealthCheck",
                ),
                checks,
                note=", ".join(check.name for check in self.checks),
            ),
            CostLine.fixed(component, "Health-check HTTPS feature", feature, checks),
        ]
        if self.settings.request_interval_seconds == FAST_INTERVAL_SECONDS:
            lines.append(
                CostLine.fixed(
                    component,
                    "Health-check fast interval feature",
                    feature,
                    checks,
                    note=f"every {FAST_INTERVAL_SECONDS} s",
                )
            )
        lines.append(
            alarm_line(
                component,
                catalog,
                len(self.alarms),
                label="Health-check alarms",
                note="one per check",
            )
        )
        return lines


def _down_alarm(check: UptimeCheck, note: str | None) -> AlarmSpec:
    """Down for two minutes: one flaky checker region does not page anyone. A check that stops
    reporting counts as down: a silent check is not a healthy one. ``note`` tells whoever the
    alarm reaches when it is expected to fire."""
    return AlarmSpec(
        f"{check.name}-down",
        "AWS/Route53",
        "HealthCheckStatus",
        1,
        f"https://{check.domain}{check.path} is failing Route53 health checks."
        + (f" It {note}." if note else ""),
        comparison="LessThanThreshold",
        statistic="Minimum",
        period_seconds=60,
        evaluation_periods=2,
        treat_missing_data="breaching",
    )


class Uptime(PlatformComponent):
    """HTTPS health checks with alarms to the alerts topic in ``EDGE_REGION``.

    Steps, per check of ``parts``: the health check; its alarm (in ``EDGE_REGION``, where Route53
    publishes health-check metrics). ``wiring`` names, tags and alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:monitoring:Uptime"
    COMPONENT: ClassVar[str] = "monitoring"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "healthChecks": "Route53 health-check id by check name.",
        "notes": "By check name, when a check is expected to fail: e.g. until the stack's zone "
        "is delegated from its parent zone.",
    }

    def __init__(
        self,
        name: str,
        parts: UptimeParts,
        *,
        wiring: Wiring,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        health_checks: dict[str, pulumi.Output[str]] = {}
        for check, alarm in zip(parts.checks, parts.alarms, strict=True):
            health_check = self._health_check(name, check, parts.settings)
            metric_alarm(
                self,
                f"{name}-{alarm.suffix}",
                alarm,
                dimensions={"HealthCheckId": health_check.id},
                topic_arn=wiring.edge_alarm_topic,
                tag=f"uptime-{check.name}",
                provider=wiring.edge_provider,
            )
            health_checks[check.name] = health_check.id
        notes = {check.name: note for check in parts.checks if (note := parts.note(check))}
        self.publish({"healthChecks": health_checks, "notes": notes})

    def _health_check(
        self, name: str, check: UptimeCheck, settings: UptimeSettings
    ) -> aws.route53.HealthCheck:
        """HTTPS with SNI, as browsers connect: a certificate problem is an outage too."""
        return aws.route53.HealthCheck(
            f"{name}-{check.name}",
            type="HTTPS",
            fqdn=check.domain,
            port=443,
            resource_path=check.path,
            enable_sni=True,
            request_interval=settings.request_interval_seconds,
            failure_threshold=settings.failure_threshold,
            reference_name=f"{self.context.stack}-{check.name}"[:28],
            tags=self.tags(f"uptime-{check.name}"),
            opts=self.child_opts(),
        )


# Defaults per environment and prod rules


def _uptime(*checks: UptimeCheck) -> UptimeSettings:
    """What dev and prod share: how often checkers ask, and how soon they call an endpoint down."""
    return UptimeSettings(checks=list(checks), request_interval_seconds=30, failure_threshold=3)


UPTIME_DEFAULTS = ByEnvironment(
    # Only the dev CDN: the landing page and the demo are prod's.
    dev=_uptime(UptimeCheck(name="cdn", domain="cdn.dev.genericcorp.com", path="/")),
    prod=_uptime(
        UptimeCheck(name="landing", domain="genericcorp.com", path="/"),
        UptimeCheck(name="demo", domain="demo.genericcorp.com", path="/"),
        UptimeCheck(name="cdn", domain="cdn.genericcorp.com", path="/"),
    ),
)

UPTIME_PROD_RULES = (
    ProdRule(
        UptimeSettings,
        key=lambda s: s.checks,
        accepts=lambda checks: len(checks) >= 1,
        allowed="at least one check",
        reason="the 99.9% uptime target needs the public endpoints watched",
    ),
)
