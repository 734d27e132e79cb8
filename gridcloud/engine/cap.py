"""The hard cap as the engine sees it: the enforcer records a cap in force as a label on the
live cluster (gridcloud/enforcer/); ``up`` refuses to undo it unless told (``--lift-cap``),
``status`` shows it. Read through the GKE API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridcloud.errors import BudgetError, EngineError
from gridcloud.plan.cap import CAP_LABEL

if TYPE_CHECKING:
    from gridcloud.plan import Plan


@dataclass(frozen=True)
class ClusterRef:
    project: str
    location: str
    name: str

    @property
    def path(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/clusters/{self.name}"


def read_cap(cluster: ClusterRef) -> str | None:
    """The budget period a cap is in force for, or None (also when the cluster does not
    exist yet); raises :class:`EngineError` when the cluster cannot be read."""
    from google.api_core import exceptions
    from google.cloud import container_v1

    from gridcloud.google_errors import failures, first_line

    try:
        found = container_v1.ClusterManagerClient(transport="rest").get_cluster(name=cluster.path)
    except exceptions.NotFound:
        return None
    except failures() as e:
        raise EngineError(
            f"cannot read cluster {cluster.name} to see whether the budget cap is in force: "
            f"{first_line(e)}",
            hint="check your credentials and access (`gridcloud check`); the cap is a label "
            f"{CAP_LABEL} on the cluster",
        ) from e
    return dict(found.resource_labels).get(CAP_LABEL)


def of_plan(plan: Plan) -> ClusterRef | None:
    """The cluster a Plan with a hard cap builds; None without a cap."""
    if plan.cluster is None or plan.budget is None or plan.budget.cap is None:
        return None
    assert plan.target.provider == "gcp"
    return ClusterRef(plan.target.project, plan.cluster.location, plan.cluster.name)


def gate(plan: Plan, *, lift: bool) -> bool:
    """Before ``up``: refuse while a cap is in force, unless ``lift``. True when ``up`` must
    also refresh (to see the pools the enforcer scaled down, and give them back)."""
    cluster = of_plan(plan)
    if cluster is None:
        return False
    period = read_cap(cluster)
    if period is None:
        return False
    if not lift:
        raise BudgetError(
            f"the budget cap is in force for {period}: the enforcer scaled the elastic pools "
            "of this facility to zero, and `up` would give them back their autoscaling",
            hint="wait for the next budget period (the cap lifts itself when "
            "budget.restoreOnNewPeriod is true), raise budget.monthly, or run `gridcloud up "
            "--lift-cap` to restore the pools now",
        )
    return True


def status(outputs: dict[str, object]) -> dict[str, object] | None:
    """For ``status``: whether a cap is in force, from a stack whose outputs name an enforcer;
    None for a stack without one."""
    from gridcloud.plan.outputs import StackOutputs

    facts = StackOutputs.read(outputs)
    if facts.enforcer_function is None:
        return None
    cluster = ClusterRef(
        str(facts.project), str(facts.cluster_location), str(facts.cluster_name or facts.facility)
    )
    try:
        period = read_cap(cluster)
    except EngineError as error:
        return {"inForce": None, "period": None, "error": error.message}
    return {"inForce": period is not None, "period": period, "error": None}
