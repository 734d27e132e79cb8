"""Values a profile tells gridcloud to read from the environment of whoever deploys."""

from __future__ import annotations

import os

from gridcloud.errors import InputError


def oidc_secret_unset(variable: str) -> tuple[str, str]:
    """What to say when ``$variable``, the OIDC client secret, is not set: message, hint."""
    return (
        f"${variable} is not set: the profile reads JupyterHub's OIDC client secret from it",
        f"export {variable}=... (from your identity provider's client registration), or use "
        "services.jupyter.oidc.clientSecretRef to an existing Kubernetes Secret",
    )


def oidc_client_secret(variable: str) -> str:
    """JupyterHub's OIDC client secret from ``$variable``; a clear error when it is unset.

    Checked by ``gridcloud check`` and by the engine before anything runs, and read by the
    program (plain ``pulumi up`` meets the same error there).
    """
    value = os.environ.get(variable)
    if not value:
        message, hint = oidc_secret_unset(variable)
        raise InputError(message, hint=hint)
    return value
