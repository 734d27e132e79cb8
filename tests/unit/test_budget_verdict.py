"""The budget verdict and the gate before ``up`` on estimates with round figures, so that
every runway, status and reason is worked out here by hand: the default profile's Plan
(a $25,000 budget asking for at least 20 hours at peak) with the estimate's totals set."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost.budget import enforce, runway_hours, verdict
from gridcloud.cost.estimate import Estimate, estimate
from gridcloud.errors import BudgetError, ExitCode
from gridcloud.plan import Plan

MakePlan = Callable[..., Plan]
D = Decimal


@pytest.fixture
def plan(make_plan: MakePlan) -> Plan:
    return make_plan()


@pytest.fixture
def priced(plan: Plan, catalog: Catalog) -> Callable[..., Estimate]:
    """The default Plan's estimate with its totals replaced: idle a month and an hour, peak
    an hour (a 730-hour month: idle 7,300 a month is 10 an hour)."""
    real = estimate(plan, catalog)

    def make(idle: str | None = "7300", peak: str | None = "1010", **more: Any) -> Estimate:
        hourly = None if idle is None else D(idle) / 730
        changes = {
            "idle_monthly": None if idle is None else D(idle),
            "idle_hourly": hourly,
            "peak_hourly": None if peak is None else D(peak),
            "complete": True,
            "missing": (),
            "lower_bound": False,
            **more,
        }
        return real.model_copy(update=changes)

    return make


def test_the_runway_is_what_the_budget_buys_after_the_idle_cost(
    priced: Callable[..., Estimate],
) -> None:
    # (25,000 - 7,300) / (1,010 - 10) = 17.7 hours
    assert runway_hours(D(25000), priced()) == D("17.7")
    # idle above the budget: nothing left, 0 hours (not negative)
    assert runway_hours(D(5000), priced()) == 0
    # nothing elastic (peak = idle), or a figure unknown: no runway
    assert runway_hours(D(25000), priced(peak="10")) is None
    assert runway_hours(D(25000), priced(peak="9")) is None
    assert runway_hours(D(25000), priced(peak=None)) is None
    assert runway_hours(D(25000), priced(idle=None)) is None
    assert runway_hours(D(25000), priced(idle_hourly=None)) is None
    assert runway_hours(D(25000), priced(idle_monthly=None)) is None


def test_short_of_the_runway_asked_for_is_over(plan: Plan, priced: Callable[..., Estimate]) -> None:
    result = verdict(plan, priced())
    assert result.status == "over" and result.blocks_deploy
    assert (result.monthly_budget, result.idle_monthly) == (25000, 7300)
    assert result.runway_hours == D("17.7") and result.min_runway_hours == 20
    assert result.reasons == (
        "the budget buys 17.7 hours at peak; the profile asks for at least 20 "
        "(budget.minRunwayHours)",
    )


def test_the_runway_asked_for_exactly_is_within(
    plan: Plan, priced: Callable[..., Estimate]
) -> None:
    # (25,000 - 7,300) / (895 - 10) = 20 hours exactly
    result = verdict(plan, priced(peak="895"))
    assert result.runway_hours == 20
    assert result.status == "within" and not result.blocks_deploy
    assert result.reasons == (
        "idle $7,300.00 of $25,000.00 a month; the rest buys 20.0 hours at peak",
    )


def test_idle_above_the_budget_is_over(plan: Plan, priced: Callable[..., Estimate]) -> None:
    # idle 26,000: above 25,000, and nothing left for the peak (0 hours)
    result = verdict(plan, priced(idle="26000", peak="1035.6164"))
    assert result.status == "over"
    assert result.reasons == (
        "the idle cost, $26,000.00 a month, is above the budget of $25,000.00",
        "the budget buys 0.0 hours at peak; the profile asks for at least 20 "
        "(budget.minRunwayHours)",
    )
    # idle at the budget exactly is not above it; its runway (0 hours) still is short
    at = verdict(plan, priced(idle="25000", peak="1034.2466"))
    assert not any("idle cost" in r for r in at.reasons)


def test_nothing_elastic_is_within_with_no_peak_cost(
    plan: Plan, priced: Callable[..., Estimate]
) -> None:
    result = verdict(plan, priced(peak="10"))
    assert result.status == "within" and result.runway_hours is None
    assert result.reasons == (
        "idle $7,300.00 of $25,000.00 a month; the rest buys no elastic cost",
    )


def test_an_unknown_price_is_unknown_and_names_it(
    plan: Plan, priced: Callable[..., Estimate]
) -> None:
    result = verdict(
        plan, priced(peak=None, complete=False, missing=("spot price of nvidia-l4 in mars-1",))
    )
    assert result.status == "unknown" and result.blocks_deploy
    assert result.runway_hours is None
    [reason] = result.reasons
    assert reason.startswith(
        "the budget cannot be checked: the catalog has no spot price of nvidia-l4 in mars-1. "
        "To get it: `gridcloud catalog refresh --project P --region us-central1`"
    )
    # several missing: all named; none named: said so
    two = verdict(plan, priced(complete=False, missing=("a", "b")))
    assert "the catalog has no a; b." in two.reasons[0]
    unnamed = verdict(plan, priced(complete=False, missing=(), region=None))
    assert "no a price the estimate needs. To get it:" in unnamed.reasons[0]
    assert "--region REGION" in unnamed.reasons[0]
    # unknown, but over on what is known: over
    over = verdict(plan, priced(idle="26000", complete=False, missing=("x",)))
    assert over.status == "over"


def test_lower_bound_spot_prices_are_said(plan: Plan, priced: Callable[..., Estimate]) -> None:
    result = verdict(plan, priced(peak="895", lower_bound=True))
    assert result.status == "within"
    assert result.reasons[0].startswith("some spot prices are lower bounds")
    assert result.reasons[1].startswith("idle $7,300.00 of $25,000.00")


def test_without_a_budget_or_a_cloud_bill(
    make_plan: MakePlan, priced: Callable[..., Estimate]
) -> None:
    def no_budget(data: dict[str, Any]) -> None:
        del data["budget"]

    none = verdict(make_plan(no_budget), priced())
    assert none.status == "no-budget" and not none.blocks_deploy
    assert none.monthly_budget is None and none.idle_monthly == 7300
    assert none.runway_hours is None and none.min_runway_hours is None
    assert none.reasons == ("the profile sets no budget: nothing caps the spending",)


def test_on_an_existing_cluster_the_budget_is_not_applicable(
    priced: Callable[..., Estimate],
) -> None:
    from gridcloud.analysis import analyse
    from tests.conftest import PROFILES

    onprem = analyse(PROFILES / "onprem.yaml").plan
    result = verdict(onprem, priced())
    assert result.status == "not-applicable" and not result.blocks_deploy
    assert result.monthly_budget is None  # the onprem profile sets none
    assert result.runway_hours is None and result.min_runway_hours is None
    assert result.reasons == ("an existing cluster: gridcloud adds nothing to a cloud bill",)


def test_the_gate_refuses_over_and_unknown_unless_allowed(
    plan: Plan, priced: Callable[..., Estimate]
) -> None:
    over = verdict(plan, priced())
    with pytest.raises(BudgetError) as info:
        enforce(over, allow_over_budget=False)
    assert info.value.exit_code == ExitCode.OVER_BUDGET == 4
    assert info.value.message == (
        "the budget gate refused: the budget buys 17.7 hours at peak; the profile asks for at "
        "least 20 (budget.minRunwayHours)"
    )
    assert info.value.hint == (
        "lower the pools' maxima or raise budget.monthly; --allow-over-budget deploys anyway"
    )
    enforce(over, allow_over_budget=True)

    unknown = verdict(plan, priced(peak=None, complete=False, missing=("x", "y")))
    with pytest.raises(BudgetError) as unknown_info:
        enforce(unknown, allow_over_budget=False)
    assert unknown_info.value.hint is not None
    assert unknown_info.value.hint.startswith("price what is missing (as the reason says)")
    two = verdict(plan, priced(idle="26000", peak="1035.6164"))
    with pytest.raises(BudgetError, match=r"above the budget of \$25,000\.00; the budget buys"):
        enforce(two, allow_over_budget=False)
    enforce(verdict(plan, priced(peak="895")), allow_over_budget=False)  # within: passes


def test_a_runway_from_a_small_elastic_cost(plan: Plan, priced: Callable[..., Estimate]) -> None:
    """50 cents an hour over the idle 10: (25,000 - 7,300) / 0.5 = 35,400 hours."""
    assert runway_hours(D(25000), priced(peak="10.5")) == 35400


def test_idle_at_the_budget_exactly_with_nothing_elastic_is_within(
    plan: Plan, priced: Callable[..., Estimate]
) -> None:
    result = verdict(plan, priced(idle="25000", peak=str(D(25000) / 730)))
    assert result.runway_hours is None and result.status == "within"


def test_an_existing_cluster_with_a_budget(catalog: Catalog) -> None:
    """Its budget is shown, nothing is billed: every figure zero, not unknown."""
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile import parse_profile
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["budget"] = {"monthly": 1000, "currency": "USD"}
    profile = parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog, PROFILE_CHECKS)
    plan, cost = planned(profile, catalog)
    assert (cost.idle_monthly, cost.idle_hourly, cost.peak_hourly) == (0, 0, 0)
    assert (cost.gke_fee_monthly, cost.gke_free_tier_monthly, cost.peak_cores) == (0, 0, 0)
    assert cost.complete is True and cost.pools == () and cost.region is None
    result = verdict(plan, cost)
    assert result.status == "not-applicable"
    assert (result.monthly_budget, result.idle_monthly) == (1000, 0)


def test_a_region_without_prices_keeps_each_pools_shape(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    from tests.unit.test_cost import in_europe_west4, without

    cost = estimate(make_plan(in_europe_west4), without(catalog, "europe-west4"))
    cpu = next(p for p in cost.pools if p.name == "cpu")
    assert (cpu.machine_type, cpu.max_cores, cpu.max_nodes) == ("n2d-highcpu-80", 100_000, 1250)
    assert cpu.basis == "unknown" and cpu.sustained_use_discount == 0
    assert cpu.missing == ("every price in europe-west4 (the catalog has no price table for it)",)
