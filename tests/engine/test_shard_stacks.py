"""One stack per shard: `up` and `preview` act on every shard's stack, or on `--shard NAME`
(`status` and `destroy` over every stack: tests/engine/test_shard_fleet.py). Against
tests/engine/fake_pulumi.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from tests.conftest import default_data
from tests.engine.conftest import FakePulumi

runner = CliRunner()
SHARD = {
    "name": "ew4",
    "region": "europe-west4",
    "pools": [{"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}],
}


def write(tmp_path: Path, monthly: int) -> Path:
    data = default_data()
    data["shards"] = {"declared": [SHARD]}
    data["budget"]["monthly"] = monthly
    path = tmp_path / "sharded.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def sharded(tmp_path: Path) -> Path:
    return write(tmp_path, 40_000)


def test_the_budget_gate_counts_the_shards(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path
) -> None:
    # the default budget buys (25,000 - 116.94) / (1,141.01 - 116.94 / 730) = 21.8 hours of
    # the home cluster's peak, above the profile's 20; the shard's 100 spot nodes take it under
    code, _, err = run("up", str(write(tmp_path, 25_000)), "--yes")
    assert code == 4
    assert "budget gate refused" in err
    assert "the profile asks for at least 20" in err
    assert stacks_of(fake_pulumi, "up") == []


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


def stacks_of(fake: FakePulumi, operation: str) -> list[str]:
    """The stacks ``operation`` ran on, in order."""
    found = []
    for each in fake.calls():
        call = [a for a in each if a != "--non-interactive"]
        if call and call[0] == operation and "--stack" in call:
            found.append(call[call.index("--stack") + 1])
    return found


def test_up_acts_on_every_shard_stack(
    fake_pulumi: FakePulumi, credentials: None, sharded: Path
) -> None:
    code, out, err = run("up", str(sharded), "--yes", "--json")
    assert code == 0, err
    assert stacks_of(fake_pulumi, "up") == ["atlas-gcp", "atlas-gcp-ew4"]
    results = [line for line in out.splitlines() if '"event": "result"' in line]
    assert len(results) == 2


def test_shard_picks_one_stack(fake_pulumi: FakePulumi, credentials: None, sharded: Path) -> None:
    code, _, err = run("preview", str(sharded), "--shard", "ew4")
    assert code == 0, err
    assert stacks_of(fake_pulumi, "preview") == ["atlas-gcp-ew4"]
    code, _, err = run("preview", str(sharded), "--shard", "home")
    assert code == 0, err
    assert stacks_of(fake_pulumi, "preview") == ["atlas-gcp-ew4", "atlas-gcp"]


def test_an_unknown_shard_names_the_shards(
    fake_pulumi: FakePulumi, credentials: None, sharded: Path
) -> None:
    code, _, err = run("up", str(sharded), "--yes", "--shard", "us9")
    assert code == 2, err
    assert "atlas-gcp has no shard us9" in err
    assert "its shards: home, ew4" in err
    assert stacks_of(fake_pulumi, "up") == []


def test_a_failed_stack_does_not_stop_the_others(
    fake_pulumi: FakePulumi,
    credentials: None,
    sharded: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_MODE", "fail")
    code, _, err = run("preview", str(sharded))
    assert code == 5
    # every stack was tried (side by side: in either order), each failure named
    assert sorted(stacks_of(fake_pulumi, "preview")) == ["atlas-gcp", "atlas-gcp-ew4"]
    assert "preview failed on stack atlas-gcp:" in err
    assert "preview failed on 2 of 2 stacks: atlas-gcp, atlas-gcp-ew4" in err
    assert "Traceback" not in err


def test_status_of_one_shard(fake_pulumi: FakePulumi, credentials: None, sharded: Path) -> None:
    code, _, err = run("status", str(sharded), "--shard", "ew4", "--json")
    assert code == 0, err
    selected = stacks_of(fake_pulumi, "stack")
    assert selected
    assert set(selected) == {"atlas-gcp-ew4"}
