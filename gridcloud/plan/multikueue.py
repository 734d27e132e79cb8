"""MultiKueue over the shards: Kueue on every cluster, the home one dispatching.

With ``shards.multikueue.enabled`` (gridcloud/profile/multikueue.py) the Plan adds, to the
home Plan (MultiKueue's **manager**) and to every compute-only shard's Plan (a **worker**):

- Kueue's release (its published chart, ``catalog.charts``), its controller on the control
  node (the home cluster's, or the shard's system node), only ``batch/job`` integrated and
  only Jobs that name a queue managed;
- the same namespace and LocalQueue everywhere (MultiKueue creates a Job's copy in the
  worker's namespace of the same name, under the LocalQueue of the same name), and the same
  ClusterQueue;
- on a worker, one ResourceFlavor per elastic cpu or GPU pool (the pool's node selector
  and tolerations, which Kueue adds to the pods it admits there) with the pool's schedulable
  capacity as quota: its maximum nodes times a node's allocatable less GKE's DaemonSets, and
  a GPU pool's GPUs (``nvidia.com/gpu``); the cpu pools first;
- on the manager, one ResourceFlavor whose quota is the workers' sum, the ClusterQueue
  gated by a MultiKueue AdmissionCheck, its MultiKueueConfig listing every worker, one
  MultiKueueCluster per worker reading the worker's kubeconfig from a Secret;
- the Secrets' writer: a CronJob on the manager's control node that mints a one-hour token
  of the facility's MultiKueue Google service account every 15 minutes and writes each
  worker's kubeconfig with it (gridcloud/incluster/multikueue_credentials.py); on each
  worker, RBAC binding that account (by its e-mail) to what MultiKueue does there. No
  secret is in the Plan, the stack, its outputs or any file gridcloud writes.

Kueue's objects follow its release (their CRDs come with it). Everything is
``kueue.x-k8s.io/v1beta2``, the version Kueue 0.19 stores.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gridcloud.catalog import limits
from gridcloud.errors import PlanError
from gridcloud.plain import Frozen
from gridcloud.plan.services.model import AfterRelease, Placement, ReleasePlan, release_of
from gridcloud.plan.services.resources import Request

if TYPE_CHECKING:
    from gridcloud.plan.model import Plan, PoolPlan
    from gridcloud.plan.services.model import FootprintItem
    from gridcloud.profile.multikueue import MultiKueue

API = "kueue.x-k8s.io/v1beta2"
RELEASE = "kueue"
#: The kinds of Kueue's that the Plan writes.
KINDS = (
    "ResourceFlavor",
    "ClusterQueue",
    "LocalQueue",
    "AdmissionCheck",
    "MultiKueueConfig",
    "MultiKueueCluster",
)
NAMESPACE = "kueue-system"
#: Kueue's image for chart 0.19.2, as the published chart names it (the chart's source in
#: git points at a staging registry; the values pin the release's own image).
IMAGE_REPOSITORY = "registry.k8s.io/kueue/kueue"
IMAGE_TAG = "v0.19.2"
#: The controller's requests: on the control node, in the footprint.
CONTROLLER = Request(250, 512)
CLUSTER_QUEUE = "gridcloud"
ADMISSION_CHECK = "gridcloud-multikueue"
MULTIKUEUE_CONFIG = "gridcloud-shards"
#: The manager's one flavor: the shards together (a worker's flavors are its pools).
MANAGER_FLAVOR = "shards"
CONTROLLER_NAME = "kueue.x-k8s.io/multikueue"
RESOURCES = ("cpu", "memory")
#: A GPU pool's resource (GKE's device plugin), covered when a flavor has GPUs.
GPU = "nvidia.com/gpu"
#: The most clusters one MultiKueueConfig lists (its ``spec.clusters``, Kueue 0.19).
MAX_WORKERS = 20
#: The credentials CronJob: its name (account, role, ConfigMap), image and requests.
CREDENTIALS = "multikueue-credentials"
CREDENTIALS_IMAGE = "python:3.13-slim"
CREDENTIALS_REQUEST = Request(50, 64)
CREDENTIALS_SCRIPT = "multikueue_credentials.py"
#: Retries of the first run: Kubernetes backs off 10 s, 20 s, ... 320 s, some 10 minutes in
#: all, the time an IAM grant can take to apply.
FIRST_RUN_RETRIES = 6
#: What MultiKueue does in a worker (Kueue's own guide gives its account these rights on
#: batch Jobs and Kueue's workloads; cluster-wide, as it watches them in every namespace).
WORKER_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["create", "delete", "get", "list", "watch"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs/status"], "verbs": ["get"]},
    {
        "apiGroups": ["kueue.x-k8s.io"],
        "resources": ["workloads"],
        "verbs": ["create", "delete", "get", "list", "watch", "update", "patch"],
    },
    {
        "apiGroups": ["kueue.x-k8s.io"],
        "resources": ["workloads/status"],
        "verbs": ["get", "patch", "update"],
    },
    {
        "apiGroups": ["kueue.x-k8s.io"],
        "resources": ["clusterqueues", "localqueues"],
        "verbs": ["get", "list", "watch"],
    },
)
LABELS = {"app.kubernetes.io/managed-by": "gridcloud", "app.kubernetes.io/part-of": "multikueue"}


class FlavorQuota(Frozen):
    """A worker's elastic pool as a ResourceFlavor, and what it can run at most."""

    name: str
    cpu_m: int
    memory_mi: int
    node_labels: dict[str, str]
    tolerations: tuple[dict[str, str], ...]
    gpus: int = 0
    """A GPU pool's GPUs at its maximum (``nvidia.com/gpu``); 0 for a cpu pool."""


class WorkerPlan(Frozen):
    """A compute-only shard as MultiKueue's worker."""

    shard: str
    cluster: str
    """The worker's GKE cluster (its MultiKueueCluster's name too)."""
    project: str
    location: str
    secret: str
    """The manager's Secret holding its kubeconfig (key ``kubeconfig``), in ``kueue-system``."""
    flavors: tuple[FlavorQuota, ...]

    @property
    def cpu_m(self) -> int:
        return sum(f.cpu_m for f in self.flavors)

    @property
    def memory_mi(self) -> int:
        return sum(f.memory_mi for f in self.flavors)

    @property
    def gpus(self) -> int:
        return sum(f.gpus for f in self.flavors)


class MultiKueuePlan(Frozen):
    """What the home Plan says about MultiKueue: the queue, the workers, the identity."""

    namespace: str
    queue: str
    cluster_queue: str = CLUSTER_QUEUE
    account: str
    """The Google service account whose tokens the manager holds for the workers (its ID)."""
    account_email: str
    credentials_service_account: str = CREDENTIALS
    """The Kubernetes account of the credentials CronJob (``kueue-system``): it alone may
    mint ``account``'s tokens (``roles/iam.serviceAccountTokenCreator`` on it, for its
    Workload Identity principal)."""
    worker_roles: tuple[str, ...] = ("roles/container.clusterViewer",)
    """``account``'s roles on each worker's project: to read the cluster's endpoint and to
    authenticate to it (its rights inside come from the worker's RBAC)."""
    refresh_minutes: int
    token_lifetime_minutes: int
    workers: tuple[WorkerPlan, ...]

    @property
    def cpu_m(self) -> int:
        """The manager's quota: the workers' sum."""
        return sum(w.cpu_m for w in self.workers)

    @property
    def memory_mi(self) -> int:
        return sum(w.memory_mi for w in self.workers)

    @property
    def gpus(self) -> int:
        return sum(w.gpus for w in self.workers)


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def _cpu(millicores: int) -> str:
    return f"{millicores // 1000}" if millicores % 1000 == 0 else f"{millicores}m"


def flavor_quota(pool: PoolPlan) -> FlavorQuota:
    """A pool's schedulable capacity at its maximum: a node's allocatable less GKE's
    DaemonSets, times its maximum nodes; a GPU pool's GPUs too."""
    assert pool.machine_type is not None
    assert pool.memory_gb is not None
    cpu, memory = limits.gke_allocatable(pool.machine_type, pool.vcpus or 0, float(pool.memory_gb))
    per_node_cpu = cpu - limits.GKE_NODE_DAEMONS_CPU_M
    per_node_memory = memory - limits.GKE_NODE_DAEMONS_MEMORY_MI
    return FlavorQuota(
        name=pool.name,
        cpu_m=per_node_cpu * pool.max_nodes,
        memory_mi=per_node_memory * pool.max_nodes,
        node_labels=dict(pool.node_selector),
        tolerations=tuple(pool.tolerations),
        gpus=pool.accelerator.count * pool.max_nodes if pool.accelerator is not None else 0,
    )


def _config_yaml(namespace: str) -> str:
    """Kueue's configuration (``config.kueue.x-k8s.io/v1beta2``): the chart's ports and
    leader election, only ``batch/job`` integrated, Jobs without a queue left alone, and
    only ``namespace``'s Jobs seen (the chart scopes Kueue's webhooks by this selector, so
    Job creation elsewhere does not depend on Kueue being up)."""
    import yaml

    config = {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "manageJobsWithoutQueueName": False,
        "managedJobsNamespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "integrations": {"frameworks": ["batch/job"]},
    }
    return yaml.safe_dump(config, sort_keys=False)


def kueue_release(control: PoolPlan, namespace: str) -> ReleasePlan:
    """Kueue's chart, its controller on ``control`` at the services' priority."""
    from gridcloud.plan.services import priorities

    values = {
        "controllerManager": {
            "manager": {
                "image": {
                    "repository": IMAGE_REPOSITORY,
                    "tag": IMAGE_TAG,
                    "pullPolicy": "IfNotPresent",
                },
                "resources": CONTROLLER.k8s(),
                "priorityClassName": priorities.SERVICES.name,
            },
            "nodeSelector": dict(control.node_selector),
            "tolerations": control.tolerations,
        },
        "managerConfig": {"controllerManagerConfigYaml": _config_yaml(namespace)},
    }
    return release_of(
        "kueue",
        name=RELEASE,
        service="multikueue",
        namespace=NAMESPACE,
        values=values,
        placements=(Placement(component="controller", pool=control.name),),
    )


def _cluster_queue(flavors: list[FlavorQuota], checks: list[str]) -> dict[str, Any]:
    """A ClusterQueue of one resource group: CPU and memory, and GPUs when a flavor has any
    (every flavor then names all three, a cpu pool's GPUs as 0: Kueue's rule)."""
    covered = [*RESOURCES, GPU] if any(f.gpus for f in flavors) else list(RESOURCES)

    def resources(flavor: FlavorQuota) -> list[dict[str, str]]:
        found = [
            {"name": "cpu", "nominalQuota": _cpu(flavor.cpu_m)},
            {"name": "memory", "nominalQuota": f"{flavor.memory_mi}Mi"},
        ]
        if GPU in covered:
            found.append({"name": GPU, "nominalQuota": str(flavor.gpus)})
        return found

    spec: dict[str, Any] = {
        "namespaceSelector": {},
        "resourceGroups": [
            {
                "coveredResources": covered,
                "flavors": [{"name": f.name, "resources": resources(f)} for f in flavors],
            }
        ],
    }
    if checks:
        spec["admissionChecksStrategy"] = {"admissionChecks": [{"name": check} for check in checks]}
    return {
        "apiVersion": API,
        "kind": "ClusterQueue",
        "metadata": _meta(CLUSTER_QUEUE),
        "spec": spec,
    }


def _local_queue(settings: MultiKueue) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "LocalQueue",
        "metadata": _meta(settings.queue, settings.namespace),
        "spec": {"clusterQueue": CLUSTER_QUEUE},
    }


def worker_objects(worker: WorkerPlan, settings: MultiKueue, email: str) -> list[dict[str, Any]]:
    """A worker's flavors, queues and the RBAC of the manager's account there."""
    flavors: list[dict[str, Any]] = [
        {
            "apiVersion": API,
            "kind": "ResourceFlavor",
            "metadata": _meta(f.name),
            "spec": {"nodeLabels": dict(f.node_labels), "tolerations": list(f.tolerations)}
            if f.tolerations
            else {"nodeLabels": dict(f.node_labels)},
        }
        for f in worker.flavors
    ]
    queue = _cluster_queue(list(worker.flavors), [])
    role = f"gridcloud-{CREDENTIALS}"
    return [
        *flavors,
        queue,
        _local_queue(settings),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(role),
            "rules": [dict(rule) for rule in WORKER_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(role),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role,
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": email}],
        },
    ]


def manager_objects(plan: MultiKueuePlan, settings: MultiKueue) -> list[dict[str, Any]]:
    """The manager's flavor, queues, AdmissionCheck, MultiKueueConfig and clusters."""
    clusters = [
        {
            "apiVersion": API,
            "kind": "MultiKueueCluster",
            "metadata": _meta(w.cluster),
            "spec": {
                "clusterSource": {"kubeConfig": {"locationType": "Secret", "location": w.secret}}
            },
        }
        for w in plan.workers
    ]
    return [
        {
            "apiVersion": API,
            "kind": "ResourceFlavor",
            "metadata": _meta(MANAGER_FLAVOR),
            "spec": {},
        },
        _cluster_queue(
            [
                FlavorQuota(
                    name=MANAGER_FLAVOR,
                    cpu_m=plan.cpu_m,
                    memory_mi=plan.memory_mi,
                    node_labels={},
                    tolerations=(),
                    gpus=plan.gpus,
                )
            ],
            [ADMISSION_CHECK],
        ),
        _local_queue(settings),
        {
            "apiVersion": API,
            "kind": "AdmissionCheck",
            "metadata": _meta(ADMISSION_CHECK),
            "spec": {
                "controllerName": CONTROLLER_NAME,
                "parameters": {
                    "apiGroup": "kueue.x-k8s.io",
                    "kind": "MultiKueueConfig",
                    "name": MULTIKUEUE_CONFIG,
                },
            },
        },
        {
            "apiVersion": API,
            "kind": "MultiKueueConfig",
            "metadata": _meta(MULTIKUEUE_CONFIG),
            "spec": {"clusters": [w.cluster for w in plan.workers]},
        },
        *clusters,
    ]


def credentials_objects(plan: MultiKueuePlan, control: PoolPlan) -> list[dict[str, Any]]:
    """The CronJob writing the workers' kubeconfig Secrets, its account, role, code."""
    from importlib.resources import files

    from gridcloud.incluster import multikueue_credentials as script

    code = files("gridcloud.incluster").joinpath(CREDENTIALS_SCRIPT).read_text()
    config = {
        "account": plan.account_email,
        "namespace": NAMESPACE,
        "labels": dict(LABELS),
        "workers": [
            {
                "secret": w.secret,
                "project": w.project,
                "location": w.location,
                "cluster": w.cluster,
            }
            for w in plan.workers
        ],
    }
    meta = _meta(CREDENTIALS, NAMESPACE)
    secrets = [w.secret for w in plan.workers]
    pod_spec = {
        "serviceAccountName": CREDENTIALS,
        "restartPolicy": "Never",
        "nodeSelector": dict(control.node_selector),
        "tolerations": control.tolerations,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "credentials",
                "image": CREDENTIALS_IMAGE,
                "command": ["python3", f"/code/{CREDENTIALS_SCRIPT}"],
                "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
                "resources": CREDENTIALS_REQUEST.k8s(),
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "code", "mountPath": "/code", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "code", "configMap": {"name": CREDENTIALS}}],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [
                # server-side apply of a Secret that does not exist yet creates it
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": secrets,
                    "verbs": ["get", "patch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": CREDENTIALS,
            },
            "subjects": [{"kind": "ServiceAccount", "name": CREDENTIALS, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {
                CREDENTIALS_SCRIPT: code,
                "config.json": json.dumps(config, indent=2, sort_keys=True),
            },
        },
        {
            # the first run, at deploy (and again when the workers change): the Secrets exist
            # as soon as IAM has granted the account (its retries wait for that); not
            # awaited, so a slow grant does not fail ``up`` (the CronJob takes over)
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                **_meta(f"{CREDENTIALS}-first", NAMESPACE),
                "annotations": {"pulumi.com/skipAwait": "true"},
            },
            "spec": {
                "backoffLimit": FIRST_RUN_RETRIES,
                "activeDeadlineSeconds": 1800,
                "template": {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec},
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {
                "schedule": f"*/{script.REFRESH_MINUTES} * * * *",
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 300,
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "metadata": {"labels": dict(LABELS)},
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": 600,
                        "template": {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec},
                    },
                },
            },
        },
    ]


def account_id(facility: str) -> str:
    """The MultiKueue Google service account's ID: ``<facility>-mkueue`` (6 to 30 chars)."""
    name = f"{facility}-mkueue"
    if len(name) > 30:
        raise PlanError(
            f"MultiKueue's service account would be {name}, longer than 30 characters",
            hint="a facility name of at most 23 characters",
        )
    return name


def worker_plan(shard: Plan) -> WorkerPlan:
    from gridcloud.plan.model import GcpPlacement

    assert shard.cluster is not None
    assert isinstance(shard.target, GcpPlacement)
    # the cpu pools first: Kueue tries a Job's flavors in order, so a Job without GPUs lands
    # on a GPU pool only when the cpu pools are full
    cpu = [flavor_quota(p) for p in shard.elastic_pools if p.kind == "cpu"]
    gpu = [flavor_quota(p) for p in shard.elastic_pools if p.kind == "gpu"]
    flavors = (*cpu, *gpu)
    if not cpu:
        raise PlanError(
            f"shard {shard.shard}: MultiKueue needs a cpu pool on every shard, and it has none",
            hint="add a cpu pool to the shard, or switch shards.multikueue off",
        )
    return WorkerPlan(
        shard=shard.shard or shard.name,
        cluster=shard.cluster.name,
        project=shard.target.project,
        location=shard.cluster.location,
        secret=f"{shard.cluster.name}-kubeconfig",
        flavors=flavors,
    )


def controller_item() -> FootprintItem:
    from gridcloud.plan.services.model import FootprintItem

    return FootprintItem(
        service="multikueue",
        component="kueue controller",
        cpu_m=CONTROLLER.cpu_m,
        memory_mi=CONTROLLER.memory_mi,
        source="set by gridcloud",
    )


def _with_kueue(
    plan: Plan, namespace: str, objects: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Plan:
    """``plan`` with Kueue's release, ``objects`` applied with the services and ``after``
    once the release (and its CRDs) is in; its controller in the footprint."""
    from gridcloud.plan.services import priorities, validate_release

    services = plan.services
    release = kueue_release(plan.control, namespace)
    validate_release(release)
    footprint = services.footprint
    if footprint is not None:
        footprint = footprint.model_copy(update={"items": (*footprint.items, controller_item())})
        if not footprint.fits:
            raise PlanError(
                f"{plan.name}: with Kueue's controller ({CONTROLLER.cpu_m}m CPU, "
                f"{CONTROLLER.memory_mi} MiB) the always-on pods need {footprint.cpu_m:,}m "
                f"CPU and {footprint.memory_mi:,} MiB on the control node; "
                f"{footprint.machine} offers {footprint.allocatable_cpu_m:,}m and "
                f"{footprint.allocatable_memory_mi:,} MiB",
                hint="choose a larger controlNode.machineType, or switch shards.multikueue off",
            )
    classes = services.priority_classes or (priorities.SERVICES,)
    updated = services.model_copy(
        update={
            "enabled": (*services.enabled, "multikueue"),
            "priority_classes": classes,
            "releases": (*services.releases, release),
            "objects": (*services.objects, *objects),
            "after_release": (
                *services.after_release,
                AfterRelease(release=RELEASE, manifests=tuple(after)),
            ),
            "footprint": footprint,
        }
    )
    namespaces = {r.namespace for r in updated.releases} | {
        o["metadata"]["namespace"] for o in updated.manifests if "namespace" in o["metadata"]
    }
    updated = updated.model_copy(update={"namespaces": tuple(sorted(namespaces))})
    return plan.model_copy(update={"services": updated})


def with_multikueue(plan: Plan, settings: MultiKueue) -> Plan:
    """The home ``plan`` (its shards planned) as MultiKueue's manager, its shards workers."""
    from gridcloud.incluster import multikueue_credentials as script
    from gridcloud.plan.model import GcpPlacement

    assert isinstance(plan.target, GcpPlacement)
    if not plan.shards:
        raise PlanError(
            "shards.multikueue needs compute shards to dispatch to",
            hint="declare shards (shards.declared or shards.split), or switch MultiKueue off",
        )
    if len(plan.shards) > MAX_WORKERS:
        raise PlanError(
            f"shards.multikueue: {len(plan.shards)} shards, and a MultiKueueConfig lists at "
            f"most {MAX_WORKERS} worker clusters (Kueue 0.19)",
            hint="fewer, larger shards (shards.split.maxCoresPerShard), or MultiKueue off",
        )
    account = account_id(plan.name)
    email = f"{account}@{plan.target.project}.iam.gserviceaccount.com"
    workers = tuple(worker_plan(shard) for shard in plan.shards)
    multikueue = MultiKueuePlan(
        namespace=settings.namespace,
        queue=settings.queue,
        account=account,
        account_email=email,
        refresh_minutes=script.REFRESH_MINUTES,
        token_lifetime_minutes=script.LIFETIME_S // 60,
        workers=workers,
    )
    shards = tuple(
        _with_kueue(shard, settings.namespace, [], worker_objects(worker, settings, email))
        for shard, worker in zip(plan.shards, workers, strict=True)
    )
    home = _with_kueue(
        plan,
        settings.namespace,
        credentials_objects(multikueue, plan.control),
        manager_objects(multikueue, settings),
    )
    return home.model_copy(update={"shards": shards, "multikueue": multikueue})
