"""Shards: compute-only clusters beside the home one, planned and priced.

Figures worked out by hand from GKE's rules (docs/plan.md) and the catalog's rows
(2026-08-20): e2-medium $0.03351 an hour in us-central1, pd-balanced $0.10 a GB-month,
Cloud NAT $0.0014 a VM-hour, an external address in use $0.005 an hour, GKE's fee $0.10 a
cluster-hour and its free tier $74.40 a month for one zonal cluster per billing account.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.analysis import analyse, planned
from gridcloud.catalog import Catalog
from gridcloud.cli import create_cli
from gridcloud.errors import GridcloudError, PlanError
from gridcloud.plan import Plan
from gridcloud.plan.shards import system_machine
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile.loader import parse_profile
from tests.conftest import default_data

SIX = ["us-central1", "us-east1", "us-east4", "us-west1", "europe-west1", "europe-west4"]
US_CENTRAL1 = ("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-d", "us-central1-f")


def data_with(shards: dict[str, Any], edit: Callable[[dict[str, Any]], None] | None = None) -> str:
    data = default_data()
    data["shards"] = shards
    if edit is not None:
        edit(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture(scope="module")
def make(catalog: Catalog) -> Callable[..., tuple[Plan, Any]]:
    def build(
        shards: dict[str, Any], edit: Callable[[dict[str, Any]], None] | None = None
    ) -> tuple[Plan, Any]:
        profile = parse_profile(data_with(shards, edit), "test.yaml", catalog, PROFILE_CHECKS)
        return planned(profile, catalog)

    return build


@pytest.fixture(scope="module")
def million(make: Callable[..., tuple[Plan, Any]]) -> tuple[Plan, Any]:
    return make({"split": {"cores": 1_000_000, "regions": SIX}})


def test_a_million_cores_become_ten_shards_round_robin(million: tuple[Plan, Any]) -> None:
    plan, _ = million
    # ceil(1,000,000 / 100,000) = 10 shards; shard i in region i mod 6
    assert [(s.shard, s.target.region) for s in plan.shards] == [
        (f"s{i + 1}", SIX[i % 6]) for i in range(10)
    ]
    for shard in plan.shards:
        assert shard.cluster is not None
        assert shard.name == f"atlas-gcp-{shard.shard}"
        assert shard.cluster.name == shard.name
        # 100,000 cores over 3 types: ceil(100,000 / 3) = 33,334 cores a pool:
        # 417 n2d-highcpu-80 (33,360), 417 n2-highcpu-80, ceil(33,334 / 112) = 298
        # c2d-highcpu-112 (33,376); 1 system node: 1,133 nodes, zonal (at most 5,000)
        elastic = [(p.name, p.machine_type, p.max_nodes, p.spot) for p in shard.elastic_pools]
        assert elastic == [
            ("n2d-80", "n2d-highcpu-80", 417, True),
            ("n2-80", "n2-highcpu-80", 417, True),
            ("c2d-112", "c2d-highcpu-112", 298, True),
        ]
        assert all(p.min_nodes == 0 for p in shard.elastic_pools)
        assert shard.cluster.max_nodes == 1133
        assert shard.cluster.availability == "zonal"
        # 1,133 nodes + 4 surge = 1,137 -> 2,048 blocks of /24: a /13; 1,141 addresses: /21
        assert shard.network is not None
        assert shard.network.pod_range.endswith("/13")
        assert shard.network.subnet_range.endswith("/21")
        # no service but the grid site (its CVMFS driver; docs/services/grid-site.md), no
        # budget: compute only
        assert [r.name for r in shard.services.releases] == ["cvmfs-csi"]
        assert shard.budget is None
        assert shard.shards == ()
    s1 = plan.shards[0]
    # every zone of us-central1 offers the three types (catalog listing): each pool spans all
    assert all(p.zones == US_CENTRAL1 for p in s1.elastic_pools)
    assert all(p.autoscaling and p.autoscaling.location_policy == "ANY" for p in s1.elastic_pools)
    # GKE's pods (800m) and the grid site's squid and CVMFS driver (170m) need more than
    # e2-medium's 940m allocatable
    assert s1.control.machine_type == "e2-standard-2"
    assert s1.control.disk_size_gb == 20


def test_six_hundred_thousand_over_six_regions(make: Callable[..., tuple[Plan, Any]]) -> None:
    plan, _ = make({"split": {"cores": 600_000, "regions": SIX}})
    assert [s.target.region for s in plan.shards] == SIX


def test_uneven_cores_split_into_equal_shards(make: Callable[..., tuple[Plan, Any]]) -> None:
    split = {
        "cores": 240_001,
        "regions": ["europe-west4"],
        "machineTypes": ["n2d-highcpu-80"],
        "maxCoresPerShard": 80_000,
    }
    plan, _ = make({"split": split})
    # ceil(240,001 / 80,000) = 4 shards: 60,001 + 60,000 x 3 cores -> 751 and 750 nodes of 80
    assert [s.elastic_pools[0].max_nodes for s in plan.shards] == [751, 750, 750, 750]
    assert [s.target.zones for s in plan.shards] == [
        ("europe-west4-a", "europe-west4-b", "europe-west4-c")
    ] * 4


def test_a_compute_only_shard_idle_cost_by_hand(million: tuple[Plan, Any]) -> None:
    _, priced = million
    s1 = priced.shards[1]
    # the grid site's squid and CVMFS driver share the system node: e2-standard-2, 2 vCPUs
    # at $0.02181159 and 8 GB at $0.00292353 an hour (E2 rates, us-central1)
    assert (s1.name, s1.region, s1.system_node) == ("s1", "us-central1", "e2-standard-2")
    hourly = 2 * Decimal("0.02181159") + 8 * Decimal("0.00292353")
    system = hourly * 730 + 20 * Decimal("0.10")  # $48.9183 + $2.00 disk
    nat = Decimal("0.0014") * 730 + Decimal("0.005") * 730  # one VM, one address
    fee = Decimal("0.10") * 730  # no free tier: the zonal home cluster has it
    assert s1.system_node_monthly == system
    assert s1.gke_free_tier_monthly == 0
    assert s1.idle_monthly == system + nat + fee == Decimal("128.5903366")
    # the home cluster keeps the free tier
    assert priced.shards[0].gke_free_tier_monthly == Decimal("73.00")


def test_the_free_tier_goes_to_the_first_zonal_cluster(
    make: Callable[..., tuple[Plan, Any]],
) -> None:
    def regional(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    _, priced = make({"split": {"cores": 200_000, "regions": ["us-central1"]}}, regional)
    home, s1, s2 = priced.shards
    assert (home.availability, home.gke_free_tier_monthly) == ("regional", 0)
    assert s1.gke_free_tier_monthly == Decimal("73.00")
    assert s2.gke_free_tier_monthly == 0
    assert s1.idle_monthly == s2.idle_monthly - Decimal("73.00")


def test_facility_totals_sum_the_clusters(million: tuple[Plan, Any]) -> None:
    _, priced = million
    assert priced.idle_monthly == sum((r.idle_monthly for r in priced.shards), Decimal(0))
    assert priced.peak_hourly == sum((r.peak_hourly for r in priced.shards), Decimal(0))
    # home 101,250 cores + 10 x (33,360 + 33,360 + 33,376 + 2)
    assert priced.peak_cores == 101_250 + 10 * 100_098
    # the home cluster's own table stays its own
    assert priced.pools[0].name == "control"
    assert all(r.estimate is not None for r in priced.shards[1:])


def test_the_budget_gate_sees_the_whole_facility(tmp_path: Any) -> None:
    path = tmp_path / "million.yaml"
    path.write_text(data_with({"split": {"cores": 1_000_000, "regions": SIX}}))
    result = analyse(path)
    assert result.verdict.idle_monthly == result.estimate.idle_monthly
    assert result.estimate.idle_monthly == sum(
        (r.idle_monthly for r in result.estimate.shards), Decimal(0)
    )
    # $25,000 a month, less the facility's idle month, over what its peak adds an hour
    estimate = result.estimate
    extra = estimate.peak_hourly - estimate.idle_monthly / 730
    runway = (Decimal(25_000) - estimate.idle_monthly) / extra
    assert result.verdict.runway_hours is not None
    assert abs(result.verdict.runway_hours - runway) < Decimal("0.01")
    assert result.verdict.status == "over"  # 1.5 hours, under the profile's 20
    # one cap for the facility: the home cluster's pools and every shard's, each cluster
    # where its Plan puts it, each pool at its own estimate's node-hour price
    assert result.plan.budget is not None and result.plan.budget.cap is not None
    cap = result.plan.budget.cap
    assert [c.shard for c in cap.clusters] == ["home", *(f"s{i}" for i in range(1, 11))]
    home, s1 = cap.clusters[0], cap.clusters[1]
    assert {p.name for p in home.pools} == {"cpu", "gpu", "ondemand", "arm"}
    shard = result.plan.shards[0]
    assert shard.cluster is not None
    assert (s1.cluster, s1.location) == (shard.cluster.name, shard.cluster.location)
    assert s1.cluster == "atlas-gcp-s1"
    priced = {p.name: p.node_hourly for p in estimate.shards[1].estimate.pools}  # type: ignore[union-attr]
    assert [(p.name, p.node_hourly) for p in s1.pools] == [
        (p.name, priced[p.name]) for p in shard.elastic_pools
    ]
    assert not any("not capped" in w for w in result.plan.warnings)


def test_declared_shard(make: Callable[..., tuple[Plan, Any]]) -> None:
    plan, _ = make(
        {
            "declared": [
                {
                    "name": "ew4",
                    "region": "europe-west4",
                    "pools": [
                        {
                            "name": "spot",
                            "kind": "cpu",
                            "machineType": "n2d-highcpu-80",
                            "maxCores": 80_000,
                        }
                    ],
                }
            ]
        }
    )
    (shard,) = plan.shards
    assert (shard.name, shard.target.project) == ("atlas-gcp-ew4", "atlas-analysis-facility")
    spot = shard.pool("spot")
    assert (spot.max_nodes, spot.zones) == (
        1000,
        ("europe-west4-a", "europe-west4-b", "europe-west4-c"),
    )


def test_declared_shard_checked_against_the_catalog(make: Callable[..., tuple[Plan, Any]]) -> None:
    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-81", "maxCores": 800}
    with pytest.raises(PlanError, match=r"shard atlas-gcp-ew4: pools\.0\.machineType"):
        make({"declared": [{"name": "ew4", "region": "europe-west4", "pools": [pool]}]})


def test_shard_names_fit_gcp_names(make: Callable[..., tuple[Plan, Any]]) -> None:
    def long_name(data: dict[str, Any]) -> None:
        data["name"] = "a-twenty-char-name-x"

    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 800}
    with pytest.raises(PlanError, match="longer than 24"):
        make(
            {"declared": [{"name": "west4", "region": "europe-west4", "pools": [pool]}]}, long_name
        )


@pytest.mark.parametrize(
    ("shards", "message"),
    [
        ({}, "either declared shards or a split"),
        (
            {
                "split": {"cores": 1000, "regions": ["us-central1"]},
                "declared": [
                    {
                        "name": "a",
                        "region": "us-central1",
                        "pools": [{"name": "p", "kind": "cpu", "maxNodes": 1}],
                    }
                ],
            },
            "either declared shards or a split",
        ),
        (
            {
                "declared": [
                    {
                        "name": "a",
                        "region": "us-central1",
                        "pools": [{"name": "p", "kind": "cpu", "maxNodes": 2, "minNodes": 1}],
                    }
                ]
            },
            "scales to zero",
        ),
        ({"split": {"cores": 1000, "regions": ["us-central1", "us-central1"]}}, "more than once"),
        ({"split": {"cores": 1000, "regions": ["mars-north1"]}}, "unknown region mars-north1"),
    ],
)
def test_refused(
    make: Callable[..., tuple[Plan, Any]], shards: dict[str, Any], message: str
) -> None:
    with pytest.raises(GridcloudError, match=message):
        make(shards)


def test_system_node_is_the_smallest_e2_that_holds_gke_pods(catalog: Catalog) -> None:
    # e2-small: 0.5 shared cores -> 470m allocatable, under GKE's system pods' 800m;
    # e2-medium: 1 core -> 940m and 2,972 MiB of 4 GB
    assert system_machine(catalog, "us-central1-a").name == "e2-medium"


def test_plan_and_cost_show_the_shards(tmp_path: Any) -> None:
    path = tmp_path / "million.yaml"
    path.write_text(data_with({"split": {"cores": 1_000_000, "regions": SIX}}))
    runner = CliRunner()
    for command in (["plan", str(path)], ["cost", "estimate", str(path)]):
        result = runner.invoke(create_cli(), command, env={"COLUMNS": "200"})
        assert "Shards" in result.output, result.output
        assert "s10" in result.output
        assert "1,102,230" in result.output  # the facility's cores at peak
        # the facility's idle month: the home cluster ($116.94) and the shards' system nodes,
        # NAT and fees: 6 x $128.59 (us-central1, us-east1, us-west1), 2 x $134.97
        # (us-east4), $133.48 (europe-west1), $133.73 (europe-west4)
        assert "$1,425.62" in result.output
    result = runner.invoke(create_cli(), ["plan", str(path), "--json"])
    data = yaml.safe_load(result.stdout)
    assert len(data["plan"]["shards"]) == 10
    assert [row["name"] for row in data["cost"]["shards"]][:2] == ["home", "s1"]


def test_a_pool_too_large_for_a_cluster_points_at_shards(
    make: Callable[..., tuple[Plan, Any]],
) -> None:
    from tests.conftest import PROFILES  # noqa: F401

    def huge(data: dict[str, Any]) -> None:
        data["pools"][0]["maxCores"] = 1_000_000
        del data["shards"]

    with pytest.raises(PlanError) as raised:
        make({"split": {"cores": 1, "regions": ["us-central1"]}}, huge)
    assert "compute-only shards" in (raised.value.hint or "")
    assert "10 of at most 100,000 cores" in (raised.value.hint or "")


def test_an_existing_cluster_takes_no_shards(catalog: Catalog) -> None:
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["shards"] = {"split": {"cores": 1000, "regions": ["us-central1"]}}
    profile = parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog, PROFILE_CHECKS)
    with pytest.raises(PlanError, match="a kubernetes target takes none"):
        planned(profile, catalog)
