"""The grid site: a namespace for batch pilots, the submitter's account and Role, priority
classes, an optional core quota, CVMFS through the CSI driver, and a Frontier squid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.plan.services.model import (
    GridSitePlan,
    Placement,
    PolicyRule,
    PriorityClassPlan,
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
SQUID_RELEASE = "osg-frontier-squid"
SQUID_PORT = 3128

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

PILOT_PRIORITY = PriorityClassPlan(
    name="gridcloud-grid-pilot",
    value=100,
    preemption_policy="Never",
    description="Grid pilots: fill idle cores, never preempt, first to be preempted.",
)
INTERACTIVE_PRIORITY = PriorityClassPlan(
    name="gridcloud-interactive",
    value=1000,
    preemption_policy="PreemptLowerPriority",
    description="Notebooks and Dask workers: may preempt grid pilots for their cores.",
)


def squid_address(site: GridSite) -> str:
    return f"http://{SQUID_RELEASE}.{site.namespace}.svc.cluster.local:{SQUID_PORT}"


def job_template(site: GridSite, pool: PoolPlan) -> dict[str, Any]:
    """The Job fields a central submitter sets so that pilots run on the pool with CVMFS."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"namespace": site.namespace},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "priorityClassName": PILOT_PRIORITY.name,
                    **pod_placement(pool),
                    "containers": [
                        {
                            "name": "pilot",
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


def squid_release(site: GridSite, plan_ranges: list[str], control: PoolPlan) -> ReleasePlan:
    """The site squid. The chart has no node selector: it lands on the control node because
    every other node is tainted against it."""
    values = {
        "Instance": "",
        "Service": {"Port": SQUID_PORT, "ExternalVisibility": "ClusterIP"},
        "SquidConf": {
            "CacheMem": site.squid.cache_mem_mb,
            "CacheSize": site.squid.cache_disk_mb,
            "IPRange": " ".join(plan_ranges),
            "LogToStdout": True,
        },
    }
    return release_of(
        "osg-frontier-squid",
        name=SQUID_RELEASE,
        service="gridSite",
        namespace=site.namespace,
        values=values,
        placements=(Placement(component="squid", pool=control.name),),
    )


def private_ranges(network: NetworkPlan | None) -> list[str]:
    """Who may use the squid: the cluster's pod and node ranges, else the private ranges."""
    if network is not None:
        return [network.pod_range, network.subnet_range]
    return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
