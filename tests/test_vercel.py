"""Vercel domains: attached through the pulumiverse-vercel provider when projects are configured,
with the API token a secret that never reaches an output; DNS records alone otherwise."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from infra.config import ConfigError, parse_stack_config
from infractl.offline.engine import run_program
from infractl.offline.plan import Plan
from infractl.offline.stackfile import StackFile, read_stack_file
from tests.conftest import minimal_values

VERCEL = "genericcorp:vercel"
TOKEN_KEY = "genericcorp:vercelApiToken"
#: A stand-in token, looked for in the plan to prove it leaks nowhere.
TOKEN = "vercel-token-0123456789abcdef"
PROJECTS: dict[str, Any] = {
    "teamId": "team_0123456789abcdef",
    "projects": [
        {
            "projectId": "prj_landing0123456789",
            "domains": ["genericcorp.com", "www.genericcorp.com"],
        },
        {"projectId": "prj_demo0123456789ab", "domains": ["demo.genericcorp.com"]},
    ],
}
DOMAIN = "vercel:index/projectDomain:ProjectDomain"


@cache
def vercel_plan() -> Plan:
    """Prod with both projects and the token set as a secret, as `pulumi config set --secret`."""
    committed = read_stack_file("prod")
    stack_file = StackFile(
        project=committed.project,
        stack="prod",
        path=committed.path,
        values={**committed.values, VERCEL: PROJECTS, TOKEN_KEY: TOKEN},
        secret_keys=committed.secret_keys | {TOKEN_KEY},
    )
    return run_program(stack_file, preview=False)


def test_each_configured_domain_is_attached_to_its_project() -> None:
    plan = vercel_plan()
    attached = {
        (r.inputs["projectId"], r.inputs["domain"], r.inputs["teamId"])
        for r in plan.of_type(DOMAIN)
    }
    team = PROJECTS["teamId"]
    assert attached == {
        ("prj_landing0123456789", "genericcorp.com", team),
        ("prj_landing0123456789", "www.genericcorp.com", team),
        ("prj_demo0123456789ab", "demo.genericcorp.com", team),
    }
    [provider] = plan.of_type("pulumi:providers:vercel")
    assert all(r.provider == provider.urn for r in plan.of_type(DOMAIN))
    assert plan.outputs["vercel"]["domains"] == {
        "genericcorp.com": "prj_landing0123456789",
        "www.genericcorp.com": "prj_landing0123456789",
        "demo.genericcorp.com": "prj_demo0123456789ab",
    }


def test_the_token_is_a_secret_input_of_the_provider_and_in_no_output() -> None:
    plan = vercel_plan()
    [provider] = plan.of_type("pulumi:providers:vercel")
    assert "apiToken" in provider.secret_inputs
    assert TOKEN not in json.dumps(provider.inputs)
    assert TOKEN not in json.dumps(plan.raw_outputs)
    for resource in plan.resources:
        assert TOKEN not in json.dumps(resource.inputs), resource.urn


def test_without_projects_only_the_dns_records_exist(plan: Plan) -> None:
    assert plan.of_type(DOMAIN) == []
    assert plan.of_type("pulumi:providers:vercel") == []
    assert plan.outputs["vercel"] == {"domains": {}}


# --- bad input ----------------------------------------------------------------------------------


def rejected(overrides: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("prod", minimal_values("prod", overrides), secret_keys)
    return [problem.render() for problem in caught.value.problems]


def test_a_project_without_a_token_is_refused() -> None:
    [line] = rejected({VERCEL: PROJECTS})
    assert line == (
        f"{TOKEN_KEY}: required when genericcorp:vercel.projects lists a project: set it with "
        f"`pulumi config set --secret {TOKEN_KEY} <token>`"
    )


def test_a_plain_text_token_is_refused_and_never_printed() -> None:
    [line] = rejected({VERCEL: PROJECTS, TOKEN_KEY: TOKEN})
    assert line.startswith(f"{TOKEN_KEY} = [secret]: a token must be stored encrypted")
    assert TOKEN not in line


def test_a_domain_outside_the_zone_or_not_sent_to_vercel_is_refused() -> None:
    projects = {
        "teamId": None,
        "projects": [
            {
                "projectId": "prj_landing0123456789",
                "domains": ["app.example.com", "cdn.genericcorp.com"],
            }
        ],
    }
    lines = rejected({VERCEL: projects, TOKEN_KEY: TOKEN}, frozenset({TOKEN_KEY}))
    assert lines == [
        'genericcorp:vercel.projects[0].domains[0] = "app.example.com": outside the zone '
        "genericcorp.com",
        'genericcorp:vercel.projects[0].domains[1] = "cdn.genericcorp.com": no record in '
        "genericcorp:dns.records sends it to Vercel (76.76.21.21, cname.vercel-dns.com): Vercel "
        "would hold a domain nobody reaches",
    ]


def test_a_bad_project_id_or_a_domain_in_two_projects_is_refused() -> None:
    projects = {
        "teamId": "team_0123456789abcdef",
        "projects": [
            {"projectId": "landing", "domains": ["www.genericcorp.com"]},
            {"projectId": "prj_demo0123456789ab", "domains": ["www.genericcorp.com"]},
        ],
    }
    lines = rejected({VERCEL: projects, TOKEN_KEY: TOKEN}, frozenset({TOKEN_KEY}))
    assert any("not a Vercel project id" in line for line in lines)


def test_a_token_set_as_a_secret_with_projects_is_accepted() -> None:
    config = parse_stack_config(
        "prod", minimal_values("prod", {VERCEL: PROJECTS, TOKEN_KEY: TOKEN}), {TOKEN_KEY}
    )
    assert config.vercel_api_token == TOKEN
    assert len(config.vercel.projects) == 2
