"""The cost report's model (``assemble``) on a handful of rows, every figure worked out by hand
in the comments: sums, parts and their order, days, users, credits, idle capacity, the burn
rate and forecast, gaps, late data, currencies. The export readers are tested in
tests/report; these rows are what the query returns (one per hour, pool, namespace, user,
service)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.errors import InputError
from gridcloud.report.model import CostReport, Scope, assemble
from gridcloud.report.source import Fetched, Row

MARCH = date(2026, 3, 1)
SERVICES = {"grid": "grid site", "jupyter": "JupyterHub"}
#: The report is run on 3 March 2026 at 16:00, an hour after the data ends.
NOW = datetime(2026, 3, 3, 16, tzinfo=UTC)


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def row(hour: datetime, gross: str, credits: str = "0", **fields: Any) -> Row:
    values: dict[str, Any] = {
        "currency": "USD",
        "service": "Compute Engine",
        "pool": None,
        "namespace": None,
        "username": None,
        "core_hours": Decimal(0),
        "line_items": 1,
        **fields,
    }
    return Row(hour=hour, gross=Decimal(gross), credits=Decimal(credits), **values)


#: Six rows on 2 and 3 March 2026: gross 28, credits -6, net 22.
ROWS = [
    row(at(2, 10), "10", "-4", pool="cpu", namespace="grid", core_hours=Decimal(8),
        line_items=3, by_type={"PROMOTION": Decimal(-4)}),
    row(at(2, 11), "6", pool="ondemand", namespace="jupyter", username="alice",
        core_hours=Decimal(2), line_items=2),
    row(at(3, 10), "3", "-1", pool="cpu", namespace="kube:unallocated",
        by_type={"SUSTAINED_USAGE_DISCOUNT": Decimal(-1)}),
    row(at(3, 12), "1", service="Networking"),
    row(at(3, 13), "2", service="Kubernetes Engine", namespace="goog-k8s-unsupported-sku"),
    row(at(3, 14), "6", "-1", pool="ondemand", namespace="jupyter", username="bob",
        by_type={"OTHER": Decimal(-1)}),
]  # fmt: skip


def scope(budget: str | None = "25000", currency: str | None = "USD") -> Scope:
    return Scope(
        facility="atlas-gcp",
        project="atlas-analysis-facility",
        cluster="atlas-gcp",
        namespaces=("grid", "jupyter"),
        by_label=False,
        budget=None if budget is None else Decimal(budget),
        currency=currency,
        origin="profile profiles/default.yaml",
        services=SERVICES,
    )


def report(
    rows: list[Row] = ROWS,
    *,
    now: datetime = NOW,
    as_of: datetime | None = None,
    given: bool = True,
    month: date = MARCH,
    **change: Any,
) -> CostReport:
    fetched = Fetched(rows=list(rows), month=month, month_given=given, notes=["a note"])
    return assemble(scope(**change), fetched, source="export.json", now=now, as_of=as_of)


def parts(found: tuple[Any, ...]) -> list[tuple[str, str, str, str]]:
    return [(p.name, str(p.gross), str(p.credits), str(p.net)) for p in found]


def test_totals_and_what_the_report_says_it_covers() -> None:
    got = report()
    assert (got.gross, got.credits, got.net) == (28, -6, 22)
    assert got.line_items == 9  # 3 + 2 + 1 + 1 + 1 + 1
    assert got.month == "2026-03" and got.month_chosen == "given"
    assert report(given=False).month_chosen == "last with data"
    assert got.facility == "atlas-gcp" and got.project == "atlas-analysis-facility"
    assert got.cluster == "atlas-gcp" and got.namespaces == ("grid", "jupyter")
    assert got.scope_from == "profile profiles/default.yaml" and got.source == "export.json"
    assert got.currency == "USD"
    assert got.data_from == at(2, 10)
    assert got.as_of == at(3, 15) and got.as_of_from == "data"  # the last hour's end


def test_parts_by_pool_service_and_user_largest_first() -> None:
    got = report()
    assert parts(got.by_pool) == [
        ("ondemand", "12", "-1", "11"),
        ("cpu", "13", "-5", "8"),
        ("(not a node)", "3", "0", "3"),
    ]
    assert parts(got.by_service) == [
        ("JupyterHub", "12", "-1", "11"),
        ("grid site", "10", "-4", "6"),
        # ties by name: "K" sorts before "n"
        ("Kubernetes Engine (not split by namespace)", "2", "0", "2"),
        ("namespace kube:unallocated", "3", "-1", "2"),
        ("Networking", "1", "0", "1"),
    ]
    # the users' pods, then the rest, so that the parts add up to the net
    assert parts(got.by_user) == [
        ("alice", "6", "0", "6"),
        ("bob", "6", "-1", "5"),
        ("(unattributed: no hub user's pod)", "16", "-5", "11"),
    ]
    assert sum(p.net for p in got.by_user) == got.net


def test_a_row_outside_the_pods_without_a_service_is_named_so() -> None:
    got = report([row(at(2, 10), "1", service=None)])
    assert parts(got.by_service) == [("(outside the cluster's pods)", "1", "0", "1")]
    unsplit = report([row(at(2, 10), "1", service=None, namespace="goog-k8s-unsupported-sku")])
    assert unsplit.by_service[0].name == "unknown Google service (not split by namespace)"
    assert not report([row(at(2, 10), "1")]).by_user[0].name.startswith("alice")


def test_credits_by_type_largest_first_with_peoples_names() -> None:
    assert parts(report().credits_by_type) == [
        ("promotions and research credits", "0", "-4", "-4"),
        ("other credits", "0", "-1", "-1"),
        ("sustained use discounts", "0", "-1", "-1"),
    ]
    # a type without a name keeps its own; a zero sum is left out
    odd = [
        row(at(2, 10), "5", "-2", by_type={"NEW_KIND": Decimal(-2), "DISCOUNT": Decimal(0)}),
        row(at(2, 11), "5", "-1", by_type={"NEW_KIND": Decimal(-1)}),
    ]
    assert parts(report(odd).credits_by_type) == [("NEW_KIND", "0", "-3", "-3")]


def test_idle_capacity_and_the_cost_of_a_core_hour() -> None:
    got = report()
    assert got.idle == 2  # kube:unallocated: 3 - 1
    assert got.core_hours == 10 and got.per_core_hour == Decimal("2.2")  # 22 / 10
    assert report([row(at(2, 10), "1")]).per_core_hour is None  # no core-hours


def test_every_day_from_the_first_with_a_running_total() -> None:
    days = [(d.day.day, str(d.gross), str(d.credits), str(d.net), str(d.cumulative))
            for d in report().by_day]  # fmt: skip
    assert days == [
        (1, "0", "0", "0", "0"),  # no rows yet: shown, not left out
        (2, "16", "-4", "12", "12"),
        (3, "12", "-2", "10", "22"),
    ]


def test_burn_and_forecast_run_to_the_data_end() -> None:
    """1 March 00:00 to 3 March 15:00: 63 hours, 2.625 days; 22 / 2.625 a day; the forecast
    is that rate over the month's 31 days: 22 x 31 / 2.625 = 259.8095..."""
    got = report()
    assert got.days_elapsed == Decimal("2.625") and got.days_in_month == 31
    assert got.burn_per_day is not None and got.forecast is not None
    assert round(got.burn_per_day, 6) == Decimal("8.380952")
    assert round(got.forecast, 4) == Decimal("259.8095")
    assert got.budget == 25000 and got.verdict == "within"
    assert report(budget="259").verdict == "over"
    assert report(budget="260").verdict == "within"
    assert report(budget=None).verdict is None


def test_as_of_cuts_the_rows_and_the_days() -> None:
    """--as-of 3 March 00:00: the rows of the 2nd only (net 12), over 2 days."""
    got = report(as_of=at(3, 0))
    assert got.as_of_from == "given" and got.as_of == at(3, 0)
    assert got.net == 12 and got.days_elapsed == 2
    assert got.burn_per_day == 6 and got.forecast == 6 * 31
    assert [d.day.day for d in got.by_day] == [1, 2]
    # at or before the month's start: nothing elapsed, no rate, no forecast, no verdict
    early = report(as_of=at(1, 0))
    assert early.days_elapsed == 0
    assert (early.burn_per_day, early.forecast, early.verdict) == (None, None, None)
    # past the month's end: counted to its end (31 days), forecast = spend
    late = report(as_of=at(2, 0, month=4))
    assert late.days_elapsed == 31 and late.forecast == late.net == 22


def test_gaps_are_named_and_counted() -> None:
    got = report()
    assert [(g.start, g.end) for g in got.gaps] == [
        (at(2, 12), at(3, 10)),
        (at(3, 11), at(3, 12)),
    ]
    assert (
        "hours without any row: 2026-03-02 12:00 UTC to 2026-03-03 10:00 UTC, "
        "2026-03-03 11:00 UTC to 2026-03-03 12:00 UTC (files missing?)"
    ) in got.warnings
    # five holes: three shown, and how many more
    holes = [row(at(2, 2 * h), "1") for h in range(6)]
    shown = [w for w in report(holes).warnings if w.startswith("hours without")]
    assert shown == [
        "hours without any row: 2026-03-02 01:00 UTC to 2026-03-02 02:00 UTC, "
        "2026-03-02 03:00 UTC to 2026-03-02 04:00 UTC, 2026-03-02 05:00 UTC to "
        "2026-03-02 06:00 UTC and 2 more (files missing?)"
    ]
    assert report([row(at(1, 0), "1"), row(at(1, 1), "1")]).gaps == ()


def test_data_that_starts_late_is_named() -> None:
    assert report().warnings[0] == "a note"  # the reader's notes first
    assert "the data starts at 2026-03-02 10:00 UTC, not at the month's start" in (
        report().warnings
    )
    # within a day of the start: not worth a warning
    on_time = report([row(at(1, 23), "1")], now=at(2, 0))
    assert not any("starts" in w for w in on_time.warnings)


def test_late_data_in_the_current_month_is_compared_with_now() -> None:
    """Data to 3 March 15:00; now 5 March 00:00: 1 day 9 hours late."""
    got = report(now=at(5, 0))
    assert (
        "the data ends at 2026-03-03 15:00 UTC, 1 day 9 hours before now: a stale export, or "
        "files missing; the figures run to then, and the forecast from then"
    ) in got.warnings
    # a day late exactly: not yet stale; a day and an hour: stale
    assert not any("stale" in w for w in report(now=at(4, 15)).warnings)
    assert any("1 day 1 hour before now" in w for w in report(now=at(4, 16)).warnings)
    assert any("2 days before now" in w for w in report(now=at(5, 15)).warnings)
    assert any("1 day 2 hours before now" in w for w in report(now=at(4, 17)).warnings)


def test_late_data_of_a_past_month_is_compared_with_its_end() -> None:
    """1 April 00:00 - 3 March 15:00: 28 days 9 hours."""
    got = report(now=at(10, 0, month=4))
    assert any("28 days 9 hours before the month ends" in w for w in got.warnings)
    # --as-of says where the data ends: no warning about it
    assert not any("stale" in w for w in report(now=at(10, 0, month=4), as_of=at(3, 15)).warnings)


def test_no_rows_is_said_and_nothing_is_made_up() -> None:
    got = report([])
    assert got.warnings == ("a note", "the export has no rows of this facility in 2026-03")
    assert got.as_of is None and got.as_of_from == "no data" and got.data_from is None
    assert got.by_day == () and got.days_elapsed == 0
    assert (got.burn_per_day, got.forecast, got.verdict, got.per_core_hour) == (None,) * 4
    assert got.net == 0 and got.currency == "USD"


def test_the_currency_comes_from_the_export() -> None:
    eur = [row(at(2, 10), "1", currency="EUR")]
    got = report(eur, currency="EUR", budget="1000")
    assert got.currency == "EUR" and got.budget == 1000 and got.verdict == "within"
    # without a currency in the rows: the budget's, else USD
    bare = [row(at(2, 10), "1", currency=None)]
    assert report(bare, currency="CHF").currency == "CHF"
    assert report(bare, currency=None).currency == "USD"


def test_a_budget_in_another_currency_is_refused() -> None:
    """25,000 EUR is not 25,000 USD: no report compares them."""
    with pytest.raises(InputError) as refused:
        report(currency="EUR", budget="25000")  # the rows are in USD
    assert str(refused.value) == (
        "the budget (25,000 EUR) is in EUR, the export in USD: the report would compare "
        "amounts in different currencies"
    )
    assert refused.value.hint is not None and "budget.currency: USD" in refused.value.hint
    assert refused.value.exit_code == 2
    assert report(currency=None).verdict == "within"  # no currency said: taken as the export's
    # a currency without a budget compares nothing: the export's currency is shown
    assert report(currency="EUR", budget=None).currency == "USD"


def test_rows_in_two_currencies_are_refused() -> None:
    mixed = [row(at(2, 10), "1"), row(at(2, 11), "1", currency="EUR")]
    with pytest.raises(InputError, match="several currencies: EUR, USD"):
        report(mixed)


def test_december_runs_to_the_first_of_january() -> None:
    """December 2025: 20 days of $3.10 an hour to 21 December 00:00, 31 days in the month."""
    rows = [row(datetime(2025, 12, 1, tzinfo=UTC) + timedelta(hours=h), "3.10") for h in range(480)]
    got = report(rows, month=date(2025, 12, 1), now=datetime(2026, 2, 1, tzinfo=UTC))
    assert got.month == "2025-12" and got.days_in_month == 31
    assert got.net == Decimal("1488.00") and got.days_elapsed == 20
    assert got.forecast == Decimal("2306.40")  # 74.40 a day over 31 days
    assert any("11 days before the month ends" in w for w in got.warnings)


def test_edges_of_the_warnings() -> None:
    """A day late to start exactly is not late; three holes are all shown, four say "and 1
    more"."""
    starts = report([row(at(2, 0), "1")], now=at(2, 2))
    assert not any("starts" in w for w in starts.warnings)

    def holes(count: int) -> str:
        rows = [row(at(2, 2 * h), "1") for h in range(count + 1)]
        [shown] = [w for w in report(rows).warnings if w.startswith("hours without")]
        return shown

    assert "more" not in holes(3) and holes(3).count(" to ") == 3
    assert holes(4).endswith("2026-03-02 06:00 UTC and 1 more (files missing?)")


def test_days_without_rows_up_to_as_of_are_shown() -> None:
    """--as-of 4 March 12:00, the data ending on the 3rd: the 4th is a day of the report,
    with nothing spent; --as-of 1 March 12:00: the 1st only."""
    got = report(as_of=at(4, 12))
    assert [(d.day.day, str(d.net)) for d in got.by_day] == [
        (1, "0"),
        (2, "12"),
        (3, "10"),
        (4, "0"),
    ]
    assert got.by_day[-1].cumulative == 22
    early = report(as_of=at(1, 12))
    assert [(d.day.day, d.net) for d in early.by_day] == [(1, 0)]
    assert early.days_elapsed == Decimal("0.5")


def test_as_of_edges() -> None:
    """--as-of 3 March 10:00: the row of that hour is after it (net 12, the 2nd's); at 12:30
    the days count whole hours (2.5 days, not 2.52); a forecast equal to the budget is
    within it."""
    cut = report(as_of=at(3, 10))
    assert cut.net == 12
    assert report(as_of=at(3, 12) + timedelta(minutes=30)).days_elapsed == Decimal("2.5")
    # --as-of 3 March 00:00: 12 over 2 days, 6 a day, 186 over 31 days
    assert report(as_of=at(3, 0), budget="186").verdict == "within"
    assert report(as_of=at(3, 0), budget="185.99").verdict == "over"
