"""Values a profile tells gridcloud to read from the environment of whoever deploys."""

from __future__ import annotations

import os

from gridcloud.errors import InputError


def oidc_client_secret(variable: str) -> str:
    """JupyterHub's OIDC client secret from ``$variable``; a clear error when it is unset.

    Checked by the engine before anything runs, and read by the program (plain ``pulumi up``
    meets the same error there).
    """
    value = os.environ.get(variable)
    if not value:
        raise InputError(
            f"${variable} is not set: the profile reads JupyterHub's OIDC client secret from it",
            hint=f"export {variable}=... (from your identity provider's client registration), "
            "or use services.jupyter.oidc.clientSecretRef to an existing Kubernetes Secret",
        )
    return value
