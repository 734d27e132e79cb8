"""Debian's Chromium for the HTML report's tests: installed with apt-get when missing and the
tests run as root (a fresh CI machine), else a failure that says how to install it (a skip
with --allow-missing, as tests/conftest.py treats the other real components)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import missing
from tests.report.browser import Browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _install() -> str:
    quiet = {"DEBIAN_FRONTEND": "noninteractive", **os.environ}
    for command in (
        ["apt-get", "update", "-qq"],
        # with its recommended fonts, as verified here (the tests measure rendered text)
        ["apt-get", "install", "-y", "-qq", "chromium"],
    ):
        subprocess.run(command, check=True, env=quiet, capture_output=True, timeout=900)
    return _chromium() or ""


@pytest.fixture(scope="session")
def chromium() -> str:
    found = _chromium()
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        try:
            found = _install() or None
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            missing(f"apt-get install chromium failed: {error}")
    if found is None:
        missing("Debian's chromium is not installed (apt-get install chromium, as root)")
    return found


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    opened = Browser(chromium)
    try:
        yield opened
    finally:
        opened.close()
