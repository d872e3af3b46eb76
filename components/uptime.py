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

from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import PlatformComponent, SettingsModel, StackContext
from components.cost import CostLine, PriceCatalog
from components.dns_zone import check_hostname

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


class Uptime(PlatformComponent):
    """HTTPS health checks with alarms to the alerts topic."""

    health_check_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        settings: UptimeSettings,
        *,
        alarm_topic_arn: pulumi.Input[str],
        context: StackContext,
        us_east_1: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "genericcorp:monitoring:Uptime",
            name,
            context=context,
            component_tag="monitoring",
            opts=opts,
        )
        self.health_check_ids = {}
        for check in settings.checks:
            health_check = aws.route53.HealthCheck(
                f"{name}-{check.name}",
                type="HTTPS",
                fqdn=check.domain,
                port=443,
                resource_path=check.path,
                enable_sni=True,
                request_interval=settings.request_interval_seconds,
                failure_threshold=settings.failure_threshold,
                reference_name=f"{context.stack}-{check.name}"[:28],
                tags=self.tags(f"uptime-{check.name}"),
                opts=self.child_opts(),
            )
            aws.cloudwatch.MetricAlarm(
                f"{name}-{check.name}-down",
                alarm_description=(
                    f"https://{check.domain}{check.path} is failing Route53 health checks."
                ),
                namespace="AWS/Route53",
                metric_name="HealthCheckStatus",
                dimensions={"HealthCheckId": health_check.id},
                statistic="Minimum",
                period=60,
                # Two minutes of failure: one flaky checker region does not page anyone.
                evaluation_periods=2,
                threshold=1,
                comparison_operator="LessThanThreshold",
                treat_missing_data="breaching",
                alarm_actions=[alarm_topic_arn],
                ok_actions=[alarm_topic_arn],
                tags=self.tags(f"uptime-{check.name}"),
                opts=self.child_opts(provider=us_east_1),
            )
            self.health_check_ids[check.name] = health_check.id
        self.register_outputs({"healthChecks": self.health_check_ids})

    @classmethod
    def cost_lines(cls, settings: UptimeSettings, catalog: PriceCatalog) -> list[CostLine]:
        """Monthly cost of the checks and their alarms. Each check is priced at the non-AWS
        endpoint rate: Route53 charges the lower AWS rate only for resources of the same
        account it recognises (EC2 instances, load balancers), not Vercel's hosts; for the
        CDN check it is an upper bound. HTTPS is an optional feature, billed per check."""
        component = "monitoring"
        checks = len(settings.checks)
        feature = catalog.price(
            "route53.health-check.optional-feature.non-aws",
            resource="aws:route53/healthCheck:HealthCheck",
        )
        names = ", ".join(check.name for check in settings.checks)
        lines = [
            CostLine.fixed(
                component,
                "Route53 health checks",
                catalog.price(
                    "route53.health-check.non-aws-endpoint",
                    resource="aws:route53/healthCheck:HealthCheck",
                ),
                checks,
                note=names,
            ),
            CostLine.fixed(component, "Health-check HTTPS feature", feature, checks),
        ]
        if settings.request_interval_seconds == FAST_INTERVAL_SECONDS:
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
            CostLine.fixed(
                component,
                "Health-check alarms",
                catalog.price("cloudwatch.standard-alarm", resource="aws:cloudwatch/metricAlarm"),
                checks,
                note="one per check",
            )
        )
        return lines
