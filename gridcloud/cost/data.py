"""The estimate's data rows: the egress and storage the profile expects a month
(``data.monthly``), priced with the region's published rates.

- internet egress (premium tier, worldwide destinations excluding China and Australia):
  users' downloads and what is staged out to other sites, added together and priced in
  Google's monthly bands: the first 1 TiB (1,024 GiB) at the 0-1 TiB rate, the next 9 TiB
  at the 1-10 TiB rate, the rest at the 10+ TiB rate (catalog ``network`` rows
  ``egress-internet-*``, from other-prices-by-region.csv);
- egress to China, to Australia and to other regions: the catalog has no rate for them (the
  source lists none): a named unknown unless the profile gives the price (``prices:``,
  kind ``network``, items ``egress-internet-china``, ``egress-internet-australia``,
  ``egress-inter-region``, per GiB);
- storage at rest by class: ``storage`` rows ``gcs-<class>`` per GiB-month (the source has
  the standard class only).

Each row's monthly figure is in the idle monthly total (it is spent whatever the pools do)
and spread evenly over the month's hours at peak: it adds nothing to the elastic cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.cost.estimate import CostItem

if TYPE_CHECKING:
    from decimal import Decimal

    from gridcloud.catalog import PriceTable
    from gridcloud.plan.data import MonthlyData

#: Google's internet egress bands a month, in GiB: (upper bound, catalog item); None: no bound.
INTERNET_BANDS: tuple[tuple[int | None, str, str], ...] = (
    (1024, "egress-internet-0-1tib", "the first 1 TiB"),
    (10 * 1024, "egress-internet-1-10tib", "1 to 10 TiB"),
    (None, "egress-internet-10tib-plus", "beyond 10 TiB"),
)
#: The flat per-GiB items the source does not price (a profile may give them).
OTHER_EGRESS: tuple[tuple[str, str, str], ...] = (
    ("internet_china_gib", "egress-internet-china", "internet egress to China"),
    ("internet_australia_gib", "egress-internet-australia", "internet egress to Australia"),
    ("other_regions_gib", "egress-inter-region", "egress to other regions"),
)
STORAGE_CLASSES = ("standard", "nearline", "coldline", "archive")


def bands(gib: int) -> list[tuple[int, str, str]]:
    """``gib`` split into the internet egress bands: (GiB in the band, item, name), for
    the bands it reaches."""
    found: list[tuple[int, str, str]] = []
    below = 0
    for upper, item, name in INTERNET_BANDS:
        top = gib if upper is None else min(gib, upper)
        if top > below:
            found.append((top - below, item, name))
        if upper is None or gib <= upper:
            break
        below = upper
    return found


def _basis(prices: PriceTable, key: str) -> str:
    return f"{prices.region}: {prices.bases.get(key, '')}".rstrip(": ")


def _priced(item: str, quantity: str, monthly: Decimal, hours: int, source: str) -> CostItem:
    return CostItem(
        item=item,
        quantity=quantity,
        idle_monthly=monthly,
        peak_hourly=monthly / hours,
        source=source,
        data=True,
    )


def _unknown(item: str, quantity: str, missing: str) -> CostItem:
    return CostItem(
        item=item,
        quantity=quantity,
        idle_monthly=None,
        peak_hourly=None,
        source=f"unknown: no {missing} in the catalog",
        missing=missing,
        data=True,
    )


def data_items(monthly: MonthlyData, prices: PriceTable, hours: int) -> list[CostItem]:
    """The rows of what ``monthly`` moves and keeps; a quantity of zero has no row."""
    found: list[CostItem] = []
    network, region = prices.network, prices.region
    users, sites = monthly.internet_worldwide_gib, monthly.other_sites_gib
    total = users + sites
    for gib, item, name in bands(total):
        quantity = f"{gib:,} GiB of {total:,} GiB a month (users {users:,}, other sites {sites:,})"
        what = f"internet egress, {name}"
        rate = network.get(item)
        if rate is None:
            found.append(_unknown(what, quantity, f"{item} price (per GiB) in {region}"))
        else:
            found.append(
                _priced(what, quantity, rate * gib, hours, _basis(prices, f"network:{item}"))
            )
    for field, item, what in OTHER_EGRESS:
        gib = getattr(monthly, field)
        if not gib:
            continue
        quantity = f"{gib:,} GiB a month"
        rate = network.get(item)
        if rate is None:
            found.append(_unknown(what, quantity, f"{item} price (per GiB) in {region}"))
        else:
            found.append(
                _priced(what, quantity, rate * gib, hours, _basis(prices, f"network:{item}"))
            )
    for storage_class in STORAGE_CLASSES:
        gib = monthly.stored_gib.get(storage_class, 0)
        if not gib:
            continue
        item = f"gcs-{storage_class}"
        what = f"Cloud Storage, {storage_class} class"
        quantity = f"{gib:,} GiB stored"
        rate = prices.storage.get(item)
        if rate is None:
            found.append(_unknown(what, quantity, f"{item} price (per GiB-month) in {region}"))
        else:
            found.append(
                _priced(what, quantity, rate * gib, hours, _basis(prices, f"storage:{item}"))
            )
    return found
