"""The engine's commands without a real engine: every failure reads as an answer.

The Pulumi CLI cannot be installed here; these tests run the real Automation API against
tests/engine/fake_pulumi.py, which plays the CLI (see its docstring).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from tests.engine.conftest import FakePulumi

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["preview"],
        ["up", "--yes"],
        ["destroy", "small", "--yes"],
        ["refresh"],
        ["status"],
        ["stacks"],
    ],
    ids=lambda c: c[0],
)
def test_without_pulumi_every_engine_command_says_how_to_install(
    command: list[str], no_cloud_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = run(*command)
    assert code == 6
    assert "Pulumi CLI is not installed" in err
    assert "Hint: install the Pulumi CLI" in err
    assert "Traceback" not in err
    assert out == ""


def test_too_old_pulumi(fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_VERSION", "v3.10.0")
    code, _, err = run("preview")
    assert code == 6
    assert "too old: v3.10.0" in err
    assert "pulumi self-update" in err


def test_no_passphrase_for_the_local_backend(fake_pulumi: FakePulumi) -> None:
    code, _, err = run("preview")
    assert code == 5
    assert "need a passphrase" in err
    assert "PULUMI_CONFIG_PASSPHRASE" in err


def test_no_google_credentials(fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test-only-passphrase")
    code, _, err = run("preview")
    assert code == 5
    assert "no Google Cloud credentials found" in err
    assert "gcloud auth application-default login" in err
    assert fake_pulumi.calls() == [["version"]]  # stopped before touching any stack


def test_missing_key_file_is_named(
    fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "gone.json"))
    code, _, err = run("preview")
    assert code == 5
    assert "gone.json, which does not exist" in err


def test_on_prem_needs_no_google_credentials(
    fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    code, _, err = run("preview", "onprem", "--json")
    assert code == 0, err


def test_locked_stack(
    fake_pulumi: FakePulumi, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_MODE", "conflict")
    code, _, err = run("up", "--yes")
    assert code == 7
    assert "stack atlas-gcp is locked by another update" in err
    assert "pulumi cancel --stack atlas-gcp" in err
    assert "Traceback" not in err


def test_failed_resource_names_the_resource_and_the_provider_message(
    fake_pulumi: FakePulumi, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_MODE", "fail")
    code, _, err = run("preview")
    assert code == 5
    assert "cluster-gke (gcp:container/cluster:Cluster)" in err
    assert "Kubernetes Engine API has not been used" in err
    assert "gcloud services enable" in err  # the known answer to that message


def test_up_json_streams_events_and_a_final_result(
    fake_pulumi: FakePulumi, credentials: None
) -> None:
    code, out, err = run("up", "--yes", "--json")
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]  # NDJSON: every line parses
    kinds = [r["event"] for r in records]
    assert kinds[-1] == "result"
    assert {"resource-start", "resource-done", "summary"} <= set(kinds)
    done = next(r for r in records if r["event"] == "resource-done")
    assert (done["name"], done["type"]) == ("cluster-gke", "gcp:container/cluster:Cluster")
    final = records[-1]
    assert final["result"] == "succeeded"
    assert final["changes"] == {"create": 1}
    assert final["outputs"]["kubeconfig"] == "[secret]"  # never printed in the clear
    assert "apiVersion" not in out
    # the operation ran on the stack named after the facility, in the local backend
    calls = [[a for a in c if a != "--non-interactive"] for c in fake_pulumi.calls()]
    assert ["stack", "select", "--stack", "atlas-gcp"] in calls
    assert any(c[0] == "up" and "atlas-gcp" in c for c in calls)


def test_up_without_yes_refuses_when_not_interactive(
    fake_pulumi: FakePulumi, credentials: None
) -> None:
    code, _, err = run("up")
    assert code == 2
    assert "pass --yes" in err
    assert fake_pulumi.calls() == []


def test_up_over_budget_is_refused_before_the_engine(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path
) -> None:
    profile = tmp_path / "poor.yaml"
    profile.write_text(
        Path("profiles/default.yaml").read_text().replace("monthly: 25000", "monthly: 10")
    )
    code, _, err = run("up", str(profile), "--yes")
    assert code == 4
    assert "budget gate refused" in err
    assert "--allow-over-budget" in err
    assert fake_pulumi.calls() == []


def test_destroy_with_deletion_protection_is_refused(
    fake_pulumi: FakePulumi, credentials: None
) -> None:
    code, _, err = run("destroy", "--yes")
    assert code == 2
    assert "deletion protection" in err


def test_status_masks_secrets(fake_pulumi: FakePulumi, credentials: None) -> None:
    code, out, err = run("status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["resources"] == {"gcp:container/cluster:Cluster": 1}
    assert data["lastUpdate"]["result"] == "succeeded"


def test_stacks_lists_the_backend(fake_pulumi: FakePulumi, credentials: None) -> None:
    code, out, err = run("stacks", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["name"] == "atlas-gcp"


def test_missing_oidc_secret_stops_before_the_engine(
    fake_pulumi: FakePulumi, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDCLOUD_OIDC_CLIENT_SECRET")
    code, _, err = run("up", "--yes")
    assert code == 2
    assert "$GRIDCLOUD_OIDC_CLIENT_SECRET is not set" in err
    assert "clientSecretRef" in err
    assert [c for c in fake_pulumi.calls() if c != ["version"]] == []


def test_without_a_terminal_progress_is_plain_lines(
    fake_pulumi: FakePulumi, credentials: None
) -> None:
    code, out, err = run("up", "--yes")
    assert code == 0, err
    lines = err.splitlines()
    assert any("create   cluster-gke (gcp:container/cluster:Cluster)" in ln for ln in lines)
    assert any("[1/1] done     cluster-gke" in ln for ln in lines)
    assert "up succeeded on stack atlas-gcp" in err
    assert "kubeconfig: [secret]" in out
