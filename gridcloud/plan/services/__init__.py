"""The services, planned: releases with computed values, the grid site, storage, footprint.

Everything a chart receives is computed here, from the profile and the pools, and validated
against the chart (its schema, or the paths its templates read) before anything deploys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridcloud.catalog.charts import CHARTS, validate_values
from gridcloud.errors import PlanError
from gridcloud.plan.data import pods_use_the_bucket
from gridcloud.plan.services import grid_site, ingress, jupyter, priorities, reana
from gridcloud.plan.services.footprint import plan_footprint
from gridcloud.plan.services.model import (
    AfterRelease,
    DiskPlan,
    GeneratedSecret,
    GridSitePlan,
    IngressPlan,
    PatchPlan,
    PriorityClassPlan,
    PrivilegeNeed,
    ReleasePlan,
    SecretOutput,
    ServicesPlan,
    SharedStoragePlan,
)
from gridcloud.plan.services.oidc import login_summary
from gridcloud.plan.services.placement import by_name, choose, reana_runtime_pool

if TYPE_CHECKING:
    from gridcloud.plan.model import NetworkPlan, PoolPlan
    from gridcloud.profile.models import Jupyter, Profile, SiteIngress

#: The disk type of the services' volumes on GKE (its default class, ``standard-rwo``).
PD = "pd-balanced"

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


def _site(profile: Profile) -> SiteIngress | None:
    """The site's ingress controller on an existing cluster; None on Google Cloud."""
    target = profile.target
    return target.ingress if target.provider == "kubernetes" else None


def _hostname(hub: Jupyter) -> str:
    if hub.hostname is None:
        raise PlanError(
            "JupyterHub needs services.jupyter.hostname: its HTTPS "
            "certificate and the OIDC callback (https://<hostname>/hub/oauth_callback) are "
            "issued for that name",
            hint="set services.jupyter.hostname to a DNS name you control (on Google Cloud, "
            "after `up`, point its A record at the address `gridcloud status` shows; on an "
            "existing cluster, at the site's ingress controller)",
        )
    return hub.hostname


@dataclass
class _Parts:
    """What the services add up to, gathered service by service."""

    releases: list[ReleasePlan] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    patches: list[PatchPlan] = field(default_factory=list)
    ingresses: list[IngressPlan] = field(default_factory=list)
    after_release: list[AfterRelease] = field(default_factory=list)
    generated_secrets: list[GeneratedSecret] = field(default_factory=list)
    secret_outputs: list[SecretOutput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    disks: list[DiskPlan] = field(default_factory=list)
    privilege_needs: list[PrivilegeNeed] = field(default_factory=list)

    def entry_point(self, plan: IngressPlan) -> None:
        """An HTTPS entry point, its manifests after the release it routes to."""
        self.ingresses.append(plan)
        self.after_release.append(
            AfterRelease(release=plan.release, manifests=tuple(ingress.objects(plan)))
        )

    classes: list[PriorityClassPlan] = field(default_factory=lambda: [priorities.SERVICES])
    enabled: list[str] = field(default_factory=list)


def _grid_site(
    parts: _Parts,
    profile: Profile,
    pools: tuple[PoolPlan, ...],
    network: NetworkPlan | None,
    *,
    on_gcp: bool,
) -> GridSitePlan:
    site = profile.services.grid_site
    control = pools[0]
    parts.enabled.append("gridSite")
    chosen = grid_site.grid_pools(profile, pools)
    parts.classes.append(priorities.PILOT)
    parts.releases.append(grid_site.cvmfs_release(site, control))
    if on_gcp:
        parts.objects.append(grid_site.critical_pods_quota(grid_site.CVMFS_NAMESPACE))
    parts.objects += grid_site.squid_objects(site, grid_site.private_ranges(network), control)
    parts.after_release.append(
        AfterRelease(release="cvmfs-csi", manifests=tuple(grid_site.cvmfs_objects(site)))
    )
    project = profile.target.project if on_gcp and profile.target.provider == "gcp" else None
    return grid_site.plan_grid_site(site, chosen, profile.name, project)


def _reana(
    parts: _Parts, profile: Profile, control: PoolPlan, runtime: PoolPlan, *, on_gcp: bool
) -> SharedStoragePlan:
    settings = profile.services.reana
    parts.enabled.append("reana")
    site = _site(profile)
    parts.releases.append(
        reana.reana_release(settings, control, runtime, load_balancer=on_gcp, site=site)
    )
    parts.objects.append(reana.namespace_defaults(settings))
    parts.patches += reana.cronjob_patches(settings, control)
    parts.generated_secrets.append(reana.admin_secret(settings))
    parts.after_release.append(
        AfterRelease(release="reana", manifests=tuple(reana.first_run_objects(settings, control)))
    )
    parts.secret_outputs.append(reana.admin_token_output(settings))
    if on_gcp:
        parts.entry_point(
            ingress.reana_ingress(profile.name, settings.namespace, settings.hostname)
        )
        parts.patches += ingress.reana_patches(settings.namespace, settings.hostname)
        parts.disks.append(
            DiskPlan(what="REANA workspace (NFS)", size_gb=settings.storage_gb, disk_type=PD)
        )
    else:
        parts.entry_point(
            ingress.reana_ingress(profile.name, settings.namespace, settings.hostname, site)
        )
    parts.privilege_needs.append(reana.nfs_privilege(settings))
    return reana.shared_storage(settings, control, on_gcp=on_gcp)


def _jupyter(
    parts: _Parts,
    profile: Profile,
    pools: tuple[PoolPlan, ...],
    runtime: str | None,
    *,
    on_gcp: bool,
) -> dict[str, str]:
    hub = profile.services.jupyter
    control = pools[0]
    parts.enabled.append("jupyter")
    user = by_name(pools, choose(profile, hub.user_pool, prefer_spot=False, what="JupyterHub"))
    gpus = [p for p in pools if p.kind == "gpu"]
    arms = [p for p in pools if p.kind == "arm"]
    parts.classes.append(priorities.INTERACTIVE)
    home = jupyter.home_storage_class(user, gpus, arms) if on_gcp else None
    if home is not None:
        parts.objects.append(home)
    parts.releases.append(
        jupyter.jupyterhub_release(
            hub,
            control=control,
            user=user,
            gpus=gpus,
            arms=arms,
            dask=hub.dask.enabled,
            home_class=home["metadata"]["name"] if home else None,
            load_balancer=on_gcp,
            network_policies_enforced=on_gcp,
            meter=on_gcp,
            metadata_server=pods_use_the_bucket(profile.data, on_gcp=on_gcp),
        )
    )
    parts.entry_point(
        ingress.jupyter_ingress(profile.name, hub.namespace, _hostname(hub), _site(profile))
    )
    if on_gcp:
        parts.disks += [
            DiskPlan(what="JupyterHub database", size_gb=jupyter.HUB_DB_GB, disk_type=PD),
            DiskPlan(
                what="home volumes",
                size_gb=hub.user_storage_gb,
                disk_type=PD,
                count=hub.expected_users,
            ),
        ]
    if hub.dask.enabled:
        parts.enabled.append("dask")
        workers = by_name(
            pools, choose(profile, hub.dask.worker_pool, prefer_spot=True, what="Dask")
        )
        gpu = gpus[0] if hub.dask.gpu_workers and gpus else None
        worker_class = priorities.dask_workers(runtime is not None and workers.name == runtime)
        parts.classes.append(worker_class)
        parts.releases.append(
            jupyter.dask_gateway_release(
                hub,
                control=control,
                schedulers=user,
                workers=workers,
                gpu=gpu,
                worker_class=worker_class.name,
            )
        )
    return _oidc_secret(hub)


def plan_services(
    profile: Profile,
    pools: tuple[PoolPlan, ...],
    network: NetworkPlan | None,
    *,
    on_gcp: bool,
) -> ServicesPlan:
    services = profile.services
    control = pools[0]
    parts = _Parts()
    site_plan = (
        _grid_site(parts, profile, pools, network, on_gcp=on_gcp)
        if services.grid_site.enabled
        else None
    )
    runtime = reana_runtime_pool(profile)
    storage = (
        _reana(parts, profile, control, by_name(pools, runtime), on_gcp=on_gcp)
        if runtime is not None
        else None
    )
    oidc_secret = (
        _jupyter(parts, profile, pools, runtime, on_gcp=on_gcp)
        if services.jupyter.enabled
        else None
    )
    for release in parts.releases:
        validate_release(release)
    services_plan = ServicesPlan(
        enabled=tuple(parts.enabled),
        namespaces=(),
        priority_classes=tuple(parts.classes) if parts.enabled else (),
        releases=tuple(parts.releases),
        grid_site=site_plan,
        shared_storage=storage,
        footprint=plan_footprint(profile, control, on_gcp=on_gcp),
        oidc_secret=oidc_secret,
        objects=tuple(parts.objects),
        patches=tuple(parts.patches),
        ingresses=tuple(parts.ingresses),
        after_release=tuple(parts.after_release),
        generated_secrets=tuple(parts.generated_secrets),
        secret_outputs=tuple(parts.secret_outputs),
        warnings=tuple(parts.warnings),
        disks=tuple(parts.disks),
        login=login_summary(services.jupyter.oidc, services.jupyter.hostname or "localhost")
        if services.jupyter.enabled and services.jupyter.oidc is not None
        else None,
        privilege_needs=tuple(parts.privilege_needs),
    )
    namespaces = {r.namespace for r in parts.releases} | {
        o["metadata"]["namespace"] for o in services_plan.manifests if "namespace" in o["metadata"]
    }
    return services_plan.model_copy(update={"namespaces": tuple(sorted(namespaces))})
