"""Rules over a Plan. Each rule is a function returning findings; ``RULES`` lists them.

A finding is advice, not an error: the Plan is buildable. Errors belong in the Plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from gridcloud.plan.model import Frozen, Plan

BIG_NODE_CORES = 32


class Finding(Frozen):
    rule: str
    severity: Literal["info", "warning"]
    message: str


Rule = Callable[[Plan], Iterator[Finding]]


def elastic_pools_scale_to_zero(plan: Plan) -> Iterator[Finding]:
    for pool in plan.elastic_pools:
        if pool.min_nodes > 0 and plan.on_gcp:
            yield Finding(
                rule="elastic-min-zero",
                severity="warning",
                message=f"pool {pool.name} keeps {pool.min_nodes} node(s) on around the clock "
                "(minNodes > 0): that is idle cost every hour",
            )


def large_nodes_on_spot(plan: Plan) -> Iterator[Finding]:
    for pool in plan.elastic_pools:
        if plan.on_gcp and not pool.spot and (pool.vcpus or 0) >= BIG_NODE_CORES:
            yield Finding(
                rule="large-on-demand",
                severity="warning",
                message=f"pool {pool.name} runs {pool.vcpus}-core nodes on demand; spot VMs "
                "cost 3 to 5 times less for pilots and Dask workers, which tolerate preemption",
            )


def budget_is_enforced(plan: Plan) -> Iterator[Finding]:
    if not plan.on_gcp:
        return
    if plan.budget is None:
        yield Finding(
            rule="no-budget",
            severity="warning",
            message="no budget: nothing alerts on or caps the spending of elastic pools",
        )
    elif not plan.budget.hard_cap:
        yield Finding(
            rule="no-hard-cap",
            severity="info",
            message="budget alerts only: with hardCap the elastic pools scale to zero at 100%",
        )


def deletion_protection(plan: Plan) -> Iterator[Finding]:
    if plan.cluster is not None and not plan.cluster.deletion_protection:
        yield Finding(
            rule="deletion-protection-off",
            severity="info",
            message="deletion protection is off: `gridcloud destroy` removes the cluster at once",
        )


RULES: tuple[Rule, ...] = (
    elastic_pools_scale_to_zero,
    large_nodes_on_spot,
    budget_is_enforced,
    deletion_protection,
)


def evaluate(plan: Plan) -> list[Finding]:
    return [finding for rule in RULES for finding in rule(plan)]
