"""Expansion: node counts, zones, labels and taints, the network plan, GKE's limits."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcloud.analysis import analyse
from gridcloud.catalog import Catalog
from gridcloud.errors import ExitCode, PlanError
from gridcloud.plan import Plan
from gridcloud.plan.network import plan_network, pod_block_prefix, pod_range_capacity
from gridcloud.profile.models import Network
from tests.conftest import PROFILES, ROOT, SHIPPED, services_off

MakePlan = Callable[..., Plan]


def test_default_profile_cpu_pool(make_plan: MakePlan) -> None:
    plan = make_plan()
    cpu = plan.pool("cpu")
    assert (cpu.max_nodes, cpu.max_cores, cpu.vcpus) == (1250, 100_000, 80)
    assert cpu.min_nodes == 0
    assert cpu.zones == ("us-central1-a", "us-central1-b", "us-central1-c")
    # spot: location policy ANY may put the whole pool in one zone, up to GKE's 1,000
    assert cpu.max_nodes_per_zone == 1000
    assert cpu.spot is True
    assert cpu.autoscaling is not None
    assert (
        cpu.autoscaling.total_min_nodes,
        cpu.autoscaling.total_max_nodes,
        cpu.autoscaling.location_policy,
    ) == (0, 1250, "ANY")
    assert (cpu.initial_node_count, cpu.node_count) == (0, None)
    assert (cpu.upgrade.max_surge, cpu.upgrade.max_unavailable) == (1, 0)  # type: ignore[union-attr]


def test_on_demand_pool_is_balanced_evenly(make_plan: MakePlan) -> None:
    ondemand = make_plan().pool("ondemand")
    assert ondemand.autoscaling is not None
    assert ondemand.autoscaling.location_policy == "BALANCED"
    assert ondemand.max_nodes_per_zone == 4  # 10 nodes over 3 zones, evenly: 4, 3, 3


def test_control_pool_has_a_fixed_size_and_no_autoscaling(make_plan: MakePlan) -> None:
    control = make_plan().pool("control")
    assert (control.autoscaling, control.node_count, control.initial_node_count) == (None, 1, None)


def test_initial_node_count_is_per_zone(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][2]["minNodes"] = 4  # ondemand, 3 zones: GKE counts the start per zone

    ondemand = make_plan(edit).pool("ondemand")
    assert ondemand.initial_node_count == 2
    assert ondemand.autoscaling is not None and ondemand.autoscaling.total_min_nodes == 4


def test_a_spot_pool_past_the_per_zone_limit_in_one_zone_is_refused(
    make_plan: MakePlan,
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["zones"] = ["us-central1-a"]
        data["pools"][0]["maxNodes"] = 1001
        del data["pools"][0]["maxCores"]

    with pytest.raises(PlanError, match="above GKE's limit of 1,000"):
        make_plan(edit)


def test_cores_round_up_to_whole_nodes(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["maxCores"] = 100_001

    assert make_plan(edit).pool("cpu").max_nodes == 1251


def test_taints_and_labels(make_plan: MakePlan) -> None:
    plan = make_plan()
    control, cpu, gpu, arm = (plan.pool(n) for n in ("control", "cpu", "gpu", "arm"))
    assert control.taints == () and control.spot is False and control.max_nodes == 1
    keys = {p.name: {(t.key, t.value, t.effect) for t in p.taints} for p in (cpu, gpu, arm)}
    spot = ("cloud.google.com/gke-spot", "true", "NoSchedule")
    elastic = ("gridcloud.io/elastic", "true", "NoSchedule")
    assert keys["cpu"] == {spot, elastic}
    assert keys["gpu"] == {spot, elastic, ("nvidia.com/gpu", "present", "NoSchedule")}
    assert keys["arm"] == {spot, elastic, ("kubernetes.io/arch", "arm64", "NoSchedule")}
    assert cpu.labels["gridcloud.io/pool"] == "cpu"
    assert cpu.labels["gridcloud.io/capacity"] == "spot"
    assert cpu.node_selector == {"gridcloud.io/pool": "cpu"}
    assert {
        "key": "nvidia.com/gpu",
        "operator": "Equal",
        "value": "present",
        "effect": "NoSchedule",
    } in gpu.tolerations
    assert arm.arch == "arm64"
    assert gpu.accelerator is not None and gpu.accelerator.type == "nvidia-tesla-t4"


def test_on_demand_pool_is_not_spot_tainted(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["spot"] = False

    cpu = make_plan(edit).pool("cpu")
    assert [t.key for t in cpu.taints] == ["gridcloud.io/elastic"]
    assert cpu.labels["gridcloud.io/capacity"] == "on-demand"


def test_bundled_gpu_comes_from_the_machine_type(catalog: Catalog) -> None:
    plan = analyse(PROFILES / "small.yaml").plan
    gpu = plan.pool("gpu")
    assert gpu.accelerator is not None
    assert (gpu.accelerator.type, gpu.accelerator.count, gpu.accelerator.bundled) == (
        "nvidia-l4",
        1,
        True,
    )


@pytest.mark.parametrize(
    ("max_pods", "block"),
    [(8, 28), (16, 27), (32, 26), (64, 25), (110, 24), (128, 24), (129, 23), (256, 23)],
)
def test_pod_block_is_the_smallest_holding_twice_max_pods(max_pods: int, block: int) -> None:
    assert pod_block_prefix(max_pods) == block


@pytest.mark.parametrize(
    ("nodes", "max_pods", "pod_prefix", "subnet_prefix"),
    [
        (1, 110, 24, 29),
        (4, 110, 22, 29),
        (5, 110, 21, 28),
        (256, 110, 16, 23),
        (257, 110, 15, 23),
        (1250, 110, 13, 21),
        (2048, 110, 13, 20),
        (1250, 32, 15, 21),
        (15_000, 110, 10, 18),
    ],
)
def test_network_sizing_table(
    nodes: int, max_pods: int, pod_prefix: int, subnet_prefix: int
) -> None:
    net = plan_network(Network(max_pods_per_node=max_pods), nodes)
    assert IPv4Network(net.pod_range).prefixlen == pod_prefix
    assert IPv4Network(net.subnet_range).prefixlen == subnet_prefix
    assert IPv4Network(net.service_range).prefixlen == 20


def test_default_profile_pod_range_is_a_slash_13(make_plan: MakePlan) -> None:
    net = make_plan().network
    assert net is not None
    # 1,250 + 16 + 10 + 20 + 1 control, plus a surge node for each of the 5 pools
    assert net.nodes_to_address == 1302
    assert IPv4Network(net.pod_range).prefixlen == 13
    assert net.pod_range_nodes == 2048


@given(
    nodes=st.integers(min_value=1, max_value=15_000),
    max_pods=st.integers(min_value=8, max_value=256),
)
def test_ranges_hold_the_nodes_are_minimal_and_disjoint(nodes: int, max_pods: int) -> None:
    net = plan_network(Network(max_pods_per_node=max_pods), nodes)
    pods = IPv4Network(net.pod_range)
    assert pod_range_capacity(pods, max_pods) >= nodes
    # one size smaller would not do (unless it is already a single block)
    if pods.prefixlen < net.pod_block_prefix:
        assert pod_range_capacity(pods.subnets(1).__next__(), max_pods) < nodes
    assert net.subnet_range_nodes >= nodes
    ranges = [
        IPv4Network(r)
        for r in (net.pod_range, net.subnet_range, net.service_range, net.control_plane_range)
    ]
    for i, a in enumerate(ranges):
        for b in ranges[i + 1 :]:
            assert not a.overlaps(b)


def test_fixed_pod_range_too_small_is_a_plan_error(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["network"]["podRange"] = "10.4.0.0/16"

    with pytest.raises(PlanError) as info:
        make_plan(edit)
    assert info.value.exit_code == ExitCode.PLAN_INFEASIBLE
    assert "network.podRange 10.4.0.0/16 holds 256 nodes" in info.value.message
    assert "1,302" in info.value.message
    assert info.value.hint is not None and "/13" in info.value.hint


def test_fixed_ranges_are_kept_and_others_avoid_them(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["network"]["podRange"] = "10.0.0.0/12"
        data["network"]["subnetRange"] = "10.16.0.0/20"

    net = make_plan(edit).network
    assert net is not None
    assert (net.pod_range, net.subnet_range) == ("10.0.0.0/12", "10.16.0.0/20")
    assert net.computed == ("serviceRange",)
    assert not IPv4Network(net.service_range).overlaps(IPv4Network("10.0.0.0/12"))


def test_overlapping_fixed_ranges_are_an_error(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["network"]["podRange"] = "10.0.0.0/12"
        data["network"]["serviceRange"] = "10.1.0.0/20"

    with pytest.raises(PlanError, match="overlaps"):
        make_plan(edit)


def test_one_zone_cannot_hold_1250_nodes_of_a_pool(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["zones"] = ["us-central1-a"]

    with pytest.raises(PlanError) as info:
        make_plan(edit)
    assert "1,000 nodes per node pool per zone" in info.value.message
    assert info.value.hint is not None and "at least 2 zones" in info.value.hint


FOUR_ZONES = ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"]


def big_pools(*nodes: int) -> Callable[[dict[str, Any]], None]:
    """CPU pools of the given sizes over four zones (each under 1,000 per zone)."""

    def edit(data: dict[str, Any]) -> None:
        data["target"]["zones"] = FOUR_ZONES
        data["pools"] = [
            {"name": f"cpu{i}", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxNodes": n}
            for i, n in enumerate(nodes)
        ]
        services_off(data)

    return edit


def test_cluster_node_limit(make_plan: MakePlan) -> None:
    edit = big_pools(4000, 4000, 4000, 4000)

    with pytest.raises(PlanError, match="15,000 nodes per cluster"):
        make_plan(edit)


def test_large_cluster_goes_regional_with_a_warning(make_plan: MakePlan) -> None:
    plan = make_plan(big_pools(3000, 2500))
    assert plan.cluster is not None
    assert plan.cluster.availability == "regional"
    assert plan.cluster.location == "us-central1"
    assert any("5,000" in w for w in plan.warnings)


def test_default_cluster_is_zonal_with_nodes_in_every_zone(make_plan: MakePlan) -> None:
    cluster = make_plan().cluster
    assert cluster is not None
    assert (cluster.availability, cluster.location) == ("zonal", "us-central1-a")
    assert cluster.zones == ("us-central1-a", "us-central1-b", "us-central1-c")
    # GKE's API takes a zonal cluster's other zones: its own is implied
    assert cluster.node_locations == ("us-central1-b", "us-central1-c")
    assert "free tier" in cluster.reason


def test_profile_can_force_regional(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    cluster = make_plan(edit).cluster
    assert cluster is not None and cluster.availability == "regional"
    assert cluster.node_locations == ("us-central1-a", "us-central1-b", "us-central1-c")


def test_on_prem_plan_has_no_cloud_parts() -> None:
    plan = analyse(PROFILES / "onprem.yaml").plan
    assert plan.cluster is None and plan.network is None
    assert plan.target.provider == "kubernetes"
    assert plan.pool("batch").node_selector == {"node-role.gridcloud.io/batch": "true"}
    assert plan.control.node_selector == {"node-role.gridcloud.io/control": "true"}


def test_fingerprint_is_stable_and_tracks_changes(make_plan: MakePlan) -> None:
    first, second = make_plan(), make_plan()
    assert first.fingerprint == second.fingerprint

    def edit(data: dict[str, Any]) -> None:
        data["pools"][1]["maxNodes"] = 17

    assert make_plan(edit).fingerprint != first.fingerprint


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_profile_plans(path: Any) -> None:
    result = analyse(path)
    assert result.plan.pools[0].name == "control"


def test_planning_imports_no_pulumi_or_cloud_sdk() -> None:
    code = (
        "import sys; from pathlib import Path; from gridcloud.analysis import analyse; "
        "analyse(Path('profiles/default.yaml')); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_gcp', 'pulumi_kubernetes', 'google') "
        # functions-framework's .pth file declares the empty google namespace at start-up
        "and getattr(sys.modules[m], '__file__', None)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
