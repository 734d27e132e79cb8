"""Cost arithmetic against examples worked by hand (prices: catalog of 2026-07-30, us-central1).

Boot disks are pd-balanced at $0.100 per GB-month; a month is 730 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost import money
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


def cents(value: Decimal | None) -> Decimal | None:
    """As shown: to the cent, half up (the estimate itself is exact)."""
    return None if value is None else money.amount(value)


def rate(value: Decimal | None) -> Decimal | None:
    return None if value is None else money.rate(value)


def test_small_profile_worked_by_hand(catalog: Catalog) -> None:
    result = analyse(PROFILES / "small.yaml")
    cost = result.estimate
    # control e2-standard-4: 0.13402 x 730 = 97.8346, + 50 GB x 0.100 = 5.00 -> 102.83
    assert pool(cost, "control").idle_monthly == D("102.8346")
    # GKE fee 0.10 x 730 = 73.00, all of it covered by the zonal free tier (74.40)
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly) == (D("73.00"), D("73.00"))
    # + Cloud NAT for the one always-on VM (0.0014 x 730 = 1.022) and its address
    # (0.005 x 730 = 3.65), the hub's two forwarding rules (0.025 x 730 = 18.25), its
    # 1 GB database and 20 x 10 GB homes (20.10): 102.8346 + 43.022 = 145.8566
    assert cost.idle_monthly == D("145.8566")
    # cpu: 160 cores = 2 x n2d-highcpu-80 spot at 0.7222 + 100 GB x 0.100 / 730 = 0.73589863
    cpu = pool(cost, "cpu")
    assert (cpu.max_nodes, rate(cpu.node_hourly), cents(cpu.peak_hourly)) == (
        2,
        D("0.7359"),
        D("1.47"),
    )
    # ... on demand: 2 x (2.4950 + 0.01369863) = 5.01739726
    assert cents(cpu.peak_hourly_ondemand) == D("5.02")
    # gpu: g2-standard-4 spot 0.3973 (L4 included) + 0.01369863
    assert rate(pool(cost, "gpu").node_hourly) == D("0.4110")
    # notebooks: 2 x e2-standard-8 on demand at 0.26805 + 0.01369863 = 0.56349726
    assert cents(pool(cost, "notebooks").peak_hourly) == D("0.56")
    # peak: idle 145.8566 / 730 = 0.19980356, + the elastic nodes 1.47179726 + 0.41099863
    # + 0.56349726, + Cloud NAT for 5 more VMs (5 x 0.0014): 2.65309671
    assert cents(cost.peak_hourly) == D("2.65")
    # 4 + 160 + 4 + 16 cores
    assert cost.peak_cores == 184
    assert rate(cost.per_core_hour_at_peak) == D("0.0144")  # 2.65309671 / 184
    assert cost.complete is True
    # runway from the exact figures: (500 - 145.8566) / (2.65309671 - 0.19980356)
    # = 144.355 h (from figures rounded first, 145.86 and 2.65, it would be 144.3)
    assert result.verdict.runway_hours is not None
    assert money.hours(result.verdict.runway_hours) == D("144.4")
    assert result.verdict.status == "within"


def test_default_profile_worked_by_hand(catalog: Catalog) -> None:
    cost = analyse(PROFILES / "default.yaml").estimate
    # control e2-standard-2: 0.06701 x 730 = 48.9173 + 5.00 disk
    assert cents(pool(cost, "control").idle_monthly) == D("53.92")
    # 1,250 x (0.7222 + 0.01369863) = 919.87; on demand 1,250 x (2.4950 + 0.01369863)
    assert cents(pool(cost, "cpu").peak_hourly) == D("919.87")
    assert cents(pool(cost, "cpu").peak_hourly_ondemand) == D("3135.87")
    # n1-standard-8: its listed spot 0.08 is from an older preemptible table; N1's current
    # spot/on-demand ratio (n1-standard-4: 0.067 / 0.19) gives 0.38 x 0.35263 = 0.134;
    # + T4 spot 0.11 (a lower bound: no current figure) + disk 0.01369863 = 0.25769863
    gpu = pool(cost, "gpu")
    assert rate(gpu.node_hourly) == D("0.2577")
    assert gpu.lower_bound is True and cost.lower_bound is True
    assert rate(pool(cost, "gpu").node_hourly_ondemand) == D("0.7437")  # 0.38 + 0.35 + disk
    # n2d-standard-16 has no listed price: on demand from the n2d rates,
    # 16 x 0.027502 + 64 GB x 0.003686 = 0.675936, + disk = 0.68963463; 10 nodes
    assert rate(pool(cost, "ondemand").node_hourly) == D("0.6896")
    assert cents(pool(cost, "ondemand").peak_hourly) == D("6.90")
    # arm: 20 x (0.7868 + 0.01369863) = 16.0099726
    # 0.07385932 + 919.8732875 + 16 x 0.25769863 + 6.8963463 + 16.0099726 = 946.9766 for
    # the nodes, + at peak Cloud NAT's flat 0.044 and its 2 addresses 0.010, the 4
    # forwarding rules 0.025, the disks 40.10 / 730 = 0.05493151: 947.1106
    assert cents(cost.peak_hourly) == D("947.11")


def test_regional_cluster_pays_the_management_fee(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    cost = estimate(make_plan(edit), catalog)
    assert cost.gke_free_tier_monthly == D("0")
    assert cents(cost.idle_monthly) == D("189.94")  # 116.9393 + 73.00


def test_minimum_nodes_are_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 2

    cost = estimate(make_plan(edit), catalog)
    # 2 x 0.73589863 x 730 = 1074.41
    assert cents(pool(cost, "cpu").idle_monthly) == D("1074.41")
    # + the default's 116.9393, + Cloud NAT for 2 more VMs (2 x 0.0014 x 730 = 2.044)
    assert cents(cost.idle_monthly) == D("1193.40")


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
    assert rate(cpu.node_hourly_ondemand) == D("0.5127")
    assert cost.complete is False
    assert any("no spot price for n2d-highcpu-16" in w for w in cost.warnings)


def test_budget_over_on_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["monthly"] = 50
        data["budget"]["minRunwayHours"] = 0

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.status == "over"
    assert "116.94" in result.reasons[0]
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
    assert cents(result.runway_hours) == D("26.28")
    assert "budget.minRunwayHours" in result.reasons[0]


def test_runway_of_default_profile(make_plan: MakePlan, catalog: Catalog) -> None:
    plan = make_plan()
    result = verdict(plan, estimate(plan, catalog))
    # (25,000 - 116.9393) / (946.90278448 elastic nodes + 0.0426 NAT + 0.005 NAT address
    # at peak over idle) = 26.28 h
    assert cents(result.runway_hours) == D("26.28")
    # and the verdict says the peak is a lower bound (the T4's spot price)
    assert any("lower bounds" in r for r in result.reasons)
    assert result.status == "within" and not result.blocks_deploy


def test_on_prem_costs_nothing_and_is_not_gated() -> None:
    result = analyse(PROFILES / "onprem.yaml")
    assert result.estimate.idle_monthly == D("0.00")
    assert result.verdict.status == "not-applicable"
    assert not result.verdict.blocks_deploy


def test_an_always_on_n2d_control_node_gets_the_sustained_use_discount(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["controlNode"]["machineType"] = "n2d-standard-2"
        data["controlNode"]["diskSizeGb"] = 50

    cost = estimate(make_plan(edit), catalog)
    control = pool(cost, "control")
    # n2d-standard-2 from the n2d rates: 2 x 0.027502 + 8 GB x 0.003686 = 0.084492 per hour;
    # a whole month pays (1 + 0.8678 + 0.733 + 0.598) / 4 = 0.7997 of it:
    # 0.084492 x 730 x 0.7997 = 49.32482425, + 50 GB x 0.100 = 54.32482425
    assert control.sustained_use_discount == D("0.2003")
    assert cents(control.idle_monthly) == D("54.32")
    # at list price (no discount) it would have been 66.68
    assert cents(control.node_hourly * 730) == D("66.68")


def test_n1_always_on_nodes_and_their_gpus_get_thirty_percent(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["controlNode"]["machineType"] = "n1-standard-4"
        gpu = next(p for p in data["pools"] if p["name"] == "gpu")
        gpu["spot"] = False
        gpu["minNodes"] = 1

    cost = estimate(make_plan(edit), catalog)
    # n1-standard-4 0.19 x 730 x 0.7 = 97.09, + 5.00 disk
    assert cents(pool(cost, "control").idle_monthly) == D("102.09")
    # one on-demand n1-standard-8 (0.38) with a T4 (0.35), both at 70 %, + 100 GB disk:
    # (0.73 x 0.7 + 0.01369863) x 730 = 383.03
    gpu = pool(cost, "gpu")
    assert gpu.sustained_use_discount == D("0.3")
    assert cents(gpu.idle_monthly) == D("383.03")


def test_e2_and_spot_nodes_get_no_sustained_use_discount(catalog: Catalog) -> None:
    cost = analyse(PROFILES / "default.yaml").estimate
    assert pool(cost, "control").sustained_use_discount == 0  # e2-standard-2
    assert pool(cost, "cpu").sustained_use_discount == 0  # n2d, but spot


def test_an_unpriced_pool_leaves_the_peak_unknown_not_lower(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["machineType"] = "n2d-highcpu-16"
        data["pools"][0]["maxCores"] = 1600

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert cost.peak_hourly is None and cost.per_core_hour_at_peak is None
    # its minimum is 0 nodes: the idle cost is known all the same
    assert cents(cost.idle_monthly) == D("116.94")
    result = verdict(plan, cost)
    assert result.status == "unknown" and result.blocks_deploy
    assert result.runway_hours is None


def test_a_region_without_prices_is_unknown_everywhere_but_the_gke_fee(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["target"]["region"] = "europe-west4"
        data["target"]["zones"] = ["europe-west4-a", "europe-west4-b"]
        data["pools"] = [data["pools"][0]]
        data["cluster"]["availability"] = "regional"
        services_off(data)

    cost = estimate(make_plan(edit), catalog)
    assert (cost.idle_monthly, cost.idle_hourly, cost.peak_hourly) == (None, None, None)
    assert cost.per_core_hour_at_peak is None
    # $0.10 per cluster-hour in every region; a regional cluster has no free tier
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly) == (D("73.00"), D("0"))


def test_alert_amounts_round_half_up(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["monthly"] = "1000.05"
        data["budget"]["alertThresholds"] = [0.5]

    budget = make_plan(edit).budget
    assert budget is not None
    # 500.025: half up is 500.03 (half-even would give 500.02)
    assert budget.alert_amounts == (D("500.03"),)


def test_the_default_idle_bill_itemises_what_the_plan_creates(catalog: Catalog) -> None:
    cost = analyse(PROFILES / "default.yaml").estimate
    items = {i.item: i for i in cost.items}
    # one always-on VM through Cloud NAT: 0.0014 x 730; one NAT address: 0.005 x 730
    assert cents(items["Cloud NAT gateway"].idle_monthly) == D("1.02")
    assert cents(items["Cloud NAT addresses"].idle_monthly) == D("3.65")
    # two HTTPS entry points, each an HTTPS and an HTTP (redirect) rule: 4, within the
    # first five (0.025 an hour together)
    assert cents(items["forwarding rules"].idle_monthly) == D("18.25")
    # 200 GB REANA workspace, the hub's 1 GB database, 20 expected users x 10 GB homes,
    # pd-balanced at 0.100 per GB-month
    assert items["REANA workspace (NFS)"].idle_monthly == D("20.000")
    assert items["JupyterHub database"].idle_monthly == D("0.100")
    assert items["home volumes"].idle_monthly == D("20.000")
    # 53.9173 + 1.022 + 3.65 + 18.25 + 20 + 0.10 + 20 = 116.9393
    assert cents(cost.idle_monthly) == D("116.94")
    # at peak 1,297 VMs: the NAT gateway's flat rate above 32 VMs, and
    # ceil(1,297 x 64 / 64,512) = 2 addresses
    assert items["Cloud NAT gateway"].peak_hourly == D("0.044")
    assert items["Cloud NAT addresses"].peak_hourly == D("0.010")
    assert any("egress" in a for a in cost.assumptions)


def test_nat_and_forwarding_rule_prices_at_their_boundaries(catalog: Catalog) -> None:
    from gridcloud.catalog.limits import nat_addresses
    from gridcloud.cost.estimate import _nat_hourly, _rules_hourly

    network = catalog.prices("us-central1").network  # type: ignore[union-attr]
    assert _nat_hourly(0, network) == 0
    assert _nat_hourly(32, network) == D("0.0448")  # 32 x 0.0014
    assert _nat_hourly(33, network) == D("0.044")  # the flat rate above 32 VMs
    assert _rules_hourly(0, network) == 0
    assert _rules_hourly(5, network) == D("0.025")
    assert _rules_hourly(6, network) == D("0.035")
    assert (nat_addresses(0, 64), nat_addresses(1, 64), nat_addresses(1008, 64)) == (0, 1, 1)
    assert nat_addresses(1009, 64) == 2


def test_on_prem_and_unpriced_regions_price_no_items(make_plan: MakePlan, catalog: Catalog) -> None:
    assert analyse(PROFILES / "onprem.yaml").estimate.items == ()

    def edit(data: dict[str, Any]) -> None:
        data["target"]["region"] = "europe-west4"
        data["target"]["zones"] = ["europe-west4-a", "europe-west4-b"]
        for pool in data["pools"]:
            pool.pop("zones", None)

    cost = estimate(make_plan(edit), catalog)
    assert cost.items == () and cost.idle_monthly is None


def test_stale_spot_prices_come_from_the_familys_current_spot_rates(catalog: Catalog) -> None:
    """Spot is priced per vCPU and per GB within a family: n2-standard-80 (80 vCPU, 320 GB)
    at 1.8424 and n2-highcpu-80 (80, 80 GB) at 1.36 give 0.01499 a vCPU and 0.00201 a GB;
    n2-highmem-80 (80, 640 GB) then costs 1.1992 + 1.2864 = 2.4856, not the listed 1.2681."""
    prices = catalog.prices("us-central1")
    assert prices is not None
    highmem = prices.machine(catalog.machine_types["n2-highmem-80"])
    assert highmem.spot == D("2.4856") and not highmem.spot_lower_bound
    # one current row only (e2-standard-2: 0.04021 / 0.06701): its ratio
    e2 = prices.machine(catalog.machine_types["e2-standard-4"])
    assert e2.spot is not None and rate(e2.spot) == D("0.0804")  # 0.13402 x 0.60006
    # no current spot row in the family (C2): the stale figure is kept as a lower bound
    c2 = prices.machine(catalog.machine_types["c2-standard-60"])
    assert (c2.spot, c2.spot_lower_bound) == (D("0.7579"), True)
    # current rows are used as they are
    assert prices.machine(catalog.machine_types["n2d-highcpu-80"]).spot == D("0.7222")


def test_a_pool_on_a_lower_bound_spot_price_says_so(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["machineType"] = "c2-standard-60"
        data["pools"][0]["maxCores"] = 600
        gpu = next(p for p in data["pools"] if p["name"] == "gpu")
        gpu["spot"] = False  # on demand: the T4's list price is current

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert pool(cost, "cpu").lower_bound is True
    assert pool(cost, "gpu").lower_bound is False
    assert any("pool cpu" in w and "lower bound" in w for w in cost.warnings)
    assert any("lower bounds" in r for r in verdict(plan, cost).reasons)


def test_four_gpus_a_node_are_priced_four_times(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        gpu = next(p for p in data["pools"] if p["name"] == "gpu")
        gpu["accelerator"]["count"] = 4
        gpu["spot"] = False

    gpu = pool(estimate(make_plan(edit), catalog), "gpu")
    # on demand: n1-standard-8 0.38 + 4 x T4 0.35 + 100 GB x 0.100 / 730 = 1.79369863
    assert rate(gpu.node_hourly) == D("1.7937")
    assert cents(gpu.peak_hourly) == D("28.70")  # 16 nodes


@pytest.mark.parametrize(
    ("monthly", "status", "runway"),
    [
        # the idle cost exactly: nothing is left for the peak, and nothing is over
        ("116.94", "within", D("0.0")),
        # a cent below it: over
        ("116.93", "over", D("0.0")),
    ],
)
def test_runway_at_the_idle_cost_boundary(
    make_plan: MakePlan, catalog: Catalog, monthly: str, status: str, runway: Decimal
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["monthly"] = monthly
        data["budget"]["minRunwayHours"] = 0

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    # the default idle cost is 116.9393: a budget of 116.94 covers it by 0.0007
    result = verdict(plan, cost)
    assert result.status == status
    assert result.runway_hours is not None and money.hours(result.runway_hours) == runway


def test_a_facility_with_nothing_elastic_has_no_runway(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"] = [data["pools"][0]]
        data["pools"][0]["minNodes"] = data["pools"][0]["maxNodes"] = 1
        data["pools"][0].pop("maxCores", None)
        services_off(data)

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.runway_hours is None
    assert "no elastic cost" in result.reasons[-1]


def test_old_prices_are_flagged_in_the_estimate(make_plan: MakePlan, catalog: Catalog) -> None:
    import dataclasses
    import datetime as dt

    plan = make_plan()
    old = dataclasses.replace(catalog, captured=dt.date.today() - dt.timedelta(days=91))
    fresh = dataclasses.replace(catalog, captured=dt.date.today() - dt.timedelta(days=90))
    assert any("91 days ago" in w and "catalog refresh" in w for w in estimate(plan, old).warnings)
    assert not any("days ago" in w for w in estimate(plan, fresh).warnings)


def test_a_listed_price_that_disagrees_with_its_family_is_corrected(catalog: Catalog) -> None:
    """g2-standard-8 is listed at 0.91 on demand; G2's rates (0.024988 a vCPU, 0.002927 a
    GB) and the L4 as g2-standard-4 prices it (0.7068 - 4 x 0.024988 - 16 x 0.002927 =
    0.560016) make it 8 x 0.024988 + 32 x 0.002927 + 0.560016 = 0.853584."""
    prices = catalog.prices("us-central1")
    assert prices is not None
    g2 = prices.machine(catalog.machine_types["g2-standard-8"])
    assert g2.ondemand == D("0.853584")
    assert "the listed 0.91 disagrees" in g2.basis
    # its stale spot figure (0.27) from G2's current ratio, on the corrected price
    assert g2.spot is not None and rate(g2.spot) == D("0.4798")  # 0.853584 x 0.3973 / 0.7068
    # a consistent row is left as listed
    assert prices.machine(catalog.machine_types["g2-standard-4"]).ondemand == D("0.7068")
