"""IP planning by hand (GKE: a node's pod block holds twice its max pods, 110 pods: a /24;
Google keeps four addresses of a subnet): ranges computed, given, kept from a deployed
stack, and each refusal with its figures."""

from __future__ import annotations

from typing import Any

import pytest

from gridcloud.errors import PlanError
from gridcloud.plan.model import Deployed, NetworkPlan
from gridcloud.plan.network import plan_network
from gridcloud.profile.models import Network

#: 1,000 nodes at 110 pods: 1,000 /24 blocks in a /14 (1,024); 1,004 addresses in a /22.
DEPLOYED = Deployed(
    max_pods_per_node=110,
    pod_range="10.0.0.0/14",
    service_range="10.4.0.0/20",
    subnet_range="10.4.16.0/22",
)


def net(nodes: int = 1000, deployed: Deployed | None = None, **given: Any) -> NetworkPlan:
    return plan_network(Network.model_validate(given), nodes, deployed, largest_node_cores=80)


def test_computed_ranges_largest_first() -> None:
    got = net()
    assert (got.pod_range, got.service_range, got.subnet_range) == (
        "10.0.0.0/14",
        "10.4.0.0/20",
        "10.4.16.0/22",
    )
    assert (got.pod_block_prefix, got.pod_range_nodes, got.subnet_range_nodes) == (24, 1024, 1020)
    assert got.control_plane_range == "172.16.0.0/28" and got.nodes_to_address == 1000
    assert got.computed == ("podRange", "serviceRange", "subnetRange") and got.kept == ()
    assert (got.nat_dynamic_ports, got.nat_max_ports_per_vm) == (True, 8192)
    assert (got.pod_range_name, got.service_range_name) == ("pods", "services")


def test_a_given_range_is_used_and_not_computed() -> None:
    got = net(podRange="10.8.0.0/14")
    assert got.pod_range == "10.8.0.0/14"
    assert got.computed == ("serviceRange", "subnetRange")
    # the others fill the space from its start
    assert (got.service_range, got.subnet_range) == ("10.0.0.0/20", "10.0.16.0/22")


def test_given_ranges_too_small_or_overlapping_are_refused() -> None:
    with pytest.raises(PlanError) as pods:
        net(podRange="10.8.0.0/16")
    assert pods.value.message == (
        "network.podRange 10.8.0.0/16 holds 256 nodes at 110 pods per node (a /24 each); "
        "the pools reach 1,000"
    )
    assert pods.value.hint is not None and pods.value.hint.startswith("use a /14 or larger")
    with pytest.raises(PlanError) as subnet:
        net(subnetRange="10.9.0.0/24")
    assert subnet.value.message == (
        "network.subnetRange 10.9.0.0/24 holds 252 nodes; the pools reach 1,000"
    )
    assert subnet.value.hint is not None and subnet.value.hint.startswith("use a /22 or larger")
    net(subnetRange="10.9.0.0/22")  # 1,020: enough
    with pytest.raises(PlanError, match=r"network.podRange 10.0.0.0/14 overlaps "
                       r"network.subnetRange 10.1.0.0/22"):  # fmt: skip
        net(podRange="10.0.0.0/14", subnetRange="10.1.0.0/22")


def test_an_address_space_too_small() -> None:
    with pytest.raises(PlanError, match=r"the pod range needs a /14, larger than "
                       r"network.addressSpace 10.0.0.0/16"):  # fmt: skip
        net(addressSpace="10.0.0.0/16")
    with pytest.raises(PlanError, match=r"no free /20 for the service range in "
                       r"network.addressSpace 10.0.0.0/14"):  # fmt: skip
        net(addressSpace="10.0.0.0/14")


def test_a_deployed_stack_keeps_its_ranges() -> None:
    same = net(deployed=DEPLOYED)
    assert (same.pod_range, same.service_range, same.subnet_range) == (
        "10.0.0.0/14",
        "10.4.0.0/20",
        "10.4.16.0/22",
    )
    assert same.kept == ("podRange", "serviceRange", "subnetRange")
    assert same.computed == ("podRange", "serviceRange", "subnetRange")
    # fewer nodes: the ranges in use stay as they are (a /18 would do for 100)
    fewer = net(100, deployed=DEPLOYED)
    assert (fewer.pod_range, fewer.subnet_range) == ("10.0.0.0/14", "10.4.16.0/22")
    assert fewer.pod_range_nodes == 1024
    # a range the profile gives is the profile's, not kept
    given = net(deployed=DEPLOYED, serviceRange="10.5.0.0/20")
    assert given.kept == ("podRange", "subnetRange")
    assert given.computed == ("podRange", "subnetRange")


def test_a_deployed_stack_refuses_what_it_cannot_change() -> None:
    older = DEPLOYED.model_copy(update={"max_pods_per_node": 64})
    with pytest.raises(PlanError) as pods:
        net(deployed=older)
    assert pods.value.message == (
        "network.maxPodsPerNode is 110; the deployed cluster has 64, fixed when it was created"
    )
    assert pods.value.hint is not None
    assert pods.value.hint.startswith("set network.maxPodsPerNode: 64")
    with pytest.raises(PlanError) as grown:
        net(1100, deployed=DEPLOYED)
    assert grown.value.message == (
        "the pools now reach 1,100 nodes (with surge); the deployed podRange 10.0.0.0/14 "
        "holds 1,024, and a range in use cannot grow"
    )
    assert grown.value.hint is not None
    assert grown.value.hint.startswith("keep the pools within 1,024 nodes;")
    # 1,021 nodes: the pods' /14 holds them, the subnet's /22 (1,020) does not
    with pytest.raises(PlanError, match=r"the deployed subnetRange 10.4.16.0/22 holds 1,020"):
        net(1021, deployed=DEPLOYED)
    net(1020, deployed=DEPLOYED)  # exactly full: kept
