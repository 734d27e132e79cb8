"""Pods inside manifests: where a workload kind keeps its pod spec, and what a container may
do beyond an unprivileged one. Pure functions over plain Kubernetes objects, read by the
policy (the Plan's own objects) and by ``render`` (every rendered object)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Pod-carrying kinds and where their pod spec sits.
POD_SPEC = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
UNCONFINED_APPARMOR = "AppArmor unconfined"
UNCONFINED_SECCOMP = "seccomp unconfined"


def pod_spec(body: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload object (None for a kind that runs no pod)."""
    path = POD_SPEC.get(str(body.get("kind")))
    if path is None:
        return None
    node: Any = body
    for key in path:
        node = (node or {}).get(key)
    return node if isinstance(node, dict) else None


def containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def rights(spec: dict[str, Any], container: dict[str, Any]) -> set[str]:
    """What ``container`` of a pod may do beyond an unprivileged container: ``privileged``,
    each capability added to the runtime's default set, no AppArmor or seccomp profile (the
    container's own setting, else the pod's), the host's namespaces."""
    pod = spec.get("securityContext") or {}
    context = container.get("securityContext") or {}
    found: set[str] = set()
    if context.get("privileged"):
        found.add("privileged")
    found |= {str(c) for c in (context.get("capabilities") or {}).get("add") or []}
    for key, name in (
        ("appArmorProfile", UNCONFINED_APPARMOR),
        ("seccompProfile", UNCONFINED_SECCOMP),
    ):
        profile = context.get(key) or pod.get(key) or {}
        if profile.get("type") == "Unconfined":
            found.add(name)
    found |= {key for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)}
    return found
