"""The backups' snapshot storage in the estimate: one row, its own.

Snapshot storage (GB-month) = each backed-up volume's size in full, plus ``keep - 1`` times
its changed share (Compute Engine snapshots after the first store only changed blocks; the
first stores the used blocks, compressed, so the provisioned size is an upper bound),
times the region's price of standard snapshot storage (``snapshot-regional`` per GB-month,
a disk row of the catalog or of the profile's ``prices``). The catalog built from
../shared has no snapshot price: without a profile's price the row is unknown, named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.cost.estimate import CostItem

if TYPE_CHECKING:
    from gridcloud.catalog import PriceTable
    from gridcloud.plan.model import Plan

ITEM = "volume snapshots (backups)"


def snapshot_items(plan: Plan, prices: PriceTable, hours: int) -> list[CostItem]:
    from gridcloud.plan.backups import PRICE_ITEM

    backups = plan.backups
    if backups is None:
        return []
    gb = backups.stored_gb
    size = sum(v.size_gb * v.count for v in backups.volumes)
    quantity = (
        f"{gb.normalize():f} GB from {size:,} GB of volumes: {backups.keep} kept, "
        f"{backups.changed_percent} % changing between two"
    )
    price = prices.disk(PRICE_ITEM)
    if price is None:
        missing = (
            f"price of standard snapshot storage in {prices.region} "
            f"({PRICE_ITEM}, per GB-month; give it in the profile's prices, kind disk)"
        )
        return [
            CostItem(
                item=ITEM,
                quantity=quantity,
                idle_monthly=None,
                peak_hourly=None,
                source=f"unknown: no {missing} in the catalog",
                missing=missing,
            )
        ]
    basis = prices.bases.get(f"disk:{PRICE_ITEM}", "")
    return [
        CostItem(
            item=ITEM,
            quantity=quantity,
            idle_monthly=price * gb,
            peak_hourly=price * gb / hours,
            source=f"{prices.region}: {basis}" if basis else prices.region,
        )
    ]
