"""The budget on Google Cloud: a Cloud Billing budget notifying a Pub/Sub topic, and the hard
cap's enforcer listening there (gridcloud/enforcer/). Decided here, translated by
gridcloud/program/budget.py."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from gridcloud.labels import BUDGET_LABEL
from gridcloud.plan.model import BudgetPlan, CappedCluster, CapPlan, EnforcedPool
from gridcloud.plan.shards import HOME

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.plan.model import Plan
    from gridcloud.profile.models import Budget

#: The cluster label that records a cap in force.
CAP_LABEL = "gridcloud-cap"
#: What the enforcer calls, and nothing else: read the cluster and its pools, change their
#: autoscaling, size and the cluster's labels (all container.clusters.update), follow the
#: operations, read the pools' instance groups for their current size.
ENFORCER_PERMISSIONS = (
    "container.clusters.get",
    "container.clusters.update",
    "container.operations.get",
    "compute.instanceGroupManagers.get",
)
RUNTIME = "python312"
#: The function's timeout, the most Cloud Functions allows an event-driven function (2nd gen):
#: a cap is a series of GKE operations of minutes each, retried while GKE is busy. The
#: enforcer's handler keeps its own deadline below it (gridcloud/enforcer/gke.py).
TIMEOUT_SECONDS = 540


def cloud_budget(plan: Plan, budget: Budget, label: str) -> BudgetPlan:
    """``plan.budget`` with the Cloud Billing budget; its hard cap comes with the prices
    (:func:`with_cap`)."""
    assert plan.budget is not None
    assert plan.target.provider == "gcp"
    if budget.billing_account is None:
        return plan.budget
    if plan.shards:
        # each shard's resources carry their own facility label: the whole facility carries
        # BUDGET_LABEL (plan/shards.py), and the filter takes one label pair
        label = BUDGET_LABEL
    projects = [plan.target.project]
    for shard in plan.shards:
        assert shard.target.provider == "gcp"
        projects.append(shard.target.project)
    return plan.budget.model_copy(
        update={
            "display_name": f"gridcloud {plan.name}",
            "topic": f"{plan.name}-budget",
            "label_filter": {label: plan.name} if budget.scope == "label" else {},
            "projects": tuple(dict.fromkeys(projects)),
        }
    )


def capped_cluster(
    cluster: Plan, name: str, prices: Mapping[str, Decimal | None]
) -> tuple[CappedCluster, list[str]]:
    """One cluster's elastic pools as the cap scales them (``name``: ``home`` or the
    shard's), priced from ``prices`` (its estimate's node-hours), and the pools it could not
    price."""
    assert cluster.cluster is not None
    assert cluster.target.provider == "gcp"
    pools = []
    unpriced = []
    for pool in cluster.elastic_pools:
        assert pool.autoscaling is not None
        hourly = prices.get(pool.name)
        if hourly is None:
            # capped all the same (--allow-over-budget deploys past an unknown verdict): only
            # its share of the lag allowance is unknown, and counted as nothing
            unpriced.append(pool.name if name == HOME else f"{pool.name} (shard {name})")
            hourly = Decimal(0)
        pools.append(EnforcedPool(name=pool.name, node_hourly=hourly, autoscaling=pool.autoscaling))
    found = CappedCluster(
        shard=name,
        project=cluster.target.project,
        location=cluster.cluster.location,
        cluster=cluster.cluster.name,
        pools=tuple(pools),
    )
    return found, unpriced


def with_cap(
    plan: Plan, budget: Budget, node_hourly: Mapping[str, Mapping[str, Decimal | None]]
) -> Plan:
    """``plan`` with the hard cap its profile asks for (``budget.hardCap`` with a billing
    account, on Google Cloud), once the Plan is priced: ``node_hourly`` is, for each cluster
    of the facility (``home``, and each compute-only shard by name), each pool's price of a
    node-hour from the estimate (:func:`gridcloud.analysis.planned` prices a Plan once, for
    the estimate and for the cap). The cap acts on the elastic pools of every cluster: one
    budget for the facility."""
    if plan.budget is None or plan.budget.topic is None or not budget.hard_cap:
        return plan
    assert plan.target.provider == "gcp"
    clusters = []
    unpriced: list[str] = []
    for cluster in (plan, *plan.shards):
        name = cluster.shard or HOME
        capped, missing = capped_cluster(cluster, name, node_hourly.get(name, {}))
        unpriced += missing
        if capped.pools:
            clusters.append(capped)
    cap = CapPlan(
        amount=budget.monthly,
        lag_hours=budget.billing_lag_hours,
        restore_on_new_period=budget.restore_on_new_period,
        label=CAP_LABEL,
        clusters=tuple(clusters),
        function=f"{plan.name}-budget-cap",
        account=f"{plan.name}-cap",
        role_id=f"gridcloud_cap_{plan.name.replace('-', '_')}",
        permissions=ENFORCER_PERMISSIONS,
        bucket=f"{plan.target.project}-{plan.name}-enforcer",
        runtime=RUNTIME,
        timeout_seconds=TIMEOUT_SECONDS,
    )
    warnings = plan.warnings + tuple(
        f"pool {name}: no price, so the hard cap's lag allowance leaves it out (the cap still "
        "scales it to zero); price it to have it counted"
        for name in unpriced
    )
    return plan.model_copy(
        update={"budget": plan.budget.model_copy(update={"cap": cap}), "warnings": warnings}
    )


def unpriced_cap(plan: Plan) -> bool:
    """The Plan's profile asks for a hard cap that :func:`with_cap` has not added: a Plan
    from :func:`gridcloud.plan.expand` alone, not one to deploy."""
    budget = plan.budget
    return (
        budget is not None and budget.hard_cap and budget.topic is not None and budget.cap is None
    )
