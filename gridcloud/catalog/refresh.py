"""``gridcloud catalog refresh``: a catalog built from Google's own APIs.

Prices come from the Cloud Billing Catalog API (the Compute Engine service
``services/6F81-5844-456A``): a VM's price is assembled from its family's per-vCPU and
per-GiB SKUs in the region (and its built-in GPUs' SKUs); Spot SKUs are told apart by
``usageType`` "Preemptible" and descriptions beginning "Spot Preemptible"; a unit price is
``units`` + ``nanos`` / 1e9 of the first tier of ``tieredRates``. Machine types, their
zones and the GPUs' zones come from the Compute API's aggregated lists. The result is a
catalog directory in the layout the packaged snapshot has (the same writer), dated and
versioned in the user's data directory; ``load_catalog`` takes the newest.

What the APIs do not carry stays as the packaged facts: the GKE fee and free tier (a
different service), Cloud NAT, IP address and forwarding-rule prices, which families are
Arm and which GPUs attach to which family (``snapshot.py``).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gridcloud.catalog import snapshot
from gridcloud.catalog.model import PACKAGED_DATA, SCHEMA

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from pathlib import Path

COMPUTE_SERVICE = "services/6F81-5844-456A"
SOURCE = "Cloud Billing Catalog API (Compute Engine) and Compute Engine API"

#: "[Spot Preemptible ]<FAMILY>[ AMD| Arm| Intel| Predefined] Instance Core|Ram running in <where>"
_VM = re.compile(
    r"^(?P<spot>Spot Preemptible )?(?P<family>[A-Z][A-Z0-9]*)"
    r"(?: AMD| Arm| Intel| Predefined)? Instance (?P<resource>Core|Ram) running in "
)
#: Families whose SKUs do not name them (C2: "Compute optimized Core running in ...").
_NAMED = {"Compute optimized": "c2", "Memory-optimized Instance": "m1"}
_NAMED_VM = re.compile(
    r"^(?P<spot>Spot Preemptible )?(?P<name>Compute optimized|Memory-optimized Instance) "
    r"(?P<resource>Core|Ram) running in "
)
#: "[Spot Preemptible ]Nvidia <Model> GPU running in <where>" -> the accelerator type name
_GPU = re.compile(r"^(?P<spot>Spot Preemptible )?Nvidia (?P<model>.+?) GPU running in ")
_GPU_TYPES = {
    "Tesla T4": "nvidia-tesla-t4",
    "Tesla P4": "nvidia-tesla-p4",
    "Tesla P100": "nvidia-tesla-p100",
    "Tesla V100": "nvidia-tesla-v100",
    "Tesla A100": "nvidia-tesla-a100",
    "A100 80GB": "nvidia-a100-80gb",
    "L4": "nvidia-l4",
}
_DISKS = {
    "Balanced PD Capacity": "pd-balanced",
    "Storage PD Capacity": "pd-standard",
    "SSD backed PD Capacity": "pd-ssd",
}


@dataclass(frozen=True)
class Rate:
    """One SKU's price: what (``family``/``resource``, or a GPU or disk), in a region."""

    kind: str
    """``core``, ``ram``, ``gpu`` or ``disk``."""
    item: str
    """The family (``n2``), accelerator type or disk type."""
    spot: bool
    region: str
    usd: Decimal


def unit_price(sku: dict[str, Any]) -> Decimal | None:
    """The first tier's unit price of the SKU's current pricing, in its currency."""
    infos = sku.get("pricingInfo") or []
    if not infos:
        return None
    rates = (infos[0].get("pricingExpression") or {}).get("tieredRates") or []
    if not rates:
        return None
    first = min(rates, key=lambda r: float(r.get("startUsageAmount", 0) or 0))
    price = first.get("unitPrice") or {}
    return Decimal(str(price.get("units", "0") or "0")) + Decimal(price.get("nanos", 0) or 0) / (
        Decimal(10) ** 9
    )


def _classify(sku: dict[str, Any]) -> tuple[str, str, bool] | None:
    """(kind, item, spot) for the SKUs a catalog needs, else None (commitments, sole
    tenancy, custom types, licences, network, other services)."""
    category = sku.get("category") or {}
    usage = category.get("usageType")
    if usage not in ("OnDemand", "Preemptible"):
        return None
    description = str(sku.get("description", ""))
    spot = usage == "Preemptible"
    if spot != description.startswith("Spot Preemptible "):
        return None  # an old "Preemptible ..." SKU: not Spot
    group = category.get("resourceGroup")
    if group in ("CPU", "RAM", "N1Standard", "N1Predefined", "Compute"):
        match = _VM.match(description)
        if match:
            resource = "core" if match["resource"] == "Core" else "ram"
            return resource, match["family"].lower(), spot
        named = _NAMED_VM.match(description)
        if named:
            resource = "core" if named["resource"] == "Core" else "ram"
            return resource, _NAMED[named["name"]], spot
        return None
    if group == "GPU":
        gpu = _GPU.match(description)
        if gpu and gpu["model"] in _GPU_TYPES:
            return "gpu", _GPU_TYPES[gpu["model"]], spot
        return None
    for prefix, disk in _DISKS.items():
        if description.startswith(prefix) and not spot:
            return "disk", disk, False
    return None


def rates(skus: Iterable[dict[str, Any]], regions: set[str] | None) -> list[Rate]:
    """The rates of ``regions`` (all where None) among the service's SKUs."""
    found = []
    for sku in skus:
        kind = _classify(sku)
        price = unit_price(sku)
        if kind is None or price is None:
            continue
        for region in sku.get("serviceRegions") or []:
            if regions is None or region in regions:
                found.append(Rate(kind[0], kind[1], kind[2], region, price))
    return found


@dataclass(frozen=True)
class Listing:
    """What the Compute API lists: machine types (vCPUs, GiB, shared, deprecated, zones),
    accelerator types' zones."""

    machines: dict[str, dict[str, Any]]
    gpu_zones: dict[str, set[str]]


def listing(machine_pages: Iterable[Any], accelerator_pages: Iterable[Any]) -> Listing:
    """From the aggregated lists' (scope, scoped list) pairs."""
    machines: dict[str, dict[str, Any]] = {}
    for _, scoped in machine_pages:
        for machine in getattr(scoped, "machine_types", None) or []:
            entry = machines.setdefault(
                machine.name,
                {
                    "vcpus": int(machine.guest_cpus),
                    "memory_gb": Decimal(int(machine.memory_mb)) / 1024,
                    "shared": bool(machine.is_shared_cpu),
                    "deprecated": machine.deprecated.state if machine.deprecated else "",
                    "zones": set(),
                },
            )
            entry["zones"].add(machine.zone.rsplit("/", 1)[-1])
    gpu_zones: dict[str, set[str]] = defaultdict(set)
    for _, scoped in accelerator_pages:
        for gpu in getattr(scoped, "accelerator_types", None) or []:
            gpu_zones[gpu.name].add(gpu.zone.rsplit("/", 1)[-1])
    return Listing(machines=machines, gpu_zones=dict(gpu_zones))


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def price_rows(region: str, found: list[Rate], listed: Listing, date: str) -> list[list[str]]:
    """A region's price table, in the packaged layout."""
    by: dict[tuple[str, str, bool], Decimal] = {
        (r.kind, r.item, r.spot): r.usd for r in found if r.region == region
    }
    basis = f"spot {date} ({SOURCE})"
    rows: list[list[str]] = []
    for name in sorted(listed.machines):
        machine = listed.machines[name]
        if machine["shared"] or not any(z.startswith(f"{region}-") for z in machine["zones"]):
            continue
        family = name.split("-", 1)[0]
        gpu, count = snapshot.bundled_gpu(name, machine["vcpus"])
        prices: list[Decimal | None] = []
        for spot in (False, True):
            core, ram = by.get(("core", family, spot)), by.get(("ram", family, spot))
            extra = by.get(("gpu", gpu, spot)) if gpu else Decimal(0)
            if core is None or ram is None or extra is None:
                prices.append(None)
                continue
            prices.append(core * machine["vcpus"] + ram * machine["memory_gb"] + extra * count)
        ondemand, spot_price = prices
        if ondemand is None:
            continue
        note = basis + (f"; includes {count}x {gpu}" if gpu else "")
        spot_text = "" if spot_price is None else _fmt(spot_price)
        rows.append(["machine", name, _fmt(ondemand), spot_text, "hour", note])
    for (kind, item, spot), usd in sorted(by.items()):
        if kind == "gpu" and not spot and item in snapshot.ATTACHED_GPUS:
            spot_usd = by.get(("gpu", item, True))
            rows.append(
                ["gpu", item, _fmt(usd), "" if spot_usd is None else _fmt(spot_usd), "hour", basis]
            )
    for (kind, item, spot), usd in sorted(by.items()):
        if kind in ("core", "ram") and not spot:
            rows.append(
                [
                    "family-vcpu" if kind == "core" else "family-memory",
                    item,
                    _fmt(usd),
                    "",
                    "vcpu-hour" if kind == "core" else "gb-hour",
                    f"{SOURCE} {date}",
                ]
            )
    for (kind, item, _), usd in sorted(by.items()):
        if kind == "disk":
            rows.append(["disk", item, _fmt(usd), _fmt(usd), "gb-month", f"{SOURCE} {date}"])
    rows += _packaged_rows(("gke",), "us-central1")
    rows += _packaged_rows(("network", "storage"), region)
    return rows


def _packaged_rows(kinds: tuple[str, ...], region: str) -> list[list[str]]:
    """Rows the APIs do not give, from the packaged table of ``region`` (the GKE fee is
    the same in every region; Cloud NAT, addresses and egress are the region's own, and a
    region the snapshot does not price gets none: unknown, not another region's)."""
    import csv

    path = PACKAGED_DATA / "prices" / f"{region}.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [
            [r["kind"], r["item"], r["ondemand_usd"], r["spot_usd"], r["unit"], r["basis"]]
            for r in csv.DictReader(f)
            if r["kind"] in kinds
        ]


def write(
    out: Path, found: list[Rate], listed: Listing, regions: list[str], today: dt.date
) -> Path:
    """The catalog directory, with its MANIFEST; returns it."""
    date = today.isoformat()
    machines = [
        snapshot.machine_row(
            name,
            vcpus=m["vcpus"],
            memory_gb=_fmt(m["memory_gb"]),
            shared=m["shared"],
            deprecated=m["deprecated"],
            zones=m["zones"],
        )
        for name, m in listed.machines.items()
    ]
    zones = sorted({(z, z.rsplit("-", 1)[0]) for m in listed.machines.values() for z in m["zones"]})
    snapshot.write_listings(out, machines, listed.gpu_zones, [list(z) for z in zones])
    priced = []
    for region in regions:
        rows = price_rows(region, found, listed, date)
        if any(r[0] == "machine" for r in rows):
            snapshot.write_csv(out / "prices" / f"{region}.csv", snapshot.PRICE_HEADER, rows)
            priced.append(region)
    manifest = {
        "schema": SCHEMA,
        "currency": "USD",
        "captured": date,
        "hours_per_month": 730,
        "regions_with_prices": priced,
        "sources": [
            {
                "files": ["machine_types.csv", "accelerators.csv", "zones.csv"],
                "what": "machine types, accelerator types and zones",
                "from": "Compute Engine API, aggregated lists",
                "date": date,
            },
            {
                "files": [f"prices/{r}.csv" for r in priced],
                "what": "hourly on-demand and Spot prices assembled from per-vCPU, per-GiB "
                "and GPU SKUs; disk prices",
                "from": f"Cloud Billing Catalog API, {COMPUTE_SERVICE}; the GKE fee, free "
                "tier, network and Cloud Storage prices from the packaged catalog",
                "date": date,
            },
        ],
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def fetch(project: str, credentials: Any = None) -> tuple[list[dict[str, Any]], Listing]:
    """The Compute Engine SKUs and the machine and accelerator listings, through the
    google-cloud client libraries (REST), with Application Default Credentials unless
    ``credentials`` are given."""
    from google.cloud import billing_v1, compute_v1

    catalog = billing_v1.CloudCatalogClient(credentials=credentials, transport="rest")
    skus = [
        billing_v1.Sku.to_dict(sku, preserving_proto_field_name=False)
        for sku in catalog.list_skus(parent=COMPUTE_SERVICE)
    ]
    machines = compute_v1.MachineTypesClient(credentials=credentials)
    accelerators = compute_v1.AcceleratorTypesClient(credentials=credentials)
    listed = listing(
        machines.aggregated_list(project=project),
        accelerators.aggregated_list(project=project),
    )
    return skus, listed


def refresh(
    project: str,
    regions: list[str] | None,
    *,
    today: dt.date,
    credentials: Any = None,
    into: Path | None = None,
) -> Path:
    """Fetch, and write a new catalog into the user's catalogs (or ``into``). A failed call
    to Google is an :class:`~gridcloud.errors.InputError` as
    :mod:`gridcloud.google_errors` tells it; nothing is written then."""
    from gridcloud.catalog.model import user_catalogs
    from gridcloud.google_errors import failures, raise_for

    try:
        skus, listed = fetch(project, credentials)
    except failures() as error:
        raise_for(
            error,
            "cannot refresh the catalog",
            project=project,
            then="the catalog in use is unchanged",
        )
    wanted = set(regions) if regions else None
    found = rates(skus, wanted)
    every = sorted({r.region for r in found})
    out = into or user_catalogs() / f"{today.isoformat()}-schema{SCHEMA}"
    # written aside, then moved into place: a failure leaves no half catalog to be used
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        write(partial, found, listed, regions or every, today)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out
