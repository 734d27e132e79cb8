"""Notebooks reach GKE's metadata server, for their Workload Identity tokens, when the
facility has its bucket: the notebooks' NetworkPolicy as the JupyterHub chart (4.4.0) renders
it from gridcloud's values with Helm's engine, read the way the NetworkPolicy API defines
egress (a connection is allowed when one rule's peers hold the address and its ports the
port; an ``except`` cuts a block's addresses out).

What the metadata server needs is GKE's (cloud.google.com/kubernetes-engine/docs/how-to/
network-policy, "Workload Identity Federation for GKE"): egress to 169.254.169.252/32 on
port 988 and, on Dataplane V2 (gridcloud's clusters), to 169.254.169.254/32 on port 80. The
chart's own ``cloudMetadataServer: true`` would open every port of 169.254.169.254; gridcloud
opens those two, and nothing else of the metadata address beyond the chart's DNS rule.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.render import Rendered

METADATA = "169.254.169.254"
GKE_METADATA = "169.254.169.252"


def allows(policy: dict[str, Any], address: str, port: int, protocol: str = "TCP") -> bool:
    """Whether ``policy``'s egress rules let a pod open ``address:port`` (IP blocks only:
    the pod and namespace selectors name pods, never these link-local addresses)."""
    ip = ipaddress.ip_address(address)
    for rule in policy["spec"].get("egress", []):
        ports = rule.get("ports")
        if ports is not None and not any(
            p.get("port") in (None, port) and p.get("protocol", "TCP") == protocol for p in ports
        ):
            continue
        peers = rule.get("to")
        if peers is None:
            return True
        for peer in peers:
            block = peer.get("ipBlock")
            if block is None:
                continue
            inside = ip in ipaddress.ip_network(block["cidr"])
            cut = any(ip in ipaddress.ip_network(c) for c in block.get("except", []))
            if inside and not cut:
                return True
    return False


def notebook_policy(objects: list[Rendered]) -> dict[str, Any]:
    hub = next(r for r in objects if r.name == "jupyterhub")
    policy: dict[str, Any] = hub.find("NetworkPolicy", "singleuser").body
    return policy


def test_the_reading_of_a_policy() -> None:
    """The reader above on a policy worked by hand."""
    policy = {
        "spec": {
            "egress": [
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]},
                {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"port": 53}]},
            ]
        }
    }
    assert allows(policy, "8.8.8.8", 443)
    assert not allows(policy, METADATA, 80)
    assert allows(policy, METADATA, 53)
    assert not allows(policy, METADATA, 53, "UDP")


def test_with_the_bucket_notebooks_reach_the_gke_metadata_server(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    plan = plans["default"]
    assert plan.data is not None and plan.data.bucket is not None
    assert "jupyter" in {a.namespace for a in plan.data.workload_access}
    policy = notebook_policy(rendered["default"])
    assert allows(policy, METADATA, 80)
    assert allows(policy, GKE_METADATA, 988)
    # nothing else of the metadata address: not its other ports (the chart's DNS rule
    # aside, port 53, which it opens for every profile)
    for port in (443, 8080, 988):
        assert not allows(policy, METADATA, port)


def test_without_the_bucket_the_metadata_server_stays_closed(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    assert plans["small"].data is None
    policy = notebook_policy(rendered["small"])
    assert not allows(policy, METADATA, 80)
    # the chart's own default, unchanged: the metadata address is cut out of the internet
    assert allows(policy, "8.8.8.8", 443)


def test_no_other_policy_restricts_the_pods_that_use_the_bucket(
    rendered: dict[str, list[Rendered]],
) -> None:
    """Dask workers, REANA's jobs and the pilots get no egress policy from their charts
    (REANA's policies are ingress only): among the rendered NetworkPolicies, only
    JupyterHub's restrict egress, and of those only the notebooks' selects pods that use the
    bucket (the hub's and the proxy's pods do not)."""
    egress = {
        (r.name, m.body["metadata"]["name"])
        for r in rendered["default"]
        for m in r.of_kind("NetworkPolicy")
        if "Egress" in m.body["spec"].get("policyTypes", [])
    }
    assert egress == {("jupyterhub", "hub"), ("jupyterhub", "proxy"), ("jupyterhub", "singleuser")}
