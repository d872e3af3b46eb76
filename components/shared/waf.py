"""A WAFv2 web ACL with its logging, and its price: the same firewall fronts the CDN (scope
``CLOUDFRONT``, in ``EDGE_REGION``) and the shared load balancer (scope ``REGIONAL``).

Each web ACL runs AWS managed rule groups, then a per-IP rate limit, and logs the requests a rule
blocked or counted to an encrypted log group whose name WAF accepts (``aws-waf-logs-...``).
"""

from __future__ import annotations

import pulumi_aws as aws
from pydantic import Field

from components.base import PlatformComponent, SettingsModel
from components.cost import DAYS_PER_MONTH, CostLine, PriceCatalog
from components.kms_key import KmsKey, KmsSettings
from components.shared.logs import LogRetentionDays, encrypted_log_group

#: AWS managed rule groups in the web ACL, in evaluation order (each costs $1/month).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
#: The web ACL's last rule: blocks an IP above ``waf.rateLimit`` requests in 5 minutes.
RATE_LIMIT_RULE = "rate-limit-per-ip"
#: The web ACL's rules in evaluation order.
WAF_RULES = (*MANAGED_RULE_GROUPS, RATE_LIMIT_RULE)
#: Size of one WAF log record (JSON with the request's headers): an estimate for pricing.
WAF_LOG_BYTES_PER_REQUEST = 1500
#: Headers never written to the WAF logs: credentials and sessions.
WAF_REDACTED_HEADERS = ("authorization", "cookie")
#: The requests a web ACL logs: those a rule blocked or counted (an allowed request is in the
#: access logs already). Logging every request would cost more than the firewall itself.
WAF_LOGGED_ACTIONS = ("BLOCK", "COUNT", "EXCLUDED_AS_COUNT")
#: Share of requests a rule blocks or counts: a planning figure for pricing the WAF logs
#: (the web ACL's BlockedRequests and CountedRequests metrics give the real one).
WAF_LOGGED_SHARE = 0.05


class WebAclSettings(SettingsModel):
    """A web ACL: AWS managed rule groups, then a per-IP rate limit, with its logs."""

    enabled: bool = Field(
        description="Attach a web ACL with AWS managed rules and a per-IP rate limit ($5/month "
        "plus $1 per rule and $0.60 per million requests), logging blocked and counted requests "
        "to CloudWatch Logs in the web ACL's region."
    )
    rate_limit: int = Field(
        ge=100,
        le=2_000_000_000,
        description="Requests one IP may make in 5 minutes before it is blocked.",
    )
    log_retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps the web ACL's logs (one of CloudWatch's periods)."
    )


def waf_log_group_name(base: str) -> str:
    """WAF logs only to log groups named ``aws-waf-logs-...``."""
    return f"aws-waf-logs-{base}"


def web_acl_with_logs(
    owner: PlatformComponent,
    name: str,
    *,
    metric_prefix: str,
    description: str,
    scope: str,
    rate_limit: int,
    log_retention_days: int,
    kms: KmsSettings,
    key_purpose: str,
    key_description: str,
    tag: str,
    provider: aws.Provider | None = None,
    region: str | None = None,
) -> tuple[aws.wafv2.WebAcl, aws.cloudwatch.LogGroup]:
    """The web ACL ``metric_prefix`` (``WAF_RULES``), its encrypted log group and its logging
    of blocked and counted requests, credentials redacted. ``provider`` and ``region`` place
    all three in another region than the stack's (CloudFront's web ACLs live in us-east-1)."""
    placed = owner.child_opts(provider=provider)
    web_acl = aws.wafv2.WebAcl(
        f"{name}-waf",
        name=metric_prefix,
        description=description,
        scope=scope,
        default_action={"allow": {}},
        rules=[
            waf_rule(rule, priority, rate_limit, metric_prefix)
            for priority, rule in enumerate(WAF_RULES)
        ],
        visibility_config=waf_visibility(metric_prefix),
        tags=owner.tags(f"{tag}-waf"),
        opts=placed,
    )
    # WAF logs to CloudWatch Logs in the web ACL's own region.
    log_group = encrypted_log_group(
        owner,
        f"{name}-waf-logs",
        log_group_name=waf_log_group_name(metric_prefix),
        retention_days=log_retention_days,
        kms=kms,
        purpose=key_purpose,
        description=key_description,
        statement_sid="CloudWatchLogsEncryptsWafLogs",
        tag=f"{tag}-waf-logs",
        provider=provider,
        region=region,
    )
    aws.wafv2.WebAclLoggingConfiguration(
        f"{name}-waf-logging",
        resource_arn=web_acl.arn,
        log_destination_configs=[log_group.arn],
        redacted_fields=[{"single_header": {"name": h}} for h in WAF_REDACTED_HEADERS],
        logging_filter=waf_logging_filter(),
        opts=placed,
    )
    return web_acl, log_group


def web_acl_cost_lines(
    component: str,
    catalog: PriceCatalog,
    *,
    web_acl: str,
    requests_millions: float | None,
    requests_note: str,
    log_retention_days: int,
    key_purpose: str,
) -> list[CostLine]:
    """The web ACL ($5), its rules ($1 each), its requests, its logs and their key. The managed
    groups used here are in WAF's base price (no subscription or extra per-request fee) and
    stay below 1,500 WCUs, beyond which requests cost more."""
    log_gb = (
        None
        if requests_millions is None
        else requests_millions * 1e6 * WAF_LOGGED_SHARE * WAF_LOG_BYTES_PER_REQUEST / 1e9
    )
    return [
        CostLine.fixed(component, "WAF web ACL", catalog.price("waf.web-acl", resource=web_acl), 1),
        CostLine.fixed(
            component,
            "WAF rules",
            catalog.price("waf.rule", resource=web_acl),
            len(WAF_RULES),
            note=f"{len(MANAGED_RULE_GROUPS)} managed rule groups and the rate limit",
        ),
        CostLine.usage(
            component,
            "WAF requests",
            catalog.price("waf.requests", resource=web_acl),
            requests_millions,
            note=requests_note,
        ),
        CostLine.usage(
            component,
            "WAF log ingestion",
            catalog.price("cloudwatch.logs.vended-ingestion", resource="aws-waf-logs group"),
            log_gb,
            note=f"blocked and counted requests ({WAF_LOGGED_SHARE:.0%}, a planning figure), "
            f"about {WAF_LOG_BYTES_PER_REQUEST} bytes each",
        ),
        CostLine.usage(
            component,
            "WAF log storage",
            catalog.price("cloudwatch.logs.storage", resource="aws-waf-logs group"),
            None if log_gb is None else log_gb * log_retention_days / DAYS_PER_MONTH,
            note=f"kept {log_retention_days} days (upper bound: stored uncompressed)",
        ),
        *KmsKey.cost_lines(component, catalog, purposes=[key_purpose]),
    ]


def waf_rule(
    rule: str, priority: int, rate_limit: int, metric_prefix: str
) -> aws.wafv2.WebAclRuleArgsDict:
    """One rule of the web ACL: the per-IP rate limit, or an AWS managed rule group that keeps
    its own actions (``override_action`` none)."""
    if rule == RATE_LIMIT_RULE:
        return {
            "name": rule,
            "priority": priority,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP"}
            },
            "visibility_config": waf_visibility(f"{metric_prefix}-rate-limit"),
        }
    return {
        "name": rule,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"name": rule, "vendor_name": "AWS"}},
        "visibility_config": waf_visibility(f"{metric_prefix}-{rule}"),
    }


def waf_logging_filter() -> aws.wafv2.WebAclLoggingConfigurationLoggingFilterArgsDict:
    """Log the requests a rule blocked or counted (``WAF_LOGGED_ACTIONS``), drop the rest."""
    return {
        "default_behavior": "DROP",
        "filters": [
            {
                "behavior": "KEEP",
                "requirement": "MEETS_ANY",
                "conditions": [
                    {"action_condition": {"action": action}} for action in WAF_LOGGED_ACTIONS
                ],
            }
        ],
    }


def waf_visibility(metric_name: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    """CloudWatch metrics and sampled requests for a web ACL or one of its rules."""
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric_name,
        "sampled_requests_enabled": True,
    }
