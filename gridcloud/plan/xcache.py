"""XCache in the cluster: the Plan's node pool with local SSDs, the cache's objects, and the
address the facility's pods are given (the configuration itself: plan/services/xcache.py).

- The pool ``xcache``: one on-demand node (a cache on spot would lose its disk with the
  node) of ``data.xcache.machineType``, a family that takes local NVMe SSDs (N1, N2, N2D:
  Compute Engine attaches them in counts of 1, 2, 4, 8, 16 or 24, 375 GiB each), given to
  the node's ephemeral storage (GKE's ``ephemeralStorageLocalSsdConfig``), so the cache's
  ``emptyDir`` is on them. Tainted ``gridcloud.io/xcache`` besides the elastic taint: only
  the cache lands there. One zone, the facility's first: one pod, one node.
- The objects: a ConfigMap with the rendered configuration, a Deployment (one replica,
  ``Recreate``: two caches would share nothing) and a ClusterIP Service on port 1094.
- The address: ``XROOT_PROXY=root://xcache.<namespace>.svc.cluster.local:1094//`` in the
  notebooks, the Dask workers and the pilots. A client reads ``$XROOT_PROXY`` followed by
  the origin's URL, ``root://xcache.<ns>.svc.cluster.local:1094//root://<site>//<path>``
  (the form tests/services/test_xcache.py reads through a real XRootD); XrdCl's proxy-prefix
  plugin reads the same variable, but it is not loaded for every client (see
  plan/services/xcache.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.catalog.charts import plain_copy
from gridcloud.errors import PlanError
from gridcloud.plan.model import AutoscalingPlan, PoolPlan, Taint
from gridcloud.plan.pools import ELASTIC_TAINT, LABEL_POOL, SURGE, labels_for
from gridcloud.plan.services import validate_release
from gridcloud.plan.services import xcache as config
from gridcloud.plan.services.placement import pod_placement
from gridcloud.plan.services.xcache import XCachePlan

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog
    from gridcloud.plan.services.model import ServicesPlan
    from gridcloud.profile.models import Profile

POOL = "xcache"
NAME = "xcache"
XCACHE_TAINT = Taint(key="gridcloud.io/xcache", value="true")
#: Families whose machine types take attached local SSDs, in these counts (Compute Engine's
#: "About Local SSD disks": N1, N2 and N2D; the -lssd types of C3, C3D, C4 come with theirs).
LOCAL_SSD_FAMILIES = ("n1", "n2", "n2d")
LOCAL_SSD_GIB = 375
#: The cache node's boot disk: the OS and images only (the cache is on the local SSDs).
BOOT_DISK_GB = 50
#: XRootD 5 on AlmaLinux 9, as the Open Science Grid builds it for its caches; its own
#: entry point is replaced by a plain ``xrootd -c`` on gridcloud's configuration.
IMAGE = "hub.opensciencegrid.org/opensciencegrid/xcache:23-release"
CONFIG_DIR = "/etc/xcache"
ADMIN_DIR = "/xcache/admin"
#: The cache's own memory besides ``pfc.ram``: XRootD's threads and buffers.
OVERHEAD_MIB = 1024
CPU_REQUEST_M = 1000


def cache_pool(profile: Profile, catalog: Catalog) -> PoolPlan | None:
    """The cache's node pool; None when the profile has no XCache."""
    settings = profile.data.xcache
    if not settings.enabled:
        return None
    target = profile.target
    if target.provider != "gcp":
        return None
    if any(p.name == POOL for p in profile.pools):
        raise PlanError(
            f"data.xcache makes a node pool named '{POOL}': a pool of the profile has that name",
            hint=f"rename the profile's pool '{POOL}'",
        )
    machine = catalog.machine_types.get(settings.machine_type)
    if machine is None or machine.family not in LOCAL_SSD_FAMILIES:
        raise PlanError(
            f"data.xcache.machineType {settings.machine_type}: the cache needs a machine type "
            "that takes local SSDs",
            hint="use an N1, N2 or N2D type (e.g. n2d-standard-8)",
        )
    zone = target.zones[0]
    if zone not in machine.zones and machine.zones:
        raise PlanError(
            f"data.xcache.machineType {machine.name} is not offered in {zone}",
            hint="use a type offered in the facility's first zone",
        )
    return PoolPlan(
        name=POOL,
        kind="cpu",
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
        autoscaling=AutoscalingPlan(
            total_min_nodes=1, total_max_nodes=1, location_policy="BALANCED"
        ),
        node_count=None,
        initial_node_count=1,
        upgrade=SURGE,
        accelerator=None,
        disk_size_gb=BOOT_DISK_GB,
        disk_type="pd-balanced",
        labels=labels_for(POOL, "cpu", spot=False),
        taints=(ELASTIC_TAINT, XCACHE_TAINT),
        node_selector={LABEL_POOL: POOL},
        local_ssd_count=settings.local_ssd_count,
    )


def _objects(plan: XCachePlan, pool: PoolPlan) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "gridcloud"}
    meta = {"name": NAME, "namespace": plan.namespace, "labels": labels}
    memory_mi = plan.ram_gib * 1024 + OVERHEAD_MIB
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {"xcache.cfg": plan.config},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    **pod_placement(pool),
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "fsGroup": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "xrootd",
                            "image": plan.image,
                            "command": ["xrootd", "-c", f"{CONFIG_DIR}/xcache.cfg"],
                            "ports": [{"name": "xroot", "containerPort": plan.port}],
                            "readinessProbe": {"tcpSocket": {"port": plan.port}},
                            "resources": {
                                "requests": {
                                    "cpu": f"{CPU_REQUEST_M}m",
                                    "memory": f"{memory_mi}Mi",
                                    "ephemeral-storage": f"{plan.disk_gib * 95 // 100}Gi",
                                },
                                "limits": {"memory": f"{memory_mi}Mi"},
                            },
                            "securityContext": {
                                "privileged": False,
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                                {"name": "cache", "mountPath": config.LOCALROOT},
                                {"name": "admin", "mountPath": ADMIN_DIR},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": NAME}},
                        # on the node's local SSDs (ephemeral storage on local SSD)
                        {"name": "cache", "emptyDir": {"sizeLimit": f"{plan.disk_gib}Gi"}},
                        {"name": "admin", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [
                {"name": "xroot", "port": plan.port, "targetPort": plan.port, "protocol": "TCP"}
            ],
        },
    }
    return [config_map, deployment, service]


def _with_env(services: ServicesPlan, env: dict[str, str]) -> tuple[ServicesPlan, list[str]]:
    """The services with ``env`` given to the notebooks, the Dask workers and the pilots."""
    given: list[str] = []
    releases = []
    for release in services.releases:
        values = plain_copy(release.values)
        if release.chart_key == "jupyterhub":
            values["singleuser"]["extraEnv"] = {**values["singleuser"].get("extraEnv", {}), **env}
            given.append("notebooks")
        elif release.chart_key == "dask-gateway":
            worker = values["gateway"]["backend"]["worker"]
            container = worker.setdefault("extraContainerConfig", {})
            container["env"] = [
                *container.get("env", []),
                *({"name": k, "value": v} for k, v in env.items()),
            ]
            given.append("Dask workers")
        changed = release.model_copy(update={"values": values})
        if values != release.values:
            validate_release(changed)  # against the chart, as every release's values
        releases.append(changed)
    update: dict[str, Any] = {"releases": tuple(releases)}
    site = services.grid_site
    if site is not None:
        template = plain_copy(site.job_template)
        pilot = template["spec"]["template"]["spec"]["containers"][0]
        pilot["env"] = [*pilot.get("env", []), *({"name": k, "value": v} for k, v in env.items())]
        update["grid_site"] = site.model_copy(update={"job_template": template})
        given.append("pilots")
    return services.model_copy(update=update), given


def plan_xcache(
    profile: Profile, services: ServicesPlan, pools: tuple[PoolPlan, ...]
) -> tuple[XCachePlan | None, ServicesPlan]:
    """The cache on its pool (``cache_pool``, already among ``pools``), its objects added to
    the services', and its address given to their pods."""
    pool = next((p for p in pools if p.name == POOL and p.local_ssd_count), None)
    if pool is None:
        return None, services
    settings = profile.data.xcache
    disk_gib = settings.local_ssd_count * LOCAL_SSD_GIB
    address = f"root://{NAME}.{settings.namespace}.svc.cluster.local:{config.PORT}//"
    env = config.client_environment(NAME, settings.namespace)
    assert env == {"XROOT_PROXY": address}
    services, given = _with_env(services, env)
    plan = XCachePlan(
        pool=pool.name,
        namespace=settings.namespace,
        service=NAME,
        port=config.PORT,
        local_ssd_count=settings.local_ssd_count,
        disk_gib=disk_gib,
        ram_gib=settings.ram_gib,
        image=IMAGE,
        config=config.cache_config(disk_gb=disk_gib, ram_gb=settings.ram_gib, adminpath=ADMIN_DIR),
        address=address,
        client_env=env,
        given_to=tuple(given),
    )
    objects = _objects(plan, pool)
    namespaces = tuple(sorted({*services.namespaces, plan.namespace}))
    return plan, services.model_copy(
        update={"objects": (*services.objects, *objects), "namespaces": namespaces}
    )
