"""Shards: the facility's compute-only clusters, one Plan each, beside the home cluster.

The home cluster is the profile's own Plan: the always-on control node, the hub, REANA, the
grid site and the budget's enforcer. Each compute-only shard (``profile.shards``) is planned
as a facility of its own, ``<facility>-<shard>`` (its VPC, subnet, NAT, node account and
cluster named from that), by the same expansion as the home cluster:

- its pools are elastic and scale to zero;
- no service runs there, so its always-on part is what GKE itself needs: a system node for
  kube-system (kube-dns, metrics-server, konnectivity, the logging and metrics agents), which
  do not tolerate the elastic pools' taints, on the smallest E2 type whose allocatable holds
  GKE's system pods (:func:`system_machine`), on demand, with a small boot disk; and the
  cluster's management fee: GKE's free tier covers one zonal cluster per billing account,
  which the home cluster takes when it is zonal (the estimate gives it to the first zonal
  cluster of the facility);
- a split (``shards.split``) makes ``ceil(cores / maxCoresPerShard)`` shards of equal size,
  shard ``i`` in region ``i mod len(regions)``, its cores spread over one spot pool per machine
  type the region offers, each over every zone of the region that offers the type (location
  policy ANY), and no shard above :data:`~gridcloud.catalog.limits.LARGE_CLUSTER_NODES` nodes
  (zonal, no quota ticket).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridcloud.catalog import limits
from gridcloud.errors import PlanError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.catalog import Catalog, MachineType
    from gridcloud.plan.model import Deployed, Plan
    from gridcloud.profile.models import GridSite, Pool, Profile, Services
    from gridcloud.profile.shards import Shard

#: E2 shapes tried for a compute-only shard's system node, smallest first.
SYSTEM_CANDIDATES = ("e2-small", "e2-medium", "e2-standard-2")
#: Its boot disk: room for GKE's system images (GKE's own minimum is 10 GB).
SYSTEM_DISK_GB = 20
#: ``<facility>-<shard>`` names the shard's cluster and resources: a service account ID
#: (``-nodes``) takes 30 characters at most.
MAX_SHARD_FACILITY_NAME = 24


def system_machine(
    catalog: Catalog,
    zone: str,
    need: tuple[int, int] = (limits.GKE_SYSTEM_PODS_CPU_M, limits.GKE_SYSTEM_PODS_MEMORY_MI),
) -> MachineType:
    """The smallest E2 type offered in ``zone`` whose GKE allocatable holds ``need`` (CPU m,
    memory MiB): GKE's own kube-system pods (an estimate: limits.GKE_SYSTEM_PODS_*), the
    always-on part of the shard's grid site where it has one, and Kueue's controller on a
    MultiKueue worker."""
    for name in SYSTEM_CANDIDATES:
        machine = catalog.machine(name)
        if machine is None or zone not in machine.zones:
            continue
        cpu, memory = limits.gke_allocatable(machine.name, machine.vcpus, float(machine.memory_gb))
        if cpu >= need[0] and memory >= need[1]:
            return machine
    raise PlanError(
        f"no E2 machine type for a shard's system node in {zone}",
        hint="pick zones that offer e2-medium",
    )


@dataclass(frozen=True)
class _Resolved:
    """A shard, its region and zones, its pools as the profile's Pool models."""

    name: str
    region: str
    zones: list[str]
    pools: list[Pool]
    project: str | None
    availability: str


def _offered_zones(machine: MachineType, catalog: Catalog, region: str) -> list[str]:
    return [z for z in catalog.zones_in(region) if z in machine.zones]


def split_shards(profile: Profile, catalog: Catalog) -> list[_Resolved]:
    """The shards of ``shards.split``: equal in cores, round-robin over the regions."""
    from gridcloud.profile.models import Pool

    assert profile.shards is not None
    assert profile.shards.split is not None
    split = profile.shards.split
    count = math.ceil(split.cores / split.max_cores_per_shard)
    share, extra = divmod(split.cores, count)
    machines = []
    for name in split.machine_types:
        machine = catalog.machine(name)
        if machine is None or machine.arch != "amd64" or machine.bundled_gpu:
            raise PlanError(
                f"shards.split.machineTypes: {name} is not an x86 machine type of the catalog",
                hint="`gridcloud catalog` lists them",
            )
        machines.append(machine)
    for region in split.regions:
        if region not in catalog.regions:
            raise PlanError(
                f"shards.split.regions: unknown region {region}",
                hint="`gridcloud catalog --json` lists the regions",
            )
    found = []
    for index in range(count):
        region = split.regions[index % len(split.regions)]
        cores = share + (1 if index < extra else 0)
        offered = [(m, _offered_zones(m, catalog, region)) for m in machines]
        offered = [(m, zones) for m, zones in offered if zones]
        if not offered:
            raise PlanError(
                f"shards.split: {region} offers none of {', '.join(split.machine_types)}",
                hint="list machine types the region offers, or leave the region out",
            )
        per_pool = math.ceil(cores / len(offered))
        pools = [
            Pool(
                name=f"{machine.family}-{machine.vcpus}",
                kind="cpu",
                machine_type=machine.name,
                spot=split.spot,
                max_cores=per_pool,
                zones=zones,
            )
            for machine, zones in offered
        ]
        zones = sorted({z for _, zs in offered for z in zs})
        found.append(_Resolved(f"s{index + 1}", region, zones, pools, None, "auto"))
    return found


def declared_shard(shard: Shard, catalog: Catalog) -> _Resolved:
    zones = shard.zones
    if zones is None:
        wanted = [catalog.machine(p.machine_type or "") for p in shard.pools]
        zones = sorted(
            {z for m in wanted if m is not None for z in _offered_zones(m, catalog, shard.region)}
        ) or catalog.zones_in(shard.region)
    return _Resolved(
        shard.name, shard.region, zones, shard.pools, shard.project, shard.availability
    )


def shard_profile(profile: Profile, shard: _Resolved, catalog: Catalog) -> Profile:
    """The shard as a facility of its own: its cluster, network and pools, no service, no
    budget (the facility's budget is the home cluster's), a system node for GKE's pods."""
    from gridcloud.plan import multikueue
    from gridcloud.profile.models import (
        ControlNode,
        GcpTarget,
        Jupyter,
        Network,
        Reana,
        Services,
    )

    home = profile.target
    assert isinstance(home, GcpTarget)
    name = f"{profile.name}-{shard.name}"
    if len(name) > MAX_SHARD_FACILITY_NAME:
        raise PlanError(
            f"shard {shard.name}: its resources would be named {name}, longer than "
            f"{MAX_SHARD_FACILITY_NAME} characters (a service account ID takes 30 with -nodes)",
            hint="a shorter shard name, or a shorter facility name",
        )
    target = GcpTarget(
        provider="gcp",
        project=shard.project or home.project,
        region=shard.region,
        zones=shard.zones,
    )
    services = Services(
        grid_site=shard_grid_site(profile, shard),
        reana=Reana(enabled=False),
        jupyter=Jupyter(enabled=False),
    )
    cpu_m, memory_mi = _always_on(profile, services)
    if profile.shards is not None and profile.shards.multikueue.enabled:
        cpu_m += multikueue.CONTROLLER.cpu_m
        memory_mi += multikueue.CONTROLLER.memory_mi
    system = system_machine(catalog, shard.zones[0], (cpu_m, memory_mi))
    network = Network(
        max_pods_per_node=profile.network.max_pods_per_node,
        address_space=profile.network.address_space,
        control_plane_range=profile.network.control_plane_range,
    )
    return profile.model_copy(
        update={
            "name": name,
            "description": f"compute shard {shard.name} of {profile.name} ({shard.region})",
            "target": target,
            "control_node": ControlNode(machine_type=system.name, disk_size_gb=SYSTEM_DISK_GB),
            "pools": shard.pools,
            "network": network,
            "cluster": profile.cluster.model_copy(update={"availability": shard.availability}),
            "services": services,
            "budget": None,
            "prices": [],
            "shards": None,
        }
    )


def _always_on(profile: Profile, services: Services) -> tuple[int, int]:
    """CPU (m) and memory (MiB) that run around the clock on a shard with ``services``:
    GKE's system pods and, with a grid site, its squid and CVMFS driver (the footprint's
    own sum, gridcloud/plan/services/footprint.py)."""
    from gridcloud.plan.services.footprint import always_on

    items = always_on(profile.model_copy(update={"services": services}), on_gcp=True)
    return sum(i.cpu_m for i in items), sum(i.memory_mi for i in items)


def shard_grid_site(profile: Profile, shard: _Resolved) -> GridSite:
    """The shard's grid site: the home one's (namespace, CVMFS, squid, Harvester host) on
    the shard's own pools, its own PanDA queue, where the home site is on and the shard has
    a cpu pool (gridcloud/plan/services/grid_site.py decides which pools); else none."""
    from gridcloud.plan.services.grid_site import grid_pool_names, shard_queue
    from gridcloud.profile.models import GridSite

    site = profile.services.grid_site
    if not site.enabled or not grid_pool_names(shard.pools, None):
        return GridSite(enabled=False)
    harvester = site.harvester.model_copy(update={"queue": shard_queue(site, shard.name)})
    return site.model_copy(update={"pool": None, "max_cores": None, "harvester": harvester})


def _check(shard: Profile, catalog: Catalog) -> None:
    """The catalog's checks of a profile, on the shard's (machine types, zones, GPUs)."""
    from gridcloud.profile.checks import check_profile

    problems = check_profile(shard, catalog)
    if problems:
        lines = [f"{'.'.join(str(part) for part in p.loc)}: {p.message}" for p in problems[:5]]
        raise PlanError(
            f"shard {shard.name}: " + "; ".join(lines),
            hint="fix the shard under shards.declared (its pools as under pools[])",
        )


def plan_shards(
    profile: Profile, catalog: Catalog, deployed: Mapping[str, Deployed] | None = None
) -> tuple[tuple[Plan, ...], list[str]]:
    """One Plan per compute-only shard, and what the home Plan should say about them;
    ``deployed``: what each shard's own stack fixes (its ranges and max pods), by shard name,
    read back from that stack as the home cluster's is from its own."""
    from gridcloud.plan.expand import expand

    if profile.shards is None:
        return (), []
    resolved = (
        split_shards(profile, catalog)
        if profile.shards.split is not None
        else [declared_shard(s, catalog) for s in profile.shards.declared]
    )
    plans = []
    warnings = []
    for shard in resolved:
        derived = shard_profile(profile, shard, catalog)
        _check(derived, catalog)
        plan = expand(derived, catalog, (deployed or {}).get(shard.name))
        split = profile.shards.split is not None
        if (
            split
            and plan.cluster is not None
            and plan.cluster.max_nodes > limits.LARGE_CLUSTER_NODES
        ):
            raise PlanError(
                f"shard {shard.name} reaches {plan.cluster.max_nodes:,} nodes, above "
                f"{limits.LARGE_CLUSTER_NODES:,}: GKE needs a quota increase for it",
                hint="lower shards.split.maxCoresPerShard, or use machine types with more vCPUs",
            )
        plans.append(plan.model_copy(update={"shard": shard.name}))
        warnings += [f"shard {shard.name}: {w}" for w in plan.warnings]
    return tuple(plans), warnings


def refuse_shards(profile: Profile) -> None:
    """Shards are clusters gridcloud creates: none beside an existing cluster."""
    if profile.shards is not None:
        raise PlanError(
            "shards are clusters gridcloud creates: a kubernetes target takes none",
            hint="remove shards, or use a gcp target",
        )


def with_shards(
    plan: Plan,
    profile: Profile,
    catalog: Catalog,
    deployed: Mapping[str, Deployed] | None = None,
) -> Plan:
    """The home ``plan`` with its compute-only shards (``deployed``: as :func:`plan_shards`);
    every cluster of the facility labelled ``BUDGET_LABEL: <facility>``, what a label-scoped
    budget counts them all by."""
    shards, warnings = plan_shards(profile, catalog, deployed)
    if shards:
        shards = tuple(_budget_labelled(s, plan.name) for s in shards)
        plan = _budget_labelled(plan, plan.name)
    return plan.model_copy(update={"shards": shards, "warnings": (*plan.warnings, *warnings)})


def _budget_labelled(plan: Plan, facility: str) -> Plan:
    from gridcloud.labels import BUDGET_LABEL

    assert plan.cluster is not None
    labels = {**plan.cluster.resource_labels, BUDGET_LABEL: facility}
    cluster = plan.cluster.model_copy(update={"resource_labels": labels})
    return plan.model_copy(update={"cluster": cluster})


#: The home cluster's name where a shard is named (``--shard home``).
HOME = "home"


def stack_name(facility: str, shard: str) -> str:
    """The stack of ``shard`` of ``facility``: the facility's own for the home cluster,
    ``<facility>-<shard>`` for a compute-only shard (the shard Plan's name)."""
    return facility if shard == HOME else f"{facility}-{shard}"


def stack_plans(plan: Plan, shard: str | None) -> list[Plan]:
    """The Plans an engine operation acts on, one stack each: every cluster of the facility
    (the home one first), or the one ``shard`` names (``home`` for the home cluster)."""
    from gridcloud.errors import InputError

    if shard is None:
        return [plan, *plan.shards]
    if shard == HOME:
        return [plan]
    for each in plan.shards:
        if each.shard == shard:
            return [each]
    names = ", ".join([HOME, *(s.shard or s.name for s in plan.shards)])
    raise InputError(f"{plan.name} has no shard {shard}", hint=f"its shards: {names}")
