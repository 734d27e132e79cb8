"""The test session is isolated from the user's catalogs: a refreshed catalog in the user data
dir (where `gridcloud catalog refresh` writes) or named by GRIDCLOUD_CATALOG_DIR never changes
the figures the tests expect (worked by hand from the packaged snapshot's sources)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gridcloud.catalog.model import PACKAGED_DATA, SCHEMA
from tests.conftest import ROOT

#: The small profile's cpu pool (n2d-highcpu-80, spot, us-central1): 0.87448 an hour in the
#: packaged snapshot (tests/unit/test_cost.py works it by hand); the planted refresh says less.
PACKAGED_SPOT = "0.87448"
REFRESHED_SPOT = "0.5"
WORKED_BY_HAND = "tests/unit/test_cost.py::test_small_profile_worked_by_hand"


def plant_refreshed_catalog(data_home: Path) -> Path:
    """A catalog as `gridcloud catalog refresh` leaves it in the user data dir on Linux
    ($XDG_DATA_HOME/gridcloud/catalogs/<date>-schema<N>), newer than the packaged one, with
    a changed spot price."""
    folder = data_home / "gridcloud" / "catalogs" / f"2099-01-01-schema{SCHEMA}"
    shutil.copytree(PACKAGED_DATA, folder)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["captured"] = "2099-01-01"
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    prices = folder / "prices" / "us-central1.csv"
    text = prices.read_text()
    row = "machine,n2d-highcpu-80,2.49504," + PACKAGED_SPOT
    assert row in text
    prices.write_text(text.replace(row, "machine,n2d-highcpu-80,2.49504," + REFRESHED_SPOT))
    return folder


def user_env(home: Path) -> dict[str, str]:
    """The environment of a user whose home is ``home`` (no test session's settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRIDCLOUD_CATALOG", "PYTEST_")) and k != "XDG_DATA_HOME"
    }
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


def spot_price_read(env: dict[str, str]) -> str:
    code = (
        "from gridcloud.catalog import load_catalog; "
        "print(load_catalog().prices('us-central1').machines['n2d-highcpu-80'][1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def run_tests(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", WORKED_BY_HAND],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_refreshed_catalog_of_the_user_does_not_reach_the_tests(tmp_path: Path) -> None:
    home = tmp_path / "home"
    refreshed = plant_refreshed_catalog(home / ".local" / "share")
    env = user_env(home)
    # outside a test session, gridcloud reads the planted catalog: it is where a user's is,
    # as it is when the user's environment names it
    assert spot_price_read(env) == REFRESHED_SPOT
    named = {**env, "GRIDCLOUD_CATALOG_DIR": str(refreshed)}
    assert spot_price_read(named) == REFRESHED_SPOT
    # a test session in that environment reads the packaged one: the hand-worked figures hold
    done = run_tests(named)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
