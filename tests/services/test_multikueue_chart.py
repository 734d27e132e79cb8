"""Kueue's real chart and CRDs, where they are here: MultiKueue's Plan rendered with Helm's
engine from Kueue 0.19.2's chart, every object checked as the API server would (Kueue's
objects against Kueue's own CRDs, not only gridcloud's fixture), each pod placed.

Kueue's chart and CRDs may not be copied into this repository, and ``../shared`` does not
carry them, so these tests need a source of their own, else they skip and say why:

- ``GRIDCLOUD_KUEUE_SOURCE``: a Kueue source tree at v0.19.2 (its ``charts/kueue`` and
  ``config/components/crd/bases``; e.g. ``git archive v0.19.2 charts/kueue
  config/components/crd/bases`` of a clone, unpacked), or the chart's folder itself;
- else the chart pulled into gridcloud's chart cache (``<cache>/charts/kueue-0.19.2``, as
  ``gridcloud render`` pulls it from oci://registry.k8s.io/kueue/charts).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.analysis import planned
from gridcloud.catalog import Catalog
from gridcloud.catalog.charts import CHARTS
from gridcloud.plan import Plan
from gridcloud.plan import multikueue as mk
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile.loader import parse_profile
from gridcloud.render import Rendered, render_plan
from gridcloud.render.manifests import Manifest
from gridcloud.render.placement import landing, nodes, rendered_pods, requests
from gridcloud.render.sources import cache_dir, directory_name
from gridcloud.render.validate import cluster_version, problems
from tests.charts import charts_dir, value_paths
from tests.conftest import default_data

SOURCE_ENV = "GRIDCLOUD_KUEUE_SOURCE"
KUEUE = CHARTS["kueue"]


@functools.cache
def kueue_source() -> tuple[Path, Path | None] | str:
    """(the chart's folder, the CRD bases' folder or None), or why there is none."""
    given = os.environ.get(SOURCE_ENV)
    if given:
        root = Path(given)
        chart = root / "charts" / "kueue" if (root / "charts" / "kueue").is_dir() else root
        bases = root / "config" / "components" / "crd" / "bases"
        if not (chart / "Chart.yaml").is_file():
            return f"{SOURCE_ENV}={given} holds no Kueue chart (charts/kueue/Chart.yaml)"
        return chart, bases if bases.is_dir() else None
    cached = cache_dir() / directory_name(KUEUE)
    if (cached / "Chart.yaml").is_file():
        return cached, None
    return (
        f"Kueue's chart is not here: set {SOURCE_ENV} to a Kueue source tree at "
        f"v{KUEUE.version}, or pull {KUEUE.chart} {KUEUE.version} into {cached}"
    )


@pytest.fixture(scope="module")
def chart() -> Path:
    found = kueue_source()
    if isinstance(found, str):
        pytest.skip(found)
    version = yaml.safe_load((found[0] / "Chart.yaml").read_text())["version"]
    assert version == KUEUE.version, f"{found[0]} is Kueue's chart {version}, not {KUEUE.version}"
    return found[0]


@pytest.fixture(scope="module")
def charts(chart: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared charts and Kueue's, laid out as ``--charts`` takes them (links)."""
    folder = tmp_path_factory.mktemp("charts")
    for source in charts_dir().iterdir():
        (folder / source.name).symlink_to(source)
    (folder / directory_name(KUEUE)).symlink_to(chart)
    return folder


@pytest.fixture(scope="module")
def plan(catalog: Catalog) -> Plan:
    data = default_data()
    data["shards"] = {
        "split": {"cores": 200_000, "regions": ["us-central1", "us-east1"]},
        "multikueue": {"enabled": True},
    }
    profile = parse_profile(yaml.safe_dump(data), "mk.yaml", catalog, PROFILE_CHECKS)
    return planned(profile, catalog)[0]


@pytest.fixture(scope="module")
def rendered(plan: Plan, charts: Path) -> dict[str, list[Rendered]]:
    """The home cluster and its first shard, rendered (the shards differ only in figures)."""
    return {
        "manager": render_plan(plan, charts),
        "worker": render_plan(plan.shards[0], charts),
    }


def _plan_of(plan: Plan, role: str) -> Plan:
    return plan if role == "manager" else plan.shards[0]


def _real_crds(rendered: list[Rendered]) -> list[dict[str, Any]]:
    kueue = next(r for r in rendered if r.name == "kueue")
    return [m.body for m in kueue.of_kind("CustomResourceDefinition")]


def _ours(rendered: list[Rendered]) -> list[Manifest]:
    own = next(r for r in rendered if r.release is None)
    return [m for m in own.manifests if m.body["apiVersion"].startswith("kueue.x-k8s.io/")]


def test_the_values_gridcloud_sets_are_read_by_the_charts_templates(chart: Path) -> None:
    listed = (KUEUE.directory / "template-value-paths.txt").read_text().split()
    assert set(listed) - value_paths(chart) == set()


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_everything_rendered_is_valid_for_the_clusters_kubernetes(
    role: str, plan: Plan, rendered: dict[str, list[Rendered]]
) -> None:
    assert problems(rendered[role], cluster_version(_plan_of(plan, role))) == []


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_gridclouds_kueue_objects_are_valid_for_kueues_own_crds(
    role: str, rendered: dict[str, list[Rendered]]
) -> None:
    real = tuple(_real_crds(rendered[role]))
    assert {c["spec"]["names"]["kind"] for c in real} >= {
        "ResourceFlavor",
        "ClusterQueue",
        "LocalQueue",
        "AdmissionCheck",
        "MultiKueueConfig",
        "MultiKueueCluster",
    }
    ours = _ours(rendered[role])
    assert ours
    judged = [Rendered(release=None, manifests=tuple(ours), crds=real, notes="")]
    assert problems(judged, "1.35") == []
    found = kueue_source()
    assert not isinstance(found, str)
    if found[1] is not None:  # the CRD bases of the source tree: the same verdict
        bases = tuple(
            yaml.safe_load(p.read_text()) for p in sorted(found[1].glob("kueue.x-k8s.io_*.yaml"))
        )
        judged = [Rendered(release=None, manifests=tuple(ours), crds=bases, notes="")]
        assert problems(judged, "1.35") == []


def test_the_real_crds_refuse_what_the_fixture_refuses(
    rendered: dict[str, list[Rendered]],
) -> None:
    """The fixture's bounds are Kueue's: each broken object the unit tests hold to the
    fixture is refused by Kueue's own schema too."""
    real = tuple(_real_crds(rendered["manager"]))
    objects = {m.kind: m.body for m in _ours(rendered["manager"])}
    broken = []
    config = copy.deepcopy(objects["MultiKueueConfig"])
    config["spec"]["clusters"] = [f"c{i}" for i in range(21)]
    broken.append(config)
    cluster = copy.deepcopy(objects["MultiKueueCluster"])
    cluster["spec"] = {"kubeConfig": cluster["spec"]["clusterSource"]["kubeConfig"]}
    broken.append(cluster)
    queue = copy.deepcopy(objects["ClusterQueue"])
    queue["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["nominalQuota"] = "1 core"
    broken.append(queue)
    flavor = copy.deepcopy(objects["ResourceFlavor"])
    flavor["spec"]["nodeLabels"] = {f"k{i}": "v" for i in range(9)}
    broken.append(flavor)
    for body in broken:
        judged = [Rendered(None, (Manifest("test", body),), real, "")]
        assert problems(judged, "1.35"), body["kind"]


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_kueues_pods_land_on_the_control_node_with_the_footprints_requests(
    role: str, plan: Plan, rendered: dict[str, list[Rendered]]
) -> None:
    each = _plan_of(plan, role)
    kueue = next(r for r in rendered[role] if r.name == "kueue")
    pods = rendered_pods([kueue])
    assert [p.owner for p in pods] == ["kueue: Deployment/kueue-controller-manager"]
    (pod,) = pods
    assert landing(pod.spec, nodes(each)) == ("control",)
    cpu, memory = requests(pod.spec)
    assert (cpu * pod.replicas, round(memory) * pod.replicas) == (
        mk.CONTROLLER.cpu_m,
        mk.CONTROLLER.memory_mi,
    )
    (container,) = pod.spec["containers"]
    assert container["image"] == "registry.k8s.io/kueue/kueue:v0.19.2"
    assert pod.spec["priorityClassName"] == "gridcloud-services"
    if role == "manager":  # the credentials CronJob and its first run too
        own = next(r for r in rendered[role] if r.release is None)
        writers = [p for p in rendered_pods([own]) if "multikueue-credentials" in p.owner]
        assert sorted(p.owner for p in writers) == [
            "gridcloud: CronJob/multikueue-credentials",
            "gridcloud: Job/multikueue-credentials-first",
        ]
        for writer in writers:
            assert landing(writer.spec, nodes(each)) == ("control",)


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_kueue_runs_gridclouds_configuration(
    role: str, rendered: dict[str, list[Rendered]]
) -> None:
    kueue = next(r for r in rendered[role] if r.name == "kueue")
    (config_map,) = [m for m in kueue.of_kind("ConfigMap") if "manager-config" in m.name]
    config = yaml.safe_load(config_map.body["data"]["controller_manager_config.yaml"])
    assert config["integrations"] == {"frameworks": ["batch/job"]}
    assert config["manageJobsWithoutQueueName"] is False
    # the ports the chart's Services and probes use
    assert (config["webhook"]["port"], config["metrics"]["bindAddress"]) == (9443, ":8443")
    # its Job webhooks are called for the batch namespace only: Job creation elsewhere (the
    # grid site's pilots, REANA's jobs) does not depend on Kueue being up
    (mutating,) = kueue.of_kind("MutatingWebhookConfiguration")
    (job,) = [w for w in mutating.body["webhooks"] if w["name"] == "mjob.kb.io"]
    assert job["failurePolicy"] == "Fail"
    assert job["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "batch"}}


def test_the_charts_kinds_are_what_helm_renders(rendered: dict[str, list[Rendered]]) -> None:
    """What ``check`` asks the installer to be allowed to create (catalog/charts.py)."""
    for role in ("manager", "worker"):
        kueue = next(r for r in rendered[role] if r.name == "kueue")
        kinds = {f"{m.body['apiVersion'].rpartition('/')[0]}/{m.kind}" for m in kueue.manifests}
        assert set(KUEUE.kinds) == kinds, role


def test_render_writes_each_shards_releases(charts: Path, tmp_path: Path) -> None:
    """``gridcloud render`` of a MultiKueue profile: the home cluster's files as before, and
    under ``shards/<shard>/`` each worker's releases (Kueue's, and its grid site's CVMFS
    driver: the default profile runs a grid site, so each shard with a cpu pool runs one)
    and objects."""
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli

    data = default_data()
    data["shards"] = {
        "split": {"cores": 200_000, "regions": ["us-central1", "us-east1"]},
        "multikueue": {"enabled": True},
    }
    profile = tmp_path / "mk.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "manifests"
    result = CliRunner().invoke(
        create_cli(), ["render", str(profile), "--out", str(out), "--charts", str(charts)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "kueue.yaml").is_file()
    for shard in ("s1", "s2"):
        folder = out / "shards" / shard
        assert sorted(p.name for p in folder.iterdir()) == [
            "cvmfs-csi.yaml",
            "gridcloud.yaml",
            "kueue.yaml",
        ]
        objects = [o for o in yaml.safe_load_all((folder / "gridcloud.yaml").read_text()) if o]
        assert [o["kind"] for o in objects if o["kind"] == "ClusterQueue"] == ["ClusterQueue"]
    home = [o for o in yaml.safe_load_all((out / "gridcloud.yaml").read_text()) if o]
    clusters = [o["metadata"]["name"] for o in home if o["kind"] == "MultiKueueCluster"]
    assert clusters == ["atlas-gcp-s1", "atlas-gcp-s2"]


def test_gpu_flavors_are_valid_for_kueues_own_crds(
    rendered: dict[str, list[Rendered]], catalog: Catalog
) -> None:
    """A shard with a T4 pool beside its cpu pool (tests/unit/test_multikueue.py works its
    quotas out): the worker's and the manager's queues, covering ``nvidia.com/gpu`` too,
    are valid for Kueue's own CRDs, as the chart ships them."""
    from gridcloud.plan import multikueue as kueue_plan

    real = tuple(_real_crds(rendered["manager"]))
    from tests.unit.test_multikueue import GPU_SHARD

    data = default_data()
    data["shards"] = GPU_SHARD
    profile = parse_profile(yaml.safe_dump(data), "gpu.yaml", catalog, PROFILE_CHECKS)
    with_gpus = planned(profile, catalog)[0]
    objects = [
        o
        for each in (with_gpus, *with_gpus.shards)
        for o in each.services.manifests
        if o["apiVersion"].startswith(kueue_plan.API.split("/")[0])
    ]
    queues = [o for o in objects if o["kind"] == "ClusterQueue"]
    assert len(queues) == 2
    assert all(
        "nvidia.com/gpu" in q["spec"]["resourceGroups"][0]["coveredResources"] for q in queues
    )
    judged = [Rendered(None, tuple(Manifest("test", o) for o in objects), real, "")]
    assert problems(judged, "1.35") == []
