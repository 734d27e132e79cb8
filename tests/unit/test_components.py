"""A missing real component fails the run (with how to get it), unless --allow-missing is
given outside CI: whether CI is set changes nothing else (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import conftest


class _Config:
    def __init__(self, allow: bool) -> None:
        self.allow = allow

    def getoption(self, name: str) -> Any:
        assert name == "allow_missing"
        return self.allow


@pytest.fixture
def restore() -> Any:
    before = conftest._allow_missing
    yield
    conftest._allow_missing = before


def _absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(conftest.COMPONENTS, "absent", (lambda: False, "apt-get install absent"))


class _Item:
    nodeid = "tests/x.py::test_x"

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        assert name == "needs"
        return [pytest.mark.needs("shared", "absent").mark]


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_missing_component_fails_by_default_in_ci_or_not(
    monkeypatch: pytest.MonkeyPatch, restore: None, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv(conftest.ALLOW_MISSING_ENV, raising=False)
    conftest._configure_components(_Config(allow=False))  # type: ignore[arg-type]
    _absent(monkeypatch)
    with pytest.raises(pytest.fail.Exception) as info:
        conftest._check_needs(_Item())  # type: ignore[arg-type]
    assert "absent is not here: apt-get install absent" in str(info.value)
    assert "--allow-missing" in str(info.value)


@pytest.mark.parametrize("how", ["option", "env"])
def test_allow_missing_skips_with_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, restore: None, how: str
) -> None:
    monkeypatch.delenv("CI", raising=False)
    if how == "env":
        monkeypatch.setenv(conftest.ALLOW_MISSING_ENV, "1")
    conftest._configure_components(_Config(allow=how == "option"))  # type: ignore[arg-type]
    _absent(monkeypatch)
    with pytest.raises(pytest.skip.Exception, match="apt-get install absent"):
        conftest._check_needs(_Item())  # type: ignore[arg-type]


def test_allow_missing_is_refused_in_ci(monkeypatch: pytest.MonkeyPatch, restore: None) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.UsageError, match="CI runs every component"):
        conftest._configure_components(_Config(allow=True))  # type: ignore[arg-type]


def test_present_components_pass(monkeypatch: pytest.MonkeyPatch, restore: None) -> None:
    monkeypatch.setitem(conftest.COMPONENTS, "absent", (lambda: True, "unused"))
    conftest._allow_missing = False
    conftest._check_needs(_Item())  # type: ignore[arg-type]  # ../shared is beside it here


def test_require_fails_with_the_install_command(restore: None) -> None:
    conftest._allow_missing = False
    with pytest.raises(ImportError, match=r"pip install .*\[dev\]"):
        conftest.require("no_such_module_here")
    conftest._allow_missing = True
    with pytest.raises(pytest.skip.Exception):
        conftest.require("no_such_module_here")


def test_every_component_names_how_to_get_it() -> None:
    for name, (here, how) in conftest.COMPONENTS.items():
        assert callable(here) and how, name
