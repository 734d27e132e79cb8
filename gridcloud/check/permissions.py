"""What the deployer must be allowed to do for a Plan: every IAM permission ``up`` (and
``destroy``, and its leftover cleanup) needs, each with the part of the Plan that needs it
and a predefined role that grants it; and the ``permissions`` check of ``gridcloud check``,
which asks Cloud Resource Manager's ``projects.testIamPermissions`` which of them the caller
holds on the project.

The list follows the Plan as the program does (``gridcloud/program``): the network, the
nodes' account and its project roles, the cluster and its pools, the HTTPS addresses, the
Kubernetes objects (through the cluster's API), and with ``budget.billingAccount`` the topic
and the budget, with the hard cap the enforcer. No budget, no budget permissions; no cap, no
function permissions. For each Google resource: create, get (refresh, the next ``up``),
update (a changed profile) and delete (``destroy``, a replaced pool); the long-running
operations the provider polls; the permissions a call needs beyond its own resource (a
service account a cluster, a pool or a function runs as: ``iam.serviceAccounts.actAs``; a
budget notifying a topic: ``pubsub.topics.setIamPolicy`` on it, as the Budget API's
reference says; Cloud Billing grants its own account the right to publish there).

Kubernetes objects: at the first ``up`` the cluster is new and has no RBAC bindings for the
deployer, so GKE can only authorize its requests through IAM, which names Kubernetes
permissions ``container.<resource>.<verb>`` (custom resources without their own:
``container.thirdPartyObjects.<verb>``). The list has create, get, list, update (GKE maps
patch and server-side apply to it) and delete for every kind the Plan creates (gridcloud's
own, the charts' as :data:`gridcloud.catalog.charts.CHARTS` lists them, the manifests the
Plan holds), ``bind`` and ``escalate`` for the RBAC roles the charts create, and the reads
Pulumi and Helm make while they wait for pods. Kubernetes Engine Admin holds them all.

Not in the list: what Google's own service agents do on the deployer's behalf (GKE's nodes
and load balancers, Cloud Functions' build and its Cloud Run service).
The billing account is a separate resource: its permissions (:func:`billing_permissions`)
are tested on the account by the ``billing`` check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gridcloud.check.model import CheckResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from google.auth.credentials import Credentials

    from gridcloud.plan import Plan

Scope = Literal["project", "billing account"]

#: The predefined roles the list names, with Google's titles (docs/deploy.md lists them).
ROLES = {
    "roles/container.admin": "Kubernetes Engine Admin",
    "roles/compute.networkAdmin": "Compute Network Admin",
    "roles/compute.storageAdmin": "Compute Storage Admin",
    "roles/compute.loadBalancerAdmin": "Compute Load Balancer Admin",
    "roles/iam.serviceAccountAdmin": "Service Account Admin",
    "roles/iam.serviceAccountUser": "Service Account User",
    "roles/resourcemanager.projectIamAdmin": "Project IAM Admin",
    "roles/pubsub.admin": "Pub/Sub Admin",
    "roles/billing.costsManager": "Billing Account Costs Manager",
    "roles/iam.roleAdmin": "Role Administrator",
    "roles/storage.admin": "Storage Admin",
    "roles/cloudfunctions.admin": "Cloud Functions Admin",
}

#: What testIamPermissions answers for at most, per call.
BATCH = 100
TEST_URL = "https://cloudresourcemanager.googleapis.com/v1/projects/{project}:testIamPermissions"

CRUD = ("create", "get", "update", "delete")
#: Kubernetes verbs as GKE's IAM names them (patch and apply are ``update``).
KUBE_VERBS = ("create", "get", "list", "update", "delete")
#: IAM's resource names of the kinds gridcloud's Plans create, by ``group/Kind`` (as
#: :data:`gridcloud.catalog.charts.CHARTS` spells them). A kind not here is a custom
#: resource: ``container.thirdPartyObjects``.
KUBE_RESOURCES = {
    "/ConfigMap": "configMaps",
    "/LimitRange": "limitRanges",
    "/Namespace": "namespaces",
    "/PersistentVolume": "persistentVolumes",
    "/PersistentVolumeClaim": "persistentVolumeClaims",
    "/ResourceQuota": "resourceQuotas",
    "/Secret": "secrets",
    "/Service": "services",
    "/ServiceAccount": "serviceAccounts",
    "apiextensions.k8s.io/CustomResourceDefinition": "customResourceDefinitions",
    "apps/DaemonSet": "daemonSets",
    "apps/Deployment": "deployments",
    "apps/StatefulSet": "statefulSets",
    "batch/CronJob": "cronJobs",
    "batch/Job": "jobs",
    "cloud.google.com/BackendConfig": "backendConfigs",
    "networking.gke.io/FrontendConfig": "frontendConfigs",
    "networking.gke.io/ManagedCertificate": "managedCertificates",
    "networking.k8s.io/Ingress": "ingresses",
    "networking.k8s.io/NetworkPolicy": "networkPolicies",
    "rbac.authorization.k8s.io/ClusterRole": "clusterRoles",
    "rbac.authorization.k8s.io/ClusterRoleBinding": "clusterRoleBindings",
    "rbac.authorization.k8s.io/Role": "roles",
    "rbac.authorization.k8s.io/RoleBinding": "roleBindings",
    "scheduling.k8s.io/PriorityClass": "priorityClasses",
    "storage.k8s.io/CSIDriver": "csiDrivers",
    "storage.k8s.io/StorageClass": "storageClasses",
}
CUSTOM = "thirdPartyObjects"
#: Creating a role, or binding one, whose rules the creator's own rights do not cover.
RBAC_EXTRA = {"roles": ("bind", "escalate"), "clusterRoles": ("bind", "escalate")}
#: What Pulumi and Helm read while they wait for workloads to be ready.
WAITING = ("pods", "replicaSets", "endpoints", "events")


@dataclass(frozen=True)
class Need:
    permission: str
    role: str
    """A predefined role that grants it (one of :data:`ROLES`)."""
    why: tuple[str, ...]
    """The parts of the Plan that need it."""
    scope: Scope = "project"


class _Needs:
    def __init__(self) -> None:
        self.found: dict[str, Need] = {}

    def add(
        self, why: str, role: str, permissions: Iterable[str], scope: Scope = "project"
    ) -> None:
        for permission in permissions:
            known = self.found.get(permission)
            if known is None:
                self.found[permission] = Need(permission, role, (why,), scope)
            elif why not in known.why:
                self.found[permission] = Need(permission, known.role, (*known.why, why), scope)

    def crud(self, why: str, role: str, resource: str, *extra: str) -> None:
        self.add(why, role, [f"{resource}.{verb}" for verb in (*CRUD, *extra)])


def kube_kinds(plan: Plan) -> set[str]:
    """Every ``group/Kind`` the Plan creates or patches in the cluster: namespaces, priority
    classes, the Secrets (OIDC, generated passwords; Helm keeps each release's state in
    one), the charts' kinds (:data:`gridcloud.catalog.charts.CHARTS`), every manifest
    gridcloud applies itself (``services.manifests``: its objects, the grid site's account
    and RBAC, REANA's NFS server and volume, what follows a release), and the patches."""
    from gridcloud.catalog.charts import CHARTS

    services = plan.services
    kinds: set[str] = set()
    if services.namespaces:
        kinds.add("/Namespace")
    if services.priority_classes:
        kinds.add("scheduling.k8s.io/PriorityClass")
    if services.oidc_secret is not None or services.generated_secrets or services.releases:
        kinds.add("/Secret")
    for release in services.releases:
        kinds.update(CHARTS[release.chart_key].kinds)
    patches = (patch.manifest for patch in services.patches)
    for body in (*services.manifests, *patches):
        group = str(body["apiVersion"]).rpartition("/")[0]
        kinds.add(f"{group}/{body['kind']}")
    return kinds


def _kubernetes(needs: _Needs, plan: Plan) -> None:
    role = "roles/container.admin"
    for kind in sorted(kube_kinds(plan)):
        resource = KUBE_RESOURCES.get(kind, CUSTOM)
        verbs = (*KUBE_VERBS, *RBAC_EXTRA.get(resource, ()))
        needs.add(
            f"Kubernetes objects: {kind.lstrip('/')}",
            role,
            [f"container.{resource}.{verb}" for verb in verbs],
        )
    for resource in WAITING:
        needs.add(
            "waiting for workloads (pods, events)",
            role,
            [f"container.{resource}.get", f"container.{resource}.list"],
        )


def needs(plan: Plan) -> list[Need]:
    """Every permission ``up`` and ``destroy`` need for ``plan`` on Google Cloud (none on an
    existing cluster: ``check`` asks the cluster there), in a stable order."""
    if plan.target.provider != "gcp":
        return []
    assert plan.cluster is not None
    found = _Needs()
    net = "roles/compute.networkAdmin"
    found.crud("network: VPC", net, "compute.networks", "updatePolicy")
    found.crud("network: subnet", net, "compute.subnetworks")
    found.crud("network: Cloud Router and NAT", net, "compute.routers")
    found.add("network: operations", net, ["compute.globalOperations.get"])
    found.add("network: operations", net, ["compute.regionOperations.get"])
    found.crud("node account", "roles/iam.serviceAccountAdmin", "iam.serviceAccounts")
    if plan.cluster.node_roles:
        found.add(
            "node account's project roles",
            "roles/resourcemanager.projectIamAdmin",
            ["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"],
        )
    gke = "roles/container.admin"
    found.crud("cluster", gke, "container.clusters")
    found.add("cluster and node pools: operations", gke, ["container.operations.get"])
    # GKE's API has no node pool permissions: a pool is created, changed and deleted with
    # container.clusters.update
    found.add("node pools", gke, ["container.clusters.get", "container.clusters.update"])
    found.add(
        "cluster and node pools: run as the node account",
        "roles/iam.serviceAccountUser",
        ["iam.serviceAccounts.actAs"],
    )
    if any(entry.address is not None for entry in plan.services.ingresses):
        # no update: a global address's labels change through setLabels
        found.add(
            "HTTPS addresses",
            net,
            [
                f"compute.globalAddresses.{verb}"
                for verb in ("create", "get", "delete", "setLabels")
            ],
        )
    _kubernetes(found, plan)
    _leftovers(found)
    _data(found, plan)
    _multikueue(found, plan)
    budget = plan.budget
    if budget is not None and budget.topic is not None:
        found.add(
            "budget: its project's number",
            "roles/pubsub.admin",
            ["resourcemanager.projects.get"],
        )
        found.crud("budget topic", "roles/pubsub.admin", "pubsub.topics")
        found.add(
            # documented for setIamPolicy (Cloud Billing grants itself the right to publish);
            # getIamPolicy for that read-modify-write of the topic's policy
            "budget notifying its topic",
            "roles/pubsub.admin",
            ["pubsub.topics.getIamPolicy", "pubsub.topics.setIamPolicy"],
        )
        found.add("budget", "roles/billing.costsManager", billing_permissions(), "billing account")
        if budget.cap is not None:
            _enforcer(found)
    return list(found.found.values())


def _data(needs: _Needs, plan: Plan) -> None:
    """The facility bucket, its IAM grants and Rucio's signing account
    (``gridcloud.program.storage``)."""
    data = plan.data
    if data is None or data.bucket is None:
        return
    admin = "roles/storage.admin"
    needs.crud("data: facility bucket", admin, "storage.buckets")
    if data.rucio is not None or data.workload_access:
        needs.add(
            "data: the bucket's IAM grants",
            admin,
            ["storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy"],
        )
    if data.workload_access:
        # as the budget reads it (roles/pubsub.admin carries it among those named here)
        needs.add(
            "data: the project's number (Workload Identity principals)",
            "roles/pubsub.admin",
            ["resourcemanager.projects.get"],
        )
    if data.rucio is not None:
        needs.crud(
            "data: Rucio's signing account", "roles/iam.serviceAccountAdmin", "iam.serviceAccounts"
        )


def _multikueue(needs: _Needs, plan: Plan) -> None:
    """MultiKueue's Google identity (``gridcloud.program.multikueue``): its account, who may
    mint its tokens, its role on the workers' projects (this project's policy checked here)."""
    if plan.multikueue is None:
        return
    admin = "roles/iam.serviceAccountAdmin"
    needs.crud("multikueue: the manager's account", admin, "iam.serviceAccounts")
    needs.add(
        "multikueue: who may mint the account's tokens",
        admin,
        ["iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy"],
    )
    needs.add(
        "multikueue: the account's role on the workers' projects",
        "roles/resourcemanager.projectIamAdmin",
        ["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"],
    )
    needs.add(
        "multikueue: the project's number (Workload Identity principal)",
        "roles/pubsub.admin",
        ["resourcemanager.projects.get"],
    )


def _leftovers(needs: _Needs) -> None:
    """What ``destroy`` lists and deletes after Pulumi (``gridcloud.engine.leftovers``)."""
    why = "destroy: leftover disks, addresses, forwarding rules, snapshots"
    storage, net = "roles/compute.storageAdmin", "roles/compute.networkAdmin"
    for resource, role in (
        ("compute.disks", storage),
        ("compute.snapshots", storage),
        ("compute.addresses", net),
        ("compute.globalAddresses", net),
        ("compute.forwardingRules", net),
    ):
        needs.add(why, role, [f"{resource}.list", f"{resource}.delete"])
    ingress = "destroy: the load balancer parts GKE's Ingress controller left"
    for resource in (
        "globalForwardingRules",
        "targetHttpProxies",
        "targetHttpsProxies",
        "urlMaps",
        "backendServices",
        "healthChecks",
    ):
        needs.add(ingress, net, [f"compute.{resource}.list", f"compute.{resource}.delete"])
    needs.add(ingress, net, ["compute.networkEndpointGroups.list", "compute.sslCertificates.list"])
    # deleting the NEGs and certificates: Compute Network Admin lists them, only Compute
    # Load Balancer Admin (of the roles named here) deletes them
    needs.add(
        ingress,
        "roles/compute.loadBalancerAdmin",
        ["compute.networkEndpointGroups.delete", "compute.sslCertificates.delete"],
    )
    needs.add(why, storage, ["compute.zoneOperations.get"])
    needs.add(why, net, ["compute.regionOperations.get", "compute.globalOperations.get"])


def _enforcer(needs: _Needs) -> None:
    """The hard cap (``gridcloud.program.budget``): its account, custom role and binding, the
    bucket with its source, the Cloud Function and its Cloud Run invoker binding."""
    needs.crud("cap: enforcer account", "roles/iam.serviceAccountAdmin", "iam.serviceAccounts")
    # a role deleted less than 37 days ago keeps its ID: the provider undeletes it
    needs.crud("cap: enforcer's custom role", "roles/iam.roleAdmin", "iam.roles", "undelete")
    needs.add(
        "cap: enforcer's role binding",
        "roles/resourcemanager.projectIamAdmin",
        ["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"],
    )
    needs.crud("cap: source bucket", "roles/storage.admin", "storage.buckets")
    # the bucket is force-destroyed: its objects are listed and deleted
    needs.add(
        "cap: source archive",
        "roles/storage.admin",
        ["storage.objects.create", "storage.objects.get", "storage.objects.list"],
    )
    needs.add("cap: source archive", "roles/storage.admin", ["storage.objects.delete"])
    fn = "roles/cloudfunctions.admin"
    needs.crud("cap: enforcer function", fn, "cloudfunctions.functions")
    needs.add("cap: enforcer function", fn, ["cloudfunctions.operations.get"])
    # Cloud Functions makes the function's Eventarc trigger on the topic as the deployer
    # (Cloud Functions Developer and Admin carry these for that)
    needs.crud("cap: enforcer function's Eventarc trigger", fn, "eventarc.triggers")
    needs.add(
        "cap: enforcer function runs and is triggered as its account",
        "roles/iam.serviceAccountUser",
        ["iam.serviceAccounts.actAs"],
    )
    needs.add(
        "cap: Eventarc may invoke the function (Cloud Run invoker binding)",
        fn,
        ["run.services.getIamPolicy", "run.services.setIamPolicy"],
    )


def billing_permissions() -> tuple[str, ...]:
    """On the billing account: create, read, change and delete the facility's budget."""
    return tuple(f"billing.budgets.{verb}" for verb in CRUD)


def project_permissions(plan: Plan) -> list[str]:
    """The permissions to test on the project, sorted."""
    return sorted(n.permission for n in needs(plan) if n.scope == "project")


def _test(project: str, permissions: list[str], creds: Credentials) -> set[str]:
    """The subset of ``permissions`` the caller holds on ``project``, asked in batches of
    :data:`BATCH` (the API's limit per call)."""
    from google.auth.transport.requests import AuthorizedSession

    session = AuthorizedSession(creds)  # type: ignore[no-untyped-call]
    granted: set[str] = set()
    try:
        for start in range(0, len(permissions), BATCH):
            response = session.post(
                TEST_URL.format(project=project),
                json={"permissions": permissions[start : start + BATCH]},
                timeout=60,
            )
            if response.status_code != 200:
                raise UnansweredError(_error_message(response))
            granted.update(response.json().get("permissions", []))
    finally:
        session.close()  # type: ignore[no-untyped-call]
    return granted


class UnansweredError(Exception):
    """testIamPermissions did not answer."""


def _error_message(response: requests.Response) -> str:
    """Google's error as ``HTTP 403: message (REASON)``."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    message = error.get("message") or error.get("status") or ""
    reasons = [d["reason"] for d in error.get("details", []) if d.get("reason")]
    text = f"HTTP {response.status_code}" + (f": {message}" if message else "")
    return f"{text} ({reasons[0]})" if reasons else text


def check(plan: Plan, creds: Credentials) -> CheckResult:
    """The ``permissions`` check: each permission the caller lacks on the project, with the
    part of the Plan that needs it and the role that grants it."""
    from gridcloud.google_errors import classify, failures, first_line

    assert plan.target.provider == "gcp"
    project = plan.target.project
    wanted = [n for n in needs(plan) if n.scope == "project"]
    names = project_permissions(plan)
    unanswered: tuple[type[BaseException], ...] = (UnansweredError, *failures())
    try:
        granted = _test(project, names, creds)
    except unanswered as error:
        failure = classify(error, project)
        disabled = "SERVICE_DISABLED" in str(error)
        said = first_line(error) if failure is None else failure.message
        fix = "check that the project exists and that you may see it"
        if disabled:
            fix = f"gcloud services enable cloudresourcemanager.googleapis.com --project {project}"
        elif failure is not None and failure.family not in ("permission", "not-found"):
            fix = failure.hint
        return CheckResult(
            id="permissions",
            status="warn",
            title="permissions",
            detail=f"not verified: cannot test your permissions on {project}: {said}",
            fix=fix,
        )
    missing = [n for n in sorted(wanted, key=lambda n: n.permission) if n.permission not in granted]
    if not missing:
        return CheckResult(
            id="permissions",
            status="ok",
            title="permissions",
            detail=f"all {len(names)} permissions up needs on {project} are yours",
        )
    by_role: dict[str, list[str]] = {}
    for need in missing:
        by_role.setdefault(need.role, []).append(need.permission)
    return CheckResult(
        id="permissions",
        status="fail",
        title="permissions",
        detail=f"{len(missing)} of {len(names)} permissions up needs on {project} are "
        "missing: " + "; ".join(f"{n.permission} ({', '.join(n.why)})" for n in missing),
        fix=f"ask a project owner to grant you on {project}: "
        + "; ".join(
            f"{ROLES[role]} ({role}) for {', '.join(perms)}"
            for role, perms in sorted(by_role.items())
        ),
    )
