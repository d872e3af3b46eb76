"""Project rules beyond FSBP: cost-allocation tags, protection of prod data stores, and the
stack's cost estimate against its budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    Scope,
    StackRule,
    get,
    is_true,
    number,
    tags_of,
)

BUDGET = "aws:budgets/budget:Budget"
#: Tag on the AWS Budget that carries the stack's monthly cost estimate (shared contract).
ESTIMATE_TAG = "EstimatedMonthlyCostUSD"

REQUIRED_TAGS = ("Project", "Environment", "ManagedBy", "CostCenter", "Component")

#: Resources whose deletion loses data or breaks the platform for good. KMS keys and secrets are
#: left out on purpose: AWS deletes them only after a recovery window (30 days in prod), so a
#: mistaken `pulumi destroy` is reversible. S3 buckets are left out because a bucket holding
#: objects is not deleted unless forceDestroy is set, which the rule refuses in prod.
STATEFUL_TYPES = (
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:route53/zone:Zone",
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
)


class _AnyAwsType(tuple[str, ...]):
    """Matches every AWS resource type (``type in ANY_AWS_TYPE``); components and other
    providers' resources are not tagged."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item.startswith("aws:")


ANY_AWS_TYPE = _AnyAwsType()


def _required_tags(props: Props, config: Config) -> Iterator[str]:
    # pulumi-aws adds `tagsAll` (provider default tags merged with the resource's) to the checked
    # inputs of every type that takes tags; types without tags have neither key.
    if "tagsAll" not in props and "tags" not in props:
        return
    tags = tags_of(props)
    missing = [t for t in config["requiredTags"] if not tags.get(t)]
    if missing:
        yield f"missing required tag(s): {', '.join(missing)}"


def _protected(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "__protect")):
        yield (
            "a prod data store must be protected from `pulumi destroy` "
            "(ResourceOptions(protect=True))"
        )
    if is_true(get(props, "forceDestroy")):
        yield "forceDestroy would delete its contents with it"


def _no_force_destroy(props: Props, _: Config) -> Iterator[str]:
    if is_true(get(props, "forceDestroy")):
        yield "forceDestroy is set: a destroy would empty the bucket instead of failing"


def _within_budget(
    budgets: Sequence[Resource], _everything: Sequence[Resource], config: Config
) -> Iterator[tuple[str, str | None]]:
    headroom = float(config["headroomPercent"])
    for budget in budgets:
        tags = tags_of(budget.props)
        raw_estimate = tags.get(ESTIMATE_TAG)
        raw_limit = get(budget.props, "limitAmount")
        estimate, limit = number(raw_estimate), number(raw_limit)
        label = f"budget {budget.name}"
        if raw_estimate is None:
            yield f"{label} does not carry the cost estimate (tag {ESTIMATE_TAG})", budget.urn
        elif estimate is None:
            yield f"{label}: tag {ESTIMATE_TAG}={raw_estimate!r} is not a number", budget.urn
        elif raw_limit is None:
            yield f"{label} has no fixed monthly limit (limitAmount)", budget.urn
        elif limit is None or limit <= 0:
            yield f"{label}: limitAmount={raw_limit!r} is not a positive number", budget.urn
        elif get(budget.props, "limitUnit") not in (None, "USD"):
            yield f"{label}: limitUnit {get(budget.props, 'limitUnit')} is not USD", budget.urn
        else:
            ceiling = limit * (1 - headroom / 100)
            if estimate > ceiling:
                yield (
                    f"estimated ${estimate:,.2f}/month exceeds the budget of ${limit:,.2f}"
                    + (f" less {headroom:g}% headroom (${ceiling:,.2f})" if headroom else ""),
                    budget.urn,
                )


RULES = (
    Rule(
        name="required-tags",
        control="",
        description="Every taggable AWS resource carries the cost-allocation tags.",
        types=ANY_AWS_TYPE,
        check=_required_tags,
        config={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "default": list(REQUIRED_TAGS),
                "description": "Tag keys every taggable resource must carry with a value.",
            }
        },
    ),
    Rule(
        name="prod-protect-stateful",
        control="",
        description="Prod data stores (databases, caches, hosted zones) are protected from "
        "`pulumi destroy`.",
        types=STATEFUL_TYPES,
        check=_protected,
        scope=Scope.PROD,
        needs_protect=True,
        reads=("forceDestroy",),
    ),
    Rule(
        name="prod-no-force-destroy",
        control="",
        description="Prod buckets are not force-destroyed with their contents.",
        types=("aws:s3/bucket:Bucket",),
        check=_no_force_destroy,
        scope=Scope.PROD,
        reads=("forceDestroy",),
    ),
)

STACK_RULES = (
    StackRule(
        name="cost-within-budget",
        control="",
        description="The stack's monthly cost estimate (the budget's EstimatedMonthlyCostUSD tag) "
        "stays within the budget's limitAmount.",
        subjects=(BUDGET,),
        check=_within_budget,
        config={
            "headroomPercent": {
                "type": "number",
                "minimum": 0,
                "maximum": 100,
                "default": 0,
                "description": "Percent of the budget to keep free: the estimate must stay "
                "below limitAmount x (1 - headroomPercent/100).",
            }
        },
    ),
)
