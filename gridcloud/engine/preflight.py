"""Checks before the engine runs, each failing with an answer instead of a traceback.

- the Pulumi CLI is on PATH and new enough;
- a secrets provider can work: a passphrase in the environment, or a KMS key;
- Google credentials exist for a gcp target (an application-default credentials file, a
  key file named by the environment, a token, or the metadata server of a GCE/GKE machine).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from gridcloud.environment import oidc_client_secret
from gridcloud.errors import EngineError, EngineMissingError

if TYPE_CHECKING:
    from gridcloud.plan import Plan

#: The oldest Pulumi CLI gridcloud is tested against (matches the SDK's lower bound).
MIN_PULUMI = (3, 140, 0)
INSTALL_HINT = (
    "install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/), "
    "e.g. `curl -fsSL https://get.pulumi.com | sh`, and make sure `pulumi` is on PATH"
)
PASSPHRASE_VARS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
CREDENTIAL_VARS = (
    "GOOGLE_CREDENTIALS",
    "GOOGLE_CLOUD_KEYFILE_JSON",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "CLOUDSDK_AUTH_ACCESS_TOKEN",
)


def pulumi_cli() -> tuple[str, tuple[int, int, int]]:
    """The path and version of the Pulumi CLI; raises when missing or too old."""
    path = shutil.which("pulumi")
    if path is None:
        raise EngineMissingError(
            "the Pulumi CLI is not installed (no `pulumi` on PATH)", hint=INSTALL_HINT
        )
    try:
        text = subprocess.run(
            [path, "version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineMissingError(f"`{path} version` failed: {exc}", hint=INSTALL_HINT) from exc
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        raise EngineMissingError(
            f"cannot read the Pulumi CLI's version from {text!r}", hint=INSTALL_HINT
        )
    version = (int(match[1]), int(match[2]), int(match[3]))
    if version < MIN_PULUMI:
        wanted = ".".join(map(str, MIN_PULUMI))
        raise EngineMissingError(
            f"the Pulumi CLI is too old: {text}, gridcloud needs {wanted} or newer",
            hint="update it: `pulumi self-update` or reinstall (see "
            "https://www.pulumi.com/docs/iac/download-install/)",
        )
    return path, version


def secrets_ready(backend: str, secrets_provider: str | None) -> None:
    """A self-managed backend with the passphrase provider needs the passphrase."""
    uses_cloud = backend.startswith(("https://", "http://")) and "pulumi" in backend
    passphrase = secrets_provider in (None, "passphrase")
    if uses_cloud or not passphrase:
        return
    if not any(os.environ.get(var) for var in PASSPHRASE_VARS):
        raise EngineError(
            "the stack's secrets (the kubeconfig, service passwords) need a passphrase, "
            "and none is set",
            hint="export PULUMI_CONFIG_PASSPHRASE (keep it in your secret store), or use a "
            "Cloud KMS key: --secrets-provider gcpkms://projects/P/locations/L/keyRings/R/"
            "cryptoKeys/K",
        )


def _adc_file() -> Path:
    config = os.environ.get("CLOUDSDK_CONFIG")
    base = Path(config) if config else Path.home() / ".config" / "gcloud"
    return base / "application_default_credentials.json"


def _on_google_compute() -> bool:
    if os.environ.get("GCE_METADATA_HOST"):
        return True
    try:
        product = Path("/sys/class/dmi/id/product_name").read_text(encoding="utf-8")
    except OSError:
        return False
    return "Google" in product


def google_credentials() -> str:
    """Where Google credentials come from; raises when there are none."""
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if key_file:
        if not Path(key_file).is_file():
            raise EngineError(
                f"GOOGLE_APPLICATION_CREDENTIALS names {key_file}, which does not exist",
                hint="point it at a service account key file, or unset it and run "
                "`gcloud auth application-default login`",
            )
        return f"key file {key_file}"
    for var in CREDENTIAL_VARS:
        if os.environ.get(var):
            return f"${var}"
    if _adc_file().is_file():
        return f"application default credentials ({_adc_file()})"
    if _on_google_compute():
        return "the metadata server"
    raise EngineError(
        "no Google Cloud credentials found",
        hint="run `gcloud auth application-default login` (or set "
        "GOOGLE_APPLICATION_CREDENTIALS to a key file; in CI, use workload identity "
        "federation, see docs/deploy.md)",
    )


def environment_ready(plan: Plan) -> None:
    """Secrets the profile reads from the environment are there (before anything runs)."""
    variable = (plan.services.oidc_secret or {}).get("env")
    if variable:
        oidc_client_secret(variable)
