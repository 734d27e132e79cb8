"""Which input changes replace a resource, by the providers' own rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: pulumi-kubernetes' replace-forcing fields (provider/pkg/provider/diff.go, forceNew and
#: metadataForceNewProperties; secrets are immutable unless the provider's
#: enableSecretMutable is set, which gridcloud does not set), for the kinds gridcloud declares.
#: Paths are the program's inputs, without the leading dot.
KUBERNETES_METADATA = ("metadata.name", "metadata.namespace")
KUBERNETES = {
    "kubernetes:core/v1:Secret": ("type", "stringData", "data"),
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
    ),
    "kubernetes:core/v1:PersistentVolume": ("spec.nfs", "spec.csi", "spec.gcePersistentDisk"),
    "kubernetes:core/v1:Service": ("spec.clusterIP",),
    "kubernetes:core/v1:ResourceQuota": ("spec.scopes",),
    "kubernetes:apps/v1:Deployment": ("spec.selector",),
    "kubernetes:apps/v1:DaemonSet": ("spec.selector",),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "kubernetes:batch/v1:Job": (
        "spec.completions",
        "spec.parallelism",
        "spec.selector",
        "spec.template",
    ),
}
#: pulumi-kubernetes' Helm release (provider/pkg/provider/helm_release.go: forceNewFields).
HELM_RELEASE = ("name", "namespace")
#: pulumi-random: every input of a RandomPassword forces a new one.
EVERY_INPUT = "*"


def _normal(path: str) -> tuple[str, ...]:
    """Segments without a plural ``s``: Pulumi names list blocks in the plural
    (``taints``, ``secondaryIpRanges``), Terraform in the singular."""
    return tuple(seg.removesuffix("s") for seg in path.split("."))


class ReplaceRules:
    """Replace-forcing property paths per resource type."""

    def __init__(self) -> None:
        data = json.loads((HERE / "gcp_forcenew.json").read_text())
        self.source = data["source"]
        self.paths: dict[str, set[tuple[str, ...]]] = {
            typ: {_normal(p) for p in paths} for typ, paths in data["forceNew"].items()
        }
        for typ, paths in KUBERNETES.items():
            self.paths[typ] = {_normal(p) for p in (*paths, *KUBERNETES_METADATA)}
        self.paths["kubernetes:helm.sh/v3:Release"] = {_normal(p) for p in HELM_RELEASE}

    def replaces(self, typ: str, path: str) -> bool:
        """Whether a change at ``path`` (a leaf, or a block added or removed) replaces."""
        if typ == "random:index/randomPassword:RandomPassword":
            return True
        if typ.startswith("kubernetes:") and typ not in self.paths:
            rules = {_normal(p) for p in KUBERNETES_METADATA}
        elif typ.startswith(("gridcloud:", "pulumi:providers:")):
            return False
        else:
            if typ not in self.paths:
                raise KeyError(f"no replacement rules for {typ}: add them to the table")
            rules = self.paths[typ]
        segs = _normal(path)
        if segs in rules:
            return True
        # A replace-forcing prefix counts when it is a leaf attribute (a map, a list of scalars)
        # or an immutable block whose fields carry no flags of their own: a flag on a block
        # with flagged fields covers only adding or removing the block.
        for i in range(1, len(segs)):
            prefix = segs[:i]
            if prefix in rules and not any(r[:i] == prefix and len(r) > i for r in rules):
                return True
        return False


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf paths of an input value: dicts by key, lists of dicts by position when both sides
    have the same length (the caller compares), anything else as a whole."""
    from tests.program.mocks import is_secret

    if isinstance(value, dict) and not is_secret(value):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= flatten(item, f"{path}.{key}" if path else key)
        return out or {path: {}}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {f"{path}.#": len(value)}
        for i, item in enumerate(value):
            for sub, leaf in flatten(item).items():
                out[f"{path}.{sub}@{i}"] = leaf
        return out
    return {path: value}


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """Input paths whose values differ (``a.b`` for leaves, ``a`` for a list whose length
    changed), positions dropped."""
    old, new = flatten(before), flatten(after)
    changed = set()
    for key in old.keys() | new.keys():
        if old.get(key) != new.get(key):
            changed.add(_strip(key))
    return changed


def _strip(key: str) -> str:
    parts = [p.split("@", 1)[0] for p in key.split(".")]
    if parts[-1] == "#":
        parts = parts[:-1]
    return ".".join(parts)
