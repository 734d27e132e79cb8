"""Policy findings: legal plans that are likely mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
    """Each rule in RULE_IDS has a test here where it fires (what no profile can trip is a
    Plan invariant instead: tests/unit/test_invariants.py)."""
    from gridcloud.policy.rules import RULE_IDS

    tested = {
        "elastic-min-zero",
        "large-on-demand",
        "no-budget",
        "no-hard-cap",
        "deletion-protection-off",
        "hub-login-open",
        "interactive-on-spot",
        "control-plane-open",
        "grid-rbac-broad",
        "privileged-pod",
        "ingress-without-tls",  # tests/services/test_https.py
    }
    assert set(RULE_IDS) == tested


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


def test_an_open_control_plane_is_a_warning_with_the_fix(make_plan: MakePlan) -> None:
    assert "control-plane-open" not in rules(make_plan())  # the default lists CERN's ranges

    def anywhere(data: dict[str, Any]) -> None:
        del data["cluster"]["authorizedNetworks"]

    findings = [f for f in evaluate(make_plan(anywhere)) if f.rule == "control-plane-open"]
    assert len(findings) == 1
    assert findings[0].blocks_strict
    assert "cluster.authorizedNetworks" in findings[0].fix

    def the_world(data: dict[str, Any]) -> None:
        data["cluster"]["authorizedNetworks"].append({"name": "all", "cidr": "0.0.0.0/0"})

    assert "control-plane-open" in rules(make_plan(the_world))


def test_the_grid_submitter_role_stays_minimal(make_plan: MakePlan) -> None:
    from gridcloud.plan.services.model import PolicyRule

    plan = make_plan()
    site = plan.services.grid_site
    assert site is not None
    assert "grid-rbac-broad" not in rules(plan)
    for extra, named in [
        (PolicyRule(api_groups=("",), resources=("*",), verbs=("get",)), "*"),
        (
            PolicyRule(
                api_groups=("rbac.authorization.k8s.io",), resources=("roles",), verbs=("bind",)
            ),
            "bind",
        ),
        (PolicyRule(api_groups=("",), resources=("pods/exec",), verbs=("create",)), "pods/exec"),
        (PolicyRule(api_groups=("*",), resources=("jobs",), verbs=("get",)), "*"),
    ]:
        wider = site.model_copy(update={"role_rules": (*site.role_rules, extra)})
        widened = plan.model_copy(
            update={"services": plan.services.model_copy(update={"grid_site": wider})}
        )
        found = [f for f in evaluate(widened) if f.rule == "grid-rbac-broad"]
        assert len(found) == 1, extra
        assert named in found[0].message


def test_no_privileged_pod_where_an_unprivileged_one_would_do(make_plan: MakePlan) -> None:
    import copy

    plan = make_plan()
    assert "privileged-pod" not in rules(plan)
    # the pilot template made privileged, as several sites' templates are
    site = plan.services.grid_site
    assert site is not None
    template = copy.deepcopy(site.job_template)
    template["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    privileged = plan.model_copy(
        update={
            "services": plan.services.model_copy(
                update={"grid_site": site.model_copy(update={"job_template": template})}
            )
        }
    )
    assert [
        f.message.split(" is")[0] for f in evaluate(privileged) if f.rule == "privileged-pod"
    ] == ["the pilot Job's container pilot"]
    # the hub's iptables init container, the chart's default, on a cluster enforcing policies
    values = copy.deepcopy(plan.services.release("jupyterhub").values)
    del values["singleuser"]["cloudMetadata"]
    assert "privileged-pod" in rules(_with_values(plan, "jupyterhub", values))


def test_on_prem_keeps_the_metadata_block_where_policies_may_not_be_enforced() -> None:
    from gridcloud.facility import analyse
    from tests.conftest import PROFILES

    plan = analyse(PROFILES / "onprem.yaml").plan
    values = plan.services.release("jupyterhub").values
    assert values["singleuser"]["cloudMetadata"]["blockWithIptables"] is True
    assert "privileged-pod" not in rules(plan)
    # nor any of the cluster rules: there is no cluster of ours to harden
    assert "control-plane-open" not in rules(plan)


def test_a_waiver_of_what_is_now_an_invariant_is_refused(make_profile: Any) -> None:
    """Private nodes are always on: there is nothing to waive (docs/policy.md)."""
    from gridcloud.errors import ProfileError

    def waive(data: dict[str, Any]) -> None:
        data["policy"] = {"waivers": [{"rule": "private-nodes-off", "reason": "a long reason"}]}

    with pytest.raises(ProfileError, match="'private-nodes-off' is not a policy rule"):
        make_profile(waive)
