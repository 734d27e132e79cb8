"""One GKE node pool per pool of the Plan: the control pool and the elastic pools.

The control pool has exactly one on-demand node and no autoscaling. An elastic pool scales
between its minimum (0) and maximum across its zones; spot pools use location policy ANY,
so the autoscaler takes spot capacity wherever a zone has it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.catalog import limits
from gridcloud.program.cluster import CLOUD_PLATFORM
from gridcloud.program.naming import resource_labels

if TYPE_CHECKING:
    from gridcloud.plan import Plan, PoolPlan

#: Kubernetes taint effects as the GKE API spells them.
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}


def node_config(
    plan: Plan, pool: PoolPlan, account_email: pulumi.Input[str]
) -> gcp.container.NodePoolNodeConfigArgsDict:
    config: gcp.container.NodePoolNodeConfigArgsDict = {
        "machine_type": pool.machine_type,
        "spot": pool.spot,
        "disk_size_gb": pool.disk_size_gb,
        "disk_type": pool.disk_type,
        "labels": dict(pool.labels),
        "taints": [
            {"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]} for t in pool.taints
        ],
        "service_account": account_email,
        "oauth_scopes": [CLOUD_PLATFORM],
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {
            "enable_secure_boot": True,
            "enable_integrity_monitoring": True,
        },
        "resource_labels": {**resource_labels(plan), "gridcloud-pool": pool.name},
    }
    if pool.accelerator is not None:
        config["guest_accelerators"] = [
            {
                "type": pool.accelerator.type,
                "count": pool.accelerator.count,
                "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"},
            }
        ]
    return config


class NodePool(pulumi.ComponentResource):
    pool: gcp.container.NodePool

    def __init__(
        self,
        name: str,
        plan: Plan,
        *,
        pool: PoolPlan,
        cluster: gcp.container.Cluster,
        account_email: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gridcloud:cluster:NodePool", name, None, opts)
        assert plan.cluster is not None
        assert plan.network is not None
        assert plan.target.provider == "gcp"
        autoscaling: gcp.container.NodePoolAutoscalingArgsDict | None = None
        if pool.elastic:
            autoscaling = {
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                "location_policy": "ANY" if pool.spot else "BALANCED",
            }
        self.pool = gcp.container.NodePool(
            f"{name}-pool",
            name=pool.name,
            project=plan.target.project,
            cluster=cluster.id,
            location=plan.cluster.location,
            node_locations=list(pool.zones),
            max_pods_per_node=plan.network.max_pods_per_node,
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={
                "max_surge": limits.SURGE_NODES_PER_POOL,
                "max_unavailable": 0,
            },
            node_config=node_config(plan, pool, account_email),
            autoscaling=autoscaling,
            initial_node_count=pool.min_nodes if pool.elastic else None,
            node_count=None if pool.elastic else pool.max_nodes,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.pool.name})
