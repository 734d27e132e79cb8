"""The grid site: a namespace for batch pilots, the submitter's account and Role, priority
classes, an optional core quota, CVMFS through the CSI driver, and a Frontier squid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.errors import PlanError
from gridcloud.plan.services import priorities
from gridcloud.plan.services.model import (
    GoogleAccessPlan,
    GridSitePlan,
    Placement,
    PolicyRule,
    ReleasePlan,
    release_of,
)
from gridcloud.plan.services.placement import by_name, choose, pod_placement
from gridcloud.plan.services.resources import SET

if TYPE_CHECKING:
    from gridcloud.plan.model import NetworkPlan, PoolPlan
    from gridcloud.profile.models import GridSite, Pool, Profile

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


#: A container with no privilege and no way to gain one.
UNPRIVILEGED: dict[str, Any] = {
    "privileged": False,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}


def squid_address(site: GridSite) -> str:
    return f"http://{SQUID_NAME}.{site.namespace}.svc.cluster.local:{SQUID_PORT}"


#: What Harvester's Kubernetes plugin expects of the Job template (HSF/harvester
#: pandaharvester/harvestermisc/k8s_utils.py, PanDAWMS/harvester_configurations K8S/):
#: the Secret its credential manager keeps the proxy and PanDA tokens in, mounted at the
#: submitter's ``tokenDir``; the scratch volume it sizes from CRIC, by that name, at the
#: queue's pilot dir; a name it suffixes with the worker ID.
PROXY_SECRET = "proxy-secret"
PROXY_DIR = "/proxy"
PILOT_DIR_VOLUME = "pilot-dir"
PILOT_DIR = "/pilotdir"
JOB_NAME = "grid-job"
#: ATLAS's pilot image in the harvester_configurations templates (CRIC's image, where the
#: queue sets one, takes precedence).
PILOT_IMAGE = "gitlab-registry.cern.ch/panda/harvester-k8s-images/adc-alma9:20241003"
#: Finished pilots' Jobs stay a day for Harvester's monitor and for debugging.
FINISHED_TTL_S = 86400


def cvmfs_name(repository: str) -> str:
    """``atlas.cern.ch`` -> ``atlas``: the short name in Harvester's claim names."""
    return repository.split(".", 1)[0]


def cvmfs_claims(site: GridSite) -> dict[str, str]:
    names: dict[str, str] = {}
    for repo in site.cvmfs.repositories:
        short = cvmfs_name(repo)
        clash = [r for r in names if cvmfs_name(r) == short]
        if clash:
            raise PlanError(
                f"the CVMFS repositories {clash[0]} and {repo} would share the claim "
                f"csi-cvmfs-{short}-pvc",
                hint="list only one repository per first name label in gridSite.cvmfs",
            )
        names[repo] = f"csi-cvmfs-{short}-pvc"
    return names


def cvmfs_objects(site: GridSite) -> list[dict[str, Any]]:
    """A StorageClass per repository (the CSI driver's ``repository`` parameter) and its
    claim in the grid namespace, named as Harvester's templates mount them."""
    made: list[dict[str, Any]] = []
    for repo, claim in cvmfs_claims(site).items():
        storage_class = f"csi-cvmfs-{cvmfs_name(repo)}"
        made.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": storage_class},
                "provisioner": "cvmfs.csi.cern.ch",
                "parameters": {"repository": repo},
            }
        )
        made.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "namespace": site.namespace},
                "spec": {
                    "accessModes": ["ReadOnlyMany"],
                    # ignored by the driver, but must not be zero
                    "resources": {"requests": {"storage": "1"}},
                    "storageClassName": storage_class,
                },
            }
        )
    return made


def grid_pool_names(pools: list[Pool], named: str | None) -> list[str]:
    """The pools pilots land on: the one named, else every spot cpu pool (a shard's spot
    pools, one per machine family), else the first cpu pool. Empty: no grid work here
    (a shard of GPU pools only). The one place that decides which pools, and so which
    shards, run grid work."""
    if named is not None:
        return [named]
    cpu = [pool for pool in pools if pool.kind == "cpu"]
    spot = [pool.name for pool in cpu if pool.spot]
    return spot or [pool.name for pool in cpu[:1]]


def grid_pools(profile: Profile, pools: tuple[PoolPlan, ...]) -> tuple[PoolPlan, ...]:
    names = grid_pool_names(profile.pools, profile.services.grid_site.pool)
    if not names:
        # the message every service gives without a cpu pool
        choose(profile, None, prefer_spot=True, what="the grid site")
    return tuple(by_name(pools, name) for name in names)


def placement(pools: tuple[PoolPlan, ...]) -> dict[str, Any]:
    """Where pilots land: one pool's nodeSelector and tolerations, or, over several pools
    (a shard's spot pools, one per machine family), a node affinity for any of them (the
    pools' one selector label ``In`` their values, else a term per pool) and every pool's
    tolerations. Harvester
    then adds no affinity of its own (it does only where the template has none, and only to
    pack single-core pilots)."""
    if len(pools) == 1:
        return pod_placement(pools[0])
    keys = {key for pool in pools for key in pool.node_selector}
    if len(keys) == 1 and all(len(pool.node_selector) == 1 for pool in pools):
        (key,) = keys
        values = [pool.node_selector[key] for pool in pools]
        terms = [{"matchExpressions": [{"key": key, "operator": "In", "values": values}]}]
    else:
        # pools selected by different labels (a pool with fallback shapes selects its
        # ComputeClass): one term per pool, which Kubernetes ORs
        terms = [
            {
                "matchExpressions": [
                    {"key": key, "operator": "In", "values": [value]}
                    for key, value in pool.node_selector.items()
                ]
            }
            for pool in pools
        ]
    tolerations: list[dict[str, str]] = []
    for pool in pools:
        tolerations += [t for t in pool.tolerations if t not in tolerations]
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        },
        "tolerations": tolerations,
    }


def job_template(site: GridSite, pools: tuple[PoolPlan, ...]) -> dict[str, Any]:
    """The Job Harvester's K8sSubmitter submits per pilot: it names it ``grid-job-<worker>``,
    sets image, command and environment, and fills CPU and memory requests only where the
    template has none; so the template requests one pilot slot (the namespace's core quota
    admits only pods that request), and a deadline on the pod (running time, not time in
    the queue: Harvester replaces it with the queue's maxtime from CRIC)."""
    claims = cvmfs_claims(site)
    mounts = [
        {"name": f"cvmfs-{cvmfs_name(repo)}", "mountPath": f"/cvmfs/{repo}", "readOnly": True}
        for repo in claims
    ]
    volumes: list[dict[str, Any]] = [
        {
            "name": f"cvmfs-{cvmfs_name(repo)}",
            "persistentVolumeClaim": {"claimName": claim, "readOnly": True},
        }
        for repo, claim in claims.items()
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": JOB_NAME, "namespace": site.namespace},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": FINISHED_TTL_S,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "activeDeadlineSeconds": PILOT_DEADLINE_S,
                    "priorityClassName": priorities.PILOT.name,
                    **placement(pools),
                    "containers": [
                        {
                            "name": "pilot",
                            "image": PILOT_IMAGE,
                            "env": [{"name": "PILOT_NOKILL", "value": "True"}],
                            # CVMFS comes through the CSI driver's claims and payloads run
                            # in unprivileged Apptainer: nothing here needs privilege (as
                            # CA-VICTORIA-K8S-T2's template in harvester_configurations)
                            "securityContext": UNPRIVILEGED,
                            "resources": {
                                "requests": {
                                    "cpu": str(PILOT_CPU),
                                    "memory": f"{PILOT_MEMORY_GI}Gi",
                                }
                            },
                            "volumeMounts": [
                                *mounts,
                                {"name": PROXY_SECRET, "mountPath": PROXY_DIR, "readOnly": True},
                                {"name": PILOT_DIR_VOLUME, "mountPath": PILOT_DIR},
                            ],
                        }
                    ],
                    "volumes": [
                        *volumes,
                        # made by Harvester's K8sSecretCredManager: pods wait until it is
                        {
                            "name": PROXY_SECRET,
                            "secret": {"secretName": PROXY_SECRET, "defaultMode": 0o400},
                        },
                        {"name": PILOT_DIR_VOLUME, "emptyDir": {}},
                    ],
                }
            },
        },
    }


def queue_name(site: GridSite, facility: str) -> str:
    return site.harvester.queue or f"{facility.upper().replace('-', '_')}_K8S"


def shard_queue(site: GridSite, shard: str) -> str | None:
    """A compute shard's PanDA queue: ``<queue>_<SHARD>`` where the profile names the home
    queue, else None (the default from the shard's name, ``<NAME>_<SHARD>_K8S``)."""
    return f"{site.harvester.queue}_{shard.upper()}" if site.harvester.queue else None


#: GKE's reservation on a node's boot disk (ephemeral storage), as its node-sizing page
#: gives it: the filesystem holds about 94 % of the disk, GKE keeps min(50 %, 6 GiB + 35 %,
#: 100 GiB) of it for the system and evicts pods below 10 % free.
FILESYSTEM_SHARE = 0.94
EVICTION_SHARE = 0.10


def pilot_dir_mb(site: GridSite, pools: tuple[PoolPlan, ...]) -> int:
    """The pilot dir each pilot gets (CRIC's ``maxwdir``, MiB): what the smallest of the
    pools' boot disks leaves pods (GKE's reservation and eviction threshold, and the CVMFS
    cache the node plugin keeps on the same disk), shared by the node's pilots. Harvester
    requests it as ephemeral storage: a larger ``maxwdir`` and no pilot would schedule."""
    sizes = []
    for pool in pools:
        filesystem = pool.disk_size_gb * FILESYSTEM_SHARE
        reserved = min(filesystem * 0.5, 6 + filesystem * 0.35, 100.0)
        free = filesystem - reserved - filesystem * EVICTION_SHARE - site.cvmfs.cache_gb
        per_node = max((pool.vcpus or PILOT_CPU) // PILOT_CPU, 1)
        sizes.append(max(free, 0.0) / per_node)
    return int(min(sizes) * 1024)


def queue_cores(site: GridSite, pools: tuple[PoolPlan, ...]) -> int | None:
    """The cores the queue may fill: the core quota, else the pools' maxima together."""
    if site.max_cores is not None:
        return site.max_cores
    cores = [pool.max_cores for pool in pools]
    return sum(c for c in cores if c is not None) if all(c is not None for c in cores) else None


def harvester_queue(site: GridSite, facility: str, pools: tuple[PoolPlan, ...]) -> dict[str, Any]:
    """The site's entry for Harvester's queue configuration (``panda_queueconfig.json``):
    the Kubernetes submitter, monitor and sweeper, and where the Harvester host keeps the
    kubeconfig (``gridSiteKubeconfig``) and Job template (``gridSiteJobTemplate``)."""
    cores = queue_cores(site, pools)
    pilots = max(cores // PILOT_CPU, 1) if cores else None
    entry: dict[str, Any] = {
        "queueStatus": "online",
        "templateQueueName": site.harvester.template_queue,
        "submitter": {
            "name": "K8sSubmitter",
            "module": "pandaharvester.harvestersubmitter.k8s_submitter",
            "tokenDir": PROXY_DIR,
        },
        "monitor": {"name": "K8sMonitor", "module": "pandaharvester.harvestermonitor.k8s_monitor"},
        "sweeper": {"name": "K8sSweeper", "module": "pandaharvester.harvestersweeper.k8s_sweeper"},
        "common": {
            "k8s_yaml_file": harvester_path(site, facility, "job.yaml"),
            "k8s_config_file": harvester_path(site, facility, "kubeconfig"),
            "k8s_namespace": site.namespace,
        },
    }
    if pilots is not None:
        entry["maxWorkers"] = pilots
        entry["nQueueLimitWorkerMax"] = min(pilots, 1000)
    return {queue_name(site, facility): entry}


def harvester_path(site: GridSite, facility: str, what: str) -> str:
    """Where the Harvester host keeps one of the site's files: ``<configDir>/<name>-<what>``."""
    return f"{site.harvester.config_dir.rstrip('/')}/{facility}-{what}"


def cric_queue(site: GridSite, pools: tuple[PoolPlan, ...]) -> dict[str, Any]:
    """What the PanDA queue's CRIC entry must say for the template's pilots: Harvester reads
    the namespace from the CE queue name, fills requests the template lacks from the core
    count and memory, replaces the deadline with ``maxtime`` and sizes ``pilot-dir`` from
    ``maxwdir`` (MB, per ``corecount`` cores)."""
    return {
        "ce_queue_name": site.namespace,
        "corecount": PILOT_CPU,
        "maxrss": PILOT_MEMORY_GI * 1024,
        "maxtime": PILOT_DEADLINE_S,
        "maxwdir": pilot_dir_mb(site, pools),
    }


SUBMITTER = "grid-submitter"
TOKEN_SECRET = "grid-submitter-token"
QUOTA = "grid-cores"
RBAC_GROUP = "rbac.authorization.k8s.io"
#: What the Harvester host's Google account needs in the project to reach the cluster's API
#: at all (``container.clusters.get``); Kubernetes RBAC decides the rest.
GOOGLE_ROLES = ("roles/container.clusterViewer",)


def google_account(facility: str) -> str:
    """The Harvester host's Google service account ID on a stack: ``<name>-grid`` (at most
    25 characters for a facility, 29 for a shard: IDs take 30)."""
    return f"{facility}-grid"


def google_email(facility: str, project: str) -> str:
    return f"{google_account(facility)}@{project}.iam.gserviceaccount.com"


def submitter_objects(site: GridSite, google: str | None = None) -> dict[str, Any]:
    """Harvester's way in: the submitter's ServiceAccount, its Role (exactly
    :data:`SUBMITTER_RULES`) and the binding between them, the namespace's core quota (with
    ``maxCores``). On GKE (``google``: the Harvester host's Google account) the binding
    grants the Role to that account too and no token is stored: Harvester's kubeconfig gets
    short-lived tokens from GKE's exec plugin. On an existing cluster, a token Secret the
    cluster's token controller fills in (the kubeconfig Harvester is given)."""
    meta = {"name": SUBMITTER, "namespace": site.namespace}
    quota = None
    if site.max_cores is not None:
        quota = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": QUOTA, "namespace": site.namespace},
            "spec": {"hard": {"requests.cpu": str(site.max_cores)}},
        }
    subjects: list[dict[str, str]] = [
        {"kind": "ServiceAccount", "name": SUBMITTER, "namespace": site.namespace}
    ]
    if google is not None:
        subjects.append({"apiGroup": RBAC_GROUP, "kind": "User", "name": google})
    token = None
    if google is None:
        token = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": TOKEN_SECRET,
                "namespace": site.namespace,
                "annotations": {"kubernetes.io/service-account.name": SUBMITTER},
            },
            "type": "kubernetes.io/service-account-token",
        }
    return {
        "account": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)},
        "role": {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "Role",
            "metadata": dict(meta),
            "rules": [
                {
                    "apiGroups": list(rule.api_groups),
                    "resources": list(rule.resources),
                    "verbs": list(rule.verbs),
                }
                for rule in SUBMITTER_RULES
            ],
        },
        "binding": {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "RoleBinding",
            "metadata": dict(meta),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": SUBMITTER},
            "subjects": subjects,
        },
        "quota": quota,
        "token": token,
    }


def plan_grid_site(
    site: GridSite, pools: tuple[PoolPlan, ...], facility: str, project: str | None = None
) -> GridSitePlan:
    """The site on one cluster; ``project``: the cluster's Google Cloud project (GKE), where
    the Harvester host's Google account is made."""
    google = (
        GoogleAccessPlan(
            account=google_account(facility),
            email=google_email(facility, project),
            project=project,
            roles=GOOGLE_ROLES,
            credentials=harvester_path(site, facility, "google.json"),
        )
        if project is not None
        else None
    )
    return GridSitePlan(
        namespace=site.namespace,
        service_account=SUBMITTER,
        role_rules=SUBMITTER_RULES,
        quota_cores=site.max_cores,
        pool=pools[0].name,
        pools=tuple(pool.name for pool in pools),
        cvmfs_claims=cvmfs_claims(site),
        token_secret=TOKEN_SECRET if google is None else None,
        quota_name=QUOTA,
        job_template=job_template(site, pools),
        queue=queue_name(site, facility),
        harvester_queue=harvester_queue(site, facility, pools),
        cric=cric_queue(site, pools),
        kubeconfig_path=harvester_path(site, facility, "kubeconfig"),
        google=google,
        **submitter_objects(site, google.email if google is not None else None),
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
