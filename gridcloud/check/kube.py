"""The kubernetes-target half of ``gridcloud check``: the cluster answers, and the user may
create what the Plan installs (a SelfSubjectAccessReview per kind and namespace), through the
official ``kubernetes`` client."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gridcloud.catalog.charts import CHARTS
from gridcloud.check.model import CheckResult

if TYPE_CHECKING:
    from gridcloud.plan import Plan

#: Kinds without a namespace.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "PriorityClass",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CSIDriver",
        "CustomResourceDefinition",
        "PersistentVolume",
    }
)
#: What the program creates itself besides the Plan's objects and the charts: namespaces,
#: priority classes, the grid site's account, Role, binding, quota and token, the hub's OIDC
#: Secret, REANA's NFS server, its claim and volume.
PROGRAM_KINDS = (
    "/Namespace",
    "scheduling.k8s.io/PriorityClass",
    "/Secret",
    "/ServiceAccount",
    "/ResourceQuota",
    "/PersistentVolume",
    "/PersistentVolumeClaim",
    "/Service",
    "apps/Deployment",
    "rbac.authorization.k8s.io/Role",
    "rbac.authorization.k8s.io/RoleBinding",
)


class Access(NamedTuple):
    group: str
    resource: str
    namespace: str | None


def plural(kind: str) -> str:
    """The API resource of a kind (``NetworkPolicy`` -> ``networkpolicies``)."""
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower.endswith("s"):
        return lower + "es"
    return lower + "s"


def _access(group_kind: str, namespace: str | None) -> Access:
    group, _, kind = group_kind.rpartition("/")
    return Access(group, plural(kind), None if kind in CLUSTER_SCOPED else namespace)


def needed(plan: Plan) -> list[Access]:
    """Every (group, resource, namespace) the Plan creates something in."""
    wanted: set[Access] = set()
    namespaces = plan.services.namespaces or ("default",)
    for group_kind in PROGRAM_KINDS:
        for namespace in namespaces:
            wanted.add(_access(group_kind, namespace))
    for release in plan.services.releases:
        for group_kind in CHARTS[release.chart_key].kinds:
            wanted.add(_access(group_kind, release.namespace))
    after = (body for entry in plan.services.after_release for body in entry.manifests)
    for body in (*plan.services.objects, *after):
        group = body["apiVersion"].rpartition("/")[0]
        namespace = body.get("metadata", {}).get("namespace")
        wanted.add(_access(f"{group}/{body['kind']}", namespace))
    return sorted(wanted, key=lambda a: (a.namespace or "", a.group, a.resource))


def check_cluster(plan: Plan) -> list[CheckResult]:
    """Reachable, then allowed; each with what to do."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    assert plan.target.provider == "kubernetes"
    target = plan.target
    where = f"context {target.context} of {target.kubeconfig}"
    try:
        api = config.new_client_from_config(
            config_file=str(Path(target.kubeconfig).expanduser()), context=target.context
        )
        version = client.VersionApi(api).get_code(_request_timeout=15)
    except (ConfigException, OSError, ValueError) as error:  # ValueError: not UTF-8 or YAML
        return [
            CheckResult(
                id="cluster",
                status="fail",
                title="cluster reachable",
                detail=f"cannot use {where}: {error}",
                fix="check target.kubeconfig and target.context (`kubectl config get-contexts`)",
            )
        ]
    except (ApiException, HTTPError) as error:
        return [
            CheckResult(
                id="cluster",
                status="fail",
                title="cluster reachable",
                detail=f"the API server of {where} does not answer: {_short(error)}",
                fix="check the network path and credentials: `kubectl --context "
                f"{target.context} version`",
            )
        ]
    reachable = CheckResult(
        id="cluster",
        status="ok",
        title="cluster reachable",
        detail=f"{where}: Kubernetes {version.git_version}",
    )
    denied: list[str] = []
    wanted = needed(plan)
    authorization = client.AuthorizationV1Api(api)
    try:
        for access in wanted:
            review = authorization.create_self_subject_access_review(
                client.V1SelfSubjectAccessReview(
                    spec=client.V1SelfSubjectAccessReviewSpec(
                        resource_attributes=client.V1ResourceAttributes(
                            verb="create",
                            group=access.group,
                            resource=access.resource,
                            namespace=access.namespace,
                        )
                    )
                ),
                _request_timeout=15,
            )
            if not review.status.allowed:
                scope = f" in {access.namespace}" if access.namespace else ""
                group = f".{access.group}" if access.group else ""
                denied.append(f"{access.resource}{group}{scope}")
    except (ApiException, HTTPError) as error:
        return [
            reachable,
            CheckResult(
                id="access",
                status="fail",
                title="allowed to install",
                detail=f"cannot ask the API server what you may do: {_short(error)}",
                fix="the cluster must serve authorization.k8s.io/v1 SelfSubjectAccessReview",
            ),
        ]
    finally:
        api.close()
    if denied:
        return [
            reachable,
            CheckResult(
                id="access",
                status="fail",
                title="allowed to install",
                detail=f"you may not create: {', '.join(denied)}",
                fix="ask the cluster's administrators for these rights (cluster-admin, or a "
                "ClusterRole with them), or install with an account that has them",
            ),
        ]
    return [
        reachable,
        CheckResult(
            id="access",
            status="ok",
            title="allowed to install",
            detail=f"create allowed on all {len(needed(plan))} kinds and namespaces the Plan uses",
        ),
    ]


def _short(error: BaseException) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None)
    if status:
        return f"HTTP {status} {reason or ''}".strip()
    return str(error).splitlines()[0][:200]
