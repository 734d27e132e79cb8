"""A facility of three clusters (home, ew4, ue1), one stack each, against the fake Pulumi CLI
(tests/engine/fake_pulumi.py): ``up``, ``destroy``, ``refresh`` and ``status`` act on every
stack without ``--shard``, in the order gridcloud/engine/fleet.py gives (home first on up,
last on destroy, the compute shards side by side), a failure in one stack leaves the others
done, and ``--shard`` acts on one only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
import yaml
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from tests.conftest import default_data
from tests.engine.conftest import FakePulumi
from tests.engine.test_engine_cli import compute  # noqa: F401 (a fixture)
from tests.engine.test_shard_stacks import stacks_of

HOME, EW4, UE1 = "atlas-gcp", "atlas-gcp-ew4", "atlas-gcp-ue1"
POOL = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}


def shard_outputs(shard: str) -> dict[str, object]:
    """A shard stack's outputs as `up` writes them (no project: nothing to search for
    leftovers in this test's Compute API)."""
    return {"facility": f"atlas-gcp-{shard}", "target": "gcp", "shard": shard}


@pytest.fixture
def facility(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = default_data()
    data["shards"] = {
        "declared": [
            {"name": "ew4", "region": "europe-west4", "pools": [POOL]},
            {"name": "ue1", "region": "us-east1", "pools": [POOL]},
        ]
    }
    data["budget"]["monthly"] = 60_000
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    times = tmp_path / "times.jsonl"
    monkeypatch.setenv("FAKE_PULUMI_TIMES", str(times))
    monkeypatch.setenv("FAKE_PULUMI_STACKS", json.dumps([HOME, EW4, UE1]))
    monkeypatch.setenv(
        "FAKE_PULUMI_STACK_OUTPUTS",
        json.dumps({EW4: shard_outputs("ew4"), UE1: shard_outputs("ue1")}),
    )
    monkeypatch.setenv("FAKE_PULUMI_PROTECTED", "false")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


def spans(tmp_path: Path, operation: str) -> dict[str, tuple[float, float]]:
    """When each stack's ``operation`` ran (the fake's clock), by stack."""
    found = {}
    for line in (tmp_path / "times.jsonl").read_text().splitlines():
        stack, op, start, end = json.loads(line)
        if op == operation:
            found[stack] = (start, end)
    return found


def records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_up_goes_home_first_then_the_shards_side_by_side(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_SECONDS", "0.8")
    code, out, err = run("up", str(facility), "--yes", "--json")
    assert code == 0, err
    ran = spans(tmp_path, "up")
    assert set(ran) == {HOME, EW4, UE1}
    # the home stack (the budget's enforcer) is up before either shard starts
    assert ran[HOME][1] <= min(ran[EW4][0], ran[UE1][0])
    # the two shards overlap: each started before the other ended
    assert ran[EW4][0] < ran[UE1][1] and ran[UE1][0] < ran[EW4][1]
    done = [r for r in records(out) if r["event"] == "result"]
    assert sorted(str(r["stack"]) for r in done) == [HOME, EW4, UE1]
    # every progress record names its stack
    progress = [r for r in records(out) if r["event"] != "result"]
    assert progress and all(r["stack"] in (HOME, EW4, UE1) for r in progress)


def test_a_failed_shard_leaves_the_others_done(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", EW4)
    code, out, err = run("up", str(facility), "--yes", "--json")
    assert code == 5
    # ew4 failed at the preview that counts its changes; the others went on
    assert sorted(stacks_of(fake_pulumi, "up")) == [HOME, UE1]
    assert EW4 in stacks_of(fake_pulumi, "preview")
    by_stack = {r["stack"]: r for r in records(out) if r["event"] in ("result", "failed")}
    assert by_stack[HOME]["result"] == by_stack[UE1]["result"] == "succeeded"
    assert by_stack[EW4]["event"] == "failed"
    assert "Kubernetes Engine API has not been used" in str(by_stack[EW4]["error"])
    assert f"up failed on stack {EW4}:" in err
    assert f"up failed on 1 of 3 stacks: {EW4}" in err
    assert "Traceback" not in err


def test_a_failed_home_stack_leaves_the_shards_unchanged(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", HOME)
    code, out, err = run("up", str(facility), "--yes", "--json")
    assert code == 5
    # home failed (at the preview that counts its changes); no shard was touched
    assert stacks_of(fake_pulumi, "preview") == [HOME]
    assert stacks_of(fake_pulumi, "up") == []
    skipped = [r for r in records(out) if r["event"] == "skipped"]
    assert sorted(str(r["shard"]) for r in skipped) == ["ew4", "ue1"]
    assert "budget's enforcer" in str(skipped[0]["reason"])
    assert f"skipped {EW4}, {UE1}" in err


def test_destroy_takes_the_shards_down_before_home(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    compute: responses.RequestsMock,  # noqa: F811
    tmp_path: Path,
) -> None:
    code, out, err = run("destroy", str(facility), "--yes", "--json")
    assert code == 0, err
    ran = spans(tmp_path, "destroy")
    assert set(ran) == {HOME, EW4, UE1}
    assert max(ran[EW4][1], ran[UE1][1]) <= ran[HOME][0]
    done = [r for r in records(out) if r.get("operation") == "destroy"]
    assert [r["stack"] for r in done][-1] == HOME
    assert all(r["result"] == "succeeded" for r in done)


def test_destroy_keeps_home_while_a_shard_remains(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    compute: responses.RequestsMock,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", UE1)
    code, _, err = run("destroy", str(facility), "--yes")
    assert code == 5
    destroyed = stacks_of(fake_pulumi, "destroy")
    assert HOME not in destroyed
    assert EW4 in destroyed
    assert f"destroy skipped on stack {HOME}: kept: shard(s) ue1 are still there" in err
    assert f"failed on 1 of 3 stacks: {UE1}; skipped {HOME}" in err


@pytest.mark.usefixtures("credentials", "facility", "compute")
def test_destroy_from_the_stacks_alone_finds_the_shards_by_their_outputs(
    fake_pulumi: FakePulumi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # another facility's stack named like a shard, without a shard output: not destroyed
    monkeypatch.setenv("FAKE_PULUMI_STACKS", json.dumps([HOME, EW4, UE1, "atlas-gcp-dev"]))
    elsewhere = tmp_path / "no-profile"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run("destroy", "--stack", HOME, "--yes")
    assert code == 0, err
    assert sorted(set(stacks_of(fake_pulumi, "destroy"))) == [HOME, EW4, UE1]


def test_shard_destroys_one_stack_only(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
) -> None:
    code, _, err = run("destroy", str(facility), "--shard", "ue1", "--yes")
    assert code == 0, err
    assert set(stacks_of(fake_pulumi, "destroy")) == {UE1}


def test_refresh_reads_every_stack_and_reports_a_failing_one(
    fake_pulumi: FakePulumi, credentials: None, facility: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run("refresh", str(facility), "--json")
    assert code == 0, err
    assert sorted(set(stacks_of(fake_pulumi, "refresh"))) == [HOME, EW4, UE1]
    # one shard's refresh failing leaves the others refreshed, and the command says which
    monkeypatch.setenv("FAKE_PULUMI_FAIL", EW4)
    code, _, err = run("refresh", str(facility))
    assert code == 5
    assert stacks_of(fake_pulumi, "refresh").count(UE1) == 2
    assert stacks_of(fake_pulumi, "refresh").count(HOME) == 2
    assert f"refresh failed on 1 of 3 stacks: {EW4}" in " ".join(err.split())


def test_refresh_of_one_shard(fake_pulumi: FakePulumi, credentials: None, facility: Path) -> None:
    code, _, err = run("refresh", str(facility), "--shard", "ue1")
    assert code == 0, err
    assert stacks_of(fake_pulumi, "refresh") == [UE1]


def test_status_shows_every_stack(
    fake_pulumi: FakePulumi, credentials: None, facility: Path
) -> None:
    code, out, err = run("status", str(facility), "--json")
    assert code == 0, err
    shown = json.loads(out)["stacks"]
    assert sorted((s["shard"], s["stack"]) for s in shown) == [
        ("ew4", EW4),
        ("home", HOME),
        ("ue1", UE1),
    ]
    assert next(s for s in shown if s["shard"] == "ew4")["outputs"]["shard"] == "ew4"
    code, out, err = run("status", str(facility))
    assert code == 0, err
    shown_text = " ".join(out.split())  # as read, whatever the terminal's width wrapped
    assert all(f"stack {name} (" in shown_text for name in (HOME, EW4, UE1))


def test_status_reports_a_missing_shard_and_the_others(
    fake_pulumi: FakePulumi,
    credentials: None,
    facility: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the profile names ue1, whose stack the backend lists but cannot select
    monkeypatch.setenv("FAKE_PULUMI_MISSING", UE1)
    code, out, err = run("status", str(facility), "--json")
    assert code == 5
    shown = {s["stack"]: s for s in json.loads(out)["stacks"]}
    assert shown[HOME]["resourceCount"] == 1 and shown[EW4]["resourceCount"] == 1
    assert "no stack atlas-gcp-ue1" in shown[UE1]["error"]
    assert f"status failed on 1 of 3 stacks: {UE1}" in err


def test_each_shard_keeps_the_ranges_of_its_own_stack(
    fake_pulumi: FakePulumi, credentials: None, facility: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridcloud.analysis import analyse
    from gridcloud.deploy import Options, prepare
    from gridcloud.engine.backend import resolve_backend
    from gridcloud.engine.stacks import EngineStack, StackRef

    fresh = {s.shard: s.network for s in analyse(facility).plan.shards}
    ew4 = fresh["ew4"]
    assert ew4 is not None
    # ew4's stack was deployed (its network output); ue1's holds no ranges yet
    network = {
        "maxPodsPerNode": ew4.max_pods_per_node,
        "subnetRange": ew4.subnet_range,
        "podRange": ew4.pod_range,
        "serviceRange": ew4.service_range,
    }
    monkeypatch.setenv(
        "FAKE_PULUMI_STACK_OUTPUTS",
        json.dumps({EW4: {**shard_outputs("ew4"), "network": network}, UE1: shard_outputs("ue1")}),
    )
    backend = resolve_backend(None)

    def stack_for(plan: object) -> EngineStack:
        return EngineStack(
            StackRef(HOME, backend), shard_ref=lambda name: StackRef(f"{HOME}-{name}", backend)
        )

    prepared = prepare(facility, Options(), stack_for, operation="preview")
    kept = {s.shard: s.network for s in prepared.analysis.plan.shards}
    assert kept["ew4"] is not None and kept["ue1"] is not None
    assert set(kept["ew4"].kept) == {"podRange", "serviceRange", "subnetRange"}
    assert kept["ue1"].kept == ()
    # each shard's own stack was read, and no other
    assert set(stacks_of(fake_pulumi, "stack")) == {HOME, EW4, UE1}
