"""The compute shards' manifests in ``gridcloud render``: with MultiKueue, each shard runs
Kueue (a worker), so each has a release and objects to review, under ``shards/<shard>/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gridcloud.plan import Plan
    from gridcloud.render.manifests import Rendered

#: Where a shard's files go, under ``--out``.
SHARDS_DIR = "shards"


def render_shards(
    plan: Plan, charts: Path | None, progress: Callable[[str], None] | None = None
) -> dict[str, list[Rendered]]:
    """Every compute shard that installs anything, rendered: shard name -> its releases."""
    from gridcloud.render.manifests import render_plan

    found = {}
    for shard in plan.shards:
        if not shard.services.releases and not shard.services.manifests:
            continue
        name = shard.shard or shard.name
        found[name] = render_plan(shard, charts, progress=_prefixed(progress, name))
    return found


def _prefixed(progress: Callable[[str], None] | None, shard: str) -> Callable[[str], None] | None:
    if progress is None:
        return None
    report = progress

    def each(release: str) -> None:
        report(f"{shard}: {release}")

    return each


def write_shards(rendered: dict[str, list[Rendered]], out: Path) -> list[tuple[Path, str]]:
    """One folder per shard, one file per release; each file with what it holds."""
    written = []
    for shard, releases in rendered.items():
        folder = out / SHARDS_DIR / shard
        folder.mkdir(parents=True, exist_ok=True)
        for release in releases:
            path = folder / f"{release.name}.yaml"
            path.write_text(release.to_yaml(), encoding="utf-8")
            written.append((path, f"{len(release.manifests)} objects (shard {shard})"))
    return written
