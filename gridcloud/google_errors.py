"""What a call to Google failed with, told once: a family, what Google said, and the fix.

Every place gridcloud calls Google (``check``, the leftover listing after ``destroy``,
``catalog refresh``) classifies what it catches here, so the same failure reads the same
everywhere. The families, from the exceptions the client libraries raise
(``google.api_core.exceptions``, ``google.auth.exceptions``, ``requests``):

- ``credentials``: no Application Default Credentials (``DefaultCredentialsError``),
  credentials Google refuses to refresh (``RefreshError``: expired, revoked), or an API's
  ``401`` (``Unauthorized``, ``Unauthenticated``)
- ``disabled``: a ``403`` whose reason is ``SERVICE_DISABLED``: the API is off in the
  project
- ``permission``: any other ``403`` (``Forbidden``/``PermissionDenied``)
- ``not-found``: ``404`` (``NotFound``): a project ID, a region, a billing account that is
  not there
- ``quota``: ``429`` (``TooManyRequests``/``ResourceExhausted``), or a ``403`` whose reason
  is a rate limit (``RATE_LIMIT_EXCEEDED``, ``rateLimitExceeded``, ``quotaExceeded``)
- ``unavailable``: Google did not answer: ``5xx`` (``ServiceUnavailable``,
  ``DeadlineExceeded``, ``InternalServerError``...), or the client library gave up retrying
  them (``RetryError``, after up to 600 s)
- ``network``: the request never reached Google (``requests.ConnectionError``, a timeout,
  ``google.auth``'s ``TransportError``)
- ``refused``: any other answer (``400`` and the like): Google's message says why

A leaf: ``google.*`` and ``requests`` are imported inside the functions, and nothing of
gridcloud but :mod:`gridcloud.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gridcloud.errors import GridcloudError, InputError

if TYPE_CHECKING:
    from typing import NoReturn

Family = Literal[
    "credentials",
    "disabled",
    "permission",
    "not-found",
    "quota",
    "unavailable",
    "network",
    "refused",
]

LOGIN = (
    "run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to "
    "a credentials file; in CI, workload identity federation)"
)
#: Reasons Google gives to a ``403`` that is a rate limit, not a missing right.
RATE_LIMITS = frozenset(
    {"RATE_LIMIT_EXCEEDED", "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
)


@dataclass(frozen=True)
class Failure:
    """One failed call to Google, as a user is told it."""

    family: Family
    message: str
    """What went wrong, one line, with what Google said."""
    hint: str
    """The fix for the family (a caller may know a better one: a role, a setting)."""
    service: str | None = None
    """The API a ``disabled`` failure names (``compute.googleapis.com``)."""


def failures() -> tuple[type[BaseException], ...]:
    """What a call to Google can fail with: an API's answer, a failed retry, credentials
    that cannot be found or refreshed, the network."""
    import requests
    from google.api_core import exceptions
    from google.auth import exceptions as auth

    return (
        exceptions.GoogleAPICallError,
        exceptions.RetryError,
        auth.GoogleAuthError,
        requests.RequestException,
    )


def first_line(error: BaseException) -> str:
    """An error's text, its first line (Google's can run to a page of details)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def reason(error: BaseException) -> str:
    """The ``reason`` Google gives in an error's details (``SERVICE_DISABLED``...)."""
    found = getattr(error, "reason", None)
    if found:
        return str(found)
    for detail in getattr(error, "details", None) or []:
        found = getattr(detail, "reason", None) or (
            detail.get("reason") if isinstance(detail, dict) else None
        )
        if found:
            return str(found)
    for item in getattr(error, "errors", None) or []:  # the v1 REST shape: errors[].reason
        if isinstance(item, dict) and item.get("reason"):
            return str(item["reason"])
    return ""


def _service(error: BaseException) -> str | None:
    metadata: Any = getattr(error, "metadata", None) or {}
    service = metadata.get("service") if isinstance(metadata, dict) else None
    return str(service) if service else None


def classify(error: BaseException, project: str | None = None) -> Failure | None:
    """The failure ``error`` is, or None when it is no failure of a call to Google (a bug,
    to be raised as it is). ``project``: named in the hints."""
    import requests
    from google.api_core import exceptions
    from google.auth import exceptions as auth

    where = f" --project {project}" if project else ""
    said = first_line(error)
    if isinstance(error, exceptions.RetryError):
        cause = error.cause
        last = classify(cause, project) if cause is not None else None
        if last is not None and last.family not in ("unavailable", "network"):
            return last
        return Failure(
            "network" if last is not None and last.family == "network" else "unavailable",
            f"no answer from Google, after retrying: {said}",
            "a Google outage or a network problem: try again in a few minutes "
            "(https://status.cloud.google.com)",
        )
    if isinstance(error, auth.DefaultCredentialsError):
        return Failure("credentials", f"no Google credentials: {said}", LOGIN)
    if isinstance(error, auth.RefreshError | exceptions.Unauthorized):
        return Failure(
            "credentials",
            f"Google refused the credentials (expired or revoked?): {said}",
            LOGIN,
        )
    if isinstance(error, auth.TransportError | requests.RequestException):
        return Failure(
            "network",
            f"cannot reach Google: {said}",
            "check the network (and a proxy: HTTPS_PROXY) and try again",
        )
    if not isinstance(error, exceptions.GoogleAPICallError):
        return None
    why = reason(error)
    if isinstance(error, exceptions.Forbidden) and why == "SERVICE_DISABLED":
        service = _service(error)
        api = service or "the API"
        return Failure(
            "disabled",
            f"{api} is not enabled in the project: {said}",
            f"gcloud services enable {service or 'API'}{where}",
            service=service,
        )
    if isinstance(error, exceptions.TooManyRequests) or (
        isinstance(error, exceptions.Forbidden) and why in RATE_LIMITS
    ):
        return Failure(
            "quota",
            f"Google's rate limit: {said}",
            "wait a minute and run it again; if it keeps happening, ask for a higher quota "
            "(console: IAM & Admin, Quotas)",
        )
    if isinstance(error, exceptions.Forbidden):
        return Failure(
            "permission",
            f"permission denied: {said}",
            "ask a project owner for a role with the permission Google names "
            "(docs/deploy.md lists them)",
        )
    if isinstance(error, exceptions.NotFound):
        return Failure(
            "not-found",
            f"not found: {said}",
            "check the project ID (target.project: the ID, not its name or number) and the region",
        )
    if isinstance(error, exceptions.ServerError):
        return Failure(
            "unavailable",
            f"Google did not answer: {said}",
            "a Google outage: try again in a few minutes (https://status.cloud.google.com)",
        )
    return Failure("refused", f"Google refused: {said}", "Google's message says why")


def raise_for(
    error: BaseException,
    what: str,
    *,
    project: str | None = None,
    cls: type[GridcloudError] = InputError,
    then: str = "",
) -> NoReturn:
    """Raise ``error`` as a :class:`GridcloudError` of class ``cls``: ``<what>: <the
    failure>``, the family's fix then ``then`` as the hint. An error that is no failure of a
    call to Google is raised as it is."""
    failure = classify(error, project)
    if failure is None:
        raise error
    hint = failure.hint + (f"; {then}" if then else "")
    raise cls(f"{what}: {failure.message}", hint=hint) from error
