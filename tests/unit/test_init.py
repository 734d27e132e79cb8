"""``gridcloud init`` from an installed wheel: the wheel carries the repository's profiles
as package data, and ``init`` reads them from the installed package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gridcloud.cli.init_cmd import write_example
from gridcloud.errors import InputError
from tests.conftest import PROFILES, ROOT, require


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by the project's own backend (as `pip wheel` would), unpacked as an
    installer lays it out in site-packages."""
    wheel_builder = require("hatchling.builders.wheel")
    out = tmp_path_factory.mktemp("wheel")
    (wheel,) = wheel_builder.WheelBuilder(str(ROOT)).build(
        directory=str(out), versions=["standard"]
    )
    site = out / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for profile in sorted(PROFILES.glob("*.yaml")):
            packaged = f"gridcloud/profiles/{profile.name}"
            assert packaged in names, packaged
            # the same files as profiles/, byte for byte
            assert archive.read(packaged) == profile.read_bytes()
        archive.extractall(site)
    return site


def gridcloud(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed gridcloud (the unpacked wheel first on the path, its dependencies from
    this environment), run where there is no checkout."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("GRIDCLOUD_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "gridcloud", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import gridcloud; print(gridcloud.__file__)"],
        env={**os.environ, "PYTHONPATH": str(installed)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(installed))
    result = gridcloud(installed, tmp_path, "init", "--example", "small")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "profiles" / "small.yaml"
    assert written.read_text() == (PROFILES / "small.yaml").read_text()
    # a second time: refused, the file kept
    written.write_text("# mine\n")
    again = gridcloud(installed, tmp_path, "init", "--example", "small")
    assert again.returncode == 2 and "exists" in again.stderr
    assert written.read_text() == "# mine\n"
    # the default lands where every command looks without a profile argument
    default = gridcloud(installed, tmp_path, "init")
    assert default.returncode == 0
    assert (tmp_path / "profiles" / "default.yaml").read_text() == (
        PROFILES / "default.yaml"
    ).read_text()


def test_an_unknown_example_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        write_example("smal", tmp_path / "p.yaml", force=False)
    assert info.value.hint is not None and "did you mean small?" in info.value.hint
    assert not (tmp_path / "p.yaml").exists()


def test_init_writes_to_a_given_path(tmp_path: Path) -> None:
    path = write_example("onprem", tmp_path / "sites" / "mine.yaml", force=False)
    assert path.read_text() == (PROFILES / "onprem.yaml").read_text()
    with pytest.raises(InputError, match="exists"):
        write_example("default", path, force=False)
    assert path.read_text() == (PROFILES / "onprem.yaml").read_text()
    write_example("default", path, force=True)
    assert path.read_text() == (PROFILES / "default.yaml").read_text()
