"""What a cluster would have refused or got wrong, each checked on the rendered install or
with the real component (OAuthenticator, dask-gateway-server's options)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.plan import Plan
from gridcloud.plan.services.model import SECRET_PLACEHOLDER
from gridcloud.render import Rendered, release_named
from gridcloud.render.placement import rendered_pods
from tests.conftest import require
from tests.services.test_rendered import PROFILES


def _hub_values(rendered: list[Rendered]) -> dict[str, Any]:
    """The values the hub reads at start-up: the rendered Secret ``hub``'s values.yaml."""
    secret = release_named(rendered, "jupyterhub").find("Secret", "hub").body
    values = yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))
    assert isinstance(values, dict)
    return values


@pytest.mark.parametrize("name", ["default", "onprem"])
def test_the_real_oauthenticator_accepts_the_hubs_configuration(
    name: str, rendered: dict[str, list[Rendered]]
) -> None:
    """OAuthenticator 17.4 (the chart 4.4.0 hub image's) refuses allowed_groups without
    manage_groups when the configuration loads."""
    oauth = require("oauthenticator.generic")
    from traitlets.config import Config

    settings = _hub_values(rendered[name])["hub"]["config"]["GenericOAuthenticator"]
    assert settings["allowed_groups"]
    authenticator = oauth.GenericOAuthenticator(config=Config({"GenericOAuthenticator": settings}))
    assert authenticator.manage_groups is True
    assert authenticator.allowed_groups == set(settings["allowed_groups"])
    without = {k: v for k, v in settings.items() if k != "manage_groups"}
    with pytest.raises(ValueError, match="manage_groups"):
        oauth.GenericOAuthenticator(config=Config({"GenericOAuthenticator": without}))


@pytest.mark.parametrize("name", ["default", "default/regional", "default/europe-west4"])
def test_critical_pods_outside_kube_system_have_their_quota_on_gke(
    name: str, rendered: dict[str, list[Rendered]]
) -> None:
    """GKE admits system-*-critical pods outside kube-system only under a ResourceQuota
    scoped to those classes in the namespace (GKE docs, "critical pods")."""
    quotas = {
        (q.body["metadata"]["namespace"], value)
        for r in rendered[name]
        for q in r.of_kind("ResourceQuota")
        for e in q.body["spec"].get("scopeSelector", {}).get("matchExpressions", [])
        if e["scopeName"] == "PriorityClass" and e["operator"] == "In"
        for value in e["values"]
    }
    critical = [
        p
        for p in rendered_pods(rendered[name])
        if str(p.spec.get("priorityClassName", "")).startswith("system-")
    ]
    assert critical, "the CVMFS node plugin runs as system-node-critical"
    for pod in critical:
        assert (pod.namespace, pod.spec["priorityClassName"]) in quotas, pod.owner


def _gateway_config(rendered: list[Rendered], folder: Path) -> Any:
    """The gateway's configuration: its rendered dask_gateway_config.py loaded as the
    gateway loads it, with the real dask-gateway-server's options."""
    require("dask_gateway_server")
    from traitlets.config import PyFileConfigLoader

    config_map = release_named(rendered, "dask-gateway").find("ConfigMap", "api-dask-gateway")
    path = folder / "dask_gateway_config.py"
    path.write_text(config_map.body["data"]["dask_gateway_config.py"])
    return PyFileConfigLoader(path.name, path=str(folder)).load_config()


def test_gpu_workers_keep_their_priority_and_fit_a_gpu_node(
    rendered: dict[str, list[Rendered]], tmp_path: Path
) -> None:
    config = _gateway_config(rendered["default"], tmp_path)
    assert config.KubeClusterConfig.worker_extra_pod_config["priorityClassName"] == (
        "gridcloud-dask-worker"
    )
    from dask_gateway_server.models import User

    handler = config.Backend.cluster_options.handler
    user = User("alice")
    ok = handler(_values(worker_cores=4, worker_memory=16, worker_kind="gpu"), user)
    pod = ok["worker_extra_pod_config"]
    assert pod["priorityClassName"] == "gridcloud-dask-worker"
    assert pod["nodeSelector"] == {"gridcloud.io/pool": "gpu"}
    # n1-standard-8: GKE allocatable 7,910m and 27,097 MiB, less the CVMFS node plugin
    # (50m, 144 MiB) and GKE's DaemonSets (300m, 400 MiB): 7.5 cores, 25.9 GiB
    with pytest.raises(ValueError, match=r"at most 7\.5 cores and 25\.9 GiB"):
        handler(_values(worker_cores=8, worker_memory=16, worker_kind="gpu"), user)
    cpu = handler(_values(worker_cores=8, worker_memory=32, worker_kind="cpu"), user)
    assert "worker_extra_pod_config" not in cpu


def _values(**kwargs: Any) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(**kwargs)


def test_home_disks_only_in_zones_every_notebook_pool_reaches(
    rendered: dict[str, list[Rendered]],
) -> None:
    """The default Arm pool is in zones a and b of three: home disks go there only."""
    own = release_named(rendered["default"], "gridcloud")
    home = own.find("StorageClass", "gridcloud-home").body
    assert home["volumeBindingMode"] == "WaitForFirstConsumer"
    zones = home["allowedTopologies"][0]["matchLabelExpressions"][0]["values"]
    assert zones == ["us-central1-a", "us-central1-b"]
    storage = _hub_values(rendered["default"])["singleuser"]["storage"]
    assert storage["dynamic"]["storageClass"] == "gridcloud-home"


def test_notebook_pools_without_a_common_zone_are_refused(make_plan: Any) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["pools"][2]["zones"] = ["us-central1-c"]  # ondemand, the user pool

    with pytest.raises(PlanError, match="share no zone"):
        make_plan(edit)


@pytest.mark.parametrize("name", PROFILES)
def test_pilots_request_what_the_namespace_quota_counts(name: str, plans: dict[str, Plan]) -> None:
    site = plans[name].services.grid_site
    if site is None:
        pytest.skip("no grid site")
    job = site.job_template["spec"]
    container = job["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "8", "memory": "16Gi"}
    # on the pod: its running time (on the Job it would count the time queued too)
    assert job["template"]["spec"]["activeDeadlineSeconds"] == 48 * 3600
    assert "activeDeadlineSeconds" not in job


def test_the_cluster_enforces_network_policies(plans: dict[str, Plan]) -> None:
    """The charts ship NetworkPolicies: Dataplane V2 enforces them (chosen at creation)."""
    for name in ("default", "small", "default/regional"):
        cluster = plans[name].cluster
        assert cluster is not None
        assert cluster.datapath_provider == "ADVANCED_DATAPATH"


#: Secret keys that hold names, not secrets (the chart's defaults are fine there).
NOT_SECRET = {"user", "REANA_GITLAB_HOST"}


def _secret_values(rendered: Rendered) -> dict[tuple[str, str], str]:
    return {
        (m.name, key): base64.b64decode(value).decode(errors="replace")
        for m in rendered.of_kind("Secret")
        for key, value in (m.body.get("data") or {}).items()
    }


@pytest.mark.parametrize("name", ["default", "onprem"])
def test_no_chart_placeholder_is_left_in_any_secret(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """A chart's placeholder is what it renders, the same every time, when given nothing
    (a generated value differs between two renders): none may remain in the install.
    Values the Plan leaves as <secret> are generated by Pulumi at deploy time."""
    from gridcloud.render.manifests import render_release
    from gridcloud.render.sources import chart_source
    from tests.services.conftest import charts

    for release in plans[name].services.releases:
        bare = release.model_copy(update={"values": {}})
        first, second = (
            _secret_values(render_release(bare, chart_source(release.chart_key, charts())))
            for _ in range(2)
        )
        placeholders = {k: v for k, v in first.items() if second.get(k) == v and v}
        ours = _secret_values(release_named(rendered[name], release.name))
        left = {
            k: v
            for k, v in ours.items()
            if placeholders.get(k) == v and k[1] not in NOT_SECRET and v != SECRET_PLACEHOLDER
        }
        assert left == {}, f"{release.name}: chart placeholders left: {sorted(left)}"
