"""The Plan's GKE ComputeClasses (``cloud.google.com/v1``), applied as the Plan writes them.

A class's rules name node pools the Plan sizes (gridcloud/plan/fallback.py); the class is
applied once those pools exist, so GKE finds them when it first scales for the class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

if TYPE_CHECKING:
    from gridcloud.plan import Plan


class ComputeClasses(pulumi.ComponentResource):
    classes: dict[str, k8s.apiextensions.CustomResource]

    def __init__(
        self,
        name: str,
        plan: Plan,
        *,
        provider: k8s.Provider,
        pools: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gridcloud:cluster:ComputeClasses", name, None, opts)
        self.classes = {}
        for compute_class in plan.compute_classes:
            body = compute_class.manifest()
            self.classes[compute_class.name] = k8s.apiextensions.CustomResource(
                f"{name}-{compute_class.name}",
                api_version=str(body["apiVersion"]),
                kind=str(body["kind"]),
                metadata=body["metadata"],
                spec=body["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=pools),
            )
        self.register_outputs({"classes": list(self.classes)})
