"""The charts' sources for the tests: ``../shared/charts`` where it is beside the project,
else the charts pulled from their own repositories into gridcloud's chart cache (the test
run's cache), else a skip that says why (a failure in CI).

A chart as published differs from the copies in ``../shared`` in two ways the tests need:
its JSON Schema is ``values.schema.json`` (``../shared`` also carries the YAML it is made
from), and it has no list of the ``.Values`` paths its templates read (``../shared``'s list
was extracted from the templates): :func:`value_paths` extracts it the same way.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SHARED, missing

#: ``.Values.a.b`` in a template: the path a chart reads.
_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")


def charts_dir() -> Path:
    """A folder of ``<chart>-<version>/`` sources for every chart gridcloud installs."""
    shared = SHARED / "charts"
    if shared.is_dir():
        return shared
    found = pulled()
    if not isinstance(found, Path):
        missing(f"{SHARED} is not beside the project, and the charts could not be pulled: {found}")
    return found


@functools.cache
def pulled() -> Path | str:
    """Every chart pulled into gridcloud's chart cache (``render``'s own code); the reason
    when that cannot be done (no Helm engine, no network)."""
    try:
        from gridcloud.render.sources import cache_dir, pulled_chart
    except ImportError as error:
        return f"Helm's engine is not installed ({error})"
    from gridcloud.catalog.charts import CHARTS
    from gridcloud.errors import GridcloudError

    try:
        for chart in CHARTS.values():
            pulled_chart(chart)
    except GridcloudError as error:
        return error.message
    return cache_dir()


def schema(directory: Path) -> Any | None:
    """The chart's values schema: ``values.schema.yaml`` (``../shared``) or the published
    ``values.schema.json``; None when the chart has none."""
    for name in ("values.schema.yaml", "values.schema.json"):
        path = directory / name
        if path.is_file():
            return (
                yaml.safe_load(path.read_text())
                if name.endswith("yaml")
                else json.loads(path.read_text())
            )
    return None


def value_paths(directory: Path) -> set[str]:
    """Every ``.Values`` path the chart's templates read."""
    listed = directory / "template-value-paths.txt"
    if listed.is_file():
        return set(listed.read_text().split())
    found: set[str] = set()
    for template in (directory / "templates").rglob("*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8", errors="replace")
            found.update(match.lstrip(".") for match in _VALUES_PATH.findall(text))
    return found
