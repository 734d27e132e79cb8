"""A pool with fallback shapes (a GKE ComputeClass) priced at its dearest rule, off the
default path: in europe-west4, where a bigger spot shape costs more than the pool's own for
the same demand (so the class's cores at peak are that shape's, not the pool's); and in
us-central1 with a shape that has no spot price, which leaves the class, and the
facility's peak, unknown rather than priced at the rules that have one.

Prices from ../shared/data/gcp (2026-08-20), europe-west4: n2d-highcpu-80 spot 1.10576,
n2-highcpu-80 spot 0.98432, c2d-highcpu-112 spot 1.689856 an hour; pd-balanced 0.11 a
GB-month; 100 GB boot disks; 730 hours a month.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost.estimate import estimate
from gridcloud.plan import Plan
from tests.conftest import services_off
from tests.unit.test_regions import Source

D = Decimal
HOURS = 730

pytestmark = pytest.mark.needs("shared")  # the europe-west4 figures come from ../shared


def one_pool(region: str, zones: list[str], shapes: list[dict[str, Any]]) -> Callable[..., None]:
    """The control node and one spot pool of 800 cores of n2d-highcpu-80 with ``shapes``."""

    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        data["target"]["region"] = region
        data["target"]["zones"] = zones
        data["pools"] = [
            {
                "name": "cpu",
                "kind": "cpu",
                "machineType": "n2d-highcpu-80",
                "spot": True,
                "maxCores": 800,
                "fallback": {"shapes": shapes},
            }
        ]

    return edit


EUROPE_WEST4 = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]


def test_the_dearest_rule_is_a_bigger_shape_and_its_cores_count(
    make_plan_module: Callable[..., Plan], catalog: Catalog, source: Source
) -> None:
    shapes = [{"machineType": "c2d-highcpu-112"}, {"machineType": "n2-highcpu-80"}]
    plan = make_plan_module(one_pool("europe-west4", EUROPE_WEST4, shapes))
    cost = estimate(plan, catalog)
    (cls,) = cost.classes
    assert (cls.pool, cls.rules) == ("cpu", ("cpu", "cpu-f1", "cpu-f2"))
    disk = source.disk_hourly("europe-west4", 100)

    def spot(machine: str) -> Decimal:
        return source.machine(machine, "europe-west4", "spot") + disk

    # 800 cores: 10 n2d-highcpu-80, ceil(800 / 112) = 8 c2d-highcpu-112, 10 n2-highcpu-80
    demand = {"cpu": 10 * spot("n2d-highcpu-80"), "cpu-f1": 8 * spot("c2d-highcpu-112")}
    demand["cpu-f2"] = 10 * spot("n2-highcpu-80")
    assert max(demand, key=lambda k: demand[k]) == "cpu-f1"  # 13.64 against 11.21 and 9.99
    assert (cls.priced_at, cls.elastic_hourly) == ("cpu-f1", demand["cpu-f1"])
    assert cls.peak_cores == 8 * 112
    # the facility's cores at peak: the control node's 2 and the class's 896, once
    assert cost.peak_cores == 2 + 896
    assert cost.complete is True
    # nothing of the class is always on; each rule pool's own figures are still shown
    assert [p.idle_monthly for p in cost.pools if p.name.startswith("cpu")] == [0, 0, 0]


def test_a_rule_without_a_price_leaves_the_class_unknown(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """C2 has no spot rate in the catalog: the c2-standard-30 rule's spot price is missing,
    so the dearest rule cannot be known (it may be that one)."""
    shapes = [{"machineType": "c2-standard-30"}]
    plan = make_plan_module(one_pool("us-central1", ["us-central1-a", "us-central1-b"], shapes))
    cost = estimate(plan, catalog)
    (cls,) = cost.classes
    assert (cls.priced_at, cls.elastic_hourly) == (None, None)
    # the cores it may reach: its largest rule, ceil(800 / 30) = 27 x 30 = 810
    assert cls.peak_cores == 810
    assert cost.peak_cores == 2 + 810
    assert cost.peak_hourly is None and cost.per_core_hour_at_peak is None
    assert cost.idle_monthly is not None  # nothing of it runs at idle
    assert cost.complete is False
    assert "spot price of c2-standard-30 in us-central1 (pool cpu-f1)" in cost.missing
