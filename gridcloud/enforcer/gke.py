"""The enforcer's calls to Google: the GKE API (the cluster, its pools, their autoscaling and
size, the cluster's labels) and Compute Engine (the pools' instance groups, for their
current size). Through the official clients over REST.

GKE runs one operation at a time on a cluster, so each call waits for its operation. A pool
goes to zero in two steps, as the API requires: autoscaling off (else the autoscaler would
add nodes back), then size 0 in each of its zones. Lifting gives it back the Plan's
autoscaling (total minimum and maximum, location policy); the autoscaler then sizes it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcloud.enforcer.config import Pool, Settings

log = logging.getLogger("gridcloud.enforcer")

#: How long to wait for one GKE operation (a pool resize takes a few minutes at most), and
#: how often to look: from the first poll, doubling up to the longest.
OPERATION_TIMEOUT_S = 600.0
FIRST_POLL_S = 0.2
LONGEST_POLL_S = 5.0


class Gke:
    def __init__(self, settings: Settings) -> None:
        from google.cloud import compute_v1, container_v1

        self.settings = settings
        self.container = container_v1.ClusterManagerClient(transport="rest")
        self.groups = compute_v1.InstanceGroupManagersClient(transport="rest")
        base = f"projects/{settings.project}/locations/{settings.location}"
        self.cluster_name = f"{base}/clusters/{settings.cluster}"
        self.operations = f"{base}/operations"

    def cluster(self) -> Any:
        return self.container.get_cluster(name=self.cluster_name)

    def cap_in_force(self, cluster: Any) -> str | None:
        return dict(cluster.resource_labels).get(self.settings.label)

    def nodes(self, cluster: Any) -> dict[str, int]:
        """Each enforced pool's current node count, from its instance groups' target size."""
        wanted = {p.name for p in self.settings.pools}
        counts: dict[str, int] = {}
        for pool in cluster.node_pools:
            if pool.name not in wanted:
                continue
            total = 0
            for url in pool.instance_group_urls:
                parts = url.split("/")
                project, zone, name = parts[-5], parts[-3], parts[-1]
                group = self.groups.get(project=project, zone=zone, instance_group_manager=name)
                total += group.target_size
            counts[pool.name] = total
        return counts

    def _wait(self, operation: Any) -> None:
        from google.cloud import container_v1

        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        name = f"{self.operations}/{operation.name}"
        pause = FIRST_POLL_S
        while operation.status != container_v1.Operation.Status.DONE:
            if time.monotonic() > deadline:
                raise TimeoutError(f"GKE operation {operation.name} still running")
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_POLL_S)
            operation = self.container.get_operation(name=name)
        if operation.error and operation.error.message:
            raise RuntimeError(f"GKE operation {operation.name} failed: {operation.error.message}")

    def _pool(self, pool: str) -> str:
        return f"{self.cluster_name}/nodePools/{pool}"

    def scale_to_zero(self, pool: Pool) -> None:
        self._wait(
            self.container.set_node_pool_autoscaling(
                request={"name": self._pool(pool.name), "autoscaling": {"enabled": False}}
            )
        )
        self._wait(
            self.container.set_node_pool_size(
                request={"name": self._pool(pool.name), "node_count": 0}
            )
        )
        log.warning("pool %s: autoscaling off, scaled to 0 nodes", pool.name)

    def restore(self, pool: Pool) -> None:
        from google.cloud import container_v1

        policy = getattr(container_v1.NodePoolAutoscaling.LocationPolicy, pool.location_policy)
        self._wait(
            self.container.set_node_pool_autoscaling(
                request={
                    "name": self._pool(pool.name),
                    "autoscaling": {
                        "enabled": True,
                        "total_min_node_count": pool.total_min_nodes,
                        "total_max_node_count": pool.total_max_nodes,
                        "location_policy": policy,
                    },
                }
            )
        )
        log.warning(
            "pool %s: autoscaling restored (%d to %d nodes, %s)",
            pool.name,
            pool.total_min_nodes,
            pool.total_max_nodes,
            pool.location_policy,
        )

    def label(self, cluster: Any, value: str | None) -> None:
        """Set (or with None remove) the cap's label, keeping the cluster's others."""
        labels = dict(cluster.resource_labels)
        if value is None:
            labels.pop(self.settings.label, None)
        else:
            labels[self.settings.label] = value
        self._wait(
            self.container.set_labels(
                request={
                    "name": self.cluster_name,
                    "resource_labels": labels,
                    "label_fingerprint": cluster.label_fingerprint,
                }
            )
        )
