"""Policy findings: legal plans that are likely mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridcloud.plan import Plan
from gridcloud.policy import evaluate

MakePlan = Callable[..., Plan]


def rules(plan: Plan) -> set[str]:
    return {f.rule for f in evaluate(plan)}


def test_default_profile_has_no_warnings(make_plan: MakePlan) -> None:
    assert [f for f in evaluate(make_plan()) if f.severity == "warning"] == []


def test_nodes_kept_on_are_idle_cost(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 3

    findings = [f for f in evaluate(make_plan(edit)) if f.rule == "elastic-min-zero"]
    assert len(findings) == 1
    assert "pool cpu keeps 3 node(s)" in findings[0].message


def test_large_on_demand_nodes(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["spot"] = False

    assert "large-on-demand" in rules(make_plan(edit))


def test_budget_without_cap_and_no_budget(make_plan: MakePlan) -> None:
    def no_cap(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False

    assert "no-hard-cap" in rules(make_plan(no_cap))

    def no_budget(data: dict[str, Any]) -> None:
        del data["budget"]

    assert "no-budget" in rules(make_plan(no_budget))


def test_deletion_protection_off(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["deletionProtection"] = False

    assert "deletion-protection-off" in rules(make_plan(edit))
