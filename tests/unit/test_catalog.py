from __future__ import annotations

import filecmp
from decimal import Decimal
from pathlib import Path

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.catalog.snapshot import build
from gridcloud.errors import CatalogError
from tests.conftest import shared_dir


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
    assert (quote.ondemand, quote.spot) == (Decimal("2.4950"), Decimal("0.7222"))
    assert "2026-07-30" in quote.basis
    assert prices.gke_fee_hour == Decimal("0.10")
    assert prices.gke_free_tier_month == Decimal("74.40")


def test_unlisted_type_is_derived_on_demand_and_has_no_spot(catalog: Catalog) -> None:
    prices = catalog.prices("us-central1")
    assert prices is not None
    quote = prices.machine(catalog.machine_types["n2d-highcpu-16"])
    # 16 vCPU x 0.027502 + 16 GB x 0.003686, the n2d family rates
    assert quote.ondemand == Decimal("0.499008")
    assert quote.spot is None
    assert any("no spot price" in n for n in quote.notes)


def test_region_without_prices_is_none_not_zero(catalog: Catalog) -> None:
    assert "europe-west4" in catalog.regions
    assert catalog.prices("europe-west4") is None


def test_zone_listed_only_in_machine_listing_is_known(catalog: Catalog) -> None:
    assert catalog.region_of("us-central1-d") == "us-central1"


def test_broken_catalog_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="MANIFEST.json"):
        read_catalog(tmp_path)


def test_packaged_snapshot_is_built_from_the_shared_sources(tmp_path: Path) -> None:
    """The shipped data is exactly what the snapshot builder makes of ../shared/data/gcp,
    its MANIFEST included (every region with a price file there)."""
    build(shared_dir() / "data" / "gcp", tmp_path)
    for name in (
        "machine_types.csv",
        "accelerators.csv",
        "zones.csv",
        "prices/us-central1.csv",
        "MANIFEST.json",
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
