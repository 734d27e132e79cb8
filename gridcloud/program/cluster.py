"""The GKE Standard cluster: private nodes, Workload Identity, shielded nodes, cost allocation.

The default node pool is removed at creation; every pool is a :class:`NodePool` of its own.
``node_config`` configures only that temporary default pool: once it is gone GKE reports
another pool's config there, and as the field forces a replacement, it is ignored after
creation (pulumi-gcp and terraform-provider-google document this). The cluster is not deleted
before a replacement: with its fixed name a replacement fails before anything is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

if TYPE_CHECKING:
    from gridcloud.plan import Plan

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
#: What GKE rewrites after creation and must not be compared with what was sent.
IGNORED_AFTER_CREATION = ["nodeConfig"]


class GkeCluster(pulumi.ComponentResource):
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
        spec, net = plan.cluster, plan.network
        security = spec.security
        authorized: gcp.container.ClusterMasterAuthorizedNetworksConfigArgsDict | None = None
        if security.authorized_networks is not None:
            authorized = {
                "cidr_blocks": [
                    {"cidr_block": n.cidr, "display_name": n.name}
                    for n in security.authorized_networks
                ],
                "gcp_public_cidrs_access_enabled": False,
            }
        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=spec.name,
            project=plan.target.project,
            location=spec.location,
            node_locations=list(spec.node_locations),
            network=network.id,
            subnetwork=subnet.id,
            networking_mode="VPC_NATIVE",
            datapath_provider=spec.datapath_provider,
            ip_allocation_policy={
                "cluster_secondary_range_name": net.pod_range_name,
                "services_secondary_range_name": net.service_range_name,
            },
            default_max_pods_per_node=net.max_pods_per_node,
            private_cluster_config={
                "enable_private_nodes": security.private_nodes,
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": net.control_plane_range,
            },
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config={"service_account": node_account_email, "oauth_scopes": [CLOUD_PLATFORM]},
            release_channel={"channel": spec.release_channel},
            master_authorized_networks_config=authorized,
            workload_identity_config=(
                {"workload_pool": f"{plan.target.project}.svc.id.goog"}
                if security.workload_identity
                else None
            ),
            enable_shielded_nodes=security.shielded_nodes,
            cost_management_config={"enabled": True},
            resource_labels=dict(spec.resource_labels),
            deletion_protection=spec.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=IGNORED_AFTER_CREATION),
        )
        self.register_outputs(
            {"name": self.cluster.name, "endpoint": self.cluster.endpoint, "id": self.cluster.id}
        )
