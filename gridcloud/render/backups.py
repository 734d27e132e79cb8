"""Backups in ``gridcloud render``: the snapshot kinds' CRDs to validate against, and the
restore manifests (one file per volume, its steps as comments above the claim)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.plan.backups import RestorePlan

#: Where the restore files go, under ``--out``.
RESTORE_DIR = "restore"


def snapshot_crds() -> tuple[dict[str, Any], ...]:
    """The CSI snapshot kinds' CRDs, as external-snapshotter publishes them
    (data/snapshot-crds.yaml, its source and commit in its header)."""
    text = (Path(__file__).parent / "data" / "snapshot-crds.yaml").read_text()
    return tuple(body for body in yaml.safe_load_all(text) if body)


def restore_text(restore: RestorePlan) -> str:
    """The restore file: what to do, in order, then the claim to apply."""
    lines = [
        f"# Restore {restore.volume} in namespace {restore.namespace} from a snapshot",
        "# (gridcloud render; docs/backups.md). Steps:",
        *(f"#  {number}. {step}" for number, step in enumerate(restore.steps, 1)),
    ]
    return "\n".join(lines) + "\n---\n" + yaml.safe_dump(restore.manifest, sort_keys=False)


def write_restores(plan: Plan, out: Path) -> list[tuple[Path, str]]:
    """Write every restore file under ``out/restore``; each path with what it restores."""
    if plan.backups is None:
        return []
    folder = out / RESTORE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for restore in plan.backups.restores:
        path = folder / restore.file
        path.write_text(restore_text(restore), encoding="utf-8")
        written.append((path, f"restore of {restore.volume} from a snapshot"))
    return written
