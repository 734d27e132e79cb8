"""Expansion: a validated Profile becomes the Plan.

Pure and deterministic: the same profile and catalog give the same Plan (and fingerprint)
on every machine, offline, in milliseconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from gridcloud import money
from gridcloud.catalog import limits
from gridcloud.errors import PlanError
from gridcloud.labels import FACILITY_LABEL, MANAGED_BY
from gridcloud.plan import invariants
from gridcloud.plan.backups import plan_backups
from gridcloud.plan.cap import cloud_budget
from gridcloud.plan.data import plan_data, workload_access
from gridcloud.plan.fallback import refuse_fallbacks, with_fallbacks
from gridcloud.plan.model import (
    AuthorizedNetwork,
    BudgetPlan,
    ClusterPlan,
    ClusterSecurity,
    Deployed,
    GcpNames,
    GcpPlacement,
    KubernetesPlacement,
    Plan,
    PoolPlan,
)
from gridcloud.plan.multikueue import with_multikueue
from gridcloud.plan.network import plan_network
from gridcloud.plan.pools import (
    plan_control_existing,
    plan_control_gcp,
    plan_pool_existing,
    plan_pool_gcp,
)
from gridcloud.plan.services import plan_services, reana_runtime_pool
from gridcloud.plan.shards import refuse_shards, with_shards
from gridcloud.plan.xcache import cache_pool, plan_xcache
from gridcloud.profile.models import GcpTarget, Profile

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.catalog import Catalog
    from gridcloud.profile.models import Budget, Cluster


def decide_availability(
    cluster: Cluster, max_nodes: int, zone: str, region: str
) -> tuple[str, str, str]:
    """Zonal or regional, where, and why."""
    if cluster.availability == "regional":
        return "regional", region, "regional as the profile asks: a replicated control plane"
    if cluster.availability == "zonal":
        return "zonal", zone, "zonal as the profile asks"
    if max_nodes > limits.LARGE_CLUSTER_NODES:
        return (
            "regional",
            region,
            f"regional: above {limits.LARGE_CLUSTER_NODES:,} nodes a cluster needs a "
            "replicated control plane (no free tier for its management fee)",
        )
    return (
        "zonal",
        zone,
        "zonal: the GKE free tier covers one zonal cluster's management fee; the control plane "
        "pauses during its upgrades while running pods carry on; nodes still span every zone "
        "listed",
    )


def plan_budget(budget: Budget | None) -> BudgetPlan | None:
    if budget is None:
        return None
    return BudgetPlan(
        monthly=budget.monthly,
        currency=budget.currency,
        alert_thresholds=tuple(budget.alert_thresholds),
        alert_amounts=tuple(
            money.amount(budget.monthly * Decimal(str(t))) for t in budget.alert_thresholds
        ),
        hard_cap=budget.hard_cap,
        billing_account=budget.billing_account,
        min_runway_hours=budget.min_runway_hours,
    )


#: Project roles of the nodes' own service account: GKE's minimal node role (logs, metrics,
#: resource metadata; GKE's "Use least privilege service accounts for your nodes"), never
#: the default compute account (Editor on the project). The images are public: no registry
#: role.
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
# FACILITY_LABEL, POOL_LABEL and MANAGED_BY: named once, in gridcloud/labels.py


def authorized_networks(cluster: Cluster) -> tuple[AuthorizedNetwork, ...] | None:
    if cluster.authorized_networks is None:
        return None
    return tuple(
        AuthorizedNetwork(name=n.name, cidr=str(n.cidr)) for n in cluster.authorized_networks
    )


def gcp_names(name: str) -> GcpNames:
    """``<facility>-<role>`` for every named GCP resource."""
    return GcpNames(
        network=f"{name}-vpc",
        subnet=f"{name}-nodes",
        router=f"{name}-router",
        nat=f"{name}-nat",
        node_account=f"{name}-nodes",
    )


@invariants.asserted
def expand(
    profile: Profile,
    catalog: Catalog,
    deployed: Deployed | None = None,
    shards_deployed: Mapping[str, Deployed] | None = None,
) -> Plan:
    """The Plan for ``profile``; raises :class:`PlanError` when it cannot be built.

    ``deployed`` carries what an existing stack fixes (its ranges and max pods), so that a
    second ``up`` keeps them; ``shards_deployed`` the same for each compute-only shard's
    stack, by shard name.
    """
    warnings: list[str] = []
    target = profile.target
    if not isinstance(target, GcpTarget):
        refuse_shards(profile)
        refuse_fallbacks(profile.pools)
        pools: tuple[PoolPlan, ...] = (
            plan_control_existing(profile.control_node),
            *(plan_pool_existing(p) for p in profile.pools),
        )
        services = plan_services(profile, pools, None, on_gcp=False)
        backups, services = plan_backups(profile, services, pools, None)
        allocatable = profile.control_node.allocatable
        if profile.budget is not None:
            warnings.append("a kubernetes target has no cloud bill: the budget is not enforced")
        if profile.data.bucket.enabled:
            warnings.append("a kubernetes target has no Cloud Storage: data.bucket is not built")
        if profile.data.xcache.enabled:
            warnings.append("data.xcache needs a GKE node pool with local SSDs: not built here")
        return Plan(
            name=profile.name,
            description=profile.description,
            target=KubernetesPlacement(
                kubeconfig=target.kubeconfig,
                context=target.context,
                control_allocatable_cpu=allocatable.cpu if allocatable else None,
                control_allocatable_memory_gb=allocatable.memory_gb if allocatable else None,
            ),
            cluster=None,
            network=None,
            pools=pools,
            services=services,
            budget=plan_budget(profile.budget),
            warnings=(*warnings, *services.warnings),
            waivers={w.rule: w.reason for w in profile.policy.waivers},
            backups=backups,
        )

    reana_pool = reana_runtime_pool(profile)
    pools = (
        plan_control_gcp(profile.control_node, target.zones[0], catalog),
        *(
            plan_pool_gcp(p, target.zones, catalog, soft_taint=p.name == reana_pool)
            for p in profile.pools
        ),
    )
    pools, compute_classes = with_fallbacks(pools, profile.pools, catalog, warnings)
    cache = cache_pool(profile, catalog)
    if cache is not None:
        pools = (*pools, cache)
    max_nodes = sum(p.max_nodes for p in pools)
    if max_nodes > limits.MAX_NODES_PER_CLUSTER:
        raise PlanError(
            f"the pools reach {max_nodes:,} nodes; GKE allows "
            f"{limits.MAX_NODES_PER_CLUSTER:,} nodes per cluster",
            hint="split the facility into several clusters: compute-only shards (`shards` in the "
            "profile, docs/plan.md)",
        )
    if max_nodes > limits.LARGE_CLUSTER_NODES:
        warnings.append(
            f"{max_nodes:,} nodes: clusters above {limits.LARGE_CLUSTER_NODES:,} nodes need a "
            "quota increase from Google before they can grow that far"
        )
    availability, location, reason = decide_availability(
        profile.cluster, max_nodes, target.zones[0], target.region
    )
    zones = tuple(sorted({z for p in pools for z in p.zones}))
    # A zonal cluster's own zone is implied; GKE's API lists only the others.
    node_locations = tuple(z for z in zones if z != location)
    surge = sum(p.upgrade.max_surge for p in pools if p.upgrade is not None)
    network = plan_network(
        profile.network,
        max_nodes + surge,
        deployed,
        largest_node_cores=max(p.vcpus or 1 for p in pools),
    )
    services = plan_services(profile, pools, network, on_gcp=True)
    backups, services = plan_backups(profile, services, pools, target.region)
    xcache, services = plan_xcache(profile, services, pools)
    plan = Plan(
        name=profile.name,
        description=profile.description,
        target=GcpPlacement(
            project=target.project, region=target.region, zones=tuple(target.zones)
        ),
        cluster=ClusterPlan(
            name=profile.name,
            availability=availability,
            location=location,
            zones=zones,
            node_locations=node_locations,
            reason=reason,
            release_channel=profile.cluster.release_channel,
            deletion_protection=profile.cluster.deletion_protection,
            max_nodes=max_nodes,
            node_roles=NODE_ROLES,
            security=ClusterSecurity(
                private_nodes=True,
                authorized_networks=authorized_networks(profile.cluster),
                workload_identity=True,
                shielded_nodes=True,
                auto_repair=True,
                auto_upgrade=True,
            ),
            resource_labels={**MANAGED_BY, FACILITY_LABEL: profile.name},
            names=gcp_names(profile.name),
        ),
        network=network,
        pools=pools,
        services=services,
        budget=plan_budget(profile.budget),
        warnings=(*warnings, *services.warnings),
        waivers={w.rule: w.reason for w in profile.policy.waivers},
        data=plan_data(
            profile.data,
            project=target.project,
            region=target.region,
            facility=profile.name,
            access=workload_access(profile.services),
        ),
        compute_classes=compute_classes,
        backups=backups,
        xcache=xcache,
    )
    if profile.shards is not None:
        plan = with_shards(plan, profile, catalog, shards_deployed)
        if profile.shards.multikueue.enabled:
            plan = with_multikueue(plan, profile.shards.multikueue)
    if profile.budget is None or plan.budget is None:
        return plan
    # the hard cap needs the Plan's prices: gridcloud.analysis.planned adds it (plan/cap.py)
    budget = cloud_budget(plan, profile.budget, FACILITY_LABEL)
    return plan.model_copy(update={"budget": budget})
