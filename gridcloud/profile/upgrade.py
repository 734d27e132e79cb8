"""Profile upgrades: one registered step per schema change, chained from a profile's
``apiVersion`` to the one this gridcloud reads (as Nebari's ``upgrade.py`` does).

A step is a pure function over the profile's YAML mapping: it edits the mapping in place
and returns, for the person who runs it, what it changed. No schema change has needed a
step yet (``gridcloud.dev/v1alpha1`` is the first schema), so :data:`STEPS` is empty; the
next change of the profile's shape adds its step here, before it ships, with the test the
suite demands of every step (``tests/unit/test_upgrade.py``: a profile as the old
gridcloud's users wrote it, and the one expected after).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gridcloud.errors import InputError
from gridcloud.profile.models import API_VERSION

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Step:
    source: str
    """The ``apiVersion`` this step reads, e.g. ``gridcloud.dev/v1alpha1``."""
    target: str
    """The ``apiVersion`` it writes."""
    summary: str
    apply: Callable[[dict[str, Any]], list[str]]
    """Edits the mapping in place; returns one line per change made."""


#: Every schema change's step, oldest first. Empty until the first change of the schema.
STEPS: tuple[Step, ...] = ()


def path_from(version: str, steps: tuple[Step, ...] | None = None) -> list[Step]:
    """The steps from ``version`` to :data:`API_VERSION`, in order; empty when ``version``
    is current. Raises :class:`InputError` when no chain of steps reaches it."""
    by_source = {step.source: step for step in (STEPS if steps is None else steps)}
    chain: list[Step] = []
    current = version
    while current != API_VERSION:
        step = by_source.get(current)
        if step is None or step in chain:
            raise InputError(
                f"no upgrade leads from apiVersion {version} to {API_VERSION}",
                hint="rewrite the profile against docs/profile.md, or use the gridcloud "
                "release that wrote it",
            )
        chain.append(step)
        current = step.target
    return chain


def upgrade(
    document: dict[str, Any], steps: tuple[Step, ...] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """``document`` brought to :data:`API_VERSION` (a copy) and what each step changed."""
    import copy

    version = document.get("apiVersion")
    if not isinstance(version, str):
        raise InputError(
            "the profile has no apiVersion",
            hint=f"a profile starts with `apiVersion: {API_VERSION}`",
        )
    upgraded = copy.deepcopy(document)
    notes: list[str] = []
    for step in path_from(version, steps):
        changes = step.apply(upgraded)
        upgraded["apiVersion"] = step.target
        notes.append(f"{step.source} -> {step.target}: {step.summary}")
        notes.extend(f"  {change}" for change in changes)
    return upgraded, notes


def migration_hint(version: str) -> str | None:
    """The command that upgrades a profile of ``version``, when steps lead from it."""
    try:
        path_from(version)
    except InputError:
        return None
    return "run `gridcloud upgrade PROFILE --write` (it prints what each step changes)"
