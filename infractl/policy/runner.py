"""Run the policy pack's policies over an offline plan, as `pulumi preview --policy-pack` would.

The policies are the pack's own pulumi-policy objects (``genericcorp_policy.policies()``); this
module plays the part of the pulumi engine: it hands each policy every recorded resource with its
inputs (secrets unmasked in memory, as the pack sees them), its ``protect`` option and the pack
config, then the whole stack, and collects the violations with their enforcement level. Values a
preview cannot know make a policy skip that resource, as in a real preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

from genericcorp_policy import RULES, AnyRule, PolicyConfigError, Rule, Scope, StackRule, policies
from genericcorp_policy.framework import (
    WAIVER_POLICY,
    check_pack_config,
    enforcement_overrides,
    in_scope,
)
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from infractl.offline.engine import SECRET_MASK, UNKNOWN_MASK
from infractl.offline.output_secrets import CHECK_NAME, DESCRIPTION, find_leaks
from infractl.offline.plan import Plan, PlannedResource

MANDATORY = EnforcementLevel.MANDATORY.value
ADVISORY = EnforcementLevel.ADVISORY.value


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    """``mandatory`` or ``advisory``."""
    resource: str
    """Logical name of the offending resource, or the stack's name."""
    type: str
    urn: str | None
    message: str

    def line(self) -> str:
        return (
            f"{self.level.upper():9} {self.policy}  {self.resource} ({self.type}): {self.message}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "level": self.level,
            "resource": self.resource,
            "type": self.type,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class PolicyOutcome:
    name: str
    control: str
    description: str
    level: str
    checked: int = 0
    """Resources (or stacks) of the policy's types it looked at."""
    violations: int = 0
    unknown: list[str] = field(default_factory=list)
    """Why it could not check some resources during a preview."""

    @property
    def status(self) -> str:
        if self.level == EnforcementLevel.DISABLED.value:
            return "disabled"
        if self.violations:
            return f"{self.violations} violation{'s' if self.violations != 1 else ''}"
        if self.unknown:
            return f"unknown in preview ({len(self.unknown)})"
        return "pass" if self.checked else "n/a"


@dataclass
class PolicyReport:
    project: str
    stack: str
    preview: bool
    findings: list[Finding]
    outcomes: list[PolicyOutcome]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == MANDATORY]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level != MANDATORY]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "preview": self.preview,
            "summary": {
                "policies": len(self.outcomes),
                "mandatory": len(self.mandatory),
                "advisory": len(self.advisory),
            },
            "findings": [f.to_json() for f in self.findings],
            "policies": [
                {
                    "name": o.name,
                    "control": o.control,
                    "level": o.level,
                    "status": o.status,
                    "checked": o.checked,
                }
                for o in self.outcomes
            ],
        }


def load_pack_config(path: Path | None) -> dict[str, Any]:
    """A pack config file (the JSON ``pulumi preview --policy-pack-config`` takes), checked."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyConfigError(
            f"{path}: cannot read the policy pack config ({error.strerror})"
        ) from None
    except ValueError as error:
        raise PolicyConfigError(f"{path}: the policy pack config is not JSON ({error})") from None
    try:
        check_pack_config(RULES, document)
    except PolicyConfigError as error:
        raise PolicyConfigError(f"{path}: {error}") from None
    return dict(document)


def run_policies(plan: Plan, pack_config: Mapping[str, Any] | None = None) -> PolicyReport:
    """Every policy of the pack over ``plan``; raises ``PolicyConfigError`` for a bad config."""
    pack_config = dict(pack_config or {})
    check_pack_config(RULES, pack_config)
    pack = policies()
    levels = enforcement_overrides(pack, pack_config)
    rules: dict[str, AnyRule] = {rule.name: rule for rule in RULES}
    resources = [r for r in plan.resources if r.custom]
    stack_name = next(
        (r.name for r in plan.resources if r.type == "pulumi:pulumi:Stack"),
        f"{plan.project}-{plan.stack}",
    )
    report = PolicyReport(plan.project, plan.stack, plan.preview, [], [])
    # Each resource policy also sees the resource's provider, as in a real preview.
    providers = {
        r.urn: PolicyProviderResource(
            r.type, unknown_checking_proxy(_restore_unknowns(r.raw_inputs)), r.urn, r.name
        )
        for r in plan.resources
        if r.type.startswith("pulumi:providers:")
    }
    for policy in pack:
        rule = rules.get(policy.name)
        outcome = PolicyOutcome(
            name=policy.name,
            control=rule.control if rule else "",
            description=policy.description,
            level=levels[policy.name].value,
        )
        report.outcomes.append(outcome)
        if levels[policy.name] is EnforcementLevel.DISABLED:
            continue
        config = _policy_config(pack_config.get(policy.name))
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                _check_resource(
                    policy,
                    resource=resource,
                    config=config,
                    rule=rule,
                    outcome=outcome,
                    report=report,
                    providers=providers,
                )
        elif isinstance(policy, StackValidationPolicy):
            _check_stack(
                policy,
                plan=plan,
                resources=resources,
                config=config,
                stack_name=stack_name,
                rule=rule,
                outcome=outcome,
                report=report,
            )
    _check_outputs(plan, stack_name, report)
    return report


def _check_outputs(plan: Plan, stack_name: str, report: PolicyReport) -> None:
    """The offline-only check of the stack's outputs; mandatory, whatever the pack config."""
    outcome = PolicyOutcome(CHECK_NAME, "", DESCRIPTION, MANDATORY, checked=1)
    report.outcomes.append(outcome)
    for leak in find_leaks(plan):
        outcome.violations += 1
        report.findings.append(
            Finding(
                policy=CHECK_NAME,
                level=MANDATORY,
                resource=stack_name,
                type="pulumi:pulumi:Stack",
                urn=None,
                message=(
                    f"stack output {leak.output} is plain but holds the secret value of "
                    f"{leak.source}; export it with pulumi.Output.secret(...) or leave it out"
                ),
            )
        )


def _policy_config(value: Any) -> dict[str, Any] | None:
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k != "enforcementLevel"}  # pyright: ignore[reportUnknownVariableType]
    return None


def _subjects(rule: AnyRule | None, policy: Policy) -> Any:
    """The types a policy looks at (for the results table); the waiver policies look at the
    types of the rules they waive."""
    if isinstance(rule, Rule):
        return rule.types
    if isinstance(rule, StackRule):
        return rule.subjects
    waived = [r for r in RULES if r.scope is Scope.PROD_WAIVABLE]
    if isinstance(policy, StackValidationPolicy):
        return {t for r in waived if isinstance(r, StackRule) for t in r.subjects}
    return {t for r in waived if isinstance(r, Rule) for t in r.types}


def _counts(rule: AnyRule | None, policy: Policy, resource: PlannedResource) -> bool:
    """Whether the policy really checks this resource (its environment is in the rule's scope)."""
    props = resource.raw_inputs
    if rule is not None:
        return in_scope(rule.scope, props, waived=False)
    return policy.name.startswith(WAIVER_POLICY) and in_scope(
        Scope.PROD_WAIVABLE, props, waived=True
    )


def _check_resource(
    policy: ResourceValidationPolicy,
    *,
    resource: PlannedResource,
    config: dict[str, Any] | None,
    rule: AnyRule | None,
    outcome: PolicyOutcome,
    report: PolicyReport,
    providers: Mapping[str, PolicyProviderResource],
) -> None:
    if resource.type not in _subjects(rule, policy):
        return
    if _counts(rule, policy, resource):
        outcome.checked += 1
    args = ResourceValidationArgs(
        resource.type,
        unknown_checking_proxy(_restore_unknowns(resource.raw_inputs)),
        resource.urn,
        resource.name,
        _options(resource),
        providers.get(resource.provider or ""),
        config,
    )

    def report_violation(message: str, urn: str | None = None) -> None:
        del urn  # a resource policy's violation is always about the resource itself
        _add(report, outcome, resource, message)

    _run(policy, args, report_violation, outcome, resource.name)


def _check_stack(
    policy: StackValidationPolicy,
    *,
    plan: Plan,
    resources: list[PlannedResource],
    config: dict[str, Any] | None,
    stack_name: str,
    rule: AnyRule | None,
    outcome: PolicyOutcome,
    report: PolicyReport,
) -> None:
    subjects = _subjects(rule, policy)
    outcome.checked += sum(1 for r in resources if r.type in subjects and _counts(rule, policy, r))
    by_urn = {r.urn: r for r in resources}
    # A stack policy sees each resource's outputs: what the mocks computed over its inputs.
    policy_resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(_restore_unknowns({**r.raw_inputs, **r.outputs})),
            r.urn,
            r.name,
            _options(r),
            None,
            None,
            [],
            {},
        )
        for r in resources
    ]
    args = StackValidationArgs(policy_resources, config)

    def report_violation(message: str, urn: str | None = None) -> None:
        owner = by_urn.get(urn or "")
        if owner is None:
            report.findings.append(
                Finding(policy.name, outcome.level, stack_name, "pulumi:pulumi:Stack", urn, message)
            )
            outcome.violations += 1
        else:
            _add(report, outcome, owner, message)

    _run(policy, args, report_violation, outcome, plan.stack)


def _run(
    policy: Policy, args: Any, report_violation: Any, outcome: PolicyOutcome, what: str
) -> None:
    try:
        result = policy.validate(args, report_violation)  # type: ignore[attr-defined]
        if isawaitable(result):
            raise TypeError(
                f"policy {policy.name} is asynchronous; the offline run needs it synchronous"
            )
    except UnknownValueError as error:
        outcome.unknown.append(f"{what}: {error.message}")


def _add(
    report: PolicyReport, outcome: PolicyOutcome, resource: PlannedResource, message: str
) -> None:
    outcome.violations += 1
    report.findings.append(
        Finding(
            policy=outcome.name,
            level=outcome.level,
            resource=resource.name,
            type=resource.type,
            urn=resource.urn,
            message=_scrub(message, resource),
        )
    )


def _scrub(message: str, resource: PlannedResource) -> str:
    """Mask any secret value a message quotes: the report is printed and posted."""
    values = [v for _, v in resource.secret_values]
    values += [resource.raw_inputs.get(key) for key in resource.secret_inputs]
    for value in sorted((v for v in values if isinstance(v, str) and v), key=len, reverse=True):
        if value in message:
            message = message.replace(value, SECRET_MASK)
    return message


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=list(resource.options.get("ignoreChanges", [])),
        delete_before_replace=resource.options.get("deleteBeforeReplace"),
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(resource.options.get("additionalSecretOutputs", [])),
        parent=resource.parent,
    )


def _restore_unknowns(value: Any) -> Any:
    """The plan's ``[unknown]`` marker back to the sentinel the pack's proxies recognise."""
    if isinstance(value, dict):
        return {k: _restore_unknowns(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_restore_unknowns(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if value == UNKNOWN_MASK:
        return UNKNOWN_STRING_VALUE
    return value
