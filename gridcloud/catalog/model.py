"""The catalog: machine types, accelerators, zones and per-region price tables.

Read from the packaged snapshot (``data/``, built by :mod:`gridcloud.catalog.snapshot`) or from
a directory given in ``GRIDCLOUD_CATALOG_DIR`` (a refreshed copy). Prices are ``Decimal`` US
dollars. A price the catalog does not hold is ``None`` and comes with a warning, never zero.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from gridcloud.catalog.limits import SHARED_CORES
from gridcloud.errors import CatalogError

PACKAGED_DATA = Path(__file__).parent / "data"
#: The layout of a catalog directory this gridcloud reads (MANIFEST.json ``schema``).
SCHEMA = 1
#: Prices older than this are flagged (spot prices move weekly).
STALE_AFTER_DAYS = 90
CATALOG_DIR_ENV = "GRIDCLOUD_CATALOG_DIR"


@dataclass(frozen=True)
class MachineType:
    name: str
    family: str
    vcpus: int
    memory_gb: Decimal
    shared_cpu: bool
    arch: str  # "amd64" or "arm64"
    bundled_gpu: str | None
    bundled_gpu_count: int
    deprecated: str | None
    zones: frozenset[str]

    @property
    def billed_vcpus(self) -> Decimal:
        """The vCPUs Google bills it for: a shared-core type's share of a core (e2-medium's
        2 vCPUs share one core and are billed as 1), else its vCPUs."""
        share = SHARED_CORES.get(self.name) if self.shared_cpu else None
        return Decimal(self.vcpus) if share is None else Decimal(str(share))


@dataclass(frozen=True)
class Accelerator:
    name: str
    #: family the GPU attaches to ("n1"); ``None`` for GPUs that only come built into a type
    attaches_to: str | None
    counts: tuple[int, ...]
    zones: frozenset[str]


@dataclass(frozen=True)
class MachinePrice:
    """Hourly price of one machine type; a missing figure is ``None``, explained in ``notes``."""

    ondemand: Decimal | None
    spot: Decimal | None
    basis: str
    notes: tuple[str, ...] = ()
    spot_lower_bound: bool = False
    """The spot figure comes from an older preemptible table and nothing current replaces
    it: Spot costs at least that."""
    commit_1y: Decimal | None = None
    """Hourly price under a 1-year committed-use discount (resource-based), where published."""
    commit_3y: Decimal | None = None


#: A price table row's ``basis`` for a spot figure from an old preemptible price list.
STALE_SPOT = "older preemptible table"


def is_current_spot(basis: str) -> bool:
    """A Spot figure from the billing catalog ("spot <date> ..."), not a stale one."""
    return basis.startswith("spot ")


@dataclass(frozen=True)
class FamilySpot:
    """A family's current Spot pricing, from its current rows: per-vCPU and per-GB rates
    where two rows of different shape give them, else the Spot/on-demand ratio of one."""

    source: str
    vcpu: Decimal | None = None
    memory: Decimal | None = None
    ratio: Decimal | None = None

    def price(self, machine: MachineType, ondemand: Decimal) -> Decimal:
        if self.vcpu is not None and self.memory is not None:
            return self.vcpu * machine.billed_vcpus + self.memory * machine.memory_gb
        assert self.ratio is not None
        return ondemand * self.ratio


def family_spot(
    machines: dict[str, tuple[Decimal | None, Decimal | None, str]],
    types: dict[str, MachineType],
) -> dict[str, FamilySpot]:
    """Each family's current Spot pricing (Spot is priced per vCPU and per GB within a
    family), from the rows whose Spot figure is current; shared-core types and types with
    built-in GPUs give only a ratio for their own kind."""
    rows: dict[str, list[tuple[MachineType, Decimal, Decimal]]] = {}
    for name, (ondemand, spot, basis) in sorted(machines.items()):
        machine = types.get(name)
        if (
            machine is None
            or ondemand is None
            or spot is None
            or not is_current_spot(basis)
            or machine.shared_cpu
        ):
            continue
        rows.setdefault(machine.family, []).append((machine, ondemand, spot))
    found: dict[str, FamilySpot] = {}
    for family, current in rows.items():
        plain = [r for r in current if r[0].bundled_gpu is None]
        solved = _solve(plain)
        if solved is not None:
            (a, _, _), (b, _, _) = solved[2]
            found[family] = FamilySpot(
                source=f"{a.name} and {b.name}", vcpu=solved[0], memory=solved[1]
            )
            continue
        machine, ondemand, spot = current[0]
        found[family] = FamilySpot(source=machine.name, ratio=spot / ondemand)
    return found


def bundled_ondemand_fixes(
    machines: dict[str, tuple[Decimal | None, Decimal | None, str]],
    types: dict[str, MachineType],
    family_vcpu: dict[str, Decimal],
    family_memory: dict[str, Decimal],
    tolerance: Decimal = Decimal("0.02"),
) -> dict[str, tuple[Decimal, str]]:
    """Types with built-in GPUs (G2, A2) whose listed on-demand price disagrees, by more
    than ``tolerance``, with their family's per-vCPU and per-GB rates plus the GPU's price
    as a current row of the family implies it: the consistent figure."""
    fixes: dict[str, tuple[Decimal, str]] = {}
    bundled = {
        n: (types[n], ondemand, basis)
        for n, (ondemand, _, basis) in sorted(machines.items())
        if n in types and types[n].bundled_gpu and ondemand is not None
    }
    for name, (machine, ondemand, _) in bundled.items():
        vcpu, memory = family_vcpu.get(machine.family), family_memory.get(machine.family)
        if vcpu is None or memory is None or machine.bundled_gpu is None:
            continue
        reference = next(
            (
                (ref, ref_price)
                for ref, ref_price, ref_basis in bundled.values()
                if ref.family == machine.family
                and ref.bundled_gpu == machine.bundled_gpu
                and ref.name != name
                and is_current_spot(ref_basis)
            ),
            None,
        )
        if reference is None:
            continue
        ref, ref_price = reference
        per_gpu = (ref_price - vcpu * ref.vcpus - memory * ref.memory_gb) / ref.bundled_gpu_count
        expected = (
            vcpu * machine.vcpus
            + memory * machine.memory_gb
            + per_gpu * (machine.bundled_gpu_count)
        )
        if abs(ondemand - expected) > tolerance * expected:
            fixes[name] = (
                expected,
                f"on-demand from {machine.family}'s per-vCPU and per-GB rates and "
                f"{machine.bundled_gpu} at {per_gpu.quantize(Decimal('0.000001'))} (as "
                f"{ref.name} prices it); the listed {ondemand} disagrees",
            )
    return fixes


def _solve(
    rows: list[tuple[MachineType, Decimal, Decimal]],
) -> tuple[Decimal, Decimal, tuple[tuple[MachineType, Decimal, Decimal], ...]] | None:
    """Per-vCPU and per-GB rates from two rows of different vCPU:GB shape (positive)."""
    for i, first in enumerate(rows):
        for second in rows[i + 1 :]:
            (m1, _, s1), (m2, _, s2) = first, second
            det = m1.vcpus * m2.memory_gb - m2.vcpus * m1.memory_gb
            if det == 0:
                continue
            vcpu = (s1 * m2.memory_gb - s2 * m1.memory_gb) / det
            memory = (m1.vcpus * s2 - m2.vcpus * s1) / det
            if vcpu > 0 and memory > 0:
                return vcpu, memory, (first, second)
    return None


@dataclass(frozen=True)
class PriceTable:
    region: str
    machines: dict[str, tuple[Decimal | None, Decimal | None, str]]
    gpus: dict[str, tuple[Decimal, Decimal | None]]
    family_vcpu: dict[str, Decimal]
    family_memory: dict[str, Decimal]
    disks_gb_month: dict[str, Decimal]
    gke_fee_hour: Decimal
    gke_free_tier_month: Decimal
    network: dict[str, Decimal] = field(default_factory=dict)
    """Cloud NAT, IP address, egress and forwarding-rule prices (those the table has)."""
    storage: dict[str, Decimal] = field(default_factory=dict)
    """Cloud Storage per GiB-month at rest, by class (``gcs-standard``; those it has)."""
    spot_by_family: dict[str, FamilySpot] = field(default_factory=dict)
    """Current Spot pricing per family, for rows whose Spot figure is stale."""
    gpu_spot_current: frozenset[str] = frozenset()
    """GPUs whose Spot figure is current; the others' are lower bounds."""
    ondemand_fixes: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    """Listed on-demand prices that disagree with their family's rates: the consistent
    figure and why (``bundled_ondemand_fixes``)."""
    family_spot_vcpu: dict[str, Decimal] = field(default_factory=dict)
    """Published Spot rates per vCPU-hour and per GB-hour, by family (the regional source)."""
    family_spot_memory: dict[str, Decimal] = field(default_factory=dict)
    family_unit: dict[str, tuple[Decimal, Decimal | None, Decimal | None, Decimal | None]] = field(
        default_factory=dict
    )
    """Families whose every type has 4 GB per vCPU (T2A, T2D, G2): on-demand, spot, 1-year
    and 3-year price per such vCPU-hour, built-in GPUs apart."""
    commitments: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    """Listed machine types' and GPUs' hourly prices under 1- and 3-year commitments."""
    bases: dict[str, str] = field(default_factory=dict)
    """Where and when each priced item comes from (``kind:item`` -> the row's basis)."""

    def _family_spot(self, machine: MachineType) -> Decimal | None:
        vcpu = self.family_spot_vcpu.get(machine.family)
        memory = self.family_spot_memory.get(machine.family)
        if vcpu is None or memory is None:
            return None
        return vcpu * machine.billed_vcpus + memory * machine.memory_gb

    def machine(self, machine: MachineType) -> MachinePrice:
        """The list price (a stale Spot figure replaced from the family's current Spot
        pricing, or marked a lower bound), else a figure from the family's per-vCPU and
        per-GB rates (or per vCPU with 4 GB, built-in GPUs added)."""
        listed = self.machines.get(machine.name)
        if listed is not None:
            return self._listed(machine, listed)
        unit = self.family_unit.get(machine.family)
        if unit is not None and machine.memory_gb == 4 * machine.vcpus:
            return self._per_unit(machine, unit)
        vcpu = self.family_vcpu.get(machine.family)
        memory = self.family_memory.get(machine.family)
        if vcpu is None or memory is None:
            return MachinePrice(
                None,
                None,
                "unknown",
                (f"no price for {machine.name} in {self.region} (family {machine.family})",),
            )
        if machine.bundled_gpu:
            return MachinePrice(
                None,
                None,
                "unknown",
                (
                    f"no price for {machine.name} in {self.region}: the family's rates leave "
                    f"out its built-in {machine.bundled_gpu}",
                ),
            )
        derived = vcpu * machine.billed_vcpus + memory * machine.memory_gb
        spot = self._family_spot(machine)
        basis = f"derived from {machine.family} per-vCPU and per-GB rates"
        billed = machine.billed_vcpus
        if billed != machine.vcpus:
            basis += f" (shared core: {machine.vcpus} vCPUs billed as {billed.normalize()})"
        rates = self.bases.get(f"family-vcpu:{machine.family}")
        if rates:
            basis += f" ({rates})"
        if spot is None:
            return MachinePrice(
                derived,
                None,
                basis,
                (f"no spot price for {machine.name} in {self.region}; on-demand derived",),
            )
        return MachinePrice(derived, spot, basis)

    def _per_unit(
        self,
        machine: MachineType,
        unit: tuple[Decimal, Decimal | None, Decimal | None, Decimal | None],
    ) -> MachinePrice:
        count = machine.bundled_gpu_count if machine.bundled_gpu else 0
        gpu = self.gpus.get(machine.bundled_gpu or "") if count else (Decimal(0), Decimal(0))
        gpu_cud = self.commitments.get(machine.bundled_gpu or "", (None, None))
        if gpu is None:
            return MachinePrice(
                None,
                None,
                "unknown",
                (
                    f"no price for {machine.bundled_gpu} (built into {machine.name}) "
                    f"in {self.region}",
                ),
            )

        def price(per_vcpu: Decimal | None, per_gpu: Decimal | None) -> Decimal | None:
            if per_vcpu is None or (count and per_gpu is None):
                return None
            return per_vcpu * machine.vcpus + (per_gpu or Decimal(0)) * count

        source = self.bases.get(f"family-unit:{machine.family}", "")
        basis = f"{machine.family} per vCPU with 4 GB ({source})"
        if count:
            basis += f" + {count}x {machine.bundled_gpu}"
        spot = price(unit[1], gpu[1])
        notes = () if spot is not None else (f"no spot price for {machine.name} in {self.region}",)
        return MachinePrice(
            price(unit[0], gpu[0]),
            spot,
            basis,
            notes,
            commit_1y=price(unit[2], gpu_cud[0] if count else Decimal(0)),
            commit_3y=price(unit[3], gpu_cud[1] if count else Decimal(0)),
        )

    def _listed(
        self, machine: MachineType, listed: tuple[Decimal | None, Decimal | None, str]
    ) -> MachinePrice:
        ondemand, spot, basis = listed
        cud1, cud3 = self.commitments.get(machine.name, (None, None))
        fix = self.ondemand_fixes.get(machine.name)
        prefix = "" if fix is None else f"{fix[1]}; "
        if fix is not None:
            ondemand, basis = fix[0], prefix + basis
        notes: tuple[str, ...] = ()
        if ondemand is None:
            notes = (f"no on-demand price for {machine.name} in {self.region}",)
        if spot is None:
            return MachinePrice(
                ondemand,
                None,
                basis,
                (*notes, f"no spot price for {machine.name} in {self.region}"),
                commit_1y=cud1,
                commit_3y=cud3,
            )
        if is_current_spot(basis):
            return MachinePrice(ondemand, spot, basis, notes, commit_1y=cud1, commit_3y=cud3)
        published = self._family_spot(machine)
        if published is not None and not machine.bundled_gpu:
            return MachinePrice(
                ondemand,
                published,
                f"{prefix}spot from {machine.family}'s published spot rates "
                f"({self.bases.get(f'family-vcpu:{machine.family}', '')}); the listed {spot} "
                f"was from an {STALE_SPOT}",
                notes,
                commit_1y=cud1,
                commit_3y=cud3,
            )
        current = self.spot_by_family.get(machine.family)
        if current is None or ondemand is None:
            return MachinePrice(
                ondemand,
                spot,
                basis,
                (
                    *notes,
                    f"the spot price of {machine.name} ({spot}) is from an {STALE_SPOT} "
                    f"and nothing current replaces it: a lower bound",
                ),
                spot_lower_bound=True,
                commit_1y=cud1,
                commit_3y=cud3,
            )
        derived = current.price(machine, ondemand)
        how = "spot rates" if current.ratio is None else "spot/on-demand ratio"
        return MachinePrice(
            ondemand,
            derived,
            f"{prefix}spot from {machine.family}'s current {how} ({current.source}); "
            f"the listed {spot} was from an {STALE_SPOT}",
            notes,
            commit_1y=cud1,
            commit_3y=cud3,
        )

    def gpu(self, name: str) -> tuple[Decimal, Decimal | None] | None:
        return self.gpus.get(name)

    def gpu_spot_lower_bound(self, name: str) -> bool:
        return name not in self.gpu_spot_current

    def disk(self, disk_type: str) -> Decimal | None:
        return self.disks_gb_month.get(disk_type)


@dataclass(frozen=True)
class Catalog:
    captured: dt.date
    currency: str
    hours_per_month: int
    sources: tuple[dict[str, object], ...]
    machine_types: dict[str, MachineType]
    accelerators: dict[str, Accelerator]
    zone_region: dict[str, str]
    price_tables: Mapping[str, PriceTable] = field(default_factory=dict)
    location: Path = PACKAGED_DATA

    def machine(self, name: str) -> MachineType | None:
        return self.machine_types.get(name)

    def accelerator(self, name: str) -> Accelerator | None:
        return self.accelerators.get(name)

    def region_of(self, zone: str) -> str | None:
        return self.zone_region.get(zone)

    def zones_in(self, region: str) -> list[str]:
        return sorted(z for z, r in self.zone_region.items() if r == region)

    @property
    def regions(self) -> list[str]:
        return sorted(set(self.zone_region.values()))

    def prices(self, region: str) -> PriceTable | None:
        return self.price_tables.get(region)

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - self.captured).days


def _rows(path: Path) -> list[dict[str, str]]:
    """A catalog file's rows, each by its columns' names, as ``csv.DictReader`` gives them
    (a short row's missing columns None: a catalog written before a column has none).
    Parsed once per content of the file (:mod:`gridcloud.memo`, by the open file's path,
    size and time): reading the parsed rows back is several times faster than parsing."""
    from gridcloud import memo

    try:
        with path.open(newline="", encoding="utf-8") as f:
            stat = os.fstat(f.fileno())
            parts = (str(path.resolve()), f"{stat.st_size}\0{stat.st_mtime_ns}")
            table = memo.recall("catalog-rows", parts)
            if not _is_table(table):
                read = csv.reader(f)
                header = tuple(next(read, ()))
                table = (header, [tuple(row) for row in read if row])
                memo.keep("catalog-rows", parts, table)
    except OSError as exc:
        raise CatalogError(
            f"cannot read catalog file {path}: {exc.strerror}",
            hint=f"reinstall gridcloud, or point {CATALOG_DIR_ENV} at a complete catalog",
        ) from exc
    header, rows = table
    width = len(header)
    return [
        dict(zip(header, row, strict=True)) if len(row) == width else _odd_row(header, row)
        for row in rows
    ]


def _odd_row(header: tuple[str, ...], row: tuple[str, ...]) -> dict[Any, Any]:
    """A row of another length than the header, as ``csv.DictReader`` reads it: missing
    columns None, extra fields a list under the key None."""
    record: dict[Any, Any] = dict(zip(header, row, strict=False))
    if len(row) < len(header):
        record.update(dict.fromkeys(header[len(row) :]))
    else:
        record[None] = list(row[len(header) :])
    return record


def _is_table(kept: object) -> bool:
    """Whether a kept entry is a header and rows of text (a damaged one is read again)."""
    return (
        isinstance(kept, tuple)
        and len(kept) == 2
        and isinstance(kept[0], tuple)
        and isinstance(kept[1], list)
        and all(isinstance(row, tuple) for row in kept[1])
    )


def _money(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _price_table(region: str, path: Path, types: dict[str, MachineType]) -> PriceTable:
    machines: dict[str, tuple[Decimal | None, Decimal | None, str]] = {}
    gpus: dict[str, tuple[Decimal, Decimal | None]] = {}
    gpu_current: set[str] = set()
    family_vcpu: dict[str, Decimal] = {}
    family_memory: dict[str, Decimal] = {}
    spot_vcpu: dict[str, Decimal] = {}
    spot_memory: dict[str, Decimal] = {}
    units: dict[str, tuple[Decimal, Decimal | None, Decimal | None, Decimal | None]] = {}
    commitments: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    bases: dict[str, str] = {}
    # the kinds with one figure an item: disk, gke, network, storage
    flat: dict[str, dict[str, Decimal]] = {k: {} for k in ("disk", "gke", "network", "storage")}
    disks, singles, network, storage = flat.values()
    for row in _rows(path):
        kind, item = row["kind"], row["item"]
        ondemand, spot = _money(row["ondemand_usd"]), _money(row["spot_usd"])
        cud = (_money(row.get("cud1y_usd") or ""), _money(row.get("cud3y_usd") or ""))
        bases[f"{kind}:{item}"] = row["basis"]
        if kind == "machine":
            machines[item] = (ondemand, spot, row["basis"])
            if cud != (None, None):
                commitments[item] = cud
            continue
        if ondemand is None:
            continue
        if kind == "gpu":
            gpus[item] = (ondemand, spot)
            if cud != (None, None):
                commitments[item] = cud
            if is_current_spot(row["basis"]):
                gpu_current.add(item)
        elif kind == "family-vcpu":
            family_vcpu[item] = ondemand
            if spot is not None:
                spot_vcpu[item] = spot
        elif kind == "family-memory":
            family_memory[item] = ondemand
            if spot is not None:
                spot_memory[item] = spot
        elif kind == "family-unit":
            units[item] = (ondemand, spot, *cud)
        elif kind in flat:
            flat[kind][item] = ondemand
    missing = {"management-fee", "free-tier-credit"} - singles.keys()
    if missing:
        raise CatalogError(f"price table {path} lacks the GKE rows {sorted(missing)}")
    return PriceTable(
        region=region,
        machines=machines,
        gpus=gpus,
        family_vcpu=family_vcpu,
        family_memory=family_memory,
        disks_gb_month=disks,
        gke_fee_hour=singles["management-fee"],
        gke_free_tier_month=singles["free-tier-credit"],
        network=network,
        storage=storage,
        gpu_spot_current=frozenset(gpu_current),
        spot_by_family=family_spot(machines, types),
        ondemand_fixes=bundled_ondemand_fixes(machines, types, family_vcpu, family_memory),
        family_spot_vcpu=spot_vcpu,
        family_spot_memory=spot_memory,
        family_unit=units,
        commitments=commitments,
        bases=bases,
    )


class PriceTables(Mapping[str, PriceTable]):
    """A catalog's price tables, one file per region, each read the first time it is asked
    for: a command that prices one region reads one file."""

    def __init__(self, folder: Path, types: dict[str, MachineType]) -> None:
        self._files = {p.stem: p for p in sorted(folder.glob("*.csv"))} if folder.is_dir() else {}
        self._types = types
        self._read: dict[str, PriceTable] = {}

    def __getitem__(self, region: str) -> PriceTable:
        table = self._read.get(region)
        if table is None:
            table = _price_table(region, self._files[region], self._types)
            self._read[region] = table
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def read_catalog(directory: Path) -> Catalog:
    """Read a catalog directory (the packaged snapshot or a refreshed copy)."""
    try:
        manifest = json.loads((directory / "MANIFEST.json").read_text(encoding="utf-8"))
        captured = dt.date.fromisoformat(manifest["captured"])
    except (OSError, ValueError, KeyError) as exc:
        raise CatalogError(
            f"the catalog at {directory} has no readable MANIFEST.json ({exc})",
            hint=f"reinstall gridcloud, or point {CATALOG_DIR_ENV} at a complete catalog",
        ) from exc
    if manifest.get("schema") != SCHEMA:
        raise CatalogError(
            f"the catalog at {directory} is in layout (schema) {manifest.get('schema')!r}; "
            f"this gridcloud reads schema {SCHEMA}",
            hint=f"use a catalog made for this version of gridcloud, or unset {CATALOG_DIR_ENV}",
        )
    machine_types = {
        r["name"]: MachineType(
            name=r["name"],
            family=r["family"],
            vcpus=int(r["vcpus"]),
            memory_gb=Decimal(r["memory_gb"]),
            shared_cpu=r["shared_cpu"] == "1",
            arch=r["arch"],
            bundled_gpu=r["bundled_gpu"] or None,
            bundled_gpu_count=int(r["bundled_gpu_count"]),
            deprecated=r["deprecated"] or None,
            zones=_words(r["zones"]),
        )
        for r in _rows(directory / "machine_types.csv")
    }
    accelerators = {
        r["name"]: Accelerator(
            name=r["name"],
            attaches_to=r["attaches_to"] or None,
            counts=tuple(int(c) for c in r["counts"].split()),
            zones=_words(r["zones"]),
        )
        for r in _rows(directory / "accelerators.csv")
    }
    zone_region = {r["zone"]: r["region"] for r in _rows(directory / "zones.csv")}
    price_tables = PriceTables(directory / "prices", machine_types)
    return Catalog(
        captured=captured,
        currency=str(manifest.get("currency", "USD")),
        hours_per_month=int(manifest.get("hours_per_month", 730)),
        sources=tuple(manifest.get("sources", ())),
        machine_types=machine_types,
        accelerators=accelerators,
        zone_region=zone_region,
        price_tables=price_tables,
        location=directory,
    )


class GivenPrice(Protocol):
    """A price given outside the catalog (a profile's ``prices``)."""

    @property
    def kind(self) -> str: ...
    @property
    def item(self) -> str: ...
    @property
    def ondemand(self) -> Decimal | None: ...
    @property
    def spot(self) -> Decimal | None: ...
    @property
    def source(self) -> str: ...


def with_prices(catalog: Catalog, region: str, given: Sequence[GivenPrice]) -> Catalog:
    """``catalog`` with ``region``'s table overlaid by ``given`` prices (a figure given
    replaces the catalog's; one not given keeps it). Its basis says it came from the profile;
    a spot figure given is taken as current."""
    if not given:
        return catalog
    tables = catalog.price_tables
    base = tables.get(region)
    if base is None:
        fee = next(iter(tables.values()), None)
        base = PriceTable(
            region=region,
            machines={},
            gpus={},
            family_vcpu={},
            family_memory={},
            disks_gb_month={},
            gke_fee_hour=Decimal("0.10") if fee is None else fee.gke_fee_hour,
            gke_free_tier_month=Decimal("74.40") if fee is None else fee.gke_free_tier_month,
        )
    machines, gpus = dict(base.machines), dict(base.gpus)
    disks, network, bases = dict(base.disks_gb_month), dict(base.network), dict(base.bases)
    storage = dict(base.storage)
    current = set(base.gpu_spot_current)
    for price in given:
        basis = f"spot from the profile ({price.source})"
        bases[f"{price.kind}:{price.item}"] = f"the profile: {price.source}"
        if price.kind == "machine":
            old = machines.get(price.item, (None, None, ""))
            machines[price.item] = (
                price.ondemand if price.ondemand is not None else old[0],
                price.spot if price.spot is not None else old[1],
                basis,
            )
        elif price.kind == "gpu":
            old_gpu = gpus.get(price.item)
            ondemand = price.ondemand if price.ondemand is not None else old_gpu and old_gpu[0]
            if ondemand is None:
                continue
            gpus[price.item] = (
                ondemand,
                price.spot if price.spot is not None else old_gpu and old_gpu[1],
            )
            if price.spot is not None:
                current.add(price.item)
        elif price.kind == "disk" and price.ondemand is not None:
            disks[price.item] = price.ondemand
        elif price.kind == "network" and price.ondemand is not None:
            network[price.item] = price.ondemand
        elif price.kind == "storage" and price.ondemand is not None:
            storage[price.item] = price.ondemand
    table = dataclasses.replace(
        base,
        machines=machines,
        gpus=gpus,
        disks_gb_month=disks,
        network=network,
        storage=storage,
        bases=bases,
        gpu_spot_current=frozenset(current),
        ondemand_fixes={
            k: v
            for k, v in base.ondemand_fixes.items()
            if not any(p.kind == "machine" and p.item == k for p in given)
        },
    )
    return dataclasses.replace(catalog, price_tables=_Overlay(tables, table))


class _Overlay(Mapping[str, PriceTable]):
    """Price tables with one region's replaced; the others still read when asked for."""

    def __init__(self, tables: Mapping[str, PriceTable], table: PriceTable) -> None:
        self._tables, self._table = tables, table

    def __getitem__(self, region: str) -> PriceTable:
        return self._table if region == self._table.region else self._tables[region]

    def __iter__(self) -> Iterator[str]:
        yield from self._tables
        if self._table.region not in self._tables:
            yield self._table.region

    def __len__(self) -> int:
        return len(self._tables) + (self._table.region not in self._tables)


#: Where ``gridcloud catalog refresh`` writes (tests point it elsewhere).
CATALOGS_ENV = "GRIDCLOUD_CATALOGS"


def user_catalogs() -> Path:
    """The refreshed catalogs, one folder each (``<date>-schema<N>``)."""
    override = os.environ.get(CATALOGS_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("gridcloud")) / "catalogs"


def newest_refreshed() -> Path | None:
    """The newest refreshed catalog in this gridcloud's layout, if any."""
    folder = user_catalogs()
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.iterdir(), reverse=True):
        if candidate.name.endswith(f"-schema{SCHEMA}") and (candidate / "MANIFEST.json").is_file():
            return candidate
    return None


@cache
def load_catalog() -> Catalog:
    """The catalog in use: ``$GRIDCLOUD_CATALOG_DIR`` if set, else the newest one
    ``gridcloud catalog refresh`` wrote, else the packaged snapshot."""
    override = os.environ.get(CATALOG_DIR_ENV)
    if override:
        return read_catalog(Path(override))
    return read_catalog(newest_refreshed() or PACKAGED_DATA)
