"""The services, planned: releases with computed values, the grid site, storage, footprint.

Everything a chart receives is computed here, from the profile and the pools, and validated
against the chart (its schema, or the paths its templates read) before anything deploys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.catalog.charts import CHARTS, validate_values
from gridcloud.errors import PlanError
from gridcloud.plan.services import grid_site, jupyter, reana
from gridcloud.plan.services.footprint import plan_footprint
from gridcloud.plan.services.model import ReleasePlan, ServicesPlan
from gridcloud.plan.services.placement import by_name, choose, reana_runtime_pool

if TYPE_CHECKING:
    from gridcloud.plan.model import NetworkPlan, PoolPlan
    from gridcloud.profile.models import Profile

__all__ = ["ServicesPlan", "plan_services", "reana_runtime_pool", "validate_release"]


def validate_release(release: ReleasePlan) -> None:
    problems = validate_values(CHARTS[release.chart_key], release.values)
    if problems:
        raise PlanError(
            f"the computed values of release {release.name} ({release.chart} "
            f"{release.version}) are not valid for the chart: " + "; ".join(problems),
            hint="this is a gridcloud bug, or a chart version changed: report it with "
            f"`gridcloud plan --values {release.name}`",
        )


def plan_services(
    profile: Profile,
    pools: tuple[PoolPlan, ...],
    network: NetworkPlan | None,
    *,
    on_gcp: bool,
) -> ServicesPlan:
    services = profile.services
    control = pools[0]
    releases: list[ReleasePlan] = []
    enabled: list[str] = []
    site_plan = None
    storage = None
    oidc_secret = None

    if services.grid_site.enabled:
        enabled.append("gridSite")
        site = services.grid_site
        pool = by_name(pools, choose(profile, site.pool, prefer_spot=True, what="the grid site"))
        site_plan = grid_site.plan_grid_site(site, pool)
        releases.append(grid_site.cvmfs_release(site, control))
        releases.append(grid_site.squid_release(site, grid_site.private_ranges(network), control))
    runtime = reana_runtime_pool(profile)
    if runtime is not None:
        enabled.append("reana")
        releases.append(reana.reana_release(services.reana, control, by_name(pools, runtime)))
        storage = reana.shared_storage(services.reana, control, on_gcp=on_gcp)
    if services.jupyter.enabled:
        enabled.append("jupyter")
        hub = services.jupyter
        user = by_name(pools, choose(profile, hub.user_pool, prefer_spot=False, what="JupyterHub"))
        gpus = [p for p in pools if p.kind == "gpu"]
        arms = [p for p in pools if p.kind == "arm"]
        dask = hub.dask.enabled
        releases.append(
            jupyter.jupyterhub_release(
                hub, control=control, user=user, gpus=gpus, arms=arms, dask=dask
            )
        )
        if dask:
            enabled.append("dask")
            workers = by_name(
                pools, choose(profile, hub.dask.worker_pool, prefer_spot=True, what="Dask")
            )
            gpu = gpus[0] if hub.dask.gpu_workers and gpus else None
            releases.append(
                jupyter.dask_gateway_release(
                    hub, control=control, schedulers=user, workers=workers, gpu=gpu
                )
            )
        assert hub.oidc is not None  # checked with the profile
        ref = hub.oidc.client_secret_ref
        oidc_secret = (
            {"name": ref.name, "key": ref.key}
            if ref is not None
            else {"env": hub.oidc.client_secret_env or ""}
        )
    for release in releases:
        validate_release(release)
    namespaces = sorted({r.namespace for r in releases})
    return ServicesPlan(
        enabled=tuple(enabled),
        namespaces=tuple(namespaces),
        priority_classes=(grid_site.PILOT_PRIORITY, grid_site.INTERACTIVE_PRIORITY)
        if enabled
        else (),
        releases=tuple(releases),
        grid_site=site_plan,
        shared_storage=storage,
        footprint=plan_footprint(profile, control, on_gcp=on_gcp),
        oidc_secret=oidc_secret,
    )
