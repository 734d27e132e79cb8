"""Invariants: what every Plan holds, whatever the profile, asserted where the Plan is built.

gridcloud decides these itself (no profile field can change them), so a policy rule over them
could never fire from a profile: a broken one is a bug in gridcloud, caught by
:func:`asserted` at the end of ``expand`` as an :class:`InvariantError` naming the invariant,
and by the tests that expand every shipped and corpus profile. docs/policy.md lists them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec

from gridcloud.catalog import limits
from gridcloud.errors import GridcloudError

if TYPE_CHECKING:
    from gridcloud.plan.model import Plan

#: GKE's minimal role for a node's service account ("Use least privilege IAM service
#: accounts"): logs, metrics, resource metadata.
MINIMAL_NODE_ROLE = "roles/container.defaultNodeServiceAccount"


class InvariantError(GridcloudError):
    """gridcloud built a Plan that breaks one of its own invariants: a bug, not the profile's
    fault (exit code 1, internal)."""

    def __init__(self, invariant: str, problem: str) -> None:
        super().__init__(
            f"internal error: the Plan breaks the invariant {invariant}: {problem}",
            hint="this is a bug in gridcloud, not in the profile: report it with the profile "
            "(and `--debug`)",
        )
        self.invariant = invariant


Check = Callable[["Plan"], Iterator[str]]

#: (name, check): each check yields what is wrong, nothing when the invariant holds.
INVARIANTS: list[tuple[str, Check]] = []


def invariant(name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        INVARIANTS.append((name, check))
        return check

    return register


@invariant("dataplane-v2")
def _dataplane_v2(plan: Plan) -> Iterator[str]:
    """The charts' NetworkPolicies are enforced: GKE Dataplane V2, chosen at creation."""
    if plan.cluster is not None and plan.cluster.datapath_provider != "ADVANCED_DATAPATH":
        yield f"datapath provider {plan.cluster.datapath_provider}, not ADVANCED_DATAPATH"


#: ClusterSecurity's switches that are always on, with what each one protects.
HARDENING = {
    "private_nodes": "private-nodes",
    "workload_identity": "workload-identity",
    "shielded_nodes": "shielded-nodes",
    "auto_repair": "auto-repair",
    "auto_upgrade": "auto-upgrade",
}


def _hardening(setting: str) -> Check:
    def check(plan: Plan) -> Iterator[str]:
        if plan.cluster is not None and getattr(plan.cluster.security, setting) is not True:
            yield f"cluster.security.{setting} is off"

    return check


for _setting, _name in HARDENING.items():
    invariant(_name)(_hardening(_setting))


@invariant("node-account-minimal")
def _node_account_minimal(plan: Plan) -> Iterator[str]:
    """The nodes' own service account holds GKE's minimal node role and nothing else."""
    if plan.cluster is not None and plan.cluster.node_roles != (MINIMAL_NODE_ROLE,):
        yield f"the node account holds {list(plan.cluster.node_roles)}, not [{MINIMAL_NODE_ROLE}]"


@invariant("nat-ports-fit")
def _nat_ports_fit(plan: Plan) -> Iterator[str]:
    """Cloud NAT gives a VM the ports its largest node needs: 64 per core (a pilot per core),
    within Cloud NAT's ceiling, with dynamic port allocation."""
    net = plan.network
    if net is None:
        return
    cores = max((p.vcpus or 0 for p in plan.pools), default=0)
    need = min(cores * limits.NAT_PORTS_PER_CORE, limits.NAT_MAX_PORTS_PER_VM)
    if not net.nat_dynamic_ports:
        yield "Cloud NAT's dynamic port allocation is off"
    elif net.nat_max_ports_per_vm < need:
        yield (
            f"Cloud NAT gives a VM at most {net.nat_max_ports_per_vm} ports; a {cores}-core "
            f"node needs {need}"
        )


def _values(plan: Plan, release: str) -> dict[str, Any] | None:
    try:
        return plan.services.release(release).values
    except KeyError:
        return None


@invariant("gateway-scoped")
def _gateway_scoped(plan: Plan) -> Iterator[str]:
    """Dask Gateway authenticates through JupyterHub, with tokens scoped to its service."""
    values = _values(plan, "dask-gateway")
    if values is None:
        return
    auth = values.get("gateway", {}).get("auth", {})
    if auth.get("type") != "jupyterhub" or not auth.get("jupyterhub", {}).get(
        "jupyterhubServiceName"
    ):
        yield "Dask Gateway accepts hub tokens not scoped to its service"


def _secret_paths(node: Any, at: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _secret_paths(value, (*at, key))
    elif at[-1] != "user":  # user names are not secrets
        yield at


@invariant("reana-secrets-generated")
def _reana_secrets_generated(plan: Plan) -> Iterator[str]:
    """Every value under REANA's ``secrets`` is generated at deploy, none fixed in the Plan."""
    try:
        release = plan.services.release("reana")
    except KeyError:
        return
    generated = {s.path for s in release.secrets if s.source == "generated"}
    for path in sorted(set(_secret_paths(release.values.get("secrets", {}), ("secrets",)))):
        if path not in generated:
            yield f"REANA's {'.'.join(path)} is a fixed value, not one generated at deploy"


def check(plan: Plan) -> Plan:
    """``plan`` if every invariant holds; else :class:`InvariantError` for the first broken."""
    for name, holds in INVARIANTS:
        for problem in holds(plan):
            raise InvariantError(name, problem)
    return plan


P = ParamSpec("P")


def asserted(build: Callable[P, Plan]) -> Callable[P, Plan]:
    """``build``, with :func:`check` on the Plan it returns (every return path)."""

    @functools.wraps(build)
    def checked(*args: P.args, **kwargs: P.kwargs) -> Plan:
        return check(build(*args, **kwargs))

    return checked
