"""The budget verdict, shared by ``gridcloud plan`` (shown) and ``gridcloud up`` (enforced)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from gridcloud import money
from gridcloud.errors import BudgetError
from gridcloud.money import Amount, Hours
from gridcloud.plain import Frozen

if TYPE_CHECKING:
    from gridcloud.cost.estimate import Estimate
    from gridcloud.plan.model import Plan


class Verdict(Frozen):
    status: Literal["within", "over", "unknown", "no-budget", "not-applicable"]
    monthly_budget: Decimal | None
    idle_monthly: Amount | None
    runway_hours: Hours | None
    """Hours at peak the budget buys after the idle cost; None when there is no peak cost
    or it is unknown."""
    min_runway_hours: Decimal | None
    reasons: tuple[str, ...]

    @property
    def blocks_deploy(self) -> bool:
        return self.status in ("over", "unknown")


def runway_hours(budget: Decimal, estimate: Estimate) -> Decimal | None:
    """Exact (rounded where shown); None when nothing is elastic or a price is unknown."""
    if (
        estimate.peak_hourly is None
        or estimate.idle_hourly is None
        or estimate.idle_monthly is None
    ):
        return None
    elastic = estimate.peak_hourly - estimate.idle_hourly
    if elastic <= 0:
        return None
    return max(budget - estimate.idle_monthly, Decimal(0)) / elastic


def verdict(plan: Plan, estimate: Estimate) -> Verdict:
    """Whether the facility fits its budget: idle cost, and hours at peak."""
    budget = plan.budget
    if not plan.on_gcp:
        return Verdict(
            status="not-applicable",
            monthly_budget=budget.monthly if budget else None,
            idle_monthly=estimate.idle_monthly,
            runway_hours=None,
            min_runway_hours=None,
            reasons=("an existing cluster: gridcloud adds nothing to a cloud bill",),
        )
    if budget is None:
        return Verdict(
            status="no-budget",
            monthly_budget=None,
            idle_monthly=estimate.idle_monthly,
            runway_hours=None,
            min_runway_hours=None,
            reasons=("the profile sets no budget: nothing caps the spending",),
        )
    runway = runway_hours(budget.monthly, estimate)
    idle = estimate.idle_monthly
    reasons = []
    if not estimate.complete:
        from gridcloud.cost.estimate import HOW_TO_PRICE

        named = "; ".join(estimate.missing) or "a price the estimate needs"
        reasons.append(
            f"the budget cannot be checked: the catalog has no {named}. To get it: "
            + HOW_TO_PRICE.format(region=estimate.region or "REGION")
        )
    if idle is not None and idle > budget.monthly:
        reasons.append(
            f"the idle cost, {money.shown(idle, budget.currency)} a month, is above "
            f"the budget of {money.shown(budget.monthly, budget.currency)}"
        )
    if runway is not None and runway < budget.min_runway_hours:
        reasons.append(
            f"the budget buys {money.hours(runway)} hours at peak; the profile asks for at "
            f"least {budget.min_runway_hours} (budget.minRunwayHours)"
        )
    status: Literal["within", "over", "unknown"] = "within"
    if not estimate.complete:
        status = "unknown"
    if (idle is not None and idle > budget.monthly) or (
        runway is not None and runway < budget.min_runway_hours
    ):
        status = "over"
    if estimate.lower_bound:
        reasons.append(
            "some spot prices are lower bounds (an older preemptible table; refresh the "
            "catalog): the peak may cost more and the runway be shorter"
        )
    if estimate.data_monthly:
        reasons.append(
            f"the monthly cost includes {money.shown(estimate.data_monthly, budget.currency)} of "
            "the egress and storage the profile expects (data.monthly)"
        )
    if status == "within" and idle is not None:
        at_peak = "no elastic cost" if runway is None else f"{money.hours(runway)} hours at peak"
        reasons.append(
            f"idle {money.shown(idle, budget.currency)} of "
            f"{money.shown(budget.monthly, budget.currency)} a month; "
            f"the rest buys {at_peak}"
        )
    return Verdict(
        status=status,
        monthly_budget=budget.monthly,
        idle_monthly=estimate.idle_monthly,
        runway_hours=runway,
        min_runway_hours=budget.min_runway_hours,
        reasons=tuple(reasons),
    )


def enforce(result: Verdict, *, allow_over_budget: bool) -> None:
    """The gate before ``up``: raise :class:`BudgetError` unless the verdict allows deploying."""
    if result.blocks_deploy and not allow_over_budget:
        hint = (
            "price what is missing (as the reason says), then run it again; "
            "--allow-over-budget deploys without a verdict"
            if result.status == "unknown"
            else "lower the pools' maxima or raise budget.monthly; --allow-over-budget deploys "
            "anyway"
        )
        raise BudgetError("the budget gate refused: " + "; ".join(result.reasons), hint=hint)
