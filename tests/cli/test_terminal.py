"""Output as a person reads it: in a CI log or a pipe (80 columns) and on a wide terminal.

Piped output is what CI logs, ``> file`` and ``| less`` see; rich then draws at 80 columns
(or ``$COLUMNS``). Every name and number a user looks for must be there whole, at any width:
the expected ones are read from the profile itself (its pool names, machine types and
core counts), not from gridcloud's output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml

from gridcloud.cli import create_cli
from tests.conftest import ROOT, SHIPPED

#: rich's mark where it cuts a cell
CUT = "\u2026"


def gridcloud(*args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "gridcloud", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def _words_a_user_looks_for(path: Path) -> list[str]:
    profile = yaml.safe_load(path.read_text())
    words = [profile["name"]]
    for pool in profile.get("pools", []):
        words.append(pool["name"])
        if "machineType" in pool:
            words.append(pool["machineType"])
        if "maxCores" in pool:
            words.append(f"{pool['maxCores']:,}")
    control = profile.get("controlNode", {})
    if "machineType" in control:
        words.append(control["machineType"])
    return words


#: the shipped profiles and the corpus of users' own (tests/corpus) that plan
PROFILES_TO_READ = [
    *SHIPPED,
    *(p for p in sorted((ROOT / "tests" / "corpus").glob("*.yaml")) if "not-offered" not in p.stem),
]


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize("path", PROFILES_TO_READ, ids=lambda p: p.stem)
def test_plan_shows_every_name_and_number_whole(path: Path, columns: int) -> None:
    proc = gridcloud("plan", str(path.relative_to(ROOT)), columns=columns)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert CUT not in out, "a cell was cut:\n" + "\n".join(
        line for line in out.splitlines() if CUT in line
    )
    assert all(len(line) <= columns for line in out.splitlines())
    # a token is a run of the characters names and numbers are made of: "cpu" is one,
    # and it is not found inside "n2d-highcpu-80", another token
    tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9,._-]*[A-Za-z0-9]|[A-Za-z0-9]", out))
    for word in _words_a_user_looks_for(path):
        assert word in tokens, f"{word!r} is not shown whole"


def test_the_default_pools_at_80_columns_read_as_rows() -> None:
    # the 100,000-core pool: its name, machine, capacity and cores on its own lines
    proc = gridcloud("plan", columns=80)
    assert proc.returncode == 0, proc.stderr
    pools = proc.stdout.split("Pools\n", 1)[1].split("\n\n", 1)[0]
    cpu = pools[pools.index("\ncpu ") :]
    assert "n2d-highcpu-80" in cpu and "spot" in cpu and "100,000" in cpu.replace("\n", " ")


def test_plan_begins_with_the_summary_and_ends_with_the_next_step() -> None:
    proc = gridcloud("plan", "small", columns=80)
    assert proc.returncode == 0, proc.stderr
    lines = [line.rstrip() for line in proc.stdout.split("\n\n", 1)[0].splitlines()]
    # the small profile: an e2-standard-4 control node (4 cores), 160 cores of spot, one
    # g2-standard-4 (4) and two e2-standard-8 notebook nodes (16): 184 cores at most
    assert lines[0] == "tryout: Google Cloud, us-central1; 184 cores at most in 4 pools (3 elastic)"
    assert lines[1].startswith("cost: idle $")
    assert lines[2].startswith("budget: ")
    assert "Next: `gridcloud check profiles/small.yaml`" in proc.stdout
    assert proc.stdout.rstrip().endswith("docs/deploy.md.")


def test_an_over_budget_plan_says_up_refuses(tmp_path: Path) -> None:
    text = (ROOT / "profiles" / "small.yaml").read_text().replace("monthly: 500", "monthly: 10")
    path = tmp_path / "tight.yaml"
    path.write_text(text)
    proc = gridcloud("plan", str(path), columns=80)
    assert proc.returncode == 0, proc.stderr
    assert "budget: over" in proc.stdout
    assert "Next: the budget verdict is over: `gridcloud up` refuses" in proc.stdout


def _commands(
    command: typer.core.TyperGroup, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*prefix, name))
    return found


@pytest.mark.parametrize(
    "args",
    _commands(typer.main.get_command(create_cli())),
    ids=lambda a: " ".join(a) or "gridcloud",
)
def test_help_shows_flags_without_a_type(args: tuple[str, ...]) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(create_cli(), [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output
