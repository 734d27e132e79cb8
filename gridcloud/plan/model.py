"""The Plan: everything gridcloud would build, derived and resolved, immutable.

Pure data (pydantic, frozen): no Pulumi, no cloud SDK, no I/O. The program, the cost estimate,
the policy rules and the CLI read it; none of them decides anything the Plan already holds.
JSON keys are camelCase and documented in docs/plan.md.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Literal

from pydantic import Field

from gridcloud.plan.frozen import Frozen
from gridcloud.plan.services.model import ServicesPlan

__all__ = ["Frozen"]


class Taint(Frozen):
    key: str
    value: str
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"

    def toleration(self) -> dict[str, str]:
        """The Kubernetes toleration a pod needs to land despite this taint."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


class AcceleratorPlan(Frozen):
    type: str
    count: int
    """GPUs per node."""
    bundled: bool
    """True when the machine type comes with the GPUs (G2, A2); False when attached (N1)."""


class PoolPlan(Frozen):
    name: str
    kind: Literal["control", "cpu", "gpu", "arm"]
    machine_type: str | None
    """None on a kubernetes target: the nodes exist already."""
    vcpus: int | None
    memory_gb: Decimal | None
    arch: Literal["amd64", "arm64"]
    spot: bool
    min_nodes: int
    max_nodes: int
    max_cores: int | None
    zones: tuple[str, ...]
    max_nodes_per_zone: int
    accelerator: AcceleratorPlan | None
    disk_size_gb: int
    disk_type: str
    labels: dict[str, str]
    """Node labels gridcloud sets (GCP)."""
    taints: tuple[Taint, ...]
    node_selector: dict[str, str]
    """What a pod selects to land on this pool."""

    @property
    def elastic(self) -> bool:
        return self.kind != "control"

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """The tolerations a pod needs to land on this pool."""
        return [t.toleration() for t in self.taints]


class NetworkPlan(Frozen):
    max_pods_per_node: int
    pod_block_prefix: int
    """Each node's pod block: the smallest block holding twice its max pods."""
    nodes_to_address: int
    """Node count the ranges are sized for: every pool at its maximum plus one surge node each."""
    subnet_range: str
    pod_range: str
    service_range: str
    control_plane_range: str
    pod_range_nodes: int
    """How many nodes the pod range holds."""
    subnet_range_nodes: int
    """How many nodes the subnet holds (four addresses are Google's)."""
    computed: tuple[str, ...]
    """Which ranges were computed (the others came from the profile)."""


class ClusterPlan(Frozen):
    name: str
    availability: Literal["zonal", "regional"]
    location: str
    """The zone of a zonal cluster, or the region."""
    node_locations: tuple[str, ...]
    reason: str
    release_channel: str
    deletion_protection: bool
    max_nodes: int


class BudgetPlan(Frozen):
    monthly: Decimal
    currency: str
    alert_thresholds: tuple[float, ...]
    alert_amounts: tuple[Decimal, ...]
    hard_cap: bool
    billing_account: str | None
    min_runway_hours: Decimal


class GcpPlacement(Frozen):
    provider: Literal["gcp"] = "gcp"
    project: str
    region: str
    zones: tuple[str, ...]


class KubernetesPlacement(Frozen):
    provider: Literal["kubernetes"] = "kubernetes"
    kubeconfig: str
    context: str
    control_allocatable_cpu: Decimal | None
    control_allocatable_memory_gb: Decimal | None


class Plan(Frozen):
    name: str
    description: str
    target: GcpPlacement | KubernetesPlacement = Field(discriminator="provider")
    cluster: ClusterPlan | None
    """None on a kubernetes target."""
    network: NetworkPlan | None
    pools: tuple[PoolPlan, ...]
    """The control pool first, then the elastic pools in profile order."""
    services: ServicesPlan
    budget: BudgetPlan | None
    warnings: tuple[str, ...]

    @property
    def control(self) -> PoolPlan:
        return self.pools[0]

    @property
    def elastic_pools(self) -> tuple[PoolPlan, ...]:
        return self.pools[1:]

    @property
    def on_gcp(self) -> bool:
        return isinstance(self.target, GcpPlacement)

    def pool(self, name: str) -> PoolPlan:
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = self.model_dump(mode="json", by_alias=True)
        data["fingerprint"] = self.fingerprint
        return data

    @property
    def fingerprint(self) -> str:
        """A short hash of everything the Plan decides (stable across runs and machines)."""
        canonical = json.dumps(
            self.model_dump(mode="json", by_alias=True, exclude={"warnings"}),
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
