"""The code stays ruff-clean, ruff-formatted and mypy-strict: CI runs these with the tests.

mypy on a fresh clone (no cache) is the slowest check of the suite; it is started in the
background as soon as the tests are collected (``tests/conftest.py``), on the second core
while the other tests run, and this test waits for its verdict: the same strict run over
the same files, sooner.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT, lint_command, started_mypy


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str], request: pytest.FixtureRequest) -> None:
    running = started_mypy(request.config) if command == ["mypy"] else None
    if running is not None:
        output, _ = running.communicate(timeout=1800)
        assert running.returncode == 0, output
        return
    proc = subprocess.run(
        lint_command(command), cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
