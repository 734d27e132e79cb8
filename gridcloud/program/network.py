"""The facility's network: VPC, subnet with the Plan's secondary ranges, Cloud Router + NAT.

Nodes are private (no external IPs), so they reach image registries and CVMFS through NAT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan


class Network(pulumi.ComponentResource):
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:network:Network", name, None, opts)
        assert plan.network is not None
        assert plan.cluster is not None
        assert plan.target.provider == "gcp"
        net, names = plan.network, plan.cluster.names
        child = child_of(self)
        project, region = plan.target.project, plan.target.region

        self.network = gcp.compute.Network(
            f"{name}-vpc",
            name=names.network,
            project=project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=names.subnet,
            project=project,
            region=region,
            network=self.network.id,
            ip_cidr_range=net.subnet_range,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": net.pod_range_name, "ip_cidr_range": net.pod_range},
                {"range_name": net.service_range_name, "ip_cidr_range": net.service_range},
            ],
            opts=child,
        )
        self.router = gcp.compute.Router(
            f"{name}-router",
            name=names.router,
            project=project,
            region=region,
            network=self.network.id,
            opts=child,
        )
        self.nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=names.nat,
            project=project,
            region=region,
            router=self.router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            min_ports_per_vm=net.nat_min_ports_per_vm,
            enable_dynamic_port_allocation=net.nat_dynamic_ports,
            max_ports_per_vm=net.nat_max_ports_per_vm if net.nat_dynamic_ports else None,
            # Google refuses endpoint-independent mapping with dynamic port allocation
            enable_endpoint_independent_mapping=False,
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=child,
        )
        self.register_outputs(
            {"network": self.network.id, "subnet": self.subnet.id, "nat": self.nat.id}
        )
