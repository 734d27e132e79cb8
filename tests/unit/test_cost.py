"""Cost arithmetic against examples worked by hand from the source files in
../shared/data/gcp (us-central1: ``*-by-region.csv`` of 2026-08-20, and for what those lack
``prices-us-central1.csv`` and ``gpu-prices-us-central1.csv`` of 2026-07-30).

Boot disks are pd-balanced at $0.1 per GB-month in us-central1; a month is 730 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud import money
from gridcloud.analysis import analyse
from gridcloud.catalog import Catalog
from gridcloud.cost.budget import enforce, verdict
from gridcloud.cost.estimate import Estimate, estimate
from gridcloud.errors import BudgetError, ExitCode
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
    # control e2-standard-4 (not listed: the e2 rates of family-rates-by-region.csv):
    # 4 x 0.02181159 + 16 GB x 0.00292353 = 0.13402284; x 730 = 97.8366732, + 50 GB x 0.1
    assert pool(cost, "control").idle_monthly == D("102.8366732")
    # GKE fee 0.10 x 730 = 73.00, all of it covered by the zonal free tier (74.40)
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly) == (D("73.00"), D("73.00"))
    # + Cloud NAT for the one always-on VM (0.0448 / 32 x 730 = 1.022) and its address
    # (0.005 x 730 = 3.65), the hub's two forwarding rules (0.025 x 730 = 18.25), its
    # 1 GB database and 20 x 10 GB homes (20.10): 102.8366732 + 43.022 = 145.8586732; and
    # its database's snapshots: 1 GB in full + 6 more kept x 10 % changed = 1.6 GB x 0.05
    # (the profile's price) = 0.08: 145.9386732
    assert cost.idle_monthly == D("145.9386732")
    # cpu: 160 cores = 2 x n2d-highcpu-80 spot at 0.87448 + 100 GB x 0.1 / 730 = 0.88817863
    cpu = pool(cost, "cpu")
    assert (cpu.max_nodes, rate(cpu.node_hourly), cents(cpu.peak_hourly)) == (
        2,
        D("0.8882"),
        D("1.78"),
    )
    # ... on demand: 2 x (2.49504 + 0.01369863) = 5.01747726
    assert cents(cpu.peak_hourly_ondemand) == D("5.02")
    # gpu: g2-standard-4 spot = 4 x G2's spot per vCPU with 4 GB ((0.512012 - 0.3359) / 8 =
    # 0.022014, from g2-standard-8 less its L4) + the L4's 0.3359, + disk: 0.43765463
    assert rate(pool(cost, "gpu").node_hourly) == D("0.4377")
    # notebooks: 2 x e2-standard-8 on demand (8 x 0.02181159 + 32 x 0.00292353 =
    # 0.26804568) + 0.01369863 = 0.56348862
    assert cents(pool(cost, "notebooks").peak_hourly) == D("0.56")
    # peak: idle 145.8586732 / 730 = 0.1998064, + the elastic nodes 1.77635726 + 0.43765463
    # + 0.56348862, + Cloud NAT for 5 more VMs (5 x 0.0014): 2.98430691 (+ 0.08 / 730 of
    # snapshots: 2.98441650)
    assert cents(cost.peak_hourly) == D("2.98")
    # 4 + 160 + 4 + 16 cores
    assert cost.peak_cores == 184
    assert rate(cost.per_core_hour_at_peak) == D("0.0162")  # 2.98430691 / 184
    assert cost.complete is True
    # runway from the exact figures: (500 - 145.9386732) / (2.98441650 - 0.19991599)
    # = 127.153 h
    assert result.verdict.runway_hours is not None
    assert money.hours(result.verdict.runway_hours) == D("127.2")
    assert result.verdict.status == "within"


def test_default_profile_worked_by_hand(catalog: Catalog) -> None:
    cost = analyse(PROFILES / "default.yaml").estimate
    # control e2-standard-2: 0.06701142 x 730 = 48.9183366 + 5.00 disk
    assert cents(pool(cost, "control").idle_monthly) == D("53.92")
    # 1,250 x (0.87448 + 0.01369863) = 1110.2232875; on demand 1,250 x (2.49504 + 0.01369863)
    assert cents(pool(cost, "cpu").peak_hourly) == D("1110.22")
    assert cents(pool(cost, "cpu").peak_hourly_ondemand) == D("3135.92")
    # n1-standard-8 spot 0.17836 + T4 spot 0.14 (the later Billing Catalog figure, not the
    # retired preemptible 0.11) + disk 0.01369863 = 0.33205863: not a lower bound
    gpu = pool(cost, "gpu")
    assert rate(gpu.node_hourly) == D("0.3321")
    assert gpu.lower_bound is False and cost.lower_bound is False
    assert rate(pool(cost, "gpu").node_hourly_ondemand) == D("0.7437")  # 0.379998 + 0.35 + disk
    # n2d-standard-16: 0.675936 + disk = 0.68963463; 10 nodes
    assert rate(pool(cost, "ondemand").node_hourly) == D("0.6896")
    assert cents(pool(cost, "ondemand").peak_hourly) == D("6.90")
    # arm: 20 x (0.904608 + 0.01369863) = 18.3661326
    # idle 116.9403366 / 730 = 0.16019224, + 1110.2232875 + 16 x 0.33205863 + 6.8963463
    # + 18.3661326 for the nodes, + at peak Cloud NAT's 0.0448 (over the idle 0.0014) and
    # its second address 0.005: 1141.0073; + the backups' snapshots, 32.08 / 730 = 0.0439
    # an hour (see the itemised bill): 1141.0512; + the data the profile expects a month,
    # 1,433.60 (test_the_default_data_rows) spread over 730 hours, 1.9638: 1143.0151
    assert cents(cost.peak_hourly) == D("1143.02")


def test_regional_cluster_pays_the_management_fee(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    cost = estimate(make_plan(edit), catalog)
    assert cost.gke_free_tier_monthly == D("0")
    assert cents(cost.idle_monthly) == D("189.94")  # 116.9403366 + 73.00


def test_minimum_nodes_are_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 2

    cost = estimate(make_plan(edit), catalog)
    # 2 x 0.88817863 x 730 = 1296.7408
    assert cents(pool(cost, "cpu").idle_monthly) == D("1296.74")
    # + the default's 116.9403366, + Cloud NAT for 2 more VMs (2 x 0.0014 x 730 = 2.044)
    assert cents(cost.idle_monthly) == D("1415.73")


def without(catalog: Catalog, region: str) -> Catalog:
    """The catalog as a refresh that left ``region`` out would be."""
    import dataclasses

    tables = {r: catalog.price_tables[r] for r in catalog.price_tables if r != region}
    return dataclasses.replace(catalog, price_tables=tables)


def in_europe_west4(data: dict[str, Any]) -> None:
    data["target"]["region"] = "europe-west4"
    data["target"]["zones"] = ["europe-west4-a", "europe-west4-b"]
    for each in data["pools"]:
        each.pop("zones", None)


def test_region_without_prices_is_a_warning_not_zero(make_plan: MakePlan, catalog: Catalog) -> None:
    """A region the catalog has no table for: every pool is still shown, unknown."""

    def edit(data: dict[str, Any]) -> None:
        in_europe_west4(data)
        data["pools"] = [data["pools"][0]]
        services_off(data)

    plan = make_plan(edit)
    cost = estimate(plan, without(catalog, "europe-west4"))
    assert cost.complete is False
    assert any("no prices for europe-west4" in w for w in cost.warnings)
    assert [p.name for p in cost.pools] == ["control", "cpu"]
    assert all(p.node_hourly is None and p.missing for p in cost.pools)
    result = verdict(plan, cost)
    assert result.status == "unknown" and result.blocks_deploy
    assert "every price in europe-west4" in result.reasons[0]
    assert "catalog refresh --project P --region europe-west4" in result.reasons[0]


def test_unpriced_spot_type_is_incomplete(make_plan: MakePlan, catalog: Catalog) -> None:
    """C2 has no spot rates and c2-standard-30 no listed row: spot unknown, and named; on
    demand from C2's rates, 30 x 0.03398 + 120 GB x 0.00455 = 1.5654, + disk 0.01369863."""

    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["machineType"] = "c2-standard-30"
        data["pools"][0]["maxCores"] = 1500

    cost = estimate(make_plan(edit), catalog)
    cpu = pool(cost, "cpu")
    assert cpu.node_hourly is None and cpu.peak_hourly is None
    assert rate(cpu.node_hourly_ondemand) == D("1.5791")
    assert cpu.missing == ("spot price of c2-standard-30 in us-central1",)
    assert cost.complete is False
    assert "spot price of c2-standard-30 in us-central1 (pool cpu)" in cost.missing


def test_budget_over_on_idle_cost(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["monthly"] = 50
        data["budget"]["minRunwayHours"] = 0

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.status == "over"
    # the idle 116.9403366 by hand (above), shown as every amount is (gridcloud.money.shown)
    assert result.reasons[0] == ("the idle cost, $116.94 a month, is above the budget of $50.00")
    with pytest.raises(BudgetError) as info:
        enforce(result, allow_over_budget=False)
    assert info.value.exit_code == ExitCode.OVER_BUDGET
    enforce(result, allow_over_budget=True)


def test_budget_over_on_runway(make_plan: MakePlan, catalog: Catalog) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"]["minRunwayHours"] = 40  # the default budget buys 21.8 h at peak

    plan = make_plan(edit)
    result = verdict(plan, estimate(plan, catalog))
    assert result.status == "over"
    assert cents(result.runway_hours) == D("21.81")
    assert "budget.minRunwayHours" in result.reasons[0]


def test_runway_of_default_profile(make_plan: MakePlan, catalog: Catalog) -> None:
    plan = make_plan()
    result = verdict(plan, estimate(plan, catalog))
    # (25,000 - 116.9403366) / (1140.79870448 elastic nodes + 0.0434 NAT + 0.005 NAT
    # address at peak over idle) = 21.81 h
    assert cents(result.runway_hours) == D("21.81")
    assert not any("lower bounds" in r for r in result.reasons)
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
        data["pools"][0]["machineType"] = "c2-standard-30"
        data["pools"][0]["maxCores"] = 1500

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert cost.peak_hourly is None and cost.per_core_hour_at_peak is None
    # its minimum is 0 nodes: the idle cost is known all the same
    assert cents(cost.idle_monthly) == D("116.94")
    result = verdict(plan, cost)
    assert result.status == "unknown" and result.blocks_deploy
    assert result.runway_hours is None
    assert "no spot price of c2-standard-30 in us-central1 (pool cpu)" in result.reasons[0]


def test_a_region_without_prices_is_unknown_everywhere_but_the_gke_fee(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        in_europe_west4(data)
        data["pools"] = [data["pools"][0]]
        data["cluster"]["availability"] = "regional"
        services_off(data)

    cost = estimate(make_plan(edit), without(catalog, "europe-west4"))
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
    # one always-on VM through Cloud NAT: 0.0448 / 32 x 730; one NAT address: 0.005 x 730
    assert cents(items["Cloud NAT gateway"].idle_monthly) == D("1.02")
    assert cents(items["Cloud NAT addresses"].idle_monthly) == D("3.65")
    # two HTTPS entry points, each an HTTPS and an HTTP (redirect) rule: 4, within the
    # first five (0.025 an hour together)
    assert cents(items["forwarding rules"].idle_monthly) == D("18.25")
    # 200 GB REANA workspace, the hub's 1 GB database, 20 expected users x 10 GB homes,
    # pd-balanced at 0.1 per GB-month
    assert items["REANA workspace (NFS)"].idle_monthly == D("20.0")
    assert items["JupyterHub database"].idle_monthly == D("0.1")
    assert items["home volumes"].idle_monthly == D("20.0")
    # the nightly snapshots of those 401 GB, 7 kept: the first in full and 6 more of the
    # profile's 10 % changed: 401 x 1.6 = 641.6 GB, at the profile's 0.05 per GB-month
    assert items["volume snapshots (backups)"].idle_monthly == D("32.08")
    assert "the profile: cloud.google.com" in items["volume snapshots (backups)"].source
    # 53.9183366 + 1.022 + 3.65 + 18.25 + 20 + 0.10 + 20 + 32.08 = 149.0203366, + the data
    # rows (below) 1,433.60 = 1,582.6203366
    assert cents(cost.idle_monthly) == D("1582.62")
    # at peak 1,297 VMs: the NAT gateway at its cap (0.0448) above 32 VMs, and
    # ceil(1,297 x 64 / 64,512) = 2 addresses
    assert items["Cloud NAT gateway"].peak_hourly == D("0.0448")
    assert items["Cloud NAT addresses"].peak_hourly == D("0.010")
    assert any("egress" in a for a in cost.assumptions)
    # every item says where its price comes from and when
    assert "2026-08-20" in items["Cloud NAT gateway"].source
    assert "2026-11" in items["forwarding rules"].source


def test_the_default_data_rows(catalog: Catalog) -> None:
    """The default profile's ``data.monthly``, by hand from
    ../shared/data/gcp/other-prices-by-region.csv, us-central1 (lines 382-385):
    internet-egress-0-1TiB 0.12, internet-egress-1-10TiB 0.11 per GiB, gcs-standard 0.02 per
    GiB-month; coldline from the profile's own price, 0.004 per GiB-month."""
    result = analyse(PROFILES / "default.yaml")
    cost = result.estimate
    rows = {i.item: i.idle_monthly for i in cost.items if i.data}
    # users' 2,048 GiB and other sites' 3,072 GiB share the bands: 5,120 GiB; the first
    # 1,024 x 0.12 = 122.88, the next 4,096 x 0.11 = 450.56
    assert rows == {
        "internet egress, the first 1 TiB": D("122.88"),
        "internet egress, 1 to 10 TiB": D("450.56"),
        # 30,720 GiB x 0.02 = 614.40; 61,440 GiB x 0.004 = 245.76
        "Cloud Storage, standard class": D("614.40"),
        "Cloud Storage, coldline class": D("245.76"),
    }
    # 122.88 + 450.56 + 614.40 + 245.76
    assert cost.data_monthly == D("1433.60")
    # the runway after them: (25,000 - 1,582.6203366) / (1,143.0150777 - 1,582.6203366 /
    # 730) = 23,417.3796634 / 1,140.8471046 = 20.53 hours, above the profile's 20
    runway = result.verdict.runway_hours
    assert runway is not None
    assert money.hours(runway) == D("20.5")
    assert result.verdict.status == "within"


def test_nat_and_forwarding_rule_prices_at_their_boundaries(catalog: Catalog) -> None:
    from gridcloud.catalog.limits import nat_addresses
    from gridcloud.cost.estimate import _nat_hourly, _rules_hourly

    network = catalog.prices("us-central1").network  # type: ignore[union-attr]
    assert _nat_hourly(0, network) == 0
    assert _nat_hourly(32, network) == D("0.0448")  # 32 x 0.0014
    assert _nat_hourly(33, network) == D("0.0448")  # the gateway's cap above 32 VMs
    assert _rules_hourly(0, network) == 0
    assert _rules_hourly(5, network) == D("0.025")
    assert _rules_hourly(6, network) == D("0.035")
    assert (nat_addresses(0, 64), nat_addresses(1, 64), nat_addresses(1008, 64)) == (0, 1, 1)
    assert nat_addresses(1009, 64) == 2


def test_on_prem_prices_no_items_and_an_unpriced_region_prices_nothing(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    assert analyse(PROFILES / "onprem.yaml").estimate.items == ()

    cost = estimate(make_plan(in_europe_west4), without(catalog, "europe-west4"))
    assert cost.idle_monthly is None
    assert len(cost.pools) == 5
    # the items are shown with their quantities, every price unknown and named
    items = {i.item: i for i in cost.items}
    assert items["home volumes"].quantity == "20 x 10 GB pd-balanced"
    assert items["home volumes"].missing == "price of pd-balanced disks in europe-west4"
    assert all(i.idle_monthly is None and i.missing for i in cost.items)


def test_stale_spot_prices_come_from_the_familys_current_spot_rates(catalog: Catalog) -> None:
    """An unlisted type of a family with published rates is priced from them, on demand
    and spot: n2-highmem-80 (80 vCPU, 640 GB) in us-central1 at 80 x 0.01814 + 640 x
    0.002432 = 3.00768 spot and 80 x 0.031611 + 640 x 0.004237 = 5.24056 on demand."""
    prices = catalog.prices("us-central1")
    assert prices is not None
    highmem = prices.machine(catalog.machine_types["n2-highmem-80"])
    assert (highmem.spot, highmem.ondemand) == (D("3.00768"), D("5.24056"))
    assert not highmem.spot_lower_bound
    # no regional rates for C2: its row of the older table stays, a lower bound
    c2 = prices.machine(catalog.machine_types["c2-standard-60"])
    assert (c2.spot, c2.spot_lower_bound) == (D("0.7579"), True)
    # listed rows are used as they are
    assert prices.machine(catalog.machine_types["n2d-highcpu-80"]).spot == D("0.87448")


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
        # just above the idle cost: nothing is left for the peak, and nothing is over
        ("116.95", "within", D("0.0")),
        # the idle cost as shown, 116.94, is 0.0003366 below it: over
        ("116.94", "over", D("0.0")),
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
    # the default idle cost is 116.9403366: a budget of 116.95 covers it by 0.0097
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
    """An older table's g2-standard-8 at 0.91 on demand; G2's rates (0.024988 a vCPU,
    0.002927 a GB) and the L4 as g2-standard-4 prices it (0.7068 - 4 x 0.024988 - 16 x
    0.002927 = 0.560016) make it 8 x 0.024988 + 32 x 0.002927 + 0.560016 = 0.853584."""
    import dataclasses

    from gridcloud.catalog.model import bundled_ondemand_fixes

    prices = catalog.prices("us-central1")
    assert prices is not None
    basis = "spot 2026-07-30 (billing catalog via cost calculator)"
    old = {
        "g2-standard-4": (D("0.7068"), D("0.3973"), basis),
        "g2-standard-8": (D("0.91"), D("0.27"), "older preemptible table (lower bound; refresh)"),
    }
    rates = {"g2": D("0.024988")}, {"g2": D("0.002927")}
    fixes = bundled_ondemand_fixes(old, catalog.machine_types, *rates)
    table = dataclasses.replace(
        prices, machines=old, ondemand_fixes=fixes, family_spot_vcpu={}, family_spot_memory={}
    )
    g2 = table.machine(catalog.machine_types["g2-standard-8"])
    assert g2.ondemand == D("0.853584")
    assert "the listed 0.91 disagrees" in g2.basis
    # a consistent row is left as listed
    assert table.machine(catalog.machine_types["g2-standard-4"]).ondemand == D("0.7068")
