"""Backups: the profile's settings, the Plan's snapshot objects checked against the snapshot
CRDs and the PD CSI driver's own parameter rules, the CronJob's code run against a fake API
server that enforces the Plan's RBAC, the restores, and the estimate's row."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from pydantic import ValidationError

from gridcloud.analysis import analyse
from gridcloud.incluster import snapshots as job
from gridcloud.plan import backups as bk
from gridcloud.profile.backups import Backups
from gridcloud.profile.base import Model
from gridcloud.render.backups import restore_text, snapshot_crds, write_restores
from tests.unit.fake_snapshot_api import Cluster, FakeApiServer

if TYPE_CHECKING:
    from collections.abc import Callable

    from gridcloud.catalog import Catalog
    from gridcloud.plan import Plan

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"

MakePlan = "Callable[..., Plan]"


@pytest.fixture(scope="module")
def default_plan() -> Plan:
    return analyse(PROFILES / "default.yaml").plan


def crd_schema(kind: str) -> dict[str, Any]:
    for crd in snapshot_crds():
        if crd["spec"]["names"]["kind"] == kind:
            version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
            schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
            return schema
    raise KeyError(kind)


def objects(plan: Plan, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
    return [
        o
        for o in plan.services.objects
        if o["kind"] == kind
        and (namespace is None or o["metadata"].get("namespace") == namespace)
        and (kind == "VolumeSnapshotClass" or o["metadata"]["name"].startswith(bk.JOB))
    ]


def job_config(plan: Plan, namespace: str) -> dict[str, Any]:
    (config_map,) = objects(plan, "ConfigMap", namespace)
    config: dict[str, Any] = json.loads(config_map["data"][bk.CONFIG])
    return config


# -- the profile ---------------------------------------------------------------------------


def test_the_settings_are_the_profiles_own() -> None:
    """The profile's base model (unknown keys refused, camelCase, frozen)."""
    assert issubclass(Backups, Model)
    with pytest.raises(ValidationError):
        Backups.model_validate({"enabled": True, "retention": 7})  # an unknown key
    assert Backups.model_validate({"enabled": True, "keep": 3}).keep == 3


def test_off_unless_the_profile_turns_them_on(make_plan: Callable[..., Plan]) -> None:
    plan = make_plan()  # the default profile without its backups section
    assert plan.backups is None
    assert not any(o["kind"] == "VolumeSnapshotClass" for o in plan.services.objects)
    assert Backups().enabled is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"enabled": True, "schedule": "every night"}, "cron expression of five fields"),
        ({"enabled": True, "schedule": "0 3 * *"}, "cron expression of five fields"),
        ({"enabled": True, "keep": 0}, "greater than or equal to 1"),
        ({"enabled": True, "volumes": ["homes", "homes"]}, "more than once"),
        ({"enabled": True, "volumes": ["home"]}, "hubDatabase"),
        ({"enabled": True, "retention": 3}, "retention"),
    ],
)
def test_a_wrong_setting_is_refused_with_its_place(
    settings: dict[str, Any], message: str, catalog: Catalog
) -> None:
    from gridcloud.errors import ProfileError
    from gridcloud.profile.loader import parse_profile

    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["backups"] = settings
    with pytest.raises(ProfileError) as caught:
        parse_profile(yaml.safe_dump(data, sort_keys=False), "p.yaml", catalog)
    text = "\n".join(caught.value.problems)
    assert "backups" in text
    assert message in text


# -- the Plan's objects ---------------------------------------------------------------------


def test_the_default_facility_keeps_its_three_volumes(default_plan: Plan) -> None:
    backups = default_plan.backups
    assert backups is not None
    assert [(v.volume, v.namespace, v.claim, v.selector) for v in backups.volumes] == [
        ("hubDatabase", "jupyter", "hub-db-dir", None),
        ("homes", "jupyter", None, {"component": "singleuser-storage"}),
        ("reana", "reana", "gridcloud-nfs-disk", None),
    ]
    assert (backups.schedule, backups.keep, backups.storage_location) == (
        "0 3 * * *",
        7,
        "us-central1",
    )
    # one CronJob in each namespace with volumes, each snapshotting only its own
    assert backups.namespaces == ("jupyter", "reana")
    assert job_config(default_plan, "jupyter")["targets"] == [
        {"claim": "hub-db-dir"},
        {"selector": {"component": "singleuser-storage"}},
    ]
    assert job_config(default_plan, "reana")["targets"] == [{"claim": "gridcloud-nfs-disk"}]
    # the NFS server's disk is the claim the program makes
    assert default_plan.services.shared_storage is not None
    assert default_plan.services.shared_storage.disk_claim == "gridcloud-nfs-disk"


def test_the_small_facility_keeps_its_hub_only() -> None:
    plan = analyse(PROFILES / "small.yaml").plan
    assert plan.backups is not None
    assert [v.volume for v in plan.backups.volumes] == ["hubDatabase"]
    assert [o["kind"] for o in plan.services.objects if bk.JOB in o["metadata"]["name"]] == [
        "VolumeSnapshotClass",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "CronJob",
    ]


def test_on_an_existing_cluster_nothing_is_planned_and_the_user_is_told(
    catalog: Catalog,
) -> None:
    from gridcloud.plan import expand
    from gridcloud.profile.loader import parse_profile

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["backups"] = {"enabled": True}
    plan = expand(parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog), catalog)
    assert plan.backups is None
    assert not any(bk.JOB in o["metadata"]["name"] for o in plan.services.objects)
    assert any("backups" in w and "CSI driver" in w for w in plan.warnings)


def test_the_snapshot_class_is_valid_for_the_crd(default_plan: Plan) -> None:
    import jsonschema

    (klass,) = objects(default_plan, "VolumeSnapshotClass")
    assert (
        list(jsonschema.Draft7Validator(crd_schema("VolumeSnapshotClass")).iter_errors(klass)) == []
    )
    assert klass["driver"] == "pd.csi.storage.gke.io"
    # destroy deletes the namespaces first: Retain keeps the backups in Compute Engine
    assert klass["deletionPolicy"] == "Retain"


def test_the_schema_check_itself_refuses_a_wrong_class(default_plan: Plan) -> None:
    import copy

    import jsonschema

    (klass,) = objects(default_plan, "VolumeSnapshotClass")
    wrong = copy.deepcopy(klass)
    wrong["deletionPolicy"] = "Keep"
    del wrong["driver"]
    errors = list(jsonschema.Draft7Validator(crd_schema("VolumeSnapshotClass")).iter_errors(wrong))
    assert len(errors) == 2


#: The PD CSI driver's parameter rules for a VolumeSnapshotClass, read from its source
#: (kubernetes-sigs/gcp-compute-persistent-disk-csi-driver b560165c, pkg/parameters/
#: parameters.go ExtractAndDefaultSnapshotParameters, utils.go, pkg/convert/convert.go).
CSI_KEYS = {"storage-locations", "snapshot-type", "image-family", "labels", "resource-tags"}
REGIONAL = re.compile(r"^[a-z]+-[a-z]+[0-9]{1,2}$")
MULTI_REGIONAL = re.compile(r"^[a-z]+$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def csi_driver_refuses(parameters: dict[str, str]) -> list[str]:
    problems = []
    for given, value in parameters.items():
        key = given.lower()
        if key not in CSI_KEYS and not key.startswith("csi.storage.k8s.io/"):
            problems.append(f"parameters contains invalid option {key!r}")
        if key == "storage-locations":
            location = value.strip().lower()
            if not (REGIONAL.match(location) or MULTI_REGIONAL.match(location)):
                problems.append(f"invalid location for snapshot: {value!r}")
        if key == "snapshot-type" and value not in ("snapshots", "images"):
            problems.append(f"invalid snapshot type {value}")
        if key == "labels":
            for pair in value.split(","):
                parts = pair.split("=")
                if len(parts) != 2:
                    problems.append(f"labels {value!r} are invalid")
                    continue
                if not LABEL_KEY.match(parts[0].strip()):
                    problems.append(f"label key {parts[0]!r} is invalid")
                if not LABEL_VALUE.match(parts[1].strip()):
                    problems.append(f"label value {parts[1]!r} is invalid")
    return problems


def test_the_csi_driver_accepts_the_classs_parameters(default_plan: Plan) -> None:
    (klass,) = objects(default_plan, "VolumeSnapshotClass")
    parameters = klass["parameters"]
    assert csi_driver_refuses(parameters) == []
    # stored in the cluster's region, as standard snapshots, labelled as the facility: the
    # labels destroy's leftovers look for (engine/leftovers.py)
    assert parameters["storage-locations"] == "us-central1"
    assert parameters["snapshot-type"] == "snapshots"
    labels = dict(pair.split("=") for pair in parameters["labels"].split(","))
    assert labels == {"gridcloud-facility": "atlas-gcp", "managed-by": "gridcloud"}
    # the check itself: what the driver's code refuses
    assert len(csi_driver_refuses({"storage-locations": "us-central1-a", "labels": "A=b"})) == 2


def test_every_backup_object_is_valid_kubernetes(default_plan: Plan) -> None:
    from gridcloud.render.manifests import Manifest, Rendered
    from gridcloud.render.validate import cluster_version, problems
    from tests.conftest import require

    require("kubernetes_validate")
    mine = [
        Manifest("backups", o)
        for o in default_plan.services.objects
        if o["kind"] == "VolumeSnapshotClass" or o["metadata"]["name"].startswith(bk.JOB)
    ]
    restores = [Manifest("restore", r.manifest) for r in default_plan.backups.restores]  # type: ignore[union-attr]
    rendered = [
        Rendered(release=None, manifests=(*mine, *restores), crds=snapshot_crds(), notes="")
    ]
    assert problems(rendered, cluster_version(default_plan)) == []
    assert len(mine) == 1 + 2 * 7


def test_the_cronjob_runs_the_shipped_code_on_the_control_node(default_plan: Plan) -> None:
    (cron,) = objects(default_plan, "CronJob", "jupyter")
    spec = cron["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "0 3 * * *",
        "Etc/UTC",
        "Forbid",
    )
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == default_plan.control.node_selector
    assert pod["serviceAccountName"] == bk.JOB
    (container,) = pod["containers"]
    # the hub's image: Python without a pull of its own
    assert container["image"] == "quay.io/jupyterhub/k8s-hub:4.4.0"
    assert container["command"] == ["python3", f"/snapshots/{bk.SCRIPT}"]
    (config_map,) = objects(default_plan, "ConfigMap", "jupyter")
    shipped = files("gridcloud.incluster").joinpath("snapshots.py").read_text()
    assert config_map["data"][bk.SCRIPT] == shipped
    # reana's namespace: the same code, REANA's volume only
    (reana_cron,) = objects(default_plan, "CronJob", "reana")
    assert reana_cron["spec"]["schedule"] == "0 3 * * *"


def test_the_account_may_do_only_what_a_run_does(default_plan: Plan) -> None:
    (role,) = objects(default_plan, "Role", "jupyter")
    (cluster_role,) = [
        o
        for o in objects(default_plan, "ClusterRole")
        if o["metadata"]["name"].endswith("-jupyter")
    ]
    granted = {
        (group, resource, verb, scope)
        for scope, rules in (("namespace", role["rules"]), ("cluster", cluster_role["rules"]))
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted == {
        ("", "persistentvolumeclaims", "list", "namespace"),
        ("snapshot.storage.k8s.io", "volumesnapshots", "create", "namespace"),
        ("snapshot.storage.k8s.io", "volumesnapshots", "list", "namespace"),
        ("snapshot.storage.k8s.io", "volumesnapshots", "delete", "namespace"),
        ("snapshot.storage.k8s.io", "volumesnapshotcontents", "patch", "cluster"),
    }
    (binding,) = objects(default_plan, "RoleBinding", "jupyter")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": bk.JOB, "namespace": "jupyter"}
    ]


# -- the CronJob's code, against a fake API server -----------------------------------------


def test_the_script_runs_on_python_3_8() -> None:
    source = files("gridcloud.incluster").joinpath("snapshots.py").read_text()
    ast.parse(source, feature_version=(3, 8))


def planned_rules(plan: Plan, namespace: str) -> list[dict[str, Any]]:
    (role,) = objects(plan, "Role", namespace)
    cluster_roles = [
        o for o in objects(plan, "ClusterRole") if o["metadata"]["name"] == f"{bk.JOB}-{namespace}"
    ]
    return [{**r, "namespaced": True} for r in role["rules"]] + [
        {**r, "namespaced": False} for c in cluster_roles for r in c["rules"]
    ]


def hub_cluster(plan: Plan, **changes: Any) -> Cluster:
    (klass,) = objects(plan, "VolumeSnapshotClass")
    cluster = Cluster(
        namespace="jupyter",
        rules=planned_rules(plan, "jupyter"),
        schema=crd_schema("VolumeSnapshot"),
        deletion_policy=klass["deletionPolicy"],
        **changes,
    )
    cluster.add_claim("hub-db-dir", {"app": "jupyterhub", "component": "hub"})
    cluster.add_claim("claim-alice", {"component": "singleuser-storage"})
    cluster.add_claim("claim-bob", {"component": "singleuser-storage"})
    cluster.add_claim("claim-carol", {"component": "singleuser-storage"}, bound=False)
    cluster.add_claim("scratch", {"component": "other"})
    return cluster


def nights(count: int) -> list[dt.datetime]:
    start = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc)  # noqa: UP017 - as the job
    return [start + dt.timedelta(days=n) for n in range(count)]


def run_at(cluster: Cluster, base: str, config: dict[str, Any], when: dt.datetime) -> Any:
    cluster.clock = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return job.run(job.Api(base, "job-token"), config, when)


def by_claim(cluster: Cluster) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, body in sorted(cluster.snapshots.items()):
        found.setdefault(body["spec"]["source"]["persistentVolumeClaimName"], []).append(name)
    return found


def test_nine_nights_keep_the_last_seven_of_each_claim_and_delete_the_rest(
    default_plan: Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = hub_cluster(default_plan)
    config = job_config(default_plan, "jupyter")
    with FakeApiServer(cluster) as base:
        made, deleted, failures = run_at(cluster, base, config, nights(1)[0])
        # the hub's database and the two bound homes; carol's claim is not bound yet
        assert made == [
            "hub-db-dir-20261201-030000",
            "claim-alice-20261201-030000",
            "claim-bob-20261201-030000",
        ]
        assert (deleted, failures) == ([], [])
        assert "claim claim-carol is Pending" in capsys.readouterr().out
        for night in nights(9)[1:]:
            made, deleted, failures = run_at(cluster, base, config, night)
    assert failures == []
    assert cluster.refused == []  # the Plan's account was enough
    kept = by_claim(cluster)
    assert sorted(kept) == ["claim-alice", "claim-bob", "hub-db-dir"]
    # 7 a claim: the 3rd to the 9th night (1 to 9 December)
    assert kept["hub-db-dir"] == [f"hub-db-dir-202612{d:02d}-030000" for d in range(3, 10)]
    assert all(len(names) == 7 for names in kept.values())
    # the pruned ones are gone from Compute Engine too, the kept ones are there
    assert cluster.gce_snapshots == {f"snapcontent-{n}" for names in kept.values() for n in names}
    # every snapshot of the run: the configured class, gridcloud's labels
    body = cluster.snapshots["hub-db-dir-20261209-030000"]
    assert body["spec"]["volumeSnapshotClassName"] == "gridcloud-snapshots"
    assert body["metadata"]["labels"] == bk.SNAPSHOT_LABELS


def test_a_missing_delete_right_is_a_failure_the_job_reports(default_plan: Plan) -> None:
    """The fake enforces the account's rules: without delete, pruning fails, visibly."""
    cluster = hub_cluster(default_plan)
    for rule in cluster.rules:
        rule["verbs"] = [v for v in rule["verbs"] if v != "delete"]
    config = {**job_config(default_plan, "jupyter"), "keep": 1}
    with FakeApiServer(cluster) as base:
        for night in nights(2):
            _, deleted, failures = run_at(cluster, base, config, night)
    assert deleted == []
    assert len(failures) == 3
    assert "HTTP 403" in failures[0]
    assert "delete volumesnapshots" in cluster.refused


def test_a_retried_run_and_a_failing_claim(default_plan: Plan) -> None:
    cluster = hub_cluster(default_plan, fail_create_for={"claim-alice"})
    config = job_config(default_plan, "jupyter")
    night = nights(1)[0]
    with FakeApiServer(cluster) as base:
        made, _, failures = run_at(cluster, base, config, night)
        assert made == ["hub-db-dir-20261201-030000", "claim-bob-20261201-030000"]
        assert len(failures) == 1 and "claim-alice" in failures[0] and "HTTP 500" in failures[0]
        # the Job retries: the same names exist (409), taken as made, nothing doubled
        cluster.fail_create_for = set()
        made, _, failures = run_at(cluster, base, config, night)
    assert failures == []
    assert len(made) == 3
    assert len(cluster.snapshots) == 3


def test_snapshots_in_progress_are_never_pruned(default_plan: Plan) -> None:
    cluster = hub_cluster(default_plan)
    config = {**job_config(default_plan, "jupyter"), "keep": 2}
    with FakeApiServer(cluster) as base:
        for night in nights(3):
            run_at(cluster, base, config, night)
        cluster.ready = False  # the 4th and 5th nights' snapshots are still being taken
        for night in nights(5)[3:]:
            run_at(cluster, base, config, night)
    kept = by_claim(cluster)["hub-db-dir"]
    # the two newest ready (2nd, 3rd nights) and the two in progress after them
    assert kept == [f"hub-db-dir-202612{d:02d}-030000" for d in (2, 3, 4, 5)]


def snap(name: str, claim: str, created: str, *, ready: bool) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "spec": {"source": {"persistentVolumeClaimName": claim}},
        "status": {"readyToUse": ready},
    }


def test_what_expires_worked_by_hand() -> None:
    listed = [
        snap("a1", "a", "2026-12-01T03:00:00Z", ready=False),  # failed, older than the kept
        snap("a2", "a", "2026-12-02T03:00:00Z", ready=True),
        snap("a3", "a", "2026-12-03T03:00:00Z", ready=True),
        snap("a4", "a", "2026-12-04T03:00:00Z", ready=True),
        snap("b1", "b", "2026-12-01T03:00:00Z", ready=False),  # none ready: all kept
        snap("c1", "c", "2026-12-01T03:00:00Z", ready=True),  # a claim gone: its last one
    ]
    assert sorted(job.expired(listed, keep=2)) == ["a1", "a2"]
    assert job.expired(listed, keep=3) == ["a1"]
    assert job.expired(listed, keep=5) == ["a1"]


# -- restores ---------------------------------------------------------------------------------


def test_each_volume_has_a_restore_of_the_claim_its_service_mounts(default_plan: Plan) -> None:
    backups = default_plan.backups
    assert backups is not None
    restores = {r.volume: r for r in backups.restores}
    assert sorted(restores) == ["homes", "hubDatabase", "reana"]
    for restore in restores.values():
        spec = restore.manifest["spec"]
        assert spec["dataSource"] == {
            "apiGroup": "snapshot.storage.k8s.io",
            "kind": "VolumeSnapshot",
            "name": bk.PLACEHOLDER,
        }
        assert any("kubectl apply" in step for step in restore.steps)
    hub = restores["hubDatabase"].manifest
    assert (hub["metadata"]["name"], hub["metadata"]["namespace"]) == ("hub-db-dir", "jupyter")
    assert hub["spec"]["resources"]["requests"]["storage"] == "1Gi"  # the chart's hub.db.pvc
    assert "storageClassName" not in hub["spec"]  # the cluster's default, as the chart's
    home = restores["homes"].manifest
    # the home class gridcloud plans, and KubeSpawner's label: the restored home is backed up
    assert home["spec"]["storageClassName"] == "gridcloud-home"
    assert any(
        o["metadata"]["name"] == "gridcloud-home"
        for o in objects_of_kind(default_plan, "StorageClass")
    )
    assert home["metadata"]["labels"]["component"] == "singleuser-storage"
    assert home["spec"]["resources"]["requests"]["storage"] == "10Gi"
    reana = restores["reana"].manifest
    assert (reana["metadata"]["name"], reana["spec"]["storageClassName"]) == (
        "gridcloud-nfs-disk",
        "standard-rwo",
    )
    assert reana["spec"]["resources"]["requests"]["storage"] == "200Gi"


def objects_of_kind(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [o for o in plan.services.objects if o["kind"] == kind]


def test_render_writes_the_restores_with_their_steps(default_plan: Plan, tmp_path: Path) -> None:
    written = write_restores(default_plan, tmp_path)
    assert sorted(p.name for p, _ in written) == [
        "restore-jupyter-homes.yaml",
        "restore-jupyter-hubDatabase.yaml",
        "restore-reana-reana.yaml",
    ]
    text = (tmp_path / "restore" / "restore-jupyter-hubDatabase.yaml").read_text()
    assert text.startswith("# Restore hubDatabase in namespace jupyter")
    assert "#  2. kubectl -n jupyter scale deployment hub --replicas=0" in text
    (claim,) = [d for d in yaml.safe_load_all(text) if d]
    assert claim["kind"] == "PersistentVolumeClaim"
    assert restore_text(default_plan.backups.restores[0]) == text  # type: ignore[union-attr]


# -- the estimate -------------------------------------------------------------------------------


def test_stored_gigabytes_worked_by_hand(default_plan: Plan) -> None:
    # (1 + 20 x 10 + 200) GB in full, and 6 more kept snapshots of 10 % of it: 401 x 1.6
    assert default_plan.backups is not None
    assert default_plan.backups.stored_gb == Decimal("641.6")


def test_without_a_snapshot_price_the_row_is_unknown_and_named(
    make_plan: Callable[..., Plan], catalog: Catalog
) -> None:
    from gridcloud.cost.estimate import estimate

    def edit(data: dict[str, Any]) -> None:
        data["backups"] = {"enabled": True, "volumes": ["reana"], "keep": 3, "changedPercent": 25}

    cost = estimate(make_plan(edit), catalog)
    (row,) = [i for i in cost.items if i.item == "volume snapshots (backups)"]
    # 200 GB + 2 x 25 % = 300 GB
    assert row.quantity.startswith("300 GB from 200 GB of volumes")
    assert row.idle_monthly is None
    assert row.missing is not None and "snapshot-regional" in row.missing
    assert cost.complete is False
    assert cost.idle_monthly is None
