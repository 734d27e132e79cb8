"""A PATH holding only the fake Pulumi CLI, and a clean environment for credentials."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import write_adc

FAKE = Path(__file__).with_name("fake_pulumi.py")


@dataclass
class FakePulumi:
    bin_dir: Path
    log: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def no_cloud_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Google credentials, no passphrase, state in a temporary directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for var in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CREDENTIALS",
        "GOOGLE_CLOUD_KEYFILE_JSON",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "CLOUDSDK_AUTH_ACCESS_TOKEN",
        "CLOUDSDK_CONFIG",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE",
        "GRIDCLOUD_BACKEND",
        "PULUMI_BACKEND_URL",
        "GRIDCLOUD_OIDC_CLIENT_SECRET",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GCE_METADATA_HOST", "")
    # the stacks' workspaces in the test's own directory, not the user's data directory
    workspaces = tmp_path / "workspaces"
    workspaces.mkdir()
    monkeypatch.setenv("GRIDCLOUD_WORKSPACES", str(workspaces))
    return home


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_cloud_env: Path) -> FakePulumi:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
    script.chmod(0o755)
    log = tmp_path / "pulumi-calls.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    return FakePulumi(bin_dir, log)


@pytest.fixture
def credentials(no_cloud_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Application-default credentials and a passphrase, as after `gcloud auth ... login`."""
    # the whole file, as gcloud writes it: Google's own loader (what `check` and the engine
    # use) refuses the partial one this fixture used to write
    write_adc(no_cloud_env / ".config" / "gcloud" / "application_default_credentials.json")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test-only-passphrase")
    monkeypatch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", "test-only-client-secret")


@pytest.fixture(autouse=True)
def _no_cap_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cluster answers here: read as "no cap in force". test_cap.py reads the real GKE
    API's answers instead."""
    from gridcloud.engine import cap

    monkeypatch.setattr(cap, "read_cap", lambda _cluster: None)
