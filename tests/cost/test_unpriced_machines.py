"""A machine type offered in the region but without a price there: C2 in europe-west1 (the
regional source lists no c2-standard-* row there and gives no C2 rates; only us-central1's
table has them). An on-demand pool of it names its on-demand price as missing; a spot pool
names its spot price only (its on-demand figure, the spot saving's reference, is unknown
too but is not one of its own figures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridcloud.catalog import Catalog
from gridcloud.cost.estimate import Estimate, PoolCost, estimate
from gridcloud.plan import Plan
from tests.conftest import services_off

REGION = "europe-west1"


def c2_pool(spot: bool) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        data["target"]["region"] = REGION
        data["target"]["zones"] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
        data["pools"] = [
            {
                "name": "c2",
                "kind": "cpu",
                "machineType": "c2-standard-8",
                "spot": spot,
                "maxNodes": 2,
            }
        ]

    return edit


def pool(cost: Estimate) -> PoolCost:
    return next(p for p in cost.pools if p.name == "c2")


def test_an_on_demand_pool_names_its_on_demand_price(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    cost = estimate(make_plan_module(c2_pool(spot=False)), catalog)
    c2 = pool(cost)
    assert c2.missing == (f"on-demand price of c2-standard-8 in {REGION}",)
    assert (c2.node_hourly, c2.node_hourly_ondemand, c2.peak_hourly) == (None, None, None)
    assert c2.basis == "unknown"
    assert f"on-demand price of c2-standard-8 in {REGION} (pool c2)" in cost.missing
    # one warning for it (the catalog's own "no price for ..." note says the same)
    assert [w for w in cost.warnings if w.startswith("pool c2: ")] == [
        f"pool c2: no on-demand price of c2-standard-8 in {REGION} in the catalog: its cost is "
        "unknown"
    ]
    assert cost.peak_hourly is None and cost.complete is False


def test_a_spot_pool_names_its_spot_price_only(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    cost = estimate(make_plan_module(c2_pool(spot=True)), catalog)
    c2 = pool(cost)
    assert c2.missing == (f"spot price of c2-standard-8 in {REGION}",)
    assert (c2.node_hourly_spot, c2.node_hourly_ondemand, c2.peak_hourly_ondemand) == (None,) * 3
    assert [m for m in cost.missing if "(pool c2)" in m] == [
        f"spot price of c2-standard-8 in {REGION} (pool c2)"
    ]
    # the pool scales to zero: nothing of it is always on
    assert c2.idle_monthly == 0


def test_a_boot_disk_without_a_price(make_plan_module: Callable[..., Plan], tmp_path: Any) -> None:
    """A copy of the catalog without europe-west1's pd-ssd row: a pool booting from pd-ssd
    names that price as missing, the machine's own price being known."""
    import shutil

    from gridcloud.catalog.model import PACKAGED_DATA, read_catalog

    copy = tmp_path / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    table = copy / "prices" / f"{REGION}.csv"
    lines = table.read_text().splitlines()
    kept = [line for line in lines if not line.startswith("disk,pd-ssd,")]
    assert len(kept) == len(lines) - 1
    table.write_text("\n".join(kept) + "\n")

    def edit(data: dict[str, Any]) -> None:
        c2_pool(spot=True)(data)
        data["pools"][0]["machineType"] = "n2d-highcpu-80"
        data["pools"][0]["diskType"] = "pd-ssd"

    cost = estimate(make_plan_module(edit), read_catalog(copy))
    c2 = pool(cost)
    assert c2.missing == (f"price of pd-ssd disks in {REGION}",)
    assert (c2.node_hourly, c2.peak_hourly) == (None, None)
    assert cost.complete is False
