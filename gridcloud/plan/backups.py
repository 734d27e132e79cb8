"""Backups, planned: scheduled CSI volume snapshots of the facility's volumes.

Kubernetes has no snapshot schedule of its own, so the Plan decides three things and emits
them as objects (the Plan's ``services.objects``: the program applies them as they are,
``gridcloud render`` writes and validates them):

- a ``VolumeSnapshotClass`` of GKE's persistent disk CSI driver (``pd.csi.storage.gke.io``),
  its snapshots stored in the cluster's region (``storage-locations``), as standard disk
  snapshots (``snapshot-type: snapshots``), labelled as the facility (``labels``: Compute
  Engine puts them on each snapshot, so ``destroy``'s leftovers find them), with deletion
  policy ``Retain``: ``destroy`` deletes the namespaces before the cluster, and with
  ``Delete`` the snapshot controller would delete every backup with them;
- per namespace with volumes to keep, a CronJob that snapshots them and prunes beyond
  ``keep`` (gridcloud/incluster/snapshots.py, shipped in a ConfigMap), with an account that
  may list claims and create, list and delete snapshots in that namespace, and patch
  snapshot contents (cluster-scoped): a pruned snapshot's content is switched to ``Delete``
  before its object is deleted, so that its Compute Engine snapshot goes too;
- a restore for each volume: a claim of the same name whose ``dataSource`` is a snapshot,
  with the steps around it (``gridcloud render`` writes them under ``restore/``).

What is backed up: the hub's database (``hub-db-dir``, JupyterHub chart 4.4.0 with
``hub.db.type: sqlite-pvc``), the users' homes (KubeSpawner labels each home claim
``component: singleuser-storage``) and REANA's volume (the disk of gridcloud's NFS server,
which holds REANA's database and its workspace: REANA 0.9.4 keeps its database on the shared
volume when no ``infrastructure_storage`` is set). Snapshots are crash-consistent: SQLite
and PostgreSQL recover from one as from a power cut.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from gridcloud.plain import Frozen
from gridcloud.plan.services.resources import Request

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.plan.services.model import ServicesPlan
    from gridcloud.profile.models import Profile

CSI_DRIVER = "pd.csi.storage.gke.io"
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
SNAPSHOT_CLASS = "gridcloud-snapshots"
#: The CronJob, its account, role and ConfigMap, in each namespace with volumes to keep.
JOB = "gridcloud-snapshots"
SCRIPT = "snapshots.py"
CONFIG = "config.json"
#: The labels of every scheduled snapshot: what the CronJob lists to prune.
SNAPSHOT_LABELS = {"app.kubernetes.io/managed-by": "gridcloud", "gridcloud.io/backup": "scheduled"}
#: The hub's database claim: ``<hub fullname>-db-dir``, the hub's fullname ``hub``.
HUB_DB_CLAIM = "hub-db-dir"
#: The label KubeSpawner puts on every user's home claim.
HOME_SELECTOR = {"component": "singleuser-storage"}
#: The price item of standard snapshot storage in one region, per GB-month (catalog row or
#: a profile's ``prices`` entry of kind ``disk``).
PRICE_ITEM = "snapshot-regional"
#: A run of the CronJob: a few API calls.
JOB_REQUEST = Request(25, 64)
#: What the restore manifests hold until the user names the snapshot to restore.
PLACEHOLDER = "REPLACE-WITH-SNAPSHOT-NAME"


class BackedUpVolume(Frozen):
    volume: Literal["hubDatabase", "homes", "reana"]
    what: str
    namespace: str
    claim: str | None
    """The claim, by name; None: every claim with ``selector``'s labels."""
    selector: dict[str, str] | None = None
    size_gb: int
    count: int = 1
    """How many such claims are expected (homes: the expected users)."""
    storage_class: str | None
    """The claim's storage class (None: the cluster's default, GKE's ``standard-rwo``)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels a restored claim must carry (so the schedule keeps backing it up)."""


class RestorePlan(Frozen):
    """A new claim from a snapshot, of the name the service mounts, and how to swap it in."""

    volume: str
    namespace: str
    file: str
    """Where ``gridcloud render`` writes it (under ``restore/``)."""
    steps: tuple[str, ...]
    manifest: dict[str, Any]


class BackupPlan(Frozen):
    schedule: str
    """Cron, in UTC."""
    keep: int
    changed_percent: int
    snapshot_class: str
    storage_location: str
    """Where Compute Engine stores the snapshots: the cluster's region."""
    volumes: tuple[BackedUpVolume, ...]
    restores: tuple[RestorePlan, ...]
    namespaces: tuple[str, ...]
    """One CronJob in each."""

    @property
    def stored_gb(self) -> Decimal:
        """Snapshot storage at steady state: each volume's first snapshot in full (at most
        its size; Compute Engine stores the used blocks, compressed), and each further kept
        snapshot the changed share."""
        share = Decimal(self.changed_percent) / 100
        return sum(
            (Decimal(v.size_gb * v.count) * (1 + (self.keep - 1) * share) for v in self.volumes),
            Decimal(0),
        )


def _volumes(profile: Profile, services: ServicesPlan) -> list[BackedUpVolume]:
    from gridcloud.plan.services.jupyter import HOME_STORAGE_CLASS, HUB_DB_GB

    found: list[BackedUpVolume] = []
    hub = profile.services.jupyter
    if "jupyter" in services.enabled:
        found += [
            BackedUpVolume(
                volume="hubDatabase",
                what="JupyterHub database",
                namespace=hub.namespace,
                claim=HUB_DB_CLAIM,
                size_gb=HUB_DB_GB,
                storage_class=None,
                labels={"app": "jupyterhub", "component": "hub"},
            ),
            BackedUpVolume(
                volume="homes",
                what="home volumes",
                namespace=hub.namespace,
                claim=None,
                selector=dict(HOME_SELECTOR),
                size_gb=hub.user_storage_gb,
                count=hub.expected_users,
                storage_class=HOME_STORAGE_CLASS,
                labels={"app": "jupyterhub", **HOME_SELECTOR},
            ),
        ]
    storage = services.shared_storage
    if storage is not None:
        found.append(
            BackedUpVolume(
                volume="reana",
                what="REANA database and workspace",
                namespace=storage.namespace,
                claim=storage.disk_claim,
                size_gb=storage.size_gb,
                storage_class=storage.backing_storage_class,
            )
        )
    wanted = profile.backups.volumes
    return [v for v in found if wanted is None or v.volume in wanted]


def _restore_claim(volume: BackedUpVolume, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{volume.size_gb}Gi"}},
        "dataSource": {
            "apiGroup": "snapshot.storage.k8s.io",
            "kind": "VolumeSnapshot",
            "name": PLACEHOLDER,
        },
    }
    if volume.storage_class is not None:
        spec["storageClassName"] = volume.storage_class
    metadata: dict[str, Any] = {"name": name, "namespace": volume.namespace}
    if volume.labels:
        metadata["labels"] = dict(volume.labels)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def _restore(volume: BackedUpVolume) -> RestorePlan:
    ns = volume.namespace
    pick = (
        f"kubectl -n {ns} get volumesnapshot -l gridcloud.io/backup=scheduled: pick a snapshot "
        "of {claim} with READYTOUSE true and put its name in place of "
        f"{PLACEHOLDER} below"
    )
    if volume.volume == "hubDatabase":
        claim = HUB_DB_CLAIM
        steps = (
            pick.format(claim=claim),
            f"kubectl -n {ns} scale deployment hub --replicas=0",
            f"kubectl -n {ns} delete pvc {claim} (its disk goes; the snapshots stay)",
            "kubectl apply -f this file",
            f"kubectl -n {ns} scale deployment hub --replicas=1",
        )
    elif volume.volume == "homes":
        claim = "claim-USERNAME"
        steps = (
            f"kubectl -n {ns} get pvc -l component=singleuser-storage: the user's claim "
            "name (claim-<name>); put it in place of claim-USERNAME below",
            pick.format(claim="that claim"),
            "stop the user's server (the hub's admin page, or the user's Stop My Server)",
            f"kubectl -n {ns} delete pvc <the claim> (its disk goes; the snapshots stay)",
            "kubectl apply -f this file; the user's next server mounts the restored home",
        )
    else:
        claim = volume.claim or ""
        steps = (
            pick.format(claim=claim),
            f"kubectl -n {ns} scale deployment --all --replicas=0 (REANA and its NFS server)",
            f"kubectl -n {ns} delete pvc {claim} (its disk goes; the snapshots stay)",
            "kubectl apply -f this file",
            f"kubectl -n {ns} scale deployment --all --replicas=1 (each runs one replica)",
        )
    return RestorePlan(
        volume=volume.volume,
        namespace=ns,
        file=f"restore-{ns}-{volume.volume}.yaml",
        steps=steps,
        manifest=_restore_claim(volume, claim),
    )


def _python_image(services: ServicesPlan) -> str:
    """An image the facility pulls already, with Python 3.8 or later: JupyterHub's hub,
    else REANA's server."""
    from gridcloud.catalog.charts import CHARTS, default_values

    if "jupyter" in services.enabled:
        image = default_values(CHARTS["jupyterhub"])["hub"]["image"]
        return f"{image['name']}:{image['tag']}"
    server: str = default_values(CHARTS["reana"])["components"]["reana_server"]["image"]
    return server


def snapshot_class(plan: BackupPlan, facility: str) -> dict[str, Any]:
    from gridcloud.labels import FACILITY_LABEL, MANAGED_BY

    labels = {**MANAGED_BY, FACILITY_LABEL: facility}
    return {
        "apiVersion": SNAPSHOT_API,
        "kind": "VolumeSnapshotClass",
        "metadata": {"name": plan.snapshot_class, "labels": dict(SNAPSHOT_LABELS)},
        "driver": CSI_DRIVER,
        "deletionPolicy": "Retain",
        "parameters": {
            "storage-locations": plan.storage_location,
            "snapshot-type": "snapshots",
            "labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }


def schedule_objects(
    plan: BackupPlan, namespace: str, control: PoolPlan, image: str
) -> list[dict[str, Any]]:
    """The CronJob of one namespace, its account, role, binding and ConfigMap."""
    from importlib.resources import files

    script = files("gridcloud.incluster").joinpath(SCRIPT).read_text()
    targets = [
        {"claim": v.claim} if v.claim is not None else {"selector": v.selector}
        for v in plan.volumes
        if v.namespace == namespace
    ]
    config = {
        "namespace": namespace,
        "snapshotClass": plan.snapshot_class,
        "keep": plan.keep,
        "labels": SNAPSHOT_LABELS,
        "targets": targets,
    }
    meta = {"name": JOB, "namespace": namespace}
    labels = {"app.kubernetes.io/managed-by": "gridcloud", "app.kubernetes.io/name": JOB}
    rules = [
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["list"]},
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshots"],
            "verbs": ["create", "list", "delete"],
        },
    ]
    pod_spec = {
        "serviceAccountName": JOB,
        "restartPolicy": "Never",
        "nodeSelector": dict(control.node_selector),
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534},
        "containers": [
            {
                "name": "snapshots",
                "image": image,
                "command": ["python3", f"/snapshots/{SCRIPT}"],
                "resources": JOB_REQUEST.k8s(),
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "code", "mountPath": "/snapshots", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "code", "configMap": {"name": JOB}}],
    }
    cluster_name = f"{JOB}-{namespace}"
    cluster_meta = {"name": cluster_name, "labels": labels}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**meta, "labels": labels}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": cluster_meta,
            "rules": [
                {
                    "apiGroups": ["snapshot.storage.k8s.io"],
                    "resources": ["volumesnapshotcontents"],
                    "verbs": ["patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": cluster_meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": cluster_name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": JOB, "namespace": namespace}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {**meta, "labels": labels},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {**meta, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": JOB},
            "subjects": [{"kind": "ServiceAccount", "name": JOB, "namespace": namespace}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**meta, "labels": labels},
            "data": {SCRIPT: script, CONFIG: json.dumps(config, indent=2, sort_keys=True)},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {**meta, "labels": labels},
            "spec": {
                "schedule": plan.schedule,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 3600,
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": 1800,
                        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
                    },
                },
            },
        },
    ]


def plan_backups(
    profile: Profile,
    services: ServicesPlan,
    pools: tuple[PoolPlan, ...],
    region: str | None,
) -> tuple[BackupPlan | None, ServicesPlan]:
    """The backups the profile asks for, and the services with their objects added.
    ``region`` None: an existing cluster (no persistent disk CSI driver to count on)."""
    settings = profile.backups
    if not settings.enabled:
        return None, services
    if region is None:
        warning = (
            "backups: snapshots need GKE's persistent disk CSI driver; on an existing cluster "
            "none are planned (use the site's own backup)"
        )
        return None, services.model_copy(update={"warnings": (*services.warnings, warning)})
    volumes = _volumes(profile, services)
    if not volumes:
        warning = "backups: enabled, but the facility has none of the volumes asked for"
        return None, services.model_copy(update={"warnings": (*services.warnings, warning)})
    namespaces = tuple(dict.fromkeys(v.namespace for v in volumes))
    plan = BackupPlan(
        schedule=settings.schedule,
        keep=settings.keep,
        changed_percent=settings.changed_percent,
        snapshot_class=SNAPSHOT_CLASS,
        storage_location=region,
        volumes=tuple(volumes),
        restores=tuple(_restore(v) for v in volumes),
        namespaces=namespaces,
    )
    image = _python_image(services)
    objects = [snapshot_class(plan, profile.name)]
    for namespace in namespaces:
        objects += schedule_objects(plan, namespace, pools[0], image)
    return plan, services.model_copy(update={"objects": (*services.objects, *objects)})
