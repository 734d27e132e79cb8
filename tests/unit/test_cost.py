"""Cost arithmetic against examples worked by hand (prices: catalog of 2026-07-30, us-central1).

Boot disks are pd-balanced at $0.100 per GB-month; a month is 730 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost.budget import enforce, verdict
from gridcloud.cost.estimate import Estimate, estimate
from gridcloud.errors import BudgetError, ExitCode
from gridcloud.facility import analyse
from gridcloud.plan import Plan
from tests.conftest import PROFILES, services_off

MakePlan = Callable[..., Plan]
D = Decimal


def pool(result: Estimate, name: str) -> Any:
    return next(p for p in result.pools if p.name == name)


def test_small_profile_worked_by_hand(catalog: Catalog) -> None:
    result = analyse(PROFILES / "small.yaml")
    cost = result.estimate
    # control e2-standard-4: 0.13402 x 730 = 97.8346, + 50 GB x 0.100 = 5.00 -> 102.83
    assert pool(cost, "control").idle_monthly == D("102.83")
    # GKE fee 0.10 x 730 = 73.00, all of it covered by the zonal free tier (74.40)
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly) == (D("73.00"), D("73.00"))
    assert cost.idle_monthly == D("102.83")
    # cpu: 160 cores = 2 x n2d-highcpu-80 spot at 0.7222 + 100 GB x 0.100 / 730 = 0.73589863
    cpu = pool(cost, "cpu")
    assert (cpu.max_nodes, cpu.node_hourly, cpu.peak_hourly) == (2, D("0.7359"), D("1.47"))
    # ... on demand: 2 x (2.4950 + 0.01369863) = 5.01739726
    assert cpu.peak_hourly_ondemand == D("5.02")
    # gpu: g2-standard-4 spot 0.3973 (L4 included) + 0.01369863
    assert pool(cost, "gpu").node_hourly == D("0.4110")
    # notebooks: 2 x e2-standard-8 on demand at 0.26805 + 0.01369863 = 0.56349726
    assert pool(cost, "notebooks").peak_hourly == D("0.56")
    # peak: 0.13402 + 0.00684932 + 1.47179726 + 0.41099863 + 0.56349726 = 2.58716247
    assert cost.peak_hourly == D("2.59")
    # 4 + 160 + 4 + 16 cores
    assert cost.peak_cores == 184
    assert cost.per_core_hour_at_peak == D("0.0141")
    assert cost.complete is True
    # runway: (500 - 102.83) / (2.59 - 0.1409) = 162.17 h
    assert result.verdict.runway_hours == D("162.2")
    assert result.verdict.status == "within"


def test_default_profile_worked_by_hand(catalog: Catalog) -> None:
    cost = analyse(PROFILES / "default.yaml").estimate
    # control e2-standard-2: 0.06701 x 730 = 48.9173 + 5.00 disk
    assert cost.idle_monthly == D("53.92")
    # 1,250 x (0.7222 + 0.01369863) = 919.87; on demand 1,250 x (2.4950 + 0.01369863)
    assert pool(cost, "cpu").peak_hourly == D("919.87")
    assert pool(cost, "cpu").peak_hourly_ondemand == D("3135.87")
    # n1-standard-8 spot 0.08 + T4 spot 0.11 + disk 0.01369863 = 0.20369863 per node
    assert pool(cost, "gpu").node_hourly == D("0.2037")
    assert pool(cost, "gpu").node_hourly_ondemand == D("0.7437")  # 0.38 + 0.35 + disk
    # n2d-standard-16 has no listed price: on demand from the n2d rates,
    # 16 x 0.027502 + 64 GB x 0.003686 = 0.675936, + disk = 0.68963463; 10 nodes
    assert pool(cost, "ondemand").node_hourly == D("0.6896")
    assert pool(cost, "ondemand").peak_hourly == D("6.90")
    # arm: 20 x (0.7868 + 0.01369863) = 16.0099726
    # 0.07385932 + 919.8732875 + 3.25917808 + 6.8963463 + 16.0099726 = 946.1126
    assert cost.peak_hourly == D("946.11")


def test_regional_cluster_pays_the_management_fee(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    cost = estimate(make_plan(edit), catalog)
    assert cost.gke_free_tier_monthly == D("0.00")
    assert cost.idle_monthly == D("126.92")  # 53.92 + 73.00


def test_minimum_nodes_are_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 2

    cost = estimate(make_plan(edit), catalog)
    # 2 x 0.73589863 x 730 = 1074.41
    assert pool(cost, "cpu").idle_monthly == D("1074.41")
    assert cost.idle_monthly == D("1128.33")


def test_region_without_prices_is_a_warning_not_zero(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["target"]["region"] = "europe-west4"
        data["target"]["zones"] = ["europe-west4-a", "europe-west4-b"]
        data["pools"] = [data["pools"][0]]
        services_off(data)

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert cost.complete is False
    assert any("no prices for europe-west4" in w for w in cost.warnings)
    result = verdict(plan, cost)
    assert result.status == "unknown" and result.blocks_deploy


def test_unpriced_spot_type_is_incomplete(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["machineType"] = "n2d-highcpu-16"
        data["pools"][0]["maxCores"] = 1600

    cost = estimate(make_plan(edit), catalog)
    cpu = pool(cost, "cpu")
    assert cpu.node_hourly is None and cpu.peak_hourly is None
    # on demand is derived from the n2d rates: 0.499008 + disk 0.01369863
    assert cpu.node_hourly_ondemand == D("0.5127")
    assert cost.complete is False
    assert any("no spot price for n2d-highcpu-16" in w for w in cost.warnings)


def test_budget_over_on_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["monthly"] = 50
        data["budget"]["minRunwayHours"] = 0

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.status == "over"
    assert "53.92" in result.reasons[0]
    with pytest.raises(BudgetError) as info:
        enforce(result, allow_over_budget=False)
    assert info.value.exit_code == ExitCode.OVER_BUDGET
    enforce(result, allow_over_budget=True)


def test_budget_over_on_runway(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["minRunwayHours"] = 40  # the default budget buys 26.4 h at peak

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.status == "over"
    assert result.runway_hours == D("26.4")
    assert "budget.minRunwayHours" in result.reasons[0]


def test_runway_of_default_profile(make_plan: MakePlan, catalog: Catalog) -> None:
    plan = make_plan()
    result = verdict(plan, estimate(plan, catalog))
    # (25,000 - 53.92) / (946.11 - 0.0739) = 26.37 h
    assert result.runway_hours == D("26.4")
    assert result.status == "within" and not result.blocks_deploy


def test_on_prem_costs_nothing_and_is_not_gated() -> None:
    result = analyse(PROFILES / "onprem.yaml")
    assert result.estimate.idle_monthly == D("0.00")
    assert result.verdict.status == "not-applicable"
    assert not result.verdict.blocks_deploy
