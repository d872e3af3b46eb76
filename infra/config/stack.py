"""The stack configuration as one typed object: a namespaced settings object per concern.

Every key of ``Pulumi.<stack>.yaml`` maps to a field here by its full name
(``genericcorp:network`` -> ``StackConfig.network``). Each field carries, as an
``EnvironmentProfile``, its defaults per environment and the rules prod holds it to, which are
declared beside the settings model (at the end of ``components/<name>.py``). ``defaults.py`` and
``guardrails.py`` read them from here; ``loader.py`` reads and validates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import botocore.session
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from components.alerts import ALERTS_DEFAULTS, ALERTS_PROD_RULES, AlertsSettings
from components.availability import (
    AVAILABILITY_DEFAULTS,
    AVAILABILITY_PROD_RULES,
    AvailabilitySettings,
)
from components.base import ByEnvironment, Environment, ProdRule, SettingsModel
from components.budget import BUDGET_DEFAULTS, BUDGET_PROD_RULES, BudgetSettings
from components.cdn import CDN_DEFAULTS, CDN_PROD_RULES, CdnSettings
from components.ci_runner import CI_DEFAULTS, CiSettings
from components.cost import COST_MODEL_DEFAULTS, USAGE_DEFAULTS, CostModelSettings, UsageSettings
from components.dns_zone import DNS_DEFAULTS, DNS_PROD_RULES, DnsSettings
from components.eks_cluster import CLUSTER_DEFAULTS, CLUSTER_PROD_RULES, ClusterSettings
from components.ingress import INGRESS_DEFAULTS, INGRESS_PROD_RULES, IngressSettings
from components.kms_key import KMS_DEFAULTS, KMS_PROD_RULES, KmsSettings
from components.kubernetes_platform import PLATFORM_DEFAULTS, PLATFORM_PROD_RULES, PlatformSettings
from components.network import NETWORK_DEFAULTS, NETWORK_PROD_RULES, NetworkSettings
from components.postgres import POSTGRES_DEFAULTS, POSTGRES_PROD_RULES, PostgresSettings
from components.redis import CACHE_DEFAULTS, CACHE_PROD_RULES, RedisSettings
from components.tenant_data import TENANT_DATA_DEFAULTS, TenantDataSettings
from components.tenants import TENANT_DEFAULTS, TenantList
from components.uptime import UPTIME_DEFAULTS, UPTIME_PROD_RULES, UptimeSettings
from components.vercel import VERCEL_DEFAULTS, VercelSettings

#: The Pulumi project name, which is also the namespace of the project's config keys.
PROJECT = "genericcorp"

#: Tags the project sets itself; ``extraTags`` may not override them.
RESERVED_TAG_KEYS = frozenset({"Project", "Environment", "ManagedBy", "CostCenter", "Component"})

# AWS tag rules: letters, digits, spaces and _ . : / = + - @; keys up to 128, values up to 256.
_TAG_CHARS = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)


def _check_tag(text: str, *, what: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters; AWS allows at most {limit}")
    if not _TAG_CHARS.match(text):
        raise ValueError(
            f"{what} may hold only letters, digits, spaces and _ . : / = + - @ (AWS tag rules)"
        )
    return text


class TaggingSettings(SettingsModel):
    """Cost-allocation tags applied to every taggable resource through the provider."""

    cost_center: str = Field(
        min_length=1, description="Value of the CostCenter tag that cost reports group by."
    )
    extra_tags: dict[str, str] = Field(
        description="Additional tags for every resource (for example Owner or DataClass).",
    )

    @field_validator("cost_center")
    @classmethod
    def _cost_center(cls, value: str) -> str:
        return _check_tag(value, what="a tag value", limit=256)

    @field_validator("extra_tags")
    @classmethod
    def _extra_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            if key in RESERVED_TAG_KEYS:
                raise ValueError(
                    f"tag {key!r} is set by the project itself; reserved: "
                    + ", ".join(sorted(RESERVED_TAG_KEYS))
                )
            if not key or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} is empty or uses the reserved 'aws:' prefix")
            _check_tag(key, what=f"tag key {key!r}", limit=128)
            _check_tag(value, what=f"the value of tag {key!r}", limit=256)
        return tags


# Defaults per environment and prod rules

TAGGING_DEFAULTS = ByEnvironment.same(
    TaggingSettings(cost_center="platform-engineering", extra_tags={})
)


@dataclass(frozen=True)
class EnvironmentProfile:
    """What a key gets per environment when its stack file leaves it out, and the rules prod
    holds it to. Attached to the key's field of ``StackConfig`` (``Annotated`` metadata), so that
    adding a key with its profile is all the loader, the guardrails and the reference need."""

    defaults: ByEnvironment[Any]
    prod_rules: Sequence[ProdRule[Any, Any]] = ()


#: Partitions the program supports. Others (China, GovCloud, ISO) name service principals,
#: endpoints and ARNs differently and are refused rather than half supported.
SUPPORTED_PARTITIONS = frozenset({"aws"})


@cache
def known_regions() -> dict[str, str]:
    """Every AWS region botocore knows, mapped to its partition (``aws``, ``aws-cn``, ...)."""
    session = botocore.session.get_session()
    return {
        region: partition
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    }


class StackConfig(BaseModel):
    """All of a stack's configuration, validated. Field aliases are the stack file's keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    region: str = Field(alias="aws:region", description="AWS region of the stack.")
    environment: Environment = Field(
        alias=f"{PROJECT}:environment",
        description="Environment profile: dev (cheap) or prod (Multi-AZ, guarded).",
    )
    tagging: Annotated[TaggingSettings, EnvironmentProfile(TAGGING_DEFAULTS)] = Field(
        alias=f"{PROJECT}:tagging"
    )
    kms: Annotated[KmsSettings, EnvironmentProfile(KMS_DEFAULTS, KMS_PROD_RULES)] = Field(
        alias=f"{PROJECT}:kms"
    )
    network: Annotated[
        NetworkSettings, EnvironmentProfile(NETWORK_DEFAULTS, NETWORK_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:network")
    alerts: Annotated[AlertsSettings, EnvironmentProfile(ALERTS_DEFAULTS, ALERTS_PROD_RULES)] = (
        Field(alias=f"{PROJECT}:alerts")
    )
    usage: Annotated[UsageSettings, EnvironmentProfile(USAGE_DEFAULTS)] = Field(
        alias=f"{PROJECT}:usage"
    )
    budget: Annotated[BudgetSettings, EnvironmentProfile(BUDGET_DEFAULTS, BUDGET_PROD_RULES)] = (
        Field(alias=f"{PROJECT}:budget")
    )
    cost_model: Annotated[CostModelSettings, EnvironmentProfile(COST_MODEL_DEFAULTS)] = Field(
        alias=f"{PROJECT}:costModel"
    )
    availability: Annotated[
        AvailabilitySettings, EnvironmentProfile(AVAILABILITY_DEFAULTS, AVAILABILITY_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:availability")
    dns: Annotated[DnsSettings, EnvironmentProfile(DNS_DEFAULTS, DNS_PROD_RULES)] = Field(
        alias=f"{PROJECT}:dns"
    )
    cdn: Annotated[CdnSettings, EnvironmentProfile(CDN_DEFAULTS, CDN_PROD_RULES)] = Field(
        alias=f"{PROJECT}:cdn"
    )
    uptime: Annotated[UptimeSettings, EnvironmentProfile(UPTIME_DEFAULTS, UPTIME_PROD_RULES)] = (
        Field(alias=f"{PROJECT}:uptime")
    )
    database: Annotated[
        PostgresSettings, EnvironmentProfile(POSTGRES_DEFAULTS, POSTGRES_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:database")
    cache: Annotated[RedisSettings, EnvironmentProfile(CACHE_DEFAULTS, CACHE_PROD_RULES)] = Field(
        alias=f"{PROJECT}:cache"
    )
    cluster: Annotated[
        ClusterSettings, EnvironmentProfile(CLUSTER_DEFAULTS, CLUSTER_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:cluster")
    platform: Annotated[
        PlatformSettings, EnvironmentProfile(PLATFORM_DEFAULTS, PLATFORM_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:platform")
    ci: Annotated[CiSettings, EnvironmentProfile(CI_DEFAULTS)] = Field(alias=f"{PROJECT}:ci")
    tenants: Annotated[TenantList, EnvironmentProfile(TENANT_DEFAULTS)] = Field(
        alias=f"{PROJECT}:tenants",
        description=(
            "Customers, each a list item {name, tier}: an isolated namespace sized by its tier "
            "(starter, standard or enterprise; see docs/architecture.md for the quotas)."
        ),
    )
    tenant_data: Annotated[TenantDataSettings, EnvironmentProfile(TENANT_DATA_DEFAULTS)] = Field(
        alias=f"{PROJECT}:tenantData",
        description=(
            "Tenants' data: database limits per tier, and the retired tenants whose schema is "
            "kept (or, once reviewed, dropped). See docs/architecture.md, Tenants' data."
        ),
    )
    ingress: Annotated[
        IngressSettings, EnvironmentProfile(INGRESS_DEFAULTS, INGRESS_PROD_RULES)
    ] = Field(alias=f"{PROJECT}:ingress")
    vercel: Annotated[VercelSettings, EnvironmentProfile(VERCEL_DEFAULTS)] = Field(
        alias=f"{PROJECT}:vercel"
    )
    vercel_api_token: str | None = Field(
        default=None,
        alias=f"{PROJECT}:vercelApiToken",
        min_length=1,
        description=(
            "Vercel API token for attaching the genericcorp:vercel projects' domains; set it "
            "with `pulumi config set --secret` (a plain value is refused). Required when a "
            "project is configured, never printed."
        ),
    )

    _stack: str = PrivateAttr(default="")
    _secret_keys: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region not in known_regions():
            close = difflib.get_close_matches(region, known_regions(), n=3, cutoff=0.7)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"not an AWS region{hint} (for example us-east-1, eu-west-1)")
        if known_regions()[region] not in SUPPORTED_PARTITIONS:
            raise ValueError(
                f"a region of the {known_regions()[region]} partition; the program supports the "
                "commercial partition (aws) only, whose service principals and ARNs it uses"
            )
        return region

    def bind(self, stack: str, secret_keys: frozenset[str]) -> None:
        """Record which stack this configuration is for and which of its keys are secret."""
        self._stack = stack
        self._secret_keys = secret_keys

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def stack_file(self) -> str:
        return stack_file_name(self._stack)

    @property
    def partition(self) -> str:
        return known_regions()[self.region]

    def is_secret(self, key: str) -> bool:
        """Whether a top-level key (e.g. ``genericcorp:alerts``) was set as a ``secure:`` value."""
        return key in self._secret_keys

    def default_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries through the AWS provider's default tags."""
        return {
            "Project": PROJECT,
            "Environment": str(self.environment),
            "ManagedBy": "pulumi",
            "CostCenter": self.tagging.cost_center,
            **self.tagging.extra_tags,
        }


def profiled_keys() -> Iterator[tuple[str, str, EnvironmentProfile]]:
    """(field name, key, profile) of every ``StackConfig`` key with defaults, in field order."""
    for name, field in StackConfig.model_fields.items():
        for metadata in field.metadata:
            if isinstance(metadata, EnvironmentProfile):
                yield name, field.alias or name, metadata


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"
