"""A compute-only shard is a stack of its own: the same program builds it from its Plan, with
its own names, its pools and system node, and no service nor budget; changing one shard
changes its Plan (and stack) only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.analysis import analyse
from gridcloud.plan import Plan
from tests.conftest import default_data
from tests.program.mocks import render

NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"


def sharded(tmp_path: Path, ew4_cores: int) -> Plan:
    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80"}
    data: dict[str, Any] = default_data()
    data["shards"] = {
        "declared": [
            {"name": "ew4", "region": "europe-west4", "pools": [{**pool, "maxCores": ew4_cores}]},
            {"name": "ew1", "region": "europe-west1", "pools": [{**pool, "maxCores": 8000}]},
        ]
    }
    path = tmp_path / f"sharded-{ew4_cores}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return analyse(path).plan


def test_a_shard_builds_as_a_stack_of_its_own(tmp_path: Path) -> None:
    shard = sharded(tmp_path, 8000).shards[0]
    rendered = render(shard)
    cluster = rendered.one(CLUSTER).inputs
    assert (cluster["name"], cluster["location"]) == ("atlas-gcp-ew4", "europe-west4-a")
    assert rendered.one("gcp:compute/network:Network").inputs["name"] == "atlas-gcp-ew4-vpc"
    pools = {r.inputs["name"]: r.inputs for r in rendered.of_type(NODE_POOL)}
    assert set(pools) == {"control", "spot"}
    # GKE's pods (800m) and the shard's grid site (squid and CVMFS driver, 170m) need more
    # than e2-medium's 940m allocatable: e2-standard-2 (1,930m)
    assert pools["control"]["nodeConfig"]["machineType"] == "e2-standard-2"
    assert pools["control"]["nodeCount"] == 1
    assert not pools["control"]["nodeConfig"]["taints"]  # GKE's own pods land there
    # 8,000 cores of n2d-highcpu-80: 100 nodes, from zero
    assert pools["spot"]["autoscaling"]["totalMaxNodeCount"] == 100
    assert pools["spot"]["autoscaling"]["totalMinNodeCount"] == 0
    kinds = {r.type for r in rendered.resources}
    releases = {r.inputs["name"] for r in rendered.of_type("kubernetes:helm.sh/v3:Release")}
    assert releases == {"cvmfs-csi"}  # the grid site's driver, no other service
    assert not any("billing" in t or "cloudfunctions" in t for t in kinds)  # no budget
    assert rendered.outputs["facility"] == "atlas-gcp-ew4"


def test_changing_one_shard_changes_its_plan_only(tmp_path: Path) -> None:
    before, after = sharded(tmp_path, 8000), sharded(tmp_path, 16_000)
    assert before.shards[0].fingerprint != after.shards[0].fingerprint
    assert before.shards[1].fingerprint == after.shards[1].fingerprint

    # the home stack holds the facility's one hard cap, whose settings carry every shard's
    # pools (docs/budget.md): that shard's entry there changes (its pool's maximum, which a
    # lift restores), and nothing else of the home Plan
    def home(plan: Plan) -> Plan:
        assert plan.budget is not None and plan.budget.cap is not None
        cap = plan.budget.cap
        kept = tuple(c for c in cap.clusters if c.shard != "ew4")
        budget = plan.budget.model_copy(update={"cap": cap.model_copy(update={"clusters": kept})})
        return plan.model_copy(update={"shards": (), "budget": budget})

    assert home(before).fingerprint == home(after).fingerprint
    assert before.budget is not None and after.budget is not None
    assert before.budget.cap is not None and after.budget.cap is not None
    ew4 = [
        [(p.name, p.autoscaling.total_max_nodes) for p in c.pools]
        for plan in (before, after)
        for c in plan.budget.cap.clusters  # type: ignore[union-attr]
        if c.shard == "ew4"
    ]
    assert ew4 == [[("spot", 100)], [("spot", 200)]]


def test_plain_pulumi_builds_a_shard_stack_from_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridcloud.engine import cap
    from tests.program.test_stack_entry import run_entry

    monkeypatch.setattr(cap, "read_cap", lambda _cluster: None)  # no GKE here: no cap

    sharded(tmp_path, 8000)  # writes the profile
    profile = str(tmp_path / "sharded-8000.yaml")
    over = {"gridcloud:profile": profile, "gridcloud:allowOverBudget": "true"}
    mocks = run_entry({**over, "gridcloud:shard": "ew1"})
    cluster = next(r for r in mocks.resources if r.type == CLUSTER)
    assert cluster.inputs["name"] == "atlas-gcp-ew1"
    home = run_entry(over)
    assert next(r for r in home.resources if r.type == CLUSTER).inputs["name"] == "atlas-gcp"


def test_a_shards_grid_site_has_its_own_google_account_and_kubeconfig(tmp_path: Path) -> None:
    import json

    shard = sharded(tmp_path, 8000).shards[0]
    rendered = render(shard)
    account = rendered.one("gcp:serviceaccount/account:Account", "harvester-identity-account")
    assert account.inputs["accountId"] == "atlas-gcp-ew4-grid"
    binding = rendered.one(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "services-grid-submitter-binding"
    ).inputs
    email = "atlas-gcp-ew4-grid@atlas-analysis-facility.iam.gserviceaccount.com"
    assert {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": email} in binding[
        "subjects"
    ]
    kubeconfig = json.loads(rendered.outputs["gridSiteKubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["env"] == [
        {
            "name": "GOOGLE_APPLICATION_CREDENTIALS",
            "value": "/data/atlpan/k8_configs/atlas-gcp-ew4-google.json",
        }
    ]
    assert kubeconfig["contexts"][0]["context"]["namespace"] == "grid"
    assert "ATLAS_GCP_EW4_K8S" in rendered.outputs["harvesterQueueConfig"]


def test_the_enforcer_may_scale_a_shard_in_another_project(tmp_path: Path) -> None:
    """The cap's role and its binding in every project a cluster is in: the home project's
    named as before shards (no replacement), the other project's with an index."""
    data: dict[str, Any] = default_data()
    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}
    data["shards"] = {
        "declared": [
            {"name": "ew4", "region": "europe-west4", "project": "atlas-af-europe", "pools": [pool]}
        ]
    }
    path = tmp_path / "two-projects.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rendered = render(analyse(path).plan)
    roles = {
        r.name: r.inputs["project"]
        for r in rendered.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    assert roles == {
        "budget-enforcer-role": "atlas-analysis-facility",
        "budget-enforcer-role-1": "atlas-af-europe",
    }
    bound = sorted(
        (r.name, r.inputs["project"])
        for r in rendered.of_type("gcp:projects/iAMMember:IAMMember")
        if r.name.startswith("budget-enforcer-binding")
    )
    assert bound == [
        ("budget-enforcer-binding", "atlas-analysis-facility"),
        ("budget-enforcer-binding-1", "atlas-af-europe"),
    ]
