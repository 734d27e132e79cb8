"""One GKE node pool per pool of the Plan: sizes, autoscaling, surge and zones as it says.

``initial_node_count`` counts nodes per zone at creation and forces a replacement when it
changes; the autoscaler owns the size afterwards, so the field is ignored after creation and
a change of minNodes reaches the pool through its autoscaling totals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.labels import POOL_LABEL
from gridcloud.program.cluster import CLOUD_PLATFORM
from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan, PoolPlan

#: Kubernetes taint effects as the GKE API spells them.
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
#: Set at creation; the autoscaler owns the pool's size afterwards.
IGNORED_AFTER_CREATION = ["initialNodeCount"]


def node_config(
    plan: Plan, pool: PoolPlan, account_email: pulumi.Input[str]
) -> gcp.container.NodePoolNodeConfigArgsDict:
    assert plan.cluster is not None
    security = plan.cluster.security
    config: gcp.container.NodePoolNodeConfigArgsDict = {
        "machine_type": pool.machine_type,
        "spot": pool.spot,
        "disk_size_gb": pool.disk_size_gb,
        "disk_type": pool.disk_type,
        "labels": dict(pool.labels),
        "taints": [
            {"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]}
            for t in pool.taints
            if not t.by_gke
        ],
        "service_account": account_email,
        "oauth_scopes": [CLOUD_PLATFORM],
        "workload_metadata_config": {
            "mode": "GKE_METADATA" if security.workload_identity else "GCE_METADATA"
        },
        "shielded_instance_config": {
            "enable_secure_boot": security.shielded_nodes,
            "enable_integrity_monitoring": security.shielded_nodes,
        },
        "resource_labels": {**plan.cluster.resource_labels, POOL_LABEL: pool.name},
    }
    if pool.local_ssd_count:
        # the nodes' ephemeral storage (emptyDir, images) on local NVMe SSDs (plan/xcache.py)
        config["ephemeral_storage_local_ssd_config"] = {"local_ssd_count": pool.local_ssd_count}
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
        if pool.autoscaling is not None:
            autoscaling = {
                "total_min_node_count": pool.autoscaling.total_min_nodes,
                "total_max_node_count": pool.autoscaling.total_max_nodes,
                "location_policy": pool.autoscaling.location_policy,
            }
        assert pool.upgrade is not None
        self.pool = gcp.container.NodePool(
            f"{name}-pool",
            name=pool.name,
            project=plan.target.project,
            cluster=cluster.id,
            location=plan.cluster.location,
            node_locations=list(pool.zones),
            max_pods_per_node=plan.network.max_pods_per_node,
            management={
                "auto_repair": plan.cluster.security.auto_repair,
                "auto_upgrade": plan.cluster.security.auto_upgrade,
            },
            upgrade_settings={
                "max_surge": pool.upgrade.max_surge,
                "max_unavailable": pool.upgrade.max_unavailable,
            },
            node_config=node_config(plan, pool, account_email),
            autoscaling=autoscaling,
            initial_node_count=pool.initial_node_count,
            node_count=pool.node_count,
            opts=child_of(self, pulumi.ResourceOptions(ignore_changes=IGNORED_AFTER_CREATION)),
        )
        self.register_outputs({"name": self.pool.name})
