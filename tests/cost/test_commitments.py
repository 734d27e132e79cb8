"""Committed-use figures beside the always-on nodes, off the default path: an on-demand N1
pool with attached GPUs (priced only when the catalog has the GPU's commitment price: a copy
of the catalog with the row added, as a user adds one), a G2 pool whose L4 is built in, and
the pools that commit to nothing (spot, or nothing always on).

us-central1 figures from ../shared/data/gcp/machine-prices-by-region.csv (2026-08-20):
n1-standard-8 on demand 0.379998, 1-year 0.23939, 3-year 0.17101 an hour; g2-standard-8
(1 L4 built in) 1-year 0.537783286, 3-year 0.384130899. A pool's 100 GB pd-balanced boot
disk is 100 x 0.10 / 730 an hour, at list under any commitment. A month is 730 hours.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.cost.estimate import Estimate, PoolCost, estimate
from gridcloud.plan import Plan

D = Decimal
HOURS = 730
DISK100 = D(100) * D("0.10") / HOURS
#: The T4's commitment prices the copy of the catalog is given (the packaged one has none).
T4_1Y, T4_3Y = D("0.22"), D("0.16")


def pool(cost: Estimate, name: str) -> PoolCost:
    return next(p for p in cost.pools if p.name == name)


def with_pool(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["pools"] = [p for p in data["pools"] if p["name"] != "gpu"]
        kind = "gpu" if "accelerator" in fields else "cpu"
        data["pools"].append({"name": "gpu", "kind": kind, **fields})

    return edit


def n1_t4(count: int, **more: Any) -> Callable[[dict[str, Any]], None]:
    return with_pool(
        machineType="n1-standard-8",
        accelerator={"type": "nvidia-tesla-t4", "count": count},
        **more,
    )


@pytest.fixture(scope="module")
def committed_t4(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The packaged catalog with the T4's 1- and 3-year prices filled in for us-central1."""
    copy = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    prices = copy / "prices" / "us-central1.csv"
    lines = prices.read_text().splitlines()
    (row,) = [i for i, line in enumerate(lines) if line.startswith("gpu,nvidia-tesla-t4,")]
    assert lines[row].endswith(",,")  # no commitment prices in the packaged row
    lines[row] = lines[row][:-2] + f",{T4_1Y},{T4_3Y}"
    prices.write_text("\n".join(lines) + "\n")
    return read_catalog(Path(copy))


def test_an_always_on_n1_pool_with_two_t4s_commits_machine_and_gpus(
    make_plan_module: Callable[..., Plan], committed_t4: Catalog
) -> None:
    plan = make_plan_module(n1_t4(2, spot=False, minNodes=2, maxNodes=4))
    assert plan.pool("gpu").disk_size_gb == 100
    gpu = pool(estimate(plan, committed_t4), "gpu")
    # an on-demand pool has no spot figure of its own
    assert gpu.node_hourly_spot is None
    assert gpu.node_hourly == gpu.node_hourly_ondemand == D("0.379998") + 2 * D("0.35") + DISK100
    # 2 nodes x 730 hours x (machine + 2 GPUs at the committed rate + the disk at list)
    assert gpu.one_year_commitment_monthly == (D("0.23939") + 2 * T4_1Y + DISK100) * 2 * HOURS
    assert gpu.three_year_commitment_monthly == (D("0.17101") + 2 * T4_3Y + DISK100) * 2 * HOURS


def test_without_the_gpus_commitment_price_the_pools_is_unknown(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """The packaged catalog has no commitment price for the T4: the machine alone would
    understate it, so there is none (null), not the machine's."""
    cost = estimate(make_plan_module(n1_t4(1, spot=False, minNodes=1, maxNodes=2)), catalog)
    gpu = pool(cost, "gpu")
    assert (gpu.one_year_commitment_monthly, gpu.three_year_commitment_monthly) == (None, None)
    # the same machine without a GPU has its figures
    plain = estimate(
        make_plan_module(
            with_pool(machineType="n1-standard-8", spot=False, minNodes=3, maxNodes=3)
        ),
        catalog,
    )
    gpu = pool(plain, "gpu")
    assert gpu.one_year_commitment_monthly == (D("0.23939") + DISK100) * 3 * HOURS
    assert gpu.three_year_commitment_monthly == (D("0.17101") + DISK100) * 3 * HOURS


def test_a_built_in_l4_is_in_its_machines_commitment_price(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    plan = make_plan_module(
        with_pool(
            machineType="g2-standard-8",
            accelerator={"type": "nvidia-l4", "count": 1},
            spot=False,
            minNodes=1,
            maxNodes=2,
        )
    )
    gpu = pool(estimate(plan, catalog), "gpu")
    assert gpu.one_year_commitment_monthly == (D("0.537783286") + DISK100) * HOURS
    assert gpu.three_year_commitment_monthly == (D("0.384130899") + DISK100) * HOURS


@pytest.mark.parametrize(
    "fields",
    [
        {"spot": True, "minNodes": 2, "maxNodes": 4},  # spot VMs take no commitment
        {"spot": False, "minNodes": 0, "maxNodes": 4},  # nothing runs all month
    ],
)
def test_what_commits_to_nothing(
    make_plan_module: Callable[..., Plan], committed_t4: Catalog, fields: dict[str, Any]
) -> None:
    gpu = pool(estimate(make_plan_module(n1_t4(1, **fields)), committed_t4), "gpu")
    assert (gpu.one_year_commitment_monthly, gpu.three_year_commitment_monthly) == (None, None)


def test_a_spot_n1_pool_with_an_always_on_minimum(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """Spot VMs get no sustained-use discount, even running all month; the same peak on
    demand gives the always-on node N1's 30 % on its machine and its GPUs (each quarter of
    the month at 100, 80, 60 and 40 %: 0.7 on average), the others at list."""
    cost = estimate(make_plan_module(n1_t4(2, spot=True, minNodes=1, maxNodes=3)), catalog)
    gpu = pool(cost, "gpu")
    spot = D("0.17836") + 2 * D("0.14") + DISK100  # n1-standard-8 and 2 T4s, spot
    ondemand = D("0.379998") + 2 * D("0.35") + DISK100
    assert (gpu.node_hourly, gpu.node_hourly_spot, gpu.always_on_node_hourly) == (spot,) * 3
    assert gpu.node_hourly_ondemand == ondemand
    assert gpu.sustained_use_discount == 0
    assert gpu.idle_monthly == spot * HOURS
    assert gpu.peak_hourly == 3 * spot
    always_on = (D("0.379998") + 2 * D("0.35")) * D("0.7") + DISK100
    assert gpu.peak_hourly_ondemand == always_on + 2 * ondemand
    assert (gpu.min_nodes, gpu.max_nodes, gpu.max_cores, gpu.spot, gpu.machine_type) == (
        1,
        3,
        3 * 8,
        True,
        "n1-standard-8",
    )
    assert gpu.basis == "spot 2026-08-20 (pricing.yml)"
    assert gpu.missing == () and gpu.lower_bound is False
