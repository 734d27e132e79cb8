"""Rules over a Plan. Each rule is a function returning findings; ``RULES`` lists them.

A finding is advice, not an error: the Plan is buildable (errors belong in the Plan). Each
has a rule id, a severity, a message and a fix. ``plan --strict`` and ``up --strict`` refuse
a Plan with a warning the profile does not waive (``policy.waivers``, each with a reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from gridcloud.plan.model import Frozen, Plan

BIG_NODE_CORES = 32


class Finding(Frozen):
    rule: str
    severity: Literal["info", "warning"]
    message: str
    fix: str = ""
    waived: str | None = None
    """The profile's reason for accepting it (``policy.waivers``), if waived."""

    @property
    def blocks_strict(self) -> bool:
        return self.severity == "warning" and self.waived is None


Rule = Callable[[Plan], Iterator[Finding]]

#: The rules, in the order findings are shown, with the ids each can report.
_REGISTERED: list[tuple[tuple[str, ...], Rule]] = []


def rule(*ids: str) -> Callable[[Rule], Rule]:
    """Register a rule and the ids of its findings (the ids waivers may name)."""

    def register(check: Rule) -> Rule:
        _REGISTERED.append((ids, check))
        return check

    return register


@rule("elastic-min-zero")
def elastic_pools_scale_to_zero(plan: Plan) -> Iterator[Finding]:
    for pool in plan.elastic_pools:
        if pool.min_nodes > 0 and plan.on_gcp:
            yield Finding(
                rule="elastic-min-zero",
                severity="warning",
                message=f"pool {pool.name} keeps {pool.min_nodes} node(s) on around the clock "
                "(minNodes > 0): that is idle cost every hour",
                fix=f"set pools[{pool.name}].minNodes to 0; the autoscaler adds nodes on demand",
            )


@rule("large-on-demand")
def large_nodes_on_spot(plan: Plan) -> Iterator[Finding]:
    for pool in plan.elastic_pools:
        if plan.on_gcp and not pool.spot and (pool.vcpus or 0) >= BIG_NODE_CORES:
            yield Finding(
                rule="large-on-demand",
                severity="warning",
                message=f"pool {pool.name} runs {pool.vcpus}-core nodes on demand; spot VMs "
                "cost 3 to 5 times less for pilots and Dask workers, which tolerate preemption",
                fix=f"set spot: true on pool {pool.name}, or use smaller on-demand nodes",
            )


@rule("no-budget", "no-hard-cap")
def budget_is_enforced(plan: Plan) -> Iterator[Finding]:
    if not plan.on_gcp:
        return
    if plan.budget is None:
        yield Finding(
            rule="no-budget",
            severity="warning",
            message="no budget: nothing alerts on or caps the spending of elastic pools",
            fix="add budget: {monthly: ..., hardCap: true, billingAccount: ...}",
        )
    elif not plan.budget.hard_cap:
        yield Finding(
            rule="no-hard-cap",
            severity="info",
            message="budget alerts only: with hardCap the elastic pools scale to zero at 100%",
            fix="set budget.hardCap: true (and budget.billingAccount)",
        )


@rule("deletion-protection-off")
def deletion_protection(plan: Plan) -> Iterator[Finding]:
    if plan.cluster is not None and not plan.cluster.deletion_protection:
        yield Finding(
            rule="deletion-protection-off",
            severity="info",
            message="deletion protection is off: `gridcloud destroy` removes the cluster at once",
            fix="set cluster.deletionProtection: true for a production facility",
        )


@rule("netpol-not-enforced")
def network_policies_enforced(plan: Plan) -> Iterator[Finding]:
    if plan.cluster is not None and plan.cluster.datapath_provider != "ADVANCED_DATAPATH":
        yield Finding(
            rule="netpol-not-enforced",
            severity="warning",
            message="the cluster does not enforce NetworkPolicies; the charts rely on them, "
            "and the choice is made when the cluster is created",
            fix="create the cluster with Dataplane V2 (datapathProvider ADVANCED_DATAPATH)",
        )


def _values(plan: Plan, release: str) -> dict[str, Any] | None:
    try:
        return plan.services.release(release).values
    except KeyError:
        return None


@rule("hub-login-open")
def hub_login_restricted(plan: Plan) -> Iterator[Finding]:
    values = _values(plan, "jupyterhub")
    if values is None:
        return
    oauth = values.get("hub", {}).get("config", {}).get("GenericOAuthenticator", {})
    if oauth.get("allow_all"):
        yield Finding(
            rule="hub-login-open",
            severity="warning",
            message="anyone with an account at the OIDC provider can log in to JupyterHub "
            "and start servers on the facility's nodes",
            fix="list the groups that may log in in services.jupyter.oidc.allowedGroups",
        )


@rule("gateway-unscoped")
def gateway_scoped_to_the_hub(plan: Plan) -> Iterator[Finding]:
    values = _values(plan, "dask-gateway")
    if values is None:
        return
    auth = values.get("gateway", {}).get("auth", {})
    if auth.get("type") != "jupyterhub" or not auth.get("jupyterhub", {}).get(
        "jupyterhubServiceName"
    ):
        yield Finding(
            rule="gateway-unscoped",
            severity="warning",
            message="Dask Gateway accepts any hub token, not only tokens scoped to its service",
            fix="authenticate the gateway through JupyterHub with jupyterhubServiceName",
        )


@rule("reana-secret-fixed")
def reana_secrets_generated(plan: Plan) -> Iterator[Finding]:
    try:
        release = plan.services.release("reana")
    except KeyError:
        return
    generated = {secret.path for secret in release.secrets}
    given = _secret_paths(release.values.get("secrets", {}), ("secrets",))
    for path in sorted(given - generated):
        yield Finding(
            rule="reana-secret-fixed",
            severity="warning",
            message=f"REANA's {'.'.join(path)} is a fixed value, not one generated at deploy",
            fix="leave REANA's secrets to gridcloud (they are generated and kept encrypted)",
        )


def _secret_paths(node: Any, at: tuple[str, ...]) -> set[tuple[str, ...]]:
    if isinstance(node, dict):
        return {p for key, value in node.items() for p in _secret_paths(value, (*at, key))}
    # user names are not secrets
    return set() if at[-1] in ("user",) else {at}


@rule("interactive-on-spot")
def only_fault_tolerant_work_on_spot(plan: Plan) -> Iterator[Finding]:
    """Notebooks hold a user's session: a reclaimed spot node ends it."""
    values = _values(plan, "jupyterhub")
    if values is None or not plan.on_gcp:
        return
    spot = {p.name for p in plan.pools if p.spot}
    try:
        placements = plan.services.release("jupyterhub").placements
    except KeyError:
        return
    for placement in placements:
        if "notebook" in placement.component and placement.pool in spot:
            yield Finding(
                rule="interactive-on-spot",
                severity="warning",
                message=f"{placement.component} run on the spot pool {placement.pool}: a "
                "reclaimed node ends the sessions on it",
                fix=f"give those notebooks an on-demand pool, or set spot: false on "
                f"{placement.pool}, or waive the rule with the reason",
            )


RULES: tuple[Rule, ...] = tuple(check for _, check in _REGISTERED)
#: Every rule id, for waivers (the profile's ``policy.waivers`` are checked against it).
RULE_IDS: tuple[str, ...] = tuple(i for ids, _ in _REGISTERED for i in ids)


def evaluate(plan: Plan) -> list[Finding]:
    waivers = plan.waivers
    return [
        finding.model_copy(update={"waived": waivers.get(finding.rule)})
        for rule in RULES
        for finding in rule(plan)
    ]


def enforce_strict(findings: list[Finding]) -> None:
    """``--strict``: refuse a Plan with an unwaived warning (exit 8)."""
    from gridcloud.errors import PolicyError

    blocking = [f for f in findings if f.blocks_strict]
    if blocking:
        raise PolicyError(
            f"{len(blocking)} policy warning(s) the profile does not waive: "
            + "; ".join(f"{f.message} (rule {f.rule})" for f in blocking),
            hint="fix them (`gridcloud plan` shows each fix), or waive a rule with a reason: "
            "policy: {waivers: [{rule: ID, reason: ...}]}",
        )
