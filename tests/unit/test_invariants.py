"""The Plan's invariants: what gridcloud always decides, whatever the profile.

Each holds for every shipped profile and every profile of the corpus (expected values written
here from Google's documentation, not read from the code); a Plan that breaks one is refused
where it is built, with an internal error naming the invariant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from gridcloud.errors import ExitCode
from gridcloud.plan import Plan
from gridcloud.plan.invariants import INVARIANTS, InvariantError, check
from tests.conftest import SHIPPED
from tests.corpus.test_corpus import VALID

PROFILES = [*SHIPPED, *VALID]


@pytest.fixture(scope="module", params=PROFILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def plan(request: pytest.FixtureRequest) -> Plan:
    path: Path = request.param
    return analyse(path).plan


def test_the_invariants_are_the_documented_ones() -> None:
    names = [name for name, _ in INVARIANTS]
    assert names == [
        "dataplane-v2",
        "private-nodes",
        "workload-identity",
        "shielded-nodes",
        "auto-repair",
        "auto-upgrade",
        "node-account-minimal",
        "nat-ports-fit",
        "gateway-scoped",
        "reana-secrets-generated",
    ]
    docs = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    for name in names:
        assert f"| `{name}` |" in docs, name


def test_every_profile_has_a_hardened_cluster(plan: Plan) -> None:
    if plan.cluster is None:
        assert not plan.on_gcp  # an existing cluster: not ours to harden
        return
    security = plan.cluster.security
    assert plan.cluster.datapath_provider == "ADVANCED_DATAPATH"
    assert security.private_nodes is True
    assert security.workload_identity is True
    assert security.shielded_nodes is True
    assert security.auto_repair is True
    assert security.auto_upgrade is True
    # GKE's "Use least privilege IAM service accounts": this role and nothing else
    assert plan.cluster.node_roles == ("roles/container.defaultNodeServiceAccount",)


def test_every_profile_gives_its_largest_node_the_nat_ports_it_needs(plan: Plan) -> None:
    if plan.network is None:
        return
    assert plan.network.nat_dynamic_ports is True
    largest = max(p.vcpus or 0 for p in plan.pools)
    # 64 ports per core (a pilot per core), up to Cloud NAT's 65,536 per VM
    assert plan.network.nat_max_ports_per_vm >= min(64 * largest, 65_536)


def test_every_profile_scopes_the_gateway_to_the_hub(plan: Plan) -> None:
    releases = {r.name: r for r in plan.services.releases}
    if "dask-gateway" not in releases:
        return
    auth = releases["dask-gateway"].values["gateway"]["auth"]
    assert auth["type"] == "jupyterhub"
    assert auth["jupyterhub"]["jupyterhubServiceName"]


def test_every_profile_generates_reanas_secrets(plan: Plan) -> None:
    releases = {r.name: r for r in plan.services.releases}
    if "reana" not in releases:
        return
    release = releases["reana"]
    generated = {".".join(s.path) for s in release.secrets}
    secrets = release.values["secrets"]
    # written out from the chart's values.yaml `secrets:` section (users are not secrets)
    assert generated == {
        "secrets.database.password",
        "secrets.message_broker.password",
        "secrets.cache.password",
        "secrets.reana.REANA_SECRET_KEY",
        "secrets.cern.sso.CERN_CONSUMER_KEY",
        "secrets.cern.sso.CERN_CONSUMER_SECRET",
        "secrets.gitlab.REANA_GITLAB_OAUTH_APP_ID",
        "secrets.gitlab.REANA_GITLAB_OAUTH_APP_SECRET",
    }
    assert set(secrets) == {"database", "message_broker", "cache", "reana", "cern", "gitlab"}
    assert secrets["database"]["user"] == secrets["message_broker"]["user"] == "reana"


def test_every_profile_passes_the_check(plan: Plan) -> None:
    assert check(plan) is plan


def _broken(plan: Plan, **cluster: Any) -> Plan:
    assert plan.cluster is not None
    return plan.model_copy(update={"cluster": plan.cluster.model_copy(update=cluster)})


def _insecure(plan: Plan, **security: Any) -> Plan:
    assert plan.cluster is not None
    return _broken(plan, security=plan.cluster.security.model_copy(update=security))


def _network(plan: Plan, **changes: Any) -> Plan:
    assert plan.network is not None
    return plan.model_copy(update={"network": plan.network.model_copy(update=changes)})


def _values(plan: Plan, release: str, edit: Callable[[dict[str, Any]], None]) -> Plan:
    import copy

    def changed(r: Any) -> Any:
        if r.name != release:
            return r
        values = copy.deepcopy(r.values)
        edit(values)
        return r.model_copy(update={"values": values})

    releases = tuple(changed(r) for r in plan.services.releases)
    return plan.model_copy(
        update={"services": plan.services.model_copy(update={"releases": releases})}
    )


def _no_service_name(values: dict[str, Any]) -> None:
    del values["gateway"]["auth"]["jupyterhub"]["jupyterhubServiceName"]


def _fixed_password(values: dict[str, Any]) -> None:
    values["secrets"]["mail"] = {"password": "hunter2"}


MINIMAL = "roles/container.defaultNodeServiceAccount"

#: Plans no profile can produce (built with model_copy, which skips validation), one per
#: invariant: the check must notice each.
BROKEN: list[tuple[str, Callable[[Plan], Plan], str]] = [
    ("dataplane-v2", lambda p: _broken(p, datapath_provider="LEGACY_DATAPATH"), "LEGACY"),
    ("private-nodes", lambda p: _insecure(p, private_nodes=False), "private_nodes"),
    ("workload-identity", lambda p: _insecure(p, workload_identity=False), "workload_identity"),
    ("shielded-nodes", lambda p: _insecure(p, shielded_nodes=False), "shielded_nodes"),
    ("auto-repair", lambda p: _insecure(p, auto_repair=False), "auto_repair"),
    ("auto-upgrade", lambda p: _insecure(p, auto_upgrade=False), "auto_upgrade"),
    (
        "node-account-minimal",
        lambda p: _broken(p, node_roles=(MINIMAL, "roles/editor")),
        "roles/editor",
    ),
    ("node-account-minimal", lambda p: _broken(p, node_roles=()), "[]"),
    ("nat-ports-fit", lambda p: _network(p, nat_dynamic_ports=False), "dynamic"),
    # the default's largest node: 80 cores x 64 = 5,120 ports; 4,096 is short by one step
    ("nat-ports-fit", lambda p: _network(p, nat_max_ports_per_vm=4096), "80-core node needs 5120"),
    ("gateway-scoped", lambda p: _values(p, "dask-gateway", _no_service_name), "scoped"),
    ("reana-secrets-generated", lambda p: _values(p, "reana", _fixed_password), "mail.password"),
]


@pytest.mark.parametrize(("name", "breaks", "says"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_invariant_is_an_internal_error_naming_it(
    make_plan: Callable[..., Plan], name: str, breaks: Callable[[Plan], Plan], says: str
) -> None:
    with pytest.raises(InvariantError) as info:
        check(breaks(make_plan()))
    assert info.value.invariant == name
    assert f"invariant {name}:" in info.value.message
    assert says in info.value.message
    assert info.value.exit_code == ExitCode.INTERNAL == 1
    assert info.value.hint is not None and "bug in gridcloud" in info.value.hint


def test_nat_ports_at_exactly_the_need_hold(make_plan: Callable[..., Plan]) -> None:
    """8,192 (the next power of two) and exactly 5,120 both suffice for 80 cores."""
    plan = make_plan()
    assert check(_network(plan, nat_max_ports_per_vm=5120)) is not None
    with pytest.raises(InvariantError):
        check(_network(plan, nat_max_ports_per_vm=5119))


def test_expand_asserts_them(
    make_profile: Callable[..., Any], catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs where the Plan is built: a change to how expand decides the node
    roles that broadens them is refused there, naming the invariant."""
    import sys

    from gridcloud.plan import expand

    module = sys.modules["gridcloud.plan.expand"]  # the package's `expand` is the function
    broader = ("roles/container.defaultNodeServiceAccount", "roles/editor")
    monkeypatch.setattr(module, "NODE_ROLES", broader)
    with pytest.raises(InvariantError, match="invariant node-account-minimal"):
        expand(make_profile(), catalog)


def test_on_prem_the_services_invariants_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an existing cluster (no GKE cluster, no network) the gateway's is still checked."""
    from gridcloud.plan.services import jupyter

    monkeypatch.setattr(jupyter, "DASK_SERVICE", "")
    with pytest.raises(InvariantError, match="invariant gateway-scoped"):
        analyse(Path("profiles/onprem.yaml"))
