"""REANA's first run (gridcloud/incluster/reana_first_run.py), against a fake of the one
boundary it has, the Kubernetes API: the chart's steps in order, once, and no secret in the
log."""

from __future__ import annotations

import ast
from importlib.resources import files

import pytest

from gridcloud.incluster import reana_first_run as fr

EMAIL, PASSWORD, TOKEN, SECRET = "admin@reana.example.org", "pw-0123456789", "tok-XYZ", "s"


class FakeApi(fr.Api):
    def __init__(
        self,
        *,
        secret_exists: bool = False,
        ready_after: int = 0,
        results: dict[str, tuple[int, str, str]] | None = None,
    ) -> None:
        self.secret_exists = secret_exists
        self.ready_after = ready_after
        self.results = results or {
            "./scripts/create-database.sh": (0, "Creating REANA database...\n", ""),
            "flask": (0, f"{TOKEN}\n", ""),
        }
        self.calls: list[tuple[str, ...]] = []
        self.created: list[str] = []

    def token_secret_exists(self) -> bool:
        self.calls.append(("exists?",))
        return self.secret_exists

    def ready_server_pod(self) -> str | None:
        self.calls.append(("pod?",))
        if self.ready_after > 0:
            self.ready_after -= 1
            return None
        return "reana-server-abc"

    def run(self, pod: str, command: list[str]) -> tuple[int, str, str]:
        self.calls.append(("exec", pod, *command))
        return self.results[command[0]]

    def create_token_secret(self, token: str) -> None:
        self.calls.append(("create secret",))
        self.created.append(token)


def test_the_script_runs_on_the_images_python_3_8() -> None:
    source = files("gridcloud.incluster").joinpath("reana_first_run.py").read_text()
    ast.parse(source, feature_version=(3, 8))


def test_the_charts_steps_in_order_and_the_token_kept(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeApi(ready_after=2)
    done = fr.first_run(api, EMAIL, PASSWORD, SECRET, timeout=60)
    steps = [c[0] for c in api.calls]
    assert steps == ["exists?", "pod?", "pod?", "pod?", "exec", "exec", "create secret"]
    assert api.calls[4] == ("exec", "reana-server-abc", "./scripts/create-database.sh")
    assert api.calls[5] == (
        "exec",
        "reana-server-abc",
        *("flask", "reana-admin", "create-admin-user", "--email", EMAIL, "--password", PASSWORD),
    )
    assert api.created == [TOKEN]
    logged = capsys.readouterr().out + done
    assert TOKEN not in logged
    assert PASSWORD not in logged


def test_a_second_run_does_nothing() -> None:
    api = FakeApi(secret_exists=True)
    assert "nothing to do" in fr.first_run(api, EMAIL, PASSWORD, SECRET)
    assert api.calls == [("exists?",)]


def test_a_server_that_never_gets_ready_fails_with_a_hint() -> None:
    api = FakeApi(ready_after=10**6)
    with pytest.raises(fr.FirstRunError, match="not ready in 0 s"):
        fr.first_run(api, EMAIL, PASSWORD, SECRET, timeout=0)
    assert api.created == []


def test_a_failed_database_step_stops_before_the_administrator() -> None:
    api = FakeApi(results={"./scripts/create-database.sh": (1, "", "connection refused")})
    with pytest.raises(fr.FirstRunError, match="connection refused"):
        fr.first_run(api, EMAIL, PASSWORD, SECRET)
    assert [c for c in api.calls if c[0] == "exec"] == [
        ("exec", "reana-server-abc", "./scripts/create-database.sh")
    ]
    assert api.created == []


def test_a_failed_administrator_step_keeps_the_password_out_of_the_message() -> None:
    api = FakeApi(
        results={
            "./scripts/create-database.sh": (0, "", ""),
            "flask": (2, "", f"Error: invalid value for --password {PASSWORD}"),
        }
    )
    with pytest.raises(fr.FirstRunError) as info:
        fr.first_run(api, EMAIL, PASSWORD, SECRET)
    assert PASSWORD not in str(info.value)
    assert api.created == []


def test_an_administrator_without_a_stored_token_says_how_to_recover() -> None:
    """create-admin-user prints nothing when the user exists (reana-server 0.9.4)."""
    api = FakeApi(results={"./scripts/create-database.sh": (0, "", ""), "flask": (0, "\n", "")})
    with pytest.raises(fr.FirstRunError, match="token-grant"):
        fr.first_run(api, EMAIL, PASSWORD, SECRET)
    assert api.created == []
