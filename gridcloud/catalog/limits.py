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
#: Pods per node: GKE Standard's range.
MAX_PODS_PER_NODE = 256
MIN_PODS_PER_NODE = 8
#: GCP keeps four addresses of every subnet's primary range.
SUBNET_RESERVED_ADDRESSES = 4
#: The smallest subnet GCP accepts.
SMALLEST_SUBNET_PREFIX = 29
#: GKE's default service range: 4,096 ClusterIP services.
SERVICE_RANGE_PREFIX = 20
#: Extra nodes a surge upgrade adds per pool (GKE default maxSurge).
SURGE_NODES_PER_POOL = 1
