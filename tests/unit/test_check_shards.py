"""``gridcloud check`` of a facility of shards: the quotas summed over every cluster, per
project and region and per project over all regions, against Compute Engine's
``regions.get`` and ``projects.get`` answered in their real shape (the recorded files of
``recorded/check``, served by test_check's fake to the real client libraries).

The facility, worked by hand (each pool at its maximum plus one surge node, docs/check.md):
the small profile at home (us-central1, project my-gridcloud-tryout), whose needs
test_check.py works out (control 2 x e2-standard-4 = 8 and notebooks 3 x e2-standard-8 = 24
on demand; cpu 3 x n2d-highcpu-80 = 240 and gpu 2 x g2-standard-4 = 8 spot, with 2 L4s;
10 VMs), and four compute-only shards, each with its system node (1 x e2-medium of 2 vCPUs
on demand, plus its surge node: 2 VMs, 4 vCPUs, 2 x 20 GB):

- ``uc``, us-central1: n2-highcpu-80 spot, 40,000 cores = 500 nodes, 501 at peak;
- ``ewa``, europe-west4: n2d-highcpu-80 spot, 16,000 cores = 200 nodes, 201 at peak;
- ``ewb``, europe-west4: n2d-highcpu-80 spot, 8,000 cores = 100 nodes, 101 at peak; and
  n1-standard-8 spot with one T4 each, 10 nodes, 11 at peak;
- ``ue``, us-east1, in a project of its own (atlas-us-compute): c2d-highcpu-112 spot,
  11,200 cores = 100 nodes, 101 at peak.

The project's quotas are the raised ones (``PREEMPTIBLE_CPUS`` 110,000 a region, so spot
vCPUs count there), except europe-west4's ``PREEMPTIBLE_CPUS``, 20,000: enough for either
of its shards, not for both.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.analysis import analyse
from gridcloud.check import Report, run
from gridcloud.cli.app import create_cli
from gridcloud.errors import ExitCode
from gridcloud.plan import Plan
from tests.conftest import PROFILES
from tests.unit.test_check import Google, google, tools  # noqa: F401 (the fixtures)

HOME = "my-gridcloud-tryout"
OTHER = "atlas-us-compute"
SHARDS = [
    {
        "name": "uc",
        "region": "us-central1",
        "pools": [
            {"name": "n2", "kind": "cpu", "machineType": "n2-highcpu-80", "maxCores": 40_000}
        ],
    },
    {
        "name": "ewa",
        "region": "europe-west4",
        "pools": [
            {"name": "n2d", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 16_000}
        ],
    },
    {
        "name": "ewb",
        "region": "europe-west4",
        "pools": [
            {"name": "n2d", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8_000},
            {
                "name": "t4",
                "kind": "gpu",
                "machineType": "n1-standard-8",
                "accelerator": {"type": "nvidia-tesla-t4", "count": 1},
                "maxNodes": 10,
            },
        ],
    },
    {
        "name": "ue",
        "region": "us-east1",
        "project": OTHER,
        "pools": [
            {"name": "c2d", "kind": "cpu", "machineType": "c2d-highcpu-112", "maxCores": 11_200}
        ],
    },
]


@pytest.fixture
def facility(tmp_path: Any) -> Any:
    data = yaml.safe_load((PROFILES / "small.yaml").read_text())
    data["shards"] = {"declared": SHARDS}
    path = tmp_path / "sharded.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _plan(path: Any) -> Plan:
    return analyse(path).plan


def _quotas(report: Report) -> dict[tuple[str, str, str], tuple[int, int | None, str]]:
    return {(q.project, q.metric, q.scope): (q.need, q.limit, q.status) for q in report.quotas}


def test_the_quotas_add_up_over_the_shards(google: Google, facility: Any) -> None:  # noqa: F811
    google.region = "region-raised.json"
    google.project = "project-raised.json"
    google.region_limits = {"europe-west4": {"PREEMPTIBLE_CPUS": 20_000.0}}
    plan = _plan(facility)
    assert [s.shard for s in plan.shards] == ["uc", "ewa", "ewb", "ue"]
    report = run(plan)
    quotas = _quotas(report)

    # each project's quotas read once, each (project, region) once
    assert google.projects_asked == [HOME, OTHER]
    assert google.regions_asked == ["us-central1", "europe-west4", "us-east1"]

    # us-central1, the home cluster and shard uc: spot 240 + 8 + 501 x 80 = 40,328 vCPUs;
    # on demand 8 + 24 + uc's system node 4 = 36
    assert quotas[(HOME, "PREEMPTIBLE_CPUS", "us-central1")] == (40_328, 110_000, "ok")
    assert quotas[(HOME, "CPUS", "us-central1")] == (36, 200, "ok")
    assert quotas[(HOME, "INSTANCES", "us-central1")] == (10 + 501 + 2, 6000, "ok")
    # two Cloud NATs, one address each (64 ports x 10 and x 503 VMs < 64,512)
    assert quotas[(HOME, "IN_USE_ADDRESSES", "us-central1")] == (1 + 1, 16, "ok")

    # europe-west4, two shards adding up: spot 201 x 80 + 101 x 80 + 11 x 8 = 16,080 +
    # 8,080 + 88 = 24,248, over the 20,000 either alone would fit in
    assert quotas[(HOME, "PREEMPTIBLE_CPUS", "europe-west4")] == (24_248, 20_000, "fail")
    # their two system nodes: 2 x 2 x 2 vCPUs on demand (E2: CPUS)
    assert quotas[(HOME, "CPUS", "europe-west4")] == (8, 200, "ok")
    # the T4s, spot, where the preemptible T4 quota is (20)
    assert quotas[(HOME, "PREEMPTIBLE_NVIDIA_T4_GPUS", "europe-west4")] == (11, 20, "ok")
    # VMs: ewa 201 + 2, ewb 101 + 11 + 2 = 317; boot disks (100 GB a node, 20 a system node):
    # 20,100 + 40 + 11,200 + 40 = 31,380 GB; one NAT address each
    assert quotas[(HOME, "INSTANCES", "europe-west4")] == (317, 6000, "ok")
    assert quotas[(HOME, "SSD_TOTAL_GB", "europe-west4")] == (31_380, 150_000, "ok")
    assert quotas[(HOME, "IN_USE_ADDRESSES", "europe-west4")] == (2, 16, "ok")

    # the home project over all regions: home 8 + 240 + 8 + 24 = 280, uc 40,080 + 4,
    # ewa 16,080 + 4, ewb 8,080 + 88 + 4: 64,620 vCPUs; GPUs 2 L4 + 11 T4 = 13
    assert quotas[(HOME, "CPUS_ALL_REGIONS", "global")] == (64_620, 120_000, "ok")
    assert quotas[(HOME, "GPUS_ALL_REGIONS", "global")] == (13, 32, "ok")

    # shard ue in its own project: its own regional and global quotas, none of the home's
    assert quotas[(OTHER, "PREEMPTIBLE_CPUS", "us-east1")] == (101 * 112, 110_000, "ok")
    assert quotas[(OTHER, "CPUS", "us-east1")] == (4, 200, "ok")
    assert quotas[(OTHER, "CPUS_ALL_REGIONS", "global")] == (11_312 + 4, 120_000, "ok")
    assert (HOME, "PREEMPTIBLE_CPUS", "us-east1") not in quotas
    assert (OTHER, "GPUS_ALL_REGIONS", "global") not in quotas

    # the rows name the shards' pools, and the request names the quota's own project
    short = next(q for q in report.quotas if q.status == "fail")
    assert (short.metric, short.scope) == ("PREEMPTIBLE_CPUS", "europe-west4")
    assert short.for_what == (
        "shard ewa n2d: 201 x 80 vCPUs, spot; shard ewb n2d: 101 x 80 vCPUs, spot; "
        "shard ewb t4: 11 x 8 vCPUs, spot"
    )
    assert "--preferred-value=24248 --dimensions=region=europe-west4" in short.request
    ue = next(q for q in report.quotas if q.project == OTHER and q.metric == "CPUS_ALL_REGIONS")
    assert f"--project={OTHER}" in ue.request
    checks = {c.id: c for c in report.checks}
    assert checks["quotas"].status == "fail"
    # the home's L4s: the region lists no L4 quota at all (as in test_check's small profile)
    assert quotas[(HOME, "NVIDIA_L4_GPUS", "us-central1")] == (2, None, "fail")
    assert checks["quotas"].detail == (
        f"2 of {len(report.quotas)} quotas cannot hold the peak: "
        f"PREEMPTIBLE_CPUS (europe-west4, {HOME}), NVIDIA_L4_GPUS (us-central1, {HOME})"
    )


def test_a_shards_project_that_cannot_be_read_fails_the_quotas(
    google: Google,  # noqa: F811
    facility: Any,
) -> None:
    """The home project reads, the shard's answers 403: no quota table, the check says
    which project and why."""
    plan = _plan(facility)
    google.region = "region-raised.json"
    google.project = "project-raised.json"
    google.project_statuses = {OTHER: 403}
    report = run(plan)
    checks = {c.id: c for c in report.checks}
    assert checks["project"].status == "ok"
    assert checks["quotas"].status == "fail"
    assert checks["quotas"].detail.startswith(f"a shard's project: cannot read project {OTHER}")
    assert report.quotas == ()


def test_the_command_shows_each_quota_with_its_project(
    google: Google,  # noqa: F811
    facility: Any,
) -> None:
    google.region = "region-raised.json"
    google.project = "project-raised.json"
    google.region_limits = {"europe-west4": {"PREEMPTIBLE_CPUS": 20_000.0}}
    result = CliRunner().invoke(
        create_cli(), ["check", str(facility), "-q"], env={"COLUMNS": "240"}
    )
    assert result.exit_code == ExitCode.NOT_READY, result.output
    assert f"europe-west4 ({HOME})" in result.output
    assert f"us-east1 ({OTHER})" in result.output
    assert f"PREEMPTIBLE_CPUS (europe-west4, {HOME})" in result.output
    result = CliRunner().invoke(create_cli(), ["check", str(facility), "--json", "-q"])
    rows = yaml.safe_load(result.stdout)["quotas"]
    assert {row["project"] for row in rows} == {HOME, OTHER}


def test_gke_limits_are_checked_on_every_cluster(facility: Any, tmp_path: Any) -> None:
    """Each cluster has GKE's limits of its own. Here every one is within them; the largest
    shard, uc, reaches 501 + 2 = 503 nodes at peak (its pool's 500 and the system node,
    each with a surge node). Then a declared shard of 480,000 cores in us-west1 (3 zones, at
    most 1,000 nodes of a pool in each): 3,000 n2d-highcpu-80 and 3,000 n2-highcpu-80 nodes,
    + 1 surge each, + 2 for its system node: 6,004, past 5,000: the check warns and names
    that shard."""
    from gridcloud.check.quotas import gke_limits

    result = gke_limits(_plan(facility))
    assert result.status == "ok"
    assert result.detail.startswith("5 clusters, each within: home: 10 nodes at peak")
    assert "the largest shard, uc: 503 nodes at peak" in result.detail
    data = yaml.safe_load(facility.read_text())
    data["shards"]["declared"].append(
        {
            "name": "big",
            "region": "us-west1",
            "pools": [
                {
                    "name": "n2d",
                    "kind": "cpu",
                    "machineType": "n2d-highcpu-80",
                    "maxCores": 240_000,
                },
                {"name": "n2", "kind": "cpu", "machineType": "n2-highcpu-80", "maxCores": 240_000},
            ],
        }
    )
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    large = gke_limits(_plan(path))
    assert large.status == "warn"
    assert "the largest shard, big: 6,004 nodes at peak" in large.detail
    assert large.fix.startswith("big: ask Google support to lift the cluster size quota")


def _rows(report: Report, check_id: str) -> dict[str, Any]:
    """The rows of one check by the project their title names (the home one: "home")."""
    found = {}
    for check in report.checks:
        if check.id == check_id:
            where = check.title.split("(", 1)[1].split(":", 1)[0] if "(" in check.title else "home"
            found[where] = check
    return found


def test_a_shards_other_project_has_its_apis_billing_and_permissions_checked(
    google: Google,  # noqa: F811
    facility: Any,
) -> None:
    """Shard ue is in atlas-us-compute: the APIs, the billing and the caller's permissions
    are read there too (its row titled with the project and the shard), each answered by
    that project; the other three shards share the home project, read once."""
    google.region = "region-raised.json"
    google.project = "project-raised.json"
    report = run(_plan(facility))
    for check_id in ("apis", "billing", "permissions"):
        rows = _rows(report, check_id)
        assert set(rows) == {"home", OTHER}, check_id
        assert all(r.status == "ok" for r in rows.values()), rows
    assert _rows(report, "apis")[OTHER].title == f"APIs enabled ({OTHER}: shard ue)"
    assert _rows(report, "permissions")[OTHER].title == f"permissions ({OTHER}: shard ue)"
    assert f"on {OTHER} are yours" in _rows(report, "permissions")[OTHER].detail


def test_what_is_missing_in_a_shards_project_fails_there_only(
    google: Google,  # noqa: F811
    facility: Any,
) -> None:
    """In atlas-us-compute: GKE's API off, billing off, no permission at all; the home
    project has everything. Each failure names that project and its fix is for it."""
    from gridcloud.check.permissions import project_permissions

    google.region = "region-raised.json"
    google.project = "project-raised.json"
    google.enabled_in = {
        OTHER: {
            "compute.googleapis.com",
            "iam.googleapis.com",
            "cloudresourcemanager.googleapis.com",
            "serviceusage.googleapis.com",
        }
    }
    google.billing_in = {OTHER: ""}
    google.granted_in = {OTHER: set()}
    plan = _plan(facility)
    report = run(plan)
    apis, billing, permissions = (_rows(report, i) for i in ("apis", "billing", "permissions"))
    assert [apis["home"].status, billing["home"].status, permissions["home"].status] == ["ok"] * 3
    assert apis[OTHER].status == "fail"
    assert "container.googleapis.com" in apis[OTHER].detail
    assert apis[OTHER].fix == f"gcloud services enable container.googleapis.com --project {OTHER}"
    assert billing[OTHER].status == "fail"
    assert billing[OTHER].detail.startswith(f"billing is not enabled on {OTHER}")
    shard = next(s for s in plan.shards if s.shard == "ue")
    needed = len(project_permissions(shard))
    assert permissions[OTHER].status == "fail"
    assert permissions[OTHER].detail.startswith(
        f"{needed} of {needed} permissions up needs on {OTHER} are missing"
    )
    assert "container.clusters.create" in permissions[OTHER].detail
    assert not report.go
    # waived by its id, the check is skipped in every project it ran in
    waived = report.waive({"apis": "enabled an hour ago", "billing": "linked", "permissions": "x"})
    assert {c.status for c in waived.checks if c.id in ("apis", "billing", "permissions")} == {
        "skip"
    }
