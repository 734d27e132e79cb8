"""The grid site: a namespace for batch pilots, the submitter's account and Role, priority
classes, an optional core quota, CVMFS through the CSI driver, and a Frontier squid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.plan.services import priorities
from gridcloud.plan.services.model import (
    GridSitePlan,
    Placement,
    PolicyRule,
    ReleasePlan,
    release_of,
)
from gridcloud.plan.services.placement import pod_placement
from gridcloud.plan.services.resources import SET

if TYPE_CHECKING:
    from gridcloud.plan.model import NetworkPlan, PoolPlan
    from gridcloud.profile.models import GridSite

CVMFS_NAMESPACE = "cvmfs"
CVMFS_STORAGE_CLASS = "cvmfs"
SQUID_NAME = "frontier-squid"
SQUID_PORT = 3128
#: OSG's Frontier squid image, the one the SLATE chart runs.
SQUID_IMAGE = "hub.opensciencegrid.org/opensciencegrid/frontier-squid:3.6-release"
#: The priority classes GKE admits outside kube-system only under a quota scoped to them.
CRITICAL_CLASSES = ("system-node-critical", "system-cluster-critical")
#: A pilot's share of a node: one 8-core ATLAS multi-core slot with 2 GB per core, and how
#: long Kubernetes lets it run (pilots are short-lived; a stuck one must not hold a node).
PILOT_CPU = 8
PILOT_MEMORY_GI = 16
PILOT_DEADLINE_S = 48 * 3600

#: What PanDA Harvester's Kubernetes plugin does in the grid namespace, and nothing more.
SUBMITTER_RULES = (
    PolicyRule(
        api_groups=("batch",),
        resources=("jobs",),
        verbs=("create", "get", "list", "watch", "delete"),
    ),
    PolicyRule(api_groups=("",), resources=("pods",), verbs=("get", "list", "delete")),
    PolicyRule(api_groups=("",), resources=("pods/log",), verbs=("get",)),
    PolicyRule(
        api_groups=("",),
        resources=("configmaps", "secrets"),
        verbs=("create", "get", "patch", "delete"),
    ),
)


def squid_address(site: GridSite) -> str:
    return f"http://{SQUID_NAME}.{site.namespace}.svc.cluster.local:{SQUID_PORT}"


def job_template(site: GridSite, pool: PoolPlan) -> dict[str, Any]:
    """The Job fields a central submitter sets so that pilots run on the pool with CVMFS."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"namespace": site.namespace},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": PILOT_DEADLINE_S,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "priorityClassName": priorities.PILOT.name,
                    **pod_placement(pool),
                    "containers": [
                        {
                            "name": "pilot",
                            # the namespace's core quota admits only pods that request
                            "resources": {
                                "requests": {
                                    "cpu": str(PILOT_CPU),
                                    "memory": f"{PILOT_MEMORY_GI}Gi",
                                }
                            },
                            "volumeMounts": [
                                {
                                    "name": "cvmfs",
                                    "mountPath": "/cvmfs",
                                    "mountPropagation": "HostToContainer",
                                }
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "cvmfs",
                            "persistentVolumeClaim": {"claimName": "cvmfs", "readOnly": True},
                        }
                    ],
                }
            },
        },
    }


def plan_grid_site(site: GridSite, pool: PoolPlan) -> GridSitePlan:
    return GridSitePlan(
        namespace=site.namespace,
        service_account="grid-submitter",
        role_rules=SUBMITTER_RULES,
        quota_cores=site.max_cores,
        pool=pool.name,
        cvmfs_claim="cvmfs",
        cvmfs_storage_class=CVMFS_STORAGE_CLASS,
        token_secret="grid-submitter-token",
        quota_name="grid-cores",
        job_template=job_template(site, pool),
    )


def cvmfs_release(site: GridSite, control: PoolPlan) -> ReleasePlan:
    default_local = "\n".join(
        [
            "CVMFS_USE_GEOAPI=no",
            f'CVMFS_HTTP_PROXY="{squid_address(site)}"',
            f"CVMFS_REPOSITORIES={','.join(site.cvmfs.repositories)}",
            f"CVMFS_QUOTA_LIMIT={site.cvmfs.cache_gb * 1000}",
            "CVMFS_CACHE_BASE=/cvmfs-localcache",
            "",
        ]
    )
    values = {
        "extraConfigMaps": {"cvmfs-csi-default-local": {"default.local": default_local}},
        "automountStorageClass": {"create": True, "name": CVMFS_STORAGE_CLASS},
        "nodeplugin": {
            # every node that runs pilots or jobs needs the driver: tolerate every taint
            "tolerations": [{"operator": "Exists"}],
            "plugin": {"resources": SET["cvmfs-csi/node-plugin"].k8s()},
            "automount": {"resources": SET["cvmfs-csi/node-automount"].k8s()},
            "registrar": {"resources": SET["cvmfs-csi/node-registrar"].k8s()},
        },
        "controllerplugin": {
            "nodeSelector": dict(control.node_selector),
            "plugin": {"resources": SET["cvmfs-csi/controller-plugin"].k8s()},
            "provisioner": {"resources": SET["cvmfs-csi/controller-provisioner"].k8s()},
        },
    }
    return release_of(
        "cvmfs-csi",
        name="cvmfs-csi",
        service="gridSite",
        namespace=CVMFS_NAMESPACE,
        values=values,
        placements=(
            Placement(component="controller", pool=control.name),
            Placement(component="node plugin", pool="every node"),
        ),
    )


def squid_objects(site: GridSite, ranges: list[str], control: PoolPlan) -> list[dict[str, Any]]:
    """The site squid as gridcloud's own Deployment and Service.

    Not the SLATE osg-frontier-squid chart: it requests a whole CPU (and cannot render
    less) and takes no node selector, so it either does not fit the control node or lands
    on an on-demand node and keeps it up. The same image and settings, on the control node.
    """
    labels = {"app.kubernetes.io/name": SQUID_NAME, "app.kubernetes.io/managed-by": "gridcloud"}
    request = SET["squid/squid"]
    memory = f"{request.memory_mi + site.squid.cache_mem_mb}Mi"
    disk = f"{site.squid.cache_disk_mb + 1024}Mi"
    container = {
        "name": "squid",
        "image": SQUID_IMAGE,
        "env": [
            {"name": "SQUID_IPRANGE", "value": " ".join(ranges)},
            {"name": "SQUID_CACHE_MEM", "value": f"{site.squid.cache_mem_mb} MB"},
            {"name": "SQUID_CACHE_DISK", "value": str(site.squid.cache_disk_mb)},
        ],
        "ports": [{"name": "squid", "containerPort": SQUID_PORT}],
        "resources": {
            "requests": {"cpu": f"{request.cpu_m}m", "memory": memory},
            "limits": {"memory": memory},
        },
        "readinessProbe": {"tcpSocket": {"port": SQUID_PORT}, "periodSeconds": 10},
        "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/squid"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": SQUID_NAME, "namespace": site.namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": SQUID_NAME}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": dict(control.node_selector),
                    "priorityClassName": priorities.SERVICES.name,
                    "containers": [container],
                    "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": disk}}],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SQUID_NAME, "namespace": site.namespace, "labels": labels},
        "spec": {
            "selector": {"app.kubernetes.io/name": SQUID_NAME},
            "ports": [{"name": "squid", "port": SQUID_PORT, "targetPort": SQUID_PORT}],
        },
    }
    return [deployment, service]


def critical_pods_quota(namespace: str) -> dict[str, Any]:
    """GKE admits pods of the system-*-critical classes outside kube-system only in a
    namespace with a ResourceQuota scoped to those classes (the CVMFS node plugin)."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "gcp-critical-pods", "namespace": namespace},
        "spec": {
            "hard": {"pods": "1G"},
            "scopeSelector": {
                "matchExpressions": [
                    {
                        "operator": "In",
                        "scopeName": "PriorityClass",
                        "values": list(CRITICAL_CLASSES),
                    }
                ]
            },
        },
    }


def private_ranges(network: NetworkPlan | None) -> list[str]:
    """Who may use the squid: the cluster's pod and node ranges, else the private ranges."""
    if network is not None:
        return [network.pod_range, network.subnet_range]
    return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
