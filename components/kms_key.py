"""KmsKey: a customer-managed KMS key with rotation on and an alias.

Creates:
- ``aws.kms.Key``: symmetric, rotation enabled, a deletion window from stack config, and a key
  policy that gives the account administrators control and each named AWS service only the
  actions it needs (for example CloudWatch Logs encrypting one log-group prefix);
- ``aws.kms.Alias``: ``alias/<project>/<stack>/<purpose>``, so operators find the key by name.

Each purpose gets its own key so that a service principal allowed to use one key cannot read
data encrypted for another (least privilege; $1 per key-month).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import PROD_KMS_DELETION_WINDOW_DAYS
from pydantic import Field

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    StackContext,
    policy_document,
)
from components.cost import CostLine, PriceCatalog

#: Actions a service needs to encrypt and decrypt with a key it does not administer.
ENCRYPT_DECRYPT_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


class KmsSettings(SettingsModel):
    """Settings shared by every customer-managed key in the stack."""

    deletion_window_days: int = Field(
        ge=7,
        le=30,
        description=(
            "Days a key stays recoverable after it is scheduled for deletion (AWS allows 7-30). "
            "Data encrypted with a deleted key is lost for good."
        ),
    )


def service_statement(
    sid: str,
    service: str,
    actions: Sequence[str] = ENCRYPT_DECRYPT_ACTIONS,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A key-policy statement that lets one AWS service principal use the key."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(actions),
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def logs_statement(sid: str, context: StackContext, log_groups: str) -> dict[str, Any]:
    """A key-policy statement that lets CloudWatch Logs in ``context``'s region use the key,
    for the log groups ``log_groups`` names (a name, or a pattern ending in ``*``) and no other:
    the encryption context of every request names the log group."""
    return service_statement(
        sid,
        f"logs.{context.region}.amazonaws.com",
        condition={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": context.arn("logs", f"log-group:{log_groups}")
            }
        },
    )


class KmsKey(PlatformComponent):
    """A customer-managed symmetric key with rotation and an alias."""

    TYPE: ClassVar[str] = "genericcorp:security:KmsKey"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "arn": "ARN of the key, for the resources it encrypts.",
        "keyId": "Id of the key.",
        "aliasName": "alias/<project>/<stack>/<purpose>: how operators find the key.",
    }

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        purpose: str,
        description: str,
        settings: KmsSettings,
        context: StackContext,
        component_tag: str,
        service_statements: Sequence[Mapping[str, Any]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """A key for one ``purpose`` (its alias, its ``Purpose`` tag and the first words of its
        description): a purpose per key, so that a service allowed to use it reads nothing
        encrypted for another. ``component_tag`` is the owner's ``Component`` tag, so the
        key's cost lands on the component that needs it (``owned_by`` passes the owner's).
        The account root administers the key; ``service_statements`` add each AWS service
        that must use it, with only the actions and conditions it needs
        (``service_statement``, ``logs_statement``). ``settings`` hold the deletion window.
        """
        super().__init__(name, context=context, component_tag=component_tag, opts=opts)
        administrators = {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": context.account_root_arn},
            "Action": "kms:*",
            "Resource": "*",
        }
        key = aws.kms.Key(
            name,
            description=f"{context.physical_name(purpose)}: {description}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=settings.deletion_window_days,
            policy=policy_document([administrators, *service_statements]),
            tags=self.tags(purpose, Purpose=purpose),
            opts=self.child_opts(),
        )
        alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{context.project}/{context.stack}/{purpose}",
            target_key_id=key.key_id,
            opts=self.child_opts(),
        )
        self.arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.publish({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias_name})

    @classmethod
    def owned_by(
        cls,
        owner: PlatformComponent,
        name: str,
        *,
        purpose: str,
        description: str,
        settings: KmsSettings,
        service_statements: Sequence[Mapping[str, Any]] = (),
    ) -> KmsKey:
        """A key that is a child of ``owner`` and carries its Component tag."""
        return cls(
            name,
            purpose=purpose,
            description=description,
            settings=settings,
            context=owner.context,
            component_tag=owner.component_tag,
            service_statements=service_statements,
            opts=owner.child_opts(),
        )

    @classmethod
    def cost_lines(
        cls, component: str, catalog: PriceCatalog, *, purposes: Sequence[str]
    ) -> list[CostLine]:
        """One key-month per key that ``component`` owns, one for each of ``purposes`` (the
        purposes its parts derive, so the lines name the keys it declares). Requests are not
        priced: the keys here serve AWS services at rates far below KMS's $0.03 per 10,000
        requests mattering."""
        price = catalog.price("kms.customer-managed-key", resource="aws:kms/key:Key")
        rotation = catalog.price("kms.key-rotation", resource="aws:kms/key:Key")
        return [
            line
            for purpose in purposes
            for line in (
                CostLine.fixed(component, f"KMS key ({purpose})", price, 1),
                # Rotation is on for every key: each of the first two yearly rotations adds $1 a
                # month for good. Priced at that steady state (from the third year), so the
                # estimate holds for the life of the stack, not only its first year.
                CostLine.fixed(
                    component,
                    f"KMS key rotations ({purpose})",
                    rotation,
                    KMS_PRICED_ROTATIONS,
                    note=f"{KMS_PRICED_ROTATIONS} rotations kept (steady state from year three)",
                ),
            )
        ]


#: Automatic rotations that carry a monthly charge: the first two (KMS pricing).
KMS_PRICED_ROTATIONS = 2

# Defaults per environment and prod rules

KMS_DEFAULTS = ByEnvironment(
    # Dev keys hold only rebuildable data: the shortest recovery window AWS allows.
    dev=KmsSettings(deletion_window_days=7),
    prod=KmsSettings(deletion_window_days=30),
)

KMS_PROD_RULES = (
    ProdRule(
        KmsSettings,
        key=lambda s: s.deletion_window_days,
        accepts=lambda days: days >= PROD_KMS_DELETION_WINDOW_DAYS,
        allowed=f"{PROD_KMS_DELETION_WINDOW_DAYS}",
        reason="a key scheduled for deletion by mistake must stay recoverable for the longest "
        "window AWS offers",
        policy="kms-prod-deletion-window",
    ),
)
