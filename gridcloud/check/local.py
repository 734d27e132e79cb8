"""What this machine needs before a deploy: the Pulumi CLI, a way to encrypt the stack's
secrets, and the variables the profile reads from the environment.

One place for each of these facts: ``gridcloud check`` reports them as checks, and the
engine (``up``, ``preview``, ``destroy``, ...) refuses to start without them, with the same
message and the same fix. Nothing here talks to the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, NamedTuple

from gridcloud.errors import EngineMissingError

if TYPE_CHECKING:
    from gridcloud.plan import Plan

#: The oldest Pulumi CLI gridcloud is tested against (matches the SDK's lower bound).
MIN_PULUMI = (3, 140, 0)
INSTALL_HINT = (
    "install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/), "
    "e.g. `curl -fsSL https://get.pulumi.com | sh`, and make sure `pulumi` is on PATH"
)
#: Where the state backend's URL comes from when no --backend is given.
BACKEND_ENV = "GRIDCLOUD_BACKEND"
PASSPHRASE_VARS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")


class Missing(NamedTuple):
    """Something a deploy needs that is not there: what, and how to get it."""

    message: str
    hint: str


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


def secrets_missing(backend: str | None, secrets_provider: str | None) -> Missing | None:
    """A self-managed backend (``backend`` None: the local default) with the passphrase
    provider needs the passphrase; Pulumi Cloud and a KMS key need nothing here."""
    backend = backend or os.environ.get(BACKEND_ENV) or ""
    uses_cloud = backend.startswith(("https://", "http://")) and "pulumi" in backend
    passphrase = secrets_provider in (None, "passphrase")
    if uses_cloud or not passphrase or any(os.environ.get(var) for var in PASSPHRASE_VARS):
        return None
    return Missing(
        "the stack's secrets (the kubeconfig, service passwords) need a passphrase, and none "
        "is set",
        "export PULUMI_CONFIG_PASSPHRASE (keep it in your secret store), or use a Cloud KMS "
        "key: --secrets-provider gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K",
    )


def variables_missing(plan: Plan) -> list[Missing]:
    """The environment variables the Plan reads at deploy time that are not set."""
    from gridcloud.environment import oidc_secret_unset

    variable = (plan.services.oidc_secret or {}).get("env")
    if not variable or os.environ.get(variable):
        return []
    return [Missing(*oidc_secret_unset(variable))]
