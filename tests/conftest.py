"""Shared fixtures: the catalog, the shipped profiles, and profiles written on the fly."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# hypothesis' pytest plugin imports it when a run ends; imported that late, after the
# end-to-end tests, CPython 3.11.7's ast.parse fails ("AST constructor recursion depth
# mismatch") and the run exits 1: import it up front
import hypothesis  # noqa: F401
import pytest
import yaml

from gridcloud.catalog import Catalog, load_catalog
from gridcloud.facility import planned
from gridcloud.plan import Plan
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile import Profile, parse_profile

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
SHARED = ROOT.parent / "shared"
SHIPPED = sorted(PROFILES.glob("*.yaml"))


def pytest_configure(config: pytest.Config) -> None:
    """Temporary paths in one directory of this run, removed when it ends (pytest keeps
    its own under the system temp dir across runs)."""
    if config.option.basetemp is None:
        _remove_orphans()
        config.option.basetemp = tempfile.mkdtemp(prefix=f"gridcloud-tests-{os.getpid()}-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp
    # gridcloud's cache (validated values, pulled charts) in this run's directory, not the
    # user's; inherited by the real processes the tests start
    os.environ.setdefault("GRIDCLOUD_CACHE_DIR", str(Path(config.option.basetemp) / "cache"))
    # the packaged catalog, whatever the user refreshed (their data dir) or points at: a
    # refreshed price would change the expected figures (tests/unit/test_isolation.py)
    os.environ.pop("GRIDCLOUD_CATALOG_DIR", None)
    os.environ["GRIDCLOUD_CATALOGS"] = str(Path(config.option.basetemp) / "catalogs")


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[str]()


def _remove_orphans() -> None:
    """Temporary directories of earlier runs that were killed before they could remove
    their own (their process is gone)."""
    for folder in Path(tempfile.gettempdir()).glob("gridcloud-tests-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


#: The OAuth endpoint that refreshes Application Default Credentials, and its answer.
TOKEN_URL = "https://oauth2.googleapis.com/token"
TOKEN_ANSWER = {"access_token": "ya29.test", "expires_in": 3599, "token_type": "Bearer"}


def write_adc(path: Path, **extra: str) -> Path:
    """Application Default Credentials as `gcloud auth application-default login` writes
    them (test values): refreshed at ``TOKEN_URL``, which a test answers with
    ``TOKEN_ANSWER``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "test-client.apps.googleusercontent.com",
                "client_secret": "test-client-secret",
                "refresh_token": "test-refresh-token",
                **extra,
            }
        )
    )
    return path


def require(module: str) -> Any:
    """A dev dependency the tests use: missing in CI is a failure (a skip would hide the
    test), elsewhere a skip."""
    if os.environ.get("CI"):
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


def shared_dir() -> Path:
    """../shared, which CI has: missing there is a failure, elsewhere a skip."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing in CI")
        pytest.skip(f"{SHARED} is not beside the project")
    return SHARED


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands resolve profiles/ relative to the working directory, as a user runs them."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRIDCLOUD_PROFILE", raising=False)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def services_off(data: dict[str, Any]) -> None:
    """Switch every service off (for tests that replace the pools the services name)."""
    data["services"] = {
        "gridSite": {"enabled": False},
        "reana": {"enabled": False},
        "jupyter": {"enabled": False},
    }


def default_data() -> dict[str, Any]:
    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def make_profile(catalog: Catalog) -> Callable[..., Profile]:
    """A profile from the default one, changed by ``edit(data)``."""

    def make(edit: Callable[[dict[str, Any]], None] | None = None) -> Profile:
        data = default_data()
        if edit is not None:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
        return parse_profile(text, "test.yaml", catalog, PROFILE_CHECKS)  # as analyse does

    return make


@pytest.fixture
def make_plan(make_profile: Callable[..., Profile], catalog: Catalog) -> Callable[..., Plan]:
    def make(edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
        return planned(make_profile(edit), catalog)[0]  # priced, with its cap

    return make
