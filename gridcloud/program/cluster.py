"""The GKE Standard cluster: private nodes, Workload Identity, shielded nodes, cost allocation.

The default node pool is removed at creation; every pool is a :class:`NodePool` of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import POD_RANGE_NAME, SERVICE_RANGE_NAME, resource_labels

if TYPE_CHECKING:
    from gridcloud.plan import Plan

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class Cluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster

    def __init__(
        self,
        name: str,
        plan: Plan,
        *,
        network: gcp.compute.Network,
        subnet: gcp.compute.Subnetwork,
        node_account_email: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gridcloud:cluster:Cluster", name, None, opts)
        assert plan.cluster is not None
        assert plan.network is not None
        assert plan.target.provider == "gcp"
        spec = plan.cluster
        # A zonal cluster lists its *other* zones here; a regional one, all of them.
        node_locations = [z for z in spec.node_locations if z != spec.location]
        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=spec.name,
            project=plan.target.project,
            location=spec.location,
            node_locations=node_locations,
            network=network.id,
            subnetwork=subnet.id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": POD_RANGE_NAME,
                "services_secondary_range_name": SERVICE_RANGE_NAME,
            },
            default_max_pods_per_node=plan.network.max_pods_per_node,
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": plan.network.control_plane_range,
            },
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config={"service_account": node_account_email, "oauth_scopes": [CLOUD_PLATFORM]},
            release_channel={"channel": spec.release_channel},
            workload_identity_config={"workload_pool": f"{plan.target.project}.svc.id.goog"},
            enable_shielded_nodes=True,
            cost_management_config={"enabled": True},
            resource_labels=resource_labels(plan),
            deletion_protection=spec.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {"name": self.cluster.name, "endpoint": self.cluster.endpoint, "id": self.cluster.id}
        )
