"""`up` and `status` with the budget cap: the cap in force is a label the enforcer puts on
the live cluster, read here through the real GKE client from responses in the API's shape.
`up` refuses to undo it (exit 4) unless `--lift-cap`, which refreshes first so the update
sees the pools the cap scaled down and gives them back the Plan's autoscaling."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from gridcloud.engine.cap import read_cap as real_read_cap
from gridcloud.errors import ExitCode
from gridcloud.plan.outputs import StackOutputs
from tests.conftest import TOKEN_ANSWER, TOKEN_URL, require, write_adc
from tests.engine.conftest import FakePulumi

responses = require("responses")

CLUSTER = re.compile(
    r"https://container\.googleapis\.com/v1/projects/atlas-analysis-facility/locations/"
    r"us-central1-a/clusters/atlas-gcp"
)


@pytest.fixture
def gke(
    credentials: None, no_cloud_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The live cluster as the GKE API answers; ``labels`` None: no cluster (404)."""
    from gridcloud.engine import cap

    monkeypatch.setattr(cap, "read_cap", real_read_cap)  # not the autouse stand-in: the real one
    write_adc(no_cloud_env / ".config" / "gcloud" / "application_default_credentials.json")
    state: dict[str, Any] = {"labels": {"managed-by": "gridcloud"}, "status": 200}

    def cluster(_: Any) -> tuple[int, dict[str, str], str]:
        if state["labels"] is None:
            return (
                404,
                {},
                json.dumps(
                    {
                        "error": {
                            "code": 404,
                            "status": "NOT_FOUND",
                            "message": "Not found: clusters/atlas-gcp.",
                        }
                    }
                ),
            )
        if state["status"] != 200:
            return (
                state["status"],
                {},
                json.dumps(
                    {
                        "error": {
                            "code": 403,
                            "status": "PERMISSION_DENIED",
                            "message": "Required 'container.clusters.get' permission(s)",
                        }
                    }
                ),
            )
        return (
            200,
            {},
            json.dumps(
                {
                    "name": "atlas-gcp",
                    "status": "RUNNING",
                    "resourceLabels": state["labels"],
                    "labelFingerprint": "a1b2c3d4e5f60718",
                }
            ),
        )

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json=TOKEN_ANSWER)
        mock.add_callback(responses.GET, CLUSTER, callback=cluster)
        yield state


def _run(*args: str) -> Any:
    return CliRunner().invoke(create_cli(), list(args))


def _ups(fake: FakePulumi) -> list[list[str]]:
    """The preview and up calls, without the CLI's leading flags."""
    calls = [[a for a in call if a != "--non-interactive"] for call in fake.calls()]
    return [call for call in calls if call and call[0] in ("up", "preview")]


def test_up_refuses_while_the_cap_is_in_force(fake_pulumi: FakePulumi, gke: dict[str, Any]) -> None:
    gke["labels"] = {"managed-by": "gridcloud", "gridcloud-cap": "2026-11"}
    result = _run("up", "--yes", "--json")
    assert result.exit_code == ExitCode.OVER_BUDGET == 4
    assert "budget cap is in force for 2026-11" in result.stderr
    assert "--lift-cap" in result.stderr
    assert _ups(fake_pulumi) == []  # nothing ran


def test_up_lift_cap_refreshes_so_the_plan_is_restored(
    fake_pulumi: FakePulumi, gke: dict[str, Any]
) -> None:
    gke["labels"] = {"managed-by": "gridcloud", "gridcloud-cap": "2026-11"}
    result = _run("up", "--yes", "--json", "--lift-cap")
    assert result.exit_code == 0, result.output
    ups = _ups(fake_pulumi)
    assert [c[0] for c in ups] == ["preview", "up"]
    assert all("--refresh" in call for call in ups)


def test_without_a_cap_or_a_cluster_up_runs_as_ever(
    fake_pulumi: FakePulumi, gke: dict[str, Any]
) -> None:
    assert _run("up", "--yes", "--json").exit_code == 0
    gke["labels"] = None  # the first up: no cluster yet
    assert _run("up", "--yes", "--json").exit_code == 0
    assert not [c for c in _ups(fake_pulumi) if "--refresh" in c]


def test_status_shows_the_cap(
    fake_pulumi: FakePulumi, gke: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FAKE_PULUMI_OUTPUTS",
        json.dumps(StackOutputs(enforcer_function="atlas-gcp-budget-cap").exported()),
    )
    gke["labels"] = {"gridcloud-cap": "2026-11"}
    result = _run("status")
    assert result.exit_code == 0, result.output
    assert "budget cap in force for 2026-11" in result.stdout
    data = json.loads(_run("status", "--json").stdout)
    assert data["cap"] == {"inForce": True, "period": "2026-11", "error": None}
    gke["labels"] = {}
    assert json.loads(_run("status", "--json").stdout)["cap"]["inForce"] is False
    gke["status"] = 403
    gke["labels"] = {}
    shown = json.loads(_run("status", "--json").stdout)["cap"]
    assert shown["inForce"] is None
    assert "container.clusters.get" in shown["error"]
