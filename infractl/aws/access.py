"""What ``infractl bootstrap`` and ``infractl verify`` share about talking to AWS.

Both commands check their input before the first call (a region botocore does not know is refused
without touching the network) and turn credential problems into one line an operator can act on,
instead of a botocore traceback.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sts import STSClient

# Error codes AWS returns when the caller's credentials are unusable (as opposed to "not allowed").
_CREDENTIAL_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "RequestExpired",
    }
)


class AwsAccessError(Exception):
    """AWS cannot be used as asked (no or expired credentials, unknown profile, no network).

    The message is one line meant for the operator; callers print it without a traceback.
    """


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore's bundled endpoint data knows, across all partitions (no call)."""
    import boto3  # noqa: PLC0415 - keep boto3 out of `infractl plan`'s start-up

    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("s3", partition_name=partition)
    )


def region_problem(region: str) -> str | None:
    """Why ``region`` is not a region AWS has, or None when it is one."""
    if region in known_regions():
        return None
    close = sorted(
        r
        for r in known_regions()
        if r.split("-", maxsplit=1)[0] == region.split("-", maxsplit=1)[0]
    )
    hint = f"; regions starting like it: {', '.join(close)}" if close else ""
    return f"unknown AWS region {region!r}{hint}"


def session_for(region: str, profile: str | None) -> boto3.Session:
    """A boto3 session for ``region`` (and ``profile``), or an AwsAccessError naming the problem."""
    import boto3  # noqa: PLC0415
    from botocore.exceptions import ProfileNotFound  # noqa: PLC0415

    try:
        return boto3.Session(region_name=region, profile_name=profile)
    except ProfileNotFound:
        raise AwsAccessError(
            f"AWS profile {profile!r} is not in your AWS config; check the name or set AWS_PROFILE"
        ) from None


def caller_account(sts: STSClient) -> str:
    """The account id the credentials belong to; AwsAccessError when they are missing or bad."""
    from botocore.exceptions import (  # noqa: PLC0415
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        SSOError,
        TokenRetrievalError,
    )

    try:
        return sts.get_caller_identity()["Account"]
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsAccessError(
            "no AWS credentials found: set AWS_PROFILE (or run `aws sso login`), "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except (SSOError, TokenRetrievalError) as error:
        raise AwsAccessError(
            f"AWS SSO credentials are not usable ({error}); run `aws sso login` and retry"
        ) from None
    except EndpointConnectionError as error:
        raise AwsAccessError(f"cannot reach AWS: {error}") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _CREDENTIAL_ERROR_CODES:
            raise AwsAccessError(
                f"AWS rejected the credentials ({code}): they are expired or invalid; "
                "refresh them (e.g. `aws sso login`) and retry"
            ) from None
        raise AwsAccessError(f"AWS STS refused to identify the caller: {error}") from None


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError (empty for anything else)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})  # pyright: ignore[reportUnknownVariableType]
        if isinstance(details, dict):
            return str(details.get("Code", ""))  # pyright: ignore[reportUnknownArgumentType]
    return ""
