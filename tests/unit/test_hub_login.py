"""What ``plan`` tells a person to register with the identity provider: the Plan's typed
login (not a read-back of the hub's Helm values), checked on corpus profiles by hand."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gridcloud.analysis import analyse
from gridcloud.cli.app import create_cli

CORPUS = Path(__file__).parents[1] / "corpus"


def test_cern_sso_login_is_found_by_its_issuer() -> None:
    login = analyse(CORPUS / "cern-sso.yaml").plan.services.login
    assert login is not None
    assert login.provider == "CERN SSO"
    # OpenID Connect Discovery 1.0, section 4: issuer + /.well-known/openid-configuration
    assert login.endpoints == (
        "https://auth.cern.ch/auth/realms/cern/.well-known/openid-configuration"
    )
    assert login.callback == "https://jupyter.cern-af.example.org/hub/oauth_callback"


def test_the_plan_prints_the_callback_to_register_whole_at_80_columns() -> None:
    result = CliRunner().invoke(
        create_cli(), ["plan", str(CORPUS / "cern-sso.yaml")], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    flat = "".join(result.stdout.split())
    assert "registerthecallbackhttps://jupyter.cern-af.example.org/hub/oauth_callback" in flat


def test_without_the_hub_there_is_no_login(tmp_path: Path) -> None:
    small = (Path(__file__).parents[2] / "profiles" / "small.yaml").read_text(encoding="utf-8")
    assert analyse(Path(__file__).parents[2] / "profiles" / "small.yaml").plan.services.login
    off = tmp_path / "no-hub.yaml"
    off.write_text(small.replace("  jupyter:\n    enabled: true", "  jupyter:\n    enabled: false"))
    assert analyse(off).plan.services.login is None
