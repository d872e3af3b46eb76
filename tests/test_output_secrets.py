"""The offline check that no plain stack output holds a secret value: secret inputs, secret
outputs (a RandomPassword's result) and secret config, found whole or inside a longer text."""

from __future__ import annotations

from functools import partial

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest
from typer.testing import CliRunner

from infractl import cli
from infractl.offline.engine import SECRET_MASK, run_program, run_stack
from infractl.offline.output_secrets import CHECK_NAME, MIN_SECRET_LENGTH, find_leaks
from infractl.offline.plan import Plan
from infractl.offline.stackfile import StackFile, read_stack_file
from infractl.policy.runner import run_policies

runner = CliRunner()

APP_PASSWORD = "correct-horse-battery-staple"  # made in Python, as a leaky component would


def _program(*, export: str) -> None:
    """A secret in Secrets Manager and a generated AUTH token, exported one way or another."""
    provider = aws.Provider("aws", region="us-east-1")
    secret = aws.secretsmanager.Secret(
        "app", kms_key_id="alias/app", opts=pulumi.ResourceOptions(provider=provider)
    )
    aws.secretsmanager.SecretVersion(
        "app",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(APP_PASSWORD),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    token = random.RandomPassword("auth-token", length=32, special=False)
    url = token.result.apply(lambda t: f"rediss://:{t}@cache.internal:6380")
    if export == "python value":
        pulumi.export("app", {"password": APP_PASSWORD, "secretArn": secret.arn})
    elif export == "unsecret":
        pulumi.export("cache", {"url": pulumi.Output.unsecret(url)})
    elif export == "secret":
        pulumi.export("app", {"password": pulumi.Output.secret(APP_PASSWORD)})
        pulumi.export("cache", {"url": url})


def leaks(export: str, *, preview: bool = False) -> list[tuple[str, str]]:
    plan = run_stack("dev", program=partial(_program, export=export), preview=preview)
    return [(leak.output, leak.source) for leak in find_leaks(plan)]


def test_a_secret_made_in_python_and_exported_plain_is_found() -> None:
    assert leaks("python value") == [
        ("app.password", "app (aws:secretsmanager/secretVersion:SecretVersion) inputs.secretString")
    ]


def test_an_unsecreted_output_is_found_inside_a_longer_text() -> None:
    assert leaks("unsecret") == [
        (
            "cache.url",
            "auth-token (random:index/randomPassword:RandomPassword) outputs.result",
        )
    ]


def test_secret_outputs_stay_secret_as_in_a_real_deployment() -> None:
    # A RandomPassword's result is an additional secret output: whatever is derived from it
    # (the URL) stays secret, as with the pulumi engine, and is masked in the plan.
    plan = run_stack("dev", program=partial(_program, export="secret"))
    assert plan.outputs == {"app": {"password": SECRET_MASK}, "cache": {"url": SECRET_MASK}}
    assert find_leaks(plan) == []


def test_a_preview_knows_no_generated_value_but_still_sees_program_made_ones() -> None:
    assert leaks("unsecret", preview=True) == []
    assert [output for output, _ in leaks("python value", preview=True)] == ["app.password"]


def _secret_config_program() -> None:
    # A secret config key read with a plain get: the SDK hands back the value, not a secret.
    pulumi.export("contacts", {"oncall": pulumi.Config("genericcorp").get_object("alerts")})


def test_a_secret_config_value_read_plain_and_exported_is_found() -> None:
    stack_file = read_stack_file("dev")
    secret_file = StackFile(
        project=stack_file.project,
        stack="dev",
        path=stack_file.path,
        values=stack_file.values | {"genericcorp:alerts": {"emails": ["oncall@genericcorp.com"]}},
        secret_keys=frozenset({"genericcorp:alerts"}),
    )
    plan = run_program(secret_file, preview=False, program=_secret_config_program)
    assert [(leak.output, leak.source) for leak in find_leaks(plan)] == [
        ("contacts.oncall.emails[0]", "config genericcorp:alerts.emails[0]")
    ]


def test_short_secret_values_are_not_looked_for() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        aws.ssm.Parameter(
            "flag",
            type="SecureString",
            value=pulumi.Output.secret("true"),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("featureEnabled", "true")

    assert len("true") < MIN_SECRET_LENGTH
    assert find_leaks(run_stack("dev", program=program)) == []


def test_todays_stacks_export_no_secret_in_plain(plan: Plan) -> None:
    outcome = {o.name: o for o in run_policies(plan).outcomes}[CHECK_NAME]
    assert (outcome.level, outcome.checked, outcome.status) == ("mandatory", 1, "pass")


def test_the_offline_plan_fails_on_a_leak_without_printing_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "infractl.offline.engine.run_stack",
        partial(run_stack, program=partial(_program, export="python value")),
    )
    result = runner.invoke(cli.app, ["plan", "dev"])
    assert result.exit_code == 3
    assert (
        f"policy: MANDATORY {CHECK_NAME}  genericcorp-dev (pulumi:pulumi:Stack): stack output "
        "app.password is plain but holds the secret value of app "
        "(aws:secretsmanager/secretVersion:SecretVersion) inputs.secretString; export it with "
        "pulumi.Output.secret(...) or leave it out" in result.output
    )
    # The plan prints the leaked output itself (that is the leak), the finding never does.
    [finding_line] = [line for line in result.output.splitlines() if CHECK_NAME in line]
    assert APP_PASSWORD not in finding_line
