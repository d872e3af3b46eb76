"""`infractl restore-drill` against a stack's database and cache deployed into moto.

moto 5 implements every call the drill makes, with gaps these tests fill in moto's backends:

- RDS: instances, subnet and parameter groups, automated snapshots (moto takes one when an
  instance is created; the tests set its time and add an older one), RestoreDBInstanceFromDBSnapshot
  and DeleteDBInstance. moto's restore ignores overrides that are false and copies MultiAZ and
  DeletionProtection from the source, so the sources here have no deletion protection (moto would
  refuse to delete the drill) and Single-AZ, no public access and no deletion protection are
  asserted on the request the drill sent.
- ElastiCache: replication groups, cache clusters, subnet groups, snapshots, CreateReplicationGroup
  from a snapshot and DeleteReplicationGroup. moto takes only manual snapshots (the tests mark
  theirs automated and give their nodes a time), does not list a group's member clusters in
  DescribeCacheClusters (the tests create the primary's) and leaves a cluster's security groups
  and parameter group out of its answer (the tests set them in its backend).
- EC2 security groups, including the default outbound rule the drill removes.

AWS refusing a call (AccessDenied, a failing delete) and a restore that stays "creating" are
botocore ``before-call`` / ``after-call`` handlers on one operation of the test's client (what
botocore's Stubber does, for one operation, with moto answering every other call). Time is a fake
clock whose sleep returns at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.ec2.models import ec2_backends  # pyright: ignore[reportMissingTypeStubs]
from moto.elasticache.models import elasticache_backends  # pyright: ignore[reportMissingTypeStubs]
from moto.rds.models import rds_backends  # pyright: ignore[reportMissingTypeStubs]
from typer.testing import CliRunner, Result

from infractl.aws import restore_drill
from infractl.aws.restore_drill import (
    CACHE_IDENTIFIER_LIMIT,
    PERMISSIONS,
    RDS_IDENTIFIER_LIMIT,
    Clients,
    DrillError,
    Timing,
    drill_identifier,
    parse_sources,
    plan_cache,
    plan_database,
)
from infractl.cli import app
from tests.conftest import plan_for

REGION = "us-east-1"
ACCOUNT = "123456789012"
DATABASE = "genericcorp-prod-postgres"
CACHE = "genericcorp-prod-redis"
STARTED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DB_DRILL = "genericcorp-prod-postgres-drill-2611291200"
CACHE_DRILL = "genericcorp-prod-redis-drill-2611291200"
DB_SNAPSHOT = f"rds:{DATABASE}-2026-11-29-03-05"
CACHE_SNAPSHOT = f"automatic.{CACHE}-2026-11-29-05-10"
DB_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5e2d1c-1111-4a4a-9c9c-000000000001"
CACHE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5e2d1c-2222-4a4a-9c9c-000000000002"
runner = CliRunner()


@cache
def client(service: str) -> Any:
    """One client per service for the session (moto resets its backends, not the clients)."""
    name: Any = service  # boto3-stubs types each service's client; these are looked up by name
    return boto3.client(
        name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def clients() -> Clients:
    return Clients(
        sts=client("sts"), rds=client("rds"), elasticache=client("elasticache"), ec2=client("ec2")
    )


class FakeTime:
    """A clock that starts at STARTED and moves only when the drill sleeps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def clock(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds

    def now(self) -> datetime:
        return STARTED + timedelta(seconds=self.seconds)

    def timing(self) -> Timing:
        return Timing(clock=self.clock, sleep=self.sleep, now=self.now, poll_seconds=30)


class Hooks:
    """botocore event handlers on the session's clients, each removed when its test ends."""

    def __init__(self) -> None:
        self._registered: list[tuple[Any, str, str]] = []

    def on(self, service: str, event: str, handler: Callable[..., Any]) -> None:
        unique_id = f"restore-drill-test-{len(self._registered)}"
        client(service).meta.events.register(event, handler, unique_id=unique_id)
        self._registered.append((client(service), event, unique_id))

    def refuse(self, service: str, operation: str, code: str, message: str) -> None:
        """AWS answers ``operation`` with this error (every other call reaches moto)."""
        status = 403 if code in ("AccessDenied", "UnauthorizedOperation") else 400
        response = AWSResponse(None, status, {}, None)  # pyright: ignore[reportArgumentType]
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        self.on(service, f"before-call.{service}.{operation}", lambda **_: (response, parsed))

    def requests(self, service: str, operation: str) -> list[dict[str, Any]]:
        """The parameters of every ``operation`` call, as the drill passed them."""
        calls: list[dict[str, Any]] = []
        self.on(
            service,
            f"provide-client-params.{service}.{operation}",
            lambda params, **_: calls.append(dict(params)),
        )
        return calls

    def reports_creating(self, polls: int | None = None) -> None:
        """DescribeDBInstances says the drill instance is still creating (for ``polls`` calls)."""
        seen = [0]

        def creating(parsed: dict[str, Any], **_: Any) -> None:
            for db in parsed.get("DBInstances", []):
                if db["DBInstanceIdentifier"] == DB_DRILL:
                    seen[0] += 1
                    if polls is None or seen[0] <= polls:
                        db["DBInstanceStatus"] = "creating"

        self.on("rds", "after-call.rds.DescribeDBInstances", creating)

    def remove(self) -> None:
        for registered_on, event, unique_id in self._registered:
            registered_on.meta.events.unregister(event, unique_id=unique_id)


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    registered = Hooks()
    yield registered
    registered.remove()


def _finish_deleting(parsed: dict[str, Any], **_: Any) -> None:
    """moto leaves a deleted replication group "deleting" for good; AWS removes it."""
    deleted = parsed.get("ReplicationGroup", {}).get("ReplicationGroupId")
    if deleted:
        del elasticache_backends[ACCOUNT][REGION].replication_groups[deleted]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, hooks: Hooks) -> Iterator[FakeTime]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fake = FakeTime()
    monkeypatch.setattr(restore_drill, "TIMING", fake.timing())
    monkeypatch.setattr(restore_drill, "make_clients", lambda region, profile: clients())
    hooks.on("elasticache", "after-call.elasticache.DeleteReplicationGroup", _finish_deleting)
    with mock_aws():
        yield fake


# --- the stack's stores, deployed into moto as the program declares them -----------------------


def deploy(*, db_backups: int = 14, cache_backups: int = 7, snapshots: bool = True) -> None:
    """The prod database and cache with their automated snapshots (newest taken 03:05 / 05:10)."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ab", start=1)
    ]
    db_group = ec2.create_security_group(GroupName="postgres", Description="db", VpcId=vpc)
    cache_group = ec2.create_security_group(GroupName="redis", Description="cache", VpcId=vpc)

    rds = client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=DATABASE, DBSubnetGroupDescription="isolated", SubnetIds=subnets
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{DATABASE}-pg17",
        DBParameterGroupFamily="postgres17",
        Description="TLS required",
    )
    rds.create_db_instance(
        DBInstanceIdentifier=DATABASE,
        Engine="postgres",
        EngineVersion="17.5",
        DBInstanceClass="db.t4g.small",
        MasterUsername="platform_admin",
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
        StorageType="gp3",
        StorageEncrypted=True,
        KmsKeyId=DB_KEY,
        MultiAZ=True,
        DeletionProtection=False,  # moto's restore would copy it and then refuse the delete
        PubliclyAccessible=False,
        EnableIAMDatabaseAuthentication=True,
        Port=5433,
        DBSubnetGroupName=DATABASE,
        DBParameterGroupName=f"{DATABASE}-pg17",
        VpcSecurityGroupIds=[db_group["GroupId"]],
        BackupRetentionPeriod=db_backups,
        PreferredBackupWindow="03:00-03:30",
    )
    backend = rds_backends[ACCOUNT][REGION]
    taken = [s for s in backend.database_snapshots.values() if s.snapshot_type == "automated"]
    if snapshots:
        taken[0].created = STARTED.replace(hour=3, minute=5)
        older = backend.create_auto_snapshot(DATABASE, f"rds:{DATABASE}-2026-11-28-03-05")
        older.created = STARTED.replace(day=28, hour=3, minute=5)
        taken[0].db_snapshot_identifier = DB_SNAPSHOT
        backend.database_snapshots = {s.db_snapshot_identifier: s for s in (taken[0], older)}
    else:
        for snapshot in taken:
            del backend.database_snapshots[snapshot.db_snapshot_identifier]

    cache = client("elasticache")
    cache.create_cache_subnet_group(
        CacheSubnetGroupName=CACHE, CacheSubnetGroupDescription="isolated", SubnetIds=subnets
    )
    cache.create_replication_group(
        ReplicationGroupId=CACHE,
        ReplicationGroupDescription="genericcorp prod cache",
        Engine="redis",
        EngineVersion="7.1",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=2,
        AutomaticFailoverEnabled=True,
        MultiAZEnabled=True,
        CacheSubnetGroupName=CACHE,
        CacheParameterGroupName=f"{CACHE}-redis7",
        SecurityGroupIds=[cache_group["GroupId"]],
        TransitEncryptionEnabled=True,
        TransitEncryptionMode="required",
        AtRestEncryptionEnabled=True,
        KmsKeyId=CACHE_KEY,
        AuthToken="s" * 64,
        SnapshotRetentionLimit=cache_backups,
        SnapshotWindow="05:00-06:00",
    )
    cache.create_cache_cluster(
        CacheClusterId=f"{CACHE}-001",
        ReplicationGroupId=CACHE,
        Engine="redis",
        EngineVersion="7.1.0",
        CacheNodeType="cache.t4g.small",
        CacheSubnetGroupName=CACHE,
    )
    cache_backend = elasticache_backends[ACCOUNT][REGION]
    primary = cache_backend.cache_clusters[f"{CACHE}-001"]
    primary.security_groups = [{"SecurityGroupId": cache_group["GroupId"], "Status": "active"}]
    primary.cache_parameter_group = {"CacheParameterGroupName": f"{CACHE}-redis7"}
    if snapshots:
        for name, taken_at, source in (
            (f"automatic.{CACHE}-2026-11-28-05-10", STARTED.replace(day=28, hour=5), "automated"),
            (CACHE_SNAPSHOT, STARTED.replace(hour=5, minute=10), "automated"),
            (f"{CACHE}-manual", STARTED.replace(hour=9), "manual"),  # newer, but not automated
        ):
            cache.create_snapshot(ReplicationGroupId=CACHE, SnapshotName=name)
            snapshot = cache_backend.snapshots[name]
            snapshot.snapshot_source = source
            # moto's snapshot model has no node snapshots; its answer includes them when set.
            snapshot.node_snapshots = [  # pyright: ignore[reportAttributeAccessIssue]
                {"CacheClusterId": f"{CACHE}-002", "SnapshotCreateTime": taken_at}
            ]


@cache
def program_outputs(stack: str) -> str:
    """The program's own outputs, as `pulumi stack output --json` would print them."""
    return json.dumps(plan_for(stack).raw_outputs)


def run(tmp_path: Path, *args: str, outputs: str | None = None, stack: str = "prod") -> Result:
    path = tmp_path / "outputs.json"
    path.write_text(program_outputs(stack) if outputs is None else outputs)
    return runner.invoke(app, ["restore-drill", stack, "--outputs", str(path), *args])


def error_line(result: Result) -> str:
    """The one line the drill printed on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def drill_groups() -> list[dict[str, Any]]:
    groups = client("ec2").describe_security_groups()["SecurityGroups"]
    return [g for g in groups if "-drill-" in g["GroupName"]]


def assert_nothing_left() -> None:
    instances = {
        d["DBInstanceIdentifier"] for d in client("rds").describe_db_instances()["DBInstances"]
    }
    assert instances == {DATABASE}
    groups = client("elasticache").describe_replication_groups()["ReplicationGroups"]
    assert {g["ReplicationGroupId"] for g in groups} == {CACHE}
    assert drill_groups() == []


# --- the happy path --------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_each_restore_is_isolated_encrypted_private_and_tagged(hooks: Hooks) -> None:
    deploy()
    db_requests = hooks.requests("rds", "RestoreDBInstanceFromDBSnapshot")
    cache_requests = hooks.requests("elasticache", "CreateReplicationGroup")
    database = plan_database(client("rds"), DATABASE, STARTED, "prod")
    cache_restore = plan_cache(client("elasticache"), CACHE, STARTED, "prod")
    drill = restore_drill.Drill(
        [database, cache_restore],
        client("ec2"),
        timeout_minutes=120,
        timing=FakeTime().timing(),
        say=lambda _: None,
    )
    for restore in drill.restores:
        drill._start(restore)  # pyright: ignore[reportPrivateUsage] - inspected before clean-up

    ec2_backend = ec2_backends[ACCOUNT][REGION]
    source_vpc = client("rds").describe_db_instances(DBInstanceIdentifier=DATABASE)["DBInstances"][
        0
    ]["DBSubnetGroup"]["VpcId"]
    for group in drill_groups():  # one per store, in the source's VPC, admitting nothing
        assert group["VpcId"] == source_vpc
        assert group["IpPermissions"] == []
        live = ec2_backend.get_security_group_from_id(group["GroupId"])
        assert live is not None
        assert live.egress_rules == []
        assert {"Key": "Purpose", "Value": "restore-drill"} in group["Tags"]
    groups = {g["GroupName"]: g["GroupId"] for g in drill_groups()}
    assert set(groups) == {DB_DRILL, CACHE_DRILL}

    db = client("rds").describe_db_instances(DBInstanceIdentifier=DB_DRILL)["DBInstances"][0]
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == DATABASE
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [groups[DB_DRILL]]
    assert db["StorageEncrypted"]
    assert db["KmsKeyId"] == DB_KEY
    assert db["IAMDatabaseAuthenticationEnabled"]
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == f"{DATABASE}-pg17"
    assert {"Key": "Purpose", "Value": "restore-drill"} in db["TagList"]
    assert {"Key": "Environment", "Value": "prod"} in db["TagList"]
    [db_request] = db_requests
    assert db_request["DBSnapshotIdentifier"] == DB_SNAPSHOT  # the latest automated snapshot
    assert db_request["PubliclyAccessible"] is False
    assert db_request["MultiAZ"] is False
    assert db_request["DeletionProtection"] is False
    assert db_request["DBInstanceClass"] == "db.t4g.small"
    assert db_request["Port"] == 5433

    group = client("elasticache").describe_replication_groups(ReplicationGroupId=CACHE_DRILL)[
        "ReplicationGroups"
    ][0]
    assert group["TransitEncryptionEnabled"]
    assert group["TransitEncryptionMode"] == "required"
    assert group["AtRestEncryptionEnabled"]
    assert group["KmsKeyId"] == CACHE_KEY
    assert group["AuthTokenEnabled"]
    tags = client("elasticache").list_tags_for_resource(ResourceName=group["ARN"])["TagList"]
    assert {"Key": "Purpose", "Value": "restore-drill"} in tags
    assert {"Key": "Environment", "Value": "prod"} in tags
    [cache_request] = cache_requests
    assert cache_request["SnapshotName"] == CACHE_SNAPSHOT  # not the newer manual snapshot
    assert cache_request["CacheSubnetGroupName"] == CACHE
    assert cache_request["SecurityGroupIds"] == [groups[CACHE_DRILL]]
    assert cache_request["CacheParameterGroupName"] == f"{CACHE}-redis7"
    assert cache_request["EngineVersion"] == "7.1"
    assert cache_request["NumCacheClusters"] == 1
    assert cache_request["AuthToken"] != "s" * 64

    drill._wait()  # pyright: ignore[reportPrivateUsage]
    assert drill._clean_up() == []  # pyright: ignore[reportPrivateUsage]
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_a_drill_restores_waits_reports_against_the_rto_and_deletes(
    tmp_path: Path, hooks: Hooks
) -> None:
    deploy()
    called: set[str] = set()

    def recorder(service: str) -> Callable[..., None]:
        return lambda model, **_: called.add(f"{service}:{model.name}")

    for service in ("sts", "rds", "elasticache", "ec2"):
        hooks.on(service, "before-call", recorder(service))
    deletions = hooks.requests("rds", "DeleteDBInstance")
    cache_requests = hooks.requests("elasticache", "CreateReplicationGroup")
    hooks.reports_creating(polls=24)  # the database takes 12 minutes (24 polls of 30 s)
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Restore drill of prod in account 123456789012, us-east-1" in out
    assert re.search(rf"database\s+│ {re.escape(DB_SNAPSHOT)}.*12\.0 min\s+│ pass", out), out
    assert re.search(rf"cache\s+│ {re.escape(CACHE_SNAPSHOT)}.*0\.0 min\s+│ pass", out), out
    assert "RTO 60 min" in out
    assert f"deleted RDS instance {DB_DRILL}" in out
    assert f"deleted ElastiCache replication group {CACHE_DRILL}" in out
    assert "Drill passed: both stores restored within the 60-minute RTO" in out
    assert cache_requests[0]["AuthToken"] not in result.output  # the token is never printed
    assert deletions == [
        {
            "DBInstanceIdentifier": DB_DRILL,
            "SkipFinalSnapshot": True,
            "DeleteAutomatedBackups": True,
        }
    ]
    assert result.stderr == ""
    assert_nothing_left()
    # Everything the drill called is a permission docs/deploying.md lists.
    assert called <= set(PERMISSIONS), called - set(PERMISSIONS)


@pytest.mark.usefixtures("aws")
def test_a_restore_slower_than_the_rto_fails_the_drill(tmp_path: Path, hooks: Hooks) -> None:
    deploy()
    hooks.reports_creating(polls=10)  # five minutes
    result = run(tmp_path, "--rto-minutes", "3")
    assert result.exit_code == 1
    assert error_line(result) == (
        f"restore-drill: database: {DB_DRILL} took 5.0 min to restore, over the 3-minute RTO"
    )
    assert "OVER RTO" in result.stdout
    assert_nothing_left()


# --- the dry run -------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_dry_run_prints_what_it_would_create_and_creates_nothing(tmp_path: Path) -> None:
    deploy()
    groups_before = client("ec2").describe_security_groups()["SecurityGroups"]
    result = run(tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in (
        f"database: would restore RDS instance {DB_DRILL}",
        f"  from automated snapshot {DB_SNAPSHOT}, taken 2026-11-29 03:05 UTC "
        "(8.9 hours ago: the recovery point)",
        f"  subnet group {DATABASE} in vpc-",
        f"  security group: a new one named {DB_DRILL}, no inbound or outbound rules",
        "  class db.t4g.small, Single-AZ, not publicly accessible, deletion protection off, "
        "IAM database authentication on",
        f"  encrypted with the snapshot's KMS key {DB_KEY}",
        f"cache: would restore ElastiCache replication group {CACHE_DRILL}",
        f"  from automated snapshot {CACHE_SNAPSHOT}, taken 2026-11-29 05:10 UTC "
        "(6.8 hours ago: the recovery point)",
        f"  subnet group {CACHE} in vpc-",
        "  one cache.t4g.small node of redis 7.1, no replica, no failover",
        f"  TLS required; encrypted at rest with {CACHE_KEY}",
        "  AUTH: a fresh AUTH token, never printed or kept",
        "  tags Purpose=restore-drill, Environment=prod, ManagedBy=infractl restore-drill, "
        f"RestoredFrom={CACHE}",
        "Dry run: nothing was created.",
    ):
        assert line in out, line
    assert client("ec2").describe_security_groups()["SecurityGroups"] == groups_before
    assert_nothing_left()


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_no_automated_snapshot_is_refused(tmp_path: Path) -> None:
    deploy(snapshots=False)
    result = run(tmp_path, "--dry-run")
    assert result.exit_code == 2
    assert error_line(result) == (
        f"restore-drill: RDS instance {DATABASE} has no available automated snapshot yet (the "
        "first is taken in the backup window, 03:00-03:30 UTC); rerun after it"
    )


@pytest.mark.usefixtures("aws")
def test_no_automated_cache_snapshot_is_refused() -> None:
    deploy(snapshots=False)
    with pytest.raises(DrillError) as caught:
        plan_cache(client("elasticache"), CACHE, STARTED, "prod")
    assert caught.value.code == 2
    assert str(caught.value) == (
        f"ElastiCache replication group {CACHE} has no available automated snapshot yet (the "
        "first is taken in the snapshot window, 05:00-06:00 UTC); rerun after it"
    )


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("backups", "expected"),
    [
        (
            (0, 7),
            f"RDS instance {DATABASE} has automated backups off (BackupRetentionPeriod 0): a "
            "drill on a stack without backups has nothing to restore; set "
            "genericcorp:database.backupRetentionDays above 0 and deploy",
        ),
        (
            (14, 0),
            f"ElastiCache replication group {CACHE} has automated backups off "
            "(SnapshotRetentionLimit 0): a drill on a stack without backups has nothing to "
            "restore; set genericcorp:cache.snapshotRetentionDays above 0 and deploy",
        ),
    ],
)
def test_a_stack_without_backups_is_refused(
    tmp_path: Path, backups: tuple[int, int], expected: str
) -> None:
    deploy(db_backups=backups[0], cache_backups=backups[1])
    result = run(tmp_path)
    assert result.exit_code == 2
    assert error_line(result) == f"restore-drill: {expected}"
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_an_identifier_in_use_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    deploy()
    client("rds").create_db_instance(
        DBInstanceIdentifier=DB_DRILL,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        MasterUsername="someone",
        MasterUserPassword="not-a-real-one",
        AllocatedStorage=20,
    )
    result = run(tmp_path)
    assert result.exit_code == 2
    assert error_line(result) == (
        f"restore-drill: an RDS instance named {DB_DRILL} already exists; the drill will not "
        "reuse a live identifier (a drill started this minute, or one left behind): delete it "
        "or rerun in a minute"
    )
    assert drill_groups() == []
    assert client("rds").describe_db_instances(DBInstanceIdentifier=DB_DRILL)["DBInstances"]


@pytest.mark.usefixtures("aws")
def test_a_missing_source_is_named(tmp_path: Path) -> None:
    deploy()
    outputs = json.loads(program_outputs("prod"))
    outputs["cache"]["replicationGroupId"] = "genericcorp-prod-gone"
    result = run(tmp_path, outputs=json.dumps(outputs))
    assert result.exit_code == 2
    assert error_line(result) == (
        "restore-drill: no ElastiCache replication group 'genericcorp-prod-gone' in this account "
        "and region: the outputs file names a store the credentials cannot see; check the "
        "account and that --outputs is the stack's current `pulumi stack output --json`"
    )


# --- AWS refusing ------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_denied_restore_names_the_permission_and_cleans_up(tmp_path: Path, hooks: Hooks) -> None:
    deploy()
    hooks.refuse(
        "rds",
        "RestoreDBInstanceFromDBSnapshot",
        "AccessDenied",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/operator/me is not authorized to perform: "
        f"rds:RestoreDBInstanceFromDBSnapshot on resource: arn:aws:rds:{REGION}:{ACCOUNT}:db:x",
    )
    result = run(tmp_path)
    assert result.exit_code == 2
    assert error_line(result) == (
        "restore-drill: AWS denied rds:RestoreDBInstanceFromDBSnapshot (AccessDenied) while "
        f"restoring RDS instance {DB_DRILL} from {DB_SNAPSHOT}; grant the caller "
        "rds:RestoreDBInstanceFromDBSnapshot (docs/deploying.md lists every permission the "
        "drill needs)"
    )
    assert "deleted security group sg-" in result.stdout
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_a_later_refusal_deletes_the_restore_already_started(tmp_path: Path, hooks: Hooks) -> None:
    deploy()
    hooks.refuse("elasticache", "CreateReplicationGroup", "AccessDenied", "User is not authorized")
    result = run(tmp_path)
    assert result.exit_code == 2
    assert error_line(result) == (
        "restore-drill: AWS denied elasticache:CreateReplicationGroup (AccessDenied) while "
        f"restoring ElastiCache replication group {CACHE_DRILL} from {CACHE_SNAPSHOT}; grant the "
        "caller elasticache:CreateReplicationGroup (docs/deploying.md lists every permission "
        "the drill needs)"
    )
    assert f"deleted RDS instance {DB_DRILL}" in result.stdout
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_a_denied_security_group_names_the_ec2_permission(tmp_path: Path, hooks: Hooks) -> None:
    deploy()
    hooks.refuse(
        "ec2",
        "CreateSecurityGroup",
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    )
    result = run(tmp_path)
    assert result.exit_code == 2
    assert error_line(result) == (
        "restore-drill: AWS denied ec2:CreateSecurityGroup (UnauthorizedOperation) while creating "
        f"the isolated security group {DB_DRILL}; grant the caller ec2:CreateSecurityGroup "
        "(docs/deploying.md lists every permission the drill needs)"
    )
    assert_nothing_left()


# --- timeouts and what cannot be deleted ---------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_timeout_still_deletes_the_restore(tmp_path: Path, hooks: Hooks, aws: FakeTime) -> None:
    deploy()
    hooks.reports_creating()
    result = run(tmp_path, "--timeout-minutes", "2")
    assert result.exit_code == 1
    assert error_line(result) == (
        f"restore-drill: RDS instance {DB_DRILL} was still creating after 2 minutes; it was deleted"
    )
    assert "TIMED OUT" in result.stdout
    assert re.search(r"cache\s+│.*│ pass", result.stdout), result.stdout
    assert f"deleted RDS instance {DB_DRILL}" in result.stdout
    assert aws.seconds == 120  # waited exactly the timeout, without sleeping for real
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_an_interrupted_wait_still_deletes_what_was_created(hooks: Hooks) -> None:
    deploy()
    hooks.reports_creating()
    fake = FakeTime()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    drill = restore_drill.Drill(
        [
            plan_database(client("rds"), DATABASE, STARTED, "prod"),
            plan_cache(client("elasticache"), CACHE, STARTED, "prod"),
        ],
        client("ec2"),
        timeout_minutes=120,
        timing=Timing(clock=fake.clock, sleep=interrupted, now=fake.now),
        say=lambda _: None,
    )
    with pytest.raises(KeyboardInterrupt):
        drill.run()
    assert drill.leftovers == []
    assert_nothing_left()


@pytest.mark.usefixtures("aws")
def test_what_cannot_be_deleted_is_named_with_its_identifier(tmp_path: Path, hooks: Hooks) -> None:
    deploy()
    hooks.refuse(
        "elasticache",
        "DeleteReplicationGroup",
        "InvalidParameterValue",
        "The replication group is being modified",
    )
    result = run(tmp_path)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        f"restore-drill: could not delete ElastiCache replication group {CACHE_DRILL} "
        "(InvalidParameterValue: The replication group is being modified); delete it by hand: "
        "aws elasticache delete-replication-group --replication-group-id "
        f"{CACHE_DRILL} --no-retain-primary-cluster"
    )
    assert re.fullmatch(
        rf"restore-drill: could not delete security group sg-\w+ \(in use by {CACHE_DRILL}\); "
        r"delete it by hand: aws ec2 delete-security-group --group-id sg-\w+",
        lines[1],
    )
    assert len(lines) == 2
    assert f"deleted RDS instance {DB_DRILL}" in result.stdout


# --- the outputs file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (
            "Current stack outputs (3):\n",
            "not JSON (Expecting value at line 1, column 1); write it with "
            "`pulumi stack output --stack prod --json > FILE`",
        ),
        (
            "[]",
            "expected a JSON object of stack outputs; write it with "
            "`pulumi stack output --stack prod --json > FILE`",
        ),
        (
            json.dumps({"environment": "prod", "region": "moon-east-1", "database": {}}),
            "region: unknown AWS region 'moon-east-1'; database.identifier: required key "
            "missing; cache: required object missing; write it with "
            "`pulumi stack output --stack prod --json > FILE`",
        ),
        (
            json.dumps(
                {
                    "environment": "dev",
                    "region": "us-east-1",
                    "database": {"identifier": "genericcorp-dev-postgres"},
                    "cache": {"replicationGroupId": 7},
                }
            ),
            "environment is 'dev': these are not the prod stack's outputs; "
            "cache.replicationGroupId = 7: input should be a valid string; write it with "
            "`pulumi stack output --stack prod --json > FILE`",
        ),
    ],
)
def test_an_unusable_outputs_file_is_refused_in_one_line(
    tmp_path: Path, outputs: str, expected: str
) -> None:
    result = run(tmp_path, outputs=outputs)
    assert result.exit_code == 2
    assert error_line(result) == f"restore-drill: {tmp_path / 'outputs.json'}: {expected}"


def test_a_missing_outputs_file_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["restore-drill", "dev", "--outputs", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert error_line(result) == (
        f"restore-drill: cannot read {tmp_path / 'none.json'}: No such file or directory; "
        "write it with `pulumi stack output --stack dev --json > FILE`"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_program_s_own_outputs_are_what_the_drill_reads(stack: str) -> None:
    sources = parse_sources(program_outputs(stack), f"{stack} plan", stack)
    assert sources.database == f"genericcorp-{stack}-postgres"
    assert sources.cache == f"genericcorp-{stack}-redis"
    assert sources.region == "us-east-1"


# --- identifiers -------------------------------------------------------------------------------


def test_drill_identifiers_keep_the_source_and_fit_aws_limits() -> None:
    # The prod cache's identifier is 22 characters: with the suffix, 39 of ElastiCache's 40.
    assert drill_identifier(DATABASE, STARTED, RDS_IDENTIFIER_LIMIT) == DB_DRILL
    assert drill_identifier(CACHE, STARTED, CACHE_IDENTIFIER_LIMIT) == CACHE_DRILL
    longer = drill_identifier("genericcorp-staging-redis", STARTED, CACHE_IDENTIFIER_LIMIT)
    assert longer == "genericcorp-staging-red-drill-2611291200"
    cut_at_a_hyphen = drill_identifier("genericcorp-staging-redis", STARTED, 37)
    assert cut_at_a_hyphen == "genericcorp-staging-drill-2611291200"
