"""`gridcloud cost report` refuses a budget in another currency than the billing export's:
the report would compare 25,000 USD (the default profile's budget) with amounts in EUR."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports

pytestmark = pytest.mark.needs("duckdb", "sqlglot")


def test_an_export_in_euros_against_a_budget_in_dollars_is_an_error(tmp_path: Path) -> None:
    # a day of October 2026 as bq extracts it, every row in EUR (a European account)
    day = exports.generate(datetime(2026, 10, 1, tzinfo=UTC), hours=24)
    euros = [dataclasses.replace(line, currency="EUR") for line in day]
    [path] = exports.bq_jsonl(euros, tmp_path)
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--export", str(path)],
    )
    assert result.exit_code == 2, result.output  # invalid input (docs/cli.md)
    assert (
        "Error: the budget (25,000 USD) is in USD, the export in EUR: the report would compare "
        "amounts in different currencies"
    ) in " ".join(result.stderr.split())
    assert "Hint:" in result.stderr and "budget.currency: EUR" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert result.stdout == ""
