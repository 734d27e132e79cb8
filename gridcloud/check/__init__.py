"""``gridcloud check``: can a deploy of this Plan go ahead from here, into that project?

Each check has an id, a status (ok, warn, fail, skip), what was found and the fix. The
report is ``go`` when nothing failed. Order: local tools, credentials, the project, its
APIs, billing, the caller's permissions for what the Plan creates (the three again for each
other project a shard is in), its quotas against the Plan's peak, GKE's limits; on a
kubernetes target the cluster and the user's rights instead of the Google checks.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from gridcloud.check.model import CheckResult, QuotaRow, Report
from gridcloud.errors import EngineMissingError

if TYPE_CHECKING:
    from collections.abc import Callable

    from google.auth.credentials import Credentials

    from gridcloud.check.quotas import Quotas, Where
    from gridcloud.plan import Plan

__all__ = ["CheckResult", "QuotaRow", "Report", "quota_name", "run"]

AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def _pulumi() -> CheckResult:
    from gridcloud.check.local import MIN_PULUMI, pulumi_cli

    try:
        path, version = pulumi_cli()
    except EngineMissingError as error:
        return CheckResult(
            id="pulumi-cli",
            status="fail",
            title="Pulumi CLI",
            detail=error.message,
            fix=error.hint or "",
        )
    shown = ".".join(map(str, version))
    wanted = ".".join(map(str, MIN_PULUMI))
    return CheckResult(
        id="pulumi-cli",
        status="ok",
        title="Pulumi CLI",
        detail=f"{path}: {shown} (needs {wanted} or newer)",
    )


def _auth_plugin() -> CheckResult:
    path = shutil.which(AUTH_PLUGIN)
    if path is None:
        return CheckResult(
            id="auth-plugin",
            status="fail",
            title="GKE auth plugin",
            detail=f"no {AUTH_PLUGIN} on PATH: the cluster's kubeconfig calls it for tokens",
            fix=f"gcloud components install {AUTH_PLUGIN} (or your package manager's "
            f"google-cloud-cli-gke-gcloud-auth-plugin)",
        )
    return CheckResult(id="auth-plugin", status="ok", title="GKE auth plugin", detail=path)


def _skipped(check_id: str, title: str, because: str) -> CheckResult:
    return CheckResult(id=check_id, status="skip", title=title, detail=f"not checked: {because}")


def _deploy_environment(
    plan: Plan, backend: str | None, secrets_provider: str | None
) -> list[CheckResult]:
    """The stack's secrets provider, and the variables the profile reads at deploy time:
    what ``up`` refuses to start without."""
    from gridcloud.check.local import secrets_missing, variables_missing

    secrets = secrets_missing(backend, secrets_provider)
    found = [
        CheckResult(
            id="secrets",
            status="fail" if secrets else "ok",
            title="stack secrets",
            detail=secrets.message
            if secrets
            else "a passphrase in the environment"
            if secrets_provider in (None, "passphrase")
            else f"the provider {secrets_provider}",
            fix=secrets.hint if secrets else "",
        )
    ]
    missing = variables_missing(plan)
    found.append(
        CheckResult(
            id="environment",
            status="fail" if missing else "ok",
            title="variables",
            detail="; ".join(m.message for m in missing)
            or "every variable the profile reads is set",
            fix="; ".join(m.hint for m in missing),
        )
    )
    return found


def _facility_quotas(
    plan: Plan,
    home: Quotas,
    creds: Credentials,
    progress: Callable[[str], None],
) -> tuple[list[QuotaRow], CheckResult | None]:
    """The quota rows of every cluster of the facility (the home one and its shards), from
    the quotas of each project (``projects.get``; the home one's already read: ``home``) and
    each region they are in (``regions.get``), or the failed check of the first that cannot
    be read."""
    from gridcloud.check import google
    from gridcloud.check.quotas import quota_places, quota_rows

    assert plan.target.provider == "gcp"
    projects, wheres = quota_places(plan)
    global_quotas = {plan.target.project: home}
    for project in projects:
        if project in global_quotas:
            continue
        progress(f"reading project {project} (a shard's)")
        found, access = google.project_quotas(project, creds)
        if found is None:
            return [], access.model_copy(
                update={
                    "id": "quotas",
                    "title": "quotas",
                    "detail": f"a shard's project: {access.detail}",
                }
            )
        global_quotas[project] = found
    regional: dict[Where, Quotas] = {}
    for project, region in wheres:
        progress(
            f"reading the quotas of {region}"
            + ("" if project == plan.target.project else f" in {project}")
        )
        found_region, failed = google.region_quotas(project, region, creds)
        if found_region is None:
            assert failed is not None
            return [], failed
        regional[(project, region)] = found_region
    return quota_rows(plan, regional, global_quotas), None


def _shard_projects(
    plan: Plan,
    creds: Credentials,
    account: str | None,
    currency: str | None,
    progress: Callable[[str], None],
) -> list[CheckResult]:
    """The ``apis``, ``billing`` and ``permissions`` checks again in each project a shard
    is in besides the home one: its APIs for what its shards create there, its billing (on
    and, with a budget, to the budget's account, which otherwise would not see the shards'
    spending), and the caller's permissions for each of its shards' Plans. Each row keeps
    its check's id (``--skip apis=...`` waives it in every project); its title names the
    project and the shards."""
    from gridcloud.check import google
    from gridcloud.check.permissions import check as permissions

    assert plan.target.provider == "gcp"
    home = plan.target.project
    by_project: dict[str, list[Plan]] = {}
    for shard in plan.shards:
        if shard.target.provider == "gcp" and shard.target.project != home:
            by_project.setdefault(shard.target.project, []).append(shard)
    found: list[CheckResult] = []
    for project, shards in by_project.items():
        names = ", ".join(str(s.shard) for s in shards)
        where = f"{project}: shard{'s' if len(shards) > 1 else ''} {names}"

        def here(result: CheckResult, where: str = where) -> CheckResult:
            return result.model_copy(update={"title": f"{result.title} ({where})"})

        progress(f"reading the enabled APIs of {project} (a shard's)")
        apis = tuple(dict.fromkeys(a for s in shards for a in google.required_apis(s)))
        found.append(here(google.enabled_apis(project, apis, creds)[1]))
        progress(f"reading the billing of {project} (a shard's)")
        found.append(here(google.billing(project, account, creds, currency)))
        for shard in shards:
            progress(f"testing your permissions on {project} (shard {shard.shard})")
            found.append(here(permissions(shard, creds), f"{project}: shard {shard.shard}"))
    return found


def _quotas_check(quotas: list[QuotaRow]) -> CheckResult:
    short = [q for q in quotas if q.status == "fail"]
    several = len({q.project for q in quotas}) > 1
    return CheckResult(
        id="quotas",
        status="fail" if short else "ok",
        title="quotas",
        detail=(
            f"{len(short)} of {len(quotas)} quotas cannot hold the peak: "
            + ", ".join(quota_name(q, several) for q in short)
        )
        if short
        else f"all {len(quotas)} quotas hold the peak",
        fix="request the increases in the table (the request column); "
        "Google answers within days: ask well before the first large run"
        if short
        else "",
    )


def quota_name(row: QuotaRow, several_projects: bool) -> str:
    """A quota as named in a sentence: its metric and scope, and its project when the
    facility's clusters are in several."""
    where = f"{row.scope}, {row.project}" if several_projects else row.scope
    return f"{row.metric} ({where})"


def run(
    plan: Plan,
    progress: Callable[[str], None] = lambda _: None,
    *,
    backend: str | None = None,
    secrets_provider: str | None = None,
) -> Report:
    """Every check for ``plan``; network calls go to Google or the cluster, nothing else.
    ``backend`` and ``secrets_provider`` are the ones ``up`` will be given (None: the
    defaults)."""
    checks = [_pulumi(), *_deploy_environment(plan, backend, secrets_provider)]
    if plan.target.provider == "kubernetes":
        from gridcloud.check.kube import check_cluster

        progress("asking the cluster")
        checks += check_cluster(plan)
        return Report(profile=plan.name, target="kubernetes", checks=tuple(checks))

    from gridcloud.check import google
    from gridcloud.check.permissions import check as permissions
    from gridcloud.check.quotas import gke_limits

    project = plan.target.project
    checks.append(_auth_plugin())
    progress("finding Google credentials")
    creds, found = google.credentials()
    checks.append(found)
    quotas: list[QuotaRow] = []
    if creds is None:
        because = "no credentials"
        checks += [
            _skipped("project", "project access", because),
            _skipped("apis", "APIs enabled", because),
            _skipped("billing", "billing", because),
            _skipped("permissions", "permissions", because),
            _skipped("quotas", "quotas", because),
        ]
    else:
        progress(f"reading project {project}")
        global_quotas, access = google.project_quotas(project, creds)
        checks.append(access)
        progress("reading the enabled APIs")
        checks.append(google.enabled_apis(project, google.required_apis(plan), creds)[1])
        progress("reading the project's billing")
        budget = plan.budget
        account = budget.billing_account if budget is not None and budget.topic else None
        currency = budget.currency if budget is not None and account else None
        checks.append(google.billing(project, account, creds, currency))
        progress(f"testing your permissions on {project}")
        checks.append(permissions(plan, creds))
        checks += _shard_projects(plan, creds, account, currency, progress)
        if global_quotas is None:
            checks.append(_skipped("quotas", "quotas", "the project cannot be read"))
        else:
            quotas, failed = _facility_quotas(plan, global_quotas, creds, progress)
            checks.append(failed or _quotas_check(quotas))
    checks.append(gke_limits(plan))
    return Report(profile=plan.name, target="gcp", checks=tuple(checks), quotas=tuple(quotas))
