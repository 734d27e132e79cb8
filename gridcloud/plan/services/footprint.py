"""The control node's footprint: what runs on it around the clock must fit its allocatable.

Nothing always-on may land on an elastic pool (it would keep a large node alive), so the
hub, the gateways, REANA's infrastructure, the squid and the CSI controllers all share the
control node with GKE's own system pods. This module sums their requests and compares them
with what the node offers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from gridcloud.catalog import limits
from gridcloud.errors import PlanError
from gridcloud.plan.services.model import Footprint, FootprintItem
from gridcloud.plan.services.reana import runs_traefik
from gridcloud.plan.services.resources import CONTAINERS, NAMESPACE_DEFAULT, SET, Request

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.profile.models import Profile


def _items(
    service: str,
    prefix: str,
    table: dict[str, Request],
    source: Literal["set by gridcloud", "namespace default"] = "set by gridcloud",
    extra_memory: int = 0,
) -> list[FootprintItem]:
    """The components of one chart in ``table`` (DaemonSet pods count too: one runs here)."""
    return [
        FootprintItem(
            service=service,
            component=key.split("/", 1)[1],
            cpu_m=request.cpu_m,
            memory_mi=request.memory_mi + extra_memory,
            source=source,
        )
        for key, request in table.items()
        if key.startswith(prefix + "/")
    ]


def _defaulted(service: str, prefix: str) -> list[FootprintItem]:
    """Components requesting their namespace's default, once per container."""
    default = NAMESPACE_DEFAULT[prefix]
    table = {
        key: Request(default.cpu_m * count, default.memory_mi * count)
        for key, count in CONTAINERS.items()
    }
    return _items(service, prefix, table, "namespace default")


def spending_meter() -> FootprintItem:
    """The spending meter, in the hub's container (its requests are added to the hub's)."""
    from gridcloud.plan.services.spending import METER_REQUEST

    return FootprintItem(
        service="jupyter",
        component="spending meter (in the hub's pod)",
        cpu_m=METER_REQUEST.cpu_m,
        memory_mi=METER_REQUEST.memory_mi,
        source="set by gridcloud",
    )


def always_on(profile: Profile, *, on_gcp: bool) -> list[FootprintItem]:
    services = profile.services
    items: list[FootprintItem] = []
    if on_gcp:
        items.append(
            FootprintItem(
                service="GKE",
                component="kube-system pods",
                cpu_m=limits.GKE_SYSTEM_PODS_CPU_M,
                memory_mi=limits.GKE_SYSTEM_PODS_MEMORY_MI,
                source="GKE system pods",
                rendered=False,
            )
        )
    if services.grid_site.enabled:
        items += _items("gridSite", "cvmfs-csi", SET)
        items += _items(
            "gridSite", "squid", SET, extra_memory=services.grid_site.squid.cache_mem_mb
        )
    if services.reana.enabled:
        traefik = runs_traefik(site_ingress=not on_gcp)
        items += [i for i in _items("reana", "reana", SET) if traefik or i.component != "traefik"]
        items += _defaulted("reana", "reana")
    if services.jupyter.enabled:
        items += _items("jupyter", "jupyterhub", SET)
        if on_gcp:
            items.append(spending_meter())
        if services.jupyter.dask.enabled:
            items += _items("dask", "dask-gateway", SET)
    return items


def plan_footprint(profile: Profile, control: PoolPlan, *, on_gcp: bool) -> Footprint | None:
    """The footprint; raises PlanError when it does not fit. None when capacity is unknown."""
    if on_gcp:
        assert control.machine_type is not None
        assert control.memory_gb is not None
        cpu, memory = limits.gke_allocatable(
            control.machine_type, control.vcpus or 0, float(control.memory_gb)
        )
        machine = control.machine_type
    else:
        allocatable = profile.control_node.allocatable
        if allocatable is None:
            return None
        cpu, memory = int(allocatable.cpu * 1000), int(allocatable.memory_gb * 1024)
        machine = "the existing control node"
    footprint = Footprint(
        machine=machine,
        allocatable_cpu_m=cpu,
        allocatable_memory_mi=memory,
        items=tuple(always_on(profile, on_gcp=on_gcp)),
    )
    if not footprint.fits:
        short_cpu = max(footprint.cpu_m - cpu, 0)
        short_memory = max(footprint.memory_mi - memory, 0)
        raise PlanError(
            f"the always-on services need {footprint.cpu_m:,}m CPU and "
            f"{footprint.memory_mi:,} MiB on the control node; {machine} offers {cpu:,}m and "
            f"{memory:,} MiB: short by {short_cpu:,}m CPU and {short_memory:,} MiB",
            hint="choose a larger controlNode.machineType (e2-standard-4 offers 3,920m and "
            "13,622 MiB), or switch services off; `gridcloud plan` on a profile that fits "
            "lists every component's share",
        )
    return footprint
