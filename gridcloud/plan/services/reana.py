"""REANA: infrastructure on the control node, workflow and job pods on an on-demand pool,
a shared ReadWriteMany workspace, and secrets generated at deploy time.

Storage: REANA needs ReadWriteMany. Filestore Basic HDD is about $0.20/GiB-month, from 1 TiB
(100 GiB through GKE's CSI driver), and on-prem clusters have no Filestore; an NFS server pod
on the control node, on a pd-balanced disk of the size asked ($0.10/GB-month: $20 for 200 GB)
works the same on GKE and on-prem (docs/services/reana.md weighs them). REANA's claim asks
for the storage class ``reana-shared-volume-storage-class``; gridcloud's NFS volume carries
that class name, so the claim binds to it without a provisioner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.plan.services import ingress
from gridcloud.plan.services.model import (
    CLUSTER_IP_PLACEHOLDER,
    SECRET_PLACEHOLDER,
    GeneratedSecret,
    PatchPlan,
    Placement,
    PrivilegeNeed,
    ReleasePlan,
    SecretOutput,
    SecretValue,
    SharedStoragePlan,
    release_of,
)
from gridcloud.plan.services.placement import node_label
from gridcloud.plan.services.resources import JOBS, NAMESPACE_DEFAULT, SET

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.profile.models import Reana, SiteIngress

SHARED_STORAGE_CLASS = "reana-shared-volume-storage-class"
NFS_SERVER_IMAGE = "registry.k8s.io/volume-nfs:0.8"
#: GKE's CSI storage class for pd-balanced disks.
GKE_DISK_CLASS = "standard-rwo"


def runs_traefik(*, site_ingress: bool) -> bool:
    """REANA's own Traefik runs where no site's ingress controller serves REANA: on Google
    Cloud it is the in-cluster router behind the load balancer for the UI and the
    interactive sessions (ingress.py)."""
    return not site_ingress


def reana_release(
    reana: Reana,
    control: PoolPlan,
    runtime: PoolPlan,
    *,
    load_balancer: bool,
    site: SiteIngress | None = None,
) -> ReleasePlan:
    """REANA's release. With ``load_balancer`` (Google Cloud), GKE's load balancer serves
    it over HTTPS (ingress.py): the API directly, the rest through REANA's Traefik, now an
    in-cluster router (ClusterIP) that serves the chart's Ingress and every interactive
    session's. On an existing cluster the site's controller serves it (``site``): REANA's
    Traefik and Ingress are off, the sessions' Ingresses take the site's class."""
    # the chart writes these into nodeSelectors unquoted; the job labels go into env vars
    infrastructure = node_label(control, quoted=True)
    jobs = node_label(runtime)
    values: dict[str, Any] = {
        "reana_hostname": reana.hostname,
        "node_label_infrastructure": infrastructure,
        "node_label_infrastructuredb": infrastructure,
        "node_label_infrastructuremq": infrastructure,
        "node_label_runtimebatch": jobs,
        "node_label_runtimejobs": jobs,
        "node_label_runtimesessions": jobs,
        "shared_storage": {
            "backend": "nfs",
            "volume_size": reana.storage_gb,
            "access_modes": "ReadWriteMany",
        },
        "secrets": {
            "database": {"user": "reana", "password": SECRET_PLACEHOLDER},
            "message_broker": {"user": "reana", "password": SECRET_PLACEHOLDER},
            "cache": {"password": SECRET_PLACEHOLDER},
            "reana": {"REANA_SECRET_KEY": SECRET_PLACEHOLDER},
            "cern": {"sso": {k[-1]: SECRET_PLACEHOLDER for k in UNUSED_INTEGRATION_SECRETS[:2]}},
            "gitlab": {k[-1]: SECRET_PLACEHOLDER for k in UNUSED_INTEGRATION_SECRETS[2:]},
        },
    }
    if load_balancer or site is not None:
        # the load balancer (or the site's controller) redirects HTTP to HTTPS and is the
        # only way in; reana-server's own redirect would answer the health check 302
        # and its uWSGI HTTP router keeps idle connections longer than the proxy in front
        environment = {
            "REANA_FORCE_HTTPS": False,
            "UWSGI_HTTP_TIMEOUT": ingress.BACKEND_KEEP_ALIVE_S,
        }
        values["components"] = {"reana_server": {"environment": environment}}
    if site is not None:
        values["ingress"] = {"enabled": False, "annotations": ingress.session_annotations(site)}
        values["traefik"] = {"enabled": False}
    else:
        traefik: dict[str, Any] = {
            "nodeSelector": dict(control.node_selector),
            "resources": SET["reana/traefik"].k8s(),
        }
        if load_balancer:
            values["ingress"] = {
                "enabled": True,
                "annotations": ingress.session_annotations(None),
                # the load balancer terminates TLS: no certificate in the cluster
                "tls": {"self_signed_cert": False},
            }
            traefik |= {
                "service": ingress.router_service_values(),
                # Traefik's ping on the port it serves, where the readiness probe (and so
                # the load balancer's health check) looks
                "additionalArguments": [
                    "--ping.entrypoint=web",
                    # idle connections kept longer than the load balancer keeps them
                    "--entryPoints.web.transport.respondingTimeouts.idleTimeout="
                    f"{ingress.BACKEND_KEEP_ALIVE_S}s",
                ],
                "ports": {
                    "traefik": {"healthchecksPort": ingress.ROUTER_PORT},
                    "web": {"nodePort": None},
                    "websecure": {"nodePort": None},
                },
            }
        values["traefik"] = traefik
    return release_of(
        "reana",
        name="reana",
        service="reana",
        namespace=reana.namespace,
        values=values,
        secrets=(
            SecretValue(path=("secrets", "database", "password"), source="generated"),
            SecretValue(path=("secrets", "message_broker", "password"), source="generated"),
            SecretValue(path=("secrets", "cache", "password"), source="generated"),
            SecretValue(
                path=("secrets", "reana", "REANA_SECRET_KEY"), source="generated", length=48
            ),
            *(SecretValue(path=path, source="generated") for path in UNUSED_INTEGRATION_SECRETS),
        ),
        placements=(
            Placement(component="infrastructure", pool=control.name),
            Placement(component="workflows and jobs", pool=runtime.name),
        ),
    )


#: NFS (2049), mountd (20048), rpcbind (111): what clients of NFS v3 and v4 reach.
NFS_PORTS = (2049, 20048, 111)
NFS_SERVER = "gridcloud-nfs"
NFS_CONTAINER = "nfs"
#: The kernel NFS server mounts the ``nfsd`` file system (``mount -t nfsd``, which needs
#: CAP_SYS_ADMIN) and then serves from kernel threads: SYS_ADMIN on top of the runtime's
#: default capabilities, and no AppArmor profile (the container runtime's default one
#: denies every mount). Nothing else: no privileged container, no host devices.
NFS_CAPABILITIES = ("SYS_ADMIN",)
NFS_SECURITY: dict[str, Any] = {
    "privileged": False,
    "capabilities": {"add": list(NFS_CAPABILITIES)},
    "appArmorProfile": {"type": "Unconfined"},
}
NFS_NEED = (
    "the kernel NFS server (registry.k8s.io/volume-nfs) mounts the nfsd file system, which "
    "takes CAP_SYS_ADMIN and a mount the runtime's AppArmor profile denies; a userspace "
    "server (nfs-ganesha) or Filestore would not, at the cost docs/services/reana.md gives"
)


def shared_storage(reana: Reana, control: PoolPlan, *, on_gcp: bool) -> SharedStoragePlan:
    """An NFS server on the control node, on a disk of ``storageGb``, exported as a
    ReadWriteMany volume with the storage class name REANA's claim asks for."""
    namespace = reana.namespace
    disk_claim = "gridcloud-nfs-disk"
    labels = {"app": NFS_SERVER}
    backing = GKE_DISK_CLASS if on_gcp else None
    disk_spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"]}
    if backing is not None:
        disk_spec["storageClassName"] = backing
    disk_spec["resources"] = {"requests": {"storage": f"{reana.storage_gb}Gi"}}
    server = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NFS_SERVER, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": dict(control.node_selector),
                    "containers": [
                        {
                            "name": NFS_CONTAINER,
                            "image": NFS_SERVER_IMAGE,
                            "securityContext": NFS_SECURITY,
                            "resources": SET["reana/nfs-server"].k8s(),
                            "ports": [{"containerPort": port} for port in NFS_PORTS],
                            "volumeMounts": [{"name": "export", "mountPath": "/exports"}],
                        }
                    ],
                    "volumes": [
                        {"name": "export", "persistentVolumeClaim": {"claimName": disk_claim}}
                    ],
                },
            },
        },
    }
    volume_name = f"{namespace}-shared-volume"
    return SharedStoragePlan(
        namespace=namespace,
        size_gb=reana.storage_gb,
        backing_storage_class=backing,
        storage_class_name=SHARED_STORAGE_CLASS,
        server_image=NFS_SERVER_IMAGE,
        node_selector=dict(control.node_selector),
        server_name=NFS_SERVER,
        disk_claim=disk_claim,
        volume_name=volume_name,
        disk={
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": disk_claim, "namespace": namespace},
            "spec": disk_spec,
        },
        server=server,
        service={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NFS_SERVER, "namespace": namespace},
            "spec": {
                "selector": labels,
                "ports": [{"name": f"p{port}", "port": port} for port in NFS_PORTS],
            },
        },
        volume={
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume_name},
            "spec": {
                "capacity": {"storage": f"{reana.storage_gb}G"},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": SHARED_STORAGE_CLASS,
                "nfs": {"server": CLUSTER_IP_PLACEHOLDER, "path": "/"},
                "mountOptions": ["nfsvers=4.1"],
            },
        },
    )


def nfs_privilege(reana: Reana) -> PrivilegeNeed:
    """The NFS server's rights beyond an unprivileged container's, and why (the policy
    waives exactly these)."""
    return PrivilegeNeed(
        kind="Deployment",
        namespace=reana.namespace,
        name=NFS_SERVER,
        container=NFS_CONTAINER,
        capabilities=NFS_CAPABILITIES,
        apparmor_unconfined=True,
        reason=NFS_NEED,
    )


#: The chart's CronJobs, which it renders without a node selector.
CRONJOBS = ("reana-resource-quota-update", "reana-retention-rules-apply")


def cronjob_patches(reana: Reana, control: PoolPlan) -> list[PatchPlan]:
    """Pin the chart's CronJobs to the control node (the chart offers no setting)."""
    return [
        PatchPlan(
            release="reana",
            manifest={
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": name, "namespace": reana.namespace},
                "spec": {
                    "jobTemplate": {
                        "spec": {
                            "template": {"spec": {"nodeSelector": dict(control.node_selector)}}
                        }
                    }
                },
            },
        )
        for name in CRONJOBS
    ]


def namespace_defaults(reana: Reana) -> dict[str, Any]:
    """A LimitRange giving REANA's containers, which the chart leaves without requests, a
    default request, so the scheduler reserves their room on the control node."""
    default = NAMESPACE_DEFAULT["reana"]
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "gridcloud-default-requests", "namespace": reana.namespace},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {
                        "cpu": f"{default.cpu_m}m",
                        "memory": f"{default.memory_mi}Mi",
                    },
                }
            ]
        },
    }


#: The chart's placeholders for integrations gridcloud does not configure (CERN SSO, GitLab):
#: generated instead, so no Secret holds a value anyone can read in the chart.
UNUSED_INTEGRATION_SECRETS = (
    ("secrets", "cern", "sso", "CERN_CONSUMER_KEY"),
    ("secrets", "cern", "sso", "CERN_CONSUMER_SECRET"),
    ("secrets", "gitlab", "REANA_GITLAB_OAUTH_APP_ID"),
    ("secrets", "gitlab", "REANA_GITLAB_OAUTH_APP_SECRET"),
)

FIRST_RUN = "reana-first-run"
ADMIN_SECRET = "reana-admin"
#: ``<release>-admin-access-token``: the name REANA's CronJobs read the token from.
ADMIN_TOKEN_SECRET = "reana-admin-access-token"
ADMIN_TOKEN_KEY = "ADMIN_ACCESS_TOKEN"
FIRST_RUN_SCRIPT = "reana_first_run.py"


def admin_email(reana: Reana) -> str:
    return reana.admin_email or f"admin@{reana.hostname}"


def admin_secret(reana: Reana) -> GeneratedSecret:
    """The administrator's login: its e-mail, and a password generated at deploy time."""
    return GeneratedSecret(
        namespace=reana.namespace,
        name=ADMIN_SECRET,
        generated=("password",),
        literal={"email": admin_email(reana)},
    )


def _server_image() -> str:
    from gridcloud.catalog.charts import CHARTS, default_values

    image: str = default_values(CHARTS["reana"])["components"]["reana_server"]["image"]
    return image


def first_run_objects(reana: Reana, control: PoolPlan) -> list[dict[str, Any]]:
    """The chart's first-run steps (its NOTES.txt) as a Job, run after the release:
    initialise the database, create the administrator, keep its token in the Secret
    REANA's CronJobs read (gridcloud/incluster/reana_first_run.py). Its account may exec
    into REANA's pods and create Secrets, in REANA's namespace only."""
    from importlib.resources import files

    script = files("gridcloud.incluster").joinpath(FIRST_RUN_SCRIPT).read_text()
    meta = {"name": FIRST_RUN, "namespace": reana.namespace}
    labels = {"app.kubernetes.io/managed-by": "gridcloud", "app.kubernetes.io/name": FIRST_RUN}
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        # exec goes over a websocket (GET) or SPDY (POST): both verbs
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [ADMIN_TOKEN_SECRET],
            "verbs": ["get"],
        },
        # create cannot be limited to a name (the object does not exist yet)
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]

    def from_admin(key: str) -> dict[str, Any]:
        return {"valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": key}}}

    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**meta, "labels": labels}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FIRST_RUN},
            "subjects": [
                {"kind": "ServiceAccount", "name": FIRST_RUN, "namespace": reana.namespace}
            ],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**meta, "labels": labels},
            "data": {FIRST_RUN_SCRIPT: script},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {**meta, "labels": labels},
            "spec": {
                "backoffLimit": 3,
                "activeDeadlineSeconds": 1800,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": FIRST_RUN,
                        "restartPolicy": "Never",
                        "nodeSelector": dict(control.node_selector),
                        "containers": [
                            {
                                "name": "first-run",
                                "image": _server_image(),
                                "command": ["python3", f"/first-run/{FIRST_RUN_SCRIPT}"],
                                "env": [
                                    {"name": "REANA_NAMESPACE", "value": reana.namespace},
                                    {"name": "ADMIN_TOKEN_SECRET", "value": ADMIN_TOKEN_SECRET},
                                    {"name": "ADMIN_EMAIL", **from_admin("email")},
                                    {"name": "ADMIN_PASSWORD", **from_admin("password")},
                                ],
                                "resources": JOBS["reana/first-run"].k8s(),
                                "volumeMounts": [{"name": "script", "mountPath": "/first-run"}],
                            }
                        ],
                        "volumes": [{"name": "script", "configMap": {"name": FIRST_RUN}}],
                    },
                },
            },
        },
    ]


def admin_token_output(reana: Reana) -> SecretOutput:
    return SecretOutput(
        output="reanaAdminToken",
        namespace=reana.namespace,
        job=FIRST_RUN,
        secret=ADMIN_TOKEN_SECRET,
        key=ADMIN_TOKEN_KEY,
    )
