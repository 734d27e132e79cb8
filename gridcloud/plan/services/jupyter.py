"""JupyterHub with OIDC login and a choice of environments, and Dask Gateway behind it.

The hub and proxy run on the control node; notebook servers on the user pool (never the
control node), GPU and Arm environments on their pools. Dask Gateway authenticates through
JupyterHub, accepting only tokens scoped to its service (``jupyterhubServiceName``); its
workers go to the worker pool (spot: Dask recomputes lost work), schedulers to the user pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.plan.services.grid_site import INTERACTIVE_PRIORITY
from gridcloud.plan.services.model import Placement, ReleasePlan, release_of
from gridcloud.plan.services.placement import pod_placement
from gridcloud.plan.services.resources import SET

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.profile.models import Jupyter, Oidc

DASK_SERVICE = "dask-gateway"
DASK_RELEASE = "dask-gateway"
OIDC_SECRET_NAME = "jupyterhub-oidc"
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


def oidc_endpoints(oidc: Oidc) -> dict[str, str]:
    """INDIGO IAM (ATLAS IAM, WLCG IAM) endpoints under the issuer."""
    base = oidc.issuer.rstrip("/")
    return {
        "authorize_url": f"{base}/authorize",
        "token_url": f"{base}/token",
        "userdata_url": f"{base}/userinfo",
    }


def jupyterhub_release(
    jupyter: Jupyter,
    *,
    control: PoolPlan,
    user: PoolPlan,
    gpus: list[PoolPlan],
    arms: list[PoolPlan],
    dask: bool,
) -> ReleasePlan:
    oidc = jupyter.oidc
    assert oidc is not None  # checked with the profile
    secret = oidc.client_secret_ref
    secret_name = secret.name if secret else OIDC_SECRET_NAME
    secret_key = secret.key if secret else OIDC_SECRET_KEY
    host = jupyter.hostname or "localhost"
    authenticator: dict[str, Any] = {
        "client_id": oidc.client_id,
        "oauth_callback_url": f"https://{host}/hub/oauth_callback",
        **oidc_endpoints(oidc),
        "scope": ["openid", "profile", "email"],
        "username_claim": oidc.username_claim,
        "claim_groups_key": oidc.groups_claim,
    }
    if oidc.allowed_groups:
        authenticator["allowed_groups"] = list(oidc.allowed_groups)
    else:
        authenticator["allow_all"] = True
    hub: dict[str, Any] = {
        "nodeSelector": dict(control.node_selector),
        "resources": SET["jupyterhub/hub"].k8s(),
        "config": {
            "JupyterHub": {"authenticator_class": "generic-oauth"},
            "GenericOAuthenticator": authenticator,
        },
        "extraEnv": {
            "OAUTH_CLIENT_SECRET": {
                "valueFrom": {"secretKeyRef": {"name": secret_name, "key": secret_key}}
            }
        },
    }
    singleuser_env: dict[str, str] = {}
    if dask:
        hub["services"] = {DASK_SERVICE: {"display": False}}
        hub["loadRoles"] = {
            "user": {"scopes": ["self", f"access:services!service={DASK_SERVICE}"]},
        }
        singleuser_env = {
            "DASK_GATEWAY__ADDRESS": f"http://proxy-public/services/{DASK_SERVICE}",
            "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://traefik-{DASK_RELEASE}:80",
            "DASK_GATEWAY__PUBLIC_ADDRESS": f"/services/{DASK_SERVICE}/",
            "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        }
    values: dict[str, Any] = {
        "hub": hub,
        "proxy": {
            "chp": {
                "nodeSelector": dict(control.node_selector),
                "resources": SET["jupyterhub/proxy"].k8s(),
            },
        },
        "singleuser": {
            "nodeSelector": dict(user.node_selector),
            "extraTolerations": user.tolerations,
            "image": _image(jupyter.images.cpu),
            "storage": {"capacity": f"{jupyter.user_storage_gb}Gi"},
            "cpu": {"guarantee": 1, "limit": 4},
            "memory": {"guarantee": "4G", "limit": "16G"},
            "extraEnv": singleuser_env,
            "extraPodConfig": {"priorityClassName": INTERACTIVE_PRIORITY.name},
            "profileList": profile_list(jupyter, user, gpus, arms),
            # Dask schedulers, squid and CVMFS are cluster-internal addresses
            "networkPolicy": {"egressAllowRules": {"privateIPs": True}},
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


def cluster_options(jupyter: Jupyter, gpu: PoolPlan | None) -> str:
    """Dask Gateway configuration: cluster options with limits (Python, run by the gateway)."""
    dask = jupyter.dask
    kinds = '["cpu", "gpu"]' if gpu is not None else '["cpu"]'
    gpu_config = "{}"
    if gpu is not None:
        gpu_config = repr(
            {
                "worker_extra_pod_config": pod_placement(gpu),
                "worker_extra_container_config": {"resources": {"limits": {"nvidia.com/gpu": "1"}}},
            }
        )
    return f"""from dask_gateway_server.options import Float, Integer, Options, Select

GPU = {gpu_config}


def options_handler(options, user):
    config = {{
        "worker_cores": options.worker_cores,
        "worker_cores_limit": options.worker_cores,
        "worker_memory": "%fG" % options.worker_memory,
        "worker_memory_limit": "%fG" % options.worker_memory,
    }}
    if options.worker_kind == "gpu":
        config.update(GPU)
    return config


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
) -> ReleasePlan:
    worker_pod = {**pod_placement(workers), "priorityClassName": INTERACTIVE_PRIORITY.name}
    values: dict[str, Any] = {
        "gateway": {
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
                    "extraPodConfig": pod_placement(schedulers),
                    "cores": {"request": 0.5, "limit": 2},
                    "memory": {"request": "1G", "limit": "4G"},
                },
                "worker": {"extraPodConfig": worker_pod, "threads": 1},
            },
            "extraConfig": {"gridcloud-options": cluster_options(jupyter, gpu)},
        },
        "controller": {
            "nodeSelector": dict(control.node_selector),
            "resources": SET["dask-gateway/controller"].k8s(),
        },
        "traefik": {
            "nodeSelector": dict(control.node_selector),
            "resources": SET["dask-gateway/traefik"].k8s(),
            "service": {"type": "ClusterIP"},
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
