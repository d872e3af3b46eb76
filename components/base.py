"""What every component shares: the stack context, the settings base model and tagging.

Nothing here declares a resource. Components import these so that naming, tags and the
shape of settings are the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import pulumi
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Environment(StrEnum):
    """The two environment profiles. Prod is held to the 99.9% uptime target."""

    DEV = "dev"
    PROD = "prod"


class SettingsModel(BaseModel):
    """Base of every settings object read from stack config.

    Keys are camelCase as in ``Pulumi.<stack>.yaml``; unknown keys are errors (a typo must never
    be ignored); values are validated strictly against their JSON types (``"3"`` is not a number).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
        use_enum_values=False,
    )


@dataclass(frozen=True)
class StackContext:
    """Facts about the stack that every component needs to name and scope its resources."""

    project: str
    """Pulumi project name; first part of every physical name."""
    stack: str
    """Pulumi stack name (``dev``, ``prod``)."""
    environment: Environment
    """Environment profile of the stack."""
    region: str
    """AWS region the stack deploys into."""
    account_id: str
    """AWS account id, for ARNs and confused-deputy conditions in resource policies."""
    partition: str = "aws"
    """AWS partition (``aws``, ``aws-us-gov``, ``aws-cn``)."""

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    def physical_name(self, *parts: str) -> str:
        """A physical name unique per project and stack, e.g. ``genericcorp-dev-alerts``."""
        return "-".join((self.project, self.stack, *parts))

    def path(self, *parts: str) -> str:
        """A slash path unique per project and stack, e.g. ``/genericcorp/dev/vpc/flow-logs``."""
        return "/" + "/".join((self.project, self.stack, *parts))

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this stack's account (and region unless ``region=False``)."""
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


class PlatformComponent(pulumi.ComponentResource):
    """A component whose children all carry its ``Component`` cost-allocation tag.

    Provider default tags add Project, Environment, ManagedBy and CostCenter to every taggable
    resource; the Component tag comes from here because it differs per component.
    """

    TYPE: ClassVar[str]
    """The Pulumi type token, ``genericcorp:<area>:<Name>``: part of every child's URN."""
    COMPONENT: ClassVar[str]
    """The ``Component`` cost-allocation tag of the component and its children."""

    def __init__(
        self,
        name: str,
        *,
        context: StackContext,
        component_tag: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Register the component as ``TYPE`` named ``name``; its children are tagged
        ``component_tag`` (the class's ``COMPONENT`` unless an owner lends its own)."""
        super().__init__(self.TYPE, name, None, opts)
        self.context = context
        self.component_tag = component_tag or self.COMPONENT

    def tags(self, name: str | None = None, **extra: str) -> dict[str, str]:
        """Tags for a child: the Component tag, a ``Name`` for the console, and any extras."""
        tags = {"Component": self.component_tag}
        if name is not None:
            tags["Name"] = self.context.physical_name(name)
        tags.update(extra)
        return tags

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Resource options that parent a child to this component (and so to its provider)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)

    OUTPUTS: ClassVar[Mapping[str, str]] = {}
    """The component's outputs (camelCase key -> description): what it registers, what the
    stack exports under the component's output name, and what the README's table lists."""

    outputs: dict[str, Any]
    """The registered outputs, keyed as ``OUTPUTS`` declares them."""

    def publish(self, outputs: Mapping[str, Any]) -> None:
        """Register ``outputs``: exactly the keys ``OUTPUTS`` declares, no more, no fewer."""
        declared, given = set(self.OUTPUTS), set(outputs)
        if declared != given:
            raise TypeError(
                f"{type(self).__name__} publishes {sorted(given)} but declares "
                f"{sorted(declared)} in OUTPUTS (missing: {sorted(declared - given)}, "
                f"undeclared: {sorted(given - declared)})"
            )
        self.outputs = {key: outputs[key] for key in self.OUTPUTS}
        self.register_outputs(self.outputs)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document as JSON; statements may hold Outputs (ARNs of other resources)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def static_policy_document(statements: Sequence[Mapping[str, Any]]) -> str:
    """An IAM policy document as JSON for statements that hold only plain values."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)
