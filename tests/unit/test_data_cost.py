"""The estimate's egress and storage rows, against figures worked by hand from
../shared/data/gcp/other-prices-by-region.csv (pricing.yml of 2026-08-20). The rows used:

- us-central1 (lines 382-385): internet-egress-0-1TiB 0.12, internet-egress-1-10TiB 0.11,
  internet-egress-10+TiB 0.08 per GiB; gcs-standard 0.02 per GiB-month
- australia-southeast1 (lines 130-133): 0.19, 0.18, 0.15 per GiB; gcs-standard 0.023

Google's bands are a month's GiB: the first 1 TiB (1,024 GiB), the next 9 TiB (9,216 GiB),
the rest. Users' downloads and what goes to other sites are both internet egress to
worldwide destinations, so they share the bands.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import with_prices
from gridcloud.cost.budget import verdict
from gridcloud.cost.data import data_items
from gridcloud.cost.estimate import Estimate, estimate
from gridcloud.plan import Plan
from gridcloud.plan.data import MonthlyData
from gridcloud.profile.models import PriceOverride

MakePlan = Callable[..., Plan]
D = Decimal


def monthly(**given: Any) -> MonthlyData:
    fields: dict[str, Any] = {
        "internet_worldwide_gib": 0,
        "internet_china_gib": 0,
        "internet_australia_gib": 0,
        "other_regions_gib": 0,
        "other_sites_gib": 0,
        "stored_gib": {},
    }
    return MonthlyData(**(fields | given))


def rows(catalog: Catalog, region: str, use: MonthlyData) -> dict[str, Decimal | None]:
    table = catalog.prices(region)
    assert table is not None
    return {i.item: i.idle_monthly for i in data_items(use, table, 730)}


USE = monthly(internet_worldwide_gib=3000, other_sites_gib=10000, stored_gib={"standard": 50000})


def test_us_central1_egress_in_googles_bands_and_standard_storage(catalog: Catalog) -> None:
    found = rows(catalog, "us-central1", USE)
    # 13,000 GiB: 1,024 x 0.12 = 122.88; 9,216 x 0.11 = 1,013.76; 2,760 x 0.08 = 220.80
    assert found == {
        "internet egress, the first 1 TiB": D("122.88"),
        "internet egress, 1 to 10 TiB": D("1013.76"),
        "internet egress, beyond 10 TiB": D("220.80"),
        # 50,000 GiB x 0.02
        "Cloud Storage, standard class": D("1000.00"),
    }


def test_australia_southeast1_has_its_own_rates(catalog: Catalog) -> None:
    found = rows(catalog, "australia-southeast1", USE)
    # 1,024 x 0.19 = 194.56; 9,216 x 0.18 = 1,658.88; 2,760 x 0.15 = 414.00; 50,000 x 0.023
    assert found == {
        "internet egress, the first 1 TiB": D("194.56"),
        "internet egress, 1 to 10 TiB": D("1658.88"),
        "internet egress, beyond 10 TiB": D("414.00"),
        "Cloud Storage, standard class": D("1150.000"),
    }


def test_a_small_month_stays_in_the_first_band(catalog: Catalog) -> None:
    # exactly 1 TiB: all at the first band's 0.12 (1,024 x 0.12 = 122.88); nothing stored
    found = rows(catalog, "us-central1", monthly(internet_worldwide_gib=1024))
    assert found == {"internet egress, the first 1 TiB": D("122.88")}
    # one more GiB starts the second band (0.11)
    found = rows(catalog, "us-central1", monthly(internet_worldwide_gib=1025))
    assert found["internet egress, 1 to 10 TiB"] == D("0.11")


def test_what_the_source_does_not_price_is_named(catalog: Catalog) -> None:
    table = catalog.prices("us-central1")
    assert table is not None
    use = monthly(other_regions_gib=200, internet_china_gib=10, stored_gib={"nearline": 1000})
    found = {i.item: i for i in data_items(use, table, 730)}
    assert {i.missing for i in found.values()} == {
        "egress-inter-region price (per GiB) in us-central1",
        "egress-internet-china price (per GiB) in us-central1",
        "gcs-nearline price (per GiB-month) in us-central1",
    }
    assert all(i.idle_monthly is None for i in found.values())


def with_data(data: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(profile: dict[str, Any]) -> None:
        profile["data"] = data

    return edit


MONTHLY = {
    "egress": {"internet": {"worldwideGib": 3000}, "otherSitesGib": 10000},
    "stored": {"standardGib": 50000},
}


def test_the_rows_are_in_the_monthly_total_and_the_verdict(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    without = make_plan()
    plan = make_plan(with_data({"monthly": MONTHLY}))
    before, after = estimate(without, catalog), estimate(plan, catalog)
    # 122.88 + 1,013.76 + 220.80 + 1,000.00 (the first test's rows)
    assert after.data_monthly == D("2357.44")
    assert before.idle_monthly is not None and after.idle_monthly is not None
    assert after.idle_monthly - before.idle_monthly == D("2357.44")
    # spread over the month: nothing added to what the pools add at peak
    assert before.peak_hourly is not None and after.peak_hourly is not None
    assert after.peak_hourly - before.peak_hourly == pytest.approx(D("2357.44") / 730)
    shown = verdict(plan, after)
    assert any("2,357.44" in r and "data.monthly" in r for r in shown.reasons), shown.reasons


def test_a_missing_rate_makes_the_verdict_unknown_and_a_given_price_fixes_it(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    plan = make_plan(with_data({"monthly": {"egress": {"otherRegionsGib": 200}}}))
    result = estimate(plan, catalog)
    assert not result.complete
    assert result.data_monthly is None
    assert "egress-inter-region price (per GiB) in us-central1 (egress to other regions)" in (
        result.missing
    )
    assert verdict(plan, result).status == "unknown"
    given = PriceOverride(
        kind="network",
        item="egress-inter-region",
        ondemand=D("0.02"),
        source="Google's network pricing page, within North America, 2026-12",
    )
    priced = estimate(plan, with_prices(catalog, "us-central1", [given]))
    # 200 GiB x 0.02
    assert priced.complete and priced.data_monthly == D("4.00")


def test_a_profile_without_data_has_no_data_rows(make_plan: MakePlan, catalog: Catalog) -> None:
    result: Estimate = estimate(make_plan(), catalog)
    assert not any(i.data for i in result.items)
    assert result.data_monthly == 0


def test_the_catalog_carries_cloud_storage_per_region(catalog: Catalog) -> None:
    for region, rate in (("us-central1", "0.02"), ("australia-southeast1", "0.023")):
        table = catalog.prices(region)
        assert table is not None
        assert table.storage == {"gcs-standard": D(rate)}
        assert table.bases["storage:gcs-standard"] == "pricing.yml 2026-08-20"
