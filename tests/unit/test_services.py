"""The services' computed values, checked against the charts as Helm would check them.

The reference is ../shared/charts (the charts' own files at their release tags), not the
copies gridcloud ships, so a drift between the two fails here too.
"""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gridcloud.analysis import analyse
from gridcloud.catalog.charts import CHARTS, helm_merge, validate_values
from gridcloud.errors import PlanError
from gridcloud.plan import Plan
from gridcloud.plan.services.model import SECRET_PLACEHOLDER, ReleasePlan
from tests.charts import charts_dir, value_paths
from tests.charts import schema as chart_schema
from tests.conftest import PROFILES, SHIPPED

MakePlan = Callable[..., Plan]
RELEASES = ("cvmfs-csi", "reana", "jupyterhub", "dask-gateway")


def chart_dir(release: ReleasePlan) -> Path:
    chart = CHARTS[release.chart_key]
    return charts_dir() / chart.directory.name


def leaves(values: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out += leaves(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}")
    return out


def check_against_shared(release: ReleasePlan) -> None:
    directory = chart_dir(release)
    schema = chart_schema(directory)
    if schema is not None:
        defaults = yaml.safe_load((directory / "values.yaml").read_text())
        jsonschema.validate(helm_merge(defaults, release.values), schema)
        return
    read = value_paths(directory)
    subcharts = CHARTS[release.chart_key].subcharts
    for leaf in leaves(release.values):
        parts = leaf.split(".")
        if parts[0] in subcharts:
            continue
        assert any(".".join(parts[:i]) in read for i in range(1, len(parts) + 1)), (
            f"{release.name}: {leaf} is not read by the chart's templates"
        )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_release_of_every_profile_is_valid_for_its_chart(path: Path) -> None:
    plan = analyse(path).plan
    assert plan.services.releases
    for release in plan.services.releases:
        check_against_shared(release)


def test_default_profile_declares_all_five_releases() -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    assert [r.name for r in plan.services.releases] == list(RELEASES)
    versions = {r.name: (r.chart, r.version) for r in plan.services.releases}
    assert versions["jupyterhub"] == ("jupyterhub", "4.4.0")
    assert versions["cvmfs-csi"] == ("oci://registry.cern.ch/kubernetes/charts/cvmfs-csi", "2.5.2")


def test_shipped_chart_files_are_the_charts_own() -> None:
    for chart in CHARTS.values():
        if chart.key == "kueue":  # gridcloud's own list of what it sets, no copy of Kueue's:
            continue  # held to the real chart in tests/services/test_multikueue_chart.py
        source = charts_dir() / chart.directory.name
        for file in chart.directory.iterdir():
            if file.name == "values.schema.yaml" and not (source / file.name).is_file():
                # a published chart: its values.schema.json is made from this file
                assert chart_schema(chart.directory) == chart_schema(source), file
            elif file.name == "template-value-paths.txt" and not (source / file.name).is_file():
                assert set(file.read_text().split()) == value_paths(source), file
            else:
                assert filecmp.cmp(file, source / file.name, shallow=False), file


def test_a_key_the_chart_ignores_is_an_error() -> None:
    assert validate_values(CHARTS["reana"], {"node_label_infrastucture": "a=b"}) == [
        "node_label_infrastucture: not read by the reana 0.9.4 templates"
    ]
    problems = validate_values(CHARTS["jupyterhub"], {"hub": {"nodeSelectr": {}}})
    assert problems == ["hub: Additional properties are not allowed ('nodeSelectr' was unexpected)"]
    assert validate_values(CHARTS["cvmfs-csi"], {"nodeplugin": {"tolerations": []}}) == []


def test_secrets_are_placeholders_never_chart_defaults() -> None:
    reana = analyse(PROFILES / "default.yaml").plan.services.release("reana")
    paths = {s.path for s in reana.secrets}
    # every value REANA 0.9.4's templates/secrets.yaml defaults to a placeholder
    assert paths == {
        ("secrets", "database", "password"),
        ("secrets", "message_broker", "password"),
        ("secrets", "cache", "password"),
        ("secrets", "reana", "REANA_SECRET_KEY"),
        ("secrets", "cern", "sso", "CERN_CONSUMER_KEY"),
        ("secrets", "cern", "sso", "CERN_CONSUMER_SECRET"),
        ("secrets", "gitlab", "REANA_GITLAB_OAUTH_APP_ID"),
        ("secrets", "gitlab", "REANA_GITLAB_OAUTH_APP_SECRET"),
    }
    for path in paths:
        node: Any = reana.values
        for key in path:
            node = node[key]
        assert node == SECRET_PLACEHOLDER


def test_always_on_components_select_the_control_node() -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    control = {"gridcloud.io/pool": "control"}
    services = plan.services
    hub = services.release("jupyterhub").values
    assert hub["hub"]["nodeSelector"] == control
    assert hub["proxy"]["chp"]["nodeSelector"] == control
    dask = services.release("dask-gateway").values
    for part in ("gateway", "controller", "traefik"):
        assert dask[part]["nodeSelector"] == control
    reana = services.release("reana").values
    # quoted: the chart pastes it into nodeSelectors unquoted (on-prem "true" would be a bool)
    assert reana["node_label_infrastructure"] == 'gridcloud.io/pool="control"'
    assert reana["node_label_runtimejobs"] == "gridcloud.io/pool=ondemand"
    assert services.release("cvmfs-csi").values["controllerplugin"]["nodeSelector"] == control


def test_user_and_worker_pods_go_to_the_pools_with_tolerations() -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    hub = plan.services.release("jupyterhub").values["singleuser"]
    # each environment selects its pool (KubeSpawner merges a selector set beside them)
    assert "nodeSelector" not in hub
    assert {t["key"] for t in hub["extraTolerations"]} == {"gridcloud.io/elastic"}
    profiles = {p["slug"]: p["kubespawner_override"] for p in hub["profileList"]}
    assert set(profiles) == {"cpu", "ml", "gpu-gpu", "arm-arm"}
    assert profiles["cpu"]["node_selector"] == {"gridcloud.io/pool": "ondemand"}
    gpu = profiles["gpu-gpu"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert {t["key"] for t in gpu["tolerations"]} >= {"nvidia.com/gpu", "cloud.google.com/gke-spot"}
    assert {t["key"] for t in profiles["arm-arm"]["tolerations"]} >= {"kubernetes.io/arch"}
    worker = plan.services.release("dask-gateway").values["gateway"]["backend"]["worker"]
    assert worker["extraPodConfig"]["nodeSelector"] == {"gridcloud.io/pool": "cpu"}
    assert {t["key"] for t in worker["extraPodConfig"]["tolerations"]} == {
        "gridcloud.io/elastic",
        "cloud.google.com/gke-spot",
    }


def test_dask_gateway_authenticates_through_the_hub_service() -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    gateway = plan.services.release("dask-gateway").values["gateway"]
    assert gateway["auth"]["type"] == "jupyterhub"
    assert gateway["auth"]["jupyterhub"]["jupyterhubServiceName"] == "dask-gateway"
    hub = plan.services.release("jupyterhub").values["hub"]
    assert "dask-gateway" in hub["services"]
    assert "access:services!service=dask-gateway" in hub["loadRoles"]["user"]["scopes"]
    options = gateway["extraConfig"]["gridcloud-options"]
    compile(options, "dask-gateway extraConfig", "exec")  # the gateway runs it as Python
    assert "max=8" in options and "cluster_max_workers = 500" in options


def test_oidc_login_and_idle_culling() -> None:
    hub = analyse(PROFILES / "default.yaml").plan.services.release("jupyterhub").values
    auth = hub["hub"]["config"]["GenericOAuthenticator"]
    assert auth["client_id"] == "atlas-gcp-jupyterhub"
    assert auth["allowed_groups"] == ["atlas"]
    # the endpoints are the provider's discovery document's, read by the hub at start
    assert "authorize_url" not in auth
    login = hub["custom"]["gridcloud"]["oidc"]
    assert login["discovery"] == "https://atlas-auth.cern.ch/.well-known/openid-configuration"
    secret_env = hub["hub"]["extraEnv"]["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
    assert secret_env == {"name": "jupyterhub-oidc", "key": "client-secret"}
    assert hub["cull"] == {"enabled": True, "timeout": 3600, "every": 300}


def test_reana_runtime_pool_has_a_soft_taint_and_is_on_demand() -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    pool = plan.pool("ondemand")
    assert [(t.key, t.effect) for t in pool.taints] == [
        ("gridcloud.io/elastic", "PreferNoSchedule")
    ]
    reana = plan.services.release("reana").values
    assert reana["node_label_runtimejobs"] == "gridcloud.io/pool=ondemand"


def test_reana_on_a_spot_pool_is_refused(make_plan: MakePlan) -> None:
    from gridcloud.errors import ProfileError

    def edit(data: dict[str, Any]) -> None:
        data["services"]["reana"]["runtimePool"] = "cpu"

    with pytest.raises(ProfileError, match="REANA 0.9 sets no tolerations"):
        make_plan(edit)


def test_grid_site_job_template_reaches_the_spot_pool() -> None:
    site = analyse(PROFILES / "default.yaml").plan.services.grid_site
    assert site is not None
    spec = site.job_template["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"gridcloud.io/pool": "cpu"}
    assert spec["priorityClassName"] == "gridcloud-grid-pilot"
    assert {t["key"] for t in spec["tolerations"]} == {
        "gridcloud.io/elastic",
        "cloud.google.com/gke-spot",
    }
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "csi-cvmfs-atlas-pvc"
    assert site.quota_cores == 96000


def test_cvmfs_uses_the_site_squid_and_the_profile_repositories() -> None:
    values = analyse(PROFILES / "default.yaml").plan.services.release("cvmfs-csi").values
    local = values["extraConfigMaps"]["cvmfs-csi-default-local"]["default.local"]
    assert 'CVMFS_HTTP_PROXY="http://frontier-squid.grid.svc.cluster.local:3128"' in local
    assert "CVMFS_REPOSITORIES=atlas.cern.ch,atlas-condb.cern.ch,sft.cern.ch" in local
    assert values["nodeplugin"]["tolerations"] == [{"operator": "Exists"}]


def test_footprint_fits_the_default_control_node() -> None:
    footprint = analyse(PROFILES / "default.yaml").plan.services.footprint
    assert footprint is not None
    assert footprint.fits
    # e2-standard-2: 2,000m less 60m + 10m reserved; 8 GiB less 1.8 GiB and 100 MiB
    assert (footprint.allocatable_cpu_m, footprint.allocatable_memory_mi) == (1930, 6249)
    components = {(i.service, i.component) for i in footprint.items}
    assert {("jupyter", "hub"), ("reana", "server"), ("gridSite", "squid")} <= components


def test_footprint_too_large_for_a_small_control_node(make_plan: MakePlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["controlNode"]["machineType"] = "e2-medium"

    with pytest.raises(PlanError) as info:
        make_plan(edit)
    message = info.value.message
    assert "e2-medium offers 940m and 2,972 MiB" in message
    # GKE 800m/1,024 MiB; CVMFS 70m/208; squid 100m/128+256 cache; REANA NFS 50/128,
    # 8 containers at the namespace default 25m/128 MiB, its Traefik 25/64 (the router
    # behind the load balancer for the UI and sessions); hub 100/256, proxy 50/64, the
    # spending meter in the hub's pod 20/64; Dask 100/256: 1,515m and 3,472 MiB
    assert "need 1,515m CPU and 3,472 MiB" in message
    assert "short by 575m CPU and 500 MiB" in message


def test_on_prem_profile_has_the_same_services_without_cloud() -> None:
    plan = analyse(PROFILES / "onprem.yaml").plan
    assert [r.name for r in plan.services.releases] == list(RELEASES)
    assert plan.services.shared_storage is not None
    assert plan.services.shared_storage.backing_storage_class is None  # the cluster's default
    assert plan.services.oidc_secret == {"name": "jupyterhub-oidc", "key": "client-secret"}
    footprint = plan.services.footprint
    assert footprint is not None
    assert not any(i.service == "GKE" for i in footprint.items)
