"""The cost estimate of a Plan: idle and peak, per pool and in total, and the budget runway.

Formulas (docs/cost.md has them with sources and dates):

- node-hour = machine price (spot or on-demand) + attached GPUs x GPU price
  + boot disk GB x disk price / 730
- idle monthly = 730 x (control node-hour + every pool's minNodes x node-hour)
  + GKE management fee x 730, less the free tier (one zonal cluster per billing account)
- peak hourly = control node-hour + every pool's maxNodes x node-hour + fee / hour
- cost per core-hour at peak = peak hourly / vCPUs at peak
- runway = (monthly budget - idle monthly) / (peak hourly - idle hourly): the hours at peak
  the budget buys once what runs 24/7 is paid
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from gridcloud.cost import money
from gridcloud.plan.model import Frozen

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog, PriceTable
    from gridcloud.plan.model import Plan, PoolPlan


class PoolCost(Frozen):
    name: str
    machine_type: str | None
    spot: bool
    min_nodes: int
    max_nodes: int
    max_cores: int | None
    node_hourly: Decimal | None
    """Per node-hour at the pool's own capacity type (spot or on-demand)."""
    node_hourly_ondemand: Decimal | None
    node_hourly_spot: Decimal | None
    idle_monthly: Decimal | None
    peak_hourly: Decimal | None
    peak_hourly_ondemand: Decimal | None
    """What the peak would cost on on-demand VMs (the spot saving, for spot pools)."""
    basis: str


class Estimate(Frozen):
    region: str | None
    currency: str
    catalog_captured: str
    hours_per_month: int
    pools: tuple[PoolCost, ...]
    gke_fee_monthly: Decimal
    gke_free_tier_monthly: Decimal
    idle_monthly: Decimal
    idle_hourly: Decimal
    peak_hourly: Decimal
    peak_cores: int
    per_core_hour_at_peak: Decimal | None
    complete: bool
    """False when a price was missing: totals then leave that part out."""
    warnings: tuple[str, ...]


def _node_hourly(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, capacity: Literal["spot", "ondemand"]
) -> tuple[Decimal | None, str, list[str]]:
    machine = catalog.machine_types[pool.machine_type or ""]
    quote = prices.machine(machine)
    notes = list(quote.notes)
    machine_price = quote.spot if capacity == "spot" else quote.ondemand
    if machine_price is None:
        return None, quote.basis, notes
    total = machine_price
    if pool.accelerator is not None and not pool.accelerator.bundled:
        gpu = prices.gpu(pool.accelerator.type)
        gpu_price = None if gpu is None else (gpu[1] if capacity == "spot" else gpu[0])
        if gpu_price is None:
            notes.append(f"no {capacity} price for {pool.accelerator.type} in {prices.region}")
            return None, quote.basis, notes
        total += gpu_price * pool.accelerator.count
    disk = prices.disk(pool.disk_type)
    if disk is None:
        notes.append(f"no price for {pool.disk_type} disks in {prices.region}")
        return None, quote.basis, notes
    total += disk * pool.disk_size_gb / catalog.hours_per_month
    return total, quote.basis, notes


def _times(count: int, price: Decimal | None) -> Decimal | None:
    return None if price is None else price * count


def _amount(value: Decimal | None) -> Decimal | None:
    return None if value is None else money.amount(value)


def _pool_cost(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, warnings: list[str]
) -> tuple[PoolCost, Decimal | None, Decimal | None]:
    """The pool's cost, rounded, and its unrounded idle-hourly and peak-hourly figures."""
    ondemand, basis, notes = _node_hourly(pool, prices, catalog, "ondemand")
    spot, _, spot_notes = (
        _node_hourly(pool, prices, catalog, "spot") if pool.spot else (None, "", [])
    )
    own = spot if pool.spot else ondemand
    for note in dict.fromkeys([*notes, *spot_notes]):
        if own is None or note.startswith("no price"):
            warnings.append(f"pool {pool.name}: {note}")
    idle_hourly = _times(pool.min_nodes, own)
    peak_hourly = _times(pool.max_nodes, own)
    hours = catalog.hours_per_month
    cost = PoolCost(
        name=pool.name,
        machine_type=pool.machine_type,
        spot=pool.spot,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        max_cores=pool.max_cores,
        node_hourly=None if own is None else money.rate(own),
        node_hourly_ondemand=None if ondemand is None else money.rate(ondemand),
        node_hourly_spot=None if spot is None else money.rate(spot),
        idle_monthly=_amount(_times(hours, idle_hourly)),
        peak_hourly=_amount(peak_hourly),
        peak_hourly_ondemand=_amount(_times(pool.max_nodes, ondemand)),
        basis=basis,
    )
    return cost, idle_hourly, peak_hourly


def estimate(plan: Plan, catalog: Catalog) -> Estimate:
    """Price ``plan`` with ``catalog``'s list prices for the plan's region."""
    hours = catalog.hours_per_month
    captured = catalog.captured.isoformat()
    if plan.target.provider != "gcp" or plan.cluster is None:
        return Estimate(
            region=None,
            currency=catalog.currency,
            catalog_captured=captured,
            hours_per_month=hours,
            pools=(),
            gke_fee_monthly=Decimal("0.00"),
            gke_free_tier_monthly=Decimal("0.00"),
            idle_monthly=Decimal("0.00"),
            idle_hourly=Decimal("0.00"),
            peak_hourly=Decimal("0.00"),
            peak_cores=0,
            per_core_hour_at_peak=None,
            complete=True,
            warnings=(),
        )
    region = plan.target.region
    prices = catalog.prices(region)
    if prices is None:
        known = ", ".join(sorted(catalog.price_tables)) or "none"
        return Estimate(
            region=region,
            currency=catalog.currency,
            catalog_captured=captured,
            hours_per_month=hours,
            pools=(),
            gke_fee_monthly=Decimal("0.00"),
            gke_free_tier_monthly=Decimal("0.00"),
            idle_monthly=Decimal("0.00"),
            idle_hourly=Decimal("0.00"),
            peak_hourly=Decimal("0.00"),
            peak_cores=sum(p.max_cores or 0 for p in plan.pools),
            per_core_hour_at_peak=None,
            complete=False,
            warnings=(
                f"the catalog has no prices for {region} (it has: {known}); nothing is priced",
            ),
        )

    warnings: list[str] = []
    pools = []
    idle_hourly_total = Decimal(0)
    peak_hourly_total = Decimal(0)
    complete = True
    for pool in plan.pools:
        cost, idle_hourly, peak_hourly = _pool_cost(pool, prices, catalog, warnings)
        pools.append(cost)
        if idle_hourly is None or peak_hourly is None:
            complete = False
            continue
        idle_hourly_total += idle_hourly
        peak_hourly_total += peak_hourly

    fee_monthly = prices.gke_fee_hour * hours
    free_tier = min(fee_monthly, prices.gke_free_tier_month)
    if plan.cluster.availability != "zonal":
        free_tier = Decimal(0)
    fee_hourly = (fee_monthly - free_tier) / hours
    idle_monthly = idle_hourly_total * hours + fee_monthly - free_tier
    peak = peak_hourly_total + fee_hourly
    cores = sum(p.max_cores or 0 for p in plan.pools)
    return Estimate(
        region=region,
        currency=catalog.currency,
        catalog_captured=captured,
        hours_per_month=hours,
        pools=tuple(pools),
        gke_fee_monthly=money.amount(fee_monthly),
        gke_free_tier_monthly=money.amount(free_tier),
        idle_monthly=money.amount(idle_monthly),
        idle_hourly=money.rate(idle_monthly / hours),
        peak_hourly=money.amount(peak),
        peak_cores=cores,
        per_core_hour_at_peak=money.rate(peak / cores) if cores else None,
        complete=complete,
        warnings=tuple(warnings),
    )
