"""Secrets stay secret: known values are planted (the OIDC client secret, the secrets
passphrase, a password in the state backend URL), the commands a user and CI run are run
(plan in every form, up, status, a failing preview with --debug), and every output, every
command line the engine started and every file written are searched for them, plain,
base64 and URL-encoded.

The stack's secret outputs are planted too, where the stand-in Pulumi CLI serves them as a
real stack would (the grid submitter's token in its kubeconfig, REANA's administrator token,
the cluster's credentials): the engine reads them, nothing shows them. Passwords generated
inside a real Pulumi run (random.RandomPassword) exist only in a real run's encrypted
state, which this machine cannot make."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.engine.conftest import FakePulumi

OIDC = "planted-oidc-Zq8xW2"
PASSPHRASE = "planted-pass-Zq8xW2"
DB_PASSWORD = "planted-db-Zq8xW2"
GRID_TOKEN = "planted-grid-token-Zq8xW2"
REANA_TOKEN = "planted-reana-token-Zq8xW2"
CLUSTER_TOKEN = "planted-cluster-Zq8xW2"


def _forms(secret: str) -> list[str]:
    return [secret, base64.b64encode(secret.encode()).decode(), quote(secret)]


def _run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(create_cli(), list(args))
    assert (result.exit_code == 0) == ok, (args, result.stdout + result.stderr)
    return result.stdout + result.stderr


def test_planted_secrets_appear_in_no_output_command_line_or_file(
    fake_pulumi: FakePulumi,
    credentials: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", OIDC)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    kubeconfig = "apiVersion: v1\nusers: [{{name: u, user: {{token: {}}}}}]\n"
    monkeypatch.setenv(
        "FAKE_PULUMI_SECRETS",
        json.dumps(
            {
                "gridSiteKubeconfig": kubeconfig.format(GRID_TOKEN),
                "kubeconfig": kubeconfig.format(CLUSTER_TOKEN),
                "reanaAdminToken": REANA_TOKEN,
            }
        ),
    )
    backend = f"postgres://gridcloud:{DB_PASSWORD}@db.example.org:5432/state"
    seen = [
        _run("plan"),
        _run("plan", "--json"),
        _run("plan", "--values", "jupyterhub"),
        _run("plan", "--values", "reana", "--json"),
        _run("up", "--yes", "--json", "--backend", backend),
        _run("status", "--json", "--backend", backend),
        _run("status", "--backend", backend),
        _run("refresh", "--json", "--backend", backend),
        _run("stacks", "--json", "--backend", backend),
    ]
    monkeypatch.setenv("FAKE_PULUMI_MODE", "fail")
    seen.append(_run("--debug", "preview", "--backend", backend, ok=False))
    command_lines = [json.dumps(call) for call in fake_pulumi.calls()]
    files = [
        path.read_bytes().decode(errors="replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path.name != "application_default_credentials.json"
    ]
    assert len(seen) == 10 and command_lines and files
    # the engine did read the planted outputs: the stand-in served them with --show-secrets
    assert any("--show-secrets" in call for call in fake_pulumi.calls())
    for secret in (OIDC, PASSPHRASE, DB_PASSWORD, GRID_TOKEN, REANA_TOKEN, CLUSTER_TOKEN):
        for form in _forms(secret):
            assert not [text for text in seen if form in text], (secret, form, "output")
            assert not [line for line in command_lines if form in line], (secret, "argv")
            assert not [text for text in files if form in text], (secret, form, "file")
