"""The cost estimate of a Plan: idle and peak, per pool and in total, and the budget runway.

Formulas (docs/cost.md has them with sources and dates):

- node-hour = machine price (spot or on-demand) + attached GPUs x GPU price
  + boot disk GB x disk price / 730
- always-on node-hour: the same, with Google's sustained-use discount on the machine and
  its N1 GPUs where Google applies one (a node running the whole month: N1 30 %, N2, N2D
  and C2 about 20 %; none for E2 and other families, nor for spot)
- idle monthly = 730 x (control node-hour + every pool's minNodes x always-on node-hour)
  + GKE management fee x 730, less the free tier (one zonal cluster per billing account)
- peak hourly = idle hourly + every pool's (maxNodes - minNodes) x node-hour
- cost per core-hour at peak = peak hourly / vCPUs at peak
- runway = (monthly budget - idle monthly) / (peak hourly - idle hourly): the hours at peak
  the budget buys once what runs 24/7 is paid

Every figure is exact here; money is rounded once, where it is shown (``money``). A figure
that needs a missing price is ``None`` ("unknown"), and so is every total it is part of.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from gridcloud.catalog import limits
from gridcloud.catalog.model import STALE_AFTER_DAYS
from gridcloud.cost.money import Amount, Rate
from gridcloud.plan.frozen import Frozen

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog, PriceTable
    from gridcloud.plan.model import Plan, PoolPlan

#: Google's sustained-use discount tiers: the share of the base rate charged for each
#: quarter of the month a VM runs (cloud.google.com/compute/docs/sustained-use-discounts,
#: as of 2026-11). E2, N2 on Tau/Arm, N4, C3, C4 and spot VMs get none.
SUSTAINED_USE_TIERS: dict[str, tuple[Decimal, ...]] = {
    "n1": (Decimal("1"), Decimal("0.8"), Decimal("0.6"), Decimal("0.4")),
    "n2": (Decimal("1"), Decimal("0.8678"), Decimal("0.733"), Decimal("0.598")),
    "n2d": (Decimal("1"), Decimal("0.8678"), Decimal("0.733"), Decimal("0.598")),
    "c2": (Decimal("1"), Decimal("0.8678"), Decimal("0.733"), Decimal("0.598")),
}


def full_month_multiplier(family: str) -> Decimal:
    """What a VM of ``family`` running the whole month pays of its list price."""
    tiers = SUSTAINED_USE_TIERS.get(family)
    return Decimal(1) if tiers is None else sum(tiers, Decimal(0)) / len(tiers)


class PoolCost(Frozen):
    name: str
    machine_type: str | None
    spot: bool
    min_nodes: int
    max_nodes: int
    max_cores: int | None
    node_hourly: Rate | None
    """Per node-hour at the pool's own capacity type (spot or on-demand), list price."""
    node_hourly_ondemand: Rate | None
    node_hourly_spot: Rate | None
    always_on_node_hourly: Rate | None
    """Per node-hour of a node that runs the whole month (the minimum), sustained-use
    discount applied where Google gives one."""
    sustained_use_discount: Decimal
    """The discount on an always-on node's machine (0.3 = 30 %); 0 where none applies."""
    idle_monthly: Amount | None
    peak_hourly: Amount | None
    peak_hourly_ondemand: Amount | None
    """What the peak would cost on on-demand VMs (the spot saving, for spot pools)."""
    basis: str
    lower_bound: bool = False
    """Its spot price (machine or GPU) is from an older preemptible table: at least this."""


class CostItem(Frozen):
    """Something the Plan creates or causes besides the nodes, priced at idle and at peak."""

    item: str
    quantity: str
    """What is counted, at idle (and at peak where it differs)."""
    idle_monthly: Amount | None
    peak_hourly: Rate | None
    source: str


class Estimate(Frozen):
    region: str | None
    currency: str
    catalog_captured: str
    hours_per_month: int
    pools: tuple[PoolCost, ...]
    gke_fee_monthly: Amount | None
    gke_free_tier_monthly: Amount | None
    idle_monthly: Amount | None
    """None ("unknown") when a price it needs is missing."""
    idle_hourly: Rate | None
    peak_hourly: Amount | None
    peak_cores: int
    per_core_hour_at_peak: Rate | None
    items: tuple[CostItem, ...] = ()
    """NAT, forwarding rules, the services' disks: in the totals."""
    assumptions: tuple[str, ...] = ()
    """What the estimate leaves out because it depends on use (egress, NAT data)."""
    complete: bool
    """False when a price was missing: the totals that need it are then unknown."""
    lower_bound: bool = False
    """A spot price is from an older preemptible table: the peak is at least this."""
    warnings: tuple[str, ...]


class _NodePrice(Frozen):
    machine: Decimal
    gpus: Decimal
    disk: Decimal

    def hourly(self, discount: Decimal = Decimal(1), gpu_discount: Decimal = Decimal(1)) -> Decimal:
        return self.machine * discount + self.gpus * gpu_discount + self.disk


def _lower_bound(pool: PoolPlan, prices: PriceTable, catalog: Catalog) -> bool:
    """A spot pool priced from a stale spot figure (its machine's or its GPUs')."""
    if not pool.spot:
        return False
    machine = prices.machine(catalog.machine_types[pool.machine_type or ""])
    gpu = pool.accelerator
    stale_gpu = gpu is not None and not gpu.bundled and prices.gpu_spot_lower_bound(gpu.type)
    return machine.spot_lower_bound or stale_gpu


def _node_price(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, capacity: Literal["spot", "ondemand"]
) -> tuple[_NodePrice | None, str, list[str]]:
    machine = catalog.machine_types[pool.machine_type or ""]
    quote = prices.machine(machine)
    notes = list(quote.notes)
    machine_price = quote.spot if capacity == "spot" else quote.ondemand
    if machine_price is None:
        return None, quote.basis, notes
    gpus = Decimal(0)
    if pool.accelerator is not None and not pool.accelerator.bundled:
        gpu = prices.gpu(pool.accelerator.type)
        gpu_price = None if gpu is None else (gpu[1] if capacity == "spot" else gpu[0])
        if gpu_price is None:
            notes.append(f"no {capacity} price for {pool.accelerator.type} in {prices.region}")
            return None, quote.basis, notes
        gpus = gpu_price * pool.accelerator.count
    disk = prices.disk(pool.disk_type)
    if disk is None:
        notes.append(f"no price for {pool.disk_type} disks in {prices.region}")
        return None, quote.basis, notes
    hourly_disk = disk * pool.disk_size_gb / catalog.hours_per_month
    return _NodePrice(machine=machine_price, gpus=gpus, disk=hourly_disk), quote.basis, notes


def _times(count: int, price: Decimal | None) -> Decimal | None:
    """``count`` nodes at ``price``: none cost nothing, whatever their price."""
    if count == 0:
        return Decimal(0)
    return None if price is None else price * count


def _family(pool: PoolPlan, catalog: Catalog) -> str:
    return catalog.machine_types[pool.machine_type or ""].family


class _Priced(Frozen):
    cost: PoolCost
    elastic_hourly: Decimal | None
    """(maxNodes - minNodes) x node-hour: what the pool adds at peak over its idle cost."""


def _pool_cost(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, warnings: list[str]
) -> _Priced:
    ondemand, basis, notes = _node_price(pool, prices, catalog, "ondemand")
    spot, _, spot_notes = (
        _node_price(pool, prices, catalog, "spot") if pool.spot else (None, "", [])
    )
    own = spot if pool.spot else ondemand
    for note in dict.fromkeys([*notes, *spot_notes]):
        if own is None or note.startswith("no price"):
            warnings.append(f"pool {pool.name}: {note}")
    # spot VMs get no sustained-use discount; an on-demand N1 node's GPUs get N1's
    multiplier = Decimal(1) if pool.spot else full_month_multiplier(_family(pool, catalog))
    gpu_multiplier = multiplier if _family(pool, catalog) == "n1" else Decimal(1)
    node = None if own is None else own.hourly()
    always_on = None if own is None else own.hourly(multiplier, gpu_multiplier)
    idle_hourly = _times(pool.min_nodes, always_on)
    elastic = _times(pool.max_nodes - pool.min_nodes, node)
    hours = catalog.hours_per_month
    peak = None if idle_hourly is None or elastic is None else idle_hourly + elastic
    cost = PoolCost(
        name=pool.name,
        machine_type=pool.machine_type,
        spot=pool.spot,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        max_cores=pool.max_cores,
        node_hourly=node,
        node_hourly_ondemand=None if ondemand is None else ondemand.hourly(),
        node_hourly_spot=None if spot is None else spot.hourly(),
        always_on_node_hourly=always_on,
        sustained_use_discount=1 - multiplier,
        idle_monthly=_times(hours, idle_hourly),
        peak_hourly=peak,
        peak_hourly_ondemand=_times(
            pool.max_nodes, None if ondemand is None else ondemand.hourly()
        ),
        basis=basis,
        lower_bound=_lower_bound(pool, prices, catalog),
    )
    return _Priced(cost=cost, elastic_hourly=elastic)


def _sum(values: list[Decimal | None]) -> Decimal | None:
    """The total, or None when any part is unknown."""
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


#: The forwarding rules of one HTTPS entry point: HTTPS, and HTTP for the redirect.
RULES_PER_ENTRY_POINT = 2


def _vms(count: int) -> str:
    return f"{count:,} VM" if count == 1 else f"{count:,} VMs"


def _nat_hourly(vms: int, network: dict[str, Decimal]) -> Decimal:
    if vms == 0:
        return Decimal(0)
    if vms > 32:
        return network["nat-gateway-many"]
    return network["nat-gateway-vm"] * vms


def _rules_hourly(rules: int, network: dict[str, Decimal]) -> Decimal:
    if rules == 0:
        return Decimal(0)
    return network["forwarding-rules-first-5"] + network["forwarding-rule-more"] * max(rules - 5, 0)


def _items(plan: Plan, prices: PriceTable, catalog: Catalog) -> list[CostItem]:
    """What the Plan creates or causes besides the nodes: Cloud NAT (every node goes out
    through it), the HTTPS entry points' forwarding rules, the services' disks."""
    hours = catalog.hours_per_month
    network = prices.network
    date = catalog.captured.isoformat()
    idle_vms = sum(p.min_nodes for p in plan.pools)
    peak_vms = sum(p.max_nodes for p in plan.pools)
    found: list[CostItem] = []
    if {"nat-gateway-vm", "nat-gateway-many", "external-ip"} <= network.keys():
        found.append(
            CostItem(
                item="Cloud NAT gateway",
                quantity=f"{_vms(idle_vms)}; {peak_vms:,} at peak",
                idle_monthly=_nat_hourly(idle_vms, network) * hours,
                peak_hourly=_nat_hourly(peak_vms, network),
                source=f"Cloud NAT pricing, {prices.region}, 2026-11",
            )
        )
        assert plan.network is not None
        ports = plan.network.nat_min_ports_per_vm
        idle_ips, peak_ips = (
            limits.nat_addresses(idle_vms, ports),
            limits.nat_addresses(peak_vms, ports),
        )
        found.append(
            CostItem(
                item="Cloud NAT addresses",
                quantity=f"{idle_ips}; {peak_ips} at peak ({ports} ports a VM)",
                idle_monthly=network["external-ip"] * idle_ips * hours,
                peak_hourly=network["external-ip"] * peak_ips,
                source=f"IP address pricing, {prices.region}, 2026-11",
            )
        )
    else:
        found.append(_unknown("Cloud NAT", f"no network prices for {prices.region}"))
    rules = RULES_PER_ENTRY_POINT * len(plan.services.ingresses)
    if rules:
        if {"forwarding-rules-first-5", "forwarding-rule-more"} <= network.keys():
            hourly = _rules_hourly(rules, network)
            found.append(
                CostItem(
                    item="forwarding rules",
                    quantity=f"{rules}: HTTPS and HTTP per hostname",
                    idle_monthly=hourly * hours,
                    peak_hourly=hourly,
                    source=f"load balancing pricing, {prices.region}, 2026-11",
                )
            )
        else:
            found.append(_unknown("forwarding rules", f"no network prices for {prices.region}"))
    for disk in plan.services.disks:
        price = prices.disk(disk.disk_type)
        gb = disk.size_gb * disk.count
        what = f"{disk.count:,} x {disk.size_gb} GB" if disk.count != 1 else f"{gb} GB"
        if price is None:
            found.append(_unknown(disk.what, f"no price for {disk.disk_type} in {prices.region}"))
            continue
        found.append(
            CostItem(
                item=disk.what,
                quantity=f"{what} {disk.disk_type}",
                idle_monthly=price * gb,
                peak_hourly=price * gb / hours,
                source=f"disk pricing, {prices.region}, {date}",
            )
        )
    return found


def _unknown(item: str, why: str) -> CostItem:
    return CostItem(item=item, quantity="", idle_monthly=None, peak_hourly=None, source=why)


ASSUMPTIONS = (
    "not included, as they depend on use: data through Cloud NAT ($0.045 per GB), network "
    "egress to the internet, Cloud Logging beyond its free 50 GiB a month",
)


def _gke_fee(catalog: Catalog) -> tuple[Decimal, Decimal] | None:
    """The management fee per cluster-hour and the free tier: the same in every region
    (Google's GKE pricing), so a region without a price table still knows them."""
    for table in catalog.price_tables.values():
        return table.gke_fee_hour, table.gke_free_tier_month
    return None


def estimate(plan: Plan, catalog: Catalog) -> Estimate:
    """Price ``plan`` with ``catalog``'s list prices for the plan's region."""
    hours = catalog.hours_per_month
    captured = catalog.captured.isoformat()
    if plan.target.provider != "gcp" or plan.cluster is None:
        zero = Decimal(0)
        return Estimate(
            region=None,
            currency=catalog.currency,
            catalog_captured=captured,
            hours_per_month=hours,
            pools=(),
            gke_fee_monthly=zero,
            gke_free_tier_monthly=zero,
            idle_monthly=zero,
            idle_hourly=zero,
            peak_hourly=zero,
            peak_cores=0,
            per_core_hour_at_peak=None,
            complete=True,
            warnings=(),
        )
    region = plan.target.region
    cores = sum(p.max_cores or 0 for p in plan.pools)
    warnings: list[str] = []
    age = catalog.age_days()
    if age > STALE_AFTER_DAYS:
        warnings.append(
            f"the prices are from {captured}, {age} days ago (from {catalog.location}): "
            "refresh them with `gridcloud catalog refresh --project P`"
        )
    fee = _gke_fee(catalog)
    fee_monthly = free_tier = None
    if fee is not None:
        fee_monthly = fee[0] * hours
        # the free tier covers one zonal cluster per billing account, not a regional one
        free_tier = min(fee_monthly, fee[1]) if plan.cluster.availability == "zonal" else Decimal(0)
    prices = catalog.prices(region)
    pools: list[PoolCost] = []
    items: list[CostItem] = []
    # monthly at idle, and hourly over idle at peak: each None where a price is missing
    idle_parts: list[Decimal | None] = []
    elastic_parts: list[Decimal | None] = []
    if prices is None:
        known = ", ".join(sorted(catalog.price_tables)) or "none"
        warnings.append(
            f"the catalog has no prices for {region} (it has: {known}): the nodes' cost is "
            "unknown; the GKE fee is the same in every region"
        )
        idle_parts.append(None)
        elastic_parts.append(None)
    else:
        for pool in plan.pools:
            priced = _pool_cost(pool, prices, catalog, warnings)
            pools.append(priced.cost)
            if priced.cost.lower_bound:
                warnings.append(
                    f"pool {pool.name}: its spot price is from an older preemptible table "
                    "(no current figure to derive it from): a lower bound"
                )
            idle_parts.append(priced.cost.idle_monthly)
            elastic_parts.append(priced.elastic_hourly)
        items = _items(plan, prices, catalog)
        for item in items:
            idle_parts.append(item.idle_monthly)
            elastic_parts.append(
                None
                if item.idle_monthly is None or item.peak_hourly is None
                else item.peak_hourly - item.idle_monthly / hours
            )
    net_fee_monthly = None if fee_monthly is None or free_tier is None else fee_monthly - free_tier
    idle_monthly = _sum([*idle_parts, net_fee_monthly])
    elastic_hourly = _sum(elastic_parts)
    idle_hourly = None if idle_monthly is None else idle_monthly / hours
    peak = None if idle_hourly is None or elastic_hourly is None else idle_hourly + elastic_hourly
    return Estimate(
        region=region,
        currency=catalog.currency,
        catalog_captured=captured,
        hours_per_month=hours,
        pools=tuple(pools),
        gke_fee_monthly=fee_monthly,
        gke_free_tier_monthly=free_tier,
        idle_monthly=idle_monthly,
        idle_hourly=idle_hourly,
        peak_hourly=peak,
        peak_cores=cores,
        per_core_hour_at_peak=peak / cores if peak is not None and cores else None,
        items=tuple(items),
        assumptions=ASSUMPTIONS,
        complete=idle_monthly is not None and peak is not None,
        lower_bound=any(p.lower_bound for p in pools),
        warnings=tuple(warnings),
    )
