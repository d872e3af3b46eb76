"""The AWS budget of each stack and the cost-allocation tags."""

from __future__ import annotations

import json

from components.budget import COST_ALLOCATION_TAGS, ESTIMATE_TAG, Budget, BudgetParts
from infractl.offline.plan import Plan
from tests.conftest import plan_for, plan_with, stack_config

BUDGET = "aws:budgets/budget:Budget"
TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"


def test_one_monthly_cost_budget_for_the_stacks_environment(plan: Plan) -> None:
    budget = plan.one(BUDGET)
    inputs = budget.inputs
    assert (inputs["budgetType"], inputs["timeUnit"], inputs["limitUnit"]) == (
        "COST",
        "MONTHLY",
        "USD",
    )
    assert inputs["limitAmount"] == {"dev": "280.00", "prod": "1000.00"}[plan.stack]
    assert inputs["costFilters"] == [
        {"name": "TagKeyValue", "values": [f"user:Environment${plan.stack}"]}
    ]


def test_budget_carries_the_estimate_beside_its_limit(plan: Plan) -> None:
    budget = plan.one(BUDGET)
    estimate = plan.outputs["monthlyCost"]["totalUsd"]
    assert budget.tags[ESTIMATE_TAG] == f"{estimate:.2f}"
    assert float(budget.tags[ESTIMATE_TAG]) <= float(budget.inputs["limitAmount"])
    assert budget.tags["Component"] == "cost"


def test_notifies_the_alerts_topic_at_80_percent_actual_and_100_forecasted(plan: Plan) -> None:
    topic_arn = plan.one("aws:sns/topic:Topic").outputs["arn"]
    notifications = plan.one(BUDGET).inputs["notifications"]
    assert [(n["notificationType"], n["threshold"]) for n in notifications] == [
        ("ACTUAL", 80),
        ("FORECASTED", 100),
    ]
    for notification in notifications:
        assert notification["comparisonOperator"] == "GREATER_THAN"
        assert notification["thresholdType"] == "PERCENTAGE"
        assert notification["subscriberSnsTopicArns"] == [topic_arn]
        assert "subscriberEmailAddresses" not in notification


def test_budget_emails_from_config() -> None:
    plan = plan_with(
        "dev",
        {"genericcorp:budget": {"notifyAlertsTopic": False, "emails": ["finance@genericcorp.com"]}},
    )
    for notification in plan.one(BUDGET).inputs["notifications"]:
        assert notification["subscriberEmailAddresses"] == ["finance@genericcorp.com"]
        assert "subscriberSnsTopicArns" not in notification


def test_prod_activates_the_cost_allocation_tags_and_keeps_them_on_delete(
    prod_plan: Plan,
) -> None:
    tags = prod_plan.of_type(TAG)
    assert sorted(t.inputs["tagKey"] for t in tags) == sorted(COST_ALLOCATION_TAGS)
    assert {t.inputs["status"] for t in tags} == {"Active"}
    # Account-wide: deleting the stack must not deactivate them for every other stack.
    assert all(t.options.get("retainOnDelete") for t in tags)


def test_dev_leaves_the_account_wide_tags_to_prod(dev_plan: Plan) -> None:
    assert dev_plan.of_type(TAG) == []


def test_a_dev_stack_in_its_own_account_may_activate_them() -> None:
    plan = plan_with("dev", {"genericcorp:budget": {"activateCostAllocationTags": True}})
    assert len(plan.of_type(TAG)) == len(COST_ALLOCATION_TAGS)


def test_cost_outputs_are_known_in_a_preview() -> None:
    # CI's real preview of a new stack sees unknowns; the cost outputs come from config alone.
    preview = plan_for("prod", preview=True)
    assert preview.outputs["budget"]["name"] == "genericcorp-prod-monthly-cost"
    assert preview.outputs["monthlyCost"] == plan_for("prod").outputs["monthlyCost"]
    assert "[unknown]" not in json.dumps(preview.outputs["costPerCustomer"])


def test_the_parts_name_the_tags_the_plan_activates(plan: Plan) -> None:
    parts = BudgetParts(stack_config(plan.stack).budget)
    assert sorted(t.inputs["tagKey"] for t in plan.of_type(TAG)) == sorted(
        parts.cost_allocation_tags
    )


def test_the_budget_output_is_what_the_component_declares(plan: Plan) -> None:
    output = plan.outputs["budget"]
    assert set(output) == set(Budget.OUTPUTS)
    assert output["name"] == plan.one(BUDGET).inputs["name"]
    assert output["estimateUsd"] == plan.outputs["monthlyCost"]["totalUsd"]


# --- where activation cannot work, the output says who must ---------------------------------


def test_dev_says_who_must_activate_the_cost_allocation_tags(dev_plan: Plan) -> None:
    note = dev_plan.outputs["budget"]["costAllocationTags"]
    assert note.startswith("not activated by this stack: activate Project, Environment, ")
    assert "management account" in note
    assert "genericcorp:budget.activateCostAllocationTags to true in a standalone account" in note
    assert "docs/cost.md" in note


def test_prod_says_it_activates_them_from_the_payer_account(prod_plan: Plan) -> None:
    note = prod_plan.outputs["budget"]["costAllocationTags"]
    assert note.startswith("activated by this stack: Project, Environment, Component, CostCenter")
    assert "payer account" in note


def test_a_prod_stack_in_a_member_account_can_leave_activation_out() -> None:
    plan = plan_with("prod", {"genericcorp:budget": {"activateCostAllocationTags": False}})
    assert plan.of_type(TAG) == []
    assert plan.outputs["budget"]["costAllocationTags"].startswith("not activated by this stack")
