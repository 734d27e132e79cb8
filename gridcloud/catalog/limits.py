"""GKE's limits and conventions the profile and the Plan obey, each with where it comes from.

Sources: GKE documentation, "Plan for large GKE clusters" and "Configure maximum Pods per
node" (quotas and limits pages), as of 2026.
"""

from __future__ import annotations

#: Nodes in one GKE Standard cluster.
MAX_NODES_PER_CLUSTER = 15_000
#: Above this, Google asks for a quota increase and recommends a regional control plane.
LARGE_CLUSTER_NODES = 5_000
#: Nodes in one node pool in one zone.
MAX_NODES_PER_POOL_PER_ZONE = 1_000
#: Pods in one cluster.
MAX_PODS_PER_CLUSTER = 200_000
#: Pods per node: GKE Standard's range.
MAX_PODS_PER_NODE = 256
MIN_PODS_PER_NODE = 8
#: The largest node anyone runs (Compute Engine's largest shapes: 896 vCPUs, 32 TB): a
#: bound on the on-prem allocatable figures, far above any real node.
MAX_NODE_CORES = 4_096
MAX_NODE_MEMORY_GB = 65_536
#: GCP keeps four addresses of every subnet's primary range.
SUBNET_RESERVED_ADDRESSES = 4
#: The smallest subnet GCP accepts.
SMALLEST_SUBNET_PREFIX = 29
#: GKE's default service range: 4,096 ClusterIP services.
SERVICE_RANGE_PREFIX = 20
#: Cloud NAT (documentation "Ports and addresses"): with dynamic port allocation the ports
#: per VM range from a minimum to a maximum, both powers of two, at most 65,536; one NAT
#: address has 64,512 ports (65,536 less the 1,024 well-known ones). A pilot or Dask worker
#: per core, each with up to 64 concurrent connections to one destination (storage, PanDA,
#: CVMFS's Stratum 1 through Squid): an assumption, so an 80-core node may take 8,192 ports
#: instead of failing at 64.
NAT_PORTS_PER_CORE = 64
NAT_MAX_PORTS_PER_VM = 65_536
NAT_PORTS_PER_ADDRESS = 64_512
#: Authorized networks GKE accepts for a control plane's public endpoint.
MAX_AUTHORIZED_NETWORKS = 50
#: Extra nodes a surge upgrade adds per pool (GKE default maxSurge).
SURGE_NODES_PER_POOL = 1

#: Requests of GKE's own kube-system pods (kube-dns, metrics-server, konnectivity, logging
#: and metrics agents, kube-proxy, the metadata server) that land on the control node, the only
#: node without taints. An estimate from a fresh GKE Standard cluster, not a documented figure.
GKE_SYSTEM_PODS_CPU_M = 800
GKE_SYSTEM_PODS_MEMORY_MI = 1024
#: GKE's DaemonSets on every node (kube-proxy, logging and metrics agents, the PD CSI node
#: driver; the GPU device plugin on GPU nodes): an estimate, as above.
GKE_NODE_DAEMONS_CPU_M = 300
GKE_NODE_DAEMONS_MEMORY_MI = 400
#: Memory kubelet keeps back for eviction on GKE nodes.
GKE_EVICTION_MEMORY_MI = 100


#: Cores of the shared-core machine types (bursting aside), as GKE counts them.
SHARED_CORES = {
    "e2-micro": 0.25,
    "e2-small": 0.5,
    "e2-medium": 1.0,
    "f1-micro": 0.2,
    "g1-small": 0.5,
}


def nat_max_ports_per_vm(largest_node_cores: int) -> int:
    """Cloud NAT's per-VM ceiling for nodes of this many cores: a power of two."""
    need = max(largest_node_cores, 1) * NAT_PORTS_PER_CORE
    return min(1 << (need - 1).bit_length(), NAT_MAX_PORTS_PER_VM)


def nat_addresses(vms: int, ports_per_vm: int) -> int:
    """Addresses Cloud NAT allocates for ``vms`` VMs reserving ``ports_per_vm`` each."""
    return 0 if vms == 0 else max(1, -(-vms * ports_per_vm // NAT_PORTS_PER_ADDRESS))


def _tiered(amount: float, tiers: tuple[tuple[float, float], ...]) -> float:
    """Sum of ``share`` x the part of ``amount`` in each tier (width, share)."""
    reserved, left = 0.0, amount
    for width, share in tiers:
        take = min(left, width)
        reserved += take * share
        left -= take
        if left <= 0:
            break
    return reserved


def gke_allocatable(machine_type: str, vcpus: int, memory_gb: float) -> tuple[int, int]:
    """Allocatable CPU (millicores) and memory (MiB) of a GKE node, by GKE's reservation rules.

    CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest.
    Memory: 25% of the first 4 GiB, 20% of the next 4, 10% of the next 8, 6% of the next 112,
    2% above 128 GiB, plus the eviction threshold.
    """
    cores = SHARED_CORES.get(machine_type, float(vcpus))
    cpu = cores - _tiered(cores, ((1, 0.06), (1, 0.01), (2, 0.005), (float("inf"), 0.0025)))
    memory = memory_gb - _tiered(
        memory_gb, ((4, 0.25), (4, 0.20), (8, 0.10), (112, 0.06), (float("inf"), 0.02))
    )
    return round(cpu * 1000), round(memory * 1024) - GKE_EVICTION_MEMORY_MI


#: The Kubernetes minor version each GKE release channel runs by default (GKE release
#: notes, 2026-11), and the oldest minor upstream Kubernetes still supports, assumed for an
#: existing cluster. The rendered manifests are validated against these schemas.
GKE_CHANNEL_KUBERNETES = {"RAPID": "1.37", "REGULAR": "1.36", "STABLE": "1.35"}
OLDEST_SUPPORTED_KUBERNETES = "1.35"
