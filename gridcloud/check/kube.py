"""The kubernetes-target half of ``gridcloud check``: the cluster answers, and the user may
create what the Plan installs (a SelfSubjectAccessReview per kind and namespace), through the
official ``kubernetes`` client."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

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


def _group_kind(body: dict[str, Any]) -> str:
    return f"{str(body['apiVersion']).rpartition('/')[0]}/{body['kind']}"


def needed(plan: Plan) -> list[Access]:
    """Every (group, resource, namespace) the Plan creates something in: its namespaces,
    priority classes and Secrets (generated values, the hub's OIDC secret, and Helm's
    record of each release), each chart's kinds, and every manifest gridcloud applies
    itself (``services.manifests``: its objects, the grid site's account and RBAC,
    REANA's NFS server and volume, what follows a release), each in its own namespace."""
    services = plan.services
    wanted: set[Access] = set()
    wanted |= {_access("/Namespace", None)} if services.namespaces else set()
    if services.priority_classes:
        wanted.add(_access("scheduling.k8s.io/PriorityClass", None))
    secrets = {s.namespace for s in services.generated_secrets}
    secrets |= {r.namespace for r in services.releases}  # Helm keeps its release in a Secret
    if services.oidc_secret is not None and "env" in services.oidc_secret:
        secrets.add(services.release("jupyterhub").namespace)
    wanted |= {_access("/Secret", namespace) for namespace in secrets}
    for release in services.releases:
        for group_kind in CHARTS[release.chart_key].kinds:
            wanted.add(_access(group_kind, release.namespace))
    for body in services.manifests:
        wanted.add(_access(_group_kind(body), body["metadata"].get("namespace")))
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
