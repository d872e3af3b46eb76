"""`infractl tenants diff BASE HEAD`: a tenant removed from genericcorp:tenants is retired through
the offboarding list, warned about in dev, and refused in prod without an offboarding entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from components.tenant_data import TenantDataParts, retired_tenants_kept
from infra.config import parse_stack_config
from infractl.cli import app
from infractl.offline.stackfile import StackFileError, read_stack_file_at
from tests.conftest import minimal_values

ROOT = Path(__file__).resolve().parent.parent
TENANTS = "genericcorp:tenants"
DATA = "genericcorp:tenantData"
ACME = {"name": "acme", "tier": "standard"}
GLOBEX = {"name": "globex", "tier": "starter"}

runner = CliRunner()


def stack_file(directory: Path, stack: str, changes: dict[str, Any]) -> Path:
    """The committed ``Pulumi.<stack>.yaml`` with ``changes`` to its config, in ``directory``."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    document["config"].update(changes)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def tenants_diff(tmp_path: Path, stack: str, base: dict[str, Any], head: dict[str, Any]) -> Any:
    return runner.invoke(
        app,
        [
            "tenants",
            "diff",
            str(stack_file(tmp_path / "base", stack, base)),
            str(stack_file(tmp_path / "head", stack, head)),
        ],
    )


def test_a_prod_tenant_removed_and_retired_says_what_is_kept_and_removed(tmp_path: Path) -> None:
    result = tenants_diff(
        tmp_path,
        "prod",
        {TENANTS: [ACME, GLOBEX]},
        {TENANTS: [GLOBEX], DATA: {"offboarding": [{"name": "acme", "dropData": False}]}},
    )
    assert result.exit_code == 0, result.output
    retired = "- acme: retired in genericcorp:tenantData.offboarding (dropData: false)"
    assert retired in result.output
    assert (
        "acme: kept schema tenant_acme with all its data, database role tenant_acme "
        "(NOLOGIN, no IAM login)"
    ) in result.output
    assert (
        "acme: removed cache user prod-tenant-acme (its keys expire with their TTL), IAM role of "
        "app in tenant-acme, Pod Identity association of app in tenant-acme, namespace "
        "tenant-acme and everything in it"
    ) in result.output
    assert "unprotect it on purpose" in result.output
    assert "globex" not in result.output


def test_a_prod_drop_shows_who_approved_it_and_that_the_data_goes(tmp_path: Path) -> None:
    approved = {"name": "acme", "dropData": True, "approvedBy": "cto@genericcorp.com"}
    result = tenants_diff(
        tmp_path, "prod", {TENANTS: [ACME]}, {TENANTS: [], DATA: {"offboarding": [approved]}}
    )
    assert result.exit_code == 0, result.output
    assert "(dropData: true, approvedBy: cto@genericcorp.com)" in result.output
    assert "acme: kept nothing" in result.output
    assert "acme: removed schema tenant_acme with all its data, database role" in result.output


def test_a_prod_tenant_removed_without_an_offboarding_entry_is_refused(tmp_path: Path) -> None:
    result = tenants_diff(tmp_path, "prod", {TENANTS: [ACME, GLOBEX]}, {TENANTS: [GLOBEX]})
    assert result.exit_code == 2
    head = tmp_path / "head" / "Pulumi.prod.yaml"
    assert (
        f"{head}: genericcorp:tenants: prod tenant(s) acme removed without an entry in "
        "genericcorp:tenantData.offboarding"
    ) in result.output
    assert "- acme: REFUSED" in result.output
    # What retiring it would keep, and exactly what to add.
    assert (
        "  acme: kept schema tenant_acme with all its data, database role tenant_acme "
        "(NOLOGIN, no IAM login)\n"
    ) in result.output
    assert f"Add to {head}, to keep the schema and data:" in result.output
    assert (
        "  genericcorp:tenantData.offboarding: - {name: acme, dropData: false}\n" in result.output
    )


def test_only_the_unlisted_prod_tenant_is_refused(tmp_path: Path) -> None:
    result = tenants_diff(
        tmp_path,
        "prod",
        {TENANTS: [ACME, GLOBEX]},
        {TENANTS: [], DATA: {"offboarding": [{"name": "globex"}]}},
    )
    assert result.exit_code == 2
    assert "prod tenant(s) acme removed" in result.output
    assert "- globex: retired in genericcorp:tenantData.offboarding" in result.output
    assert "{name: globex" not in result.output


def test_a_dev_tenant_removed_without_an_entry_is_a_warning(tmp_path: Path) -> None:
    result = tenants_diff(tmp_path, "dev", {TENANTS: [ACME, GLOBEX]}, {TENANTS: [GLOBEX]})
    assert result.exit_code == 0, result.output
    assert "- acme: warning: not in genericcorp:tenantData.offboarding." in result.output
    assert "its schema stays and its role keeps LOGIN" in result.output
    assert "REFUSED" not in result.output


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_an_unchanged_stack_file_removes_nothing(tmp_path: Path, stack: str) -> None:
    committed = ROOT / f"Pulumi.{stack}.yaml"
    result = runner.invoke(app, ["tenants", "diff", str(committed), str(committed)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{committed}: no tenant removed from genericcorp:tenants.\n"


def test_added_tenants_are_no_removal(tmp_path: Path) -> None:
    result = tenants_diff(tmp_path, "prod", {TENANTS: []}, {TENANTS: [ACME]})
    assert result.exit_code == 0, result.output
    assert "no tenant removed" in result.output


def test_the_kept_line_is_the_plans_own_offboarding_wording(tmp_path: Path) -> None:
    """The diff reports a retirement exactly as the plan's warning does."""
    retired = {"offboarding": [{"name": "acme"}]}
    config = parse_stack_config("prod", minimal_values("prod", {DATA: retired}))
    report = TenantDataParts(config.tenant_data, [], stack="prod", database="p")
    [plans_line] = retired_tenants_kept(report.offboarding_report())
    result = tenants_diff(tmp_path, "prod", {TENANTS: [ACME]}, {TENANTS: [], DATA: retired})
    assert f"    {plans_line}\n" in result.output


def test_an_invalid_head_is_the_plans_config_error(tmp_path: Path) -> None:
    unapproved = {"offboarding": [{"name": "acme", "dropData": True}]}
    result = tenants_diff(tmp_path, "prod", {TENANTS: [ACME]}, {TENANTS: [], DATA: unapproved})
    assert result.exit_code == 2
    assert "tenantData.offboarding[0].dropData" in result.output
    assert "approvedBy" in result.output


def test_stack_files_of_different_stacks_are_not_compared(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["tenants", "diff", str(ROOT / "Pulumi.dev.yaml"), str(ROOT / "Pulumi.prod.yaml")]
    )
    assert result.exit_code == 2
    assert "different stacks (dev and prod)" in result.output


def test_a_base_whose_tenants_are_not_a_list_is_one_clear_error(tmp_path: Path) -> None:
    result = tenants_diff(tmp_path, "dev", {TENANTS: "acme"}, {})
    assert result.exit_code == 2
    assert "genericcorp:tenants must be a list of {name, tier} items" in result.output


def test_a_stack_file_is_read_from_any_directory_by_its_name(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "prod", {})
    assert read_stack_file_at(path).stack == "prod"
    other = tmp_path / "prod.yaml"
    other.write_text(path.read_text())
    with pytest.raises(StackFileError, match=r"named Pulumi\.<stack>\.yaml"):
        read_stack_file_at(other)


def test_the_deploying_guides_example_is_what_the_refusal_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = (ROOT / "docs" / "deploying.md").read_text()
    example = guide.split("would keep, and the entry to add:\n\n```\n", 1)[1].split("```", 1)[0]
    stack_file(tmp_path / "base", "prod", {TENANTS: [ACME]})
    stack_file(tmp_path / "head", "prod", {TENANTS: []})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["tenants", "diff", "base/Pulumi.prod.yaml", "head/Pulumi.prod.yaml"]
    )
    assert result.exit_code == 2
    assert result.output.endswith(example)
