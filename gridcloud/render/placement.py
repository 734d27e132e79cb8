"""Where a pod can land: its spec (node selector, required node affinity, tolerations)
against each pool's nodes as the cluster will label and taint them, GKE's own labels
included. Pure functions over plain Kubernetes objects, so the rendered manifests and the
pods the services create at run time go through the same rules the scheduler applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridcloud.plan.services.pods import pod_spec

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.plan.model import PoolPlan
    from gridcloud.render.manifests import Rendered


@dataclass(frozen=True)
class Node:
    """A pool's nodes as the scheduler sees them."""

    pool: str
    labels: dict[str, str]
    taints: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Pod:
    owner: str
    """``release: Kind/name``, or what creates it at run time."""
    namespace: str
    spec: dict[str, Any]
    replicas: int = 1
    per_node: bool = False
    """A DaemonSet's pod: one on every node it can land on."""
    runtime: bool = False
    """Created by a service at run time (notebooks, Dask, REANA jobs, pilots)."""
    completes: bool = False
    """A Job's or CronJob's pod: runs to completion, not around the clock."""
    pools: tuple[str, ...] = field(default=())


def nodes(plan: Plan) -> list[Node]:
    """Each pool's nodes: the Plan's labels and taints plus what GKE adds itself. Existing
    nodes (a kubernetes target) are taken to carry the labels the profile selects them by,
    and no other label a pod might select."""
    result = []
    for pool in plan.pools:
        labels = {**pool.labels, **pool.node_selector}
        if plan.on_gcp:
            labels |= _gke_labels(pool)
        result.append(
            Node(
                pool=pool.name,
                labels=labels,
                taints=tuple(t.model_dump() for t in pool.taints),
            )
        )
    return result


def _gke_labels(pool: PoolPlan) -> dict[str, str]:
    labels = {
        "cloud.google.com/gke-nodepool": pool.name,
        "kubernetes.io/arch": pool.arch,
        "kubernetes.io/os": "linux",
    }
    if pool.machine_type:
        labels["node.kubernetes.io/instance-type"] = pool.machine_type
    if pool.spot:
        labels["cloud.google.com/gke-spot"] = "true"
    if pool.accelerator is not None:
        labels["cloud.google.com/gke-accelerator"] = pool.accelerator.type
    return labels


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        operator = t.get("operator", "Equal")
        if not t.get("key"):
            if operator == "Exists":
                return True
            continue
        if t["key"] != taint["key"]:
            continue
        if operator == "Exists" or t.get("value", "") == taint["value"]:
            return True
    return False


def _matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = [str(v) for v in expression.get("values") or []]
    if key not in labels:
        return operator in ("NotIn", "DoesNotExist")
    value = labels[key]
    return {
        "In": value in values,
        "NotIn": value not in values,
        "Exists": True,
        "DoesNotExist": False,
        "Gt": bool(values) and value.isdigit() and int(value) > int(values[0]),
        "Lt": bool(values) and value.isdigit() and int(value) < int(values[0]),
    }[operator]


def can_land(spec: dict[str, Any], node: Node) -> bool:
    """The scheduler's hard rules: every taint NoSchedule/NoExecute tolerated, the node
    selector and the required node affinity satisfied (PreferNoSchedule and preferences
    only steer)."""
    for taint in node.taints:
        if taint["effect"] != "PreferNoSchedule" and not _tolerates(
            spec.get("tolerations") or [], taint
        ):
            return False
    for key, value in (spec.get("nodeSelector") or {}).items():
        if node.labels.get(key) != value:
            return False
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms") or []
    return not required or any(
        all(_matches(e, node.labels) for e in term.get("matchExpressions") or [])
        for term in required
    )


def landing(spec: dict[str, Any], plan_nodes: list[Node]) -> tuple[str, ...]:
    return tuple(n.pool for n in plan_nodes if can_land(spec, n))


def rendered_pods(rendered: list[Rendered]) -> list[Pod]:
    """The pods the releases' workloads run (Helm test hooks left out)."""
    pods = []
    for release in rendered:
        for manifest in release.manifests:
            spec = pod_spec(manifest.body)
            if spec is None:
                continue
            hook = (manifest.body["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
            if "test" in hook:
                continue
            namespace = manifest.body["metadata"].get("namespace") or (
                release.release.namespace if release.release else ""
            )
            pods.append(
                Pod(
                    owner=f"{release.name}: {manifest.kind}/{manifest.name}",
                    namespace=namespace,
                    spec=spec,
                    replicas=int(manifest.body.get("spec", {}).get("replicas", 1) or 0)
                    if manifest.kind in ("Deployment", "StatefulSet", "ReplicaSet")
                    else 1,
                    per_node=manifest.kind == "DaemonSet",
                    completes=manifest.kind in ("Job", "CronJob"),
                )
            )
    return pods


def _quantity_m(value: Any) -> int:
    """CPU in millicores from a Kubernetes quantity."""
    text = str(value)
    if text.endswith("m"):
        return int(float(text[:-1]))
    return round(float(text) * 1000)


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _quantity_mi(value: Any) -> float:
    """Memory in MiB from a Kubernetes quantity."""
    text = str(value)
    for suffix, factor in (_BINARY | _DECIMAL).items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor / 2**20
    return float(text) / 2**20


def requests(spec: dict[str, Any], defaults: dict[str, str] | None = None) -> tuple[int, float]:
    """(millicores, MiB) the scheduler reserves for the pod: its containers' requests (a
    container with only limits requests its limits; ``defaults`` are a LimitRange's default
    requests), or its largest init container when that is more."""

    def one(container: dict[str, Any]) -> tuple[int, float]:
        resources = container.get("resources") or {}
        asked = {**(defaults or {}), **(resources.get("limits") or {})}
        asked |= resources.get("requests") or {}
        cpu = _quantity_m(asked["cpu"]) if "cpu" in asked else 0
        memory = _quantity_mi(asked["memory"]) if "memory" in asked else 0.0
        return cpu, memory

    main = [one(c) for c in spec.get("containers") or []]
    init = [one(c) for c in spec.get("initContainers") or []]
    cpu = sum(c for c, _ in main)
    memory = sum(m for _, m in main)
    return max([cpu, *(c for c, _ in init)]), max([memory, *(m for _, m in init)])


def default_requests(rendered: list[Rendered]) -> dict[str, dict[str, str]]:
    """Each namespace's default container requests, from its LimitRange objects."""
    defaults: dict[str, dict[str, str]] = {}
    for release in rendered:
        for manifest in release.of_kind("LimitRange"):
            namespace = manifest.body["metadata"].get("namespace", "")
            for limit in manifest.body["spec"].get("limits") or []:
                if limit.get("type") == "Container":
                    defaults.setdefault(namespace, {}).update(limit.get("defaultRequest") or {})
    return defaults
