"""IP planning: the subnet and its pod and service secondary ranges, sized by GKE's rules.

GKE gives every node a pod block of at least twice its max-pods (110 pods: a /24). The pod
range must hold one block per node the cluster can reach, so 1,250 nodes at 110 pods need
2,048 blocks: a /13. Max-pods and the ranges cannot change after creation, so they are sized
for every pool at its maximum, plus one surge node per pool for upgrades.
"""

from __future__ import annotations

import math
from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from gridcloud.catalog import limits
from gridcloud.errors import PlanError
from gridcloud.plan.model import NetworkPlan

if TYPE_CHECKING:
    from gridcloud.plan.model import Deployed
    from gridcloud.profile.models import Network

#: Names of the subnet's secondary ranges, read by the cluster's IP allocation policy.
POD_RANGE_NAME = "pods"
SERVICE_RANGE_NAME = "services"


def pod_block_prefix(max_pods_per_node: int) -> int:
    """Prefix of one node's pod block: the smallest block with 2x max-pods addresses.

    The profile bounds max-pods to GKE's range (8 to 256).
    """
    return 32 - math.ceil(math.log2(2 * max_pods_per_node))


def pod_range_prefix(nodes: int, max_pods_per_node: int) -> int:
    """Prefix of the pod range that holds ``nodes`` nodes' blocks."""
    return pod_block_prefix(max_pods_per_node) - math.ceil(math.log2(max(nodes, 1)))


def subnet_prefix(nodes: int) -> int:
    """Prefix of the primary range that holds ``nodes`` node addresses."""
    needed = nodes + limits.SUBNET_RESERVED_ADDRESSES
    return min(32 - math.ceil(math.log2(needed)), limits.SMALLEST_SUBNET_PREFIX)


def pod_range_capacity(network: IPv4Network, max_pods_per_node: int) -> int:
    """Nodes a pod range can hold."""
    spare_bits = pod_block_prefix(max_pods_per_node) - network.prefixlen
    return 2**spare_bits if spare_bits >= 0 else 0


def subnet_capacity(network: IPv4Network) -> int:
    return max(network.num_addresses - limits.SUBNET_RESERVED_ADDRESSES, 0)


def _allocate(space: IPv4Network, prefix: int, taken: list[IPv4Network], what: str) -> IPv4Network:
    if prefix < space.prefixlen:
        raise PlanError(
            f"the {what} needs a /{prefix}, larger than network.addressSpace {space}",
            hint="give a larger addressSpace (10.0.0.0/8 holds the largest GKE cluster)",
        )
    # the first /prefix of the space that overlaps nothing taken, in integers (walking
    # space.subnets() with IPv4Network.overlaps took ~10 ms for the default profile): past a
    # clash, the next candidate is the first aligned block after the clashing range's end
    size = 1 << (32 - prefix)
    spans = [(int(t.network_address), int(t.broadcast_address)) for t in taken]
    candidate, end = int(space.network_address), int(space.broadcast_address)
    while candidate + size - 1 <= end:
        last = candidate + size - 1
        clash = next((high for low, high in spans if low <= last and candidate <= high), None)
        if clash is None:
            return IPv4Network((candidate, prefix))
        candidate = (clash // size + 1) * size
    raise PlanError(
        f"no free /{prefix} for the {what} in network.addressSpace {space}",
        hint="give a larger addressSpace or set the ranges explicitly",
    )


def _kept(
    network: Network, nodes_to_address: int, deployed: Deployed | None
) -> dict[str, IPv4Network]:
    """The deployed stack's computed ranges, kept: a range in use cannot change in place.

    A range the profile gives is the profile's to change; a computed one stays as deployed as
    long as it holds the nodes, or the Plan fails with the way forward.
    """
    if deployed is None:
        return {}
    max_pods = network.max_pods_per_node
    if deployed.max_pods_per_node != max_pods:
        raise PlanError(
            f"network.maxPodsPerNode is {max_pods}; the deployed cluster has "
            f"{deployed.max_pods_per_node}, fixed when it was created",
            hint=f"set network.maxPodsPerNode: {deployed.max_pods_per_node} (changing it needs "
            "a new cluster: a new facility name, then destroy the old one)",
        )
    kept: dict[str, IPv4Network] = {}
    checks = (
        ("podRange", network.pod_range, deployed.pod_range),
        ("subnetRange", network.subnet_range, deployed.subnet_range),
        ("serviceRange", network.service_range, deployed.service_range),
    )
    for name, given, live in checks:
        if given is not None:
            continue
        current = IPv4Network(live)
        if name == "podRange":
            holds = pod_range_capacity(current, max_pods)
        elif name == "subnetRange":
            holds = subnet_capacity(current)
        else:
            holds = nodes_to_address  # the service range does not depend on the nodes
        if holds < nodes_to_address:
            raise PlanError(
                f"the pools now reach {nodes_to_address:,} nodes (with surge); the deployed "
                f"{name} {current} holds {holds:,}, and a range in use cannot grow",
                hint=f"keep the pools within {holds:,} nodes; or set network.{name} to a larger "
                "range for a new facility (new name), move the workloads, destroy the old one",
            )
        kept[name] = current
    return kept


def plan_network(
    network: Network,
    nodes_to_address: int,
    deployed: Deployed | None = None,
    *,
    largest_node_cores: int = 1,
) -> NetworkPlan:
    """Size and place the ranges for ``nodes_to_address`` nodes, keeping what ``deployed``
    fixes; size Cloud NAT's ports for nodes of ``largest_node_cores``."""
    max_pods = network.max_pods_per_node
    block = pod_block_prefix(max_pods)
    kept = _kept(network, nodes_to_address, deployed)
    wanted = {
        "podRange": (
            network.pod_range or kept.get("podRange"),
            pod_range_prefix(nodes_to_address, max_pods),
        ),
        "subnetRange": (
            network.subnet_range or kept.get("subnetRange"),
            subnet_prefix(nodes_to_address),
        ),
        "serviceRange": (
            network.service_range or kept.get("serviceRange"),
            limits.SERVICE_RANGE_PREFIX,
        ),
    }
    if network.pod_range is not None:
        holds = pod_range_capacity(network.pod_range, max_pods)
        if holds < nodes_to_address:
            raise PlanError(
                f"network.podRange {network.pod_range} holds {holds:,} nodes at {max_pods} "
                f"pods per node (a /{block} each); the pools reach {nodes_to_address:,}",
                hint=f"use a /{wanted['podRange'][1]} or larger, or leave podRange out to have "
                "it computed",
            )
    if network.subnet_range is not None:
        holds = subnet_capacity(network.subnet_range)
        if holds < nodes_to_address:
            raise PlanError(
                f"network.subnetRange {network.subnet_range} holds {holds:,} nodes; the pools "
                f"reach {nodes_to_address:,}",
                hint=f"use a /{wanted['subnetRange'][1]} or larger, or leave it out",
            )

    fixed = {name: net for name, (net, _) in wanted.items() if net is not None}
    given = {n for n in fixed if n not in kept}
    taken = [network.control_plane_range]
    named = {"controlPlaneRange": network.control_plane_range, **fixed}
    items = list(named.items())
    for i, (name_a, net_a) in enumerate(items):
        for name_b, net_b in items[i + 1 :]:
            if net_a.overlaps(net_b):
                raise PlanError(
                    f"network.{name_a} {net_a} overlaps network.{name_b} {net_b}",
                    hint="give each range its own addresses",
                )
    taken += fixed.values()
    placed: dict[str, IPv4Network] = dict(fixed)
    computed = []
    what = {"podRange": "pod range", "subnetRange": "subnet", "serviceRange": "service range"}
    # Largest first keeps every block aligned with no gaps between them.
    for name, (_, prefix) in sorted(wanted.items(), key=lambda item: item[1][1]):
        if name not in fixed:
            placed[name] = _allocate(network.address_space, prefix, taken, what[name])
            taken.append(placed[name])
            computed.append(name)
    return NetworkPlan(
        max_pods_per_node=max_pods,
        pod_block_prefix=block,
        nodes_to_address=nodes_to_address,
        subnet_range=str(placed["subnetRange"]),
        pod_range=str(placed["podRange"]),
        service_range=str(placed["serviceRange"]),
        control_plane_range=str(network.control_plane_range),
        nat_dynamic_ports=True,
        nat_max_ports_per_vm=limits.nat_max_ports_per_vm(largest_node_cores),
        pod_range_name=POD_RANGE_NAME,
        service_range_name=SERVICE_RANGE_NAME,
        pod_range_nodes=pod_range_capacity(placed["podRange"], max_pods),
        subnet_range_nodes=subnet_capacity(placed["subnetRange"]),
        computed=tuple(sorted({*computed, *kept} - given)),
        kept=tuple(sorted(kept)),
    )
