"""The command line as a user meets it: exit codes, stdout data, stderr diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from gridcloud.cli.profile_cmds import profile_schema
from tests.conftest import PROFILES, ROOT, SHIPPED

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_plan_every_shipped_profile(path: Path) -> None:
    code, out, _ = run("plan", str(path))
    assert code == 0
    assert "Pools" in out and "control" in out and "Budget:" in out


def test_plan_without_argument_uses_the_default_profile() -> None:
    code, out, _ = run("plan", "--json")
    assert code == 0
    assert json.loads(out)["profile"] == "profiles/default.yaml"


def test_plan_by_shipped_name() -> None:
    code, out, _ = run("plan", "small", "--json")
    assert code == 0 and json.loads(out)["plan"]["name"] == "tryout"


def test_plan_json_keys() -> None:
    code, out, _ = run("plan", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"profile", "plan", "cost", "budget", "findings"}
    plan = data["plan"]
    assert {
        "name",
        "target",
        "cluster",
        "network",
        "pools",
        "services",
        "budget",
        "fingerprint",
    } <= set(plan)
    cpu = next(p for p in plan["pools"] if p["name"] == "cpu")
    assert cpu["maxNodes"] == 1250 and cpu["maxCores"] == 100000
    assert plan["network"]["podRange"].endswith("/13")
    assert data["cost"]["peakHourly"] == "1143.02"  # with its backups and data (test_cost.py)
    assert data["budget"]["status"] == "within"


def test_cost_estimate_json() -> None:
    code, out, _ = run("cost", "estimate", "small", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["cost"]["idleMonthly"] == "145.94"
    # from the exact figures, rounded once: (500 - 145.9386732) / (2.98441650 - 0.19991599)
    # = 127.154 h (tests/unit/test_cost.py works it out, its hub's snapshots included)
    assert data["budget"]["runwayHours"] == "127.2"
    items = {i["item"]: i for i in data["cost"]["items"]}
    assert items["forwarding rules"]["idleMonthly"] == "18.25"
    # a price per node-hour to 1/100 cent, money to the cent, in the JSON as well
    control = next(p for p in data["cost"]["pools"] if p["name"] == "control")
    assert control["nodeHourly"] == "0.1409"


def test_cost_estimate_table() -> None:
    code, out, _ = run("cost", "estimate")
    assert code == 0
    assert "$1,110.22" in out and "per core-hour" in out


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_invalid_profile_exits_2_with_line_and_field(tmp_path: Path) -> None:
    text = (PROFILES / "default.yaml").read_text().replace("machineType: e2", "machineTyp: e2")
    code, out, err = run("validate", str(write(tmp_path, text)))
    assert code == 2
    assert out == ""
    assert "Error:" in err and "controlNode.machineTyp" in err
    assert "did you mean 'machineType'?" in err
    assert "Traceback" not in err
    assert "Hint:" in err


def test_validate_json_reports_problems(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(write(tmp_path, "- a list\n")), "--json")
    assert code == 2
    data = json.loads(out)
    assert data["valid"] is False and "expected a mapping" in data["problems"][0]


def test_validate_valid_profile() -> None:
    code, out, _ = run("validate", "profiles/default.yaml", "--json")
    assert code == 0
    assert json.loads(out)["valid"] is True


def test_infeasible_plan_exits_3(tmp_path: Path) -> None:
    text = (
        (PROFILES / "default.yaml")
        .read_text()
        .replace("maxPodsPerNode: 110", "maxPodsPerNode: 110\n  podRange: 10.4.0.0/16")
    )
    code, _, err = run("plan", str(write(tmp_path, text)))
    assert code == 3
    assert "network.podRange" in err and "Traceback" not in err


def test_unknown_profile_name_exits_2_with_the_shipped_names() -> None:
    code, _, err = run("plan", "nosuch")
    assert code == 2
    assert "no profile at nosuch" in err and "default" in err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    code, _, err = run("--debug", "validate", str(write(tmp_path, "")))
    assert code == 2
    assert "Traceback" in err and "Error:" in err


def test_schema_validates_the_shipped_profiles() -> None:
    code, out, _ = run("schema")
    assert code == 0
    schema = json.loads(out)
    for path in SHIPPED:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"apiVersion": "gridcloud.dev/v1alpha1", "nme": "x"}, schema)


def test_committed_schema_file_is_current() -> None:
    """docs/profile.schema.json, which the profiles point editors at, matches the code."""
    committed = json.loads((ROOT / "docs" / "profile.schema.json").read_text())
    assert committed == profile_schema(), "regenerate: gridcloud schema -o docs/profile.schema.json"


def test_catalog_json() -> None:
    code, out, _ = run("catalog", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["captured"] == "2026-08-20"
    assert data["ageDays"] > 0
    assert len(data["regionsWithPrices"]) == 43 and "europe-west4" in data["regionsWithPrices"]
    assert any(r["machineType"] == "n2d-highcpu-80" for r in data["prices"])


def test_catalog_region_without_prices_warns() -> None:
    code, _, err = run("catalog", "--region", "europe-west5")
    assert code == 0
    assert "no prices for europe-west5" in err


def test_catalog_unknown_region() -> None:
    code, _, err = run("catalog", "--region", "us-centrl1")
    assert code == 2 and "us-central1" in err


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("gridcloud ")


# One real process per command: the installed entry point, as a user runs it --------------


def gridcloud(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridcloud", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("plan",),
        ("plan", "--json"),
        ("validate", "profiles/onprem.yaml"),
        ("cost", "estimate", "--json"),
        ("catalog",),
        ("schema",),
    ],
)
def test_real_process(args: tuple[str, ...]) -> None:
    proc = gridcloud(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout


def test_real_process_error_has_no_traceback(tmp_path: Path) -> None:
    proc = gridcloud("validate", str(write(tmp_path, "name: [x\n")))
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error:") and "Traceback" not in proc.stderr


def test_help_imports_no_pulumi() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gridcloud", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    heavy = {m for m in imported if m.split(".")[0] in ("pulumi", "pulumi_gcp", "google")}
    assert heavy == set()
    assert "pydantic" not in imported


def test_plan_shows_how_each_pool_spreads_over_its_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run("plan")
    assert code == 0, err
    # spot: location policy ANY, one zone may hold the pool up to GKE's 1,000 per zone;
    # on-demand: balanced, 10 nodes over 3 zones is at most 4 in one
    assert "any ≤1,000/zone" in out
    assert "balanced ≤4/zone" in out


def test_plan_strict_passes_the_default_profile_and_refuses_an_unwaived_warning() -> None:
    code, out, _ = run("plan", "default", "--strict")
    assert code == 0
    assert "waived" in out
    # the small profile's GPU notebooks run on a spot pool and it waives nothing
    code, _, err = run("plan", "small", "--strict")
    assert code == 8
    assert "interactive-on-spot" in err
