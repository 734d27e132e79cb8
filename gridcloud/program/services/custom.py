"""Custom kinds whose fields sit beside ``metadata`` rather than under ``spec`` (the CSI
snapshot class: ``driver``, ``deletionPolicy``, ``parameters``), which the Kubernetes
provider's ``CustomResource`` cannot carry (it takes ``spec`` only): the same resource type
token it uses (``kubernetes:<apiVersion>:<kind>``), with the object's fields as they are."""

from __future__ import annotations

from typing import Any

import pulumi

#: Kinds applied this way.
TOP_LEVEL_KINDS = frozenset({("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass")})


class TopLevelObject(pulumi.CustomResource):
    """One object of a custom kind, its fields passed to the provider unchanged."""

    def __init__(self, name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        from pulumi_kubernetes import _utilities

        if opts.version is None:
            opts = pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(version=_utilities.get_version()),  # type: ignore[no-untyped-call]
            )
        super().__init__(f"kubernetes:{body['apiVersion']}:{body['kind']}", name, dict(body), opts)
