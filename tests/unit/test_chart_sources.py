"""Without ``../shared`` the tests take the charts from their repositories: proved against a
local Helm chart repository served over HTTP from the same charts, packaged as their
publishers package them (no ``values.schema.yaml``, no extracted list of value paths)."""

from __future__ import annotations

import filecmp
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.catalog import charts as catalog_charts
from tests import charts as test_charts
from tests.conftest import ROOT, SHARED

pytestmark = pytest.mark.needs("helm", "shared")

#: JSON Schema's annotations: what a validator does not read (the publish step drops some).
ANNOTATIONS = {"description", "title", "examples", "$comment"}


def published_here() -> list[catalog_charts.Chart]:
    """The charts ../shared holds: all but Kueue's, which may not be copied here (its real
    chart is rendered by tests/services/test_multikueue_chart.py where it is available)."""
    return [c for c in catalog_charts.CHARTS.values() if c.key != "kueue"]


#: What ../shared adds to a published chart.
NOT_PUBLISHED = ("values.schema.yaml", "template-value-paths.txt")


@pytest.fixture
def chart_repository(tmp_path: Path) -> Iterator[str]:
    """Every chart gridcloud installs, packaged into a Helm repository on localhost."""
    import helm_python as helm

    repo = tmp_path / "repo"
    repo.mkdir()
    for chart in published_here():
        source = tmp_path / "published" / chart.directory.name
        shutil.copytree(
            SHARED / "charts" / chart.directory.name,
            source,
            ignore=shutil.ignore_patterns(*NOT_PUBLISHED),
        )
        helm.package(source, destination=repo)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(repo))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    helm.repo_index_generate(repo, base_url=url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


#: The pull, as a new contributor's run does it: in its own process, so that Helm (a Go
#: library, which reads the environment once, when it loads) keeps its repository cache in
#: the test's folder.
PULL = """
import dataclasses, sys
from pathlib import Path
from gridcloud.catalog import charts
charts.CHARTS.pop("kueue")  # not in ../shared (see published_here)
for key, chart in list(charts.CHARTS.items()):
    plain = chart.chart.rsplit("/", 1)[-1]
    charts.CHARTS[key] = dataclasses.replace(chart, chart=plain, repository=sys.argv[1])
from tests import charts as test_charts
test_charts.SHARED = Path(sys.argv[2])
print(test_charts.charts_dir())
"""


def test_without_shared_the_charts_are_pulled_and_read_like_shared(
    chart_repository: str, tmp_path: Path
) -> None:
    shared = SHARED / "charts"
    env = {**os.environ, "GRIDCLOUD_CACHE_DIR": str(tmp_path / "cache")}
    for variable in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[variable] = str(tmp_path / "helm" / variable.lower())
    done = subprocess.run(
        [sys.executable, "-c", PULL, chart_repository, str(tmp_path / "no-shared-here")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = Path(done.stdout.strip())
    assert found == tmp_path / "cache" / "charts"
    assert (tmp_path / "helm" / "helm_cache_home" / "repository").is_dir()
    for chart in published_here():
        name = chart.directory.name
        pulled, source = found / name, shared / name
        templates = sorted(p.relative_to(source) for p in (source / "templates").rglob("*"))
        assert templates == sorted(
            p.relative_to(pulled) for p in (pulled / "templates").rglob("*")
        ), name
        # `helm package` writes Chart.yaml anew: the same fields, its own layout
        assert yaml.safe_load((pulled / "Chart.yaml").read_text()) == yaml.safe_load(
            (source / "Chart.yaml").read_text()
        )
        for relative in (Path("values.yaml"), *templates):
            if (source / relative).is_file():
                assert filecmp.cmp(source / relative, pulled / relative, shallow=False), relative
        # what the tests read from a chart is the same from either source
        assert _rules(test_charts.schema(pulled)) == _rules(test_charts.schema(source)), name
        assert test_charts.value_paths(pulled) == test_charts.value_paths(source), name


def _rules(schema: Any) -> Any:
    """The schema as a validator reads it: without annotations."""
    if isinstance(schema, dict):
        return {k: _rules(v) for k, v in schema.items() if k not in ANNOTATIONS}
    if isinstance(schema, list):
        return [_rules(v) for v in schema]
    return schema
