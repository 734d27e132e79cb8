"""What the Plan creates besides the nodes, when the catalog lacks their prices: a copy of
the catalog whose europe-west1 table has no Cloud NAT or address rows (an older or
hand-made copy, as GRIDCLOUD_CATALOG_DIR may name), and europe-west1's source has no
forwarding-rule price at all. Each such item is shown with what it counts and the price it
lacks, named in the estimate's `missing` and warnings; the totals they are part of are
unknown, not lower. The disks stay priced: pd-balanced at $0.10 a GB-month there
(../shared/data/gcp/other-prices-by-region.csv), a month is 730 hours."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.cost.estimate import Estimate, estimate
from gridcloud.plan import Plan

D = Decimal
REGION = "europe-west1"


@pytest.fixture(scope="module")
def without_nat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    copy = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    table = copy / "prices" / f"{REGION}.csv"
    lines = table.read_text().splitlines()
    kept = [
        line
        for line in lines
        if not line.startswith(("network,nat-gateway-", "network,external-ip,"))
    ]
    assert len(lines) - len(kept) == 3  # the gateway per VM, its cap, an address in use
    table.write_text("\n".join(kept) + "\n")
    return read_catalog(copy)


def in_europe_west1(data: dict[str, Any]) -> None:
    """The default facility's services in europe-west1, on an 80-core spot pool and an
    on-demand one (the GPU and Arm pools are not offered or priced there)."""
    data["target"]["region"] = REGION
    data["target"]["zones"] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
    data["pools"] = [p for p in data["pools"] if p["name"] in ("cpu", "ondemand")]
    data["pools"][0]["maxCores"] = 160  # 2 nodes
    data["pools"][1]["maxNodes"] = 2
    data["services"]["jupyter"]["dask"]["gpuWorkers"] = False


@pytest.fixture
def priced(make_plan_module: Callable[..., Plan], without_nat: Catalog) -> Estimate:
    return estimate(make_plan_module(in_europe_west1), without_nat)


def test_each_unpriced_item_says_what_it_counts_and_lacks(priced: Estimate) -> None:
    items = {i.item: i for i in priced.items}
    nat, addresses, rules = (
        items["Cloud NAT gateway"],
        items["Cloud NAT addresses"],
        items["forwarding rules"],
    )
    for item in (nat, addresses, rules):
        assert (item.idle_monthly, item.peak_hourly) == (None, None)
        assert item.source == f"unknown: no {item.missing} in the catalog"
    assert (nat.missing, nat.quantity) == (f"Cloud NAT gateway price in {REGION}", "")
    # 1 VM always on and 1 + 2 + 2 at peak, 64 ports each: one address either way
    assert addresses.missing == f"price of an external IPv4 address in use in {REGION}"
    assert addresses.quantity == "1; 1 at peak"
    # two hostnames (the hub, REANA), HTTPS and HTTP each
    assert rules.missing == f"forwarding-rule price in {REGION}"
    assert rules.quantity == "4: HTTPS and HTTP per hostname"


def test_the_disks_are_still_priced(priced: Estimate) -> None:
    disks = {i.item: i for i in priced.items if i.item not in _NETWORK}
    assert {k: (v.quantity, v.idle_monthly) for k, v in disks.items()} == {
        "REANA workspace (NFS)": ("200 GB pd-balanced", 200 * D("0.1")),
        "JupyterHub database": ("1 GB pd-balanced", 1 * D("0.1")),
        "home volumes": ("20 x 10 GB pd-balanced", 20 * 10 * D("0.1")),
    }
    for item in disks.values():
        assert item.peak_hourly == item.idle_monthly / 730  # type: ignore[operator]
        assert item.missing is None
        assert item.source == f"{REGION}: pricing.yml 2026-08-20"  # the disk row's basis


_NETWORK = {"Cloud NAT gateway", "Cloud NAT addresses", "forwarding rules"}


def test_the_totals_are_unknown_and_the_missing_prices_named(priced: Estimate) -> None:
    assert priced.idle_monthly is None and priced.peak_hourly is None
    assert priced.idle_hourly is None and priced.per_core_hour_at_peak is None
    assert priced.complete is False
    # the nodes themselves are priced
    assert all(p.idle_monthly is not None and p.peak_hourly is not None for p in priced.pools)
    assert priced.missing == (
        f"Cloud NAT gateway price in {REGION} (Cloud NAT gateway)",
        f"price of an external IPv4 address in use in {REGION} (Cloud NAT addresses)",
        f"forwarding-rule price in {REGION} (forwarding rules)",
    )
    for item in ("Cloud NAT gateway", "Cloud NAT addresses", "forwarding rules"):
        assert any(
            w.startswith(f"{item}: no ") and w.endswith(" in the catalog: its cost is unknown")
            for w in priced.warnings
        ), item
