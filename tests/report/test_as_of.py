"""Time comes from the data: a November export that ends on 28 November, reported on any
later day, counts 27 days, burns and forecasts from there, says so, and warns that the data
stops before the month's end; gaps are named; --as-of overrides."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports
from tests.report.exports import Line, cents

pytestmark = pytest.mark.needs("duckdb", "sqlglot")

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
ENDS = datetime(2026, 11, 28, tzinfo=UTC)  # the export's last hour ends here


@pytest.fixture(scope="module")
def lines() -> list[Line]:
    """31 October 18:00 to 28 November 00:00."""
    start = datetime(2026, 10, 31, 18, tzinfo=UTC)
    return exports.generate(start, int((ENDS - start).total_seconds() // 3600), seed=1128)


def run(*args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(
        create_cli(), ["cost", "report", str(PROFILES / "default.yaml"), "--json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_days_burn_and_forecast_run_to_the_data_end(lines: list[Line], tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(lines, tmp_path, gzipped=True)
    got, warnings = run("--export", str(path))  # no --month: the last with data
    net = exports.expected(lines, NOVEMBER, ENDS)["net"]
    # by hand: 27 days from 1 November 00:00 to 28 November 00:00; 30 days in November
    burn = net / 27
    assert (got["month"], got["monthChosen"]) == ("2026-11", "last with data")
    assert got["asOf"] == "2026-11-28T00:00:00Z" and got["asOfFrom"] == "data"
    assert Decimal(got["daysElapsed"]) == 27 and got["daysInMonth"] == 30
    assert got["net"] == cents(net)
    assert got["burnPerDay"] == cents(burn)
    assert got["forecast"] == cents(net + burn * 3)
    assert got["verdict"] == ("over" if net + burn * 3 > 25000 else "within")
    # the report is run after the month: the data stops 3 days short of its end
    assert "the data ends at 2026-11-28 00:00 UTC, 3 days before the month ends" in " ".join(
        warnings.split()
    )
    assert any("stale export" in w for w in got["warnings"])
    assert len(got["byDay"]) == 27
    assert got["byDay"][-1]["cumulative"] == cents(net)


def test_the_as_of_line_is_in_every_output(lines: list[Line], tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(lines, tmp_path)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--export",
            str(path),
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    shown = "2026-11-28 00:00 UTC (the export's last hour); day 27 of 30"
    assert shown in " ".join(result.stdout.split())
    assert shown in html.unescape(page.read_text())


def test_as_of_overrides_the_data(lines: list[Line], tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(lines, tmp_path)
    got, _ = run("--export", str(path), "--as-of", "2026-11-15T12:00:00Z")
    cut = datetime(2026, 11, 15, 12, tzinfo=UTC)
    net = exports.expected(lines, NOVEMBER, cut)["net"]
    assert got["asOfFrom"] == "given" and got["asOf"] == "2026-11-15T12:00:00Z"
    assert Decimal(got["daysElapsed"]) == Decimal("14.5")
    assert got["net"] == cents(net)
    assert got["forecast"] == cents(net + net / Decimal("14.5") * Decimal("15.5"))


def test_hours_without_rows_are_named(lines: list[Line], tmp_path: Path) -> None:
    hole = [
        line
        for line in lines
        if not datetime(2026, 11, 10, 2, tzinfo=UTC)
        <= line.start
        < datetime(2026, 11, 10, 6, tzinfo=UTC)
    ]
    [path] = exports.bq_jsonl(hole, tmp_path)
    got, warnings = run("--export", str(path), "--month", "2026-11")
    assert "2026-11-10 02:00 UTC to 2026-11-10 06:00 UTC" in warnings
    assert got["gaps"] == [{"start": "2026-11-10T02:00:00Z", "end": "2026-11-10T06:00:00Z"}]
