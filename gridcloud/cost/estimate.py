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
- a pool with fallback shapes (a GKE ComputeClass over several node pools) adds at peak its
  dearest rule's (maxNodes - minNodes) x node-hour, not the sum of its pools'
- a facility of shards: each cluster priced on its own, the free tier on the first zonal one,
  the totals summed

Every figure is exact here; money is rounded once, where it is shown (``money``). A figure
that needs a missing price is ``None`` ("unknown"), and so is every total it is part of.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from gridcloud.catalog import limits
from gridcloud.catalog.model import STALE_AFTER_DAYS
from gridcloud.money import Amount, Rate
from gridcloud.plain import Frozen

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
    one_year_commitment_monthly: Amount | None = None
    """What its always-on nodes (an on-demand pool's minimum, the control node) would cost a
    month under a 1-year resource commitment (machine at the committed rate, disk at list);
    None where no commitment price is published or nothing is always on."""
    three_year_commitment_monthly: Amount | None = None
    missing: tuple[str, ...] = ()
    """The prices its own figures need and the catalog lacks ("spot price of
    nvidia-tesla-t4 in europe-west4")."""


class CostItem(Frozen):
    """Something the Plan creates or causes besides the nodes, priced at idle and at peak."""

    item: str
    quantity: str
    """What is counted, at idle (and at peak where it differs)."""
    idle_monthly: Amount | None
    peak_hourly: Rate | None
    source: str
    """Where its prices come from and their date; for an unknown item, what is missing."""
    missing: str | None = None
    """The price it needs and the catalog lacks; None when priced."""
    data: bool = False
    """A row of the data movement and storage the profile expects (``data.monthly``)."""


class ClassCost(Frozen):
    """A pool with fallback shapes (a GKE ComputeClass): its demand runs on any mix of its
    rules, so its peak is priced at the dearest rule (docs/cost.md)."""

    name: str
    pool: str
    rules: tuple[str, ...]
    """The node pools of its rules, in order."""
    priced_at: str | None
    """The rule's pool its peak is priced at (the dearest); None when a price is missing."""
    peak_cores: int
    """The cores of that pool at its maximum."""
    elastic_hourly: Rate | None
    """What it adds at peak over its idle cost."""


class ShardCost(Frozen):
    """One cluster of a facility of shards: the home cluster (``home``) or a compute-only
    shard, with its own figures (docs/cost.md)."""

    name: str
    cluster: str
    region: str | None
    availability: str
    max_nodes: int
    """Every pool at its maximum (GKE's limits count these)."""
    peak_cores: int
    idle_monthly: Amount | None
    """A compute-only shard's: its system node, its Cloud NAT at one VM, the management fee
    (the free tier goes to the facility's first zonal cluster only)."""
    peak_hourly: Amount | None
    per_core_hour_at_peak: Rate | None
    gke_fee_monthly: Amount | None
    gke_free_tier_monthly: Amount | None
    system_node: str | None
    """The machine type of its always-on node (the home's control node, a shard's system
    node for GKE's own pods)."""
    system_node_monthly: Amount | None
    estimate: Estimate | None = None
    """A compute-only shard's own estimate (pools, items); None for the home cluster, whose
    pools and items are the facility estimate's."""


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
    data_monthly: Amount | None = Decimal(0)
    """What the profile's expected egress and storage (``data.monthly``) cost a month, in
    ``idle_monthly``; None when a rate it needs is missing."""
    complete: bool
    """False when a price was missing: the totals that need it are then unknown."""
    lower_bound: bool = False
    """A spot price is from an older preemptible table: the peak is at least this."""
    missing: tuple[str, ...] = ()
    """Every price a figure needs and the catalog lacks, named; empty when complete."""
    warnings: tuple[str, ...]
    classes: tuple[ClassCost, ...] = ()
    """Pools with fallback shapes: their peak, priced at the dearest rule."""
    shards: tuple[ShardCost, ...] = ()
    """A facility of shards: the home cluster first, then each compute-only shard. The
    totals above (idle, peak, cores) are then the facility's; ``pools`` and ``items`` the
    home cluster's."""


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
    stale_gpu = (
        gpu is not None
        and not gpu.bundled
        and prices.gpu(gpu.type) is not None
        and prices.gpu_spot_lower_bound(gpu.type)
    )
    return machine.spot_lower_bound or stale_gpu


def _node_price(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, capacity: Literal["spot", "ondemand"]
) -> tuple[_NodePrice | None, str, list[str], list[str]]:
    """The node's price at ``capacity``, its basis, notes, and the prices it lacks."""
    machine = catalog.machine_types[pool.machine_type or ""]
    quote = prices.machine(machine)
    notes = list(quote.notes)
    what = "spot" if capacity == "spot" else "on-demand"
    missing: list[str] = []
    machine_price = quote.spot if capacity == "spot" else quote.ondemand
    if machine_price is None:
        missing.append(f"{what} price of {machine.name} in {prices.region}")
    gpus = Decimal(0)
    if pool.accelerator is not None and not pool.accelerator.bundled:
        gpu = prices.gpu(pool.accelerator.type)
        gpu_price = None if gpu is None else (gpu[1] if capacity == "spot" else gpu[0])
        if gpu_price is None:
            missing.append(f"{what} price of {pool.accelerator.type} in {prices.region}")
        else:
            gpus = gpu_price * pool.accelerator.count
    disk = prices.disk(pool.disk_type)
    if disk is None:
        missing.append(f"price of {pool.disk_type} disks in {prices.region}")
    local_ssd = prices.disk(LOCAL_SSD) if pool.local_ssd_count else Decimal(0)
    if local_ssd is None:
        missing.append(f"price of {LOCAL_SSD} (per GB-month) in {prices.region}")
    if missing or machine_price is None or disk is None or local_ssd is None:
        return None, quote.basis, notes, missing
    local_gb = pool.local_ssd_count * LOCAL_SSD_GB
    hourly_disk = (disk * pool.disk_size_gb + local_ssd * local_gb) / catalog.hours_per_month
    node = _NodePrice(machine=machine_price, gpus=gpus, disk=hourly_disk)
    return node, quote.basis, notes, missing


def _committed(
    pool: PoolPlan, prices: PriceTable, catalog: Catalog, disk_hourly: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """A month of the pool's always-on nodes under 1- and 3-year commitments."""
    if pool.spot or pool.min_nodes == 0 or disk_hourly is None:
        return None, None
    quote = prices.machine(catalog.machine_types[pool.machine_type or ""])
    gpu_terms: tuple[Decimal | None, Decimal | None] = (Decimal(0), Decimal(0))
    if pool.accelerator is not None and not pool.accelerator.bundled:
        gpu_terms = prices.commitments.get(pool.accelerator.type, (None, None))
    found: list[Decimal | None] = []
    for machine, gpu in zip((quote.commit_1y, quote.commit_3y), gpu_terms, strict=True):
        if machine is None or gpu is None:
            found.append(None)
            continue
        count = pool.accelerator.count if pool.accelerator and not pool.accelerator.bundled else 0
        hourly = machine + gpu * count + disk_hourly
        found.append(hourly * pool.min_nodes * catalog.hours_per_month)
    return found[0], found[1]


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
    ondemand, basis, notes, ondemand_missing = _node_price(pool, prices, catalog, "ondemand")
    spot, _, spot_notes, spot_missing = (
        _node_price(pool, prices, catalog, "spot") if pool.spot else (None, "", [], [])
    )
    own = spot if pool.spot else ondemand
    missing = spot_missing if pool.spot else ondemand_missing
    for note in dict.fromkeys([*notes, *spot_notes]):
        if own is None and not note.startswith("no "):
            warnings.append(f"pool {pool.name}: {note}")
    for price in missing:
        warnings.append(f"pool {pool.name}: no {price} in the catalog: its cost is unknown")
    # spot VMs get no sustained-use discount; an on-demand N1 node's GPUs get N1's
    family_multiplier = full_month_multiplier(_family(pool, catalog))
    gpu_family = _family(pool, catalog) == "n1"
    multiplier = Decimal(1) if pool.spot else family_multiplier
    gpu_multiplier = multiplier if gpu_family else Decimal(1)
    node = None if own is None else own.hourly()
    always_on = None if own is None else own.hourly(multiplier, gpu_multiplier)
    idle_hourly = _times(pool.min_nodes, always_on)
    elastic = _times(pool.max_nodes - pool.min_nodes, node)
    hours = catalog.hours_per_month
    peak = None if idle_hourly is None or elastic is None else idle_hourly + elastic
    # the same peak on on-demand VMs: the minimum always on (with its sustained-use
    # discount), the rest at list, as ``peak`` prices them
    peak_ondemand = None
    if ondemand is not None:
        always_on_ondemand = ondemand.hourly(
            family_multiplier, family_multiplier if gpu_family else Decimal(1)
        )
        peak_ondemand = always_on_ondemand * pool.min_nodes + ondemand.hourly() * (
            pool.max_nodes - pool.min_nodes
        )
    commit_1y, commit_3y = _committed(
        pool, prices, catalog, None if ondemand is None else ondemand.disk
    )
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
        peak_hourly_ondemand=peak_ondemand,
        basis=basis,
        lower_bound=_lower_bound(pool, prices, catalog),
        one_year_commitment_monthly=commit_1y,
        three_year_commitment_monthly=commit_3y,
        missing=tuple(missing),
    )
    return _Priced(cost=cost, elastic_hourly=elastic)


def _empty_table(region: str) -> PriceTable:
    """A price table with no price: every item priced from it is a named unknown."""
    from gridcloud.catalog import PriceTable

    zero = Decimal(0)
    return PriceTable(
        region=region,
        machines={},
        gpus={},
        family_vcpu={},
        family_memory={},
        disks_gb_month={},
        gke_fee_hour=zero,
        gke_free_tier_month=zero,
    )


def _unpriced_pool(pool: PoolPlan, region: str) -> PoolCost:
    """A pool in a region the catalog has no prices for: shown, every figure unknown."""
    return PoolCost(
        name=pool.name,
        machine_type=pool.machine_type,
        spot=pool.spot,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        max_cores=pool.max_cores,
        node_hourly=None,
        node_hourly_ondemand=None,
        node_hourly_spot=None,
        always_on_node_hourly=None,
        sustained_use_discount=Decimal(0),
        idle_monthly=None,
        peak_hourly=None,
        peak_hourly_ondemand=None,
        basis="unknown",
        missing=(f"every price in {region} (the catalog has no price table for it)",),
    )


def _sum(values: list[Decimal | None]) -> Decimal | None:
    """The total, or None when any part is unknown."""
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


#: The disk item of a node's local SSDs, per GB-month: not in the catalog (its source lists
#: none); a profile gives it (``prices``, kind ``disk``), else the pool's price is unknown.
LOCAL_SSD = "local-ssd"
#: One local SSD: 375 GB (plan/xcache.py).
LOCAL_SSD_GB = 375

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


def _source(prices: PriceTable, *keys: str) -> str:
    """Where the figures of ``keys`` (``kind:item``) come from, and when."""
    bases = dict.fromkeys(prices.bases.get(k, "") for k in keys)
    return f"{prices.region}: " + "; ".join(b for b in bases if b)


def _items(plan: Plan, prices: PriceTable, catalog: Catalog) -> list[CostItem]:
    """What the Plan creates or causes besides the nodes: Cloud NAT (every node goes out
    through it), the HTTPS entry points' forwarding rules, the services' disks."""
    from gridcloud.plan.fallback import peak_nodes

    hours = catalog.hours_per_month
    network = prices.network
    idle_vms = sum(p.min_nodes for p in plan.pools)
    peak_vms = peak_nodes(plan)
    found: list[CostItem] = []
    if {"nat-gateway-vm", "nat-gateway-many"} <= network.keys():
        found.append(
            CostItem(
                item="Cloud NAT gateway",
                quantity=f"{_vms(idle_vms)}; {peak_vms:,} at peak",
                idle_monthly=_nat_hourly(idle_vms, network) * hours,
                peak_hourly=_nat_hourly(peak_vms, network),
                source=_source(prices, "network:nat-gateway-vm", "network:nat-gateway-many"),
            )
        )
    else:
        found.append(_unknown("Cloud NAT gateway", f"Cloud NAT gateway price in {prices.region}"))
    assert plan.network is not None
    ports = plan.network.nat_min_ports_per_vm
    idle_ips, peak_ips = (
        limits.nat_addresses(idle_vms, ports),
        limits.nat_addresses(peak_vms, ports),
    )
    if "external-ip" in network:
        found.append(
            CostItem(
                item="Cloud NAT addresses",
                quantity=f"{idle_ips}; {peak_ips} at peak ({ports} ports a VM)",
                idle_monthly=network["external-ip"] * idle_ips * hours,
                peak_hourly=network["external-ip"] * peak_ips,
                source=_source(prices, "network:external-ip"),
            )
        )
    else:
        found.append(
            _unknown(
                "Cloud NAT addresses",
                f"price of an external IPv4 address in use in {prices.region}",
                f"{idle_ips}; {peak_ips} at peak",
            )
        )
    rules = RULES_PER_ENTRY_POINT * len(plan.services.ingresses)
    if rules:
        quantity = f"{rules}: HTTPS and HTTP per hostname"
        if {"forwarding-rules-first-5", "forwarding-rule-more"} <= network.keys():
            hourly = _rules_hourly(rules, network)
            found.append(
                CostItem(
                    item="forwarding rules",
                    quantity=quantity,
                    idle_monthly=hourly * hours,
                    peak_hourly=hourly,
                    source=_source(
                        prices, "network:forwarding-rules-first-5", "network:forwarding-rule-more"
                    ),
                )
            )
        else:
            found.append(
                _unknown(
                    "forwarding rules",
                    f"forwarding-rule price in {prices.region}",
                    quantity,
                )
            )
    for disk in plan.services.disks:
        price = prices.disk(disk.disk_type)
        gb = disk.size_gb * disk.count
        what = f"{disk.count:,} x {disk.size_gb} GB" if disk.count != 1 else f"{gb} GB"
        if price is None:
            found.append(
                _unknown(
                    disk.what,
                    f"price of {disk.disk_type} disks in {prices.region}",
                    f"{what} {disk.disk_type}",
                )
            )
            continue
        found.append(
            CostItem(
                item=disk.what,
                quantity=f"{what} {disk.disk_type}",
                idle_monthly=price * gb,
                peak_hourly=price * gb / hours,
                source=_source(prices, f"disk:{disk.disk_type}"),
            )
        )
    if plan.data is not None:
        from gridcloud.cost.data import data_items

        found.extend(data_items(plan.data.monthly, prices, hours))
    from gridcloud.cost.snapshots import snapshot_items  # backups: their own row

    found += snapshot_items(plan, prices, hours)
    return found


def _unknown(item: str, missing: str, quantity: str = "") -> CostItem:
    return CostItem(
        item=item,
        quantity=quantity,
        idle_monthly=None,
        peak_hourly=None,
        source=f"unknown: no {missing} in the catalog",
        missing=missing,
    )


def assumptions(prices: PriceTable | None) -> tuple[str, ...]:
    """What the estimate leaves out because it depends on use, with the region's prices."""
    network = {} if prices is None else prices.network

    def per_gb(item: str) -> str:
        return f"${network[item]} per GB" if item in network else "price unknown"

    egress = (
        f" (premium tier, {per_gb('egress-internet-0-1tib')} for the first TiB a month, "
        f"{per_gb('egress-internet-1-10tib')} to 10 TiB, "
        f"{per_gb('egress-internet-10tib-plus')} beyond)"
        if "egress-internet-0-1tib" in network
        else ""
    )
    return (
        f"not included, as they depend on use: data through Cloud NAT "
        f"({per_gb('nat-data')}), network egress to the internet{egress} beyond what the "
        "profile states in data.monthly, Cloud Storage operations and retrieval, Cloud "
        "Logging beyond its free 50 GiB a month",
    )


#: How a missing price is got: the refresh, or a catalog copy with the row added.
HOW_TO_PRICE = (
    "`gridcloud catalog refresh --project P --region {region}` prices machine types, GPUs "
    "and disks from Google's Cloud Billing Catalog; or give the price in the profile "
    "(`prices:` with kind, item, ondemand and/or spot, and its source; docs/cost.md); or add "
    "the row to a copy of the catalog (prices/{region}.csv) named by GRIDCLOUD_CATALOG_DIR"
)


def _gke_fee(catalog: Catalog, region: str) -> tuple[Decimal, Decimal] | None:
    """The management fee per cluster-hour and the free tier: the same in every region
    (Google's GKE pricing), so a region without a price table still knows them."""
    tables = catalog.price_tables
    table = tables.get(region) or next(iter(tables.values()), None)
    return None if table is None else (table.gke_fee_hour, table.gke_free_tier_month)


def _nothing_billed(catalog: Catalog) -> Estimate:
    """An existing cluster's estimate: gridcloud adds nothing to a cloud bill."""
    hours = catalog.hours_per_month
    captured = catalog.captured.isoformat()
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


def _class_costs(plan: Plan, elastic: dict[str, Decimal | None]) -> list[ClassCost]:
    """Each ComputeClass's peak: its pool's demand on its dearest rule (any mix of rules
    costs no more), from each rule pool's (maxNodes - minNodes) x node-hour."""
    from gridcloud.plan.fallback import class_members

    found = []
    for compute_class in plan.compute_classes:
        members = class_members(plan)[compute_class.name]
        parts = [elastic.get(m.name) for m in members]
        known = [(part, m) for part, m in zip(parts, members, strict=True) if part is not None]
        dearest = max(known, key=lambda pm: pm[0]) if len(known) == len(parts) else None
        found.append(
            ClassCost(
                name=compute_class.name,
                pool=compute_class.pool,
                rules=tuple(m.name for m in members),
                priced_at=None if dearest is None else dearest[1].name,
                peak_cores=max(m.max_cores or 0 for m in members)
                if dearest is None
                else dearest[1].max_cores or 0,
                elastic_hourly=None if dearest is None else dearest[0],
            )
        )
    return found


def _shard_row(name: str, plan: Plan, priced: Estimate, *, own: bool) -> ShardCost:
    assert plan.cluster is not None
    control = next((p for p in priced.pools if p.name == "control"), None)
    return ShardCost(
        name=name,
        cluster=plan.cluster.name,
        region=priced.region,
        availability=plan.cluster.availability,
        max_nodes=plan.cluster.max_nodes,
        peak_cores=priced.peak_cores,
        idle_monthly=priced.idle_monthly,
        peak_hourly=priced.peak_hourly,
        per_core_hour_at_peak=priced.per_core_hour_at_peak,
        gke_fee_monthly=priced.gke_fee_monthly,
        gke_free_tier_monthly=priced.gke_free_tier_monthly,
        system_node=plan.control.machine_type,
        system_node_monthly=None if control is None else control.idle_monthly,
        estimate=priced if own else None,
    )


def _facility(plan: Plan, catalog: Catalog) -> Estimate:
    """A facility of shards: each cluster priced on its own, the free tier given to the first
    zonal one (one per billing account), the totals summed."""
    assert plan.cluster is not None
    home = estimate(plan.model_copy(update={"shards": ()}), catalog)
    tier_taken = plan.cluster.availability == "zonal"
    rows = [_shard_row("home", plan, home, own=False)]
    parts = [home]
    for shard in plan.shards:
        assert shard.cluster is not None
        priced = estimate(shard, catalog, free_tier_left=not tier_taken)
        tier_taken = tier_taken or shard.cluster.availability == "zonal"
        rows.append(_shard_row(shard.shard or shard.name, shard, priced, own=True))
        parts.append(priced)
    idle = _sum([p.idle_monthly for p in parts])
    peak = _sum([p.peak_hourly for p in parts])
    cores = sum(p.peak_cores for p in parts)
    named = [(row.name, part) for row, part in zip(rows, parts, strict=True)]
    return home.model_copy(
        update={
            "idle_monthly": idle,
            "idle_hourly": None if idle is None else idle / catalog.hours_per_month,
            "peak_hourly": peak,
            "peak_cores": cores,
            "per_core_hour_at_peak": peak / cores if peak is not None and cores else None,
            "complete": all(p.complete for p in parts),
            "lower_bound": any(p.lower_bound for p in parts),
            "missing": tuple(
                dict.fromkeys(
                    [*home.missing, *(f"{m} (shard {n})" for n, p in named[1:] for m in p.missing)]
                )
            ),
            "warnings": tuple(
                dict.fromkeys(
                    [
                        *home.warnings,
                        *(
                            f"shard {n}: {w}"
                            for n, p in named[1:]
                            for w in p.warnings
                            if w not in home.warnings
                        ),
                    ]
                )
            ),
            "shards": tuple(rows),
        }
    )


def estimate(  # noqa: PLR0915
    plan: Plan, catalog: Catalog, *, free_tier_left: bool = True
) -> Estimate:
    """Price ``plan`` with ``catalog``'s list prices for the plan's region; ``free_tier_left``:
    the billing account's GKE free tier is still there for it (a facility of shards gives it
    to its first zonal cluster)."""
    hours = catalog.hours_per_month
    captured = catalog.captured.isoformat()
    if plan.target.provider != "gcp" or plan.cluster is None:
        return _nothing_billed(catalog)
    if plan.shards:
        return _facility(plan, catalog)
    region = plan.target.region
    cores = sum(p.max_cores or 0 for p in plan.pools if p.compute_class is None)
    warnings: list[str] = []
    age = catalog.age_days()
    if age > STALE_AFTER_DAYS:
        warnings.append(
            f"the prices are from {captured}, {age} days ago (from {catalog.location}): "
            "refresh them with `gridcloud catalog refresh --project P`"
        )
    fee = _gke_fee(catalog, region)
    fee_monthly = free_tier = None
    if fee is not None:
        fee_monthly = fee[0] * hours
        # the free tier covers one zonal cluster per billing account, not a regional one
        zonal = plan.cluster.availability == "zonal" and free_tier_left
        free_tier = min(fee_monthly, fee[1]) if zonal else Decimal(0)
    prices = catalog.prices(region)
    pools: list[PoolCost] = []
    items: list[CostItem] = []
    missing: list[str] = []
    # monthly at idle, and hourly over idle at peak: each None where a price is missing
    idle_parts: list[Decimal | None] = []
    elastic_parts: list[Decimal | None] = []
    # a ComputeClass's pools: priced together, at the dearest rule (below)
    class_elastic: dict[str, Decimal | None] = {}
    if prices is None:
        known = len(catalog.price_tables)
        warnings.append(
            f"the catalog has no prices for {region} ({known} regions have them; "
            "`gridcloud catalog --json` lists them): the nodes' cost is unknown; the GKE fee "
            "is the same in every region"
        )
        pools = [_unpriced_pool(pool, region) for pool in plan.pools]
        missing.append(f"every price in {region} (the catalog has no price table for it)")
        # what the Plan creates besides the nodes, shown with its quantity, unpriced
        items = _items(plan, _empty_table(region), catalog)
        idle_parts.append(None)
        elastic_parts.append(None)
    else:
        for pool in plan.pools:
            priced = _pool_cost(pool, prices, catalog, warnings)
            pools.append(priced.cost)
            missing.extend(f"{p} (pool {pool.name})" for p in priced.cost.missing)
            if priced.cost.lower_bound:
                warnings.append(
                    f"pool {pool.name}: its spot price is from an older preemptible table "
                    "(no current figure to derive it from): a lower bound"
                )
            idle_parts.append(priced.cost.idle_monthly)
            if pool.compute_class is None:
                elastic_parts.append(priced.elastic_hourly)
            else:
                class_elastic[pool.name] = priced.elastic_hourly
        items = _items(plan, prices, catalog)
        for item in items:
            if item.missing is not None:
                missing.append(f"{item.missing} ({item.item})")
                warnings.append(
                    f"{item.item}: no {item.missing} in the catalog: its cost is unknown"
                )
            idle_parts.append(item.idle_monthly)
            elastic_parts.append(
                None
                if item.idle_monthly is None or item.peak_hourly is None
                else item.peak_hourly - item.idle_monthly / hours
            )
    classes = _class_costs(plan, class_elastic)
    for priced_class in classes:
        elastic_parts.append(priced_class.elastic_hourly)
        cores += priced_class.peak_cores
    if fee is None:
        missing.append("GKE management fee")
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
        assumptions=assumptions(prices),
        data_monthly=_sum([i.idle_monthly for i in items if i.data]),
        complete=idle_monthly is not None and peak is not None,
        lower_bound=any(p.lower_bound for p in pools),
        missing=tuple(dict.fromkeys(missing)),
        warnings=tuple(warnings),
        classes=tuple(classes),
    )
