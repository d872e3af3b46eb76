"""``infractl bootstrap``: the S3 bucket for Pulumi state and the KMS key for stack secrets.

Run once per account and region, before the first ``pulumi login``. It makes sure that:

- a symmetric KMS key exists behind the alias (default ``alias/genericcorp/pulumi-secrets``),
  enabled, with automatic rotation; the stacks' secrets provider encrypts with it;
- the state bucket exists with BucketOwnerEnforced ownership (no ACLs), all four Block Public
  Access settings, versioning, SSE-KMS default encryption with that key (S3 Bucket Keys on, to
  keep KMS request costs down), a bucket policy that denies any request not made over TLS, and a
  lifecycle rule that expires noncurrent state versions and aborts stale multipart uploads.

Every setting is read first. Missing resources are created; a resource that exists with a weaker
setting is reported and changed only with ``--fix``, because the bucket or key may be shared and
an operator should see what changes. A second run reports "no changes". Inputs (bucket name,
region, alias) are validated before any AWS call; credential problems print one line.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infractl.aws.access import (
    AwsAccessError,
    caller_account,
    error_code,
    region_problem,
    session_for,
)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

DEFAULT_KEY_ALIAS = "alias/genericcorp/pulumi-secrets"
DEFAULT_NONCURRENT_DAYS = 90
LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
TLS_STATEMENT_SID = "DenyInsecureTransport"
# Marks the key this command creates, so a key whose alias was deleted is found again rather
# than a second key being created (each key costs $1 a month and orphans secrets).
ALIAS_TAG = "SecretsProviderAlias"
TAGS = {"Project": "genericcorp", "ManagedBy": "infractl-bootstrap", "Purpose": "pulumi-state"}
STACKS = ("dev", "prod")
EXIT_INVALID = 2

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")


class Result(StrEnum):
    OK = "ok"
    CREATED = "created"
    FIXED = "fixed"
    WEAKER = "weaker"


@dataclass(frozen=True)
class Finding:
    resource: str
    setting: str
    result: Result
    detail: str


@dataclass(frozen=True)
class BootstrapRequest:
    region: str
    bucket: str
    key_alias: str
    noncurrent_days: int
    fix: bool
    account_id: str | None


@dataclass
class BootstrapReport:
    account_id: str
    region: str
    bucket: str
    key_alias: str
    key_arn: str = ""
    findings: list[Finding] = field(default_factory=list[Finding])

    @property
    def changed(self) -> bool:
        return any(f.result in (Result.CREATED, Result.FIXED) for f in self.findings)

    @property
    def weaker(self) -> list[Finding]:
        return [f for f in self.findings if f.result is Result.WEAKER]

    def login_command(self) -> str:
        return f"pulumi login 's3://{self.bucket}?region={self.region}'"

    def stack_init_commands(self) -> list[str]:
        provider = f"awskms://{self.key_alias}?region={self.region}"
        return [f"pulumi stack init {stack} --secrets-provider '{provider}'" for stack in STACKS]


class BootstrapError(Exception):
    """The backend cannot be bootstrapped as asked; the message says why, in one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def default_bucket_name(account_id: str, region: str) -> str:
    """Bucket names are global: the account and region make this one unique and self-describing."""
    return f"genericcorp-pulumi-state-{account_id}-{region}"


def bucket_name_problems(name: str) -> list[str]:
    """Every rule of S3's general-purpose bucket naming that ``name`` breaks."""
    problems: list[str] = []
    if not 3 <= len(name) <= 63:
        problems.append(f"it is {len(name)} characters long; S3 allows 3 to 63")
    if not _BUCKET_CHARS.match(name):
        problems.append(
            "use only lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in name:
        problems.append("it has two adjacent dots")
    try:
        ipaddress.IPv4Address(name)
        problems.append("it is formatted as an IP address")
    except ValueError:
        pass
    problems.extend(
        f"it starts with {p!r}, which S3 reserves" for p in _BUCKET_PREFIXES if name.startswith(p)
    )
    problems.extend(
        f"it ends with {s!r}, which S3 reserves" for s in _BUCKET_SUFFIXES if name.endswith(s)
    )
    return problems


def validate_request(request: BootstrapRequest) -> None:
    """Refuse, before any AWS call, what AWS would refuse or what would break the backend."""
    problems: list[str] = []
    if (region_error := region_problem(request.region)) is not None:
        problems.append(region_error)
    if request.bucket:
        problems.extend(
            f"bucket name {request.bucket!r}: {problem}"
            for problem in bucket_name_problems(request.bucket)
        )
    if not _ALIAS.match(request.key_alias) or request.key_alias.startswith("alias/aws/"):
        problems.append(
            f"key alias {request.key_alias!r}: expected 'alias/<name>' with letters, digits, "
            "'/', '_' or '-' (names under alias/aws/ belong to AWS)"
        )
    if not 1 <= request.noncurrent_days <= 3650:
        problems.append(f"noncurrent-days {request.noncurrent_days}: expected 1 to 3650")
    if request.account_id is not None and not re.fullmatch(r"\d{12}", request.account_id):
        problems.append(f"account id {request.account_id!r}: expected 12 digits")
    if problems:
        raise BootstrapError("; ".join(problems), code=EXIT_INVALID)


def bootstrap(
    request: BootstrapRequest, *, sts: STSClient, kms: KMSClient, s3: S3Client
) -> BootstrapReport:
    """Create or check the key and the bucket; return what was found and done."""
    validate_request(request)
    account_id = caller_account(sts)
    if request.account_id is not None and request.account_id != account_id:
        raise BootstrapError(
            f"the credentials are for account {account_id}, not {request.account_id}; "
            "switch profile or drop --account-id"
        )
    report = BootstrapReport(
        account_id=account_id,
        region=request.region,
        bucket=request.bucket or default_bucket_name(account_id, request.region),
        key_alias=request.key_alias,
    )
    report.key_arn = _ensure_key(kms, request, report)
    _ensure_bucket(s3, request, report)
    return report


# --- KMS key -----------------------------------------------------------------------------------


def _ensure_key(kms: KMSClient, request: BootstrapRequest, report: BootstrapReport) -> str:
    """The key behind the alias, created when missing, checked (and fixed if asked) when not."""
    add = report.findings.append
    resource = f"KMS key {request.key_alias}"
    try:
        metadata = kms.describe_key(KeyId=request.key_alias)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        orphan = _find_tagged_key(kms, request.key_alias)
        if orphan is None:
            return _create_key(kms, request.key_alias, add)
        kms.create_alias(AliasName=request.key_alias, TargetKeyId=orphan)
        detail = f"{request.key_alias} -> existing key {orphan} (tagged for this alias)"
        add(Finding(resource, "alias", Result.CREATED, detail))
        metadata = kms.describe_key(KeyId=orphan)["KeyMetadata"]
    else:
        add(Finding(resource, "alias", Result.OK, f"points at key {metadata['KeyId']}"))

    key_id = metadata["KeyId"]
    if (
        metadata.get("KeyManager") == "AWS"
        or metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
        or metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT"
    ):
        raise BootstrapError(
            f"{request.key_alias} points at key {key_id}, which is not a customer-managed "
            "symmetric encryption key; choose another --key-alias"
        )
    if _check_key_state(
        kms, key_id, metadata.get("KeyState", ""), fix=request.fix, resource=resource, add=add
    ):
        _check_rotation(kms, key_id, request.fix, resource, add)
    return metadata.get("Arn", "")


def _create_key(kms: KMSClient, alias: str, add: Callable[[Finding], None]) -> str:
    resource = f"KMS key {alias}"
    key_id = kms.create_key(
        Description="Pulumi stack secrets (genericcorp); created by infractl bootstrap",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=[
            *({"TagKey": k, "TagValue": v} for k, v in TAGS.items()),
            {"TagKey": ALIAS_TAG, "TagValue": alias},
        ],
    )["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    add(Finding(resource, "key", Result.CREATED, f"symmetric key {key_id}"))
    add(Finding(resource, "rotation", Result.CREATED, "automatic rotation on"))
    add(Finding(resource, "alias", Result.CREATED, f"{alias} -> {key_id}"))
    return kms.describe_key(KeyId=key_id)["KeyMetadata"].get("Arn", "")


def _check_key_state(
    kms: KMSClient,
    key_id: str,
    state: str,
    *,
    fix: bool,
    resource: str,
    add: Callable[[Finding], None],
) -> bool:
    """Report the key's state; True when the key is usable (so its rotation can be read)."""
    if state == "Enabled":
        add(Finding(resource, "state", Result.OK, "enabled"))
        return True
    if state not in ("Disabled", "PendingDeletion"):
        raise BootstrapError(f"key {key_id} is {state}; it cannot hold stack secrets")
    if fix:
        if state == "PendingDeletion":
            kms.cancel_key_deletion(KeyId=key_id)
        kms.enable_key(KeyId=key_id)
        add(Finding(resource, "state", Result.FIXED, f"was {state}; now enabled"))
        return True
    add(
        Finding(
            resource,
            "state",
            Result.WEAKER,
            f"{state}: stack secrets cannot be decrypted; --fix enables it",
        )
    )
    add(Finding(resource, "rotation", Result.WEAKER, "not checked while the key is unusable"))
    return False


def _check_rotation(
    kms: KMSClient, key_id: str, fix: bool, resource: str, add: Callable[[Finding], None]
) -> None:
    if kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]:
        add(Finding(resource, "rotation", Result.OK, "automatic rotation on"))
    elif fix:
        kms.enable_key_rotation(KeyId=key_id)
        add(Finding(resource, "rotation", Result.FIXED, "automatic rotation turned on"))
    else:
        add(Finding(resource, "rotation", Result.WEAKER, "automatic rotation is off (KMS.4)"))


def _find_tagged_key(kms: KMSClient, alias: str) -> str | None:
    """A usable key this command created for ``alias`` earlier, whose alias has since gone."""
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            key_id = key.get("KeyId", "")
            try:
                tags = kms.list_resource_tags(KeyId=key_id)["Tags"]
            except kms.exceptions.ClientError:
                continue  # AWS-managed and foreign keys may refuse; they are not ours anyway
            if {"TagKey": ALIAS_TAG, "TagValue": alias} in tags:
                state = kms.describe_key(KeyId=key_id)["KeyMetadata"].get("KeyState")
                if state in ("Enabled", "Disabled", "PendingDeletion"):
                    return key_id
    return None


# --- S3 bucket ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setting:
    name: str
    read: Callable[[], str | None]  # None when the live setting meets the requirement
    apply: Callable[[], object]
    wanted: str


def _ensure_bucket(s3: S3Client, request: BootstrapRequest, report: BootstrapReport) -> None:
    bucket, region = report.bucket, request.region
    resource = f"S3 bucket {bucket}"
    created = False
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=report.account_id)
    except s3.exceptions.ClientError as error:
        code = error_code(error)
        if code not in ("404", "NoSuchBucket"):
            raise BootstrapError(
                f"bucket {bucket} exists but this account ({report.account_id}) does not own it "
                f"or may not read it ({code}); choose another --bucket"
            ) from None
        _create_bucket(s3, bucket, region)
        created = True
        report.findings.append(Finding(resource, "bucket", Result.CREATED, f"in {region}"))
    else:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        actual = "eu-west-1" if location == "EU" else location
        if actual != region:
            raise BootstrapError(
                f"bucket {bucket} is in {actual}, not {region}; use --region {actual} "
                "or another --bucket"
            )
        report.findings.append(Finding(resource, "bucket", Result.OK, f"exists in {region}"))

    for setting in _bucket_settings(s3, bucket, report, request.noncurrent_days):
        if created:
            setting.apply()
            report.findings.append(Finding(resource, setting.name, Result.CREATED, setting.wanted))
            continue
        problem = setting.read()
        if problem is None:
            report.findings.append(Finding(resource, setting.name, Result.OK, setting.wanted))
        elif request.fix:
            setting.apply()
            report.findings.append(
                Finding(
                    resource, setting.name, Result.FIXED, f"was: {problem}; now: {setting.wanted}"
                )
            )
        else:
            report.findings.append(
                Finding(
                    resource, setting.name, Result.WEAKER, f"{problem}; wanted: {setting.wanted}"
                )
            )
    if created:
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]}
        )


def _create_bucket(s3: S3Client, bucket: str, region: str) -> None:
    try:
        if region == "us-east-1":  # S3 refuses a location constraint naming its default region
            s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced")
        else:
            s3.create_bucket(
                Bucket=bucket,
                ObjectOwnership="BucketOwnerEnforced",
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
    except (s3.exceptions.BucketAlreadyExists, s3.exceptions.BucketAlreadyOwnedByYou):
        raise BootstrapError(
            f"bucket name {bucket} is taken by another account; choose another --bucket"
        ) from None


def _bucket_settings(
    s3: S3Client, bucket: str, report: BootstrapReport, noncurrent_days: int
) -> list[_Setting]:
    key_arn = report.key_arn
    key_id = key_arn.rsplit("/", 1)[-1]

    def missing(call: Callable[[], Any], *codes: str) -> Any:
        try:
            return call()
        except s3.exceptions.ClientError as error:
            if error_code(error) in codes:
                return None
            raise

    def read_ownership() -> str | None:
        found = missing(
            lambda: s3.get_bucket_ownership_controls(Bucket=bucket),
            "OwnershipControlsNotFoundError",
        )
        rules = found["OwnershipControls"]["Rules"] if found else []
        owners = [rule["ObjectOwnership"] for rule in rules]
        return (
            None
            if owners == ["BucketOwnerEnforced"]
            else f"object ownership {owners or 'unset'} (ACLs usable)"
        )

    def read_public_access() -> str | None:
        found = missing(
            lambda: s3.get_public_access_block(Bucket=bucket),
            "NoSuchPublicAccessBlockConfiguration",
        )
        config = found["PublicAccessBlockConfiguration"] if found else {}
        off = [name for name in _PUBLIC_ACCESS_FLAGS if not config.get(name)]
        return None if not off else f"off: {', '.join(off)}"

    def read_versioning() -> str | None:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
        return None if status == "Enabled" else f"versioning {status}"

    def read_encryption() -> str | None:
        found = missing(
            lambda: s3.get_bucket_encryption(Bucket=bucket),
            "ServerSideEncryptionConfigurationNotFoundError",
        )
        rules = found["ServerSideEncryptionConfiguration"]["Rules"] if found else []
        if not rules:
            return "no default encryption"
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        algorithm = default.get("SSEAlgorithm", "none")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            return f"{algorithm} (S3-managed keys, not KMS)"
        used = default.get("KMSMasterKeyID", "aws/s3")
        if used not in (key_arn, key_id, report.key_alias):
            return f"KMS key {used}, not the bootstrap key"
        return None

    def read_policy() -> str | None:
        found = missing(lambda: s3.get_bucket_policy(Bucket=bucket), "NoSuchBucketPolicy")
        if not found:
            return "no bucket policy"
        document = json.loads(found["Policy"])
        return (
            None if _has_tls_denial(document, bucket) else "no statement denying non-TLS requests"
        )

    def read_lifecycle() -> str | None:
        rule = _our_rule(_lifecycle_rules(s3, bucket))
        if rule is None:
            return f"no rule {LIFECYCLE_RULE_ID!r}"
        days = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        if rule.get("Status") != "Enabled" or days != noncurrent_days:
            return f"rule {LIFECYCLE_RULE_ID!r} is {rule.get('Status')}, {days} days"
        return None

    def apply_policy() -> None:
        found = missing(lambda: s3.get_bucket_policy(Bucket=bucket), "NoSuchBucketPolicy")
        document: dict[str, Any] = (
            json.loads(found["Policy"]) if found else {"Version": "2012-10-17", "Statement": []}
        )
        kept = [s for s in _statements(document) if s.get("Sid") != TLS_STATEMENT_SID]
        document["Statement"] = [*kept, _tls_statement(bucket)]
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))

    def apply_lifecycle() -> None:
        kept = [r for r in _lifecycle_rules(s3, bucket) if r.get("ID") != LIFECYCLE_RULE_ID]
        rule = {
            "ID": LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
            # Interrupted `pulumi up` uploads would otherwise be billed forever.
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={"Rules": [*kept, rule]},  # type: ignore[list-item]
        )

    return [
        _Setting(
            "object ownership",
            read_ownership,
            lambda: s3.put_bucket_ownership_controls(
                Bucket=bucket,
                OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            ),
            "BucketOwnerEnforced (ACLs disabled)",
        ),
        _Setting(
            "block public access",
            read_public_access,
            lambda: s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration=dict.fromkeys(_PUBLIC_ACCESS_FLAGS, True),  # type: ignore[arg-type]
            ),
            "all four settings on",
        ),
        _Setting(
            "versioning",
            read_versioning,
            lambda: s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            ),
            "Enabled",
        ),
        _Setting(
            "default encryption",
            read_encryption,
            lambda: s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key_arn,
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            ),
            f"SSE-KMS with {report.key_alias}",
        ),
        _Setting("TLS-only policy", read_policy, apply_policy, "deny aws:SecureTransport=false"),
        _Setting(
            "lifecycle",
            read_lifecycle,
            apply_lifecycle,
            f"noncurrent versions expire after {noncurrent_days} days",
        ),
    ]


_PUBLIC_ACCESS_FLAGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _lifecycle_rules(s3: S3Client, bucket: str) -> list[dict[str, Any]]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except s3.exceptions.ClientError as error:
        if error_code(error) == "NoSuchLifecycleConfiguration":
            return []
        raise
    return [dict(rule) for rule in rules]


def _our_rule(rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((rule for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID), None)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def _tls_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_STATEMENT_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _has_tls_denial(document: dict[str, Any], bucket: str) -> bool:
    """Whether some statement denies every non-TLS request to the bucket and its objects."""
    wanted = {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    for statement in _statements(document):
        actions = statement.get("Action", [])
        actions = {actions} if isinstance(actions, str) else set(actions)
        resources = statement.get("Resource", [])
        resources = {resources} if isinstance(resources, str) else set(resources)
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and actions & {"s3:*", "*"}
            and wanted <= resources
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
        ):
            return True
    return False


# --- CLI ---------------------------------------------------------------------------------------


def render_report(report: BootstrapReport, console: Console) -> None:
    table = Table(title=f"State backend in account {report.account_id}, {report.region}")
    for column in ("resource", "setting", "result", "detail"):
        table.add_column(column)
    styles = {
        Result.OK: "green",
        Result.CREATED: "cyan",
        Result.FIXED: "cyan",
        Result.WEAKER: "red",
    }
    for finding in report.findings:
        table.add_row(
            finding.resource,
            finding.setting,
            f"[{styles[finding.result]}]{finding.result}[/]",
            finding.detail,
        )
    console.print(table)
    weaker = report.weaker
    if weaker:
        console.print(
            f"{len(weaker)} setting(s) weaker than required; nothing was changed on them. "
            "Re-run with --fix to apply the settings above.",
            markup=False,
        )
    elif report.changed:
        console.print("The state backend is ready.", markup=False)
    else:
        console.print("No changes: the state backend already has every setting.", markup=False)
    if not weaker:
        console.print("\nUse it with:", markup=False)
        for line in (report.login_command(), *report.stack_init_commands()):
            console.print(f"  {line}", markup=False, soft_wrap=True)


def command(  # noqa: PLR0917 - typer maps each option to a parameter
    region: Annotated[
        str, typer.Option(metavar="REGION", help="AWS region of the bucket and the key.")
    ],
    bucket: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="State bucket name. Default: genericcorp-pulumi-state-<account>-<region>.",
        ),
    ] = "",
    key_alias: Annotated[
        str, typer.Option(metavar="ALIAS", help="Alias of the secrets-provider KMS key.")
    ] = DEFAULT_KEY_ALIAS,
    account_id: Annotated[
        str | None,
        typer.Option(
            metavar="ID", help="Refuse to run unless the credentials belong to this account."
        ),
    ] = None,
    noncurrent_days: Annotated[
        int, typer.Option(metavar="DAYS", help="Days a replaced state file version is kept.")
    ] = DEFAULT_NONCURRENT_DAYS,
    fix: Annotated[
        bool, typer.Option("--fix", help="Change existing resources whose settings are weaker.")
    ] = False,
    profile: Annotated[str | None, typer.Option(metavar="NAME", help="AWS profile to use.")] = None,
) -> None:
    """Create (or check) the S3 state bucket and the KMS secrets key for Pulumi.

    Idempotent: a second run changes nothing and says so. An existing bucket or key with weaker
    settings is reported and changed only with --fix. Prints the `pulumi login` and
    `pulumi stack init --secrets-provider` lines to use.
    """
    request = BootstrapRequest(
        region=region,
        bucket=bucket,
        key_alias=key_alias,
        noncurrent_days=noncurrent_days,
        fix=fix,
        account_id=account_id,
    )
    errors = Console(stderr=True, highlight=False)
    try:
        validate_request(request)
        session = session_for(region, profile)
        report = bootstrap(
            request,
            sts=session.client("sts"),
            kms=session.client("kms"),
            s3=session.client("s3"),
        )
    except BootstrapError as error:
        errors.print(f"bootstrap: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(error.code) from None
    except AwsAccessError as error:
        errors.print(f"bootstrap: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as error:
        if not error_code(error):
            raise
        # A refused call (AccessDenied on a put, a service limit): name it, no traceback.
        errors.print(f"bootstrap: AWS refused a call: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console = Console(highlight=False)
    if not console.is_terminal:  # CI logs: a wide page instead of rich's 80-column default
        console = Console(highlight=False, width=160)
    render_report(report, console)
    if report.weaker:
        raise typer.Exit(1)
