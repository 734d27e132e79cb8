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
    """It passes `plan --strict`: its warnings waived with a reason, notebooks on spot by the
    profile, REANA's NFS server's SYS_ADMIN by the Plan's named need."""
    findings = evaluate(make_plan())
    assert [f for f in findings if f.blocks_strict] == []
    waived = {f.rule for f in findings if f.waived}
    assert waived == {"interactive-on-spot", "privileged-pod"}
    (nfs,) = [f for f in findings if f.rule == "privileged-pod"]
    assert nfs.message.startswith("Deployment reana/gridcloud-nfs, container nfs,")
    assert nfs.waived is not None and "nfsd" in nfs.waived
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
        "data-egress-unstated",  # tests/unit/test_data_plan.py
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


def _with_services(plan: Plan, **update: Any) -> Plan:
    return plan.model_copy(update={"services": plan.services.model_copy(update=update)})


def test_the_grid_submitter_role_stays_minimal(make_plan: MakePlan) -> None:
    """The rule reads the Role the submitter is bound to, as the Plan applies it."""
    plan = make_plan()
    site = plan.services.grid_site
    assert site is not None
    assert "grid-rbac-broad" not in rules(plan)
    for extra, named in [
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, "*"),
        (
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"]},
            "bind",
        ),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}, "pods/exec"),
        ({"apiGroups": ["*"], "resources": ["jobs"], "verbs": ["get"]}, "*"),
    ]:
        role = {**site.role, "rules": [*site.role["rules"], extra]}
        widened = _with_services(plan, grid_site=site.model_copy(update={"role": role}))
        found = [f for f in evaluate(widened) if f.rule == "grid-rbac-broad"]
        assert len(found) == 1, extra
        assert named in found[0].message


def _unwaived(plan: Plan, rule: str) -> list[str]:
    return [f.message for f in evaluate(plan) if f.rule == rule and not f.waived]


def _nfs_container(plan: Plan, context: dict[str, Any]) -> Plan:
    import copy

    storage = plan.services.shared_storage
    assert storage is not None
    server = copy.deepcopy(storage.server)
    server["spec"]["template"]["spec"]["containers"][0]["securityContext"] = context
    return _with_services(plan, shared_storage=storage.model_copy(update={"server": server}))


def test_the_nfs_server_gets_exactly_the_rights_the_plan_names(make_plan: MakePlan) -> None:
    """Its SYS_ADMIN and unconfined AppArmor are waived by the Plan's named need; every
    capability, privileged, or the need dropped from the Plan is a warning `--strict` refuses."""
    plan = make_plan()
    assert _unwaived(plan, "privileged-pod") == []
    storage = plan.services.shared_storage
    assert storage is not None
    given = storage.server["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    for context, beyond in [
        ({**given, "capabilities": {"add": ["ALL"]}}, "ALL"),
        ({**given, "capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"]}}, "NET_ADMIN"),
        ({**given, "privileged": True}, "privileged"),
        ({**given, "seccompProfile": {"type": "Unconfined"}}, "seccomp unconfined"),
    ]:
        (message,) = _unwaived(_nfs_container(plan, context), "privileged-pod")
        assert message.startswith("Deployment reana/gridcloud-nfs, container nfs, runs with")
        assert beyond in message and "beyond what the Plan names" in message
    # the same rights without the Plan's need: flagged, not silently accepted
    (message,) = _unwaived(_with_services(plan, privilege_needs=()), "privileged-pod")
    assert "SYS_ADMIN" in message and "AppArmor unconfined" in message


def test_no_privileged_pod_where_an_unprivileged_one_would_do(make_plan: MakePlan) -> None:
    import copy

    plan = make_plan()
    assert _unwaived(plan, "privileged-pod") == []
    # the pilot template made privileged, as several sites' templates are
    site = plan.services.grid_site
    assert site is not None
    template = copy.deepcopy(site.job_template)
    template["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    privileged = _with_services(plan, grid_site=site.model_copy(update={"job_template": template}))
    assert [m.split(" is")[0] for m in _unwaived(privileged, "privileged-pod")] == [
        "the pilot Job's container pilot"
    ]
    # gridcloud's own squid given a capability
    squid = next(o for o in plan.services.objects if o["metadata"]["name"] == "frontier-squid")
    widened = copy.deepcopy(squid)
    widened["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "capabilities": {"add": ["NET_ADMIN"]}
    }
    objects = tuple(widened if o is squid else o for o in plan.services.objects)
    (message,) = _unwaived(_with_services(plan, objects=objects), "privileged-pod")
    assert message.startswith(
        "Deployment grid/frontier-squid, container squid, runs with NET_ADMIN"
    )
    # the hub's iptables init container, the chart's default, on a cluster enforcing policies
    values = copy.deepcopy(plan.services.release("jupyterhub").values)
    del values["singleuser"]["cloudMetadata"]
    assert _unwaived(_with_values(plan, "jupyterhub", values), "privileged-pod")


def test_on_prem_keeps_the_metadata_block_where_policies_may_not_be_enforced() -> None:
    from gridcloud.analysis import analyse
    from tests.conftest import PROFILES

    plan = analyse(PROFILES / "onprem.yaml").plan
    values = plan.services.release("jupyterhub").values
    assert values["singleuser"]["cloudMetadata"]["blockWithIptables"] is True
    assert _unwaived(plan, "privileged-pod") == []
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

    from gridcloud.analysis import planned
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
    """Privileged, any added capability (CHOWN too: beyond the runtime's default set), an
    Unconfined AppArmor or seccomp profile (the container's own, else the pod's), the host's
    namespaces; dropping capabilities or running as non-root grants nothing."""
    from gridcloud.plan.services.pods import containers, rights

    spec = {
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "hostPID": False,
        "initContainers": [
            {"name": "setup", "securityContext": {"privileged": True}},
            {"name": "quiet", "securityContext": {"runAsNonRoot": True}},
        ],
        "containers": [
            {"name": "sys", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}},
            {"name": "chown", "securityContext": {"capabilities": {"add": ["CHOWN"]}}},
            {"name": "open", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
            {"name": "plain"},
            {"name": "no-caps", "securityContext": {"capabilities": {"drop": ["ALL"]}}},
        ],
    }
    found = {c.get("name"): rights(spec, c) for c in containers(spec)}
    assert found == {
        "setup": {"privileged"},
        "quiet": set(),
        "sys": {"SYS_ADMIN"},
        "chown": {"CHOWN"},
        "open": {"seccomp unconfined"},
        "plain": set(),
        "no-caps": set(),
    }
    # the pod's own settings reach every container
    host = {"hostNetwork": True, "containers": [{"name": "c"}]}
    assert rights(host, host["containers"][0]) == {"hostNetwork"}
