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


# --- each rule's edges, severities and words, worked out by hand ------------------------------


@pytest.fixture
def make_onprem(catalog: Any) -> MakePlan:
    """The shipped onprem profile (an existing cluster), changed by ``edit(data)``."""
    import yaml

    from gridcloud.facility import planned
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile import parse_profile
    from tests.conftest import PROFILES

    def make(edit: Any = None) -> Plan:
        data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
        if edit is not None:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
        return planned(parse_profile(text, "onprem.yaml", catalog, PROFILE_CHECKS), catalog)[0]

    return make


def _only(plan: Plan, rule: str) -> Any:
    found = [f for f in evaluate(plan) if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_one_node_kept_on_is_already_idle_cost(make_plan: MakePlan) -> None:
    def one(data: dict[str, Any]) -> None:
        data["pools"][2]["minNodes"] = 1  # ondemand

    finding = _only(make_plan(one), "elastic-min-zero")
    assert finding.severity == "warning" and finding.blocks_strict
    assert finding.message == (
        "pool ondemand keeps 1 node(s) on around the clock (minNodes > 0): that is idle cost "
        "every hour"
    )
    assert finding.fix == ("set pools[ondemand].minNodes to 0; the autoscaler adds nodes on demand")


def test_an_existing_clusters_nodes_are_not_ours_to_price(make_onprem: MakePlan) -> None:
    """On a kubernetes target minNodes, spot and the budget cost gridcloud nothing."""

    def kept_on(data: dict[str, Any]) -> None:
        data["pools"][0]["minNodes"] = 2
        data["pools"][1]["spot"] = True  # the GPU notebooks' pool

    found = rules(make_onprem(kept_on))
    assert not found & {"elastic-min-zero", "no-budget", "no-hard-cap", "interactive-on-spot"}


def test_large_on_demand_starts_at_32_cores(make_plan: MakePlan) -> None:
    def on_demand(machine: str) -> Any:
        def edit(data: dict[str, Any]) -> None:
            data["pools"][2]["machineType"] = machine  # ondemand, spot: false

        return edit

    assert "large-on-demand" not in rules(make_plan(on_demand("n2d-standard-16")))
    finding = _only(make_plan(on_demand("n2d-standard-32")), "large-on-demand")
    assert finding.severity == "warning"
    assert finding.message.startswith("pool ondemand runs 32-core nodes on demand;")
    assert finding.fix == "set spot: true on pool ondemand, or use smaller on-demand nodes"


def test_no_budget_warns_and_no_cap_informs(make_plan: MakePlan) -> None:
    def no_cap(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False

    info = _only(make_plan(no_cap), "no-hard-cap")
    assert info.severity == "info" and not info.blocks_strict
    assert "no-budget" not in rules(make_plan(no_cap))

    def no_budget(data: dict[str, Any]) -> None:
        del data["budget"]

    warning = _only(make_plan(no_budget), "no-budget")
    assert warning.severity == "warning" and warning.blocks_strict
    assert "no-hard-cap" not in rules(make_plan(no_budget))
    assert not rules(make_plan()) & {"no-budget", "no-hard-cap"}  # the default has its cap


def test_deletion_protection_off_is_information(make_plan: MakePlan) -> None:
    def off(data: dict[str, Any]) -> None:
        data["cluster"]["deletionProtection"] = False

    finding = _only(make_plan(off), "deletion-protection-off")
    assert finding.severity == "info" and not finding.blocks_strict
    assert finding.fix == "set cluster.deletionProtection: true for a production facility"
    assert "deletion-protection-off" not in rules(make_plan())


def test_a_slash_zero_anywhere_in_the_list_opens_the_control_plane(make_plan: MakePlan) -> None:
    def first(data: dict[str, Any]) -> None:
        data["cluster"]["authorizedNetworks"].insert(0, {"name": "all", "cidr": "0.0.0.0/0"})

    assert _only(make_plan(first), "control-plane-open").severity == "warning"

    def narrow(data: dict[str, Any]) -> None:  # a /1 is wide, not open to all
        data["cluster"]["authorizedNetworks"] = [{"name": "half", "cidr": "0.0.0.0/1"}]

    assert "control-plane-open" not in rules(make_plan(narrow))


def test_an_open_hub_names_the_fix(make_plan: MakePlan) -> None:
    def anyone(data: dict[str, Any]) -> None:
        data["services"]["jupyter"]["oidc"].pop("allowedGroups", None)

    finding = _only(make_plan(anyone), "hub-login-open")
    assert finding.severity == "warning"
    assert finding.fix == "list the groups that may log in in services.jupyter.oidc.allowedGroups"

    def no_hub(data: dict[str, Any]) -> None:
        anyone(data)
        data["services"]["jupyter"] = {"enabled": False}

    assert "hub-login-open" not in rules(make_plan(no_hub))


def test_notebooks_on_spot_name_the_pool(make_plan: MakePlan) -> None:
    def no_waiver(data: dict[str, Any]) -> None:
        data.pop("policy", None)

    found = [f for f in evaluate(make_plan(no_waiver)) if f.rule == "interactive-on-spot"]
    assert sorted(f.message for f in found) == [
        "Arm notebooks run on the spot pool arm: a reclaimed node ends the sessions on it",
        "GPU notebooks run on the spot pool gpu: a reclaimed node ends the sessions on it",
    ]
    assert all(f.severity == "warning" and f.waived is None for f in found)
    # Dask workers on the spot cpu pool are fault tolerant: not flagged
    assert not any("cpu" in f.message for f in found)

    def no_hub(data: dict[str, Any]) -> None:
        no_waiver(data)
        data["services"]["jupyter"] = {"enabled": False}

    assert "interactive-on-spot" not in rules(make_plan(no_hub))


def test_an_ingress_without_a_certificate_names_its_hostnames(make_onprem: MakePlan) -> None:
    assert "ingress-without-tls" not in rules(make_onprem())  # cert-manager's ClusterIssuer

    def plain(data: dict[str, Any]) -> None:
        del data["target"]["ingress"]["clusterIssuer"]

    found = [f for f in evaluate(make_onprem(plain)) if f.rule == "ingress-without-tls"]
    assert sorted(f.message.split(" (")[0] for f in found) == [
        "nothing serves https://jupyter.campus.example.edu",
        "nothing serves https://reana.campus.example.edu",
    ]
    assert all(f.severity == "warning" and "tlsSecret" in f.fix for f in found)


def test_a_waived_finding_carries_the_reason_and_does_not_block(make_plan: MakePlan) -> None:
    from gridcloud.policy import enforce_strict

    found = [f for f in evaluate(make_plan()) if f.rule == "interactive-on-spot"]
    assert len(found) == 2
    assert all(f.waived and f.waived.startswith("GPU and Arm notebooks run on spot") for f in found)
    assert not any(f.blocks_strict for f in found)
    enforce_strict(found)  # nothing to refuse


def test_strict_counts_and_names_each_blocking_warning(make_plan: MakePlan) -> None:
    from gridcloud.errors import PolicyError
    from gridcloud.policy import enforce_strict

    def two(data: dict[str, Any]) -> None:
        data.pop("policy", None)
        data["cluster"]["deletionProtection"] = False  # info: never blocks

    with pytest.raises(PolicyError) as info:
        enforce_strict(evaluate(make_plan(two)))
    message = info.value.message
    assert message.startswith("2 policy warning(s) the profile does not waive: ")
    assert message.count("(rule interactive-on-spot)") == 2
    assert "; " in message and "deletion" not in message
    assert info.value.hint is not None
    assert "policy: {waivers: [{rule: ID, reason: ...}]}" in info.value.hint


def test_a_rule_waived_twice_is_named_at_its_place(make_profile: Any) -> None:
    from gridcloud.errors import ProfileError

    def twice(data: dict[str, Any]) -> None:
        reason = "GPU and Arm notebooks accept reclaimed nodes"
        data["policy"] = {
            "waivers": [
                {"rule": "interactive-on-spot", "reason": reason},
                {"rule": "no-hard-cap", "reason": reason},
                {"rule": "interactive-on-spot", "reason": reason},
            ]
        }

    with pytest.raises(ProfileError) as info:
        make_profile(twice)
    [problem] = info.value.problems
    assert problem.endswith(": policy.waivers[2].rule: waived more than once")


def test_an_unknown_rule_is_named_at_its_place(make_profile: Any) -> None:
    from gridcloud.errors import ProfileError

    def typo(data: dict[str, Any]) -> None:
        reason = "a reason long enough"
        data["policy"] = {
            "waivers": [
                {"rule": "no-hard-cap", "reason": reason},
                {"rule": "no-budgett", "reason": reason},
            ]
        }

    with pytest.raises(ProfileError) as info:
        make_profile(typo)
    [problem] = info.value.problems
    assert (
        "policy.waivers[1].rule: 'no-budgett' is not a policy rule (docs/policy.md lists them)"
        in (problem)
    )
    assert "did you mean 'no-budget'" in problem


def test_what_counts_as_a_privileged_container() -> None:
    """Privileged, or given SYS_ADMIN, NET_ADMIN or ALL, in the containers or the init
    containers; a container without a name is shown as ?."""
    from gridcloud.policy.rules import _privileged_containers

    spec = {
        "initContainers": [
            {"name": "setup", "securityContext": {"privileged": True}},
            {"name": "quiet", "securityContext": {"runAsNonRoot": True}},
        ],
        "containers": [
            {"name": "sys", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}},
            {"name": "net", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}},
            {"securityContext": {"capabilities": {"add": ["ALL"]}}},
            {"name": "chown", "securityContext": {"capabilities": {"add": ["CHOWN"]}}},
            {"name": "plain"},
            {"name": "no-caps", "securityContext": {"capabilities": {"drop": ["ALL"]}}},
        ],
    }
    assert list(_privileged_containers(spec)) == ["setup", "sys", "net", "?"]
    assert list(_privileged_containers({})) == []
