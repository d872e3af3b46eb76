"""An S3 bucket no one reaches by accident: public access blocked, ACLs off (the bucket owner
owns every object), protected from deletion in prod. What it stores and for how long (versions,
encryption, lifecycle, policy) is its owner's to add."""

from __future__ import annotations

import pulumi_aws as aws

from components.base import PlatformComponent


def private_bucket(
    owner: PlatformComponent, name: str, *, purpose: str, **tags: str
) -> aws.s3.Bucket:
    """The bucket ``<stack>-<purpose>-<account>`` (tagged ``purpose``) with its public access
    block and ``BucketOwnerEnforced`` ownership (FSBP S3.8 and S3.12)."""
    context = owner.context
    bucket = aws.s3.Bucket(
        name,
        bucket=context.physical_name(purpose, context.account_id),
        force_destroy=False,
        tags=owner.tags(purpose, **tags),
        opts=owner.child_opts(protect=context.is_prod),
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=owner.child_opts(),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=owner.child_opts(),
    )
    return bucket
