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
        "private-nodes-off",
        "control-plane-open",
        "workload-identity-off",
        "shielded-nodes-off",
        "node-account-roles",
        "auto-repair-upgrade-off",
        "nat-ports-small",
        "grid-rbac-broad",
        "privileged-pod",
        "ingress-without-tls",  # tests/services/test_https.py
        "data-egress-unstated",  # tests/unit/test_data_plan.py
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


def _secure(plan: Plan, **changes: Any) -> Plan:
    assert plan.cluster is not None
    security = plan.cluster.security.model_copy(update=changes)
    return plan.model_copy(
        update={"cluster": plan.cluster.model_copy(update={"security": security})}
    )


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"private_nodes": False}, "private-nodes-off"),
        ({"workload_identity": False}, "workload-identity-off"),
        ({"shielded_nodes": False}, "shielded-nodes-off"),
        ({"auto_repair": False}, "auto-repair-upgrade-off"),
        ({"auto_upgrade": False}, "auto-repair-upgrade-off"),
    ],
)
def test_cluster_hardening_rules(make_plan: MakePlan, change: dict[str, Any], rule: str) -> None:
    plan = make_plan()
    assert rule not in rules(plan)
    flagged = [f for f in evaluate(_secure(plan, **change)) if f.rule == rule]
    assert len(flagged) == 1
    assert flagged[0].severity == "warning"
    assert flagged[0].fix


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


def test_the_node_account_holds_gkes_minimal_role_and_nothing_broader(
    make_plan: MakePlan,
) -> None:
    plan = make_plan()
    assert plan.cluster is not None
    assert "node-account-roles" not in rules(plan)

    def with_roles(*roles: str) -> Plan:
        assert plan.cluster is not None
        return plan.model_copy(
            update={"cluster": plan.cluster.model_copy(update={"node_roles": roles})}
        )

    broad = [
        f
        for f in evaluate(with_roles("roles/container.defaultNodeServiceAccount", "roles/editor"))
        if f.rule == "node-account-roles"
    ]
    assert len(broad) == 1
    assert "roles/editor" in broad[0].message
    # the five roles gridcloud used to grant: not broader, but not the minimal role either
    old = with_roles("roles/logging.logWriter", "roles/artifactregistry.reader")
    assert len([f for f in evaluate(old) if f.rule == "node-account-roles"]) == 2


def test_nat_ports_must_fit_80_core_nodes(make_plan: MakePlan) -> None:
    plan = make_plan()
    assert plan.network is not None
    assert "nat-ports-small" not in rules(plan)

    def network(**changes: Any) -> Plan:
        assert plan.network is not None
        return plan.model_copy(update={"network": plan.network.model_copy(update=changes)})

    # Google's default: 64 static ports per VM, for 80 pilots
    static = [f for f in evaluate(network(nat_dynamic_ports=False)) if f.rule == "nat-ports-small"]
    assert len(static) == 1
    assert "at most 64 ports" in static[0].message
    assert "5,120" in static[0].message  # 80 cores x 64
    assert "8,192" in static[0].fix
    # dynamic, but a ceiling below 80 x 64
    assert "nat-ports-small" in rules(network(nat_max_ports_per_vm=4096))
    assert "nat-ports-small" not in rules(network(nat_max_ports_per_vm=8192))


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
    from gridcloud.facility import analyse
    from tests.conftest import PROFILES

    plan = analyse(PROFILES / "onprem.yaml").plan
    values = plan.services.release("jupyterhub").values
    assert values["singleuser"]["cloudMetadata"]["blockWithIptables"] is True
    assert _unwaived(plan, "privileged-pod") == []
    # nor any of the cluster rules: there is no cluster of ours to harden
    assert not rules(plan) & {"control-plane-open", "private-nodes-off", "nat-ports-small"}
