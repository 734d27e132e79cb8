"""Who may push whom off a node: the facility's priority classes, decided in one place.

Only what shares a pool with grid pilots may preempt: pilots fill idle cores and are the
first to go. Notebooks and Dask schedulers run on the on-demand pool beside REANA's jobs,
which REANA 0.9 cannot give a priority class (they run at 0): a notebook that preempted
would kill a workflow step, so notebooks and schedulers wait for the autoscaler instead.
Dask workers preempt pilots, unless their pool also runs REANA's jobs.
"""

from __future__ import annotations

from gridcloud.plan.services.model import PriorityClassPlan

PILOT = PriorityClassPlan(
    name="gridcloud-grid-pilot",
    value=100,
    preemption_policy="Never",
    description="Grid pilots: fill idle cores, never preempt, first to be preempted.",
)
INTERACTIVE = PriorityClassPlan(
    name="gridcloud-interactive",
    value=1000,
    preemption_policy="Never",
    description="Notebooks and Dask schedulers: scheduled before pilots, preempt nothing.",
)
SERVICES = PriorityClassPlan(
    name="gridcloud-services",
    value=10000,
    preemption_policy="Never",
    description="The facility's always-on services on the control node.",
)


def dask_workers(shares_pool_with_reana: bool) -> PriorityClassPlan:
    """Dask workers take cores from pilots, except on a pool where REANA jobs run."""
    return PriorityClassPlan(
        name="gridcloud-dask-worker",
        value=1000,
        preemption_policy="Never" if shares_pool_with_reana else "PreemptLowerPriority",
        description="Dask workers: preempt grid pilots for their cores"
        + (" (not here: REANA jobs share their pool)" if shares_pool_with_reana else "."),
    )
