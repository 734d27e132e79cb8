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
PRICE_HEADER = ["kind", "item", "ondemand_usd", "spot_usd", "unit", "basis"]


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
    regions = sorted(p.stem.removeprefix("prices-") for p in src.glob("prices-*.csv"))
    for region in regions:
        _write_prices(src, out, region)
    _write_manifest(out, regions)


#: The date of the source files (../shared/data/gcp) the packaged snapshot is built from.
SNAPSHOT_CAPTURED = "2026-07-30"


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
                "files": [f"prices/{r}.csv" for r in regions],
                "what": "hourly on-demand and spot list prices; the basis column says how "
                "fresh each spot figure is",
                "from": "Cloud Billing Catalog figures (via the cost calculator above and the "
                "Kubernetes cluster-autoscaler GCE price table); GKE fee, free tier and disk "
                "prices from Google's pricing pages; network prices from Google's pricing "
                "pages (2026-11)",
                "date": SNAPSHOT_CAPTURED,
            },
        ],
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _write_prices(src: Path, out: Path, region: str) -> None:
    rows: list[list[str]] = []
    for row in _read(src / f"prices-{region}.csv", ","):
        rows.append(
            [
                "machine",
                row["machine_type"],
                row["ondemand_usd_per_hour"],
                row["spot_usd_per_hour"],
                "hour",
                row["spot_basis"],
            ]
        )
    for row in _read(src / f"gpu-prices-{region}.csv", ","):
        if row["attaches_to"].startswith(("n1",)):
            rows.append(
                [
                    "gpu",
                    row["accelerator_type"],
                    row["ondemand_usd_per_hour"],
                    row["spot_usd_per_hour"],
                    "hour",
                    "gpu price table",
                ]
            )
    for row in _read(src / f"family-rates-{region}.csv", ","):
        basis = "cluster-autoscaler GCE price table (on-demand only)"
        rows.append(
            [
                "family-vcpu",
                row["family"],
                row["ondemand_usd_per_vcpu_hour"],
                "",
                "vcpu-hour",
                basis,
            ]
        )
        rows.append(
            ["family-memory", row["family"], row["ondemand_usd_per_gb_hour"], "", "gb-hour", basis]
        )
    for row in _read(src / "other-prices.csv", ","):
        item = row["item"]
        if item.startswith("pd-"):
            rows.append(["disk", item, row["usd"], row["usd"], "gb-month", row["note"]])
        elif item == "gke-cluster-management-fee":
            rows.append(["gke", "management-fee", row["usd"], "", "cluster-hour", row["note"]])
        elif item == "gke-free-tier-credit":
            rows.append(["gke", "free-tier-credit", row["usd"], "", "month", row["note"]])
    rows += network_rows()
    write_csv(out / "prices" / f"{region}.csv", PRICE_HEADER, rows)


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
