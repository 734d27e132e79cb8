from __future__ import annotations

import filecmp
from decimal import Decimal
from pathlib import Path

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.catalog.snapshot import build
from gridcloud.errors import CatalogError
from tests.conftest import SHARED


def test_machine_shapes_and_architecture(catalog: Catalog) -> None:
    n2d = catalog.machine("n2d-highcpu-80")
    assert n2d is not None
    assert (n2d.vcpus, n2d.memory_gb, n2d.arch) == (80, Decimal("80.00"), "amd64")
    assert "us-central1-a" in n2d.zones
    t2a = catalog.machine("t2a-standard-48")
    assert t2a is not None and t2a.arch == "arm64"


def test_bundled_and_attached_gpus(catalog: Catalog) -> None:
    g2 = catalog.machine("g2-standard-24")
    assert g2 is not None and (g2.bundled_gpu, g2.bundled_gpu_count) == ("nvidia-l4", 2)
    a2 = catalog.machine("a2-ultragpu-4g")
    assert a2 is not None and (a2.bundled_gpu, a2.bundled_gpu_count) == ("nvidia-a100-80gb", 4)
    t4 = catalog.accelerator("nvidia-tesla-t4")
    assert t4 is not None and t4.attaches_to == "n1" and t4.counts == (1, 2, 4)
    l4 = catalog.accelerator("nvidia-l4")
    assert l4 is not None and l4.attaches_to is None


def test_listed_price_and_basis(catalog: Catalog) -> None:
    prices = catalog.prices("us-central1")
    assert prices is not None
    quote = prices.machine(catalog.machine_types["n2d-highcpu-80"])
    # machine-prices-by-region.csv: n2d-highcpu-80,us-central1,80,80,2.49504,0.87448,...
    assert (quote.ondemand, quote.spot) == (Decimal("2.49504"), Decimal("0.87448"))
    assert "2026-08-20" in quote.basis
    # ... and its commitments: 1.57184 (1 year), 1.1228 (3 years) an hour
    assert (quote.commit_1y, quote.commit_3y) == (Decimal("1.57184"), Decimal("1.1228"))
    assert prices.gke_fee_hour == Decimal("0.10")
    assert prices.gke_free_tier_month == Decimal("74.40")


def test_unlisted_type_is_derived_from_the_family_rates(catalog: Catalog) -> None:
    prices = catalog.prices("us-central1")
    assert prices is not None
    quote = prices.machine(catalog.machine_types["n2d-highcpu-16"])
    # 16 vCPU x 0.027502 + 16 GB x 0.003686 on demand, 16 x 0.00964 + 16 x 0.001291 spot:
    # the n2d rates of family-rates-by-region.csv
    assert quote.ondemand == Decimal("0.499008")
    assert quote.spot == Decimal("0.174896")
    assert "n2d per-vCPU and per-GB rates" in quote.basis and "2026-08-20" in quote.basis


def test_a_shared_core_type_is_billed_for_its_fraction_of_a_core(catalog: Catalog) -> None:
    """us-east1 lists no e2-medium: it is derived from the E2 rates of
    family-rates-by-region.csv (e2,us-east1: 0.02181159 a vCPU-hour, 0.00292353 a GB-hour;
    spot 0.01309 and 0.001754). Google bills the shared-core e2-micro, e2-small and e2-medium
    (2 vCPUs that burst, machinetypes.csv) as 0.25, 0.5 and 1 vCPU: e2-medium is
    1 x 0.02181159 + 4 x 0.00292353 = 0.03350571 an hour, which us-central1's listed row
    confirms (prices-us-central1.csv: e2-medium,0.03351, at the same E2 rates); billed as its
    2 vCPUs it would be 0.05531730, 0.02181159 x 730 = $15.92 a month too much."""
    east = catalog.prices("us-east1")
    assert east is not None
    assert "e2-medium" not in east.machines
    medium = east.machine(catalog.machine_types["e2-medium"])
    assert medium.ondemand == Decimal("0.03350571")
    assert medium.ondemand.quantize(Decimal("0.00001")) == Decimal("0.03351")
    assert medium.spot == Decimal("0.020106")  # 1 x 0.01309 + 4 x 0.001754; listed 0.02011
    assert "2 vCPUs billed as 1" in medium.basis
    # e2-small: 0.5 x 0.02181159 + 2 x 0.00292353 = 0.016752855 (listed 0.01675)
    small = east.machine(catalog.machine_types["e2-small"])
    assert small.ondemand == Decimal("0.016752855")
    # e2-micro: 0.25 x 0.02181159 + 1 x 0.00292353 = 0.0083764275
    micro = east.machine(catalog.machine_types["e2-micro"])
    assert micro.ondemand == Decimal("0.0083764275")
    # a type that is not shared-core is billed for every vCPU: e2-standard-4, 4 x 0.02181159
    # + 16 x 0.00292353 = 0.13402284
    standard = east.machine(catalog.machine_types["e2-standard-4"])
    assert standard.ondemand == Decimal("0.13402284")


@pytest.mark.needs("shared")
def test_every_region_of_the_source_has_prices(catalog: Catalog) -> None:
    """43 regions in other-prices-by-region.csv, each with a price table."""
    import csv

    with (SHARED / "data" / "gcp" / "other-prices-by-region.csv").open() as f:
        regions = {row["region"] for row in csv.DictReader(f)}
    assert len(regions) == 43
    assert set(catalog.price_tables) == regions
    assert catalog.prices("europe-west5") is None  # listed zones, no prices in the source


def test_a_family_of_one_shape_is_priced_per_vcpu(catalog: Catalog) -> None:
    """T2D (every type 1 vCPU : 4 GB) from t2d-standard-60 in europe-west4: 2.7906 / 60 =
    0.04651 a vCPU-hour, so t2d-standard-16 is 0.74416 on demand; G2 from g2-standard-8
    less its L4 (0.897201806 - 0.588630286) / 8 = 0.03857144, so g2-standard-4 is
    4 x 0.03857144 + 0.588630286 = 0.742916046 in europe-west4."""
    west4 = catalog.prices("europe-west4")
    assert west4 is not None
    t2d = catalog.machine_types["t2d-standard-16"]
    assert west4.machine(t2d).ondemand == Decimal("0.74416")
    g2 = west4.machine(catalog.machine_types["g2-standard-4"])
    assert g2.ondemand == Decimal("0.742916046")
    assert west4.machine(catalog.machine_types["t2d-standard-60"]).ondemand == Decimal("2.7906")


def test_price_tables_are_read_when_asked_for(catalog: Catalog) -> None:
    """Only the region a command prices is read (43 files in the snapshot)."""
    from gridcloud.catalog.model import PriceTables

    tables = PriceTables(PACKAGED_DATA / "prices", catalog.machine_types)
    assert len(tables) == 43
    tables["asia-east1"]
    assert list(tables._read) == ["asia-east1"]


def test_zone_listed_only_in_machine_listing_is_known(catalog: Catalog) -> None:
    assert catalog.region_of("us-central1-d") == "us-central1"


def test_broken_catalog_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="MANIFEST.json"):
        read_catalog(tmp_path)


@pytest.mark.needs("shared")
def test_packaged_snapshot_is_built_from_the_shared_sources(tmp_path: Path) -> None:
    """The shipped data is exactly what the snapshot builder makes of ../shared/data/gcp,
    its MANIFEST included (every region with a price file there)."""
    build(SHARED / "data" / "gcp", tmp_path)
    regions = sorted(p.name for p in (PACKAGED_DATA / "prices").glob("*.csv"))
    assert sorted(p.name for p in (tmp_path / "prices").glob("*.csv")) == regions
    for name in (
        "machine_types.csv",
        "accelerators.csv",
        "zones.csv",
        "MANIFEST.json",
        *(f"prices/{r}" for r in regions),
    ):
        assert filecmp.cmp(tmp_path / name, PACKAGED_DATA / name, shallow=False), name


def test_a_catalog_in_another_layout_is_refused(tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    manifest = json.loads((copy / "MANIFEST.json").read_text())
    manifest["schema"] = 2
    (copy / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(CatalogError, match="schema 1"):
        read_catalog(copy)
