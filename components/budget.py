"""Budget: the stack's monthly AWS cost budget and the cost-allocation tags it relies on.

Creates:
- ``aws.budgets.Budget``: a monthly COST budget over the costs tagged with the stack's
  ``Environment``, notifying the alerts topic (and any listed addresses) when actual spend
  passes 80% of the limit and when the forecast passes 100%. It carries the stack's own
  estimate as the tag ``EstimatedMonthlyCostUSD`` beside ``limitAmount``, so a policy can compare
  the two on every preview;
- optionally ``aws.costexplorer.CostAllocationTag`` (Active) for Project, Environment, Component
  and CostCenter. Activation is account-wide: exactly one stack per account may own it, or
  destroying one stack would deactivate the tags the others' budgets filter on. Only the payer
  account can activate them: the management account of an AWS Organization, or a standalone
  account; in a member account the call fails. Prod owns it by default; a dev stack in a
  standalone account of its own sets ``activateCostAllocationTags``. When the stack does not
  activate them, its ``budget`` output says so and how (docs/cost.md).

AWS Budgets without actions cost nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import EmailStr, Field, ValidationInfo, field_validator

from components.base import ByEnvironment, PlatformComponent, SettingsModel, switched_on
from components.cost import CostLine, PriceCatalog
from components.shared.wiring import Wiring

#: The tags cost reports group by; the provider's default tags and components set them.
COST_ALLOCATION_TAGS = ("Project", "Environment", "Component", "CostCenter")

#: Tag on the budget holding the stack's estimate (a decimal string), beside ``limitAmount``.
ESTIMATE_TAG = "EstimatedMonthlyCostUSD"


class BudgetNotification(SettingsModel):
    """When the budget notifies."""

    type: Literal["ACTUAL", "FORECASTED"] = Field(
        description="ACTUAL (spend so far this month) or FORECASTED (AWS's month-end forecast)."
    )
    threshold_percent: float = Field(
        gt=0, le=1000, description="Percentage of the limit at which to notify."
    )


class BudgetSettings(SettingsModel):
    """The stack's monthly AWS cost budget."""

    limit_usd: float = Field(
        gt=0,
        description="Monthly limit in USD. The offline plan and preview fail when the stack's "
        "estimate exceeds it.",
    )
    notifications: list[BudgetNotification] = Field(
        min_length=1, max_length=10, description="When to notify (AWS allows up to 10)."
    )
    notify_alerts_topic: bool = Field(
        description="Send notifications to the stack's alerts topic (and so to its emails)."
    )
    emails: list[EmailStr] = Field(
        max_length=10, description="Addresses AWS Budgets mails directly (at most 10)."
    )
    activate_cost_allocation_tags: bool = Field(
        description="Activate Project, Environment, Component and CostCenter as cost-allocation "
        "tags. Account-wide: let one stack per account own it. Only works from the payer "
        "account (an organization's management account, or a standalone account); in an "
        "AWS Organizations member account, leave it false and activate them from the "
        "management account (docs/cost.md).",
    )

    @field_validator("emails")
    @classmethod
    def _someone_is_told(cls, emails: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("notify_alerts_topic") is False and not emails:
            raise ValueError(
                "with notifyAlertsTopic false, list at least one address: AWS Budgets needs a "
                "subscriber for each notification"
            )
        return emails


@dataclass(frozen=True)
class BudgetParts:
    """What a ``Budget`` declares, derived once from its settings."""

    settings: BudgetSettings

    @property
    def cost_allocation_tags(self) -> tuple[str, ...]:
        """The tags this stack activates: all of them when it owns the account-wide activation,
        none otherwise."""
        return COST_ALLOCATION_TAGS if self.settings.activate_cost_allocation_tags else ()

    @property
    def cost_allocation_note(self) -> str:
        """What the operator reads in the ``budget`` output: whether this stack activates the
        tags, and when it does not, who must (the budget filters on ``Environment``, so it sees
        nothing until the tag is active)."""
        if self.cost_allocation_tags:
            return (
                f"activated by this stack: {', '.join(self.cost_allocation_tags)} (account-wide; "
                "works only from the payer account: an organization's management account or a "
                "standalone account)"
            )
        return (
            f"not activated by this stack: activate {', '.join(COST_ALLOCATION_TAGS)} once from "
            "the payer account (the organization's management account), or set "
            "genericcorp:budget.activateCostAllocationTags to true in a standalone account; "
            "until then the budget, which filters on Environment, sees no cost (docs/cost.md)"
        )

    def cost_lines(self, catalog: PriceCatalog) -> list[CostLine]:
        """The one budget: $0 (budgets without actions are free), listed so the estimate
        accounts for every priced resource type the plan declares."""
        return [
            CostLine.fixed(
                Budget.COMPONENT,
                "AWS Budgets monthly budget",
                catalog.price("budgets.budget", resource="aws:budgets/budget:Budget"),
                1,
            )
        ]


class Budget(PlatformComponent):
    """Monthly cost budget of the stack, with notifications.

    Steps: the budget, tagged with the estimate; the cost-allocation tags the parts activate.
    Its outputs compare the limit with the estimate, both known before deployment.
    """

    TYPE: ClassVar[str] = "genericcorp:cost:Budget"
    COMPONENT: ClassVar[str] = "cost"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "name": "Name of the AWS budget (genericcorp-<stack>-monthly-cost).",
        "limitUsd": "The monthly limit (genericcorp:budget.limitUsd).",
        "estimateUsd": "The stack's monthly estimate (the monthlyCost output's total).",
        "headroomUsd": "Limit minus estimate.",
        "headroomPercent": "Headroom as a percentage of the limit.",
        "costAllocationTags": "Whether this stack activates the cost-allocation tags, and if "
        "not, who must and how.",
        "costPerCustomerUsd": "Cost per customer at the configured tenants (one starter tenant "
        "when there are none): the costPerCustomer output's atConfiguredTenants.usd.",
        "tenantCeiling": "Customers of the tier mix the tenant node group holds at its maxSize "
        "(the costPerCustomer output's tierMix.ceilingTenants); the plan refuses more.",
    }

    budget_name: str
    """Known before deployment (set explicitly), so the ``budget`` output is known in a preview."""

    def __init__(
        self,
        name: str,
        parts: BudgetParts,
        *,
        wiring: Wiring,
        estimate_usd: float,
        cost_per_customer_usd: float | None = None,
        tenant_ceiling: int = 0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``estimate_usd`` is the stack's estimate, computed before anything is declared;
        ``cost_per_customer_usd`` and ``tenant_ceiling`` come from the capacity model."""
        super().__init__(name, context=wiring.context, opts=opts)
        settings = parts.settings
        self.budget_name = self.context.physical_name("monthly-cost")
        self._budget(name, settings, wiring, estimate_usd)
        for tag in parts.cost_allocation_tags:
            aws.costexplorer.CostAllocationTag(
                f"{name}-tag-{tag.lower()}",
                tag_key=tag,
                status="Active",
                # Deleting the resource would deactivate the tag for the whole account.
                opts=self.child_opts(retain_on_delete=True),
            )
        headroom = settings.limit_usd - estimate_usd
        self.publish(
            {
                "name": self.budget_name,
                "limitUsd": round(settings.limit_usd, 2),
                "estimateUsd": round(estimate_usd, 2),
                "headroomUsd": round(headroom, 2),
                "headroomPercent": round(100 * headroom / settings.limit_usd, 1),
                "costAllocationTags": parts.cost_allocation_note,
                "costPerCustomerUsd": cost_per_customer_usd,
                "tenantCeiling": tenant_ceiling,
            }
        )

    def _budget(
        self, name: str, settings: BudgetSettings, wiring: Wiring, estimate_usd: float
    ) -> None:
        """The budget over this environment's costs, notifying the alerts topic (when the
        settings ask) and the listed addresses; the estimate rides along as a tag so a policy
        can compare it with the limit on every preview."""
        topics: Sequence[pulumi.Input[str]] | None = (
            [wiring.alarm_topic] if settings.notify_alerts_topic else None
        )
        aws.budgets.Budget(
            f"{name}-monthly",
            name=self.budget_name,
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{settings.limit_usd:.2f}",
            limit_unit="USD",
            # Only this environment's costs: the tag is active once cost-allocation tags are.
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(
                    name="TagKeyValue", values=[f"user:Environment${self.context.environment}"]
                )
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    notification_type=notification.type,
                    threshold=notification.threshold_percent,
                    threshold_type="PERCENTAGE",
                    subscriber_sns_topic_arns=topics,
                    subscriber_email_addresses=list(settings.emails) or None,
                )
                for notification in settings.notifications
            ],
            tags=self.tags("monthly-cost", **{ESTIMATE_TAG: f"{estimate_usd:.2f}"}),
            opts=self.child_opts(),
        )


# Defaults per environment and prod rules

# AWS Budgets: mail at 80% of the month's actual spend (time to act) and when AWS forecasts the
# month to end above the limit.
_NOTIFICATIONS = [
    BudgetNotification(type="ACTUAL", threshold_percent=80),
    BudgetNotification(type="FORECASTED", threshold_percent=100),
]


def _budget(*, limit_usd: float, activate_cost_allocation_tags: bool) -> BudgetSettings:
    """What dev and prod share: the notifications, sent to the alerts topic."""
    return BudgetSettings(
        limit_usd=limit_usd,
        notifications=_NOTIFICATIONS,
        notify_alerts_topic=True,
        emails=[],
        activate_cost_allocation_tags=activate_cost_allocation_tags,
    )


BUDGET_DEFAULTS = ByEnvironment(
    dev=_budget(
        # The plan fails when the estimate exceeds it. Sized so dev's estimate at the low end
        # of the spot discount (60%), plus about $25 a month of planned additions (a shared
        # ALB, a CI runner, access logs), stays 10% under it: $226.62 + $25 <= 0.9 x $280.
        # Dev runs what it is for (an EKS cluster, NAT, database, cache, CDN and rotated keys
        # shaped like prod's) and nothing it could drop without losing that (docs/cost.md,
        # "Dev's margin").
        limit_usd=280,
        # Account-wide: the prod stack owns the activation (see the module docstring).
        activate_cost_allocation_tags=False,
    ),
    # The brief's prod target, well inside the company's $2,000-3,000 for everything. Prod keeps
    # the activation it was deployed with (its account is the payer); a prod stack in an
    # Organizations member account sets activateCostAllocationTags to false (docs/cost.md).
    prod=_budget(limit_usd=1000, activate_cost_allocation_tags=True),
)

BUDGET_PROD_RULES = (
    switched_on(
        BudgetSettings,
        key=lambda s: s.notify_alerts_topic,
        reason="budget warnings must reach the on-call addresses of the alerts topic",
    ),
)
