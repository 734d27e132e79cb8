"""Policy findings: legal plans that are likely mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridcloud.plan import Plan
from gridcloud.policy import evaluate

MakePlan = Callable[..., Plan]


def rules(plan: Plan) -> set[str]:
    return {f.rule for f in evaluate(plan)}


def test_default_profile_has_no_unwaived_warnings(make_plan: MakePlan) -> None:
    """It passes `plan --strict`: its one warning (notebooks on spot) waived with a reason."""
    findings = evaluate(make_plan())
    assert [f for f in findings if f.blocks_strict] == []
    waived = {f.rule for f in findings if f.waived}
    assert waived == {"interactive-on-spot"}
    assert all(f.fix for f in findings)


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


def test_every_rule_id_can_be_found(make_plan: MakePlan) -> None:
    """Each rule in RULE_IDS has a test here where it fires."""
    from gridcloud.policy.rules import RULE_IDS

    tested = {
        "elastic-min-zero",
        "large-on-demand",
        "no-budget",
        "no-hard-cap",
        "deletion-protection-off",
        "netpol-not-enforced",
        "hub-login-open",
        "gateway-unscoped",
        "reana-secret-fixed",
        "interactive-on-spot",
    }
    assert set(RULE_IDS) == tested


def test_network_policies_must_be_enforced(make_plan: MakePlan) -> None:
    plan = make_plan()
    assert "netpol-not-enforced" not in rules(plan)
    assert plan.cluster is not None
    legacy = plan.model_copy(
        update={"cluster": plan.cluster.model_copy(update={"datapath_provider": "LEGACY_DATAPATH"})}
    )
    assert "netpol-not-enforced" in rules(legacy)


def test_hub_login_must_be_restricted(make_plan: MakePlan) -> None:
    assert "hub-login-open" not in rules(make_plan())

    def anyone(data: dict[str, Any]) -> None:
        data["services"]["jupyter"]["oidc"].pop("allowedGroups", None)

    assert "hub-login-open" in rules(make_plan(anyone))


def _with_values(plan: Plan, release: str, values: dict[str, Any]) -> Plan:
    releases = tuple(
        r.model_copy(update={"values": values}) if r.name == release else r
        for r in plan.services.releases
    )
    return plan.model_copy(
        update={"services": plan.services.model_copy(update={"releases": releases})}
    )


def test_the_gateway_must_be_scoped_to_the_hub(make_plan: MakePlan) -> None:
    import copy

    plan = make_plan()
    assert "gateway-unscoped" not in rules(plan)
    values = copy.deepcopy(plan.services.release("dask-gateway").values)
    del values["gateway"]["auth"]["jupyterhub"]["jupyterhubServiceName"]
    assert "gateway-unscoped" in rules(_with_values(plan, "dask-gateway", values))


def test_reana_secrets_must_be_generated(make_plan: MakePlan) -> None:
    import copy

    plan = make_plan()
    assert "reana-secret-fixed" not in rules(plan)
    values = copy.deepcopy(plan.services.release("reana").values)
    values["secrets"]["database"]["password"] = "reana"  # the chart's own default
    values["secrets"]["mail"] = {"password": "hunter2"}
    findings = [
        f for f in evaluate(_with_values(plan, "reana", values)) if f.rule == "reana-secret-fixed"
    ]
    assert [f.message for f in findings] == [
        "REANA's secrets.mail.password is a fixed value, not one generated at deploy"
    ]


def test_interactive_work_on_spot_is_flagged_and_can_be_waived(make_plan: MakePlan) -> None:
    def no_waiver(data: dict[str, Any]) -> None:
        data.pop("policy", None)

    plan = make_plan(no_waiver)
    flagged = [f for f in evaluate(plan) if f.rule == "interactive-on-spot"]
    assert {f.message.split(" run on")[0] for f in flagged} == {"GPU notebooks", "Arm notebooks"}
    assert all(f.blocks_strict for f in flagged)

    def on_demand(data: dict[str, Any]) -> None:
        data.pop("policy", None)
        for pool in data["pools"]:
            if pool["name"] in ("gpu", "arm"):
                pool["spot"] = False

    assert "interactive-on-spot" not in rules(make_plan(on_demand))


def test_strict_refuses_unwaived_warnings_with_exit_8(make_plan: MakePlan) -> None:
    import pytest

    from gridcloud.errors import ExitCode, PolicyError
    from gridcloud.policy import enforce_strict

    def no_waiver(data: dict[str, Any]) -> None:
        data.pop("policy", None)

    with pytest.raises(PolicyError) as info:
        enforce_strict(evaluate(make_plan(no_waiver)))
    assert info.value.exit_code == ExitCode.POLICY == 8
    assert "rule interactive-on-spot" in info.value.message
    enforce_strict(evaluate(make_plan()))  # waived: passes


def test_a_waiver_names_a_real_rule(make_profile: Any) -> None:
    import pytest

    from gridcloud.errors import ProfileError

    def typo(data: dict[str, Any]) -> None:
        data["policy"] = {"waivers": [{"rule": "interactive-on-spt", "reason": "a long reason"}]}

    with pytest.raises(ProfileError, match="did you mean 'interactive-on-spot'"):
        make_profile(typo)

    def short(data: dict[str, Any]) -> None:
        data["policy"] = {"waivers": [{"rule": "no-hard-cap", "reason": "ok"}]}

    with pytest.raises(ProfileError, match="reason"):
        make_profile(short)
