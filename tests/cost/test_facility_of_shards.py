"""A facility of shards priced cluster by cluster, off the default path: a regional home
cluster (no free tier) in us-central1 and two zonal compute-only shards in Europe, the free
tier going to the first of them; and a shard whose GPU has no price there.

Every figure is worked out here from the source files in ../shared/data/gcp
(``machine-prices-by-region.csv``, ``family-rates-by-region.csv``,
``other-prices-by-region.csv``) and Google's rules: a month is 730 hours; GKE's fee is $0.10
a cluster-hour with a $74.40 monthly credit for one zonal cluster per billing account; Cloud
NAT is charged per VM-hour up to 32 VMs (the gateway's hourly cap / 32); an E2 shared-core
e2-medium is billed as 1 vCPU and its 4 GB.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost.estimate import Estimate, ShardCost, estimate
from gridcloud.plan import Plan
from tests.conftest import services_off
from tests.unit.test_regions import Source

D = Decimal
HOURS = 730
FEE = D("0.10") * HOURS  # 73.00 a cluster-month, under the 74.40 credit

pytestmark = pytest.mark.needs("shared")


def home_and_shards(shards: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    """The home cluster: regional in us-central1, its control node and one spot pool of
    two n2d-highcpu-80; ``shards`` declared beside it."""

    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        data["cluster"]["availability"] = "regional"
        data["pools"] = [
            {
                "name": "cpu",
                "kind": "cpu",
                "machineType": "n2d-highcpu-80",
                "spot": True,
                "maxNodes": 2,
            }
        ]
        data["shards"] = {"declared": shards}

    return edit


EUROPE = [
    {
        "name": "ew1",
        "region": "europe-west1",
        "availability": "zonal",
        "pools": [
            {
                "name": "spot",
                "kind": "cpu",
                "machineType": "n2d-highcpu-80",
                "spot": True,
                "maxNodes": 3,
            }
        ],
    },
    {
        "name": "ew4",
        "region": "europe-west4",
        "availability": "zonal",
        "pools": [
            {
                "name": "ondemand",
                "kind": "cpu",
                "machineType": "n2d-standard-16",
                "spot": False,
                "maxNodes": 2,
            }
        ],
    },
]


def row(cost: Estimate, name: str) -> ShardCost:
    return next(r for r in cost.shards if r.name == name)


def system_node(source: Source, region: str) -> Decimal:
    """e2-medium a month: 1 vCPU + 4 GB at the region's E2 rates, and its 20 GB boot disk."""
    rates = source.families["e2", region]
    hourly = D(rates["ondemand_usd_per_vcpu_hour"]) + 4 * D(rates["ondemand_usd_per_gb_hour"])
    return hourly * HOURS + source.other["pd-balanced", region] * 20


def nat_and_address(source: Source, region: str, vms: int) -> Decimal:
    """Cloud NAT for ``vms`` VMs (under 32) and its one address in use, an hour."""
    return vms * source.nat_per_vm(region) + source.other["external-ip-in-use", region]


@pytest.fixture
def europe(catalog: Catalog, make_plan_module: Callable[..., Plan]) -> Estimate:
    """Priced in each test (mutation testing sees which tests price it; the plan's are
    module-scoped)."""
    return estimate(make_plan_module(home_and_shards(EUROPE)), catalog)


def test_each_cluster_is_priced_in_its_own_region(europe: Estimate, source: Source) -> None:
    home, ew1, ew4 = europe.shards
    assert [(r.name, r.region, r.availability) for r in europe.shards] == [
        ("home", "us-central1", "regional"),
        ("ew1", "europe-west1", "zonal"),
        ("ew4", "europe-west4", "zonal"),
    ]
    assert [r.cluster for r in europe.shards] == ["atlas-gcp", "atlas-gcp-ew1", "atlas-gcp-ew4"]
    # home: e2-standard-2 always on with its 50 GB disk, Cloud NAT for it, the full fee
    control = source.machine("e2-standard-2", "us-central1", "ondemand") * HOURS + D("0.1") * 50
    assert (home.system_node, home.system_node_monthly) == ("e2-standard-2", control)
    assert home.idle_monthly == control + nat_and_address(source, "us-central1", 1) * HOURS + FEE
    assert (home.gke_fee_monthly, home.gke_free_tier_monthly) == (FEE, 0)
    # ew1, the first zonal cluster: the free tier covers its whole fee
    assert (ew1.system_node, ew1.system_node_monthly) == (
        "e2-medium",
        system_node(source, "europe-west1"),
    )
    assert (ew1.gke_fee_monthly, ew1.gke_free_tier_monthly) == (FEE, FEE)
    assert ew1.idle_monthly == (
        system_node(source, "europe-west1") + nat_and_address(source, "europe-west1", 1) * HOURS
    )
    # ew4: zonal too, but the billing account's free tier is taken
    assert (ew4.gke_fee_monthly, ew4.gke_free_tier_monthly) == (FEE, 0)
    assert ew4.idle_monthly == (
        system_node(source, "europe-west4")
        + nat_and_address(source, "europe-west4", 1) * HOURS
        + FEE
    )


def test_each_clusters_peak_and_cost_per_core(europe: Estimate, source: Source) -> None:
    home, ew1, ew4 = europe.shards
    regions = ("us-central1", "europe-west1", "europe-west4")
    disk100 = {r: source.disk_hourly(r, 100) for r in regions}
    # home: 2 spot n2d-highcpu-80 and Cloud NAT for 2 more VMs (one address still)
    home_peak = (
        home.idle_monthly / HOURS  # type: ignore[operator]
        + 2 * (source.machine("n2d-highcpu-80", "us-central1", "spot") + disk100["us-central1"])
        + 2 * source.nat_per_vm("us-central1")
    )
    assert home.peak_hourly == home_peak
    assert (home.peak_cores, home.max_nodes) == (2 + 160, 3)
    assert home.per_core_hour_at_peak == home_peak / 162
    ew1_peak = (
        ew1.idle_monthly / HOURS  # type: ignore[operator]
        + 3 * (source.machine("n2d-highcpu-80", "europe-west1", "spot") + disk100["europe-west1"])
        + 3 * source.nat_per_vm("europe-west1")
    )
    assert ew1.peak_hourly == ew1_peak
    assert (ew1.peak_cores, ew1.max_nodes) == (2 + 240, 4)
    assert ew1.per_core_hour_at_peak == ew1_peak / 242
    ew4_peak = (
        ew4.idle_monthly / HOURS  # type: ignore[operator]
        + 2
        * (source.machine("n2d-standard-16", "europe-west4", "ondemand") + disk100["europe-west4"])
        + 2 * source.nat_per_vm("europe-west4")
    )
    assert ew4.peak_hourly == ew4_peak
    assert ew4.per_core_hour_at_peak == ew4_peak / (2 + 32)


def test_the_facility_totals_and_whose_tables_are_whose(europe: Estimate) -> None:
    rows = europe.shards
    assert europe.idle_monthly == sum((r.idle_monthly for r in rows), D(0))  # type: ignore[misc]
    assert europe.idle_hourly == europe.idle_monthly / HOURS  # type: ignore[operator]
    assert europe.peak_hourly == sum((r.peak_hourly for r in rows), D(0))  # type: ignore[misc]
    assert europe.peak_cores == 162 + 242 + 34
    assert europe.per_core_hour_at_peak == europe.peak_hourly / 438  # type: ignore[operator]
    assert europe.complete and not europe.lower_bound and europe.missing == ()
    # the home cluster's pools and items are the facility's own tables; a shard's are in
    # its row's estimate
    assert [p.name for p in europe.pools] == ["control", "cpu"]
    assert rows[0].estimate is None
    assert rows[1].estimate is not None and rows[2].estimate is not None
    assert [p.name for p in rows[1].estimate.pools] == ["control", "spot"]
    assert rows[1].estimate.region == "europe-west1"
    assert [p.name for p in rows[2].estimate.pools] == ["control", "ondemand"]


def test_a_shard_without_a_price_leaves_the_facility_unknown_and_says_which(
    catalog: Catalog, make_plan_module: Callable[..., Plan]
) -> None:
    """The source files price no T4 outside us-central1: a europe-west4 shard's T4 pool is
    named as missing, with the shard, and the facility's peak is unknown (not lower)."""
    gpu_shard = {
        "name": "ew4",
        "region": "europe-west4",
        "availability": "zonal",
        "pools": [
            {
                "name": "gpu",
                "kind": "gpu",
                "machineType": "n1-standard-8",
                "accelerator": {"type": "nvidia-tesla-t4", "count": 1},
                "spot": True,
                "maxNodes": 2,
            }
        ],
    }
    cost = estimate(make_plan_module(home_and_shards([gpu_shard])), catalog)
    home, ew4 = cost.shards
    assert home.peak_hourly is not None and ew4.peak_hourly is None
    # the pool scales to zero: what is always on is still known, the peak is not
    assert ew4.idle_monthly is not None and cost.idle_monthly is not None
    assert cost.peak_hourly is None and cost.per_core_hour_at_peak is None
    assert cost.complete is False
    assert cost.missing == ("spot price of nvidia-tesla-t4 in europe-west4 (pool gpu) (shard ew4)",)
    assert [w for w in cost.warnings if w.startswith("shard ew4: ")] == [
        "shard ew4: pool gpu: no spot price of nvidia-tesla-t4 in europe-west4 in the catalog: "
        "its cost is unknown"
    ]


def test_a_shards_lower_bound_is_the_facilitys(
    catalog: Catalog, make_plan_module: Callable[..., Plan]
) -> None:
    """c2-standard-60's spot figure is from an older preemptible table (a lower bound): on
    a shard, the facility's peak is a lower bound too, though the home cluster's is not."""
    shard = {
        "name": "c2",
        "region": "us-central1",
        "pools": [{"name": "c2", "kind": "cpu", "machineType": "c2-standard-60", "maxNodes": 2}],
    }
    cost = estimate(make_plan_module(home_and_shards([shard])), catalog)
    home, c2 = cost.shards
    assert home.estimate is None and c2.estimate is not None
    assert c2.estimate.lower_bound is True
    assert all(not p.lower_bound for p in cost.pools)  # the home cluster's own
    assert cost.lower_bound is True


def test_a_home_cluster_without_a_price_for_what_is_always_on(
    catalog: Catalog, make_plan_module: Callable[..., Plan]
) -> None:
    """An on-demand C2 node always on in europe-west1 (no C2 price there): the facility's
    month is unknown, not the shards' sum."""

    def edit(data: dict[str, Any]) -> None:
        home_and_shards(EUROPE[:1])(data)
        data["target"]["region"] = "europe-west1"
        data["target"]["zones"] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
        data["pools"] = [
            {
                "name": "c2",
                "kind": "cpu",
                "machineType": "c2-standard-8",
                "spot": False,
                "minNodes": 1,
                "maxNodes": 2,
            }
        ]

    cost = estimate(make_plan_module(edit), catalog)
    home, ew1 = cost.shards
    assert home.idle_monthly is None and ew1.idle_monthly is not None
    assert (cost.idle_monthly, cost.idle_hourly, cost.peak_hourly) == (None, None, None)
    assert cost.complete is False
