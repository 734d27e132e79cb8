"""Profile versions: which ``apiVersion`` this gridcloud reads, and the way forward for others.

A profile's ``apiVersion`` says which schema it was written for. This gridcloud reads
:data:`API_VERSION` only. A profile for a newer schema is refused with "upgrade gridcloud";
one for an older schema is refused with the migration to run, once a schema change needs one
(``gridcloud upgrade``, its steps in :mod:`gridcloud.profile.upgrade`; none exists yet:
``gridcloud.dev/v1alpha1`` is the first schema). Commands that need only the
stack (``destroy``, ``status``, ``refresh``) never validate a profile, so a version change
never blocks tearing a facility down.
"""

from __future__ import annotations

import re

from gridcloud.profile.models import API_VERSION

GROUP = "gridcloud.dev"

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STAGE = {"alpha": 0, "beta": 1, None: 2}


def order(version: str) -> tuple[int, int, int] | None:
    """Kubernetes-style ordering: v1alpha1 < v1alpha2 < v1beta1 < v1 < v2alpha1."""
    match = _VERSION.match(version)
    if match is None:
        return None
    major, stage, number = match.groups()
    return int(major), _STAGE[stage], int(number or 0)


def version_problem(given: object) -> tuple[str, str] | None:
    """None when ``given`` is the version this gridcloud reads; else (problem, hint)."""
    from gridcloud import __version__

    if given == API_VERSION:
        return None
    if given is None:
        return (
            "is missing",
            f"a profile starts with `apiVersion: {API_VERSION}`",
        )
    text = str(given)
    group, _, version = text.partition("/")
    current = order(API_VERSION.partition("/")[2])
    theirs = order(version) if group == GROUP else None
    if theirs is None or current is None:
        return (
            f"{text!r} is not a gridcloud profile version",
            f"this gridcloud reads `apiVersion: {API_VERSION}`",
        )
    if theirs > current:
        return (
            f"{text} is newer than this gridcloud ({__version__}) reads ({API_VERSION})",
            "upgrade gridcloud (`pip install -U gridcloud`); a deployed stack can still be "
            "inspected or destroyed with --stack, which reads no profile",
        )
    from gridcloud.profile.upgrade import migration_hint

    migration = migration_hint(text)
    if migration is not None:
        return (f"{text} is an older profile schema", migration)
    return (
        f"{text} is an older profile schema than this gridcloud ({__version__}) "
        f"reads ({API_VERSION}), and no migration exists for it",
        "rewrite the profile against docs/profile.md, or use the gridcloud release that "
        "wrote it; destroy, status and refresh work with --stack whatever the profile",
    )
