"""The corpus's Google Cloud profiles (tests/corpus) priced by hand from the source files
(../shared/data/gcp), in the test: every pool, Cloud NAT, the addresses and the disks, and
the forwarding rules that the regional source does not price (a named unknown outside
us-central1). Node counts are worked from the profiles (maxCores / vCPUs)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gridcloud import money
from gridcloud.analysis import Analysis, analyse
from gridcloud.cost.estimate import Estimate, PoolCost
from tests.conftest import ROOT
from tests.unit.test_regions import HOURS, Source

CORPUS = ROOT / "tests" / "corpus"
D = Decimal


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


def corpus(name: str) -> Analysis:
    return analyse(CORPUS / f"{name}.yaml")  # committed beside the tests: never skipped


def pool(result: Estimate, name: str) -> PoolCost:
    return next(p for p in result.pools if p.name == name)


def e2(source: Source, region: str, vcpus: int, gb: int) -> Decimal:
    """An E2 type the source does not list: the region's per-vCPU and per-GB rates."""
    rates = source.families["e2", region]
    return vcpus * D(rates["ondemand_usd_per_vcpu_hour"]) + gb * D(
        rates["ondemand_usd_per_gb_hour"]
    )


def known_idle(cost: Estimate) -> Decimal:
    """The idle month of what has a price: the pools and the priced items."""
    parts = [p.idle_monthly for p in cost.pools] + [i.idle_monthly for i in cost.items]
    return sum((p for p in parts if p is not None), D(0))


def test_l4_notebooks_in_europe_west4(source: Source) -> None:
    """ml-west4: e2-standard-4 control, 96 cores of on-demand n2d-standard-16 (6 nodes),
    6 on-demand g2-standard-8 (L4), a zonal cluster (the free tier covers the fee), one
    hub hostname, 20 homes of 10 GB."""
    region = "europe-west4"
    result = corpus("europe-west4-l4-jupyter")
    cost = result.estimate
    balanced = source.other["pd-balanced", region]  # 0.11 per GB-month
    control = e2(source, region, 4, 16) * HOURS + 50 * balanced
    assert pool(cost, "control").idle_monthly == control
    assert money.amount(control) == D("113.21")  # 0.14754408 x 730 = 107.7071784, + 5.50
    notebooks = source.machine("n2d-standard-16", region, "ondemand") + balanced * 100 / HOURS
    l4 = source.machine("g2-standard-8", region, "ondemand") + balanced * 100 / HOURS
    assert pool(cost, "notebooks").node_hourly == notebooks
    assert pool(cost, "notebooks").peak_hourly == 6 * notebooks
    assert pool(cost, "l4").peak_hourly == 6 * l4
    assert money.amount(6 * l4) == D("5.47")  # 6 x (0.897201806 + 0.01506849)
    items = {i.item: i for i in cost.items}
    assert items["Cloud NAT gateway"].peak_hourly == 13 * source.nat_per_vm(region)
    assert items["home volumes"].idle_monthly == 20 * 10 * balanced
    # the hub's HTTPS and HTTP rules: no price in the regional source
    assert items["forwarding rules"].idle_monthly is None
    assert cost.missing == ("forwarding-rule price in europe-west4 (forwarding rules)",)
    idle = (
        control
        + source.nat_per_vm(region) * HOURS
        + source.other["external-ip-in-use", region] * HOURS
        + 1 * balanced
        + 200 * balanced
    )
    assert known_idle(cost) == idle
    assert cost.idle_monthly is None and cost.peak_hourly is None
    assert result.verdict.status == "unknown"
    assert "forwarding-rule price in europe-west4" in result.verdict.reasons[0]
    # the control node committed: no listed e2-standard-4, so no commitment price
    assert pool(cost, "control").one_year_commitment_monthly is None


def test_a_regional_facility_in_europe_west1(source: Source) -> None:
    """af-west1: regional (the fee, no free tier), 2,400 spot cores of n2d-highcpu-80 (30
    nodes), 6 on-demand n2d-standard-16, REANA and JupyterHub (two hostnames)."""
    region = "europe-west1"
    result = corpus("europe-west1-regional")
    cost = result.estimate
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly) == (D("73.00"), D(0))
    balanced = source.other["pd-balanced", region]
    disk = balanced * 100 / HOURS
    cpu = source.machine("n2d-highcpu-80", region, "spot") + disk
    assert pool(cost, "cpu").peak_hourly == 30 * cpu
    assert pool(cost, "cpu").peak_hourly_ondemand == 30 * (
        source.machine("n2d-highcpu-80", region, "ondemand") + disk
    )
    ondemand = source.machine("n2d-standard-16", region, "ondemand") + disk
    assert pool(cost, "ondemand").peak_hourly == 6 * ondemand
    control = e2(source, region, 4, 16) * HOURS + 50 * balanced
    items = {i.item: i for i in cost.items}
    assert items["forwarding rules"].quantity.startswith("4:")
    assert items["forwarding rules"].idle_monthly is None
    idle = (
        control
        + source.nat_per_vm(region) * HOURS
        + source.other["external-ip-in-use", region] * HOURS
        + (200 + 1 + 200) * balanced
    )
    assert known_idle(cost) == idle
    # 37 VMs at peak: the NAT gateway at its cap
    assert items["Cloud NAT gateway"].peak_hourly == source.other["cloud-nat-gateway", region]
    assert result.verdict.status == "unknown"


def test_a_summer_school_in_us_central1_is_priced_in_full(source: Source) -> None:
    """google-login: us-central1, where forwarding rules have a price (Google's pricing
    page, 2026-11: 0.025 an hour for the first five): a complete estimate."""
    region = "us-central1"
    result = corpus("google-login")
    cost = result.estimate
    assert cost.complete and cost.missing == ()
    balanced = source.other["pd-balanced", region]
    control = e2(source, region, 4, 16) * HOURS + 50 * balanced
    idle = (
        control
        + source.nat_per_vm(region) * HOURS
        + source.other["external-ip-in-use", region] * HOURS
        + D("0.025") * HOURS
        + (1 + 60 * 10) * balanced
    )
    assert cost.idle_monthly == idle
    assert money.amount(idle) == D("185.86")
    disk = balanced * 100 / HOURS
    workers = 4 * (source.machine("n2d-highcpu-80", region, "spot") + disk)  # 320 cores
    notebooks = 6 * (e2(source, region, 8, 32) + disk)
    peak = idle / HOURS + workers + notebooks + 10 * source.nat_per_vm(region)
    assert abs(cost.peak_hourly - peak) < D("1e-20")  # type: ignore[operator]
