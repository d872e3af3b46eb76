"""IAM roles for Kubernetes service accounts (IRSA).

A workload that calls AWS APIs (the VPC CNI, the EBS CSI driver, cluster-autoscaler, the load
balancer controller) gets a role of its own that only its service account, in its namespace, of
this cluster may assume through the cluster's OIDC provider. No workload borrows the node role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent, static_policy_document


@dataclass(frozen=True)
class OidcIdentity:
    """The cluster's OIDC provider, as the trust policies of service-account roles name it."""

    provider_arn: pulumi.Output[str]
    """ARN of the IAM OIDC provider registered for the cluster's issuer."""
    issuer: pulumi.Output[str]
    """Issuer host and path without ``https://``, as IAM condition keys spell it."""


def service_account_role(
    owner: PlatformComponent,
    name: str,
    *,
    oidc: OidcIdentity,
    namespace: str,
    service_account: str,
    description: str,
    managed_policy_arns: Sequence[str] = (),
    inline_policy: pulumi.Input[str] | None = None,
) -> aws.iam.Role:
    """A role, child of ``owner``, that only ``namespace``/``service_account`` may assume."""
    trust = pulumi.Output.all(oidc.provider_arn, oidc.issuer).apply(
        lambda parts: static_policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": parts[0]},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{parts[1]}:sub": (
                                f"system:serviceaccount:{namespace}:{service_account}"
                            ),
                            f"{parts[1]}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ]
        )
    )
    role = aws.iam.Role(
        name,
        description=description,
        assume_role_policy=trust,
        tags=owner.tags(name),
        opts=owner.child_opts(),
    )
    for arn in managed_policy_arns:
        aws.iam.RolePolicyAttachment(
            f"{name}-{arn.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=arn,
            opts=owner.child_opts(),
        )
    if inline_policy is not None:
        aws.iam.RolePolicy(
            f"{name}-policy", role=role.id, policy=inline_policy, opts=owner.child_opts()
        )
    return role
