"""Build the packaged catalog snapshot from published source files.

The snapshot under ``gridcloud/catalog/data`` is what every plan and estimate reads. It is
built from the Compute Engine listings and price tables in a source directory (the project's
``../shared/data/gcp``), and keeps their source and date in ``MANIFEST.json``::

    python -m gridcloud.catalog.snapshot ../shared/data/gcp

Facts about Google Cloud that the listings do not carry (which families are Arm, which GPUs
attach to which family, which machine types come with GPUs built in) are the tables at the
top of this module: change them here, then rebuild.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

#: Machine families whose CPUs are Arm (Ampere Altra, Google Axion, NVIDIA Grace).
ARM_FAMILIES = frozenset({"t2a", "c4a", "n4a", "a4x"})

#: GPUs attached to a general-purpose family, with the counts GCP accepts per VM.
ATTACHED_GPUS: dict[str, tuple[str, tuple[int, ...]]] = {
    "nvidia-tesla-t4": ("n1", (1, 2, 4)),
    "nvidia-tesla-t4-vws": ("n1", (1, 2, 4)),
    "nvidia-tesla-p4": ("n1", (1, 2, 4)),
    "nvidia-tesla-p4-vws": ("n1", (1, 2, 4)),
    "nvidia-tesla-p100": ("n1", (1, 2, 4)),
    "nvidia-tesla-p100-vws": ("n1", (1, 2, 4)),
    "nvidia-tesla-v100": ("n1", (1, 2, 4, 8)),
    "nvidia-tesla-k80": ("n1", (1, 2, 4, 8)),
}

#: GPUs that come built into a machine type: (machine-type pattern, accelerator).
#: The count is the ``-<N>g`` suffix, or for G2 the table below.
BUNDLED_GPUS: tuple[tuple[str, str], ...] = (
    (r"^g2-standard-\d+$", "nvidia-l4"),
    (r"^a2-(highgpu|megagpu)-\d+g$", "nvidia-tesla-a100"),
    (r"^a2-ultragpu-\d+g$", "nvidia-a100-80gb"),
)
G2_L4_COUNT = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}

#: Network prices the source files do not carry: Google's pricing pages (Cloud NAT, IP
#: addresses, forwarding rules), us-central1, as of 2026-11. (item, usd, unit, note)
NETWORK_PRICES: tuple[tuple[str, str, str, str], ...] = (
    ("nat-gateway-vm", "0.0014", "vm-hour", "Cloud NAT gateway, per VM using it, up to 32 VMs"),
    ("nat-gateway-many", "0.044", "hour", "Cloud NAT gateway serving more than 32 VMs"),
    ("nat-data", "0.045", "gb", "Cloud NAT data processing, per GB either way"),
    ("external-ip", "0.005", "hour", "external IPv4 address in use (Cloud NAT, VM)"),
    ("forwarding-rules-first-5", "0.025", "hour", "forwarding rules: the first 5, together"),
    ("forwarding-rule-more", "0.010", "hour", "each forwarding rule beyond the first 5"),
)
NETWORK_PRICES_SOURCE = "Google's pricing pages (Cloud NAT, IP addresses, load balancing)"


def _read(path: Path, delimiter: str) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def bundled_gpu(name: str, vcpus: int) -> tuple[str, int]:
    for pattern, accelerator in BUNDLED_GPUS:
        if re.match(pattern, name):
            if name.startswith("g2-"):
                return accelerator, G2_L4_COUNT.get(vcpus, 1)
            match = re.search(r"-(\d+)g$", name)
            return accelerator, int(match.group(1)) if match else 1
    return "", 0


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


MACHINE_HEADER = [
    "name",
    "family",
    "vcpus",
    "memory_gb",
    "shared_cpu",
    "arch",
    "bundled_gpu",
    "bundled_gpu_count",
    "deprecated",
    "zones",
]
PRICE_HEADER = [
    "kind",
    "item",
    "ondemand_usd",
    "spot_usd",
    "unit",
    "basis",
    "cud1y_usd",
    "cud3y_usd",
]
"""A price table's columns; ``cud1y_usd`` and ``cud3y_usd`` (committed use, per hour) may be
absent (a catalog written before them) or blank."""


def machine_row(
    name: str, *, vcpus: int, memory_gb: str, shared: bool, deprecated: str, zones: set[str]
) -> list[str]:
    """A machine_types.csv row: the family, architecture and built-in GPUs from the facts
    at the top of this module."""
    family = name.split("-", 1)[0]
    gpu, gpu_count = bundled_gpu(name, vcpus)
    return [
        name,
        family,
        str(vcpus),
        memory_gb,
        "1" if shared else "0",
        "arm64" if family in ARM_FAMILIES else "amd64",
        gpu,
        str(gpu_count),
        deprecated,
        " ".join(sorted(zones)),
    ]


def write_listings(
    out: Path,
    machines: list[list[str]],
    gpu_zones: dict[str, set[str]],
    zones: list[list[str]],
) -> None:
    """machine_types.csv, accelerators.csv and zones.csv: one writer for the packaged
    snapshot and for a catalog refreshed from Google's APIs."""
    write_csv(out / "machine_types.csv", MACHINE_HEADER, sorted(machines))
    gpu_rows = []
    for name in sorted(gpu_zones):
        family, counts = ATTACHED_GPUS.get(name, ("", ()))
        gpu_rows.append(
            [name, family, " ".join(map(str, counts)), " ".join(sorted(gpu_zones[name]))]
        )
    write_csv(out / "accelerators.csv", ["name", "attaches_to", "counts", "zones"], gpu_rows)
    known = {z for z, _ in zones}
    rows = list(zones)
    # Some listings name zones the zone table lacks (us-central1-d); keep them reachable.
    for machine in machines:
        for zone in set(machine[-1].split()) - known:
            rows.append([zone, zone.rsplit("-", 1)[0]])
            known.add(zone)
    write_csv(out / "zones.csv", ["zone", "region"], sorted(rows))


def network_rows() -> list[list[str]]:
    return [
        ["network", item, usd, "", unit, f"{note}; {NETWORK_PRICES_SOURCE} 2026-11"]
        for item, usd, unit, note in NETWORK_PRICES
    ]


def build(src: Path, out: Path = DATA_DIR) -> None:
    """Write the snapshot files into ``out`` from the listings in ``src``."""
    zones_by_type: dict[str, set[str]] = defaultdict(set)
    for row in _read(src / "machinetypezone.csv", ";"):
        zones_by_type[row["NAME"]].add(row["ZONE"])
    machines = [
        machine_row(
            row["NAME"],
            vcpus=int(row["CPUS"]),
            memory_gb=row["MEMORY_GB"],
            shared=row["SHARED_CPU"] == "True",
            deprecated=row["DEPRECATED"],
            zones=zones_by_type.get(row["NAME"], set()),
        )
        for row in _read(src / "machinetypes.csv", ";")
    ]
    gpu_zones: dict[str, set[str]] = defaultdict(set)
    for row in _read(src / "acceleratortypezone.csv", ";"):
        gpu_zones[row["NAME"]].add(row["ZONE"])
    zones = [[r["NAME"], r["REGION"]] for r in _read(src / "zones.csv", ";")]
    write_listings(out, machines, gpu_zones, zones)
    by_region = _by_region(src)
    shapes = {m[0]: m for m in machines}
    regions = sorted(by_region)
    for region in regions:
        rows = _region_rows(src, region, by_region[region], shapes)
        write_csv(out / "prices" / f"{region}.csv", PRICE_HEADER, rows)
    _write_manifest(out, regions)


#: The date of the regional source files (``*-by-region.csv``: Cyclenerd's ``pricing.yml``,
#: generated from the Cloud Billing Catalog on this day): the snapshot's date.
SNAPSHOT_CAPTURED = "2026-08-20"
#: The date of the us-central1 tables the regional files do not replace.
US_CENTRAL1_CAPTURED = "2026-07-30"
REGIONAL = f"pricing.yml {SNAPSHOT_CAPTURED}"
"""A regional row's basis: where and when (the source is named in MANIFEST.json)."""

#: Spot prices of GPUs attached to N1, us-central1, from a later Cloud Billing Catalog
#: snapshot than the cluster-autoscaler's table (whose 0.11, 0.43 and 0.74 are the retired
#: preemptible prices): (spot USD per GPU-hour, basis).
GPU_SPOT_LATER: dict[str, str] = {
    "nvidia-tesla-t4": "0.14",
    "nvidia-tesla-p100": "0.584",
    "nvidia-tesla-v100": "0.992",
}
GPU_SPOT_LATER_BASIS = (
    "spot from a later Billing Catalog snapshot (quoted in issue 17; its date is not given, "
    "later than 2026-07-30); on-demand: cluster-autoscaler GCE price table 2026-07-30"
)


def _by_region(src: Path) -> dict[str, dict[str, list[dict[str, str]]]]:
    """Every ``*-by-region.csv`` row, by region and by file."""
    found: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for name in ("machine-prices", "family-rates", "gpu-prices", "other-prices"):
        for row in _read(src / f"{name}-by-region.csv", ","):
            if row["region"] != "all":
                found[row["region"]][name].append(row)
    return found


def _unit_rows(
    family: str, machine: dict[str, str], shape: list[str], gpu_row: dict[str, str] | None
) -> list[str] | None:
    """A family whose every type has 4 GB per vCPU (T2A, T2D, G2), priced per such vCPU from
    one listed type (less its built-in GPUs, at the region's derived GPU price)."""
    vcpus = Decimal(shape[2])
    count = int(shape[7])
    columns = (
        "ondemand_usd_per_hour",
        "spot_usd_per_hour",
        "cud1y_usd_per_hour",
        "cud3y_usd_per_hour",
    )
    values: list[str] = []
    for column in columns:
        price = machine[column]
        gpu = "0" if count == 0 else (gpu_row or {}).get(column, "")
        if not price or not gpu:
            values.append("")
            continue
        values.append(_fmt((Decimal(price) - Decimal(gpu) * count) / vcpus))
    if not values[0]:
        return None
    how = f"per vCPU with 4 GB, from {machine['machine_type']}"
    if count:
        how += f" less {count}x {shape[6]}"
    return [
        "family-unit",
        family,
        values[0],
        values[1],
        "vcpu-hour",
        f"{REGIONAL}; {how}",
        *values[2:],
    ]


def _fmt(value: Decimal) -> str:
    text = format(value.quantize(Decimal("1e-9")).normalize(), "f")
    return "0" if text == "-0" else text


#: Families priced per vCPU with 4 GB from one listed type (all their types are 1:4).
UNIT_FAMILIES = ("t2a", "t2d", "g2")


def _region_rows(
    src: Path,
    region: str,
    files: dict[str, list[dict[str, str]]],
    shapes: dict[str, list[str]],
) -> list[list[str]]:
    rows: list[list[str]] = []
    listed = set()
    for m in files["machine-prices"]:
        name = m["machine_type"]
        listed.add(name)
        shape = shapes.get(name)
        note = f"; includes {shape[7]}x {shape[6]}" if shape and shape[6] else ""
        rows.append(
            [
                "machine",
                name,
                m["ondemand_usd_per_hour"],
                m["spot_usd_per_hour"],
                "hour",
                f"spot {SNAPSHOT_CAPTURED} (pricing.yml){note}",
                m["cud1y_usd_per_hour"],
                m["cud3y_usd_per_hour"],
            ]
        )
    rated = set()
    for f in files["family-rates"]:
        rated.add(f["family"])
        for kind, od, spot, unit in (
            ("family-vcpu", "ondemand_usd_per_vcpu_hour", "spot_usd_per_vcpu_hour", "vcpu-hour"),
            ("family-memory", "ondemand_usd_per_gb_hour", "spot_usd_per_gb_hour", "gb-hour"),
        ):
            rows.append([kind, f["family"], f[od], f[spot], unit, REGIONAL, "", ""])
    gpus = {g["accelerator_type"]: g for g in files["gpu-prices"]}
    for family in UNIT_FAMILIES:
        machine = next(
            (m for m in files["machine-prices"] if m["machine_type"].startswith(f"{family}-")),
            None,
        )
        shape = shapes.get(machine["machine_type"]) if machine else None
        if machine is None or shape is None:
            continue
        per_vcpu = _unit_rows(family, machine, shape, gpus.get(shape[6]) if shape[6] else None)
        if per_vcpu is not None:
            rated.add(family)
            rows.append(per_vcpu)
    for name, g in sorted(gpus.items()):
        rows.append(
            [
                "gpu",
                name,
                g["ondemand_usd_per_hour"],
                g["spot_usd_per_hour"],
                "hour",
                f"spot {SNAPSHOT_CAPTURED} (pricing.yml; built into g2, derived)",
                g["cud1y_usd_per_hour"],
                g["cud3y_usd_per_hour"],
            ]
        )
    if region == "us-central1":
        rows += _us_central1_rows(src, listed, rated, shapes)
    for row in _read(src / "other-prices.csv", ","):
        item = row["item"]
        if item == "gke-cluster-management-fee":
            rows.append(
                ["gke", "management-fee", row["usd"], "", "cluster-hour", row["note"], "", ""]
            )
        elif item == "gke-free-tier-credit":
            rows.append(["gke", "free-tier-credit", row["usd"], "", "month", row["note"], "", ""])
    other = {o["item"]: o for o in files["other-prices"]}
    for item in ("pd-standard", "pd-balanced", "pd-ssd"):
        if item in other:
            usd = other[item]["usd"]
            rows.append(["disk", item, usd, usd, "gb-month", REGIONAL, "", ""])
    gateway = other.get("cloud-nat-gateway")
    if gateway is not None:
        full = Decimal(gateway["usd"])
        rows.append(
            [
                "network",
                "nat-gateway-vm",
                _fmt(full / 32),
                "",
                "vm-hour",
                REGIONAL,
                "",
                "",
            ]
        )
        rows.append(
            [
                "network",
                "nat-gateway-many",
                gateway["usd"],
                "",
                "hour",
                REGIONAL,
                "",
                "",
            ]
        )
    for source, item, unit in NETWORK_ITEMS:
        if source in other:
            rows.append(["network", item, other[source]["usd"], "", unit, REGIONAL, "", ""])
    for source, item, unit in STORAGE_ITEMS:
        if source in other:
            rows.append(["storage", item, other[source]["usd"], "", unit, REGIONAL, "", ""])
    if region == "us-central1":
        # forwarding rules are not in the regional source: Google's pricing page, us-central1
        rows += [[*r, "", ""] for r in network_rows() if r[1].startswith("forwarding-rule")]
    return rows


#: The regional source's network items, as the price table names them.
NETWORK_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("cloud-nat-data", "nat-data", "gb"),
    ("external-ip-in-use", "external-ip", "hour"),
    ("external-ip-unused", "external-ip-unused", "hour"),
    ("internet-egress-0-1TiB", "egress-internet-0-1tib", "gb"),
    ("internet-egress-1-10TiB", "egress-internet-1-10tib", "gb"),
    ("internet-egress-10+TiB", "egress-internet-10tib-plus", "gb"),
)

#: The regional source's Cloud Storage items (per GiB-month at rest), as the table names
#: them. Nearline, Coldline and Archive are not in the source: unknown, never guessed.
STORAGE_ITEMS: tuple[tuple[str, str, str], ...] = (("gcs-standard", "gcs-standard", "gb-month"),)


def _us_central1_rows(
    src: Path, listed: set[str], rated: set[str], shapes: dict[str, list[str]]
) -> list[list[str]]:
    """What us-central1's older tables add: types the regional rates cannot price (shared
    cores, families without regional rates), families without regional rates, N1's GPUs."""
    rows: list[list[str]] = []
    for row in _read(src / "prices-us-central1.csv", ","):
        name = row["machine_type"]
        shape = shapes.get(name)
        family = name.split("-", 1)[0]
        shared = shape is not None and shape[4] == "1"
        if name in listed or (family in rated and not shared):
            continue
        rows.append(
            [
                "machine",
                name,
                row["ondemand_usd_per_hour"],
                row["spot_usd_per_hour"],
                "hour",
                row["spot_basis"],
                "",
                "",
            ]
        )
    for row in _read(src / "family-rates-us-central1.csv", ","):
        if row["family"] in rated:
            continue
        basis = f"cluster-autoscaler GCE price table {US_CENTRAL1_CAPTURED} (on-demand only)"
        rows.append(
            [
                "family-vcpu",
                row["family"],
                row["ondemand_usd_per_vcpu_hour"],
                "",
                "vcpu-hour",
                basis,
                "",
                "",
            ]
        )
        rows.append(
            [
                "family-memory",
                row["family"],
                row["ondemand_usd_per_gb_hour"],
                "",
                "gb-hour",
                basis,
                "",
                "",
            ]
        )
    for row in _read(src / "gpu-prices-us-central1.csv", ","):
        name = row["accelerator_type"]
        if name in GPU_SPOT_LATER:
            rows.append(
                [
                    "gpu",
                    name,
                    row["ondemand_usd_per_hour"],
                    GPU_SPOT_LATER[name],
                    "hour",
                    GPU_SPOT_LATER_BASIS,
                    "",
                    "",
                ]
            )
    return rows


def _write_manifest(out: Path, regions: list[str]) -> None:
    from gridcloud.catalog.model import SCHEMA

    manifest = {
        "schema": SCHEMA,
        "currency": "USD",
        "captured": SNAPSHOT_CAPTURED,
        "hours_per_month": 730,
        "regions_with_prices": regions,
        "sources": [
            {
                "files": ["machine_types.csv", "accelerators.csv", "zones.csv"],
                "what": "Compute Engine machine types, accelerator types and zones",
                "from": "Cloud Compute API listing published by "
                "Cyclenerd/google-cloud-pricing-cost-calculator (Apache-2.0)",
                "date": "2026-07",
            },
            {
                "files": ["prices/<region>.csv"],
                "what": "per region: hourly on-demand, spot and 1- and 3-year commitment prices "
                "of the machine types the shipped profiles use; per-vCPU and per-GB on-demand "
                "and spot rates of e2, n1, n2, n2d, c2d, c3, c3d, n4, c4a; t2a, t2d and g2 per "
                "vCPU with 4 GB; nvidia-l4 (derived from g2); disks; Cloud NAT, external "
                "addresses, internet egress, Cloud Storage standard class (rows whose basis reads "
                "'pricing.yml 2026-08-20')",
                "from": "pricing.yml of Cyclenerd/google-cloud-pricing-cost-calculator "
                "(Apache-2.0), generated from the Cloud Billing Catalog on 2026-08-20",
                "date": SNAPSHOT_CAPTURED,
            },
            {
                "files": ["prices/us-central1.csv"],
                "what": "us-central1 only: shared-core and other machine types the regional "
                "rates cannot price, a2, c2 and m1 on-demand rates, N1's GPUs, forwarding rules; "
                "each row's basis says how fresh it is",
                "from": "Cloud Billing Catalog figures via the cost calculator above and the "
                "Kubernetes cluster-autoscaler GCE price table (2026-07-30); GPU spot prices "
                "from a later Billing Catalog snapshot; forwarding rules from Google's pricing "
                "pages (2026-11)",
                "date": US_CENTRAL1_CAPTURED,
            },
            {
                "files": ["prices/<region>.csv"],
                "what": "GKE management fee and free tier (the same in every region)",
                "from": "Google's GKE pricing page",
                "date": US_CENTRAL1_CAPTURED,
            },
        ],
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gridcloud.catalog.snapshot SOURCE_DIR", file=sys.stderr)
        return 2
    build(Path(argv[0]))
    manifest = json.loads((DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    print(f"catalog snapshot written to {DATA_DIR} (captured {manifest['captured']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
