"""What a Plan takes of the project's quotas at its peak, against the limits Google reports.

Pure: the limits come in as ``{metric: (limit, usage)}``, read by :mod:`gridcloud.check.google`
from Compute Engine's ``regions.get`` (regional) and ``projects.get`` (global).

How Compute Engine counts (its quota documentation: "CPU quota", "GPU quota", "Preemptible
quotas", "Disk quota", "IP address quota"):

- a VM's vCPUs count against its family's regional quota (``N2D_CPUS``, ``T2A_CPUS``...;
  N1 and E2 against ``CPUS``), and against the global ``CPUS_ALL_REGIONS``;
- spot and preemptible VMs count against ``PREEMPTIBLE_CPUS`` (and
  ``PREEMPTIBLE_NVIDIA_*_GPUS``) where the project has such a quota above zero; without one
  they count against the regular quotas;
- GPUs against their model's regional quota and the global ``GPUS_ALL_REGIONS``;
- pd-balanced and pd-ssd disks against ``SSD_TOTAL_GB``, pd-standard against
  ``DISKS_TOTAL_GB``, local SSDs (375 GB each, the XCache pool's) against
  ``LOCAL_SSD_TOTAL_GB``; every VM against ``INSTANCES``;
- the nodes are private: of the external addresses only Cloud NAT's count
  (``IN_USE_ADDRESSES``).

The peak is every pool at its maximum plus its surge node (an upgrade at peak adds one).

A facility of shards is summed over its clusters (the home one and every compute-only
shard): each cluster's needs count in its project and region, so two shards in one region
add up there, and every cluster of a project adds up in that project's global quotas
(``CPUS_ALL_REGIONS``, ``GPUS_ALL_REGIONS``); each cluster has its own Cloud NAT, whose
addresses count in its region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gridcloud.catalog import limits
from gridcloud.check.model import CheckResult, QuotaRow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.plan import Plan
    from gridcloud.plan.model import PoolPlan

#: metric -> (limit, usage), as Compute Engine reports them.
Quotas = dict[str, tuple[int, int]]
#: Where a cluster's regional quotas are: (project, region).
Where = tuple[str, str]

GLOBAL = "global"
#: One local SSD (plan/xcache.py).
LOCAL_SSD_GB = 375
#: The regional on-demand CPU quota of each machine family (others: ``<FAMILY>_CPUS`` where
#: the region lists it, else ``CPUS``).
FAMILY_CPUS = {
    "n1": "CPUS",
    "e2": "CPUS",
    "f1": "CPUS",
    "g1": "CPUS",
    "n2": "N2_CPUS",
    "n2d": "N2D_CPUS",
    "c2": "C2_CPUS",
    "c2d": "C2D_CPUS",
    "c3": "C3_CPUS",
    "t2a": "T2A_CPUS",
    "t2d": "T2D_CPUS",
    "a2": "A2_CPUS",
    "m1": "M1_CPUS",
    "m2": "M2_CPUS",
    "m3": "M3_CPUS",
}
#: The regional on-demand quota of each GPU model (GKE's accelerator type names).
GPU_METRICS = {
    "nvidia-tesla-t4": "NVIDIA_T4_GPUS",
    "nvidia-l4": "NVIDIA_L4_GPUS",
    "nvidia-tesla-a100": "NVIDIA_A100_GPUS",
    "nvidia-a100-80gb": "NVIDIA_A100_80GB_GPUS",
    "nvidia-tesla-v100": "NVIDIA_V100_GPUS",
    "nvidia-tesla-p100": "NVIDIA_P100_GPUS",
    "nvidia-tesla-p4": "NVIDIA_P4_GPUS",
}
SSD_DISK_TYPES = frozenset({"pd-balanced", "pd-ssd"})


@dataclass
class _Need:
    amount: int = 0
    parts: list[str] = field(default_factory=list)


def peak_nodes(pool: PoolPlan) -> int:
    surge = pool.upgrade.max_surge if pool.upgrade is not None else 0
    return pool.max_nodes + surge


def _quota_id(metric: str, scope: str) -> str:
    """The quota's ID in Cloud Quotas (Compute Engine's naming: ``CPUS-per-project-region``)."""
    base = metric.replace("_", "-")
    return f"{base}-per-project" if scope == GLOBAL else f"{base}-per-project-region"


def request_hint(metric: str, scope: str, value: int, project: str) -> str:
    where = "" if scope == GLOBAL else f" --dimensions=region={scope}"
    return (
        f"gcloud beta quotas preferences create --service=compute.googleapis.com "
        f"--quota-id={_quota_id(metric, scope)} --preferred-value={value}{where} "
        f"--project={project} (or the console: IAM & Admin, Quotas)"
    )


def _spot_or(metric: str, spot: bool, region: Quotas) -> tuple[str, str]:
    """The metric a pool's VMs or GPUs count against, and why."""
    if not spot:
        return metric, ""
    preemptible = (
        "PREEMPTIBLE_CPUS"
        if metric.endswith("_CPUS") or metric == "CPUS"
        else (f"PREEMPTIBLE_{metric}")
    )
    if region.get(preemptible, (0, 0))[0] > 0:
        return preemptible, ", spot"
    return metric, f", spot (no {preemptible} quota: counted here)"


def clusters(plan: Plan) -> list[Plan]:
    """The facility's clusters, the home one first, then its compute-only shards."""
    return [plan, *plan.shards]


def cluster_where(cluster: Plan) -> Where:
    assert cluster.target.provider == "gcp"
    return cluster.target.project, cluster.target.region


def quota_places(plan: Plan) -> tuple[list[str], list[Where]]:
    """The projects (global quotas) and the (project, region) pairs (regional quotas) the
    facility's clusters take quota in, in order, the home cluster's first."""
    wheres = list(dict.fromkeys(cluster_where(c) for c in clusters(plan)))
    return list(dict.fromkeys(project for project, _ in wheres)), wheres


def quota_rows(
    plan: Plan, regions: Mapping[Where, Quotas], projects: Mapping[str, Quotas]
) -> list[QuotaRow]:
    """Need against limit for every quota the facility's peak touches: every cluster's
    (the home one and its shards), summed per project and region, and per project over all
    regions. ``regions`` and ``projects``: the limits of every place :func:`quota_places`
    names."""
    assert plan.target.provider == "gcp"
    home_project = plan.target.project
    needs: dict[tuple[str, str, str], _Need] = {}

    def add(key: tuple[str, str, str], amount: int, part: str) -> None:
        if amount > 0:
            need = needs.setdefault(key, _Need())
            need.amount += amount
            need.parts.append(part)

    for cluster in clusters(plan):
        project, place = cluster_where(cluster)
        region = regions[(project, place)]
        prefix = f"shard {cluster.shard} " if cluster.shard else ""
        here, everywhere = (project, place), (project, GLOBAL)
        for pool in cluster.pools:
            nodes = peak_nodes(pool)
            cores = nodes * (pool.vcpus or 0)
            family = (pool.machine_type or "").split("-")[0]
            # a family not listed here (c4, n4, g2...) has its own quota where Google lists one
            family_metric = FAMILY_CPUS.get(family, f"{family.upper()}_CPUS")
            if family_metric not in region:
                family_metric = "CPUS"
            metric, why = _spot_or(family_metric, pool.spot, region)
            add((*here, metric), cores, f"{prefix}{pool.name}: {nodes:,} x {pool.vcpus} vCPUs{why}")
            add((*everywhere, "CPUS_ALL_REGIONS"), cores, prefix + pool.name)
            add((*here, "INSTANCES"), nodes, prefix + pool.name)
            disks = "SSD_TOTAL_GB" if pool.disk_type in SSD_DISK_TYPES else "DISKS_TOTAL_GB"
            add((*here, disks), nodes * pool.disk_size_gb, f"{prefix}{pool.name} boot disks")
            local_gb = nodes * pool.local_ssd_count * LOCAL_SSD_GB
            add((*here, "LOCAL_SSD_TOTAL_GB"), local_gb, f"{prefix}{pool.name} local SSDs")
            if pool.accelerator is not None:
                gpus = nodes * pool.accelerator.count
                model = GPU_METRICS.get(
                    pool.accelerator.type,
                    pool.accelerator.type.upper().replace("-", "_") + "_GPUS",
                )
                metric, why = _spot_or(model, pool.spot, region)
                add(
                    (*here, metric),
                    gpus,
                    f"{prefix}{pool.name}: {nodes:,} x {pool.accelerator.count}{why}",
                )
                add((*everywhere, "GPUS_ALL_REGIONS"), gpus, prefix + pool.name)
        for disk in cluster.services.disks:
            metric = "SSD_TOTAL_GB" if disk.disk_type in SSD_DISK_TYPES else "DISKS_TOTAL_GB"
            add((*here, metric), disk.size_gb * disk.count, prefix + disk.what)
        if cluster.network is not None:
            vms = sum(peak_nodes(p) for p in cluster.pools)
            addresses = limits.nat_addresses(vms, cluster.network.nat_min_ports_per_vm)
            add((*here, "IN_USE_ADDRESSES"), addresses, f"{prefix}Cloud NAT for {vms:,} VMs")

    rows = []
    for (project, scope, metric), need in sorted(
        needs.items(),
        key=lambda kv: (kv[0][0] != home_project, kv[0][0], kv[0][1] == GLOBAL, kv[0][1:]),
    ):
        quotas = projects[project] if scope == GLOBAL else regions[(project, scope)]
        limit, usage = quotas.get(metric, (None, None))
        wanted = need.amount + (usage or 0)
        rows.append(
            QuotaRow(
                metric=metric,
                scope=scope,
                project=project,
                need=need.amount,
                limit=limit,
                usage=usage,
                for_what="; ".join(need.parts),
                request=request_hint(metric, scope, wanted, project),
            )
        )
    return rows


def gke_limits(plan: Plan) -> CheckResult:
    """GKE's own limits on the clusters the Plan builds (not in any quota listing): the
    home cluster's, and for a facility of shards each shard's (the home one's figures and the
    largest shard's shown; any cluster past a limit warns, named)."""
    home = _cluster_limits(plan)
    if not plan.shards:
        return home
    shards = [(s.shard or s.name, _cluster_limits(s)) for s in plan.shards]
    largest = max(plan.shards, key=lambda s: sum(peak_nodes(p) for p in s.pools))
    named = dict(shards)
    shown = [f"home: {home.detail}"]
    shown.append(
        f"the largest shard, {largest.shard}: {named[largest.shard or largest.name].detail}"
    )
    warned = [(n, r) for n, r in [("home", home), *shards] if r.status == "warn"]
    shown += [f"shard {n}: {r.detail}" for n, r in warned if n not in ("home", largest.shard)]
    if warned:
        return CheckResult(
            id="gke-limits",
            status="warn",
            title="GKE limits",
            detail="; ".join(shown),
            fix="; ".join(f"{n}: {r.fix}" for n, r in warned),
        )
    return CheckResult(
        id="gke-limits",
        status="ok",
        title="GKE limits",
        detail=f"{len(plan.shards) + 1} clusters, each within: " + "; ".join(shown),
    )


def _cluster_limits(plan: Plan) -> CheckResult:
    """GKE's own limits on one cluster."""
    assert plan.cluster is not None
    assert plan.network is not None
    nodes = sum(peak_nodes(p) for p in plan.pools)
    pods = nodes * plan.network.max_pods_per_node
    detail = (
        f"{nodes:,} nodes at peak (limit {limits.MAX_NODES_PER_CLUSTER:,}; above "
        f"{limits.LARGE_CLUSTER_NODES:,} Google must lift the cluster size quota); up to "
        f"{pods:,} pods at {plan.network.max_pods_per_node} per node (limit "
        f"{limits.MAX_PODS_PER_CLUSTER:,}); at most "
        f"{max(p.max_nodes_per_zone for p in plan.pools):,} nodes of a pool in one zone "
        f"(limit {limits.MAX_NODES_PER_POOL_PER_ZONE:,})"
    )
    if nodes > limits.LARGE_CLUSTER_NODES:
        return CheckResult(
            id="gke-limits",
            status="warn",
            title="GKE limits",
            detail=detail,
            fix="ask Google support to lift the cluster size quota above "
            f"{limits.LARGE_CLUSTER_NODES:,} nodes before the pools grow that far (the cluster "
            "is created regional, as required)",
        )
    if pods > limits.MAX_PODS_PER_CLUSTER:
        return CheckResult(
            id="gke-limits",
            status="warn",
            title="GKE limits",
            detail=detail,
            fix="lower network.maxPodsPerNode or the pools' maxima: GKE admits at most "
            f"{limits.MAX_PODS_PER_CLUSTER:,} pods per cluster",
        )
    return CheckResult(id="gke-limits", status="ok", title="GKE limits", detail=detail)
