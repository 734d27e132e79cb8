"""Where a chart's source comes from: a local copy (``--charts DIR``, offline) or its
repository, pulled once into gridcloud's cache."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from gridcloud.catalog.charts import CHARTS, Chart
from gridcloud.errors import InputError


def directory_name(chart: Chart) -> str:
    """``<chart>-<version>``: how a local copy of the chart is laid out."""
    return f"{chart.chart.rsplit('/', 1)[-1]}-{chart.version}"


def cache_dir() -> Path:
    """Where pulled charts are kept: ``charts/`` in gridcloud's cache."""
    from gridcloud.memo import cache_dir as gridcloud_cache

    return gridcloud_cache() / "charts"


def local_chart(chart: Chart, charts: Path) -> Path:
    path = charts / directory_name(chart)
    if not (path / "Chart.yaml").is_file():
        raise InputError(
            f"no {chart.chart} {chart.version} chart at {path}",
            hint=f"--charts takes a folder of charts laid out as <chart>-<version>/, each "
            f"with its Chart.yaml (gridcloud needs: "
            f"{', '.join(directory_name(c) for c in CHARTS.values())})",
        )
    return path


def pulled_chart(chart: Chart, cache: Path | None = None) -> Path:
    """The chart from its repository, kept in the cache once pulled."""
    from helm_python import HelmError, pull

    cache = cache or cache_dir()
    path = cache / directory_name(chart)
    if (path / "Chart.yaml").is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        try:
            if chart.repository is None:
                pull(chart.chart, version=chart.version, untar=True, untar_dir=scratch)
            else:
                pull(
                    chart.chart,
                    repo_url=chart.repository,
                    version=chart.version,
                    untar=True,
                    untar_dir=scratch,
                )
        except HelmError as error:
            where = chart.repository or chart.chart
            raise InputError(
                f"could not pull {chart.chart} {chart.version} from {where}: {error}",
                hint="check the network, or render offline from a local copy with --charts DIR",
            ) from error
        unpacked = Path(scratch) / directory_name(chart).rsplit("-", 1)[0]
        shutil.move(unpacked, path)
    return path


def chart_source(key: str, charts: Path | None) -> Path:
    chart = CHARTS[key]
    return local_chart(chart, charts) if charts is not None else pulled_chart(chart)
