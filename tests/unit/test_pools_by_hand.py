"""The default profile's pools, every field written out by hand from the profile and Google's
machine shapes (n2d-highcpu-80: 80 vCPUs; n1-standard-8 with one T4; n2d-standard-16;
t2a-standard-48, Arm; e2-standard-2), and GKE's per-zone limit of 1,000 nodes per pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gridcloud.errors import PlanError
from gridcloud.plan import Plan

MakePlan = Callable[..., Plan]
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
ELASTIC = {"key": "gridcloud.io/elastic", "value": "true", "effect": "NoSchedule"}
SPOT = {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"}


def taints(plan: Plan, pool: str) -> list[tuple[str, str, str, bool]]:
    return [(t.key, t.value, t.effect, t.by_gke) for t in plan.pool(pool).taints]


def test_the_spot_cpu_pool(make_plan: MakePlan) -> None:
    cpu = make_plan().pool("cpu")
    # maxCores 100,000 / 80 = 1,250 nodes; spot: location policy ANY, so one zone may hold
    # them all up to GKE's 1,000
    assert (cpu.max_nodes, cpu.max_cores, cpu.min_nodes) == (1250, 100_000, 0)
    assert (cpu.vcpus, cpu.arch, cpu.spot, cpu.zones) == (80, "amd64", True, ZONES)
    assert cpu.max_nodes_per_zone == 1000
    assert cpu.autoscaling is not None
    assert (cpu.autoscaling.total_min_nodes, cpu.autoscaling.total_max_nodes) == (0, 1250)
    assert cpu.autoscaling.location_policy == "ANY"
    assert (cpu.node_count, cpu.initial_node_count) == (None, 0)
    assert cpu.upgrade is not None
    assert (cpu.upgrade.max_surge, cpu.upgrade.max_unavailable) == (1, 0)
    assert cpu.accelerator is None
    assert (cpu.disk_size_gb, cpu.disk_type) == (100, "pd-balanced")
    assert cpu.labels == {
        "gridcloud.io/pool": "cpu",
        "gridcloud.io/kind": "cpu",
        "gridcloud.io/capacity": "spot",
    }
    assert cpu.node_selector == {"gridcloud.io/pool": "cpu"}
    assert cpu.tolerations == [
        {"operator": "Equal", **ELASTIC},
        {"operator": "Equal", **SPOT},
    ]


def test_the_gpu_arm_and_on_demand_pools(make_plan: MakePlan) -> None:
    plan = make_plan()
    gpu = plan.pool("gpu")
    assert gpu.accelerator is not None
    assert (gpu.accelerator.type, gpu.accelerator.count) == ("nvidia-tesla-t4", 1)
    assert gpu.accelerator.bundled is False  # attached to an N1
    assert (gpu.max_nodes, gpu.max_nodes_per_zone, gpu.max_cores) == (16, 16, 128)
    assert taints(plan, "gpu") == [
        ("gridcloud.io/elastic", "true", "NoSchedule", False),
        ("cloud.google.com/gke-spot", "true", "NoSchedule", False),
        ("nvidia.com/gpu", "present", "NoSchedule", False),
    ]
    arm = plan.pool("arm")
    assert (arm.arch, arm.vcpus, arm.zones) == ("arm64", 48, ("us-central1-a", "us-central1-b"))
    assert (arm.max_nodes, arm.max_nodes_per_zone) == (20, 20)
    assert taints(plan, "arm")[-1] == ("kubernetes.io/arch", "arm64", "NoSchedule", True)
    # on demand: BALANCED over three zones, 10 nodes: 4 a zone at most (10 / 3 rounded up)
    ondemand = plan.pool("ondemand")
    assert ondemand.autoscaling is not None
    assert ondemand.autoscaling.location_policy == "BALANCED"
    assert ondemand.max_nodes_per_zone == 4
    assert ondemand.labels["gridcloud.io/capacity"] == "on-demand"
    # REANA's runtime pool: its jobs carry no tolerations, so the elastic taint is soft
    assert taints(plan, "ondemand") == [("gridcloud.io/elastic", "true", "PreferNoSchedule", False)]


def test_the_control_node(make_plan: MakePlan) -> None:
    control = make_plan().control
    assert (control.name, control.kind, control.machine_type) == (
        "control",
        "control",
        "e2-standard-2",
    )
    assert (control.vcpus, control.max_cores, control.spot) == (2, 2, False)
    assert (control.min_nodes, control.max_nodes, control.node_count) == (1, 1, 1)
    assert control.zones == ("us-central1-a",) and control.max_nodes_per_zone == 1
    assert control.autoscaling is None and control.initial_node_count is None
    assert (control.disk_size_gb, control.disk_type) == (50, "pd-balanced")
    assert control.taints == () and control.node_selector == {"gridcloud.io/pool": "control"}
    assert control.labels["gridcloud.io/capacity"] == "on-demand"


def test_min_nodes_start_spread_over_the_zones(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][2]["minNodes"] = 4  # ondemand, three zones

    ondemand = make_plan(edit).pool("ondemand")
    assert ondemand.initial_node_count == 2  # 4 / 3 rounded up, per zone
    assert ondemand.autoscaling is not None and ondemand.autoscaling.total_min_nodes == 4


def test_a_pool_at_and_past_the_per_zone_limit(make_plan: MakePlan) -> None:
    def on_demand_nodes(count: int) -> Callable[[dict[str, Any]], None]:
        def edit(data: dict[str, Any]) -> None:
            data["pools"][2]["maxNodes"] = count  # ondemand: BALANCED over three zones

        return edit

    assert make_plan(on_demand_nodes(3000)).pool("ondemand").max_nodes_per_zone == 1000
    with pytest.raises(PlanError, match="1,001 per zone over 3 zone"):
        make_plan(on_demand_nodes(3001))

    def too_many(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 1251  # cpu: 100,000 cores are 1,250 nodes

    with pytest.raises(PlanError, match="minNodes 1251 is above its 1250 nodes at most"):
        make_plan(too_many)


def test_existing_nodes_are_selected_not_sized() -> None:
    from gridcloud.analysis import analyse
    from tests.conftest import PROFILES

    plan = analyse(PROFILES / "onprem.yaml").plan
    batch = plan.pool("batch")
    assert (batch.machine_type, batch.vcpus, batch.max_cores) == (None, None, None)
    assert (batch.max_nodes, batch.max_nodes_per_zone, batch.min_nodes) == (40, 40, 0)
    assert batch.node_selector == {"node-role.gridcloud.io/batch": "true"}
    assert batch.taints == () and batch.labels == {} and batch.disk_type == "existing"
    assert batch.autoscaling is None and batch.upgrade is None and batch.zones == ()
    assert (batch.arch, batch.spot, plan.pool("gpu").arch) == ("amd64", False, "amd64")
    control = plan.control
    assert (control.vcpus, control.memory_gb) == (8, 30)
    assert control.node_selector == {"node-role.gridcloud.io/control": "true"}
    assert control.upgrade is None and control.disk_type == "existing"
    assert (control.spot, control.min_nodes, control.max_nodes) == (False, 1, 1)
    assert control.max_nodes_per_zone == 1
