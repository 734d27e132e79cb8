"""The Helm charts gridcloud installs: where they come from, which version, and their rules.

Chart versions live here and nowhere else. Each chart's default values and what Helm checks
values against ship as package data under ``charts/<chart>-<version>/`` (copied from the
chart's repository at that tag, with its license): the JSON Schema for charts that have
one, otherwise the list of ``.Values`` paths its templates read.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from gridcloud.memo import cache_dir, module_stamp

T = TypeVar("T")
CHARTS_DIR = Path(__file__).parent / "charts"


@dataclass(frozen=True)
class Chart:
    key: str
    """How the rest of gridcloud names the chart."""
    chart: str
    version: str
    repository: str | None
    """Helm repository URL; None for an OCI chart (``chart`` is then the oci:// reference)."""
    subcharts: tuple[str, ...] = ()
    """Top-level keys passed to subcharts (not read by the chart's own templates)."""
    kinds: tuple[str, ...] = ()
    """What its templates create with gridcloud's values, as ``group/Kind`` (``/Kind`` for
    the core group), and ``CustomResourceDefinition`` for the CRDs it ships: what the
    installing user must be allowed to create (``gridcloud check``; a test renders the
    shipped profiles and holds the list to what Helm makes)."""

    @property
    def directory(self) -> Path:
        return CHARTS_DIR / f"{self.chart.rsplit('/', 1)[-1]}-{self.version}"

    @property
    def has_schema(self) -> bool:
        return (self.directory / "values.schema.yaml").is_file()


_CORE = ("/ConfigMap", "/Secret", "/Service", "/ServiceAccount")
_CLUSTER_RBAC = (
    "rbac.authorization.k8s.io/ClusterRole",
    "rbac.authorization.k8s.io/ClusterRoleBinding",
)

CHARTS: dict[str, Chart] = {
    c.key: c
    for c in (
        Chart(
            "jupyterhub",
            "jupyterhub",
            "4.4.0",
            "https://hub.jupyter.org/helm-chart/",
            kinds=(
                *_CORE,
                "/PersistentVolumeClaim",
                "apps/Deployment",
                "networking.k8s.io/NetworkPolicy",
                "rbac.authorization.k8s.io/Role",
                "rbac.authorization.k8s.io/RoleBinding",
            ),
        ),
        Chart(
            "dask-gateway",
            "dask-gateway",
            "2026.3.0",
            "https://helm.dask.org",
            kinds=(
                *_CORE,
                *_CLUSTER_RBAC,
                "apps/Deployment",
                "traefik.io/IngressRoute",
                "traefik.io/Middleware",
                "apiextensions.k8s.io/CustomResourceDefinition",
            ),
        ),
        Chart(
            "reana",
            "reana",
            "0.9.4",
            "https://reanahub.github.io/reana",
            subcharts=("traefik",),
            kinds=(
                *_CORE,
                *_CLUSTER_RBAC,
                "/PersistentVolumeClaim",
                "apps/Deployment",
                "apps/StatefulSet",
                "batch/CronJob",
                "networking.k8s.io/NetworkPolicy",
                "storage.k8s.io/StorageClass",
                # where REANA serves through its own Traefik (not on Google Cloud)
                "networking.k8s.io/Ingress",
                "traefik.containo.us/IngressRoute",
                "apiextensions.k8s.io/CustomResourceDefinition",
            ),
        ),
        Chart(
            "cvmfs-csi",
            "oci://registry.cern.ch/kubernetes/charts/cvmfs-csi",
            "2.5.2",
            None,
            kinds=(
                "/ConfigMap",
                "/ServiceAccount",
                *_CLUSTER_RBAC,
                "apps/DaemonSet",
                "apps/Deployment",
                "storage.k8s.io/CSIDriver",
                "storage.k8s.io/StorageClass",
            ),
        ),
        # MultiKueue over the shards (plan/multikueue.py). Its package data is gridcloud's
        # own list of the values it sets (charts/kueue-0.19.2/): none of Kueue's files.
        Chart(
            "kueue",
            "oci://registry.k8s.io/kueue/charts/kueue",
            "0.19.2",
            None,
            kinds=(
                *_CORE,
                *_CLUSTER_RBAC,
                "apps/Deployment",
                "rbac.authorization.k8s.io/Role",
                "rbac.authorization.k8s.io/RoleBinding",
                "admissionregistration.k8s.io/MutatingWebhookConfiguration",
                "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
                "apiregistration.k8s.io/APIService",
                "apiextensions.k8s.io/CustomResourceDefinition",
            ),
        ),
    )
}


@cache
def _yaml(path: Path) -> Any:
    """A chart file's YAML document, parsed once per content: kept in gridcloud's cache
    (``parsed/``) under the digest of the file's bytes, the parser's and Python's versions,
    as ``marshal`` data (plain values only: a document holding anything else, such as a
    date, is parsed every time). Reading it back is ~20 times faster than parsing."""
    import marshal
    import sys

    raw = path.read_bytes()
    digest = hashlib.sha256(raw)
    digest.update(f"\0{module_stamp('yaml')}\0{sys.version_info[:2]}\0{marshal.version}".encode())
    kept = cache_dir() / "parsed" / f"{path.stem}-{digest.hexdigest()[:32]}"
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
        return marshal.loads(kept.read_bytes())
    import yaml

    # libyaml's loader when PyYAML has it: the charts' schemas are large (ten times faster)
    document = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    try:
        data = marshal.dumps(document)
    except ValueError:  # a value marshal cannot hold: not kept
        return document
    with contextlib.suppress(OSError):  # a cache: a read-only home only costs time
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(kept)  # whole or absent: a reader never sees half a file
    return document


def plain_copy(value: T) -> T:
    """A deep copy of YAML- or JSON-like data (dicts, lists, strings, numbers, booleans,
    None), made by ``marshal`` in C: ~10 times faster than ``copy.deepcopy``, which the
    charts' large defaults made a noticeable part of ``plan``. Anything else (a Decimal, an
    object) is copied by ``copy.deepcopy``."""
    import marshal

    try:
        return marshal.loads(marshal.dumps(value))  # type: ignore[arg-type,no-any-return]
    except ValueError:
        return copy.deepcopy(value)


def default_values(chart: Chart) -> dict[str, Any]:
    return plain_copy(_yaml(chart.directory / "values.yaml") or {})


@cache
def _value_paths(chart: Chart) -> frozenset[str]:
    text = (chart.directory / "template-value-paths.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of user values over defaults: maps merge, null deletes."""
    merged = plain_copy(base)
    _merge_into(merged, override)
    return merged


def _merge_into(merged: dict[str, Any], override: dict[str, Any]) -> None:
    """:func:`helm_merge` on a copy already made (each level is not copied again)."""
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            _merge_into(merged[key], value)
        else:
            merged[key] = plain_copy(value)


def _leaves(values: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            paths.extend(_leaves(value, path + "."))
        else:
            paths.append(path)
    return paths


def _validated_marker(chart: Chart, merged: dict[str, Any]) -> Path | None:
    """The file that says these merged values passed this exact schema before.

    Validating the hub's values against its chart's schema is most of what ``plan`` does
    (and importing ``jsonschema`` where Jupyter is installed pulls a grammar compiler that
    takes the best part of a second); the values change only when the profile or gridcloud
    does. The digest covers the schema file's bytes and the values, so a hit is the same
    check with the same answer. None when the values cannot be serialised (never cached).
    """
    try:
        text = json.dumps(merged, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256()
    digest.update((chart.directory / "values.schema.yaml").read_bytes())
    digest.update(b"\0")
    digest.update(text.encode())
    return cache_dir() / "valid-values" / f"{chart.key}-{digest.hexdigest()[:32]}"


def validate_values(chart: Chart, values: dict[str, Any]) -> list[str]:
    """Problems with ``values`` for ``chart``, as Helm (or the chart's templates) see them.

    With a schema: the merged values must satisfy it, as ``helm install`` checks. Without
    one: every value gridcloud sets must be a path the templates read (or below one, or for
    a subchart); a key the chart ignores is a mistake that would otherwise pass silently.
    """
    if chart.has_schema:
        merged = helm_merge(_yaml(chart.directory / "values.yaml") or {}, values)  # a copy
        seen = _validated_marker(chart, merged)
        if seen is not None and seen.exists():
            return []
        import jsonschema

        schema = _yaml(chart.directory / "values.schema.yaml")
        validator = jsonschema.Draft7Validator(schema)
        problems = sorted(
            f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
            for e in validator.iter_errors(merged)
        )
        if not problems and seen is not None:
            with contextlib.suppress(OSError):  # a cache: a read-only home only costs time
                seen.parent.mkdir(parents=True, exist_ok=True)
                seen.touch()
        return problems
    read = _value_paths(chart)
    problems = []
    for leaf in _leaves(values):
        if leaf.split(".", 1)[0] in chart.subcharts:
            continue
        parts = leaf.split(".")
        if not any(".".join(parts[:i]) in read for i in range(1, len(parts) + 1)):
            problems.append(f"{leaf}: not read by the {chart.chart} {chart.version} templates")
    return problems
