"""The deployer's permissions: the list ``up`` needs for a Plan, held to lists worked by hand
from the resources each profile creates and to the resource types the program really creates
(its committed snapshots under Pulumi's mocks); the roles docs/deploy.md lists, held to a
snapshot of Google's predefined roles; and the ``permissions`` check, through google-auth's
real authorized session against Cloud Resource Manager's ``testIamPermissions`` answered in
its real shape (``responses``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gridcloud.analysis import analyse
from gridcloud.check.permissions import ROLES, check, needs, project_permissions
from gridcloud.plan import Plan
from tests.conftest import PROFILES, ROOT, TOKEN_ANSWER, TOKEN_URL, require, write_adc

responses = require("responses")

RECORDED = Path(__file__).with_name("recorded") / "permissions"
SNAPSHOTS = ROOT / "tests" / "program" / "snapshots"
TEST_URL = re.compile(
    r"https://cloudresourcemanager\.googleapis\.com/v1/projects/([a-z0-9-]+):testIamPermissions$"
)

# What each part of the facility needs, by hand from the resources the program creates
# (gridcloud/program) and the calls the provider makes for them: create, get, update,
# delete, and the operations it polls.
NETWORK = {
    *(f"compute.networks.{v}" for v in ("create", "get", "update", "delete", "updatePolicy")),
    *(f"compute.subnetworks.{v}" for v in ("create", "get", "update", "delete")),
    *(f"compute.routers.{v}" for v in ("create", "get", "update", "delete")),  # and the NAT
    "compute.globalOperations.get",
    "compute.regionOperations.get",
}
NODE_ACCOUNT = {
    *(f"iam.serviceAccounts.{v}" for v in ("create", "get", "update", "delete")),
    "iam.serviceAccounts.actAs",  # the cluster and pools run their nodes as it
    "resourcemanager.projects.getIamPolicy",  # its project role
    "resourcemanager.projects.setIamPolicy",
}
CLUSTER = {  # node pools are container.clusters.update
    *(f"container.clusters.{v}" for v in ("create", "get", "update", "delete")),
    "container.operations.get",
}
# the Compute API has no update of a global address: its labels change through setLabels
ADDRESSES = {f"compute.globalAddresses.{v}" for v in ("create", "get", "delete", "setLabels")}
LEFTOVERS = {  # destroy: gridcloud/engine/leftovers.py lists and deletes these
    *(
        f"compute.{r}.{v}"
        for r in ("disks", "snapshots", "addresses", "globalAddresses", "forwardingRules")
        for v in ("list", "delete")
    ),
    # what GKE's Ingress controller builds: listed and deleted (its NEGs and certificates
    # with Compute Load Balancer Admin: docs/deploy.md)
    *(
        f"compute.{r}.{v}"
        for r in (
            "globalForwardingRules",
            "targetHttpProxies",
            "targetHttpsProxies",
            "urlMaps",
            "backendServices",
            "healthChecks",
        )
        for v in ("list", "delete")
    ),
    *(
        f"compute.{r}.{v}"
        for r in ("networkEndpointGroups", "sslCertificates")
        for v in ("list", "delete")
    ),
    "compute.zoneOperations.get",
    "compute.regionOperations.get",
    "compute.globalOperations.get",
}
BUDGET = {
    "resourcemanager.projects.get",  # the project's number for the budget's filter
    *(f"pubsub.topics.{v}" for v in ("create", "get", "update", "delete")),
    "pubsub.topics.getIamPolicy",  # the Budget API needs it on the topic it notifies
    "pubsub.topics.setIamPolicy",
}
CAP = {
    *(f"iam.roles.{v}" for v in ("create", "get", "update", "delete", "undelete")),
    *(f"storage.buckets.{v}" for v in ("create", "get", "update", "delete")),
    *(f"storage.objects.{v}" for v in ("create", "get", "list", "delete")),
    *(f"cloudfunctions.functions.{v}" for v in ("create", "get", "update", "delete")),
    "cloudfunctions.operations.get",
    # the function's trigger on the topic, which Cloud Functions makes as the caller
    *(f"eventarc.triggers.{v}" for v in ("create", "get", "update", "delete")),
    "run.services.getIamPolicy",  # the invoker binding on the function's Cloud Run service
    "run.services.setIamPolicy",
}
BILLING_ACCOUNT = {f"billing.budgets.{v}" for v in ("create", "get", "update", "delete")}
# the facility bucket (gridcloud/program/storage.py), its IAM grants to the pods and to
# Rucio's account; the account itself and the project's number are in NODE_ACCOUNT and BUDGET
DATA = {
    *(f"storage.buckets.{v}" for v in ("create", "get", "update", "delete")),
    "storage.buckets.getIamPolicy",
    "storage.buckets.setIamPolicy",
    "resourcemanager.projects.get",
    *(f"iam.serviceAccounts.{v}" for v in ("create", "get", "update", "delete")),
}

# Kubernetes objects, by IAM's resource names: what the small profile's two charts render
# (jupyterhub: config maps, secrets, services, accounts, the hub's claim, deployments,
# network policies, a Role and binding; dask-gateway: the same core kinds, a ClusterRole and
# binding, its CRD and Traefik's IngressRoute and Middleware, custom: thirdPartyObjects),
# gridcloud's namespaces, priority classes and home-disk StorageClass, and each hostname's
# Ingress, ManagedCertificate, FrontendConfig and BackendConfig.
SMALL_KINDS = {
    "namespaces",
    "priorityClasses",
    "storageClasses",
    "secrets",
    "configMaps",
    "services",
    "serviceAccounts",
    "persistentVolumeClaims",
    "deployments",
    "networkPolicies",
    "roles",
    "roleBindings",
    "clusterRoles",
    "clusterRoleBindings",
    "customResourceDefinitions",
    "thirdPartyObjects",
    "ingresses",
    "managedCertificates",
    "frontendConfigs",
    "backendConfigs",
    "cronJobs",  # the backups' schedule (its snapshot class: a thirdPartyObject)
}
# The default profile adds cvmfs-csi (a DaemonSet, its CSIDriver), REANA (a StatefulSet, its
# CronJobs, its first-run Job), REANA's NFS volume, its LimitRange and the grid site's quota.
DEFAULT_KINDS = SMALL_KINDS | {
    "daemonSets",
    "csiDrivers",
    "statefulSets",
    "cronJobs",
    "jobs",
    "persistentVolumes",
    "limitRanges",
    "resourceQuotas",
}


def kubernetes(kinds: set[str]) -> set[str]:
    verbs = ("create", "get", "list", "update", "delete")
    found = {f"container.{k}.{v}" for k in kinds for v in verbs}
    found |= {f"container.{k}.{v}" for k in ("roles", "clusterRoles") for v in ("bind", "escalate")}
    # Pulumi and Helm wait for pods
    found |= {
        f"container.{k}.{v}"
        for k in ("pods", "replicaSets", "endpoints", "events")
        for v in ("get", "list")
    }
    return found


BASE = NETWORK | NODE_ACCOUNT | CLUSTER | ADDRESSES | LEFTOVERS


def _plan(name: str) -> Plan:
    return analyse(PROFILES / f"{name}.yaml").plan


@pytest.fixture
def budget_without_cap(make_plan: Callable[..., Plan]) -> Plan:
    def no_cap(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False

    plan = make_plan(no_cap)
    assert plan.budget is not None
    assert plan.budget.topic is not None
    assert plan.budget.cap is None
    return plan


def _billing(plan: Plan) -> set[str]:
    return {n.permission for n in needs(plan) if n.scope == "billing account"}


def test_the_small_profile_needs_the_cluster_and_nothing_of_a_budget() -> None:
    plan = _plan("small")
    assert set(project_permissions(plan)) == BASE | kubernetes(SMALL_KINDS)
    assert len(project_permissions(plan)) == 174
    assert _billing(plan) == set()


def test_the_default_profile_needs_the_budget_and_the_cap_too() -> None:
    plan = _plan("default")
    assert set(project_permissions(plan)) == BASE | BUDGET | CAP | DATA | kubernetes(DEFAULT_KINDS)
    assert len(project_permissions(plan)) == 242
    assert _billing(plan) == BILLING_ACCOUNT


def test_a_budget_without_a_cap_needs_no_function(budget_without_cap: Plan) -> None:
    assert set(project_permissions(budget_without_cap)) == (
        BASE | BUDGET | DATA | kubernetes(DEFAULT_KINDS)
    )
    assert _billing(budget_without_cap) == BILLING_ACCOUNT
    assert not [p for p in project_permissions(budget_without_cap) if p.startswith("run.")]


def test_an_existing_cluster_needs_no_google_permission() -> None:
    assert needs(_plan("onprem")) == []


def test_each_permission_says_what_needs_it() -> None:
    by_name = {n.permission: n for n in needs(_plan("default"))}
    assert "budget notifying its topic" in by_name["pubsub.topics.setIamPolicy"].why
    assert by_name["run.services.setIamPolicy"].why == (
        "cap: Eventarc may invoke the function (Cloud Run invoker binding)",
    )
    assert set(by_name["iam.serviceAccounts.actAs"].why) == {
        "cluster and node pools: run as the node account",
        "cap: enforcer function runs and is triggered as its account",
    }
    assert by_name["billing.budgets.create"].scope == "billing account"


# What the provider calls for each resource type the program creates, by hand (create, read
# and delete; updates aside): every type in the program's snapshots must be here, so a new
# kind of resource cannot reach the program without its permissions reaching the list.
PROVIDER_CALLS = {
    "gcp:compute/network:Network": {"compute.networks.create", "compute.networks.delete"},
    "gcp:compute/subnetwork:Subnetwork": {
        "compute.subnetworks.create",
        "compute.subnetworks.delete",
        "compute.networks.updatePolicy",  # a subnet is added to its network
    },
    "gcp:compute/router:Router": {"compute.routers.create", "compute.routers.delete"},
    "gcp:compute/routerNat:RouterNat": {"compute.routers.get", "compute.routers.update"},
    "gcp:compute/globalAddress:GlobalAddress": {
        "compute.globalAddresses.create",
        "compute.globalAddresses.delete",
    },
    "gcp:container/cluster:Cluster": {
        "container.clusters.create",
        "container.clusters.delete",
        "iam.serviceAccounts.actAs",
    },
    "gcp:container/nodePool:NodePool": {"container.clusters.update", "iam.serviceAccounts.actAs"},
    "gcp:serviceaccount/account:Account": {
        "iam.serviceAccounts.create",
        "iam.serviceAccounts.delete",
    },
    "gcp:projects/iAMMember:IAMMember": {
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": {"iam.roles.create", "iam.roles.delete"},
    "gcp:pubsub/topic:Topic": {"pubsub.topics.create", "pubsub.topics.delete"},
    "gcp:billing/budget:Budget": {
        "billing.budgets.create",
        "billing.budgets.delete",
        "pubsub.topics.setIamPolicy",
    },
    "gcp:storage/bucket:Bucket": {"storage.buckets.create", "storage.buckets.delete"},
    # a member added to the bucket's IAM policy: read, modify, write it back
    "gcp:storage/bucketIAMMember:BucketIAMMember": {
        "storage.buckets.getIamPolicy",
        "storage.buckets.setIamPolicy",
    },
    "gcp:storage/bucketObject:BucketObject": {"storage.objects.create", "storage.objects.delete"},
    "gcp:cloudfunctionsv2/function:Function": {
        "cloudfunctions.functions.create",
        "cloudfunctions.functions.delete",
        "iam.serviceAccounts.actAs",
    },
    "gcp:cloudrun/iamMember:IamMember": {
        "run.services.getIamPolicy",
        "run.services.setIamPolicy",
    },
}


def _iam_resource(kind: str) -> str:
    """Kubernetes kind -> IAM's resource name (``PriorityClass`` -> ``priorityClasses``)."""
    name = kind[0].lower() + kind[1:]
    if name.endswith("y"):
        return name[:-1] + "ies"
    return name + ("es" if name.endswith("s") else "s")


@pytest.mark.parametrize("profile", ["default", "small"])
def test_every_resource_the_program_creates_has_its_permissions(profile: str) -> None:
    types = {r["type"] for r in json.loads((SNAPSHOTS / f"{profile}.json").read_text())}
    listed = {n.permission for n in needs(_plan(profile))}
    google = {t for t in types if t.startswith("gcp:")}
    assert google - PROVIDER_CALLS.keys() == set(), "a resource type with no permissions here"
    for kind in google:
        assert PROVIDER_CALLS[kind] <= listed, kind
    # Kubernetes objects of gridcloud's own (Helm's come from the charts' kinds)
    for kind in types:
        if not kind.startswith("kubernetes:") or kind.endswith(":Release"):
            continue
        name = kind.rsplit(":", 1)[1]
        verb = "update" if name.endswith("Patch") else "create"
        permission = f"container.{_iam_resource(name.removesuffix('Patch'))}.{verb}"
        if name == "VolumeSnapshotClass":  # a custom kind: IAM's thirdPartyObjects (backups)
            permission = f"container.thirdPartyObjects.{verb}"
        assert permission in listed, kind


# -- the roles ------------------------------------------------------------------------------


def _predefined() -> dict[str, dict[str, Any]]:
    roles = json.loads((RECORDED / "predefined-roles.json").read_text())
    return {r["name"]: r for r in roles}


def _granted(roles: set[str]) -> set[str]:
    predefined = _predefined()
    return {p for r in roles for p in predefined[r]["includedPermissions"]}


@pytest.mark.parametrize("profile", ["default", "small", "onprem"])
def test_the_role_named_for_each_permission_grants_it(profile: str) -> None:
    predefined = _predefined()
    for role, title in ROLES.items():
        assert predefined[role]["title"] == title
    for need in needs(_plan(profile)):
        assert need.permission in predefined[need.role]["includedPermissions"], need


def _documented_roles() -> dict[str, str]:
    """docs/deploy.md's table of the deployer's roles: role -> when."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("### The deployer's roles", 1)[1].split("\n#", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        role = re.match(r"`(roles/[A-Za-z.]+)`", cells[0]) if len(cells) == 3 else None
        if role is not None:
            found[role[1]] = cells[1]
    return found


def test_the_docs_list_the_roles_the_code_names() -> None:
    documented = _documented_roles()
    assert set(documented) == set(ROLES)
    assert {when for cell in documented.values() for when in cell.split("; ")} == {
        "always",
        "with `budget.billingAccount`",
        "with `hardCap`",
        "with `data.bucket.enabled`",
    }


def _roles_for(plan: Plan) -> set[str]:
    """The roles docs/deploy.md asks for, for this Plan."""
    wanted = {"always"}
    if plan.budget is not None and plan.budget.topic is not None:
        wanted.add("with `budget.billingAccount`")
        if plan.budget.cap is not None:
            wanted.add("with `hardCap`")
    if plan.data is not None and plan.data.bucket is not None:
        wanted.add("with `data.bucket.enabled`")
    return {role for role, when in _documented_roles().items() if set(when.split("; ")) & wanted}


def test_the_documented_roles_grant_everything_up_needs(budget_without_cap: Plan) -> None:
    for plan in (_plan("default"), _plan("small"), budget_without_cap):
        wanted = {n.permission for n in needs(plan)}
        missing = wanted - _granted(_roles_for(plan))
        assert missing == set(), (plan.name, sorted(missing))


def test_the_roles_the_docs_used_to_list_could_not_deploy_the_budget() -> None:
    """Issue 18: Pub/Sub Editor and Cloud Functions Developer instead of the admins, and
    nothing to list or delete the leftover disks and snapshots with."""
    before = {
        "roles/container.admin",
        "roles/compute.networkAdmin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountUser",
        "roles/resourcemanager.projectIamAdmin",
        "roles/billing.costsManager",
        "roles/cloudfunctions.developer",
        "roles/pubsub.editor",
        "roles/storage.admin",
        "roles/iam.roleAdmin",
    }
    wanted = {n.permission for n in needs(_plan("default"))}
    assert wanted - _granted(before) == {
        "pubsub.topics.getIamPolicy",
        "pubsub.topics.setIamPolicy",
        "run.services.setIamPolicy",
        "compute.disks.list",
        "compute.disks.delete",
        "compute.snapshots.list",
        "compute.snapshots.delete",
        # and the Ingress load balancers' NEGs and certificates (Compute Load Balancer Admin)
        "compute.networkEndpointGroups.delete",
        "compute.sslCertificates.delete",
    }


# -- the check against testIamPermissions ---------------------------------------------------


class Project:
    """What the fake Cloud Resource Manager grants, and what it was asked."""

    def __init__(self) -> None:
        self.granted: set[str] | None = None
        """None: everything asked."""
        self.batches: list[list[str]] = []
        self.error: tuple[int, str] | None = None
        self.unreachable = False


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    adc = write_adc(tmp_path / "adc.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    state = Project()

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if state.unreachable:
            raise requests.ConnectionError(
                "Failed to resolve 'cloudresourcemanager.googleapis.com'"
            )
        assert request.headers["Authorization"] == f"Bearer {TOKEN_ANSWER['access_token']}"
        if state.error is not None:
            status, name = state.error
            return status, {}, (RECORDED / name).read_text()
        asked = json.loads(request.body)["permissions"]
        state.batches.append(asked)
        if len(asked) > 100:  # what the API answers past its limit
            return 400, {}, json.dumps({"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
        held = [p for p in asked if state.granted is None or p in state.granted]
        # the API leaves the list out when nothing is granted
        return 200, {}, json.dumps({"permissions": held} if held else {})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json=TOKEN_ANSWER)
        mock.add_callback(responses.POST, TEST_URL, callback=answer)
        yield state


def _creds() -> Any:
    import google.auth

    return google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])[0]


def test_an_owner_passes_in_batches_of_a_hundred(project: Project) -> None:
    plan = _plan("default")
    found = check(plan, _creds())
    assert found.status == "ok"
    assert found.detail == "all 242 permissions up needs on atlas-analysis-facility are yours"
    assert [len(b) for b in project.batches] == [100, 100, 42]
    assert sorted(p for b in project.batches for p in b) == sorted(
        BASE | BUDGET | CAP | DATA | kubernetes(DEFAULT_KINDS)
    )


def test_the_issue_18_deployer_is_told_what_it_lacks_and_which_role_grants_it(
    project: Project,
) -> None:
    project.granted = _granted(
        {
            "roles/container.admin",
            "roles/compute.networkAdmin",
            "roles/compute.storageAdmin",
            "roles/iam.serviceAccountAdmin",
            "roles/iam.serviceAccountUser",
            "roles/resourcemanager.projectIamAdmin",
            "roles/cloudfunctions.developer",
            "roles/pubsub.editor",
            "roles/storage.admin",
            "roles/iam.roleAdmin",
        }
    )
    found = check(_plan("default"), _creds())
    assert found.status == "fail"
    assert found.detail == (
        "5 of 242 permissions up needs on atlas-analysis-facility are missing: "
        "compute.networkEndpointGroups.delete (destroy: the load balancer parts GKE's Ingress "
        "controller left); "
        "compute.sslCertificates.delete (destroy: the load balancer parts GKE's Ingress "
        "controller left); "
        "pubsub.topics.getIamPolicy (budget notifying its topic); "
        "pubsub.topics.setIamPolicy (budget notifying its topic); "
        "run.services.setIamPolicy (cap: Eventarc may invoke the function (Cloud Run invoker "
        "binding))"
    )
    assert found.fix == (
        "ask a project owner to grant you on atlas-analysis-facility: "
        "Cloud Functions Admin (roles/cloudfunctions.admin) for run.services.setIamPolicy; "
        "Compute Load Balancer Admin (roles/compute.loadBalancerAdmin) for "
        "compute.networkEndpointGroups.delete, compute.sslCertificates.delete; "
        "Pub/Sub Admin (roles/pubsub.admin) for pubsub.topics.getIamPolicy, "
        "pubsub.topics.setIamPolicy"
    )


def test_nothing_granted_lists_everything(project: Project) -> None:
    project.granted = set()
    found = check(_plan("small"), _creds())
    assert found.status == "fail"
    assert found.detail.startswith("174 of 174 permissions up needs")
    assert "roles/container.admin" in found.fix
    assert "roles/pubsub.admin" not in found.fix  # no budget in the small profile


def test_an_api_that_is_off_is_not_verified_and_says_how_to_turn_it_on(
    project: Project,
) -> None:
    project.error = (403, "error-service-disabled.json")
    found = check(_plan("small"), _creds())
    assert found.status == "warn"
    assert found.detail.startswith(
        "not verified: cannot test your permissions on my-gridcloud-tryout: HTTP 403: "
        "Cloud Resource Manager API has not been used"
    )
    assert found.detail.endswith("(SERVICE_DISABLED)")
    assert found.fix == (
        "gcloud services enable cloudresourcemanager.googleapis.com --project my-gridcloud-tryout"
    )


def test_no_network_is_not_verified(project: Project) -> None:
    project.unreachable = True
    found = check(_plan("small"), _creds())
    assert found.status == "warn"
    assert "cloudresourcemanager.googleapis.com" in found.detail
