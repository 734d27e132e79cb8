"""Shared fixtures: the catalog, the shipped profiles, and profiles written on the fly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

# hypothesis' pytest plugin imports it when a run ends; imported that late, after the
# end-to-end tests, CPython 3.11.7's ast.parse fails ("AST constructor recursion depth
# mismatch") and the run exits 1: import it up front
import hypothesis  # noqa: F401
import pytest
import yaml

from gridcloud.analysis import planned
from gridcloud.catalog import Catalog, load_catalog
from gridcloud.plan import Plan
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile import Profile, parse_profile

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
SHARED = ROOT.parent / "shared"
SHIPPED = sorted(PROFILES.glob("*.yaml"))


def pytest_configure(config: pytest.Config) -> None:
    """Temporary paths in one directory of this run, removed when it ends (pytest keeps
    its own under the system temp dir across runs); whether a missing component fails."""
    _configure_components(config)
    if config.option.basetemp is None:
        _remove_orphans()
        config.option.basetemp = tempfile.mkdtemp(prefix=f"gridcloud-tests-{os.getpid()}-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp
    run = Path(config.option.basetemp)
    # gridcloud's cache (validated values, pulled charts) in this run's directory, not the
    # user's (whatever they set); inherited by the real processes the tests start
    os.environ["GRIDCLOUD_CACHE_DIR"] = str(run / "cache")
    # what the real components write beside their work, kept out of the home directory:
    # Helm's repository cache (a pull in a process the tests start: Helm, a Go library,
    # reads the environment once, when the process starts), Dask's config files
    # (dask-gateway copies its defaults into ~/.config/dask on import)
    for variable in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        os.environ[variable] = str(run / "helm" / variable.lower())
    os.environ["DASK_CONFIG"] = str(run / "dask")
    config.stash[_HOME_BEFORE] = _home_entries()
    # the packaged catalog, whatever the user refreshed (their data dir) or points at: a
    # refreshed price would change the expected figures (tests/unit/test_isolation.py)
    os.environ.pop("GRIDCLOUD_CATALOG_DIR", None)
    os.environ["GRIDCLOUD_CATALOGS"] = str(Path(config.option.basetemp) / "catalogs")


#: Where programs keep files in a home directory: what a test run must not add to.
_HOME_PLACES = ("", ".config", ".cache", ".local/share")
_HOME_BEFORE = pytest.StashKey[set[str]]()


def _home_entries() -> set[str]:
    home = Path.home()
    found = set()
    for place in _HOME_PLACES:
        folder = home / place
        if folder.is_dir():
            found.update(str(entry.relative_to(home)) for entry in folder.iterdir())
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run added nothing to the home directory (a new entry in ~, ~/.config, ~/.cache
    or ~/.local/share fails the run, and says what it is)."""
    before = session.config.stash.get(_HOME_BEFORE, None)
    if before is None:
        return
    added = sorted(_home_entries() - before)
    if added:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"the tests left files in the home directory: {', '.join(added)}", red=True
            )
        if exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


_MYPY = pytest.StashKey["subprocess.Popen[str]"]()


def lint_command(command: list[str]) -> list[str]:
    """A lint tool of this environment (beside the interpreter running the tests)."""
    return [str(Path(sys.executable).parent / command[0]), *command[1:]]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """mypy starts in the background when the run includes it (tests/test_lint.py); every
    ``needs`` marker names a known component."""
    for item in items:
        for marker in item.iter_markers("needs"):
            unknown = [n for n in marker.args if n not in COMPONENTS]
            if not marker.args or unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: needs({', '.join(map(repr, marker.args))}): known "
                    f"components are {', '.join(sorted(COMPONENTS))}"
                )
    if any(item.nodeid.endswith("test_tool_is_clean[mypy]") for item in items):
        config.stash[_MYPY] = subprocess.Popen(
            lint_command(["mypy"]),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def started_mypy(config: pytest.Config) -> subprocess.Popen[str] | None:
    return config.stash.get(_MYPY, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    running = config.stash.get(_MYPY, None)
    if running is not None and running.poll() is None:
        running.kill()
        running.communicate()
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


def fresh_runs(script: str, cache: Path, times: int = 2) -> list[str]:
    """``script``'s stdout from ``times`` fresh Python processes in turn, run from the
    repository with gridcloud's cache at ``cache`` (what a first run keeps, the next reads)."""
    env = {**os.environ, "GRIDCLOUD_CACHE_DIR": str(cache)}
    return [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for _ in range(times)
    ]


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


# --- real components: declared with @pytest.mark.needs(...), missing ones fail the run ----

#: The real components a test can declare with ``@pytest.mark.needs(name, ...)``: how to tell
#: the component is here, and how to get it.
Component = tuple[Callable[[], bool], str]
DEV = "pip install -c requirements/lock.txt -e '.[dev]' (the README's command installs it)"


def _module(name: str) -> Callable[[], bool]:
    def here() -> bool:
        import importlib.util

        try:
            return importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # its parent package is missing
            return False

    return here


def _program(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


COMPONENTS: dict[str, Component] = {
    "helm": (_module("helm_python"), f"Helm's engine, helm-python-sdk: {DEV}"),
    "duckdb": (_module("duckdb"), f"DuckDB: {DEV}"),
    "sqlglot": (_module("sqlglot"), f"sqlglot: {DEV}"),
    "fastavro": (_module("fastavro"), f"fastavro: {DEV}"),
    "bigquery": (_module("google.cloud.bigquery"), f"google-cloud-bigquery: {DEV}"),
    "billing": (_module("google.cloud.billing_v1"), f"google-cloud-billing: {DEV}"),
    "responses": (_module("responses"), f"responses: {DEV}"),
    "functions-framework": (_module("functions_framework"), f"functions-framework: {DEV}"),
    "pubsub": (_module("google.cloud.pubsub_v1"), f"google-cloud-pubsub: {DEV}"),
    "jupyterhub": (_module("jupyterhub"), f"JupyterHub 5.5.0: {DEV}"),
    "oauthenticator": (_module("oauthenticator"), f"OAuthenticator: {DEV}"),
    "kubespawner": (_module("kubespawner"), f"jupyterhub-kubespawner: {DEV}"),
    "dask-gateway-server": (_module("dask_gateway_server"), f"dask-gateway-server: {DEV}"),
    "hatchling": (_module("hatchling"), f"hatchling: {DEV}"),
    "npm": (_program("npm"), "npm (apt-get install npm): it installs configurable-http-proxy"),
    "kubectl": (_program("kubectl"), "kubectl (https://kubernetes.io/docs/tasks/tools/)"),
    "shared": (
        SHARED.is_dir,
        f"{SHARED} beside the project: the published charts and price files",
    ),
}
ALLOW_MISSING_ENV = "GRIDCLOUD_ALLOW_MISSING"
#: Whether a missing component skips (set from the run's options when it starts).
_allow_missing = False


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--allow-missing",
        action="store_true",
        help="skip (with how to get it) a test whose real component is not here, instead of "
        f"failing it; for a local run, refused in CI (also: {ALLOW_MISSING_ENV}=1)",
    )


def _configure_components(config: pytest.Config) -> None:
    """A missing component fails the run, unless ``--allow-missing`` (never in CI)."""
    global _allow_missing  # noqa: PLW0603 - read by require() when a test module is imported
    allow = bool(config.getoption("allow_missing") or os.environ.get(ALLOW_MISSING_ENV))
    if allow and os.environ.get("CI"):
        raise pytest.UsageError(
            f"--allow-missing ({ALLOW_MISSING_ENV}) is for a local run: CI runs every component"
        )
    _allow_missing = allow


def missing(reason: str) -> NoReturn:
    """A real component the tests need is not here (found at run time, in a fixture): a
    failure that says how to get it, or a skip with ``--allow-missing``."""
    if _allow_missing:
        pytest.skip(reason)
    pytest.fail(f"{reason} (or run pytest --allow-missing to skip what needs it)")


def require(module: str) -> Any:
    """A dev dependency a test module uses at import: imported, or the module's tests skipped
    with ``--allow-missing``."""
    import importlib

    if _allow_missing:
        return pytest.importorskip(module)
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is missing: {DEV} (or pytest --allow-missing)") from error


def _check_needs(item: pytest.Item) -> None:
    for marker in item.iter_markers("needs"):
        for name in marker.args:
            here, how = COMPONENTS[name]
            if not here():
                missing(f"{name} is not here: {how}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    _check_needs(item)


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
    """The default profile without its backups, its expected data movement
    (``data.monthly``) and their prices (the snapshot and coldline prices are the profile's
    own, which the bare catalog these tests price with lacks; the backups and the data rows
    are tested in tests/unit/test_backups.py, tests/unit/test_data_cost.py and by analysing
    default.yaml). Its bucket and Rucio storage element stay."""
    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    assert isinstance(data, dict)
    data.pop("backups", None)
    data.get("data", {}).pop("monthly", None)
    own = {"snapshot-regional", "gcs-coldline"}
    data["prices"] = [p for p in data.get("prices", []) if p["item"] not in own]
    if not data["prices"]:
        del data["prices"]
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
