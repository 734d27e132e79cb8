"""The services, planned: releases with computed values, the grid site, storage, footprint.

Everything a chart receives is computed here, from the profile and the pools, and validated
against the chart (its schema, or the paths its templates read) before anything deploys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.catalog.charts import CHARTS, validate_values
from gridcloud.errors import PlanError
from gridcloud.plan.services import grid_site, jupyter, priorities, reana
from gridcloud.plan.services.footprint import plan_footprint
from gridcloud.plan.services.model import PatchPlan, PriorityClassPlan, ReleasePlan, ServicesPlan
from gridcloud.plan.services.placement import by_name, choose, reana_runtime_pool

if TYPE_CHECKING:
    from typing import Any

    from gridcloud.plan.model import NetworkPlan, PoolPlan
    from gridcloud.profile.models import Jupyter, Profile

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


def _oidc_secret(hub: Jupyter) -> dict[str, str]:
    """Where JupyterHub's OIDC client secret comes from: the deployer's environment, or a
    Secret the site already has."""
    assert hub.oidc is not None  # checked with the profile
    ref = hub.oidc.client_secret_ref
    if ref is not None:
        return {"name": ref.name, "key": ref.key}
    return {"env": hub.oidc.client_secret_env or ""}


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
    objects: list[dict[str, Any]] = []
    patches: list[PatchPlan] = []
    classes: list[PriorityClassPlan] = [priorities.SERVICES]
    enabled: list[str] = []
    site_plan = None
    storage = None
    oidc_secret = None

    if services.grid_site.enabled:
        enabled.append("gridSite")
        site = services.grid_site
        pool = by_name(pools, choose(profile, site.pool, prefer_spot=True, what="the grid site"))
        site_plan = grid_site.plan_grid_site(site, pool)
        classes.append(priorities.PILOT)
        releases.append(grid_site.cvmfs_release(site, control))
        if on_gcp:
            objects.append(grid_site.critical_pods_quota(grid_site.CVMFS_NAMESPACE))
        objects += grid_site.squid_objects(site, grid_site.private_ranges(network), control)
    runtime = reana_runtime_pool(profile)
    if runtime is not None:
        enabled.append("reana")
        releases.append(reana.reana_release(services.reana, control, by_name(pools, runtime)))
        objects.append(reana.namespace_defaults(services.reana))
        patches += reana.cronjob_patches(services.reana, control)
        storage = reana.shared_storage(services.reana, control, on_gcp=on_gcp)
    if services.jupyter.enabled:
        enabled.append("jupyter")
        hub = services.jupyter
        user = by_name(pools, choose(profile, hub.user_pool, prefer_spot=False, what="JupyterHub"))
        gpus = [p for p in pools if p.kind == "gpu"]
        arms = [p for p in pools if p.kind == "arm"]
        dask = hub.dask.enabled
        classes.append(priorities.INTERACTIVE)
        home = jupyter.home_storage_class(user, gpus, arms) if on_gcp else None
        if home is not None:
            objects.append(home)
        releases.append(
            jupyter.jupyterhub_release(
                hub,
                control=control,
                user=user,
                gpus=gpus,
                arms=arms,
                dask=dask,
                home_class=home["metadata"]["name"] if home else None,
            )
        )
        if dask:
            enabled.append("dask")
            workers = by_name(
                pools, choose(profile, hub.dask.worker_pool, prefer_spot=True, what="Dask")
            )
            gpu = gpus[0] if hub.dask.gpu_workers and gpus else None
            worker_class = priorities.dask_workers(runtime is not None and workers.name == runtime)
            classes.append(worker_class)
            releases.append(
                jupyter.dask_gateway_release(
                    hub,
                    control=control,
                    schedulers=user,
                    workers=workers,
                    gpu=gpu,
                    worker_class=worker_class.name,
                )
            )
        oidc_secret = _oidc_secret(hub)
    for release in releases:
        validate_release(release)
    namespaces = {r.namespace for r in releases} | {
        o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]
    }
    return ServicesPlan(
        enabled=tuple(enabled),
        namespaces=tuple(sorted(namespaces)),
        priority_classes=tuple(classes) if enabled else (),
        releases=tuple(releases),
        grid_site=site_plan,
        shared_storage=storage,
        footprint=plan_footprint(profile, control, on_gcp=on_gcp),
        oidc_secret=oidc_secret,
        objects=tuple(objects),
        patches=tuple(patches),
    )
