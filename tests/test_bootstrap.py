"""`infractl bootstrap` with moto: fresh account, re-runs, weaker and partial states, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from infractl.aws.access import AwsAccessError, known_regions
from infractl.aws.bootstrap import (
    ALIAS_TAG,
    DEFAULT_KEY_ALIAS,
    LIFECYCLE_RULE_ID,
    TLS_STATEMENT_SID,
    BootstrapError,
    BootstrapReport,
    BootstrapRequest,
    Result,
    bootstrap,
    bucket_name_problems,
    default_bucket_name,
)
from infractl.cli import app

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = default_bucket_name(ACCOUNT, REGION)
runner = CliRunner()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere botocore looks, and no instance metadata to ask."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@cache
def _client(service: str) -> Any:
    """One client per service for the session: moto resets its backends, not the clients, per
    test, and creating a botocore client costs a tenth of a second."""
    name: Any = service  # boto3-stubs types each service's client; these are looked up by name
    return boto3.client(
        name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def sts() -> STSClient:
    return _client("sts")


def kms() -> KMSClient:
    return _client("kms")


def s3() -> S3Client:
    return _client("s3")


def request(**changes: Any) -> BootstrapRequest:
    base = BootstrapRequest(
        region=REGION,
        bucket="",
        key_alias=DEFAULT_KEY_ALIAS,
        noncurrent_days=90,
        fix=False,
        account_id=None,
    )
    return replace(base, **changes)


def run(**changes: Any) -> BootstrapReport:
    return bootstrap(request(**changes), sts=sts(), kms=kms(), s3=s3())


def results(report: BootstrapReport) -> dict[tuple[str, str], Result]:
    return {(f.resource.split()[0], f.setting): f.result for f in report.findings}


def assert_bucket_is_hardened(key_arn: str, days: int = 90) -> None:
    client = s3()
    assert client.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = client.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    assert rule.get("ApplyServerSideEncryptionByDefault") == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key_arn,
    }
    assert rule.get("BucketKeyEnabled") is True
    block = client.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    ownership = client.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    policy = json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])
    tls = next(s for s in policy["Statement"] if s.get("Sid") == TLS_STATEMENT_SID)
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(tls["Resource"]) == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}
    rules = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    ours = next(r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID)
    assert ours["Status"] == "Enabled"
    assert ours.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == days


# --- a fresh account and re-runs -------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_fresh_account_gets_a_hardened_bucket_and_a_rotating_key() -> None:
    report = run()
    assert report.bucket == BUCKET
    assert {f.result for f in report.findings} == {Result.CREATED}
    assert report.changed
    key = kms().describe_key(KeyId=DEFAULT_KEY_ALIAS)["KeyMetadata"]
    assert key.get("Arn") == report.key_arn
    assert key.get("KeySpec") == "SYMMETRIC_DEFAULT"
    assert kms().get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert_bucket_is_hardened(report.key_arn)
    tags = {t["Key"]: t["Value"] for t in s3().get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["ManagedBy"] == "infractl-bootstrap"


@pytest.mark.usefixtures("aws")
def test_a_second_run_changes_nothing_and_says_so() -> None:
    first = run()
    second = run()
    assert second.key_arn == first.key_arn
    assert {f.result for f in second.findings} == {Result.OK}
    assert not second.changed
    assert len(kms().list_keys()["Keys"]) == 1

    result = runner.invoke(app, ["bootstrap", "--region", REGION])
    assert result.exit_code == 0, result.output
    assert "No changes: the state backend already has every setting." in result.output


@pytest.mark.usefixtures("aws")
def test_cli_prints_the_login_and_secrets_provider_lines() -> None:
    result = runner.invoke(app, ["bootstrap", "--region", REGION, "--bucket", "gc-state-test"])
    assert result.exit_code == 0, result.output
    assert "pulumi login 's3://gc-state-test?region=eu-west-1'" in result.output
    assert (
        "pulumi stack init prod --secrets-provider "
        "'awskms://alias/genericcorp/pulumi-secrets?region=eu-west-1'"
    ) in result.output
    assert "The state backend is ready." in result.output


@pytest.mark.usefixtures("aws")
def test_us_east_1_bucket_is_created_without_a_location_constraint() -> None:
    report = bootstrap(
        request(region="us-east-1", bucket="gc-state-use1"),
        sts=sts(),
        kms=boto3.client("kms", region_name="us-east-1"),
        s3=boto3.client("s3", region_name="us-east-1"),
    )
    assert results(report)[("S3", "bucket")] is Result.CREATED
    location = boto3.client("s3", region_name="us-east-1").get_bucket_location(
        Bucket="gc-state-use1"
    )
    assert location.get("LocationConstraint") is None


# --- partial and weaker states ---------------------------------------------------------------


def create_bare_bucket() -> None:
    s3().create_bucket(
        Bucket=BUCKET,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectOwnership="ObjectWriter",
    )


@pytest.mark.usefixtures("aws")
def test_existing_weak_bucket_is_reported_and_left_alone_without_fix() -> None:
    create_bare_bucket()
    s3().put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    report = run()
    found = results(report)
    assert found[("S3", "bucket")] is Result.OK
    for setting in (
        "object ownership",
        "block public access",
        "versioning",
        "default encryption",
        "TLS-only policy",
        "lifecycle",
    ):
        assert found[("S3", setting)] is Result.WEAKER, setting
    details = {f.setting: f.detail for f in report.findings if f.resource.startswith("S3")}
    assert "AES256 (S3-managed keys, not KMS)" in details["default encryption"]
    # Nothing on the bucket changed.
    assert "Status" not in s3().get_bucket_versioning(Bucket=BUCKET)
    rule = s3().get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "AES256"

    result = runner.invoke(app, ["bootstrap", "--region", REGION])
    assert result.exit_code == 1
    assert "6 setting(s) weaker than required; nothing was changed on them." in result.output
    assert "--fix" in result.output
    assert "pulumi login" not in result.output


@pytest.mark.usefixtures("aws")
def test_fix_brings_a_weak_bucket_up_to_the_settings_then_reruns_are_clean() -> None:
    create_bare_bucket()
    fixed = run(fix=True)
    found = results(fixed)
    assert found[("S3", "versioning")] is Result.FIXED
    assert found[("S3", "default encryption")] is Result.FIXED
    assert_bucket_is_hardened(fixed.key_arn)
    assert {f.result for f in run().findings} == {Result.OK}


@pytest.mark.usefixtures("aws")
def test_fix_keeps_the_buckets_other_policy_statements_and_lifecycle_rules() -> None:
    create_bare_bucket()
    other_statement = {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3().put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [other_statement]})
    )
    s3().put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "logs",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "logs/"},
                    "Expiration": {"Days": 30},
                }
            ]
        },
    )
    report = run(fix=True, noncurrent_days=30)
    policy = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [s.get("Sid") for s in policy["Statement"]] == ["AuditorsRead", TLS_STATEMENT_SID]
    rules = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [r.get("ID") for r in rules] == ["logs", LIFECYCLE_RULE_ID]
    assert_bucket_is_hardened(report.key_arn, days=30)


@pytest.mark.usefixtures("aws")
def test_a_lifecycle_with_other_days_is_weaker() -> None:
    run(noncurrent_days=30)
    report = run(noncurrent_days=90)
    assert results(report)[("S3", "lifecycle")] is Result.WEAKER


@pytest.mark.usefixtures("aws")
def test_encryption_with_another_kms_key_is_weaker() -> None:
    run()
    other = kms().create_key()["KeyMetadata"]["KeyId"]
    s3().put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": other,
                    }
                }
            ]
        },
    )
    report = run()
    finding = next(f for f in report.findings if f.setting == "default encryption")
    assert finding.result is Result.WEAKER
    assert f"KMS key {other}, not the bootstrap key" in finding.detail


@pytest.mark.usefixtures("aws")
def test_key_without_its_alias_is_found_by_tag_not_duplicated() -> None:
    first = run()
    kms().delete_alias(AliasName=DEFAULT_KEY_ALIAS)
    second = run()
    assert second.key_arn == first.key_arn
    assert len(kms().list_keys()["Keys"]) == 1
    alias = next(f for f in second.findings if f.setting == "alias")
    assert alias.result is Result.CREATED
    assert "existing key" in alias.detail
    assert kms().describe_key(KeyId=DEFAULT_KEY_ALIAS)["KeyMetadata"].get("Arn") == first.key_arn


@pytest.mark.usefixtures("aws")
def test_an_untagged_key_is_not_adopted() -> None:
    kms().create_key(Tags=[{"TagKey": ALIAS_TAG, "TagValue": "alias/someone-else"}])
    run()
    assert len(kms().list_keys()["Keys"]) == 2


@pytest.mark.usefixtures("aws")
def test_key_with_rotation_off_is_weaker_until_fixed() -> None:
    key_id = kms().create_key()["KeyMetadata"]["KeyId"]
    kms().create_alias(AliasName=DEFAULT_KEY_ALIAS, TargetKeyId=key_id)
    report = run()
    assert results(report)[("KMS", "rotation")] is Result.WEAKER
    assert not kms().get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    fixed = run(fix=True)
    assert results(fixed)[("KMS", "rotation")] is Result.FIXED
    assert kms().get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]


@pytest.mark.usefixtures("aws")
def test_key_scheduled_for_deletion_is_reported_then_rescued_by_fix() -> None:
    run()
    key_id = kms().describe_key(KeyId=DEFAULT_KEY_ALIAS)["KeyMetadata"]["KeyId"]
    kms().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    report = run()
    assert results(report)[("KMS", "state")] is Result.WEAKER
    assert "PendingDeletion" in next(f.detail for f in report.findings if f.setting == "state")
    run(fix=True)
    assert kms().describe_key(KeyId=key_id)["KeyMetadata"].get("KeyState") == "Enabled"


@pytest.mark.usefixtures("aws")
def test_alias_on_an_asymmetric_key_is_refused() -> None:
    key_id = kms().create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms().create_alias(AliasName=DEFAULT_KEY_ALIAS, TargetKeyId=key_id)
    with pytest.raises(BootstrapError, match="not a customer-managed symmetric encryption key"):
        run()


@pytest.mark.usefixtures("aws")
def test_bucket_in_another_region_is_refused() -> None:
    boto3.client("s3", region_name="eu-central-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    with pytest.raises(BootstrapError, match="is in eu-central-1, not eu-west-1"):
        run()


@pytest.mark.usefixtures("aws")
def test_credentials_of_another_account_are_refused() -> None:
    with pytest.raises(BootstrapError, match="credentials are for account 123456789012"):
        run(account_id="210987654321")


# --- bad input: refused before any AWS call -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "2 characters long"),
        ("a" * 64, "64 characters long"),
        ("Genericcorp-State", "lowercase letters"),
        ("state_bucket", "lowercase letters"),
        ("-state", "starting and ending with a letter or digit"),
        ("state..bucket", "two adjacent dots"),
        ("192.168.10.1", "formatted as an IP address"),
        ("xn--state", "starts with 'xn--'"),
        ("state-s3alias", "ends with '-s3alias'"),
    ],
)
@pytest.mark.usefixtures("no_credentials")
def test_a_bucket_name_s3_would_reject_is_refused_up_front(name: str, reason: str) -> None:
    result = runner.invoke(app, ["bootstrap", "--region", REGION, "--bucket", name])
    assert result.exit_code == 2
    assert f"bucket name {name!r}" in result.output
    assert reason in result.output
    assert "credentials" not in result.output  # refused before AWS was asked anything
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("no_credentials")
def test_a_region_that_does_not_exist_is_refused_up_front() -> None:
    result = runner.invoke(app, ["bootstrap", "--region", "eu-west-9"])
    assert result.exit_code == 2
    assert "unknown AWS region 'eu-west-9'; regions starting like it: eu-" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("alias", ["genericcorp/pulumi", "alias/aws/s3", "alias/with space"])
@pytest.mark.usefixtures("no_credentials")
def test_a_bad_key_alias_is_refused(alias: str) -> None:
    result = runner.invoke(app, ["bootstrap", "--region", REGION, "--key-alias", alias])
    assert result.exit_code == 2
    assert f"key alias {alias!r}" in result.output


def test_default_bucket_names_are_valid_in_every_region() -> None:
    for region in known_regions():
        assert bucket_name_problems(default_bucket_name(ACCOUNT, region)) == [], region


# --- credentials ----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_give_one_clear_line() -> None:
    result = runner.invoke(app, ["bootstrap", "--region", REGION])
    assert result.exit_code == 1
    assert result.output.startswith("bootstrap: no AWS credentials found: set AWS_PROFILE")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("no_credentials")
def test_an_unknown_profile_gives_one_clear_line() -> None:
    result = runner.invoke(app, ["bootstrap", "--region", REGION, "--profile", "nope"])
    assert result.exit_code == 1
    assert "AWS profile 'nope' is not in your AWS config" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("code", ["ExpiredToken", "InvalidClientTokenId"])
def test_expired_or_invalid_credentials_are_named(code: str) -> None:
    client = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stub:
        stub.add_client_error("get_caller_identity", service_error_code=code, http_status_code=403)
        with pytest.raises(AwsAccessError, match=rf"AWS rejected the credentials \({code}\)"):
            bootstrap(
                request(),
                sts=client,
                kms=boto3.client("kms", region_name=REGION),
                s3=boto3.client("s3", region_name=REGION),
            )


@pytest.mark.usefixtures("aws")
def test_a_refused_call_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not authorized: s3:PutBucketPolicy"}},
            "PutBucketPolicy",
        )

    monkeypatch.setattr("infractl.aws.bootstrap.bootstrap", refuse)
    result = runner.invoke(app, ["bootstrap", "--region", REGION])
    assert result.exit_code == 1
    assert result.output.startswith(
        "bootstrap: AWS refused a call: An error occurred (AccessDenied)"
    )
    assert "s3:PutBucketPolicy" in result.output
    assert "Traceback" not in result.output
