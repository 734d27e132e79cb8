"""Render the Plan's releases with Helm's engine, as ``helm install`` would, offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gridcloud.errors import PlanError
from gridcloud.render.sources import chart_source

if TYPE_CHECKING:
    from collections.abc import Callable

    from gridcloud.plan import Plan
    from gridcloud.plan.services.model import ReleasePlan


#: How gridcloud's own objects are named beside the releases.
OWN = "gridcloud"


@dataclass(frozen=True)
class Manifest:
    source: str
    """The template that produced it (``reana/templates/secrets.yaml``)."""
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.body.get("metadata", {}).get("name", ""))

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} ({self.source})"


@dataclass(frozen=True)
class Rendered:
    release: ReleasePlan | None
    """None for gridcloud's own objects (the Plan's ``services.manifests``: its objects,
    the grid site's account and RBAC, REANA's NFS server and volume, what follows a
    release)."""
    manifests: tuple[Manifest, ...]
    crds: tuple[dict[str, Any], ...]
    """The CustomResourceDefinitions the chart ships (installed before its templates)."""
    notes: str

    @property
    def name(self) -> str:
        return self.release.name if self.release is not None else OWN

    def of_kind(self, *kinds: str) -> list[Manifest]:
        return [m for m in self.manifests if m.kind in kinds]

    def find(self, kind: str, name: str) -> Manifest:
        for manifest in self.manifests:
            if manifest.kind == kind and manifest.name == name:
                return manifest
        raise KeyError(f"{kind}/{name}")

    def to_yaml(self) -> str:
        """All objects, as ``helm template`` prints them: each under its source."""
        parts = [
            f"# Source: {m.source}\n" + yaml.safe_dump(m.body, sort_keys=False)
            for m in self.manifests
        ]
        return "---\n" + "---\n".join(parts)


def _objects(source: str, text: str) -> list[Manifest]:
    manifests = []
    for body in yaml.safe_load_all(text):
        if not body:
            continue
        if body.get("kind") == "List":  # a v1 List: its items are the objects
            manifests += [Manifest(source, item) for item in body.get("items") or []]
        else:
            manifests.append(Manifest(source, body))
    return manifests


def render_release(release: ReleasePlan, chart_dir: Path) -> Rendered:
    """The release's objects, from Helm's engine with the release's values.

    Helm checks the values against the chart's schema first (``HelmValuesError``); secret
    values stay the Plan's placeholders (the program fills them in at deploy time).
    """
    from helm_python import Chart, HelmError

    try:
        chart = Chart.load(chart_dir)
    except HelmError as error:
        raise PlanError(
            f"Helm cannot load the {release.chart} chart at {chart_dir}: {error}",
            hint="check that the folder holds the chart's full source at version "
            f"{release.version}",
        ) from error
    try:
        output = chart.render(
            release.values, name=release.name, namespace=release.namespace, is_install=True
        )
        crd_files = chart.crds
    except HelmError as error:
        raise PlanError(
            f"Helm cannot render release {release.name} ({release.chart} "
            f"{release.version}): {error}",
            hint="this is a gridcloud bug, or the chart changed: report it with "
            f"`gridcloud plan --values {release.name}`",
        ) from error
    finally:
        chart.close()
    manifests: list[Manifest] = []
    notes = ""
    for source in sorted(output):
        if source.endswith("NOTES.txt"):
            notes = output[source]
        else:
            manifests += _objects(source, output[source])
    crds = tuple(body for crd in crd_files for body in yaml.safe_load_all(crd["data"]) if body)
    return Rendered(release=release, manifests=tuple(manifests), crds=crds, notes=notes)


def render_plan(
    plan: Plan,
    charts: Path | None,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Rendered]:
    """Every release of the Plan; ``charts`` a local folder of charts, else their
    repositories (pulled once into the cache)."""
    rendered = []
    for release in plan.services.releases:
        if progress is not None:
            progress(release.name)
        rendered.append(render_release(release, chart_source(release.chart_key, charts)))
    for patch in plan.services.patches:
        _apply(patch.manifest, release_named(rendered, patch.release))
    bodies = [*plan.services.manifests, *(c.manifest() for c in plan.compute_classes)]
    own = tuple(Manifest(f"{OWN} (plan)", body) for body in bodies)
    if own:
        crds = gke_crds() if plan.services.ingresses else ()
        if plan.compute_classes:
            crds = (*crds, *compute_class_crd())
        if any(r.chart_key == "kueue" for r in plan.services.releases):
            crds = (*crds, *kueue_crds())
        if plan.backups is not None:  # the snapshot kinds GKE serves (render/backups.py)
            from gridcloud.render.backups import snapshot_crds

            crds = (*crds, *snapshot_crds())
        rendered.append(Rendered(release=None, manifests=own, crds=crds, notes=""))
    return rendered


def gke_crds() -> tuple[dict[str, Any], ...]:
    """The custom kinds GKE serves for its load balancer (data/gke-crds.yaml)."""
    text = (Path(__file__).parent / "data" / "gke-crds.yaml").read_text()
    return tuple(yaml.safe_load(text))


def compute_class_crd() -> tuple[dict[str, Any], ...]:
    """GKE's ComputeClass kind, written from its reference (data/computeclass-crd.yaml)."""
    text = (Path(__file__).parent / "data" / "computeclass-crd.yaml").read_text()
    return tuple(yaml.safe_load(text))


def kueue_crds() -> tuple[dict[str, Any], ...]:
    """Kueue's kinds gridcloud writes, written from Kueue's reference (data/kueue-crds.yaml;
    the real CRDs come with Kueue's chart, in its release)."""
    text = (Path(__file__).parent / "data" / "kueue-crds.yaml").read_text()
    return tuple(yaml.safe_load(text))


def release_named(rendered: list[Rendered], name: str) -> Rendered:
    """The rendered release ``name`` (``gridcloud`` for the Plan's own objects)."""
    for release in rendered:
        if release.name == name:
            return release
    raise KeyError(name)


def _apply(patch: dict[str, Any], rendered: Rendered) -> None:
    """A server-side patch, as the program applies it after the release: maps merge, and
    lists of named items (containers) merge by name, as server-side apply merges them."""
    target = rendered.find(patch["kind"], patch["metadata"]["name"])
    fields = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
    target.body.update(_merged(target.body, fields))


def _named_items(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def _merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    import copy

    merged = copy.deepcopy(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _merged(old, value)
        elif isinstance(old, list) and _named_items(value) and _named_items(old):
            items = {i["name"]: i for i in old}
            for item in value:
                items[item["name"]] = _merged(items.get(item["name"], {}), item)
            merged[key] = list(items.values())
        else:
            merged[key] = copy.deepcopy(value)
    return merged
