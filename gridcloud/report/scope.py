"""What a cost report covers: the facility's project, cluster, namespaces, budget.

With ``--stack``, from the deployed facility's stack outputs (what was built: its project,
cluster and namespaces; the budget from the profile, read leniently, if there is one).
Otherwise from the Plan when the profile validates; else from a lenient read of the profile
(its ``name``, ``target``, ``services.*.namespace`` and ``budget``), so that a profile that
has changed since the facility ran, or that a newer gridcloud no longer accepts, still
reports on the month that was spent.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from gridcloud.errors import GridcloudError, InputError, PlanError, ProfileError
from gridcloud.report.model import SYSTEM, UNALLOCATED, Scope

if TYPE_CHECKING:
    from pathlib import Path

    from gridcloud.plan import Plan

#: The services' default namespaces and names (the profile's defaults).
SERVICES = {
    "gridSite": ("grid", "grid site"),
    "reana": ("reana", "REANA"),
    "jupyter": ("jupyter", "JupyterHub and Dask"),
}
BUCKETS = {UNALLOCATED: "idle capacity (unallocated)", SYSTEM: "system overhead"}


def from_plan(plan: Plan, path: Path) -> Scope:
    if plan.target.provider != "gcp" or plan.cluster is None:
        raise _not_gcp(plan.name)
    names = {key: name for key, (_, name) in SERVICES.items()}
    found = {r.namespace: names.get(r.service, r.service) for r in plan.services.releases}
    if plan.services.grid_site is not None:
        found[plan.services.grid_site.namespace] = "grid site"
    budget = plan.budget
    # every compute-only shard's rows are the facility's, in the home project or its own
    # (the export holds every project billed to the account)
    on_gcp = [s for s in plan.shards if s.cluster is not None and s.target.provider == "gcp"]
    shards = {s.cluster.name: str(s.shard) for s in on_gcp if s.cluster is not None}
    others = {s.target.project for s in on_gcp if s.target.provider == "gcp"}
    others.discard(plan.target.project)
    return Scope(
        facility=plan.name,
        project=plan.target.project,
        cluster=plan.cluster.name,
        namespaces=tuple(sorted(found)),
        by_label=budget is not None and bool(budget.label_filter),
        budget=budget.monthly if budget else None,
        currency=budget.currency if budget else None,
        origin=f"profile {path}",
        services=found | BUCKETS,
        shards=shards,
        shard_projects=tuple(sorted(others)),
    )


def _not_gcp(name: str) -> InputError:
    return InputError(
        f"{name} runs on an existing cluster: there is no Google Cloud bill to report",
        hint="cost reports are for gcp targets",
    )


def lenient(path: Path, problem: GridcloudError) -> Scope:
    """The scope from the profile's few fields a report needs, read without validation."""
    from gridcloud.profile.loader import read_fields

    data = read_fields(path)
    if data is None:
        raise problem
    target = data.get("target")
    name = data.get("name")
    if not isinstance(target, dict) or not isinstance(name, str):
        raise problem
    if target.get("provider", "gcp") != "gcp":
        raise _not_gcp(name)
    project = target.get("project")
    if not isinstance(project, str) or not project:
        raise problem
    services: dict[str, str] = {}
    given = data.get("services") if isinstance(data.get("services"), dict) else {}
    assert isinstance(given, dict)
    for key, (namespace, title) in SERVICES.items():
        entry = given.get(key)
        if isinstance(entry, dict) and entry.get("enabled", True) is not False:
            ns = entry.get("namespace", namespace)
            services[ns if isinstance(ns, str) else namespace] = title
    budget: dict[str, Any] = data["budget"] if isinstance(data.get("budget"), dict) else {}
    monthly: Decimal | None = None
    try:
        if budget.get("monthly") is not None:
            monthly = Decimal(str(budget["monthly"]))
            if not monthly.is_finite() or monthly <= 0:
                monthly = None
    except InvalidOperation:
        monthly = None
    currency = budget.get("currency")
    return Scope(
        facility=name,
        project=project,
        cluster=name,
        namespaces=tuple(sorted(services)),
        by_label=budget.get("scope") == "label",
        budget=monthly,
        currency=currency if isinstance(currency, str) else None,
        origin=f"profile {path} (read leniently: it does not validate now)",
        services=services | BUCKETS,
    )


#: Charts and the default namespaces -> the service people know them as (a stack's outputs
#: name namespaces and, once the services are built, their releases' charts).
CHARTS = {
    "reana": "REANA",
    "jupyterhub": "JupyterHub and Dask",
    "dask-gateway": "JupyterHub and Dask",
    "cvmfs-csi": "grid site",
}
NAMESPACES = {"grid": "grid site", "cvmfs": "grid site", "reana": "REANA"} | {
    "jupyter": "JupyterHub and Dask"
}


def from_outputs(outputs: dict[str, Any], origin: str, budget: Scope | None = None) -> Scope:
    """The scope from a stack's outputs (as the program wrote them; see
    ``gridcloud.plan.outputs.StackOutputs``); ``budget``: where the budget comes from."""
    from gridcloud.plan.outputs import StackOutputs

    facts = StackOutputs.read(outputs)
    name = facts.facility or "the facility"
    if facts.target != "gcp" or not facts.project:
        raise _not_gcp(name)
    if budget is not None and budget.facility != name:
        raise InputError(
            f"the profile is facility {budget.facility}, the stack's is {name}: its budget is "
            "not this facility's",
            hint="give the profile of the facility the stack deployed, or no profile (then "
            "the report has no budget to compare with)",
        )
    services: dict[str, str] = {}
    for release in facts.releases or ():
        title = CHARTS.get(release.chart.rstrip("/").rsplit("/", 1)[-1])
        if title:
            services.setdefault(release.namespace, title)
    for namespace in facts.namespaces or ():
        services.setdefault(namespace, NAMESPACES.get(namespace, f"namespace {namespace}"))
    return Scope(
        facility=name,
        project=facts.project,
        cluster=facts.cluster_name or name,
        namespaces=tuple(sorted(services)),
        by_label=budget.by_label if budget else False,
        budget=budget.budget if budget else None,
        currency=budget.currency if budget else None,
        origin=origin,
        services=services | BUCKETS,
    )


def budget_of(path: Path) -> Scope | None:
    """The profile's budget, however the profile reads now (None: none to be had)."""
    try:
        return resolve(path)[0]
    except GridcloudError:
        return None


def resolve(path: Path) -> tuple[Scope, str | None]:
    """The scope, and a warning when the profile had to be read leniently."""
    from gridcloud.analysis import analyse

    try:
        plan = analyse(path).plan
    except (ProfileError, PlanError) as problem:
        scope = lenient(path, problem)
        first = str(problem).splitlines()[0]
        return scope, f"the profile does not validate ({first}): its scope read leniently"
    return from_plan(plan, path), None
