"""Backups among a destroyed facility's leftovers: the user decides about them apart.

The backups' Compute Engine snapshots outlive ``destroy`` on purpose (their class retains
them when the namespaces go, plan/backups.py) and carry the facility's label, so the leftover
listing finds them (engine/leftovers.py, by label: a snapshot's description names only the
namespace of its VolumeSnapshot, which two facilities in one project may share). Deleting
the disks and load balancer parts that are only billed is one question; deleting the backups
is another, asked separately and answered "keep" unless the user says otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from gridcloud.engine.leftovers import Leftover


def is_backup(item: Leftover) -> bool:
    return item.kind == "snapshot"


def chosen(
    items: list[Leftover],
    delete_leftovers: Callable[[list[Leftover]], bool],
    delete_backups: Callable[[list[Leftover]], bool] | None,
) -> list[Leftover]:
    """What to delete: the other leftovers if ``delete_leftovers`` says so, the snapshots if
    ``delete_backups`` does (None: one question for all, as before backups existed)."""
    if delete_backups is None:
        return list(items) if items and delete_leftovers(items) else []
    backups = [i for i in items if is_backup(i)]
    others = [i for i in items if not is_backup(i)]
    picked = others if others and delete_leftovers(others) else []
    if backups and delete_backups(backups):
        picked = [*picked, *backups]
    return picked
