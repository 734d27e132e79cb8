"""The Plan: everything gridcloud would build, derived and resolved, immutable.

Pure data (frozen, on :mod:`gridcloud.plain`'s light base: built by gridcloud's own code, so
no pydantic schema is built for it at start-up): no Pulumi, no cloud SDK, no I/O. The program,
the cost estimate, the policy rules and the CLI read it; none of them decides anything the Plan
already holds.
JSON keys are camelCase and documented in docs/plan.md.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from gridcloud import frozen
from gridcloud.plain import Frozen
from gridcloud.plan.backups import BackupPlan
from gridcloud.plan.data import DataPlan
from gridcloud.plan.multikueue import MultiKueuePlan
from gridcloud.plan.services.model import ServicesPlan
from gridcloud.plan.services.xcache import XCachePlan

__all__ = ["Frozen"]


class Taint(Frozen):
    key: str
    value: str
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    by_gke: bool = False
    """GKE puts it on the nodes itself (Arm's ``kubernetes.io/arch``): pods tolerate it, the
    node pool does not declare it again."""

    def toleration(self) -> dict[str, str]:
        """The Kubernetes toleration a pod needs to land despite this taint."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


class AcceleratorPlan(Frozen):
    type: str
    count: int
    """GPUs per node."""
    bundled: bool
    """True when the machine type comes with the GPUs (G2, A2); False when attached (N1)."""


class AutoscalingPlan(Frozen):
    """What GKE's cluster autoscaler is given: totals over the pool's zones, and how to spread."""

    total_min_nodes: int
    total_max_nodes: int
    location_policy: Literal["ANY", "BALANCED"]
    """ANY (spot pools): nodes go wherever a zone has capacity, so one zone may hold up to
    ``max_nodes_per_zone``; BALANCED (on-demand pools): spread evenly across the zones."""


class UpgradePlan(Frozen):
    """Surge upgrades: extra nodes during an upgrade, and how many may be down at once."""

    max_surge: int
    max_unavailable: int


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
    """The most nodes one zone can hold: an even share under location policy BALANCED, up to
    the whole pool (within GKE's per-zone limit) under ANY."""
    autoscaling: AutoscalingPlan | None
    """None for the control pool: a fixed size."""
    node_count: int | None
    """The fixed size of a pool without autoscaling (the control pool: 1)."""
    initial_node_count: int | None
    """Nodes per zone when an autoscaled pool is created (GKE counts it per zone). Used at
    creation only: a later change of minNodes goes to the autoscaler, not here, as a change of
    this field would replace the pool."""
    upgrade: UpgradePlan | None
    """Surge settings (GCP); None for existing nodes."""
    accelerator: AcceleratorPlan | None
    disk_size_gb: int
    disk_type: str
    labels: dict[str, str]
    """Node labels gridcloud sets (GCP)."""
    taints: tuple[Taint, ...]
    node_selector: dict[str, str]
    """What a pod selects to land on this pool."""
    local_ssd_count: int = 0
    """Local NVMe SSDs (375 GiB each) given to the nodes' ephemeral storage (the XCache
    pool, plan/xcache.py)."""
    compute_class: str | None = None
    """The GKE ComputeClass its nodes serve (a pool with fallback shapes, and those shapes'
    pools): its label and taint are on the nodes, pods select the class."""

    @property
    def elastic(self) -> bool:
        return self.kind != "control"

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """The tolerations a pod needs to land on this pool."""
        return [t.toleration() for t in self.taints]


class NetworkPlan(Frozen):
    max_pods_per_node: int
    nat_min_ports_per_vm: int = 64
    """Cloud NAT's ports reserved per VM (Google's default): with its automatic addresses,
    one address serves 64,512 / this many VMs."""
    nat_dynamic_ports: bool
    """Dynamic port allocation: a busy VM gets more ports, up to ``nat_max_ports_per_vm``."""
    nat_max_ports_per_vm: int
    """Sized for the largest node: ``NAT_PORTS_PER_CORE`` per core, a power of two."""
    pod_block_prefix: int
    """Each node's pod block: the smallest block holding twice its max pods."""
    nodes_to_address: int
    """Node count the ranges are sized for: every pool at its maximum plus one surge node each."""
    subnet_range: str
    pod_range: str
    service_range: str
    control_plane_range: str
    pod_range_name: str
    """Names of the subnet's secondary ranges, which the cluster's IP allocation reads."""
    service_range_name: str
    pod_range_nodes: int
    """How many nodes the pod range holds."""
    subnet_range_nodes: int
    """How many nodes the subnet holds (four addresses are Google's)."""
    computed: tuple[str, ...]
    """Which ranges were computed (the others came from the profile)."""
    kept: tuple[str, ...] = ()
    """Which computed ranges were kept as the deployed stack has them (a range in use cannot
    change: a smaller need keeps the larger range; see :class:`Deployed`)."""


class GcpNames(Frozen):
    """Names of the GCP resources, decided once (the facility's name is their prefix, so two
    facilities share a project without clashing). Renaming one replaces the resource."""

    network: str
    subnet: str
    router: str
    nat: str
    node_account: str
    """The nodes' service account ID."""


class AuthorizedNetwork(Frozen):
    name: str
    cidr: str


class ClusterSecurity(Frozen):
    """How the cluster and its nodes are hardened: decided here, translated by the program,
    checked by the policy rules (docs/security.md)."""

    private_nodes: bool
    """Nodes without external addresses (egress through Cloud NAT)."""
    authorized_networks: tuple[AuthorizedNetwork, ...] | None
    """The only addresses that may reach the control plane's public endpoint; None: any."""
    workload_identity: bool
    """Pods get Google identities through the GKE metadata server, never the node's."""
    shielded_nodes: bool
    """Shielded GKE nodes with secure boot and integrity monitoring."""
    auto_repair: bool
    auto_upgrade: bool


class ClusterPlan(Frozen):
    name: str
    availability: Literal["zonal", "regional"]
    location: str
    """The zone of a zonal cluster, or the region."""
    zones: tuple[str, ...]
    """Every zone with nodes of the facility."""
    node_locations: tuple[str, ...]
    """The cluster's ``locations`` as GKE's API takes them: a zonal cluster lists its other
    zones (its own is implied), a regional one every zone."""
    reason: str
    release_channel: str
    datapath_provider: Literal["ADVANCED_DATAPATH"] = "ADVANCED_DATAPATH"
    """GKE Dataplane V2, which enforces the charts' NetworkPolicies (chosen at creation
    only: a change replaces the cluster)."""
    deletion_protection: bool
    max_nodes: int
    node_roles: tuple[str, ...]
    """Project roles of the nodes' own service account: what a GKE node needs, no more."""
    security: ClusterSecurity
    resource_labels: dict[str, str]
    """Labels on every GCP resource that takes them: the billing export and the leftover
    listing after a destroy find the facility's resources by them."""
    names: GcpNames


class EnforcedPool(Frozen):
    """An elastic pool the cap scales to zero, and how to give it back its autoscaling."""

    name: str
    node_hourly: Decimal
    """List price of one node-hour at the pool's capacity type (the lag allowance)."""
    autoscaling: AutoscalingPlan
    """The pool's own, given back when the cap lifts."""


class CappedCluster(Frozen):
    """A cluster of the facility whose elastic pools the cap scales: the home cluster or a
    compute-only shard (each in its own project, region and location)."""

    shard: str
    """``home``, or the shard's name."""
    project: str
    location: str
    cluster: str
    pools: tuple[EnforcedPool, ...]


class CapPlan(Frozen):
    """The hard cap: a Cloud Function (2nd gen) on the budget's topic, with its own account
    and a custom role holding only what it calls (gridcloud/enforcer/)."""

    amount: Decimal
    """Spend at which the elastic pools go to zero: the monthly budget."""
    lag_hours: Decimal
    restore_on_new_period: bool
    label: str
    """The cluster label that records a cap in force (its value: the period's start date)."""
    clusters: tuple[CappedCluster, ...]
    """Every cluster of the facility with elastic pools, the home one first: the cap scales
    all of them, and its lag allowance sums all of them."""
    function: str
    account: str
    """The enforcer's service account ID."""
    role_id: str
    """Its custom role's ID (letters, digits, underscores)."""
    permissions: tuple[str, ...]
    bucket: str
    """Where the function's source archive is uploaded."""
    runtime: str
    timeout_seconds: int
    """The function's timeout; the enforcer's handler keeps a deadline below it."""


class BudgetPlan(Frozen):
    monthly: Decimal
    currency: str
    alert_thresholds: tuple[float, ...]
    alert_amounts: tuple[Decimal, ...]
    hard_cap: bool
    billing_account: str | None
    min_runway_hours: Decimal
    display_name: str = ""
    """The Cloud Billing budget's name (gcp with a billing account)."""
    topic: str | None = None
    """The Pub/Sub topic the budget notifies; None: no Cloud Billing budget (no billing
    account, or not on Google Cloud)."""
    label_filter: dict[str, str] = Field(default_factory=dict)
    """With ``budget.scope: label``, the budget counts only costs with this label (one pair,
    as the API allows) within the project; empty: the whole project."""
    projects: tuple[str, ...] = ()
    """The projects the budget counts (with a Cloud Billing budget): the home cluster's and
    every compute-only shard's, once each."""
    cap: CapPlan | None = None


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


class ComputeClassRule(Frozen):
    """One priority of a ComputeClass, and the node pool of the Plan that serves it."""

    pool: str
    machine_type: str
    spot: bool


class ComputeClassPlan(Frozen):
    """A GKE custom ComputeClass (``cloud.google.com/v1``) over a pool and its fallback
    shapes' pools (gridcloud/plan/fallback.py): GKE tries the rules in order when it scales
    up, only on the node pools the Plan sizes (no node pool auto-created: the cap knows every
    pool), and never moves running pods to a higher rule (no active migration)."""

    name: str
    pool: str
    """The profile's pool it stands for."""
    rules: tuple[ComputeClassRule, ...]
    when_unsatisfiable: Literal["DoNothing", "ScaleUpAnyway"]
    node_pool_auto_creation: bool
    optimize_rule_priority: bool
    """Active migration to a higher rule when it has capacity again: off, as it would evict
    running pilots."""

    def manifest(self) -> dict[str, Any]:
        """The ComputeClass as the cluster receives it."""
        return {
            "apiVersion": "cloud.google.com/v1",
            "kind": "ComputeClass",
            "metadata": {"name": self.name},
            "spec": {
                "priorities": [
                    {"machineType": rule.machine_type, "spot": rule.spot} for rule in self.rules
                ],
                "whenUnsatisfiable": self.when_unsatisfiable,
                "nodePoolAutoCreation": {"enabled": self.node_pool_auto_creation},
                "activeMigration": {"optimizeRulePriority": self.optimize_rule_priority},
            },
        }


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
    waivers: dict[str, str] = Field(default_factory=dict)
    """Policy rules the profile accepts, with its reason (``policy.waivers``)."""
    data: DataPlan | None = None
    """The facility bucket, its Rucio storage element, the data movement a month; None
    when the profile says nothing about data (plan/data.py)."""
    compute_classes: tuple[ComputeClassPlan, ...] = ()
    """One GKE ComputeClass per pool with fallback shapes (gridcloud/plan/fallback.py)."""
    shard: str | None = None
    """The compute-only shard this Plan is (its cluster, pools and network); None for the
    home cluster (gridcloud/plan/shards.py)."""
    shards: tuple[Plan, ...] = ()
    """The facility's compute-only shards, one Plan each (the home Plan only)."""
    backups: BackupPlan | None = None
    """Scheduled volume snapshots (plan/backups.py); their objects are in ``services.objects``."""
    multikueue: MultiKueuePlan | None = None
    """Kueue's MultiKueue over the shards, this cluster the manager (plan/multikueue.py; the
    home Plan only); its objects are in the services of this Plan and of each shard's."""
    xcache: XCachePlan | None = None
    """XCache on its own pool (plan/xcache.py); its objects are in ``services.objects``."""

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
        data["fingerprint"] = _fingerprint(data)  # from the same dump: made once
        return data

    @property
    def fingerprint(self) -> str:
        """A short hash of everything the Plan decides (stable across runs and machines; not
        its warnings, nor where a range came from)."""
        return _fingerprint(self.model_dump(mode="json", by_alias=True))


def _fingerprint(dumped: dict[str, Any]) -> str:
    """The fingerprint of a Plan's JSON dump: all but its ``warnings`` and ``network.kept``."""
    decided = {key: value for key, value in dumped.items() if key != "warnings"}
    network = decided.get("network")
    if isinstance(network, dict):
        decided["network"] = {key: value for key, value in network.items() if key != "kept"}
    canonical = json.dumps(decided, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class Deployed(frozen.Frozen):  # read back from a stack's outputs: validated
    """What a deployed stack fixes for every later Plan: the cluster's max pods per node and
    the ranges in use (GKE and VPC refuse to change them while nodes use them). Read from the
    stack's ``network`` output by the engine before ``up`` and ``preview``."""

    max_pods_per_node: int
    subnet_range: str
    pod_range: str
    service_range: str
