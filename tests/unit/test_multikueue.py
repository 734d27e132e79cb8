"""MultiKueue over the shards (shards.multikueue): Kueue's objects as the Plan emits them,
held to figures worked out by hand, to Kueue's v1beta2 schema (the fixture written from its
reference: gridcloud/render/data/kueue-crds.yaml), to Kueue's CEL rules, and the worker
kubeconfigs' writer run against stand-ins of the APIs it calls.

Figures by hand (GKE's allocatable rules, docs/plan.md; GKE's DaemonSets 300m, 400 MiB a
node): n2d-highcpu-80 and n2-highcpu-80 (80 vCPUs, 80 GB): CPU 80,000m less 60 + 10 + 10 +
0.25% of 76,000 (190) = 79,730m, less 300 = 79,430m a node; memory 81,920 MiB less 25% of
4 GiB, 20% of 4, 10% of 8, 6% of 64 (6.44 GiB = 6,594.56 MiB) = 75,325 MiB, less 100
(eviction) and 400 = 74,825 MiB. c2d-highcpu-112 (112 vCPUs, 224 GB): 112,000m less 60 + 10
+ 10 + 0.25% of 108,000 (270) = 111,650m, less 300 = 111,350m; memory 229,376 MiB less 1 +
0.8 + 0.8 + 6.72 + 2% of 96 (1.92) = 11.24 GiB (11,509.76 MiB) = 217,866 MiB, less 500 =
217,366 MiB. A 200,000-core split over two regions: two shards of 100,000 cores, each
ceil(100,000 / 3) = 33,334 cores a pool: 417 + 417 nodes of 80 cores, 298 of 112.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import yaml

from gridcloud.analysis import planned
from gridcloud.catalog import Catalog
from gridcloud.catalog.charts import CHARTS, validate_values
from gridcloud.errors import PlanError
from gridcloud.incluster import multikueue_credentials as credentials
from gridcloud.plan import Plan
from gridcloud.plan import multikueue as mk
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile.loader import parse_profile
from gridcloud.render.manifests import kueue_crds
from gridcloud.render.placement import landing, nodes
from tests.conftest import default_data
from tests.json_http import JsonHandler, serving

TWO = ["us-central1", "us-east1"]
N80_CPU_M, N80_MEMORY_MI = 79_430, 74_825
C112_CPU_M, C112_MEMORY_MI = 111_350, 217_366


def profile_text(shards: dict[str, Any]) -> str:
    data = default_data()
    data["shards"] = shards
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture(scope="module")
def make(catalog: Catalog) -> Callable[[dict[str, Any]], Plan]:
    def build(shards: dict[str, Any]) -> Plan:
        profile = parse_profile(profile_text(shards), "test.yaml", catalog, PROFILE_CHECKS)
        return planned(profile, catalog)[0]

    return build


@pytest.fixture(scope="module")
def plan(make: Callable[[dict[str, Any]], Plan]) -> Plan:
    return make({"split": {"cores": 200_000, "regions": TWO}, "multikueue": {"enabled": True}})


def kueue_objects(plan: Plan) -> list[dict[str, Any]]:
    return [o for o in plan.services.manifests if o["apiVersion"].startswith("kueue.x-k8s.io/")]


def one(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def quota(queue: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """flavor -> (cpu, memory) nominal quotas of a ClusterQueue's one resource group."""
    (group,) = queue["spec"]["resourceGroups"]
    return {
        f["name"]: tuple(r["nominalQuota"] for r in f["resources"])  # type: ignore[misc]
        for f in group["flavors"]
    }


def test_off_unless_enabled(catalog: Catalog) -> None:
    data = default_data()
    data["shards"] = {"split": {"cores": 200_000, "regions": TWO}}
    # no grid site: the shards' system nodes then hold GKE's pods alone
    data["services"]["gridSite"]["enabled"] = False
    text = yaml.safe_dump(data, sort_keys=False)
    plain = planned(parse_profile(text, "test.yaml", catalog, PROFILE_CHECKS), catalog)[0]
    assert plain.multikueue is None
    assert "kueue" not in [r.name for r in plain.services.releases]
    assert all(not s.services.releases for s in plain.shards)
    # a compute shard's system node holds GKE's pods only: e2-medium (940m >= 800m)
    assert [s.control.machine_type for s in plain.shards] == ["e2-medium", "e2-medium"]


def test_kueue_is_installed_on_the_manager_and_every_worker(plan: Plan) -> None:
    for each in (plan, *plan.shards):
        release = each.services.release("kueue")
        assert (release.chart, release.version) == (
            "oci://registry.k8s.io/kueue/charts/kueue",
            "0.19.2",
        )
        assert release.namespace == "kueue-system"
        assert "multikueue" in each.services.enabled
        assert {"kueue-system", "batch"} <= set(each.services.namespaces)
        # Kueue's objects wait for its release (their CRDs come with it)
        after = [a for a in each.services.after_release if a.release == "kueue"]
        assert len(after) == 1
        assert {o["kind"] for o in after[0].manifests} >= {"ClusterQueue", "LocalQueue"}


def test_worker_flavors_and_quotas_by_hand(plan: Plan) -> None:
    for shard in plan.shards:
        objects = kueue_objects(shard)
        (queue,) = one(objects, "ClusterQueue")
        assert quota(queue) == {
            "n2d-80": (f"{417 * N80_CPU_M}m", f"{417 * N80_MEMORY_MI}Mi"),
            "n2-80": (f"{417 * N80_CPU_M}m", f"{417 * N80_MEMORY_MI}Mi"),
            "c2d-112": (f"{298 * C112_CPU_M}m", f"{298 * C112_MEMORY_MI}Mi"),
        }
        assert "admissionChecksStrategy" not in queue["spec"]  # a worker runs what it admits
        flavors = {f["metadata"]["name"]: f["spec"] for f in one(objects, "ResourceFlavor")}
        pool = shard.pool("n2d-80")
        # Kueue puts the flavor's labels and tolerations on the pods it admits there
        assert flavors["n2d-80"]["nodeLabels"] == pool.node_selector
        assert flavors["n2d-80"]["tolerations"] == pool.tolerations
        spec = {
            "nodeSelector": flavors["n2d-80"]["nodeLabels"],
            "tolerations": flavors["n2d-80"]["tolerations"],
        }
        assert landing(spec, nodes(shard)) == ("n2d-80",)


def test_the_managers_quota_is_the_workers_sum(plan: Plan) -> None:
    (queue,) = one(kueue_objects(plan), "ClusterQueue")
    per_shard_cpu = 2 * 417 * N80_CPU_M + 298 * C112_CPU_M
    per_shard_memory = 2 * 417 * N80_MEMORY_MI + 298 * C112_MEMORY_MI
    assert quota(queue) == {"shards": (f"{2 * per_shard_cpu}m", f"{2 * per_shard_memory}Mi")}
    assert queue["spec"]["admissionChecksStrategy"] == {
        "admissionChecks": [{"name": "gridcloud-multikueue"}]
    }
    assert plan.multikueue is not None
    assert plan.multikueue.cpu_m == 2 * per_shard_cpu


def test_queues_are_mirrored_and_every_worker_is_wired(plan: Plan) -> None:
    home = kueue_objects(plan)
    local = [
        (q["metadata"]["namespace"], q["metadata"]["name"], q["spec"])
        for q in one(home, "LocalQueue")
    ]
    assert local == [("batch", "batch", {"clusterQueue": "gridcloud"})]
    for shard in plan.shards:
        objects = kueue_objects(shard)
        (queue,) = one(objects, "LocalQueue")
        assert (queue["metadata"]["namespace"], queue["metadata"]["name"]) == ("batch", "batch")
        assert queue["spec"] == {"clusterQueue": "gridcloud"}
        assert [q["metadata"]["name"] for q in one(objects, "ClusterQueue")] == ["gridcloud"]
    clusters = ["atlas-gcp-s1", "atlas-gcp-s2"]
    assert [s.cluster.name for s in plan.shards if s.cluster] == clusters
    (config,) = one(home, "MultiKueueConfig")
    assert config["spec"]["clusters"] == clusters
    (check,) = one(home, "AdmissionCheck")
    assert check["spec"]["controllerName"] == "kueue.x-k8s.io/multikueue"
    assert check["spec"]["parameters"]["name"] == config["metadata"]["name"]
    sources = {
        c["metadata"]["name"]: c["spec"]["clusterSource"]["kubeConfig"]
        for c in one(home, "MultiKueueCluster")
    }
    assert sources == {
        name: {"locationType": "Secret", "location": f"{name}-kubeconfig"} for name in clusters
    }


def test_no_secret_in_the_plan_only_the_writer_of_one(plan: Plan) -> None:
    everything = [*plan.services.manifests, *(o for s in plan.shards for o in s.services.manifests)]
    ours = [o for o in everything if o["metadata"].get("labels", {}) == mk.LABELS]
    assert len(ours) == 2 * (3 + 2 + 2) + (1 + 2 + 1 + 1 + 2) + 6  # flavors, queues, RBAC...
    assert not [o for o in ours if o["kind"] == "Secret"]
    objects = {(o["kind"], o["metadata"]["name"]): o for o in plan.services.manifests}
    config = json.loads(objects[("ConfigMap", "multikueue-credentials")]["data"]["config.json"])
    assert set(config) == {"account", "namespace", "labels", "workers"}  # names, no credential
    assert config["account"] == "atlas-gcp-mkueue@atlas-analysis-facility.iam.gserviceaccount.com"
    assert [w["secret"] for w in config["workers"]] == [
        "atlas-gcp-s1-kubeconfig",
        "atlas-gcp-s2-kubeconfig",
    ]
    assert [(w["location"], w["cluster"]) for w in config["workers"]] == [
        (s.cluster.location, s.cluster.name) for s in plan.shards if s.cluster
    ]
    # the writer may touch those two Secrets, and create (create takes no resource names)
    role = objects[("Role", "multikueue-credentials")]
    assert role["rules"][1]["resourceNames"] == [w["secret"] for w in config["workers"]]
    assert role["rules"][1]["verbs"] == ["get", "patch"]
    cron = objects[("CronJob", "multikueue-credentials")]
    assert cron["spec"]["schedule"] == "*/15 * * * *"
    # the first run at deploy, the CronJob's pod: retried for 10 + 20 + ... + 320 s (IAM's
    # grant may take minutes), not awaited by the deploy
    first = objects[("Job", "multikueue-credentials-first")]
    assert (
        first["spec"]["template"]["spec"] == cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    )
    assert sum(10 * 2**i for i in range(first["spec"]["backoffLimit"])) == 630
    assert first["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    # every worker lets that account (a user, by its e-mail) do what MultiKueue does
    for shard in plan.shards:
        (binding,) = one(shard.services.manifests, "ClusterRoleBinding")
        assert binding["subjects"] == [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": config["account"]}
        ]


def test_the_controller_lands_on_the_control_node_and_is_in_the_footprint(plan: Plan) -> None:
    for each in (plan, *plan.shards):
        values = each.services.release("kueue").values["controllerManager"]
        spec = {"nodeSelector": values["nodeSelector"], "tolerations": values["tolerations"]}
        assert landing(spec, nodes(each)) == ("control",)
        assert values["manager"]["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"}}
        assert values["manager"]["priorityClassName"] == "gridcloud-services"
        assert "gridcloud-services" in [c.name for c in each.services.priority_classes]
        assert each.services.footprint is not None
        items = [i for i in each.services.footprint.items if i.service == "multikueue"]
        assert [(i.cpu_m, i.memory_mi) for i in items] == [(250, 512)]
        assert each.services.footprint.fits
    # e2-medium's 940m cannot hold GKE's 800m and Kueue's 250m: the next, e2-standard-2
    assert [s.control.machine_type for s in plan.shards] == ["e2-standard-2"] * 2


def test_the_values_are_what_the_chart_reads() -> None:
    release = mk.kueue_release(_control(), "batch")
    assert validate_values(CHARTS["kueue"], release.values) == []
    wrong = copy.deepcopy(release.values)
    wrong["controllerManager"]["nodeSelecter"] = {}
    assert validate_values(CHARTS["kueue"], wrong) == [
        "controllerManager.nodeSelecter: not read by the oci://registry.k8s.io/kueue/charts/"
        "kueue 0.19.2 templates"
    ]
    config = yaml.safe_load(release.values["managerConfig"]["controllerManagerConfigYaml"])
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert config["integrations"]["frameworks"] == ["batch/job"]
    assert config["manageJobsWithoutQueueName"] is False
    # Kueue's webhooks (scoped by this selector in the chart) see the batch namespace only
    assert config["managedJobsNamespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "batch"}
    }


def _control() -> Any:
    from gridcloud.plan.model import PoolPlan

    return PoolPlan(
        name="control",
        kind="control",
        machine_type="e2-standard-4",
        vcpus=4,
        memory_gb=Decimal(16),
        arch="amd64",
        spot=False,
        min_nodes=1,
        max_nodes=1,
        max_cores=None,
        zones=["us-central1-a"],
        max_nodes_per_zone=1,
        autoscaling=None,
        node_count=1,
        initial_node_count=None,
        upgrade=None,
        accelerator=None,
        disk_size_gb=50,
        disk_type="pd-balanced",
        labels={"gridcloud.io/pool": "control"},
        taints=[],
        node_selector={"gridcloud.io/pool": "control"},
    )


# -- Kueue's schema (the fixture) and its CEL rules --------------------------------------


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        crd["spec"]["names"]["kind"]: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for crd in kueue_crds()
    }


def schema_problems(body: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(_schemas()[body["kind"]])
    return [e.message for e in validator.iter_errors(body)]


def test_every_kueue_object_is_valid_for_kueue_v1beta2(plan: Plan) -> None:
    objects = [*kueue_objects(plan), *(o for s in plan.shards for o in kueue_objects(s))]
    assert {o["kind"] for o in objects} == set(_schemas())
    assert {o["apiVersion"] for o in objects} == {"kueue.x-k8s.io/v1beta2"}
    assert [(o["kind"], schema_problems(o)) for o in objects if schema_problems(o)] == []


def test_the_fixture_refuses_what_kueue_refuses(plan: Plan) -> None:
    objects = {o["kind"]: o for o in kueue_objects(plan)}
    config = copy.deepcopy(objects["MultiKueueConfig"])
    config["spec"]["clusters"] = [f"c{i}" for i in range(21)]  # at most 20
    assert schema_problems(config)
    cluster = copy.deepcopy(objects["MultiKueueCluster"])
    cluster["spec"] = {"kubeConfig": cluster["spec"]["clusterSource"]["kubeConfig"]}  # v1beta1
    assert schema_problems(cluster)
    queue = copy.deepcopy(objects["ClusterQueue"])
    queue["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["nominalQuota"] = "1 core"
    assert schema_problems(queue)
    flavor = copy.deepcopy(next(o for o in kueue_objects(plan.shards[0])))
    flavor["spec"]["nodeSelector"] = flavor["spec"].pop("nodeLabels")
    assert schema_problems(flavor)


def test_kueues_cel_rules_hold(plan: Plan) -> None:
    """What the CRDs check with CEL, which JSON Schema cannot: a flavor names each covered
    resource once, in order; a toleration without a key is ``Exists``; a tolerationSeconds
    only with NoExecute; MultiKueueConfig's clusters are distinct."""
    for each in (plan, *plan.shards):
        for body in kueue_objects(each):
            if body["kind"] == "ClusterQueue":
                for group in body["spec"]["resourceGroups"]:
                    for flavor in group["flavors"]:
                        names = [r["name"] for r in flavor["resources"]]
                        assert names == group["coveredResources"]
            if body["kind"] == "ResourceFlavor":
                for toleration in body["spec"].get("tolerations", []):
                    assert "key" in toleration or toleration["operator"] == "Exists"
                    assert "tolerationSeconds" not in toleration
            if body["kind"] == "MultiKueueConfig":
                clusters = body["spec"]["clusters"]
                assert len(set(clusters)) == len(clusters)


def test_more_workers_than_a_multikueue_config_holds_is_refused(
    make: Callable[[dict[str, Any]], Plan],
) -> None:
    shards = {
        "split": {"cores": 21_000, "regions": TWO, "maxCoresPerShard": 1_000},
        "multikueue": {"enabled": True},
    }
    with pytest.raises(PlanError, match="21 shards, and a MultiKueueConfig lists at most 20"):
        make(shards)


def test_the_switch_is_in_the_profile_schema() -> None:
    from gridcloud.profile.shards import Shards

    with pytest.raises(ValueError, match="pattern"):
        Shards.model_validate(
            {"split": {"cores": 1000, "regions": TWO}, "multikueue": {"queue": "Batch"}}
        )
    assert Shards.model_validate({"split": {"cores": 1000, "regions": TWO}}).multikueue.enabled is (
        False
    )


# -- the worker kubeconfigs' writer, against stand-ins of the APIs it calls --------------

MINTED = "ya29.minted-one-hour-token"
FEDERATED = "federated-pod-token"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nfake\n").decode()


class _Apis(JsonHandler):
    """GKE's metadata server, IAM Credentials, the GKE API and the manager's API server."""

    seen: list[tuple[str, str, dict[str, Any] | None, str]]
    lock = threading.Lock()

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _record(self) -> dict[str, Any] | None:
        body = self._body()
        with self.lock:
            self.seen.append((self.command, self.path, body, self.headers.get("Authorization", "")))
        return body

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._record()
        if self.path.startswith("/metadata/instance/service-accounts/default/token"):
            assert self.headers.get("Metadata-Flavor") == "Google"
            self._send(200, {"access_token": FEDERATED, "expires_in": 3599})
        elif self.path == "/gke/projects/p/locations/us-east1-b/clusters/gone":
            self._send(404, {"error": {"message": "cluster not found"}})
        elif self.path.startswith("/gke/projects/p/locations/"):
            name = self.path.rsplit("/", 1)[1]
            self._send(
                200, {"endpoint": f"{name}.example", "masterAuth": {"clusterCaCertificate": CA}}
            )
        else:
            self._send(404, {})

    def do_POST(self) -> None:  # noqa: N802
        body = self._record()
        assert (
            self.path
            == "/iam/projects/-/serviceAccounts/mk@p.iam.gserviceaccount.com:generateAccessToken"
        )
        assert body is not None
        self._send(200, {"accessToken": MINTED, "expireTime": "2026-12-04T21:00:00Z"})

    def do_PATCH(self) -> None:  # noqa: N802
        body = self._record()
        assert self.headers.get("Content-Type") == "application/apply-patch+yaml"
        self._send(200, body or {})


def test_the_writer_mints_a_one_hour_token_and_writes_each_kubeconfig(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _Apis.seen = []
    config = {
        "account": "mk@p.iam.gserviceaccount.com",
        "namespace": "kueue-system",
        "labels": {"app.kubernetes.io/managed-by": "gridcloud"},
        "workers": [
            {
                "secret": "f-s1-kubeconfig",
                "project": "p",
                "location": "us-central1-a",
                "cluster": "f-s1",
            },
            {
                "secret": "f-s2-kubeconfig",
                "project": "p",
                "location": "us-east1-b",
                "cluster": "gone",
            },
            {
                "secret": "f-s3-kubeconfig",
                "project": "p",
                "location": "us-west1-a",
                "cluster": "f-s3",
            },
        ],
    }
    with serving(_Apis) as url:
        failed = credentials.refresh(
            config,
            metadata=f"{url}/metadata",
            iam=f"{url}/iam",
            gke=f"{url}/gke",
            kube={"base": f"{url}/kube", "token": "manager-sa-token"},
        )
    # the missing cluster fails alone, the others are written; nothing prints a token
    assert len(failed) == 1
    assert failed[0].startswith("f-s2-kubeconfig (p/us-east1-b/gone): GET ")
    assert "HTTP 404" in failed[0]
    printed = capsys.readouterr()
    for token in (MINTED, FEDERATED, "manager-sa-token"):
        assert token not in printed.out + printed.err + "".join(failed)
    iam = [s for s in _Apis.seen if s[0] == "POST"]
    assert iam == [
        (
            "POST",
            "/iam/projects/-/serviceAccounts/mk@p.iam.gserviceaccount.com:generateAccessToken",
            {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"},
            f"Bearer {FEDERATED}",
        )
    ]
    # the GKE API is read with the minted token, the Secrets written with the pod's own
    assert {s[3] for s in _Apis.seen if s[1].startswith("/gke/")} == {f"Bearer {MINTED}"}
    patches = [s for s in _Apis.seen if s[0] == "PATCH"]
    assert [p[1] for p in patches] == [
        f"/kube/api/v1/namespaces/kueue-system/secrets/f-s{i}-kubeconfig"
        "?fieldManager=gridcloud-multikueue-credentials&force=true"
        for i in (1, 3)
    ]
    assert {p[3] for p in patches} == {"Bearer manager-sa-token"}
    secret = patches[0][2]
    assert secret is not None
    assert secret["metadata"] == {
        "name": "f-s1-kubeconfig",
        "namespace": "kueue-system",
        "labels": {"app.kubernetes.io/managed-by": "gridcloud"},
    }
    written = yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"]))
    (cluster,) = written["clusters"]
    assert cluster["cluster"] == {
        "server": "https://f-s1.example",
        "certificate-authority-data": CA,
    }
    (user,) = written["users"]
    # what Kueue accepts: the token inline, no exec plugin, no token file, TLS verified
    assert user["user"] == {"token": MINTED}
    assert written["current-context"] == "f-s1"
    # a token written now outlives the next two runs
    assert credentials.LIFETIME_S // 60 > 2 * credentials.REFRESH_MINUTES


def test_check_asks_for_what_the_manager_identity_needs(plan: Plan) -> None:
    """``check`` lists what the program's MultiKueue resources call (a service account,
    its IAM policy, the project's policy and number), each with a role that grants it
    (the predefined roles as Google's IAM API lists them, tests/unit/recorded)."""
    from pathlib import Path

    from gridcloud.check.permissions import needs

    recorded = Path(__file__).with_name("recorded") / "permissions" / "predefined-roles.json"
    roles = {r["name"]: set(r["includedPermissions"]) for r in json.loads(recorded.read_text())}
    found = {n.permission: n for n in needs(plan) if any("multikueue" in w for w in n.why)}
    assert set(found) == {
        "iam.serviceAccounts.create",
        "iam.serviceAccounts.get",
        "iam.serviceAccounts.update",
        "iam.serviceAccounts.delete",
        "iam.serviceAccounts.getIamPolicy",
        "iam.serviceAccounts.setIamPolicy",
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
        "resourcemanager.projects.get",
    }
    for need in found.values():
        assert need.permission in roles[need.role], need


def test_a_shard_without_a_cpu_pool_is_refused(make: Callable[[dict[str, Any]], Plan]) -> None:
    """A shard of GPU pools only would be a worker that admits no CPU Job."""
    gpu = {
        "name": "gpu",
        "kind": "gpu",
        "machineType": "n1-standard-8",
        "accelerator": {"type": "nvidia-tesla-t4", "count": 1},
        "spot": True,
        "maxNodes": 16,
    }
    shards = {
        "declared": [
            {"name": "gpu1", "region": "us-central1", "zones": ["us-central1-a"], "pools": [gpu]}
        ],
        "multikueue": {"enabled": True},
    }
    with pytest.raises(PlanError, match="shard gpu1: MultiKueue needs a cpu pool"):
        make(shards)


#: n1-standard-8 (8 vCPUs, 30 GB) by hand: CPU 8,000m less 60 + 10 + 5 + 5 + 0.25% of 4,000
#: (10) = 7,910m, less 300 = 7,610m a node; memory 30,720 MiB less 25% of 4 GiB, 20% of 4,
#: 10% of 8, 6% of 14 (3.44 GiB = 3,522.56 MiB) = 27,197 MiB, less 100 and 400 = 26,697 MiB.
N1_8_CPU_M, N1_8_MEMORY_MI = 7_610, 26_697
#: One shard of a T4 pool (listed first) and a cpu pool, MultiKueue on.
GPU_SHARD: dict[str, Any] = {
    "declared": [
        {
            "name": "g1",
            "region": "us-central1",
            "zones": ["us-central1-a"],
            "pools": [
                {
                    "name": "t4",
                    "kind": "gpu",
                    "machineType": "n1-standard-8",
                    "accelerator": {"type": "nvidia-tesla-t4", "count": 1},
                    "spot": True,
                    "maxNodes": 16,
                },
                {"name": "n2d", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxNodes": 100},
            ],
        }
    ],
    "multikueue": {"enabled": True},
}


def test_a_gpu_pool_is_a_flavor_with_its_gpus(make: Callable[[dict[str, Any]], Plan]) -> None:
    """A shard with a cpu pool (100 n2d-highcpu-80) and a T4 pool (16 n1-standard-8, one T4
    each): the worker's queue covers GPUs too, the cpu pool's flavor first with 0 of them,
    the T4 pool's with 16; the manager's quota is the sum, 16 GPUs; the GPU flavor's labels
    and tolerations land on the T4 pool only; every object valid for Kueue v1beta2."""
    plan = make(GPU_SHARD)
    (shard,) = plan.shards
    objects = kueue_objects(shard)
    (queue,) = one(objects, "ClusterQueue")
    (group,) = queue["spec"]["resourceGroups"]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
    # 100 x 79,430m = 7,943 cores (whole cores are written as such); 16 x 7,610m
    assert quota(queue) == {
        "n2d": ("7943", f"{100 * N80_MEMORY_MI}Mi", "0"),
        "t4": ("121760m", f"{16 * N1_8_MEMORY_MI}Mi", "16"),
    }
    assert [f["name"] for f in group["flavors"]] == ["n2d", "t4"]  # the cpu pool first
    (manager,) = one(kueue_objects(plan), "ClusterQueue")
    assert quota(manager) == {
        "shards": (
            "8064760m",  # 7,943,000m + 121,760m
            f"{100 * N80_MEMORY_MI + 16 * N1_8_MEMORY_MI}Mi",
            "16",
        )
    }
    flavors = {f["metadata"]["name"]: f["spec"] for f in one(objects, "ResourceFlavor")}
    spec = {
        "nodeSelector": flavors["t4"]["nodeLabels"],
        "tolerations": flavors["t4"]["tolerations"],
    }
    assert landing(spec, nodes(shard)) == ("t4",)
    every = [*kueue_objects(plan), *objects]
    assert [(o["kind"], schema_problems(o)) for o in every if schema_problems(o)] == []
    for body in every:  # Kueue's CEL rule: each flavor names the covered resources, in order
        if body["kind"] == "ClusterQueue":
            (each,) = body["spec"]["resourceGroups"]
            assert each["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
            for flavor in each["flavors"]:
                assert [r["name"] for r in flavor["resources"]] == each["coveredResources"]
