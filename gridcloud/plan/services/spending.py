"""Per-user spending, planned: the in-cluster code (gridcloud/incluster/spending.py) shipped
into the hub's and the gateway's configuration, and, once the Plan is priced, the node
prices, limits and meter they read.

- Always: the gateway's options handler labels Dask schedulers and workers with the user
  (KubeSpawner's ``hub.jupyter.org/username``, escaped as KubeSpawner escapes it) and group
  (``gridcloud-group``), and the hub's ``pre_spawn_hook`` labels notebooks with the group;
  GKE cost allocation exports both, so ``cost report`` attributes Dask spend to users.
- Priced (Google Cloud, :func:`with_spending` from :func:`gridcloud.analysis.planned`): the
  meter runs in the hub's pod (a JupyterHub service, SQLite on the hub's volume) and, with
  limits in the profile, the hub and gateway enforce them.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from gridcloud.catalog.charts import plain_copy
from gridcloud.plan.services.resources import Request

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from gridcloud.plan.model import Plan, PoolPlan
    from gridcloud.profile.models import Jupyter

#: The hub's and the gateway's ``extraConfig`` key (after gridcloud-oidc, gridcloud-options).
EXTRA_CONFIG_KEY = "gridcloud-spending"
MODULE = "gridcloud_spending"
#: The meter, a JupyterHub service in the hub's container: its port (the hub Service's
#: extra port, for the gateway), its database on the hub's volume (chart 4.4.0 mounts the
#: hub's PVC at /srv/jupyterhub), and what it adds to the hub container's requests.
METER_SERVICE = "gridcloud-meter"
METER_PORT = 8765
METER_DATABASE = "/srv/jupyterhub/gridcloud-meter.sqlite"
METER_REQUEST = Request(20, 64)


def source() -> str:
    return files("gridcloud.incluster").joinpath("spending.py").read_text()


#: Makes the module importable as ``gridcloud_spending`` (once) from ``_gc_source``.
LOADER_BODY = f"""import sys as _gc_sys
import types as _gc_types

if {MODULE!r} not in _gc_sys.modules:
    _gc_module = _gc_types.ModuleType({MODULE!r})
    _gc_sys.modules[{MODULE!r}] = _gc_module
    exec(compile(_gc_source, "gridcloud_spending.py", "exec"), _gc_module.__dict__)
{MODULE} = _gc_sys.modules[{MODULE!r}]
"""


def loader() -> str:
    """Python that makes the in-cluster module importable as ``gridcloud_spending`` from
    its source, carried in the configuration itself."""
    return f"_gc_source = {source()!r}\n" + LOADER_BODY


#: What the meter's process runs after the module: its loop over the namespace's pods (or
#: over a file of pods, ``GRIDCLOUD_METER_PODS``, where no API server is: the tests).
METER_MAIN = f"""
import json as _gc_json
import os as _gc_os

_gc_settings = _gc_json.loads(_gc_os.environ["GRIDCLOUD_SPENDING"])
_gc_file = _gc_os.environ.get("GRIDCLOUD_METER_PODS")


def _gc_pods():
    if _gc_file:
        with open(_gc_file) as handle:
            return _gc_json.load(handle)
    return {MODULE}.kubernetes_pods(_gc_settings["meterService"]["namespace"])


{MODULE}.main(_gc_settings, _gc_pods, float(_gc_os.environ.get("GRIDCLOUD_METER_EVERY", "60")))
"""


def group_order(jupyter: Jupyter) -> list[str]:
    """The groups a user may be charged to, first match wins: those with a limit, then the
    hub's allowed groups."""
    order = list(jupyter.spending.groups)
    allowed = jupyter.oidc.allowed_groups if jupyter.oidc else []
    return order + [g for g in allowed if g not in order]


#: The hub's extraConfig: the module, its hook and environments, and the meter where the
#: plan priced it (``custom.gridcloud.spending.meterService``).
HUB_SETUP = f"""
import json as _gc_json
import sys as _gc_sys2

_gc_spending = get_config("custom.gridcloud.spending", {{}})
{MODULE}.hub_setup(c, _gc_spending)
if _gc_spending.get("meterService"):
    c.JupyterHub.services.append(
        {{
            "name": {METER_SERVICE!r},
            # the module's source as the hub has it, then the meter's loop
            "command": [
                _gc_sys2.executable,
                "-c",
                "_gc_source = " + repr(_gc_source) + "\\n" + {LOADER_BODY + METER_MAIN!r},
            ],
            "environment": {{"GRIDCLOUD_SPENDING": _gc_json.dumps(_gc_spending)}},
        }}
    )
"""


def hub_config() -> str:
    return loader() + HUB_SETUP


def gateway_labels() -> str:
    """Python for the gateway's configuration before the options handler: the module."""
    return loader()


def gateway_limits(settings: dict[str, Any], max_workers: int) -> str:
    return f"""
c.Backend.cluster_options = {MODULE}.gateway_options(
    c.Backend.cluster_options, {settings!r}, {max_workers}
)
"""


# --- priced ---------------------------------------------------------------------------------


def _pool_entry(pool: PoolPlan, hourly: Decimal) -> dict[str, Any]:
    return {
        "hourly": str(hourly),
        "vcpus": pool.vcpus,
        "memoryGb": str(pool.memory_gb),
        "gpus": pool.accelerator.count if pool.accelerator else 0,
        "selector": dict(pool.node_selector),
    }


def settings_of(
    plan: Plan, jupyter: Jupyter, node_hourly: Mapping[str, Decimal | None]
) -> tuple[dict[str, Any], list[str]]:
    """The settings the hub, the gateway and the meter read; and the pools left unpriced."""
    hub = plan.services.release("jupyterhub")
    pools = {}
    unpriced = []
    for pool in plan.pools:
        price = node_hourly.get(pool.name)
        if pool.vcpus is None or pool.memory_gb is None or price is None:
            unpriced.append(pool.name)
            continue
        pools[pool.name] = _pool_entry(pool, price)
    single = hub.values["singleuser"]
    profiles = {}
    for profile in single["profileList"]:
        override = profile["kubespawner_override"]
        pool_name = next(
            (p.name for p in plan.pools if dict(p.node_selector) == override["node_selector"]),
            None,
        )
        if pool_name is None:
            continue
        profiles[profile["slug"]] = {
            "pool": pool_name,
            "cpu": str(single["cpu"]["guarantee"]),
            "memory": str(single["memory"]["guarantee"]),
            "gpus": int((override.get("extra_resource_limits") or {}).get("nvidia.com/gpu", 0)),
        }
    spending = jupyter.spending
    settings: dict[str, Any] = {
        "groupOrder": group_order(jupyter),
        "pools": pools,
        "profiles": profiles,
        "limits": {
            "userMonthly": None if spending.user_monthly is None else str(spending.user_monthly),
            "groupMonthly": None if spending.group_monthly is None else str(spending.group_monthly),
            "users": {k: str(v) for k, v in spending.users.items()},
            "groups": {k: str(v) for k, v in spending.groups.items()},
            "warnAt": str(spending.warn_at),
        },
        "meter": f"http://127.0.0.1:{METER_PORT}",
    }
    if jupyter.dask.enabled:
        gateway = plan.services.release("dask-gateway")
        placed = {p.component: p.pool for p in gateway.placements}
        scheduler = gateway.values["gateway"]["backend"]["scheduler"]
        settings["dask"] = {
            "schedulerPool": placed["schedulers"],
            "workerPool": placed["workers"],
            "gpuPool": placed.get("GPU workers"),
            "scheduler": {
                "cpu": str(scheduler["cores"]["request"]),
                "memory": str(scheduler["memory"]["request"]),
            },
        }
    return settings, unpriced


def with_spending(plan: Plan, jupyter: Jupyter, node_hourly: Mapping[str, Decimal | None]) -> Plan:
    """``plan`` with the meter (on Google Cloud, where nodes have prices) and the limits,
    once priced: ``node_hourly`` is each pool's node-hour from the estimate, the figure the
    estimate and the cap use."""
    if not jupyter.enabled or "jupyter" not in plan.services.enabled:
        return plan
    if plan.target.provider != "gcp":
        if not jupyter.spending.limited:
            return plan
        warning = (
            "services.jupyter.spending: limits in dollars need the nodes' prices, which an "
            "existing cluster has none of; they are not enforced there (pods are still "
            "labelled with their user and group)"
        )
        return plan.model_copy(update={"warnings": (*plan.warnings, warning)})
    from gridcloud.plan.services import validate_release

    settings, unpriced = settings_of(plan, jupyter, node_hourly)
    releases = []
    for release in plan.services.releases:
        values = plain_copy(release.values)
        if release.name == "jupyterhub":
            hub_settings = {
                **settings,
                "meterService": {
                    "port": METER_PORT,
                    "bind": "0.0.0.0",  # the gateway asks through the hub Service
                    "database": METER_DATABASE,
                    "namespace": release.namespace,
                },
            }
            values["custom"]["gridcloud"]["spending"] = hub_settings
            hub = values["hub"]
            hub.setdefault("service", {})["extraPorts"] = [
                {"name": "meter", "port": METER_PORT, "targetPort": METER_PORT}
            ]
            hub.setdefault("networkPolicy", {})["ingress"] = [
                {
                    "ports": [{"port": METER_PORT}],
                    "from": [
                        {
                            "podSelector": {
                                "matchLabels": {
                                    "app.kubernetes.io/name": "dask-gateway",
                                    "app.kubernetes.io/component": "gateway",
                                }
                            }
                        }
                    ],
                }
            ]
        elif release.name == "dask-gateway" and jupyter.spending.limited:
            gateway_settings = {**settings, "meter": f"http://hub:{METER_PORT}"}
            values["gateway"]["extraConfig"][EXTRA_CONFIG_KEY] = gateway_limits(
                gateway_settings, jupyter.dask.max_workers
            )
        changed = release.model_copy(update={"values": values})
        validate_release(changed)
        releases.append(changed)
    used = {p["pool"] for p in settings["profiles"].values()} | {
        settings["dask"][k]
        for k in ("schedulerPool", "workerPool", "gpuPool")
        if "dask" in settings
    }
    warnings = plan.warnings + tuple(
        f"pool {name}: no price, so the spending meter charges nothing for its pods"
        for name in unpriced
        if name in used
    )
    services = plan.services.model_copy(update={"releases": tuple(releases)})
    return plan.model_copy(update={"services": services, "warnings": warnings})


def settings_json(plan: Plan) -> str:
    """The hub's spending settings, as the meter's environment carries them."""
    hub = plan.services.release("jupyterhub")
    return json.dumps(hub.values["custom"]["gridcloud"].get("spending", {}))
