"""The engine's commands without a real engine: every failure reads as an answer.

The Pulumi CLI cannot be installed here; these tests run the real Automation API against
tests/engine/fake_pulumi.py, which plays the CLI (see its docstring).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from gridcloud.errors import ExitCode
from tests.engine import compute_api
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
    assert "gone.json was not found" in err  # google-auth's own words, as check shows them


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


@pytest.mark.parametrize(
    ("url", "shown", "password"),
    [
        # typed without percent-encoding: a URL parser reads these as fragment, path, query
        (
            "postgres://gc:pa#ss@db.example.org:5432/state",
            "postgres://gc:****@db.example.org:5432/state",
            "pa#ss",
        ),
        (
            "postgres://gc:p/a?ss@db.example.org/state",
            "postgres://gc:****@db.example.org/state",
            "p/a?ss",
        ),
        (
            "postgres://gc:p@ss@db.example.org/state",
            "postgres://gc:****@db.example.org/state",
            "p@ss",
        ),
        # the password as a query parameter (libpq's and the Go drivers' form)
        (
            "postgres://db.example.org/state?user=gc&password=s3cr#t/?x&sslmode=require",
            "postgres://db.example.org/state?user=gc&password=****&sslmode=require",
            "s3cr#t/?x",
        ),
        (
            "azblob://state?storage_account=facility&access_key=QUJDREVGR0g=",
            "azblob://state?storage_account=facility&access_key=****",
            "QUJDREVGR0g=",
        ),
    ],
)
def test_status_json_never_shows_a_backend_password(
    fake_pulumi: FakePulumi, credentials: None, url: str, shown: str, password: str
) -> None:
    code, out, err = run("status", "--json", "--backend", url)
    assert code == 0, err
    assert json.loads(out)["backend"] == shown
    assert password not in out + err


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


# --- day two: state-only commands and the teardown ----------------------------------------


@pytest.fixture
def compute(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """The project's Compute Engine API with the facility's leftovers in it."""
    from gridcloud.engine import leftovers

    monkeypatch.setattr(
        leftovers.ComputeClients, "__init__", _anonymous(leftovers.ComputeClients.__init__)
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        compute_api.serve_listing(mock)
        compute_api.serve_deletes(mock)
        yield mock


def _anonymous(init: Any) -> Any:
    from google.auth.credentials import AnonymousCredentials

    def patched(self: Any, credentials: Any = None) -> None:
        init(self, AnonymousCredentials())

    return patched


def engine_calls(fake: FakePulumi, operation: str) -> list[list[str]]:
    return [c for c in fake.calls() if operation in c and c[0] != "stack"]


def test_destroy_works_from_the_stack_alone_and_deletes_the_leftovers(
    fake_pulumi: FakePulumi,
    credentials: None,
    compute: responses.RequestsMock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_PROTECTED", "false")
    elsewhere = tmp_path / "no-profiles-here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the profile is gone
    code, out, err = run("destroy", "--stack", "atlas-gcp", "--yes", "--delete-backups", "--json")
    assert code == 0, err
    assert engine_calls(fake_pulumi, "destroy")
    result = json.loads(out.splitlines()[-1])
    assert result["operation"] == "destroy" and result["result"] == "succeeded"
    assert {i["name"] for i in result["deletedLeftovers"]} == {
        "pvc-3f1c9a52",
        "pvc-77aa0d10",
        "atlas-gcp-hub",
        "a8f2c61e0d4b311efb0f942010a80002",
        "reana-nfs-2026-11-01",
        # the hub's load balancer, as GKE's Ingress controller built it
        f"k8s2-fs-{compute_api.LB}",
        f"k8s2-fr-{compute_api.LB}",
        f"k8s2-ts-{compute_api.LB}",
        f"k8s2-tp-{compute_api.LB}",
        f"k8s2-um-{compute_api.LB}",
        f"k8s2-rm-{compute_api.LB}",
        compute_api.HUB,
        compute_api.DEFAULT_BACKEND,
        compute_api.CERT,
    }
    deleted = [c.request.url for c in compute.calls if c.request.method == "DELETE"]
    assert deleted == compute_api.DELETES


def test_destroy_keeps_the_backups_unless_told(
    fake_pulumi: FakePulumi,
    credentials: None,
    compute: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--yes deletes what is only billed; the backups' snapshots stay, listed, with how to
    delete them (engine/snapshots.py)."""
    monkeypatch.setenv("FAKE_PULUMI_PROTECTED", "false")
    code, _, err = run("destroy", "--stack", "atlas-gcp", "--yes")
    assert code == 0, err
    deleted = [c.request.url for c in compute.calls if c.request.method == "DELETE"]
    snapshot = f"{compute_api.API}/global/snapshots/reana-nfs-2026-11-01"
    assert deleted == [url for url in compute_api.DELETES if url != snapshot]
    assert "1 backup snapshot(s) of the facility remain" in err
    assert "snapshot reana-nfs-2026-11-01" in err
    assert "1 backup snapshot(s) kept" in err and "--delete-backups" in err


def test_destroy_with_a_profile_that_no_longer_validates(
    fake_pulumi: FakePulumi,
    credentials: None,
    compute: responses.RequestsMock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_PROTECTED", "false")
    old = tmp_path / "old.yaml"
    old.write_text("apiVersion: gridcloud.dev/v0\nname: atlas-gcp\nretiredField: 1\n")
    code, _, err = run("destroy", str(old), "--yes")
    assert code == 0, err
    assert engine_calls(fake_pulumi, "destroy")
    # 4 disks, addresses and rules (and 1 backup snapshot, apart); 14 parts of the hub's
    # Ingress load balancer
    assert "18 resource(s) of the facility remain" in err
    assert "disk pvc-3f1c9a52 (us-central1-a, 10 GB): disk of claim jupyter/claim-alice" in err
    assert (
        "by hand: gcloud compute disks delete pvc-3f1c9a52 --zone us-central1-a "
        "--project atlas-analysis-facility" in " ".join(err.split())
    )


def test_destroy_of_a_protected_cluster_says_how_without_the_profile(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("destroy", "--stack", "atlas-gcp", "--yes")
    assert code == 2
    assert "deletion protection" in err
    assert "gcloud container clusters update atlas-gcp --location us-central1-a" in err
    assert engine_calls(fake_pulumi, "destroy") == []


def test_destroy_of_a_stack_that_does_not_exist(
    fake_pulumi: FakePulumi, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_MODE", "missing")
    code, _, err = run("destroy", "--stack", "atlas-gcp", "--yes")
    assert code == 2
    assert "no stack atlas-gcp" in err
    assert "gridcloud stacks" in err


def test_without_profile_or_stack_a_state_command_asks_for_the_stack(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("status")
    assert code == 2
    assert "--stack NAME" in err


@pytest.mark.parametrize("command", ["status", "refresh"])
def test_status_and_refresh_need_only_the_stack(
    command: str,
    fake_pulumi: FakePulumi,
    credentials: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(command, "--stack", "atlas-gcp", "--json")
    assert code == 0, err


def test_up_keeps_the_deployed_ranges_and_refuses_a_pool_they_cannot_hold(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path
) -> None:
    import yaml

    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["pools"][0]["maxCores"] = 168_000  # 2,100 nodes; the deployed /13 holds 2,048
    grown = tmp_path / "grown.yaml"
    grown.write_text(yaml.safe_dump(data))
    code, _, err = run("up", str(grown), "--yes", "--allow-over-budget")
    assert code == 3, err
    assert "deployed podRange 10.0.0.0/13 holds 2,048" in err
    assert engine_calls(fake_pulumi, "up") == []


def test_a_password_in_the_backend_url_is_never_shown(
    fake_pulumi: FakePulumi, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_MODE", "missing")
    url = "postgres://gc:S3cretPassw0rd@db.example.org:5432/state"
    code, out, err = run("destroy", "--stack", "atlas-gcp", "--yes", "--backend", url)
    assert code == 2
    assert "postgres://gc:****@db.example.org:5432/state" in err
    assert "S3cretPassw0rd" not in out + err


def test_the_backend_url_reaches_pulumi_through_its_environment_only(
    fake_pulumi: FakePulumi,
) -> None:
    from gridcloud.engine.backend import masked
    from gridcloud.engine.stacks import StackRef, _options

    url = "postgres://gc:S3cretPassw0rd@db.example.org/state"
    ref = StackRef(name="atlas-gcp", backend=url, secrets_provider=None)
    options = _options(ref, None)
    assert options.project_settings is not None
    assert options.project_settings.backend is None  # not written into Pulumi.yaml
    assert options.env_vars is not None and options.env_vars["PULUMI_BACKEND_URL"] == url
    assert masked("gs://bucket/prefix") == "gs://bucket/prefix"
    assert masked("file:///home/u/state") == "file:///home/u/state"
    assert masked("https://user:pw@api.example.org") == "https://user:****@api.example.org"


def test_each_stack_keeps_one_workspace_and_nothing_goes_to_the_temp_dir(
    fake_pulumi: FakePulumi, credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(system_tmp))
    for _ in range(2):
        code, _, err = run("status", "--json")
        assert code == 0, err
    workspaces = sorted(p.name for p in Path(os.environ["GRIDCLOUD_WORKSPACES"]).iterdir())
    assert len(workspaces) == 1 and workspaces[0].startswith("atlas-gcp-")
    assert list(system_tmp.iterdir()) == []


def test_destroy_when_google_stops_answering_says_what_was_done_and_exits_5(
    fake_pulumi: FakePulumi,
    credentials: None,
    compute: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The destroy succeeds; the leftover listing meets 503s until the client library gives up
    (a RetryError): the user reads what happened and what to do, no traceback."""
    monkeypatch.setenv("FAKE_PULUMI_PROTECTED", "false")
    compute_api.virtual_retry_clock(monkeypatch)
    compute.replace(
        responses.GET,
        f"{compute_api.GLOBAL}/backendServices",
        status=503,
        json=compute_api.UNAVAILABLE,
    )
    code, _out, err = run("destroy", "--stack", "atlas-gcp", "--yes")
    assert code == ExitCode.ENGINE == 5
    assert engine_calls(fake_pulumi, "destroy")
    flat = " ".join(err.split())
    assert (
        "Error: the facility is destroyed, but its project could not be searched for "
        "leftovers: no answer from Google, after retrying:" in flat
    )
    assert "Hint: a Google outage or a network problem: try again in a few minutes" in flat
    assert "Traceback" not in err
