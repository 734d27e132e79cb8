"""Estimates outside us-central1, against figures worked by hand in the test from the source
files (../shared/data/gcp/*-by-region.csv), not from the catalog the code reads; the GPU
spot figures; the guidance past GKE's per-zone limit.

A month is 730 hours; every figure is compared exactly, or to the cent where it is shown.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud import money
from gridcloud.catalog import Catalog
from gridcloud.cost.budget import verdict
from gridcloud.cost.estimate import Estimate, PoolCost, estimate
from gridcloud.errors import PlanError
from gridcloud.plan import Plan
from tests.conftest import PROFILES, SHARED, services_off

MakePlan = Callable[..., Plan]
D = Decimal
HOURS = 730


class Source:
    """The regional source files, read as a person would look figures up in them."""

    def __init__(self) -> None:
        folder = SHARED / "data" / "gcp"

        def rows(name: str) -> list[dict[str, str]]:
            with (folder / name).open(newline="") as f:
                return list(csv.DictReader(f))

        self.machines = {
            (r["machine_type"], r["region"]): r for r in rows("machine-prices-by-region.csv")
        }
        self.families = {(r["family"], r["region"]): r for r in rows("family-rates-by-region.csv")}
        self.other = {
            (r["item"], r["region"]): D(r["usd"]) for r in rows("other-prices-by-region.csv")
        }
        self.gpus = {
            (r["accelerator_type"], r["region"]): r for r in rows("gpu-prices-by-region.csv")
        }

    def machine(self, name: str, region: str, column: str) -> Decimal:
        return D(self.machines[name, region][f"{column}_usd_per_hour"])

    def disk_hourly(self, region: str, gb: int, disk: str = "pd-balanced") -> Decimal:
        return self.other[disk, region] * gb / HOURS

    def nat_per_vm(self, region: str) -> Decimal:
        """The gateway is charged per VM up to 32 VMs: its cap / 32."""
        return self.other["cloud-nat-gateway", region] / 32


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


def pool(result: Estimate, name: str) -> PoolCost:
    return next(p for p in result.pools if p.name == name)


def cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else money.amount(value)


def same(value: Decimal | None, expected: Decimal) -> bool:
    """Equal but for the last of Decimal's 28 digits (sums taken in another order)."""
    return value is not None and abs(value - expected) < D("1e-20")


def in_region(region: str, zones: list[str]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["target"]["region"] = region
        data["target"]["zones"] = zones
        data["description"] = f"in {region}"
        services_off(data)

    return edit


@pytest.mark.needs("shared")
def test_a_2000_core_facility_in_europe_west4(
    make_plan: MakePlan, catalog: Catalog, source: Source
) -> None:
    """The issue's facility: a control node and 2,000 spot cores of n2d-highcpu-80, zonal."""
    region = "europe-west4"

    def edit(data: dict[str, Any]) -> None:
        in_region(region, ["europe-west4-a", "europe-west4-b"])(data)
        data["pools"] = [
            {
                "name": "cpu",
                "kind": "cpu",
                "machineType": "n2d-highcpu-80",
                "spot": True,
                "maxCores": 2000,
            },
        ]

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert cost.complete and cost.missing == ()
    # control: e2-standard-2 on demand (no sustained-use discount for E2), 50 GB pd-balanced
    control = (
        source.machine("e2-standard-2", region, "ondemand") * HOURS
        + 50 * source.other["pd-balanced", region]
    )
    assert pool(cost, "control").idle_monthly == control
    # one VM through Cloud NAT and its one address, always; the fee under the free tier
    nat = source.nat_per_vm(region) * HOURS
    address = source.other["external-ip-in-use", region] * HOURS
    idle = control + nat + address
    assert cost.idle_monthly == idle
    assert cents(cost.idle_monthly) == D("64.03")  # 53.8535892 + 5.50 + 1.022 + 3.65
    # 25 nodes of 80 cores, spot, each with a 100 GB boot disk
    node = source.machine("n2d-highcpu-80", region, "spot") + source.disk_hourly(region, 100)
    assert pool(cost, "cpu").node_hourly == node
    # at peak: 26 VMs through NAT (under its 32-VM cap), still one address
    peak = idle / HOURS + 25 * node + 25 * source.nat_per_vm(region)
    assert math.ceil(26 * 64 / 64_512) == 1
    assert cost.peak_hourly == peak
    # 64.0255892 / 730 + 25 x (1.10576 + 11 / 730) + 25 x 0.0014 = 28.1434
    assert cents(cost.peak_hourly) == D("28.14")
    # the same peak on demand
    ondemand = source.machine("n2d-highcpu-80", region, "ondemand") + source.disk_hourly(
        region, 100
    )
    assert pool(cost, "cpu").peak_hourly_ondemand == 25 * ondemand
    # every item names its region and date
    assert all(region in i.source and "2026-08-20" in i.source for i in cost.items)
    result = verdict(plan, cost)
    assert result.status == "within"


@pytest.mark.needs("shared")
def test_a_regional_cluster_in_europe_west1_with_always_on_nodes(
    make_plan: MakePlan, catalog: Catalog, source: Source
) -> None:
    """Regional (no free tier), an on-demand N2D pool with one node always on (sustained
    use), a spot C2D pool, and the commitments beside the always-on nodes."""
    region = "europe-west1"

    def edit(data: dict[str, Any]) -> None:
        in_region(region, ["europe-west1-b", "europe-west1-c", "europe-west1-d"])(data)
        data["cluster"]["availability"] = "regional"
        data["pools"] = [
            {
                "name": "ondemand",
                "kind": "cpu",
                "machineType": "n2d-standard-16",
                "spot": False,
                "minNodes": 1,
                "maxNodes": 4,
            },
            {
                "name": "cpu",
                "kind": "cpu",
                "machineType": "c2d-highcpu-112",
                "spot": True,
                "maxNodes": 10,
            },
        ]

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    assert cost.complete
    disk50, disk100 = source.disk_hourly(region, 50), source.disk_hourly(region, 100)
    control = source.machine("e2-standard-2", region, "ondemand") + disk50
    # N2D always on: each quarter of the month at 100 %, 86.78 %, 73.3 %, 59.8 % of list
    n2d_month = (D(1) + D("0.8678") + D("0.733") + D("0.598")) / 4
    n2d = source.machine("n2d-standard-16", region, "ondemand")
    always_on = n2d * n2d_month + disk100
    assert pool(cost, "ondemand").idle_monthly == always_on * HOURS
    fee = D("0.10") * HOURS  # no free tier for a regional cluster
    assert cost.gke_free_tier_monthly == 0
    nat = 2 * source.nat_per_vm(region) * HOURS
    address = source.other["external-ip-in-use", region] * HOURS
    idle = (control + always_on) * HOURS + fee + nat + address
    assert cost.idle_monthly == idle
    spot_c2d = source.machine("c2d-highcpu-112", region, "spot") + disk100
    peak = (
        idle / HOURS
        + 3 * (n2d + disk100)
        + 10 * spot_c2d
        + 13 * source.nat_per_vm(region)  # 15 VMs at peak, under the 32-VM cap
    )
    assert same(cost.peak_hourly, peak)
    # peakHourlyOndemand prices the always-on node as peakHourly does (sustained use)
    assert pool(cost, "ondemand").peak_hourly_ondemand == pool(cost, "ondemand").peak_hourly
    # commitments: the always-on node's machine at the 1- and 3-year rates, disk at list
    ondemand_pool = pool(cost, "ondemand")
    for committed, column in (
        (ondemand_pool.one_year_commitment_monthly, "cud1y"),
        (ondemand_pool.three_year_commitment_monthly, "cud3y"),
    ):
        assert committed == (source.machine("n2d-standard-16", region, column) + disk100) * HOURS
    control_pool = pool(cost, "control")
    assert (
        control_pool.three_year_commitment_monthly
        == (source.machine("e2-standard-2", region, "cud3y") + disk50) * HOURS
    )
    assert (
        control_pool.three_year_commitment_monthly
        < control_pool.one_year_commitment_monthly
        < control_pool.idle_monthly
    )  # type: ignore[operator]
    # spot pools commit to nothing
    assert pool(cost, "cpu").one_year_commitment_monthly is None


@pytest.mark.needs("shared")
def test_a_gpu_not_priced_in_the_region_is_a_named_unknown(
    make_plan: MakePlan, catalog: Catalog, source: Source
) -> None:
    """The source has no T4 price outside us-central1: europe-west4's T4 pool is shown with
    its machine known, its cost unknown, and the verdict names the price and the way to
    get it."""
    region = "europe-west4"
    assert ("nvidia-tesla-t4", region) not in source.gpus

    def edit(data: dict[str, Any]) -> None:
        in_region(region, ["europe-west4-a", "europe-west4-b"])(data)
        data["pools"] = [p for p in data["pools"] if p["name"] in ("cpu", "gpu")]
        data["pools"][0]["maxCores"] = 800

    plan = make_plan(edit)
    cost = estimate(plan, catalog)
    gpu = pool(cost, "gpu")
    assert (gpu.machine_type, gpu.max_nodes) == ("n1-standard-8", 16)
    assert gpu.node_hourly is None and gpu.peak_hourly is None
    assert gpu.missing == ("spot price of nvidia-tesla-t4 in europe-west4",)
    assert gpu.idle_monthly == 0  # no node at idle costs nothing, whatever its price
    assert gpu.lower_bound is False
    # the rest is priced
    cpu = pool(cost, "cpu")
    assert cpu.node_hourly == source.machine("n2d-highcpu-80", region, "spot") + source.disk_hourly(
        region, 100
    )
    assert cost.idle_monthly is not None and cost.peak_hourly is None
    result = verdict(plan, cost)
    assert result.status == "unknown" and result.blocks_deploy
    reason = result.reasons[0]
    assert "spot price of nvidia-tesla-t4 in europe-west4 (pool gpu)" in reason
    assert "gridcloud catalog refresh --project P --region europe-west4" in reason
    assert "GRIDCLOUD_CATALOG_DIR" in reason and "`prices:`" in reason
    # `up` refuses it with that reason and says what to do
    from gridcloud.cost.budget import enforce
    from gridcloud.errors import BudgetError

    with pytest.raises(BudgetError) as info:
        enforce(result, allow_over_budget=False)
    assert "nvidia-tesla-t4" in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith("price what is missing")


@pytest.mark.needs("shared")
def test_forwarding_rules_outside_us_central1_are_a_named_unknown(
    make_plan: MakePlan, catalog: Catalog, source: Source
) -> None:
    """The regional source has no forwarding rules: a hub with a hostname in europe-west4
    shows them unknown, and the totals with them."""
    assert not any(item.startswith("forwarding") for item, _ in source.other)

    def edit(data: dict[str, Any]) -> None:
        in_region("europe-west4", ["europe-west4-a"])(data)
        data["pools"] = [data["pools"][0]]
        data["pools"][0]["maxCores"] = 800
        data["services"]["jupyter"] = {
            "enabled": True,
            "hostname": "hub.example.org",
            "oidc": {
                "issuer": "https://accounts.google.com",
                "clientId": "hub.apps.googleusercontent.com",
                "clientSecretEnv": "GRIDCLOUD_OIDC_CLIENT_SECRET",
            },
        }

    cost = estimate(make_plan(edit), catalog)
    items = {i.item: i for i in cost.items}
    rules = items["forwarding rules"]
    assert rules.idle_monthly is None and rules.quantity.startswith("2:")
    assert rules.missing == "forwarding-rule price in europe-west4"
    assert (
        items["home volumes"].idle_monthly == 20 * 10 * source.other["pd-balanced", "europe-west4"]
    )
    assert cost.idle_monthly is None and not cost.complete


def test_gpu_spot_prices_are_the_current_ones(make_plan: MakePlan, catalog: Catalog) -> None:
    """T4, P100 and V100 spot in us-central1: 0.14, 0.584 and 0.992 a GPU-hour (a later
    Billing Catalog snapshot than the retired preemptible 0.11, 0.43 and 0.74), current,
    not lower bounds."""
    prices = catalog.prices("us-central1")
    assert prices is not None
    assert prices.gpu("nvidia-tesla-t4") == (D("0.35"), D("0.14"))
    assert prices.gpu("nvidia-tesla-p100") == (D("1.46"), D("0.584"))
    assert prices.gpu("nvidia-tesla-v100") == (D("2.48"), D("0.992"))
    for name in ("nvidia-tesla-t4", "nvidia-tesla-p100", "nvidia-tesla-v100"):
        assert not prices.gpu_spot_lower_bound(name)

    def edit(data: dict[str, Any]) -> None:
        gpu = next(p for p in data["pools"] if p["name"] == "gpu")
        gpu["accelerator"] = {"type": "nvidia-tesla-v100", "count": 2}

    gpu = pool(estimate(make_plan(edit), catalog), "gpu")
    # n1-standard-8 spot 0.17836 + 2 x 0.992 + 100 GB x 0.1 / 730
    assert gpu.node_hourly == D("0.17836") + 2 * D("0.992") + D("10") / HOURS
    assert gpu.lower_bound is False


@pytest.mark.needs("shared")
def test_l4_machines_in_europe_west4(make_plan: MakePlan, catalog: Catalog, source: Source) -> None:
    """g2-standard-8 is listed (its L4 included); g2-standard-4 is 4 vCPUs at G2's price per
    vCPU with 4 GB (g2-standard-8 less the L4, over 8) plus the L4."""
    region = "europe-west4"

    def edit(data: dict[str, Any]) -> None:
        in_region(region, ["europe-west4-a", "europe-west4-b"])(data)
        data["pools"] = [
            {
                "name": "gpu",
                "kind": "gpu",
                "machineType": "g2-standard-8",
                "spot": True,
                "maxNodes": 4,
            },
            {
                "name": "gpu-small",
                "kind": "gpu",
                "machineType": "g2-standard-4",
                "spot": False,
                "maxNodes": 2,
            },
        ]

    cost = estimate(make_plan(edit), catalog)
    disk = source.disk_hourly(region, 100)
    assert pool(cost, "gpu").node_hourly == source.machine("g2-standard-8", region, "spot") + disk
    l4 = D(source.gpus["nvidia-l4", region]["ondemand_usd_per_hour"])
    per_vcpu = (source.machine("g2-standard-8", region, "ondemand") - l4) / 8
    assert pool(cost, "gpu-small").node_hourly == 4 * per_vcpu + l4 + disk


@pytest.mark.needs("shared")
def test_every_region_of_the_source_prices_the_default_pools(
    catalog: Catalog, source: Source
) -> None:
    """For every region, each profile machine type the source lists gets that price."""
    for (name, region), row in source.machines.items():
        prices = catalog.prices(region)
        assert prices is not None, region
        quote = prices.machine(catalog.machine_types[name])
        expected = row["ondemand_usd_per_hour"]
        assert quote.ondemand == (D(expected) if expected else None), (name, region)
        assert quote.spot == D(row["spot_usd_per_hour"]), (name, region)


@pytest.mark.parametrize(
    ("region", "zones", "cores", "expect"),
    [
        # 12,500 nodes need 13 zones; europe-west4 offers n2d-highcpu-80 in 3: 5 pools of
        # at most 3,000 nodes
        ("europe-west4", ["europe-west4-a"], 1_000_000, "split it into 5 pools of at most 3,000"),
        # 2,500 nodes need 3 zones, and europe-west4 has 3
        ("europe-west4", ["europe-west4-a", "europe-west4-b"], 200_000, "at least 3 zones"),
    ],
)
def test_past_the_per_zone_limit_the_hint_names_what_works(
    make_plan: MakePlan, region: str, zones: list[str], cores: int, expect: str
) -> None:
    def edit(data: dict[str, Any]) -> None:
        in_region(region, zones)(data)
        data["pools"] = [
            {
                "name": "cpu",
                "kind": "cpu",
                "machineType": "n2d-highcpu-80",
                "spot": True,
                "maxCores": cores,
            },
        ]

    with pytest.raises(PlanError) as info:
        make_plan(edit)
    hint = info.value.hint or ""
    assert expect in hint
    assert "13 zones" not in hint or "offers n2d-highcpu-80 in 3" in hint
    # the size beyond which a second cluster is the answer: 15,000 nodes of 80 cores
    assert "15,000 nodes (1,200,000 cores of n2d-highcpu-80)" in hint


@pytest.mark.needs("shared")
def test_catalog_lists_a_regions_commitments(source: Source) -> None:
    """`gridcloud catalog --region europe-north2 --json`: a region the zone listing lacks is
    still shown; n1-standard-8 has no on-demand or commitment price there (null)."""
    import json

    from typer.testing import CliRunner

    from gridcloud.cli import create_cli

    result = CliRunner().invoke(create_cli(), ["catalog", "--region", "europe-north2", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["machineType"]: r for r in json.loads(result.stdout)["prices"]}
    e2 = source.machines["e2-standard-2", "europe-north2"]
    assert rows["e2-standard-2"]["oneYearCommitmentHourly"] == e2["cud1y_usd_per_hour"]
    assert rows["e2-standard-2"]["threeYearCommitmentHourly"] == e2["cud3y_usd_per_hour"]
    n1 = rows["n1-standard-8"]
    assert (n1["ondemandHourly"], n1["oneYearCommitmentHourly"]) == (None, None)
    assert (
        n1["spotHourly"] == source.machines["n1-standard-8", "europe-north2"]["spot_usd_per_hour"]
    )


@pytest.mark.needs("shared")
def test_a_price_in_the_profile_fills_what_the_catalog_lacks(
    tmp_path: Path, source: Source
) -> None:
    """europe-west4 has no T4 and no forwarding-rule price: the profile gives them (with
    their source), and the estimate is complete, each such figure's basis the profile."""
    from gridcloud.analysis import analyse

    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["target"]["region"] = "europe-west4"
    data["target"]["zones"] = ["europe-west4-a", "europe-west4-b"]
    for each in data["pools"]:
        each.pop("zones", None)
    data.pop("backups")  # their price is us-central1's (tests/unit/test_backups.py)
    data["data"].pop("monthly")  # its coldline price too (tests/unit/test_data_cost.py)
    data["prices"] = [
        {
            "kind": "gpu",
            "item": "nvidia-tesla-t4",
            "ondemand": "0.41",
            "spot": "0.16",
            "source": "Google's GPU pricing page, 2026-12-01",
        },
        {
            "kind": "network",
            "item": "forwarding-rules-first-5",
            "ondemand": "0.025",
            "source": "load balancing pricing page, 2026-12-01",
        },
        {
            "kind": "network",
            "item": "forwarding-rule-more",
            "ondemand": "0.01",
            "source": "load balancing pricing page, 2026-12-01",
        },
    ]
    path = tmp_path / "west4.yaml"
    path.write_text(yaml.safe_dump(data))
    result = analyse(path)
    cost = result.estimate
    assert cost.complete and cost.missing == ()
    gpu = pool(cost, "gpu")
    region = "europe-west4"
    # n1-standard-8 spot from the source, + the profile's T4 spot, + 100 GB pd-balanced
    assert gpu.node_hourly == source.machine("n1-standard-8", region, "spot") + D(
        "0.16"
    ) + source.disk_hourly(region, 100)
    assert gpu.lower_bound is False
    rules = next(i for i in cost.items if i.item == "forwarding rules")
    assert rules.idle_monthly == D("0.025") * HOURS  # 4 rules, within the first 5
    assert "the profile: load balancing pricing page, 2026-12-01" in rules.source
    assert result.verdict.status in ("within", "over")


def test_a_profile_price_needs_a_figure_and_a_source(tmp_path: Path) -> None:
    from gridcloud.errors import ProfileError
    from gridcloud.profile import load_profile

    data = yaml.safe_load((PROFILES / "small.yaml").read_text())
    data["prices"] = [{"kind": "gpu", "item": "nvidia-tesla-t4", "source": "a quote"}]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ProfileError, match="give ondemand, spot or both"):
        load_profile(path)
