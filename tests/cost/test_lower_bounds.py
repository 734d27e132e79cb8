"""A spot price from an older preemptible table is a lower bound: the GPU's as well as the
machine's. No packaged row is one today, so a copy of the catalog marks the T4's and the
L4's spot figures as such (their basis, as an older catalog's rows said it): a spot N1 pool
with an attached T4 is then priced "at least", while the same pool on demand, a plain N1
pool and a G2 pool (its L4 built into the machine's own current spot price) are not; a GPU
with no price at all is unknown, not a lower bound."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import PACKAGED_DATA, STALE_SPOT, read_catalog
from gridcloud.cost.estimate import Estimate, PoolCost, estimate
from gridcloud.plan import Plan
from tests.conftest import services_off


@pytest.fixture(scope="module")
def stale_gpus(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    copy = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    table = copy / "prices" / "us-central1.csv"
    rows = list(csv.reader(io.StringIO(table.read_text())))
    changed = 0
    for row in rows:
        if row[:2] in (["gpu", "nvidia-tesla-t4"], ["gpu", "nvidia-l4"]):
            row[5] = f"{STALE_SPOT} (cluster-autoscaler GCE price table 2026-07-30)"
            changed += 1
    assert changed == 2
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    table.write_text(out.getvalue())
    return read_catalog(copy)


def gpu_pool(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        kind = "gpu" if "accelerator" in fields else "cpu"
        data["pools"] = [{"name": "gpu", "kind": kind, "maxNodes": 2, **fields}]

    return edit


T4 = {"machineType": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 1}}


def pool(cost: Estimate) -> PoolCost:
    return next(p for p in cost.pools if p.name == "gpu")


def test_a_spot_pool_with_a_stale_gpu_spot_price_is_a_lower_bound(
    make_plan_module: Callable[..., Plan], stale_gpus: Catalog
) -> None:
    cost = estimate(make_plan_module(gpu_pool(spot=True, **T4)), stale_gpus)
    assert pool(cost).lower_bound is True and cost.lower_bound is True
    assert any(w.startswith("pool gpu: ") and "lower bound" in w for w in cost.warnings)


@pytest.mark.parametrize(
    "fields",
    [
        {"spot": False, **T4},  # on demand: the T4's list price is current
        {"spot": True, "machineType": "n1-standard-8"},  # no GPU
        {  # the L4 is in the machine's own spot price
            "spot": True,
            "machineType": "g2-standard-8",
            "accelerator": {"type": "nvidia-l4", "count": 1},
        },
    ],
)
def test_what_is_not_a_lower_bound(
    make_plan_module: Callable[..., Plan], stale_gpus: Catalog, fields: dict[str, Any]
) -> None:
    cost = estimate(make_plan_module(gpu_pool(**fields)), stale_gpus)
    assert pool(cost).lower_bound is False and cost.lower_bound is False
    assert not any("lower bound" in w for w in cost.warnings)


def test_a_gpu_without_a_price_is_unknown_not_a_lower_bound(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """europe-west4's source prices no T4."""

    def edit(data: dict[str, Any]) -> None:
        gpu_pool(spot=True, **T4)(data)
        data["target"]["region"] = "europe-west4"
        data["target"]["zones"] = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]

    cost = estimate(make_plan_module(edit), catalog)
    assert pool(cost).missing == ("spot price of nvidia-tesla-t4 in europe-west4",)
    assert pool(cost).lower_bound is False and cost.lower_bound is False


def test_a_stale_machine_spot_price_is_said_once(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """c2-standard-60's listed spot figure is from an older preemptible table and C2 has no
    current spot rates: the pool is priced at it, a lower bound, said in one warning (the
    catalog's own note on it is not repeated)."""
    cost = estimate(make_plan_module(gpu_pool(spot=True, machineType="c2-standard-60")), catalog)
    assert pool(cost).lower_bound is True and pool(cost).node_hourly is not None
    assert [w for w in cost.warnings if w.startswith("pool gpu: ")] == [
        "pool gpu: its spot price is from an older preemptible table (no current figure to "
        "derive it from): a lower bound"
    ]
