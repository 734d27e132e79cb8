"""Pools: node counts from cores, zones, labels and taints.

Taints are listed in the Plan, even where GKE adds them itself, because the services'
tolerations are computed from them; one GKE adds (Arm's) is marked ``by_gke`` and not
declared again on the node pool:

- every elastic pool: ``gridcloud.io/elastic=true:NoSchedule``, so nothing always-on lands
  there and keeps an 80-core node alive; REANA's runtime pool gets it as PreferNoSchedule,
  as REANA 0.9 cannot put tolerations on its job pods (other pods still avoid the pool);
- spot pools: ``cloud.google.com/gke-spot=true:NoSchedule`` (a node may vanish with 30 s
  notice: only fault-tolerant work such as grid pilots and Dask workers tolerates it);
- GPU pools: ``nvidia.com/gpu=present:NoSchedule``;
- Arm pools: ``kubernetes.io/arch=arm64:NoSchedule``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from gridcloud.catalog import limits
from gridcloud.errors import PlanError
from gridcloud.plan.model import AcceleratorPlan, AutoscalingPlan, PoolPlan, Taint, UpgradePlan
from gridcloud.profile.shards import DEFAULT_CORES_PER_SHARD

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog, MachineType
    from gridcloud.profile.models import ControlNode, Pool

LABEL_POOL = "gridcloud.io/pool"
LABEL_KIND = "gridcloud.io/kind"
LABEL_CAPACITY = "gridcloud.io/capacity"

ELASTIC_TAINT = Taint(key="gridcloud.io/elastic", value="true")
SOFT_ELASTIC_TAINT = Taint(key="gridcloud.io/elastic", value="true", effect="PreferNoSchedule")
SPOT_TAINT = Taint(key="cloud.google.com/gke-spot", value="true")
GPU_TAINT = Taint(key="nvidia.com/gpu", value="present")
#: GKE taints Arm nodes itself: the node pool does not declare it (``by_gke``).
ARM_TAINT = Taint(key="kubernetes.io/arch", value="arm64", by_gke=True)

#: Surge upgrades: one extra node per pool, none down (GKE's default surge, made explicit).
SURGE = UpgradePlan(max_surge=limits.SURGE_NODES_PER_POOL, max_unavailable=0)


def taints_for(kind: str, spot: bool, *, soft: bool = False) -> tuple[Taint, ...]:
    """The pool's taints; ``soft`` makes the elastic taint PreferNoSchedule (a pool for
    workloads that cannot carry tolerations, such as REANA 0.9's jobs)."""
    taints = [SOFT_ELASTIC_TAINT if soft else ELASTIC_TAINT]
    if spot:
        taints.append(SPOT_TAINT)
    if kind == "gpu":
        taints.append(GPU_TAINT)
    if kind == "arm":
        taints.append(ARM_TAINT)
    return tuple(taints)


def labels_for(name: str, kind: str, spot: bool) -> dict[str, str]:
    return {
        LABEL_POOL: name,
        LABEL_KIND: kind,
        LABEL_CAPACITY: "spot" if spot else "on-demand",
    }


def plan_control_gcp(control: ControlNode, zone: str, catalog: Catalog) -> PoolPlan:
    """The single always-on node: on-demand, untainted, in the first zone."""
    assert control.machine_type is not None  # checked with the profile
    machine = catalog.machine_types[control.machine_type]
    return PoolPlan(
        name="control",
        kind="control",
        machine_type=machine.name,
        vcpus=machine.vcpus,
        memory_gb=machine.memory_gb,
        arch="amd64",
        spot=False,
        min_nodes=1,
        max_nodes=1,
        max_cores=machine.vcpus,
        zones=(zone,),
        max_nodes_per_zone=1,
        autoscaling=None,
        node_count=1,
        initial_node_count=None,
        upgrade=SURGE,
        accelerator=None,
        disk_size_gb=control.disk_size_gb,
        disk_type="pd-balanced",
        labels=labels_for("control", "control", spot=False),
        taints=(),
        node_selector={LABEL_POOL: "control"},
    )


def plan_control_existing(control: ControlNode) -> PoolPlan:
    """The existing control node of a kubernetes target, found by its labels."""
    allocatable = control.allocatable
    return PoolPlan(
        name="control",
        kind="control",
        machine_type=None,
        vcpus=int(allocatable.cpu) if allocatable else None,
        memory_gb=allocatable.memory_gb if allocatable else None,
        arch="amd64",
        spot=False,
        min_nodes=1,
        max_nodes=1,
        max_cores=None,
        zones=(),
        max_nodes_per_zone=1,
        autoscaling=None,
        node_count=None,
        initial_node_count=None,
        upgrade=None,
        accelerator=None,
        disk_size_gb=control.disk_size_gb,
        disk_type="existing",
        labels={},
        taints=(),
        node_selector=dict(control.node_selector),
    )


def plan_pool_gcp(
    pool: Pool, default_zones: list[str], catalog: Catalog, *, soft_taint: bool = False
) -> PoolPlan:
    assert pool.machine_type is not None  # checked with the profile
    machine = catalog.machine_types[pool.machine_type]
    zones = tuple(pool.zones or default_zones)
    max_nodes = pool.max_nodes or math.ceil((pool.max_cores or 0) / machine.vcpus)
    even_share = math.ceil(max_nodes / len(zones))
    if even_share > limits.MAX_NODES_PER_POOL_PER_ZONE:
        raise PlanError(
            f"pool '{pool.name}' reaches {max_nodes:,} nodes: {even_share:,} per zone over "
            f"{len(zones)} zone(s), above GKE's limit of "
            f"{limits.MAX_NODES_PER_POOL_PER_ZONE:,} nodes per node pool per zone",
            hint=zone_limit_hint(pool.name, max_nodes, zones, machine, catalog),
        )
    # Spot capacity comes and goes by zone: location policy ANY lets the autoscaler take it
    # wherever it is, so one zone may hold the whole pool up to GKE's per-zone limit.
    policy: Literal["ANY", "BALANCED"] = "ANY" if pool.spot else "BALANCED"
    per_zone = min(max_nodes, limits.MAX_NODES_PER_POOL_PER_ZONE) if policy == "ANY" else even_share
    min_nodes = pool.min_nodes
    if min_nodes > max_nodes:
        raise PlanError(
            f"pool '{pool.name}': minNodes {min_nodes} is above its {max_nodes} nodes at most",
        )
    accelerator = None
    if machine.bundled_gpu:
        accelerator = AcceleratorPlan(
            type=machine.bundled_gpu, count=machine.bundled_gpu_count, bundled=True
        )
    elif pool.accelerator is not None:
        accelerator = AcceleratorPlan(
            type=pool.accelerator.type, count=pool.accelerator.count, bundled=False
        )
    return PoolPlan(
        name=pool.name,
        kind=pool.kind,
        machine_type=machine.name,
        vcpus=machine.vcpus,
        memory_gb=machine.memory_gb,
        arch="arm64" if machine.arch == "arm64" else "amd64",
        spot=pool.spot,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        max_cores=max_nodes * machine.vcpus,
        zones=zones,
        max_nodes_per_zone=per_zone,
        autoscaling=AutoscalingPlan(
            total_min_nodes=min_nodes, total_max_nodes=max_nodes, location_policy=policy
        ),
        node_count=None,
        initial_node_count=math.ceil(min_nodes / len(zones)),
        upgrade=SURGE,
        accelerator=accelerator,
        disk_size_gb=pool.disk_size_gb,
        disk_type=pool.disk_type,
        labels=labels_for(pool.name, pool.kind, pool.spot),
        taints=taints_for(pool.kind, pool.spot, soft=soft_taint),
        node_selector={LABEL_POOL: pool.name},
    )


def zone_limit_hint(
    name: str, max_nodes: int, zones: tuple[str, ...], machine: MachineType, catalog: Catalog
) -> str:
    """The ways that work for a pool past GKE's per-zone limit, for its region: more zones
    (as many as the region offers the type in), more pools, or more clusters."""
    per_zone = limits.MAX_NODES_PER_POOL_PER_ZONE
    needed = math.ceil(max_nodes / per_zone)
    region = catalog.region_of(zones[0]) or zones[0].rsplit("-", 1)[0]
    offered = [z for z in catalog.zones_in(region) if z in machine.zones] or list(zones)
    ways = []
    if needed <= len(offered):
        ways.append(
            f"list at least {needed} zones for it ({region} offers {machine.name} in "
            f"{len(offered)}: {', '.join(offered)})"
        )
    else:
        per_pool = per_zone * len(offered)
        pools = math.ceil(max_nodes / per_pool)
        ways.append(
            f"it needs {needed} zones and {region} offers {machine.name} in {len(offered)}: "
            f"split it into {pools} pools of at most {per_pool:,} nodes "
            f"({per_pool * machine.vcpus:,} cores), each over those {len(offered)} zones "
            "(a zonal cluster's pools may use every zone of its region too; "
            "cluster.availability: regional also spreads the control plane)"
        )
    cluster_cores = limits.MAX_NODES_PER_CLUSTER * machine.vcpus
    if max_nodes > limits.MAX_NODES_PER_CLUSTER:
        ways.append(
            f"beyond {limits.MAX_NODES_PER_CLUSTER:,} nodes ({cluster_cores:,} cores of "
            f"{machine.name}) no cluster holds it: spread it over compute-only shards (below)"
        )
    else:
        ways.append(
            f"one cluster holds up to {limits.MAX_NODES_PER_CLUSTER:,} nodes "
            f"({cluster_cores:,} cores of {machine.name}) over all its pools; past that, "
            "more clusters: compute-only shards (below)"
        )
    shards = math.ceil(max_nodes * machine.vcpus / DEFAULT_CORES_PER_SHARD)
    ways.append(
        f"or put its cores in compute-only shards, one cluster each ({shards} of at most "
        f"{DEFAULT_CORES_PER_SHARD:,} cores: shards.split with cores and the regions allowed; "
        "docs/plan.md)"
    )
    ways.append("or use a machine type with more vCPUs")
    return f"pool '{name}': " + "; ".join(ways)


def plan_pool_existing(pool: Pool) -> PoolPlan:
    """A pool of existing nodes (kubernetes target): selected by labels, not created."""
    max_nodes = pool.max_nodes or 0
    return PoolPlan(
        name=pool.name,
        kind=pool.kind,
        machine_type=None,
        vcpus=None,
        memory_gb=None,
        arch="arm64" if pool.kind == "arm" else "amd64",
        spot=pool.spot,
        min_nodes=pool.min_nodes,
        max_nodes=max_nodes,
        max_cores=None,
        zones=(),
        max_nodes_per_zone=max_nodes,
        autoscaling=None,
        node_count=None,
        initial_node_count=None,
        upgrade=None,
        accelerator=None,
        disk_size_gb=pool.disk_size_gb,
        disk_type="existing",
        labels={},
        taints=(),
        node_selector=dict(pool.node_selector) or {LABEL_POOL: pool.name},
    )
