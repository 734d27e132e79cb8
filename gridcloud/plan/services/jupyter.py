"""JupyterHub with OIDC login and a choice of environments, and Dask Gateway behind it.

The hub and proxy run on the control node; notebook servers on the user pool (never the
control node), GPU and Arm environments on their pools. Dask Gateway authenticates through
JupyterHub, accepting only tokens scoped to its service (``jupyterhubServiceName``); its
workers go to the worker pool (spot: Dask recomputes lost work), schedulers to the user pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.catalog.charts import plain_copy
from gridcloud.errors import PlanError
from gridcloud.plan.data import METADATA_SERVER_EGRESS
from gridcloud.plan.services import ingress, priorities, spending
from gridcloud.plan.services.model import Placement, ReleasePlan, release_of
from gridcloud.plan.services.oidc import DISCOVERY_KEY, hub_login
from gridcloud.plan.services.placement import pod_placement
from gridcloud.plan.services.resources import SET, Request

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.profile.models import Jupyter

DASK_SERVICE = "dask-gateway"
DASK_RELEASE = "dask-gateway"
#: Where notebooks reach the gateway: through the hub's proxy, under the hub service's path.
DASK_PREFIX = f"/services/{DASK_SERVICE}"
#: The gateway chart's Traefik Service, which routes the API and the schedulers.
DASK_TRAEFIK = f"traefik-{DASK_RELEASE}"
#: Traefik 3 ends a connection 60 s after its request began (``readTimeout``, its default
#: since 2.11.2), which also ends a dashboard's WebSocket and a client's scheduler
#: connection (both on the ``web`` entry point): no such limit, as before 2.11.2. The
#: gateway's Traefik is internal (ClusterIP), reached through the hub's proxy.
DASK_TRAEFIK_ARGS = ("--entryPoints.web.transport.respondingTimeouts.readTimeout=0",)
#: The scopes of a notebook's own API token (JUPYTERHUB_API_TOKEN): JupyterHub's default
#: ``server`` role, and access to the gateway, which accepts only tokens scoped to it.
SERVER_SCOPES = ("users:activity!user", "access:servers!server")
OIDC_SECRET_NAME = "jupyterhub-oidc"
#: The hub's database volume (chart 4.4.0's ``hub.db.pvc.storage``: 1Gi, left as it is).
HUB_DB_GB = 1
OIDC_SECRET_KEY = "client-secret"


def _image(reference: str) -> dict[str, str]:
    name, _, tag = reference.rpartition(":")
    return (
        {"name": name, "tag": tag}
        if name and "/" not in tag
        else {"name": reference, "tag": "latest"}
    )


def _environment(
    slug: str, title: str, description: str, image: str, pool: PoolPlan, **extra: Any
) -> dict[str, Any]:
    override: dict[str, Any] = {
        "image": image,
        "node_selector": dict(pool.node_selector),
        "tolerations": pool.tolerations,
        **extra,
    }
    return {
        "display_name": title,
        "slug": slug,
        "description": description,
        "kubespawner_override": override,
    }


def profile_list(
    jupyter: Jupyter, user: PoolPlan, gpus: list[PoolPlan], arms: list[PoolPlan]
) -> list[dict[str, Any]]:
    """Environments: CPU (default), ML, one per GPU pool, Arm where an Arm pool exists."""
    images = jupyter.images
    envs = [
        {
            **_environment(
                "cpu",
                "Analysis (CPU)",
                "Python, ROOT-free scientific stack, Dask",
                images.cpu,
                user,
            ),
            "default": True,
        },
        _environment("ml", "Machine learning (CPU)", "PyTorch on CPU", images.ml, user),
    ]
    for pool in gpus:
        accel = pool.accelerator
        gpu_name = accel.type if accel else "GPU"
        envs.append(
            _environment(
                f"gpu-{pool.name}",
                f"GPU: {gpu_name}",
                f"PyTorch with CUDA on one {gpu_name} (pool {pool.name})",
                images.gpu,
                pool,
                extra_resource_limits={"nvidia.com/gpu": "1"},
            )
        )
    for pool in arms:
        envs.append(
            _environment(
                f"arm-{pool.name}",
                "Arm (aarch64)",
                f"The CPU stack on Arm nodes (pool {pool.name})",
                images.arm,
                pool,
            )
        )
    return envs


def jupyterhub_release(
    jupyter: Jupyter,
    *,
    control: PoolPlan,
    user: PoolPlan,
    gpus: list[PoolPlan],
    arms: list[PoolPlan],
    dask: bool,
    home_class: str | None = None,
    load_balancer: bool = False,
    network_policies_enforced: bool = False,
    meter: bool = False,
    metadata_server: bool = False,
) -> ReleasePlan:
    """The hub's release. The proxy's Service is internal: GKE's load balancer (with
    ``load_balancer``, Google Cloud) or the site's ingress controller serves it over HTTPS
    (ingress.py). The proxy keeps idle connections longer than either does.

    Where the cluster enforces NetworkPolicies (GKE with Dataplane V2), the notebooks'
    policy keeps them from the cloud metadata server (the chart's ``cloudMetadataServer:
    false``), so the chart's privileged iptables init container in every notebook pod is
    left out. Elsewhere nothing guarantees the policy is enforced: the init container
    stays. With ``metadata_server`` (the facility bucket, reached through Workload
    Identity) the policy lets notebooks reach GKE's metadata server, on its two addresses
    and ports only (plan/data.py), for their tokens; nothing else of 169.254.169.254.

    The hub's ``pre_spawn_hook`` labels notebooks with the user's group; with ``meter``
    (Google Cloud, where nodes have prices) the spending meter runs in the hub's container,
    its requests added to the hub's (plan/services/spending.py)."""
    oidc = jupyter.oidc
    assert oidc is not None  # checked with the profile
    secret = oidc.client_secret_ref
    secret_name = secret.name if secret else OIDC_SECRET_NAME
    secret_key = secret.key if secret else OIDC_SECRET_KEY
    # the login (oidc.py): endpoints from the provider's discovery document, read by the
    # hub at start (extraConfig), claims by provider
    authenticator, login, discovery = hub_login(oidc, jupyter.hostname or "localhost")
    if jupyter.spending.groups or jupyter.spending.group_monthly is not None:
        # group limits need the user's groups, which OAuthenticator reads only when it
        # manages them
        authenticator["manage_groups"] = True
        login["manageGroups"] = True
    hub_request = SET["jupyterhub/hub"]
    if meter:
        hub_request = Request(
            hub_request.cpu_m + spending.METER_REQUEST.cpu_m,
            hub_request.memory_mi + spending.METER_REQUEST.memory_mi,
        )
    hub: dict[str, Any] = {
        "nodeSelector": dict(control.node_selector),
        "resources": hub_request.k8s(),
        "config": {
            "JupyterHub": {"authenticator_class": "generic-oauth"},
            "GenericOAuthenticator": authenticator,
        },
        "extraConfig": {DISCOVERY_KEY: discovery, spending.EXTRA_CONFIG_KEY: spending.hub_config()},
        "extraEnv": {
            "OAUTH_CLIENT_SECRET": {
                "valueFrom": {"secretKeyRef": {"name": secret_name, "key": secret_key}}
            }
        },
    }
    singleuser_env: dict[str, str] = {}
    if dask:
        access = f"access:services!service={DASK_SERVICE}"
        # the proxy routes /services/dask-gateway/ to the gateway's Traefik, which serves
        # the API under that prefix (gateway.prefix)
        hub["services"] = {DASK_SERVICE: {"display": False, "url": f"http://{DASK_TRAEFIK}"}}
        hub["loadRoles"] = {
            "user": {"scopes": ["self", access]},
            # a server's token holds these scopes where its user holds them too
            "server": {"scopes": [*SERVER_SCOPES, access]},
        }
        singleuser_env = {
            "DASK_GATEWAY__ADDRESS": f"http://proxy-public{DASK_PREFIX}",
            "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{DASK_TRAEFIK}:80",
            "DASK_GATEWAY__PUBLIC_ADDRESS": f"{DASK_PREFIX}/",
            "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        }
    values: dict[str, Any] = {
        "custom": {
            "gridcloud": {
                "oidc": login,
                "spending": {"groupOrder": spending.group_order(jupyter)},
            }
        },
        "hub": hub,
        "proxy": {
            # an Ingress is the way in: GKE's load balancer, or the site's controller
            "service": {
                "type": "ClusterIP",
                **({"annotations": ingress.hub_service_annotations()} if load_balancer else {}),
            },
            "chp": {
                "nodeSelector": dict(control.node_selector),
                "resources": SET["jupyterhub/proxy"].k8s(),
                # keep idle connections longer than the load balancer in front does
                "extraCommandLineFlags": [f"--keep-alive-timeout={ingress.PROXY_KEEP_ALIVE_MS}"],
            },
        },
        "singleuser": {
            # no nodeSelector here: KubeSpawner *merges* an environment's node_selector
            # into it, so a GPU or Arm environment selecting other label keys (on-prem)
            # would need both pools' labels at once; each environment carries its own
            "extraTolerations": user.tolerations,
            "image": _image(jupyter.images.cpu),
            "storage": {
                "capacity": f"{jupyter.user_storage_gb}Gi",
                **({"dynamic": {"storageClass": home_class}} if home_class else {}),
            },
            "cpu": {"guarantee": 1, "limit": 4},
            "memory": {"guarantee": "4G", "limit": "16G"},
            "extraEnv": singleuser_env,
            "extraPodConfig": {"priorityClassName": priorities.INTERACTIVE.name},
            "profileList": profile_list(jupyter, user, gpus, arms),
            # Dask schedulers, squid and CVMFS are cluster-internal addresses
            "networkPolicy": {
                "egressAllowRules": {"privateIPs": True},
                **({"egress": plain_copy(list(METADATA_SERVER_EGRESS))} if metadata_server else {}),
            },
            "cloudMetadata": {"blockWithIptables": not network_policies_enforced},
        },
        "scheduling": {
            "userScheduler": {"enabled": False},
            "podPriority": {"enabled": False},
            "userPlaceholder": {"enabled": False},
        },
        # image pullers would start a pod on every elastic node, keeping it alive
        "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
        "cull": {"enabled": True, "timeout": jupyter.idle_cull_minutes * 60, "every": 300},
    }
    placements = [
        Placement(component="hub, proxy", pool=control.name),
        Placement(component="notebook servers", pool=user.name),
        *(Placement(component="GPU notebooks", pool=p.name) for p in gpus),
        *(Placement(component="Arm notebooks", pool=p.name) for p in arms),
    ]
    return release_of(
        "jupyterhub",
        name="jupyterhub",
        service="jupyter",
        namespace=jupyter.namespace,
        values=values,
        placements=tuple(placements),
    )


def gpu_worker_limit(gpu: PoolPlan) -> tuple[float, float] | None:
    """The largest GPU worker (cores, GiB) one node of ``gpu`` can hold: its allocatable
    less what the node's DaemonSets request; None where the nodes' size is unknown."""
    from gridcloud.catalog import limits

    if gpu.machine_type is None or gpu.vcpus is None or gpu.memory_gb is None:
        return None
    cpu_m, memory_mi = limits.gke_allocatable(gpu.machine_type, gpu.vcpus, float(gpu.memory_gb))
    daemons = [r for k, r in SET.items() if k.startswith("cvmfs-csi/node-")]
    cpu_m -= sum(r.cpu_m for r in daemons) + limits.GKE_NODE_DAEMONS_CPU_M
    memory_mi -= sum(r.memory_mi for r in daemons) + limits.GKE_NODE_DAEMONS_MEMORY_MI
    return cpu_m // 100 / 10, memory_mi * 10 // 1024 / 10


def cluster_options(
    jupyter: Jupyter, gpu: PoolPlan | None, worker_pod: dict[str, Any] | None = None
) -> str:
    """Dask Gateway configuration: cluster options with limits (Python, run by the gateway).

    A GPU worker's pod config is the worker's own (its priority class) with the GPU pool's
    placement: the option replaces the whole pod config, so it must carry both. Its
    container config, which the option replaces too, is the workers' own as the chart
    configured it (``get_property``, the chart's reader of its values, in the same file: its
    environment, the cache's address among it) with the GPU added. Its size is refused
    beyond what one GPU node holds. Schedulers and workers carry the user's and group's
    labels (plan/services/spending.py).
    """
    dask = jupyter.dask
    kinds = '["cpu", "gpu"]' if gpu is not None else '["cpu"]'
    gpu_config = "{}"
    largest = "None"
    if gpu is not None:
        gpu_config = repr(
            {
                "worker_extra_pod_config": {**(worker_pod or {}), **pod_placement(gpu)},
                "worker_extra_container_config": {"resources": {"limits": {"nvidia.com/gpu": "1"}}},
            }
        )
        largest = repr(gpu_worker_limit(gpu))
    return f"""{spending.gateway_labels()}
from dask_gateway_server.options import Float, Integer, Options, Select

GPU = {gpu_config}
GROUPS = {spending.group_order(jupyter)!r}  # a user is charged to the first they are in
GPU_LARGEST = {largest}  # (cores, GiB) one GPU node holds


def options_handler(options, user):
    config = {{
        "worker_cores": options.worker_cores,
        "worker_cores_limit": options.worker_cores,
        "worker_memory": "%fG" % options.worker_memory,
        "worker_memory_limit": "%fG" % options.worker_memory,
    }}
    if options.worker_kind == "gpu":
        if GPU_LARGEST is not None and (
            options.worker_cores > GPU_LARGEST[0] or options.worker_memory > GPU_LARGEST[1]
        ):
            raise ValueError(
                "a GPU worker can have at most %s cores and %s GiB (one GPU node)" % GPU_LARGEST
            )
        config.update(GPU)
        # the workers' own container config (their environment) kept, the GPU added
        own = get_property("gateway.backend.worker.extraContainerConfig") or {{}}
        config["worker_extra_container_config"] = {{
            **own,
            **GPU["worker_extra_container_config"],
        }}
    # the user and group on schedulers and workers, as KubeSpawner labels notebooks
    return gridcloud_spending.cluster_labels(config, user, GROUPS)


c.Backend.cluster_options = Options(
    Integer("worker_cores", 2, min=1, max={dask.max_worker_cores}, label="Cores per worker"),
    Float("worker_memory", 8, min=1, max={dask.max_worker_memory_gb}, label="GiB per worker"),
    Select("worker_kind", {kinds}, default="cpu", label="Worker kind"),
    handler=options_handler,
)
c.ClusterConfig.cluster_max_workers = {dask.max_workers}
c.ClusterConfig.idle_timeout = {jupyter.idle_cull_minutes * 60}
"""


def dask_gateway_release(
    jupyter: Jupyter,
    *,
    control: PoolPlan,
    schedulers: PoolPlan,
    workers: PoolPlan,
    gpu: PoolPlan | None,
    worker_class: str,
) -> ReleasePlan:
    worker_pod = {**pod_placement(workers), "priorityClassName": worker_class}
    scheduler_pod = {**pod_placement(schedulers), "priorityClassName": priorities.INTERACTIVE.name}
    values: dict[str, Any] = {
        "gateway": {
            "prefix": DASK_PREFIX,
            "nodeSelector": dict(control.node_selector),
            "resources": SET["dask-gateway/gateway"].k8s(),
            "auth": {
                "type": "jupyterhub",
                "jupyterhub": {
                    "apiUrl": "http://hub:8081/hub/api",
                    "jupyterhubServiceName": DASK_SERVICE,
                },
            },
            "backend": {
                "scheduler": {
                    "extraPodConfig": scheduler_pod,
                    "cores": {"request": 0.5, "limit": 2},
                    "memory": {"request": "1G", "limit": "4G"},
                },
                "worker": {"extraPodConfig": worker_pod, "threads": 1},
            },
            "extraConfig": {
                "gridcloud-options": cluster_options(
                    jupyter, gpu, {"priorityClassName": worker_class}
                )
            },
        },
        "controller": {
            "nodeSelector": dict(control.node_selector),
            "resources": SET["dask-gateway/controller"].k8s(),
        },
        "traefik": {
            "nodeSelector": dict(control.node_selector),
            "resources": SET["dask-gateway/traefik"].k8s(),
            "service": {"type": "ClusterIP"},
            "additionalArguments": list(DASK_TRAEFIK_ARGS),
        },
    }
    placements = [
        Placement(component="gateway, controller, traefik", pool=control.name),
        Placement(component="schedulers", pool=schedulers.name),
        Placement(component="workers", pool=workers.name),
    ]
    if gpu is not None:
        placements.append(Placement(component="GPU workers", pool=gpu.name))
    return release_of(
        "dask-gateway",
        name=DASK_RELEASE,
        service="jupyter",
        namespace=jupyter.namespace,
        values=values,
        placements=tuple(placements),
    )


HOME_STORAGE_CLASS = "gridcloud-home"


def home_storage_class(
    user: PoolPlan, gpus: list[PoolPlan], arms: list[PoolPlan]
) -> dict[str, Any] | None:
    """Users' home disks only in zones every notebook pool reaches.

    A home disk is zonal and created where the user's first notebook lands; a later GPU or
    Arm notebook must run in that zone. The class binds the disk when the first pod is
    scheduled (WaitForFirstConsumer) and only in the zones all notebook pools share, so
    every environment can mount it. None on an existing cluster (its own default class).
    """
    pools = [user, *gpus, *arms]
    if not user.zones:
        return None
    common = [z for z in user.zones if all(z in p.zones for p in pools)]
    if not common:
        listed = "; ".join(f"{p.name}: {', '.join(p.zones)}" for p in pools)
        raise PlanError(
            "the notebook pools share no zone, so a user's home disk (zonal) cannot be "
            f"mounted by every environment ({listed})",
            hint="give the GPU and Arm pools at least one zone of the user pool",
        )
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": HOME_STORAGE_CLASS},
        "provisioner": "pd.csi.storage.gke.io",
        "parameters": {"type": "pd-balanced"},
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowedTopologies": [
            {
                "matchLabelExpressions": [
                    {"key": "topology.gke.io/zone", "values": common},
                ]
            }
        ],
    }
