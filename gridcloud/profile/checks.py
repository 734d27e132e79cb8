"""Checks of a structurally valid profile against the catalog and the target.

Each returns :class:`~gridcloud.profile.loader.Problem` findings with field paths, so the
loader reports them with file and line like any schema error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.profile.loader import Loc, Problem, suggest
from gridcloud.profile.models import GcpTarget, KubernetesTarget, Pool, Profile

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog, MachineType


def check_profile(profile: Profile, catalog: Catalog) -> list[Problem]:
    if isinstance(profile.target, GcpTarget):
        problems = _check_gcp(profile, profile.target, catalog)
    else:
        problems = _check_kubernetes(profile, profile.target)
    return problems + _check_services(profile)


def _check_services(profile: Profile) -> list[Problem]:
    """Pools the services name exist and suit them; JupyterHub has a login."""
    services = profile.services
    pools = {p.name: p for p in profile.pools}
    problems = []
    references: list[tuple[Loc, str | None, bool]] = [
        (("services", "gridSite", "pool"), services.grid_site.pool, services.grid_site.enabled),
        (("services", "reana", "runtimePool"), services.reana.runtime_pool, services.reana.enabled),
        (("services", "jupyter", "userPool"), services.jupyter.user_pool, services.jupyter.enabled),
        (
            ("services", "jupyter", "dask", "workerPool"),
            services.jupyter.dask.worker_pool,
            services.jupyter.enabled and services.jupyter.dask.enabled,
        ),
    ]
    for loc, name, enabled in references:
        if enabled and name is not None and name not in pools:
            problems.append(Problem(loc, f"unknown pool '{name}'", suggest(name, pools)))
    reana = services.reana
    if reana.enabled and reana.runtime_pool in pools:
        pool = pools[reana.runtime_pool]
        if pool.kind != "cpu" or pool.spot:
            problems.append(
                Problem(
                    ("services", "reana", "runtimePool"),
                    f"pool '{pool.name}' is {'spot' if pool.spot else pool.kind}: REANA 0.9 "
                    "sets no tolerations on its jobs, so its runtime pool must be an "
                    "on-demand cpu pool",
                )
            )
    if services.jupyter.enabled and services.jupyter.oidc is None:
        problems.append(
            Problem(
                ("services", "jupyter", "oidc"),
                "JupyterHub needs a login: oidc with issuer, clientId and a client secret",
            )
        )
    return problems


def _check_kubernetes(profile: Profile, target: KubernetesTarget) -> list[Problem]:
    problems = []
    if profile.control_node.machine_type is not None:
        problems.append(
            Problem(
                ("controlNode", "machineType"),
                f"gridcloud creates no nodes on a kubernetes target ({target.context}); "
                "select the existing control node with nodeSelector",
            )
        )
    if not profile.control_node.node_selector:
        problems.append(
            Problem(
                ("controlNode", "nodeSelector"),
                "required on a kubernetes target: the labels of the existing control node",
            )
        )
    for i, pool in enumerate(profile.pools):
        if not pool.node_selector:
            problems.append(
                Problem(
                    ("pools", i, "nodeSelector"),
                    "required on a kubernetes target: the labels of the existing nodes",
                )
            )
        if pool.machine_type is not None:
            problems.append(
                Problem(
                    ("pools", i, "machineType"),
                    "gridcloud creates no nodes on a kubernetes target; "
                    "select the existing nodes with nodeSelector",
                )
            )
        if pool.max_cores is not None:
            problems.append(
                Problem(
                    ("pools", i, "maxCores"),
                    "on a kubernetes target the node size is unknown; give maxNodes",
                )
            )
    return problems


def _check_gcp(profile: Profile, target: GcpTarget, catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    if target.region not in catalog.regions:
        problems.append(
            Problem(
                ("target", "region"),
                f"unknown region '{target.region}'",
                suggest(target.region, catalog.regions),
            )
        )
        return problems
    region_zones = catalog.zones_in(target.region)
    for i, zone in enumerate(target.zones):
        if zone not in region_zones:
            problems.append(
                Problem(
                    ("target", "zones", i),
                    f"zone '{zone}' is not in region {target.region} "
                    f"(its zones: {', '.join(region_zones)})",
                    suggest(zone, region_zones),
                )
            )
    if problems:
        return problems

    control = profile.control_node
    loc: Loc = ("controlNode", "machineType")
    if control.machine_type is None:
        problems.append(Problem(loc, "a gcp target needs the control node's machine type"))
    else:
        machine = _machine(control.machine_type, loc, catalog, problems)
        if machine is not None:
            problems += _offered(machine, target.zones[:1], loc)
            if machine.bundled_gpu or machine.arch != "amd64":
                problems.append(
                    Problem(loc, f"the control node must be a plain x86 type, not {machine.name}")
                )
    for i, pool in enumerate(profile.pools):
        problems += _check_pool(pool, ("pools", i), target, catalog)
    return problems


def _machine(name: str, loc: Loc, catalog: Catalog, problems: list[Problem]) -> MachineType | None:
    machine = catalog.machine(name)
    if machine is None:
        problems.append(
            Problem(loc, f"unknown machine type '{name}'", suggest(name, catalog.machine_types))
        )
    elif machine.deprecated:
        problems.append(Problem(loc, f"machine type {name} is {machine.deprecated.lower()}"))
    return machine


def _offered(machine: MachineType, zones: list[str], loc: Loc) -> list[Problem]:
    missing = [z for z in zones if z not in machine.zones]
    if not missing:
        return []
    region = zones[0].rsplit("-", 1)[0]
    where = sorted(z for z in machine.zones if z.startswith(region + "-"))
    offered = f"offered in {', '.join(where)}" if where else f"not offered in {region} at all"
    return [Problem(loc, f"{machine.name} is not offered in {', '.join(missing)} ({offered})")]


def _check_pool(pool: Pool, at: Loc, target: GcpTarget, catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    zones = pool.zones or target.zones
    for j, zone in enumerate(pool.zones or []):
        if catalog.region_of(zone) != target.region:
            problems.append(
                Problem((*at, "zones", j), f"zone '{zone}' is not in region {target.region}")
            )
    if pool.node_selector:
        problems.append(
            Problem((*at, "nodeSelector"), "nodeSelector is for a kubernetes target only")
        )
    loc: Loc = (*at, "machineType")
    if pool.machine_type is None:
        problems.append(Problem(loc, f"pool '{pool.name}' needs a machine type on a gcp target"))
        return problems
    machine = _machine(pool.machine_type, loc, catalog, problems)
    if machine is None or problems:
        return problems
    problems += _offered(machine, zones, loc)

    if pool.kind == "arm" and machine.arch != "arm64":
        problems.append(
            Problem(
                loc,
                f"{machine.name} is an x86 type; an arm pool needs an Arm type "
                "(t2a, c4a or n4a families)",
            )
        )
    if pool.kind != "arm" and machine.arch == "arm64":
        problems.append(Problem(loc, f"{machine.name} is an Arm type; use kind: arm for this pool"))
    if pool.kind == "cpu" and machine.bundled_gpu:
        problems.append(
            Problem(loc, f"{machine.name} comes with {machine.bundled_gpu}; use kind: gpu")
        )
    if pool.kind == "gpu":
        problems += _check_gpu(pool, at, machine, zones, catalog)
    return problems


def _check_gpu(
    pool: Pool, at: Loc, machine: MachineType, zones: list[str], catalog: Catalog
) -> list[Problem]:
    spec = pool.accelerator
    if machine.bundled_gpu:
        if spec is not None and (
            spec.type != machine.bundled_gpu or spec.count != machine.bundled_gpu_count
        ):
            return [
                Problem(
                    (*at, "accelerator"),
                    f"{machine.name} comes with {machine.bundled_gpu_count}x "
                    f"{machine.bundled_gpu}; leave accelerator out or match it",
                )
            ]
        return []
    if spec is None:
        return [
            Problem(
                (*at, "accelerator"),
                f"a gpu pool on {machine.name} needs an accelerator (e.g. nvidia-tesla-t4 on n1, "
                "or a g2 type, which comes with nvidia-l4)",
            )
        ]
    loc: Loc = (*at, "accelerator", "type")
    accelerator = catalog.accelerator(spec.type)
    if accelerator is None:
        return [
            Problem(
                loc, f"unknown accelerator '{spec.type}'", suggest(spec.type, catalog.accelerators)
            )
        ]
    if accelerator.attaches_to is None:
        hosts = sorted(
            {m.family for m in catalog.machine_types.values() if m.bundled_gpu == spec.type}
        )
        return [
            Problem(
                loc,
                f"{spec.type} comes built into {'/'.join(hosts)} machine types; "
                f"it cannot be attached to {machine.name}",
            )
        ]
    problems = []
    if accelerator.attaches_to != machine.family:
        problems.append(
            Problem(
                loc,
                f"{spec.type} attaches to {accelerator.attaches_to} machine types only, "
                f"not {machine.family} ({machine.name})",
            )
        )
    if spec.count not in accelerator.counts:
        problems.append(
            Problem(
                (*at, "accelerator", "count"),
                f"{spec.type} comes {', '.join(map(str, accelerator.counts))} per VM, "
                f"not {spec.count}",
            )
        )
    missing = [z for z in zones if z not in accelerator.zones]
    if missing:
        problems.append(Problem(loc, f"{spec.type} is not offered in {', '.join(missing)}"))
    return problems
