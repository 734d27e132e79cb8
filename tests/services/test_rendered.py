"""Every release of every shipped profile, rendered by Helm's engine, is valid Kubernetes and
puts each pod where the Plan says: what a cluster would do with the install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.plan import Plan
from gridcloud.render import Rendered
from gridcloud.render.placement import (
    Pod,
    default_requests,
    landing,
    nodes,
    rendered_pods,
    requests,
)
from gridcloud.render.validate import cluster_version, problems

PROFILES = ("default", "small", "onprem", "default/regional", "default/europe-west4")


@pytest.mark.parametrize("name", PROFILES)
def test_every_object_is_valid_for_the_clusters_kubernetes(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    assert rendered[name], "no release rendered"
    assert problems(rendered[name], cluster_version(plans[name])) == []


def test_the_validation_catches_what_the_api_server_refuses(
    rendered: dict[str, list[Rendered]],
) -> None:
    """The check itself: a boolean node selector and an unknown field are refused (the
    first problem of each object is reported)."""
    import copy

    release = copy.deepcopy(rendered["default"])
    jupyterhub = next(r for r in release if r.name == "jupyterhub")
    hub = jupyterhub.find("Deployment", "hub")
    hub.body["spec"]["template"]["spec"]["nodeSelector"]["gridcloud.io/pool"] = True
    jupyterhub.find("Deployment", "proxy").body["spec"]["replica"] = 1
    found = problems(release, "1.36")
    assert len(found) == 2, found
    assert any("is not of type 'string'" in p for p in found)
    assert any("replica" in p for p in found)


def test_on_prem_reana_selects_its_control_node_by_string(
    rendered: dict[str, list[Rendered]],
) -> None:
    reana = next(r for r in rendered["onprem"] if r.name == "reana")
    spec = reana.find("Deployment", "reana-server").body["spec"]["template"]["spec"]
    # the label as the profile writes it: node-role.gridcloud.io/control: "true"
    assert spec["nodeSelector"] == {"node-role.gridcloud.io/control": "true"}


def _always_on(rendered: list[Rendered]) -> list[Pod]:
    return [p for p in rendered_pods(rendered) if not p.per_node]


@pytest.mark.parametrize("name", PROFILES)
def test_every_service_pod_lands_on_the_control_node_only(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """Nothing always-on (nor a CronJob) may keep an elastic node alive."""
    plan_nodes = nodes(plans[name])
    wrong = {
        p.owner: landing(p.spec, plan_nodes)
        for p in _always_on(rendered[name])
        if landing(p.spec, plan_nodes) != ("control",)
    }
    assert wrong == {}


@pytest.mark.parametrize("name", PROFILES)
def test_node_plugins_run_on_every_pool(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    plan = plans[name]
    daemons = [p for p in rendered_pods(rendered[name]) if p.per_node]
    if "gridSite" in plan.services.enabled:
        assert daemons
    for pod in daemons:
        assert landing(pod.spec, nodes(plan)) == tuple(p.name for p in plan.pools)


@pytest.mark.parametrize("name", PROFILES)
def test_the_control_nodes_requests_match_the_footprint_and_fit(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """The footprint table is what the rendered manifests request on the control node."""
    plan = plans[name]
    footprint = plan.services.footprint
    if footprint is None:
        pytest.skip("the control node's capacity is not known")
    plan_nodes = nodes(plan)
    defaults = default_requests(rendered[name])
    cpu, memory = 0, 0.0
    for pod in rendered_pods(rendered[name]):
        if "control" in landing(pod.spec, plan_nodes) and not pod.completes:
            pod_cpu, pod_memory = requests(pod.spec, defaults.get(pod.namespace))
            cpu += pod_cpu * pod.replicas
            memory += pod_memory * pod.replicas
    # what is not among the manifests: GKE's own pods
    unrendered = [i for i in footprint.items if not i.rendered]
    cpu += sum(i.cpu_m for i in unrendered)
    memory += sum(i.memory_mi for i in unrendered)
    assert (cpu, round(memory)) == (footprint.cpu_m, footprint.memory_mi)
    assert cpu <= footprint.allocatable_cpu_m
    assert memory <= footprint.allocatable_memory_mi


def test_render_command_writes_every_release_for_review(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli
    from tests.services.conftest import charts

    out = tmp_path / "manifests"
    result = CliRunner().invoke(
        create_cli(), ["render", "default", "--out", str(out), "--charts", str(charts())]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "cvmfs-csi.yaml",
        "dask-gateway.yaml",
        "gridcloud.yaml",
        "harvester-atlas-gcp-job.yaml",
        "harvester-cric.json",
        "harvester-queue.json",
        "jupyterhub.yaml",
        "reana.yaml",
        "restore",
        # the default profile's Rucio storage element (data.md)
        "rucio-rse-ATLAS_GCP_DATADISK.json",
        "rucio-server-credentials.cfg",
    ]
    # a restore for each backed-up volume (plan/backups.py)
    assert sorted(p.name for p in (out / "restore").iterdir()) == [
        "restore-jupyter-homes.yaml",
        "restore-jupyter-hubDatabase.yaml",
        "restore-reana-reana.yaml",
    ]
    import json

    queue = json.loads((out / "harvester-queue.json").read_text())
    # the file the queue names, once copied to the Harvester host as the docs say
    assert queue["ATLAS_GCP_K8S"]["common"]["k8s_yaml_file"].endswith("/atlas-gcp-job.yaml")
    job = yaml.safe_load((out / "harvester-atlas-gcp-job.yaml").read_text())
    assert job["metadata"]["name"] == "grid-job"
    reana = list(yaml.safe_load_all((out / "reana.yaml").read_text()))
    cron = next(o for o in reana if o["metadata"]["name"] == "reana-retention-rules-apply")
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"gridcloud.io/pool": "control"}  # the Plan's patch
    assert "valid for Kubernetes 1.36" in result.output


def test_render_command_refuses_a_folder_without_the_charts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli

    result = CliRunner().invoke(
        create_cli(), ["render", "--out", str(tmp_path / "o"), "--charts", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def _rights(spec: dict[str, Any]) -> set[str]:
    """What a pod's containers may do beyond an unprivileged container: privileged, each
    capability added to the runtime's default set, no AppArmor or seccomp profile."""
    rights: set[str] = set()
    for c in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        context = c.get("securityContext") or {}
        if context.get("privileged"):
            rights.add("privileged")
        rights |= set((context.get("capabilities") or {}).get("add") or [])
        for profile in ("appArmorProfile", "seccompProfile"):
            if (context.get(profile) or {}).get("type") == "Unconfined":
                rights.add(f"{profile} Unconfined")
    return rights


#: By hand, from the charts' templates and the NFS server's needs: the CVMFS node plugin's
#: containers are privileged with SYS_ADMIN (FUSE mounts shared with the host through
#: bidirectional propagation); REANA's kernel NFS server mounts the nfsd file system
#: (SYS_ADMIN, and no AppArmor profile, whose default denies mounts). Nothing else.
CVMFS_NODE_PLUGIN = {"cvmfs-csi: DaemonSet/cvmfs-csi-nodeplugin": {"privileged", "SYS_ADMIN"}}
NFS_SERVER = {"gridcloud: Deployment/gridcloud-nfs": {"SYS_ADMIN", "appArmorProfile Unconfined"}}


@pytest.mark.parametrize("name", PROFILES)
def test_only_the_cvmfs_node_plugin_and_the_nfs_server_run_with_privilege(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """What gets deployed (the charts' objects and gridcloud's own): the pods that may do
    more than an unprivileged container, and exactly what more."""
    elevated = {p.owner: _rights(p.spec) for p in rendered_pods(rendered[name]) if _rights(p.spec)}
    expected: dict[str, set[str]] = {}
    if "gridSite" in plans[name].services.enabled:
        expected |= CVMFS_NODE_PLUGIN
    if "reana" in plans[name].services.enabled:
        expected |= NFS_SERVER
    assert elevated == expected


def test_the_policy_waives_exactly_what_the_nfs_server_is_given(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """The rendered NFS server's rights are the ones the Plan names as needed, and the
    policy reports them waived with that reason, not silently."""
    from gridcloud.policy.rules import evaluate

    plan = plans["default"]
    (need,) = plan.services.privilege_needs
    server = next(p for p in rendered_pods(rendered["default"]) if p.owner in NFS_SERVER)
    assert _rights(server.spec) == {*need.capabilities, "appArmorProfile Unconfined"}
    findings = [f for f in evaluate(plan) if f.rule == "privileged-pod"]
    assert [f.waived for f in findings] == [need.reason]


@pytest.mark.parametrize("name", PROFILES)
def test_check_asks_for_every_kind_helm_renders(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """`gridcloud check` on a kubernetes target asks the API server whether the user may
    create each of these: it must not miss one Helm would create."""
    from gridcloud.check.kube import CLUSTER_SCOPED, Access, needed, plural

    asked = set(needed(plans[name]))
    made = set()
    for release in rendered[name]:
        namespace = release.release.namespace if release.release else None
        for manifest in release.manifests:
            group = manifest.body["apiVersion"].rpartition("/")[0]
            scoped = manifest.kind not in CLUSTER_SCOPED
            where = manifest.body.get("metadata", {}).get("namespace") or namespace
            made.add(Access(group, plural(manifest.kind), where if scoped else None))
        if release.crds and release.release is not None:  # not GKE's own kinds
            made.add(Access("apiextensions.k8s.io", "customresourcedefinitions", None))
    assert made - asked == set()


def test_the_charts_kinds_are_what_helm_renders(rendered: dict[str, list[Rendered]]) -> None:
    """The table in catalog/charts.py asks for nothing a shipped profile's render lacks
    (Secrets aside: Helm keeps its release records in them)."""
    from gridcloud.catalog.charts import CHARTS

    seen: dict[str, set[str]] = {}
    for releases in rendered.values():
        for release in releases:
            if release.release is None:
                continue
            kinds = seen.setdefault(release.release.chart_key, set())
            for manifest in release.manifests:
                group = manifest.body["apiVersion"].rpartition("/")[0]
                kinds.add(f"{group}/{manifest.kind}")
            if release.crds:
                kinds.add("apiextensions.k8s.io/CustomResourceDefinition")
    for key, kinds in seen.items():
        assert set(CHARTS[key].kinds) - {"/Secret"} == kinds - {"/Secret"}, key
