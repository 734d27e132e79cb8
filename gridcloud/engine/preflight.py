"""Checks before the engine runs, each failing with an answer instead of a traceback.

The facts are ``gridcloud check``'s (:mod:`gridcloud.check.local` and
:func:`gridcloud.check.google.credentials`): the engine asks the same questions and refuses
with the same fix, so ``check`` passing means ``up`` starts.

- the Pulumi CLI is on PATH and new enough;
- a secrets provider can work: a passphrase in the environment, or a KMS key;
- Google credentials for a gcp target, found the way Google's libraries (and so Pulumi's
  provider) find them: Application Default Credentials;
- the variables the profile reads from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.check.local import (
    MIN_PULUMI,
    pulumi_cli,
    secrets_missing,
    variables_missing,
)
from gridcloud.errors import EngineError, InputError

if TYPE_CHECKING:
    from gridcloud.plan import Plan

__all__ = [
    "MIN_PULUMI",
    "environment_ready",
    "google_credentials",
    "pulumi_cli",
    "secrets_ready",
]


def secrets_ready(backend: str, secrets_provider: str | None) -> None:
    """A self-managed backend with the passphrase provider needs the passphrase."""
    missing = secrets_missing(backend, secrets_provider)
    if missing is not None:
        raise EngineError(missing.message, hint=missing.hint)


def google_credentials() -> str:
    """Where Google credentials come from; raises when there are none."""
    from gridcloud.check.google import credentials

    found, result = credentials()
    if found is None:
        raise EngineError(f"no Google Cloud credentials found: {result.detail}", hint=result.fix)
    return result.detail


def environment_ready(plan: Plan) -> None:
    """Variables the profile reads from the environment are there (before anything runs)."""
    for missing in variables_missing(plan):
        raise InputError(missing.message, hint=missing.hint)
