"""The `privileged-pod` and `grid-rbac-broad` rules on the objects gridcloud applies, off the
default Plan: a pod whose second container is the privileged one, a named need that is
`privileged` itself, a waived container beside an unwaived one; and which Role is the grid
submitter's (bound in the site's namespace to the site's ServiceAccount, nothing else).

Plans are the default profile's, changed where said (``model_copy``); what is expected is
read from the rule's contract in docs/policy.md, not from the code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gridcloud.plan import Plan
from gridcloud.plan.services.model import PrivilegeNeed
from gridcloud.policy import evaluate


@pytest.fixture(scope="module")
def plan(make_plan_module: Any) -> Plan:
    result: Plan = make_plan_module()
    return result


def _services(plan: Plan, **update: Any) -> Plan:
    return plan.model_copy(update={"services": plan.services.model_copy(update=update)})


def _unwaived(plan: Plan, rule: str) -> list[str]:
    return [f.message for f in evaluate(plan) if f.rule == rule and not f.waived]


def _waived(plan: Plan, rule: str) -> list[str]:
    return [f.message for f in evaluate(plan) if f.rule == rule and f.waived]


def _deployment(name: str, containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "grid"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers},
            },
        },
    }


PLAIN = {"name": "plain", "image": "busybox:1.36"}
PRIVILEGED = {"name": "root", "image": "busybox:1.36", "securityContext": {"privileged": True}}


def test_a_privileged_second_container_is_found(plan: Plan) -> None:
    """The first container has no extra rights; the second is privileged: flagged."""
    added = _deployment("sidecar", [PLAIN, PRIVILEGED])
    widened = _services(plan, objects=(*plan.services.objects, added))
    assert _unwaived(widened, "privileged-pod") == [
        "Deployment grid/sidecar, container root, runs with privileged: a process that "
        "escapes it owns the node"
    ]


def test_a_need_named_privileged_waives_a_privileged_container(plan: Plan) -> None:
    added = _deployment("node-tool", [PRIVILEGED])
    need = PrivilegeNeed(
        kind="Deployment",
        namespace="grid",
        name="node-tool",
        container="root",
        privileged=True,
        reason="a node tool that needs the host",
    )
    named = _services(
        plan,
        objects=(*plan.services.objects, added),
        privilege_needs=(*plan.services.privilege_needs, need),
    )
    assert _unwaived(named, "privileged-pod") == []
    assert "Deployment grid/node-tool, container root, runs with privileged by need" in _waived(
        named, "privileged-pod"
    )


def test_a_waived_container_does_not_hide_the_next_one(plan: Plan) -> None:
    """REANA's NFS server keeps its waived container; a privileged one added after it in
    the same pod is flagged."""
    storage = plan.services.shared_storage
    assert storage is not None
    server = copy.deepcopy(storage.server)
    server["spec"]["template"]["spec"]["containers"].append(PRIVILEGED)
    widened = _services(plan, shared_storage=storage.model_copy(update={"server": server}))
    assert _unwaived(widened, "privileged-pod") == [
        "Deployment reana/gridcloud-nfs, container root, runs with privileged: a process that "
        "escapes it owns the node"
    ]
    assert len(_waived(widened, "privileged-pod")) == 1  # the nfs container, as before


# --- which Role is the grid submitter's ---------------------------------------------------

WIDE = [{"apiGroups": ["*"], "resources": ["pods/exec"], "verbs": ["escalate"]}]


def _role(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": WIDE,
    }


def _binding(namespace: str, role: str, subject: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"bind-{role}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [subject],
    }


def _with_objects(plan: Plan, *objects: dict[str, Any]) -> Plan:
    return _services(plan, objects=(*plan.services.objects, *objects))


def test_only_the_role_bound_to_the_submitter_in_its_namespace_counts(plan: Plan) -> None:
    site = plan.services.grid_site
    assert site is not None
    account = {"kind": "ServiceAccount", "name": site.service_account, "namespace": "jupyter"}
    assert "grid-rbac-broad" not in {f.rule for f in evaluate(plan)}
    others = [
        # a wide Role in the site's namespace, bound from another namespace to an account of
        # the same name there: not the submitter's
        (_role("wide", site.namespace), _binding("jupyter", "wide", account)),
        # bound in the site's namespace, to another account
        (
            _role("wide", site.namespace),
            _binding(
                site.namespace,
                "wide",
                {"kind": "ServiceAccount", "name": "someone-else", "namespace": site.namespace},
            ),
        ),
        # bound in the site's namespace to a user that happens to have the account's name
        (
            _role("wide", site.namespace),
            _binding(site.namespace, "wide", {"kind": "User", "name": site.service_account}),
        ),
    ]
    for role, binding in others:
        assert "grid-rbac-broad" not in {
            f.rule for f in evaluate(_with_objects(plan, role, binding))
        }


def test_a_rule_without_resources_or_api_groups_grants_nothing_wide(plan: Plan) -> None:
    """A PolicyRule's apiGroups and resources may be left out (verbs may not)."""
    site = plan.services.grid_site
    assert site is not None
    role = {**site.role, "rules": [*site.role["rules"], {"verbs": ["get"]}]}
    bare = _services(plan, grid_site=site.model_copy(update={"role": role}))
    assert "grid-rbac-broad" not in {f.rule for f in evaluate(bare)}


def test_the_message_names_each_wide_grant(plan: Plan) -> None:
    site = plan.services.grid_site
    assert site is not None
    role = {**site.role, "rules": [*site.role["rules"], *WIDE]}
    wide = _services(plan, grid_site=site.model_copy(update={"role": role}))
    (finding,) = [f for f in evaluate(wide) if f.rule == "grid-rbac-broad"]
    # sorted: "*" (any API group), escalate, pods/exec
    assert finding.message.startswith("the grid submitter's Role grants *, escalate, pods/exec:")


@pytest.fixture(scope="module")
def make_plan_module(catalog: Any) -> Any:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile.loader import parse_profile
    from tests.conftest import default_data

    def make(data: dict[str, Any] | None = None) -> Plan:
        profile = default_data()
        if data is not None:
            profile["data"] = data
        text = yaml.safe_dump(profile, sort_keys=False)
        return planned(parse_profile(text, "test.yaml", catalog, PROFILE_CHECKS), catalog)[0]

    return make


@pytest.fixture(scope="module")
def make_data_plan(make_plan_module: Any) -> Any:
    """The default profile with ``data`` as given."""
    return make_plan_module


# --- data-egress-unstated: any egress stated is stated --------------------------------------

EGRESS = {
    "worldwide": {"internet": {"worldwideGib": 50}},
    "china": {"internet": {"chinaGib": 50}},
    "australia": {"internet": {"australiaGib": 50}},
    "regions": {"otherRegionsGib": 50},
    "sites": {"otherSitesGib": 50},
}


def _egress(*names: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        for key, value in EGRESS[name].items():
            found[key] = {**found.get(key, {}), **value} if isinstance(value, dict) else value
    return found


@pytest.mark.parametrize(
    "names",
    [
        ("worldwide", "china"),
        ("china", "australia"),
        ("australia", "regions"),
        ("regions", "sites"),
    ],
)
def test_two_destinations_stated_alike_are_stated(
    make_data_plan: Any, names: tuple[str, ...]
) -> None:
    """50 GiB to each of two destinations is 100 GiB stated, not 50 - 50."""
    plan = make_data_plan({"bucket": {"enabled": True}, "monthly": {"egress": _egress(*names)}})
    assert "data-egress-unstated" not in {f.rule for f in evaluate(plan)}


def test_no_bucket_no_advice(make_data_plan: Any) -> None:
    plan = make_data_plan({"monthly": {"stored": {"standardGib": 10}}})
    assert plan.data is not None and plan.data.bucket is None
    assert "data-egress-unstated" not in {f.rule for f in evaluate(plan)}
