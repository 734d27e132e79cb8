"""The pods the services create at run time land where ``plan`` says, and nowhere else.

Each pod is made by the component that makes it in the cluster, from its rendered
configuration: notebooks by KubeSpawner (``get_pod_manifest``, from the chart's own
jupyterhub_config.py), Dask schedulers and workers by dask-gateway-server's controller
(``make_pod``, from the rendered gateway and controller configuration, a GPU worker through
the rendered options handler), REANA's job pods as reana-job-controller 0.9 builds their
node selector (``key=value`` of ``REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL``, no
tolerations), pilots from the grid site's Job template. Then the scheduler's rules
(``render.placement``) against every pool's labels and taints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gridcloud.plan import Plan
from gridcloud.render import Rendered, release_named
from gridcloud.render.placement import landing, nodes
from tests.services import local

pytestmark = pytest.mark.needs("kubespawner", "dask-gateway-server")

PROFILES = ("default", "small", "onprem")
ROOT = Path(__file__).resolve().parents[2]


def _planned(plan: Plan, release: str) -> dict[str, str]:
    """The ``pods land on`` column of ``plan`` for a release: component -> pool."""
    return {p.component: p.pool for p in plan.services.release(release).placements}


def notebook_pods(jupyterhub: Rendered) -> dict[str, dict[str, Any]]:
    """Each environment's notebook pod spec."""
    return {slug: pod["spec"] for slug, pod in notebook_manifests(jupyterhub).items()}


def notebook_manifests(
    jupyterhub: Rendered, user: str = "mock_name", groups: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Each environment's notebook pod as KubeSpawner makes it for ``user`` in ``groups``,
    after the hub's ``pre_spawn_hook``."""
    # the hub's configuration reads its provider's discovery document when it loads: the
    # fake provider stands in for the profile's issuer, which cannot be reached from here
    with (
        tempfile.TemporaryDirectory(prefix="gridcloud-spawn-") as tmp,
        local.FakeOidc("sub", "groups") as provider,
    ):
        hub_dir = Path(tmp) / "hub"
        secrets = local.lay_out_hub(jupyterhub, hub_dir)
        local.point_login_at(hub_dir, provider)
        env = local.python_env(
            **local.container_env(jupyterhub, "Deployment", "hub", secrets),
            HUB_SERVICE_PORT="8081",
            PROXY_API_SERVICE_PORT="8001",
            PYTHONPATH=str(ROOT),
        )
        done = subprocess.run(
            [sys.executable, "-m", "tests.services.spawn_pods", str(hub_dir), user, *groups],
            capture_output=True,
            text=True,
            env=env,
            cwd=hub_dir,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        pods: dict[str, dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
        return pods


def _config(text: str, folder: Path, name: str) -> Any:
    from traitlets.config import PyFileConfigLoader

    (folder / name).write_text(text)
    return PyFileConfigLoader(name, path=str(folder)).load_config()


def dask_pods(gateway: Rendered, gpu: bool) -> dict[str, dict[str, Any]]:
    """Each kind of Dask pod's spec."""
    return {k: pod["spec"] for k, pod in dask_manifests(gateway, gpu).items()}


def dask_manifests(
    gateway: Rendered,
    gpu: bool,
    user: str = "mock_name",
    groups: tuple[str, ...] = (),
) -> dict[str, dict[str, Any]]:
    """The schedulers and workers the controller makes for a cluster of ``user`` (in
    ``groups``), with the configuration the options handler gives (as the gateway does for
    every cluster)."""
    from dask_gateway_server.backends.kubernetes.backend import KubeClusterConfig
    from dask_gateway_server.backends.kubernetes.controller import KubeController
    from dask_gateway_server.models import User

    with tempfile.TemporaryDirectory(prefix="gridcloud-dask-") as tmp:
        folder = Path(tmp)
        api = gateway.find("ConfigMap", "api-dask-gateway").body["data"]
        config = _config(api["dask_gateway_config.py"], folder, "dask_gateway_config.py")
        controller_data = gateway.find("ConfigMap", "controller-dask-gateway").body["data"]
        ((file, text),) = controller_data.items()
        controller = KubeController(config=_config(text, folder, file))
    who = User(user, groups=list(groups))
    handler = config.Backend.cluster_options.handler

    def chosen(kind: str) -> Any:
        options = SimpleNamespace(worker_cores=2, worker_memory=8, worker_kind=kind)
        return KubeClusterConfig(config=config, **handler(options, who))

    cluster = chosen("cpu")
    pods = {
        "schedulers": controller.make_pod("jupyter", "c", cluster),
        "workers": controller.make_pod("jupyter", "c", cluster, is_worker=True),
    }
    if gpu:
        pods["GPU workers"] = controller.make_pod("jupyter", "c", chosen("gpu"), is_worker=True)
    return pods


def reana_job_pod(reana: Rendered) -> dict[str, Any]:
    controller = reana.find("Deployment", "reana-workflow-controller").body
    env = {
        e["name"]: e.get("value")
        for c in controller["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
    }
    key, value = env["REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL"].split("=")
    return {"nodeSelector": {key: value}}


@pytest.fixture(scope="module")
def runtime(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Profile -> component -> a pod spec the services would create."""
    made: dict[str, dict[str, dict[str, Any]]] = {}
    for name in PROFILES:
        plan, objects = plans[name], rendered[name]
        pods: dict[str, dict[str, Any]] = {}
        if "jupyter" in plan.services.enabled:
            for slug, spec in notebook_pods(release_named(objects, "jupyterhub")).items():
                pods[f"notebook:{slug}"] = spec
        if "dask" in plan.services.enabled:
            gpu = "GPU workers" in _planned(plan, "dask-gateway")
            for component, spec in dask_pods(release_named(objects, "dask-gateway"), gpu).items():
                pods[f"dask:{component}"] = spec
        if "reana" in plan.services.enabled:
            pods["reana:jobs"] = reana_job_pod(release_named(objects, "reana"))
        site = plan.services.grid_site
        if site is not None:
            pods["grid:pilots"] = site.job_template["spec"]["template"]["spec"]
        made[name] = pods
    return made


def _expected(plan: Plan, component: str) -> str:
    """Where ``plan`` says the component's pods go."""
    kind, _, detail = component.partition(":")
    if kind == "notebook":
        hub = _planned(plan, "jupyterhub")
        if detail.startswith("gpu-"):
            return detail.removeprefix("gpu-")
        if detail.startswith("arm-"):
            return detail.removeprefix("arm-")
        return hub["notebook servers"]
    if kind == "dask":
        return _planned(plan, "dask-gateway")[detail]
    if kind == "reana":
        return _planned(plan, "reana")["workflows and jobs"]
    site = plan.services.grid_site
    assert site is not None
    return site.pool


@pytest.mark.parametrize("name", PROFILES)
def test_every_runtime_pod_lands_where_plan_says_and_nowhere_else(
    name: str, plans: dict[str, Plan], runtime: dict[str, dict[str, dict[str, Any]]]
) -> None:
    plan = plans[name]
    pods = runtime[name]
    assert pods, "no runtime pods"
    plan_nodes = nodes(plan)
    wrong = {
        component: (landing(spec, plan_nodes), _expected(plan, component))
        for component, spec in pods.items()
        if landing(spec, plan_nodes) != (_expected(plan, component),)
    }
    assert wrong == {}


@pytest.mark.parametrize("name", PROFILES)
def test_no_runtime_pod_lands_on_the_control_node(
    name: str, plans: dict[str, Plan], runtime: dict[str, dict[str, dict[str, Any]]]
) -> None:
    plan_nodes = nodes(plans[name])
    assert [c for c, spec in runtime[name].items() if "control" in landing(spec, plan_nodes)] == []


def test_the_default_profile_makes_every_kind_of_runtime_pod(
    runtime: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """The default profile exercises each maker: a missing one would hide a wrong place."""
    assert set(runtime["default"]) == {
        "notebook:cpu",
        "notebook:ml",
        "notebook:gpu-gpu",
        "notebook:arm-arm",
        "dask:schedulers",
        "dask:workers",
        "dask:GPU workers",
        "reana:jobs",
        "grid:pilots",
    }


@pytest.mark.parametrize("name", PROFILES)
def test_notebooks_on_spot_only_with_a_warning(
    name: str, plans: dict[str, Plan], runtime: dict[str, dict[str, dict[str, Any]]]
) -> None:
    plan = plans[name]
    spot = {p.name for p in plan.pools if p.spot}
    for component, spec in runtime[name].items():
        if not component.startswith("notebook:"):
            continue
        (pool,) = landing(spec, nodes(plan))
        if pool in spot:
            from gridcloud.policy import evaluate

            flagged = [
                f
                for f in evaluate(plan)
                if f.rule == "interactive-on-spot" and f"spot pool {pool}" in f.message
            ]
            assert flagged, (component, pool)


@pytest.mark.parametrize("name", PROFILES)
def test_runtime_pods_run_unprivileged_where_policies_are_enforced(
    name: str, plans: dict[str, Plan], runtime: dict[str, dict[str, dict[str, Any]]]
) -> None:
    """On GKE (Dataplane V2 enforces the notebooks' NetworkPolicy) no notebook, Dask, REANA
    or pilot pod is privileged; elsewhere only the chart's metadata-blocking init container
    in notebook pods is, as KubeSpawner builds them."""
    privileged = {
        (component, c["name"])
        for component, spec in runtime[name].items()
        for c in [*spec.get("initContainers", []), *spec.get("containers", [])]
        if (c.get("securityContext") or {}).get("privileged")
    }
    if plans[name].on_gcp:
        assert privileged == set()
    else:
        assert privileged
        assert {c for _, c in privileged} == {"block-cloud-metadata"}
        assert all(component.startswith("notebook:") for component, _ in privileged)
