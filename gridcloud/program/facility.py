"""``build(plan)``: the one Pulumi program, a mechanical translation of the Plan.

Used by ``gridcloud up`` (Automation API, inline program) and by plain ``pulumi up``
(``stacks/__main__.py``). It decides nothing: every size, name, label and range comes from
the Plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

from gridcloud.plan.outputs import StackOutputs
from gridcloud.program.addresses import Addresses
from gridcloud.program.budget import CloudBudget
from gridcloud.program.cluster import GkeCluster
from gridcloud.program.compute_classes import ComputeClasses
from gridcloud.program.identity import HarvesterIdentity, NodeIdentity
from gridcloud.program.kubernetes import existing_provider, gke_provider
from gridcloud.program.network import Network
from gridcloud.program.node_pools import NodePool
from gridcloud.program.services import Services
from gridcloud.program.services.kubeconfig import existing_cluster
from gridcloud.program.storage import FacilityStorage

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

    from gridcloud.plan import Plan


@dataclass
class Facility:
    """What ``build`` made: the provider services use, and the stack outputs (by key, each
    declared in :class:`gridcloud.plan.outputs.StackOutputs`)."""

    provider: k8s.Provider
    outputs: dict[str, object] = field(default_factory=dict)


def build(plan: Plan) -> Facility:
    """Declare the facility's resources for ``plan``."""
    from gridcloud.plan.cap import unpriced_cap

    if unpriced_cap(plan):
        raise ValueError(
            "the Plan's hard cap is missing: it comes with the prices, from "
            "gridcloud.analysis.planned (or analyse), not from expand alone"
        )
    if plan.target.provider != "gcp":
        provider = existing_provider("kubernetes", plan.target.kubeconfig, plan.target.context)
        server, ca = existing_cluster(plan.target.kubeconfig, plan.target.context)
        services = Services("services", plan, provider=provider, api_server=server, ca_data=ca)
        return Facility(
            provider=provider,
            outputs=StackOutputs.written(
                {**StackOutputs.of_plan(plan).exported(), **services.outputs}
            ),
        )

    network = Network("network", plan)
    identity = NodeIdentity("node-identity", plan)
    cluster = GkeCluster(
        "cluster",
        plan,
        network=network.network,
        subnet=network.subnet,
        node_account_email=identity.account.email,
    )
    pools = [
        NodePool(
            pool.name,
            plan,
            pool=pool,
            cluster=cluster.cluster,
            account_email=identity.account.email,
        )
        for pool in plan.pools
    ]
    ca_data = cluster.cluster.master_auth.cluster_ca_certificate
    provider, kubeconfig = gke_provider(
        "kubernetes",
        cluster_name=cluster.cluster.name,
        endpoint=cluster.cluster.endpoint,
        ca_certificate=ca_data,
        # the services need somewhere to run: the control pool, at least
        depends_on=[pools[0]],
    )
    if plan.compute_classes:
        # a class names its rules' node pools: applied once they exist
        ComputeClasses("compute-classes", plan, provider=provider, pools=list(pools))
    addresses = Addresses("addresses", plan)
    budget_outputs: dict[str, object] = {}
    if plan.budget is not None and plan.budget.topic is not None:
        budget = CloudBudget("budget", plan, cluster=cluster.cluster)
        budget_outputs = {"budget": budget.budget.name, "budget_topic": budget.topic.id}
        if budget.function is not None and budget.account is not None:  # a hard cap
            budget_outputs |= {
                "enforcer_function": budget.function.name,
                "enforcer_account": budget.account.email,
            }
    if plan.multikueue is not None:  # the manager's Google identity (program/multikueue.py)
        from gridcloud.program.multikueue import MultiKueueIdentity

        MultiKueueIdentity("multikueue", plan)
    data_outputs: dict[str, object] = {}
    if plan.data is not None and plan.data.bucket is not None:
        storage = FacilityStorage("data", plan)
        data_outputs = {"data_bucket": storage.bucket.name}
        if storage.rucio_account is not None:
            data_outputs["rucio_account"] = storage.rucio_account.email
    site = plan.services.grid_site
    if site is not None and site.google is not None:
        HarvesterIdentity("harvester-identity", plan)
    services = Services(
        "services",
        plan,
        provider=provider,
        api_server=cluster.cluster.endpoint.apply(lambda host: f"https://{host}"),
        ca_data=ca_data,
        # an Ingress names its address, which must exist first
        opts=pulumi.ResourceOptions(depends_on=[addresses]),
    )
    return Facility(
        provider=provider,
        outputs=StackOutputs.written(
            {
                **StackOutputs.of_plan(plan).exported(),
                **services.outputs,
                "cluster_name": cluster.cluster.name,
                "cluster_endpoint": cluster.cluster.endpoint,
                "kubeconfig": kubeconfig,
                "pools": [p.pool.name for p in pools],
                "node_service_account": identity.account.email,
                # point each hostname's DNS A record here
                "addresses": {host: a.address for host, a in addresses.addresses.items()},
                **budget_outputs,
                **data_outputs,
            }
        ),
    )


def export(facility: Facility) -> None:
    """Export the stack outputs (inside a Pulumi program only)."""
    for key, value in facility.outputs.items():
        pulumi.export(key, value)
