"""The month being spent and the year's last: figures worked out by hand from flat exports
(one facility line item an hour, a round cost), so that the forecast is not the spend, the
burn rate times the days left is a number written here, and December ends on 1 January.

The current month is the wall clock's, as a user runs the report; December is 2025's (a
finished month whose data stops on the 21st, with rows of 30 November and 1 January
beside it that belong to other months).
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports
from tests.report.exports import CLUSTER, CORE, PROJECT, Line

pytestmark = pytest.mark.needs("duckdb", "sqlglot")

HOUR = timedelta(hours=1)
LABELS = {
    "goog-k8s-cluster-name": CLUSTER,
    "gridcloud-facility": "atlas-gcp",
    "gridcloud-pool": "cpu",
    "k8s-namespace": "grid",
}


def flat(start: datetime, hours: int, cost: str) -> list[Line]:
    """One line item of the facility an hour from ``start``, each ``cost`` dollars."""
    return [
        Line(PROJECT, start + i * HOUR, Decimal(cost), [], dict(LABELS), CORE, cores=Decimal(8))
        for i in range(hours)
    ]


def report(path: Path, *args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--export", str(path), "--json", *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), " ".join(result.stderr.split())


def test_the_current_month_forecasts_the_rest_at_the_burn_rate(tmp_path: Path) -> None:
    """$2.40 an hour since the month began, up to the last full hour: a burn of $57.60 a
    day (2.40 x 24), and a forecast of a whole month at that rate, more than spent so far."""
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    hours = max(int((now - start) // HOUR), 1)  # the hours that have ended (one at least)
    [path] = exports.bq_jsonl(flat(start, hours, "2.40"), tmp_path)
    got, warnings = report(path)

    days = calendar.monthrange(now.year, now.month)[1]
    assert got["month"] == f"{now:%Y-%m}" and got["monthChosen"] == "last with data"
    assert got["daysInMonth"] == days
    assert Decimal(got["daysElapsed"]) == Decimal(hours) / 24
    assert got["net"] == str(Decimal("2.40") * hours)
    assert got["burnPerDay"] == "57.60"
    # the spend so far plus 57.60 a day for the days left: 57.60 x the month's days
    assert got["forecast"] == str(Decimal("57.60") * days)  # e.g. 1785.60 in a 31-day month
    assert got["forecast"] != got["net"]
    assert got["verdict"] == "within"  # the default profile's budget: $25,000
    # up to date: no warning that the data is late
    assert "stale export" not in warnings and not any("stale" in w for w in got["warnings"])


#: December 2025 at $3.10 an hour from the 1st 00:00 to the 21st 00:00 (20 days, 480 hours),
#: beside $1,000 line items on 30 November 23:00 and 1 January 00:00 (other months).
DECEMBER = date(2025, 12, 1)


@pytest.fixture
def december(tmp_path: Path) -> Path:
    lines = [
        *flat(datetime(2025, 11, 30, 23, tzinfo=UTC), 1, "1000"),
        *flat(datetime(2025, 12, 1, tzinfo=UTC), 480, "3.10"),
        *flat(datetime(2026, 1, 1, tzinfo=UTC), 1, "1000"),
    ]
    [path] = exports.bq_jsonl(lines, tmp_path)
    return path


def test_december_ends_on_the_first_of_january(december: Path) -> None:
    got, warnings = report(december, "--month", "2025-12")
    assert got["month"] == "2025-12" and got["daysInMonth"] == 31
    # 480 x 3.10, neither neighbour's $1,000
    assert got["net"] == "1488.00"
    assert got["asOf"] == "2025-12-21T00:00:00Z" and Decimal(got["daysElapsed"]) == 20
    assert got["burnPerDay"] == "74.40"  # 1,488 / 20
    assert got["forecast"] == "2306.40"  # 1,488 + 74.40 x 11 days left
    assert len(got["byDay"]) == 20
    assert got["byDay"][-1]["day"] == "2025-12-20"
    assert "the data ends at 2025-12-21 00:00 UTC, 11 days before the month ends" in warnings


def test_december_up_to_a_given_moment(december: Path) -> None:
    """--as-of 24 December 12:00 (past the data): 23.5 days elapsed, 7.5 left."""
    got, _ = report(december, "--month", "2025-12", "--as-of", "2025-12-24T12:00:00Z")
    assert Decimal(got["daysElapsed"]) == Decimal("23.5")
    assert got["net"] == "1488.00"
    # 1,488 / 23.5 = 63.3191...; forecast 1,488 + 63.3191... x 7.5 = 1,962.8936...
    assert got["burnPerDay"] == "63.32"
    assert got["forecast"] == "1962.89"


def test_january_after_december_is_the_next_year(december: Path) -> None:
    """The month after December 2025 is January 2026: the $1,000 of its first hour."""
    got, _ = report(december, "--month", "2026-01")
    assert got["month"] == "2026-01" and got["daysInMonth"] == 31
    assert got["net"] == "1000.00"
    assert got["asOf"] == "2026-01-01T01:00:00Z"


def test_the_query_bounds_of_december() -> None:
    from gridcloud.report.query import Scope, parameters, partition_bounds

    scope = Scope(PROJECT, CLUSTER, "atlas-gcp", by_label=False, month=DECEMBER)
    bounds = parameters(scope)
    assert bounds["start"] == datetime(2025, 12, 1, tzinfo=UTC)
    assert bounds["end"] == datetime(2026, 1, 1, tzinfo=UTC)
    # the month's partitions and three late days after it
    assert partition_bounds(scope) == {"first": "2025-12-01", "last": "2026-01-04"}
