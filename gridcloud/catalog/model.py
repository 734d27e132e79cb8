"""The catalog: machine types, accelerators, zones and per-region price tables.

Read from the packaged snapshot (``data/``, built by :mod:`gridcloud.catalog.snapshot`) or from
a directory given in ``GRIDCLOUD_CATALOG_DIR`` (a refreshed copy). Prices are ``Decimal`` US
dollars. A price the catalog does not hold is ``None`` and comes with a warning, never zero.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from gridcloud.errors import CatalogError

PACKAGED_DATA = Path(__file__).parent / "data"
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


@dataclass(frozen=True)
class PriceTable:
    region: str
    machines: dict[str, tuple[Decimal, Decimal | None, str]]
    gpus: dict[str, tuple[Decimal, Decimal | None]]
    family_vcpu: dict[str, Decimal]
    family_memory: dict[str, Decimal]
    disks_gb_month: dict[str, Decimal]
    gke_fee_hour: Decimal
    gke_free_tier_month: Decimal
    network: dict[str, Decimal] = field(default_factory=dict)
    """Cloud NAT, IP address and forwarding-rule prices (``NETWORK_PRICES`` in snapshot.py)."""

    def machine(self, machine: MachineType) -> MachinePrice:
        """The list price, else an on-demand figure from the family's per-vCPU/GB rates."""
        listed = self.machines.get(machine.name)
        if listed is not None:
            ondemand, spot, basis = listed
            notes = () if spot is not None else (f"no spot price for {machine.name}",)
            return MachinePrice(ondemand, spot, basis, notes)
        vcpu = self.family_vcpu.get(machine.family)
        memory = self.family_memory.get(machine.family)
        if vcpu is None or memory is None:
            return MachinePrice(
                None,
                None,
                "unknown",
                (f"no price for {machine.name} in {self.region} (family {machine.family})",),
            )
        derived = vcpu * machine.vcpus + memory * machine.memory_gb
        return MachinePrice(
            derived,
            None,
            f"derived from {machine.family} per-vCPU and per-GB rates",
            (f"no spot price for {machine.name} in {self.region}; on-demand derived",),
        )

    def gpu(self, name: str) -> tuple[Decimal, Decimal | None] | None:
        return self.gpus.get(name)

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
    price_tables: dict[str, PriceTable] = field(default_factory=dict)
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
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except OSError as exc:
        raise CatalogError(
            f"cannot read catalog file {path}: {exc.strerror}",
            hint=f"reinstall gridcloud, or point {CATALOG_DIR_ENV} at a complete catalog",
        ) from exc


def _money(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _price_table(region: str, path: Path) -> PriceTable:
    machines: dict[str, tuple[Decimal, Decimal | None, str]] = {}
    gpus: dict[str, tuple[Decimal, Decimal | None]] = {}
    family_vcpu: dict[str, Decimal] = {}
    family_memory: dict[str, Decimal] = {}
    disks: dict[str, Decimal] = {}
    singles: dict[str, Decimal] = {}
    network: dict[str, Decimal] = {}
    for row in _rows(path):
        kind, item, ondemand = row["kind"], row["item"], Decimal(row["ondemand_usd"])
        spot = _money(row["spot_usd"])
        if kind == "machine":
            machines[item] = (ondemand, spot, row["basis"])
        elif kind == "gpu":
            gpus[item] = (ondemand, spot)
        elif kind == "family-vcpu":
            family_vcpu[item] = ondemand
        elif kind == "family-memory":
            family_memory[item] = ondemand
        elif kind == "disk":
            disks[item] = ondemand
        elif kind == "gke":
            singles[item] = ondemand
        elif kind == "network":
            network[item] = ondemand
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
    )


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
    price_tables = {
        p.stem: _price_table(p.stem, p) for p in sorted((directory / "prices").glob("*.csv"))
    }
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


@cache
def load_catalog() -> Catalog:
    """The catalog in use: ``$GRIDCLOUD_CATALOG_DIR`` if set, else the packaged snapshot."""
    override = os.environ.get(CATALOG_DIR_ENV)
    return read_catalog(Path(override) if override else PACKAGED_DATA)
