"""An on-prem cluster's kubeconfig, written by the real kubectl, in a temporary HOME."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER = "https://campus-k8s.example.edu:6443"
CA = b"-----BEGIN CERTIFICATE-----\nY2FtcHVzLWNh\n-----END CERTIFICATE-----\n"


@pytest.fixture
def onprem_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is part of the image these tests run on, and it is missing")
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / ".kube" / "config"
    ca = tmp_path / "ca.pem"
    ca.write_bytes(CA)
    for args in (
        [
            "set-cluster",
            "campus",
            f"--server={SERVER}",
            f"--certificate-authority={ca}",
            "--embed-certs=true",
        ],
        ["set-credentials", "admin", "--token=admin-token"],
        ["set-context", "campus-af", "--cluster=campus", "--user=admin"],
    ):
        subprocess.run(
            [kubectl, "config", f"--kubeconfig={config}", *args], check=True, capture_output=True
        )
    return config


def ca_data() -> str:
    return base64.b64encode(CA).decode()


@pytest.fixture(autouse=True, scope="session")
def _oidc_secret() -> Iterator[None]:
    """The shipped profiles read JupyterHub's OIDC client secret from this variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", "test-only-client-secret")
        yield
