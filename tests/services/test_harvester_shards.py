"""A facility of shards as PanDA sees it: one Harvester queue per cluster that runs grid work.

Each shard's site is held to what Harvester's Kubernetes plugin expects, with the single
site's checks (tests/services/test_harvester.py); the queue file, the CRIC values and the
kubeconfig are checked against Harvester's own reading of them (HSF/harvester master:
k8s_submitter.py loads ``k8s_config_file`` with ``kubernetes.config.load_kube_config``,
reads ``k8s_yaml_file``, takes the namespace from the queue's CE queue name; k8s_utils.py
requests ``maxwdir`` (MiB; prorated over ``corecount`` on a unified queue) as the pilot's
ephemeral storage).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.catalog import Catalog
from gridcloud.plan import Plan, expand
from gridcloud.profile import parse_profile
from gridcloud.render import Rendered, render_plan
from gridcloud.render.validate import cluster_version, problems
from tests.conftest import default_data
from tests.services import test_harvester as single
from tests.services.conftest import charts

N2D = {"kind": "cpu", "machineType": "n2d-highcpu-80"}


def _facility(catalog: Catalog, queue: str | None = None) -> Plan:
    """The default facility and three shards: one spot pool in europe-west4, two spot
    families in europe-west1, GPUs only in us-east1."""
    data: dict[str, Any] = default_data()
    if queue is not None:
        data["services"]["gridSite"]["harvester"] = {"queue": queue}
    data["shards"] = {
        "declared": [
            {
                "name": "ew4",
                "region": "europe-west4",
                "pools": [{"name": "spot", **N2D, "maxCores": 8000}],
            },
            {
                "name": "ew1",
                "region": "europe-west1",
                "pools": [
                    {"name": "n2d", **N2D, "maxCores": 4000},
                    {
                        "name": "n2",
                        "kind": "cpu",
                        "machineType": "n2-highcpu-80",
                        "maxCores": 4000,
                        "diskSizeGb": 200,
                    },
                ],
            },
            {
                "name": "gpu",
                "region": "us-east1",
                "pools": [
                    {"name": "l4", "kind": "gpu", "machineType": "g2-standard-8", "maxNodes": 4}
                ],
            },
        ]
    }
    return expand(parse_profile(yaml.safe_dump(data), "sharded", catalog), catalog)


@pytest.fixture(scope="module")
def facility(catalog: Catalog) -> Plan:
    return _facility(catalog)


@pytest.fixture(scope="module")
def by_name(facility: Plan) -> dict[str, Plan]:
    return {p.name: p for p in (facility, *facility.shards)}


@pytest.fixture(scope="module")
def rendered(by_name: dict[str, Plan]) -> dict[str, list[Rendered]]:
    return {name: render_plan(plan, charts()) for name, plan in by_name.items()}


GRID = ("atlas-gcp", "atlas-gcp-ew4", "atlas-gcp-ew1")


def test_every_shard_with_a_cpu_pool_is_a_queue_and_only_those(facility: Plan) -> None:
    from gridcloud.render import harvester

    queues = harvester.queues(facility)
    # <NAME>_K8S for the home cluster, <NAME>_<SHARD>_K8S for a shard; the GPU shard none
    assert list(queues) == ["ATLAS_GCP_K8S", "ATLAS_GCP_EW4_K8S", "ATLAS_GCP_EW1_K8S"]
    gpu = next(s for s in facility.shards if s.shard == "gpu")
    assert gpu.services.grid_site is None
    assert gpu.services.releases == ()
    # each its own kubeconfig, template and Google account; one namespace name everywhere
    common = [q["common"] for q in queues.values()]
    assert [c["k8s_config_file"] for c in common] == [
        f"/data/atlpan/k8_configs/{name}-kubeconfig" for name in GRID
    ]
    assert [c["k8s_yaml_file"] for c in common] == [
        f"/data/atlpan/k8_configs/{name}-job.yaml" for name in GRID
    ]
    assert {c["k8s_namespace"] for c in common} == {"grid"}
    # pilots of 8 cores: the home quota (96,000 cores), the shards' pools (8,000 each)
    assert [q["maxWorkers"] for q in queues.values()] == [12_000, 1_000, 1_000]
    assert [q["nQueueLimitWorkerMax"] for q in queues.values()] == [1000, 1000, 1000]


def test_a_named_home_queue_names_the_shards_queues(catalog: Catalog) -> None:
    from gridcloud.render import harvester

    plan = _facility(catalog, queue="CERN-GCP")
    assert list(harvester.queues(plan)) == ["CERN-GCP", "CERN-GCP_EW4", "CERN-GCP_EW1"]


@pytest.mark.parametrize("name", GRID)
def test_each_shards_site_is_held_to_harvester_as_the_single_site(
    name: str, by_name: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    single.test_the_job_template_mounts_what_harvester_and_the_pilot_expect(name, by_name, rendered)
    single.test_the_job_template_is_a_valid_job(name, by_name)
    single.test_the_submitter_may_do_what_harvester_does_and_no_more(name, by_name)


@pytest.mark.parametrize("name", GRID)
def test_each_shards_objects_are_valid_kubernetes(
    name: str, by_name: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    plan = by_name[name]
    assert problems(rendered[name], cluster_version(plan)) == []
    kinds = {
        (m.body["kind"], m.body["metadata"]["name"]) for r in rendered[name] for m in r.manifests
    }
    # the site: the CVMFS driver, a claim per repository, the squid, the submitter's RBAC
    assert {
        ("Deployment", "frontier-squid"),
        ("PersistentVolumeClaim", "csi-cvmfs-atlas-pvc"),
        ("Role", "grid-submitter"),
        ("RoleBinding", "grid-submitter"),
        ("ServiceAccount", "grid-submitter"),
    } <= kinds
    # no long-lived token on GKE
    assert not any(k == "Secret" and n == "grid-submitter-token" for k, n in kinds)


def test_pilots_land_on_every_spot_family_of_a_shard(by_name: dict[str, Plan]) -> None:
    site = by_name["atlas-gcp-ew1"].services.grid_site
    assert site is not None
    pod = site.job_template["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": "gridcloud.io/pool", "operator": "In", "values": ["n2d", "n2"]}
    ]
    # spot nodes and elastic pools are tainted: the pilot tolerates both, once each
    keys = sorted(t["key"] for t in pod["tolerations"])
    assert keys == ["cloud.google.com/gke-spot", "gridcloud.io/elastic"]
    # Harvester adds its own affinity only where the template has none (k8s_utils.py)
    assert "affinity" in pod


def test_the_cric_values_match_the_template_and_the_nodes(by_name: dict[str, Plan]) -> None:
    for name in GRID:
        site = by_name[name].services.grid_site
        assert site is not None
        container = site.job_template["spec"]["template"]["spec"]["containers"][0]
        requests = container["resources"]["requests"]
        # the template's requests are the queue's core count and memory (MB)
        assert site.cric["corecount"] == int(requests["cpu"]) == 8
        assert site.cric["maxrss"] == 16 * 1024 and requests["memory"] == "16Gi"
        assert site.cric["maxtime"] == 48 * 3600
        assert site.cric["ce_queue_name"] == "grid"  # Harvester's namespace
    # the pilot dir: an n2d-highcpu-80 node's 100 GB boot disk, ~94 GB of filesystem; GKE
    # keeps min(47, 6 + 32.9, 100) = 38.9 GB and evicts below 9.4 GB free; the CVMFS cache
    # takes 20 GB: 25.7 GB for 10 pilots, 2.57 GiB = 2,631 MB each
    assert by_name["atlas-gcp-ew4"].services.grid_site.cric["maxwdir"] == 2631  # type: ignore[union-attr]
    # over two families, the smaller disk decides (n2d's 100 GB, not n2's 200 GB)
    assert by_name["atlas-gcp-ew1"].services.grid_site.cric["maxwdir"] == 2631  # type: ignore[union-attr]


def test_a_shard_with_grid_work_has_a_system_node_for_the_squid(by_name: dict[str, Plan]) -> None:
    # GKE's pods (800m) and the site's squid and CVMFS driver (170m) exceed e2-medium's 940m
    assert by_name["atlas-gcp-ew4"].control.machine_type == "e2-standard-2"
    gpu = next(p for name, p in by_name.items() if name.endswith("-gpu"))
    assert gpu.control.machine_type == "e2-medium"


def test_render_writes_the_facilitys_harvester_files(facility: Plan, tmp_path: Path) -> None:
    from gridcloud.render import harvester

    written = [path.name for path, _ in harvester.write(facility, tmp_path)]
    assert written == [
        "harvester-atlas-gcp-job.yaml",
        "harvester-atlas-gcp-ew4-job.yaml",
        "harvester-atlas-gcp-ew1-job.yaml",
        "harvester-queue.json",
        "harvester-cric.json",
    ]
    queues = json.loads((tmp_path / "harvester-queue.json").read_text())
    cric = json.loads((tmp_path / "harvester-cric.json").read_text())
    assert list(cric) == list(queues)
    for queue, entry in queues.items():
        # the template file a queue names is the one written for its cluster
        stack = cric[queue]["stack"]
        template = yaml.safe_load((tmp_path / f"harvester-{stack}-job.yaml").read_text())
        assert entry["common"]["k8s_yaml_file"].endswith(f"/{stack}-job.yaml")
        assert template["metadata"]["namespace"] == entry["common"]["k8s_namespace"]
        assert cric[queue]["kubeconfig"] == entry["common"]["k8s_config_file"]
    assert [c["shard"] for c in cric.values()] == ["home", "ew4", "ew1"]
    assert [c["region"] for c in cric.values()] == ["us-central1", "europe-west4", "europe-west1"]


def _plugin(folder: Path) -> Path:
    """A stand-in for gke-gcloud-auth-plugin: an ExecCredential as the real one prints it,
    its token naming the call and the credentials file it was given, expiring in
    ``EXPIRES_S`` seconds; each call is counted in ``calls``."""
    script = folder / "gke-gcloud-auth-plugin"
    script.write_text(
        f"#!{sys.executable}\n"
        "import datetime, json, os, pathlib\n"
        f"calls = pathlib.Path({str(folder / 'calls')!r})\n"
        "n = int(calls.read_text()) + 1 if calls.exists() else 1\n"
        "calls.write_text(str(n))\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['spec']['cluster']['server'].startswith('https://')\n"
        "expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(\n"
        "    seconds=int(os.environ['EXPIRES_S']))\n"
        "credentials = os.path.basename(os.environ['GOOGLE_APPLICATION_CREDENTIALS'])\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',\n"
        "    'kind': 'ExecCredential', 'status': {'token': f'token-{n}-{credentials}',\n"
        "    'expirationTimestamp': expires.strftime('%Y-%m-%dT%H:%M:%SZ')}}))\n"
    )
    script.chmod(0o755)
    return script


def _kubeconfig(by_name: dict[str, Plan], name: str, folder: Path) -> Path:
    from gridcloud.program.services.kubeconfig import gke_exec_kubeconfig
    from tests.program.conftest import ca_data

    site = by_name[name].services.grid_site
    assert site is not None and site.google is not None
    path = folder / f"{name}-kubeconfig"
    path.write_text(
        gke_exec_kubeconfig(
            f"{name}-grid", "https://203.0.113.10", ca_data(), "grid", site.google.credentials
        )
    )
    return path


@pytest.mark.parametrize("expires_s", [3600, 60])
def test_harvesters_client_gets_and_renews_the_token_through_the_plugin(
    by_name: dict[str, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expires_s: int
) -> None:
    """As k8s_Client does: ``config.load_kube_config(config_file=...)``, then each API
    call asks the configuration for its bearer token. An hour-long token is reused; one
    within the client's five-minute margin is renewed by running the plugin again."""
    from kubernetes import client, config

    _plugin(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path(sys.executable).parent}")
    monkeypatch.setenv("EXPIRES_S", str(expires_s))
    path = _kubeconfig(by_name, "atlas-gcp-ew1", tmp_path)
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)
    assert configuration.host == "https://203.0.113.10"
    first = configuration.get_api_key_with_prefix("BearerToken")
    second = configuration.get_api_key_with_prefix("BearerToken")
    calls = int((tmp_path / "calls").read_text())
    if expires_s == 3600:
        # loaded once, used for both calls, from the shard's own Google credentials
        assert first == second == "Bearer token-1-atlas-gcp-ew1-google.json"
        assert calls == 1
    else:
        # at the load, then before each call: a fresh token each time
        assert (first, second) == (
            "Bearer token-2-atlas-gcp-ew1-google.json",
            "Bearer token-3-atlas-gcp-ew1-google.json",
        )
        assert calls == 3


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_reads_each_shards_kubeconfig(by_name: dict[str, Plan], tmp_path: Path) -> None:
    for name in GRID:
        path = _kubeconfig(by_name, name, tmp_path)
        shown = json.loads(
            subprocess.run(
                ["kubectl", "config", "view", "--kubeconfig", str(path), "-o", "json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        (user,) = shown["users"]
        assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
        assert user["user"]["exec"]["args"] == ["--use_application_default_credentials"]
        assert shown["contexts"][0]["context"]["namespace"] == "grid"
        assert "token" not in user["user"]


def test_pilots_over_a_pool_with_fallback_shapes_and_a_plain_one(catalog: Catalog) -> None:
    """A pool with fallback shapes is selected by its ComputeClass, a plain one by its pool
    label: one node-affinity term each (Kubernetes ORs them), every taint tolerated."""
    import kubernetes_validate

    data: dict[str, Any] = default_data()
    data["pools"][0]["fallback"] = {"shapes": [{"machineType": "n2-highcpu-80"}]}
    data["pools"].append({"name": "spot2", **N2D, "spot": True, "maxCores": 800})
    data["services"]["gridSite"].pop("pool")  # the default: every spot cpu pool
    plan = expand(parse_profile(yaml.safe_dump(data), "fallback", catalog), catalog)
    site = plan.services.grid_site
    assert site is not None
    assert site.pools == ("cpu", "spot2")
    pod = site.job_template["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {
            "matchExpressions": [
                {
                    "key": "cloud.google.com/compute-class",
                    "operator": "In",
                    "values": ["gridcloud-cpu"],
                }
            ]
        },
        {"matchExpressions": [{"key": "gridcloud.io/pool", "operator": "In", "values": ["spot2"]}]},
    ]
    tolerated = {t["key"] for t in pod["tolerations"]}
    for name in site.pools:
        assert {t.key for t in plan.pool(name).taints if not t.by_gke} <= tolerated
    kubernetes_validate.validate(site.job_template, cluster_version(plan), strict=True)


def test_gridcloud_render_writes_every_clusters_queue(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli

    data: dict[str, Any] = default_data()
    data["shards"] = {
        "declared": [
            {
                "name": "ew4",
                "region": "europe-west4",
                "pools": [{"name": "spot", **N2D, "maxCores": 800}],
            },
        ]
    }
    profile = tmp_path / "sharded.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        create_cli(), ["render", str(profile), "--out", str(out), "--charts", str(charts())]
    )
    assert result.exit_code == 0, result.output
    assert (out / "harvester-atlas-gcp-job.yaml").is_file()
    assert (out / "harvester-atlas-gcp-ew4-job.yaml").is_file()
    queues = json.loads((out / "harvester-queue.json").read_text())
    assert list(queues) == ["ATLAS_GCP_K8S", "ATLAS_GCP_EW4_K8S"]
    assert "2 queue(s)" in result.output
