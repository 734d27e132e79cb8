"""Day two under Pulumi's mocks: a second ``up`` changes nothing, a change of size or setting
changes only what it must and replaces nothing, and no resource is renamed without an alias.

What replaces a resource is the providers' own rule (tests/program/replacement): Terraform's
``ForceNew`` fields for the bridged GCP resources, pulumi-kubernetes' replace-forcing fields.
A run stands for ``up``: inputs recorded per resource; a second run on a changed Plan is
compared with the first as the engine would, minus each resource's ``ignore_changes``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse, planned
from gridcloud.catalog import Catalog
from gridcloud.plan import Plan
from gridcloud.plan.model import Deployed
from gridcloud.profile import Profile
from tests.conftest import PROFILES, SHIPPED
from tests.program.mocks import Declared, Rendered, render
from tests.program.replacement import ReplaceRules, changed_paths

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = "GRIDCLOUD_UPDATE_SNAPSHOTS"
ENFORCER = "gcp:cloudfunctionsv2/function:Function::budget-enforcer"
CAP_SETTINGS = "serviceConfig.environmentVariables.GRIDCLOUD_CAP"
RULES = ReplaceRules()
Edit = Callable[[dict[str, Any]], None]


def deployed_from(rendered: Rendered) -> Deployed:
    """What the engine reads back from the stack's ``network`` output before the next up."""
    network = rendered.outputs["network"]
    return Deployed(
        max_pods_per_node=network["maxPodsPerNode"],
        subnet_range=network["subnetRange"],
        pod_range=network["podRange"],
        service_range=network["serviceRange"],
    )


def changes(before: Rendered, after: Rendered) -> dict[str, set[str]]:
    """Changed input paths per resource key, as the engine diffs them (ignored paths out);
    a resource that appears or disappears shows as ``{"<created>"}`` or ``{"<deleted>"}``."""
    old = {r.key: r for r in before.resources}
    new = {r.key: r for r in after.resources}
    diff: dict[str, set[str]] = {}
    for key in old.keys() - new.keys():
        diff[key] = {"<deleted>"}
    for key in new.keys() - old.keys():
        diff[key] = {"<created>"}
    for key in old.keys() & new.keys():
        ignored = new[key].options.ignore_changes
        paths = {
            p
            for p in changed_paths(old[key].inputs, new[key].inputs)
            if not any(p == i or p.startswith(f"{i}.") for i in ignored)
        }
        if paths:
            diff[key] = paths
    return diff


def replaced(diff: dict[str, set[str]]) -> dict[str, set[str]]:
    out = {}
    for key, paths in diff.items():
        typ = key.split("::", 1)[0]
        forcing = {p for p in paths if p.startswith("<") or RULES.replaces(typ, p)}
        if forcing:
            out[key] = forcing
    return out


@pytest.fixture(scope="module")
def first() -> tuple[Plan, Rendered]:
    plan = analyse(PROFILES / "default.yaml").plan
    return plan, render(plan)


@pytest.fixture
def again(
    first: tuple[Plan, Rendered], make_profile: Callable[..., Profile], catalog: Catalog
) -> Callable[[Edit], tuple[Plan, dict[str, set[str]]]]:
    """``up`` again after ``edit``: the new Plan (with the deployed ranges) and the changes."""
    _, before = first

    def run(edit: Edit) -> tuple[Plan, dict[str, set[str]]]:
        def as_shipped(data: dict[str, Any]) -> None:
            # the default profile as shipped, with its backups (make_profile leaves them out)
            import yaml

            shipped = yaml.safe_load((PROFILES / "default.yaml").read_text())
            data["backups"], data["prices"] = shipped["backups"], shipped["prices"]
            edit(data)

        plan = planned(make_profile(as_shipped), catalog, deployed_from(before))[0]
        return plan, changes(before, render(plan))

    return run


def test_a_second_up_with_the_same_profile_changes_nothing(first: tuple[Plan, Rendered]) -> None:
    plan, before = first
    # the same profile, read again, with the deployed stack's ranges: what `up` does
    again = analyse(PROFILES / "default.yaml", deployed=deployed_from(before)).plan
    assert again.network is not None and again.network.kept == (
        "podRange",
        "serviceRange",
        "subnetRange",
    )
    assert again.fingerprint == plan.fingerprint
    assert again.model_copy(update={"network": plan.network}) == plan
    after = render(again)
    assert changes(before, after) == {}
    assert after.outputs == before.outputs


def test_what_gke_reports_for_the_removed_default_pool_plans_no_replacement(
    first: tuple[Plan, Rendered],
) -> None:
    """Once the default pool is gone, GKE reports another pool's node config on the cluster
    (here: the control pool's, as a refresh reads it). The next ``up`` must not replace."""
    _, before = first
    cluster = before.one("gcp:container/cluster:Cluster")
    control = before.one("gcp:container/nodePool:NodePool", "control-pool")
    reported = dict(cluster.inputs, nodeConfig=control.inputs["nodeConfig"])
    refreshed = Rendered(
        [
            Declared(r.type, r.name, reported, r.provider, r.options) if r is cluster else r
            for r in before.resources
        ],
        before.outputs,
        before.secret_outputs,
    )
    diff = changes(refreshed, render(first[0]))
    assert diff == {}
    # without the program's ignore_changes this would be a replacement
    raw = changed_paths(reported, cluster.inputs)
    assert any(RULES.replaces(cluster.type, p) for p in raw)


def test_changing_min_nodes_changes_only_the_pools_autoscaling(again: Any) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][2]["minNodes"] = 2  # ondemand

    _, diff = again(edit)
    assert diff == {
        "gcp:container/nodePool:NodePool::ondemand-pool": {"autoscaling.totalMinNodeCount"},
        # the cap restores the Plan's autoscaling: its settings follow
        ENFORCER: {CAP_SETTINGS},
    }
    assert replaced(diff) == {}


@pytest.mark.parametrize("cores", [60_000, 150_000], ids=["smaller", "larger"])
def test_changing_max_cores_keeps_the_ranges_and_replaces_nothing(again: Any, cores: int) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["maxCores"] = cores
        data["services"]["gridSite"]["maxCores"] = min(cores, 96_000)

    plan, diff = again(edit)
    assert plan.network is not None
    # 1,250 nodes of 80 cores needed a /13 (2,048 nodes); 750 or 1,875 nodes fit in it
    assert plan.network.pod_range == "10.0.0.0/13"
    assert "podRange" in plan.network.kept
    assert diff.pop("gcp:container/nodePool:NodePool::cpu-pool") == {
        "autoscaling.totalMaxNodeCount"
    }
    # what else follows from the pool's size: the grid quota, the Dask and grid values, the
    # cap's copy of the pool's maximum
    assert diff.pop(ENFORCER) == {CAP_SETTINGS}
    assert set(diff) <= {
        "kubernetes:core/v1:ResourceQuota::services-grid-quota",
        "kubernetes:helm.sh/v3:Release::services-dask-gateway",
    }
    assert replaced(diff) == {}


def test_changing_a_service_setting_changes_only_the_releases_that_read_it(again: Any) -> None:
    def edit(data: dict[str, Any]) -> None:
        # the hub culls idle notebooks, the gateway idle Dask clusters, after the same time
        data["services"]["jupyter"]["idleCullMinutes"] = 30

    _, diff = again(edit)
    assert set(diff) == {
        "kubernetes:helm.sh/v3:Release::services-jupyterhub",
        "kubernetes:helm.sh/v3:Release::services-dask-gateway",
    }
    assert all(p.startswith("values.") for paths in diff.values() for p in paths)
    assert replaced(diff) == {}


def test_opening_or_narrowing_the_control_plane_updates_the_cluster_in_place(
    again: Any,
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["authorizedNetworks"] = [{"name": "ci", "cidr": "203.0.113.0/24"}]

    _, diff = again(edit)
    assert set(diff) == {"gcp:container/cluster:Cluster::cluster-gke"}
    assert replaced(diff) == {}


def test_changing_machine_type_and_disk_updates_in_place(again: Any) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][2]["machineType"] = "n2d-standard-32"
        data["pools"][2]["diskSizeGb"] = 200

    _, diff = again(edit)
    pool = "gcp:container/nodePool:NodePool::ondemand-pool"
    assert {"nodeConfig.machineType", "nodeConfig.diskSizeGb"} <= diff[pool]
    assert diff[ENFORCER] == {CAP_SETTINGS}  # the node-hour price of the lag allowance
    assert replaced(diff) == {}


def test_a_change_that_needs_a_new_pool_is_seen_and_the_pool_goes_first(
    first: tuple[Plan, Rendered], again: Any
) -> None:
    """Spot or on-demand is fixed at a pool's creation (ForceNew): the rules must say so, and
    the pool, with its fixed name, is deleted before its replacement is created."""

    def edit(data: dict[str, Any]) -> None:
        data["pools"][1]["spot"] = False  # gpu

    _, diff = again(edit)
    assert replaced(diff) == {"gcp:container/nodePool:NodePool::gpu-pool": {"nodeConfig.spot"}}
    _, before = first
    pool = next(r for r in before.resources if r.key == "gcp:container/nodePool:NodePool::gpu-pool")
    assert pool.options.delete_before_replace is True


def test_the_deployed_ranges_refuse_a_pool_they_cannot_hold(
    first: tuple[Plan, Rendered], make_profile: Callable[..., Profile], catalog: Catalog
) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["maxCores"] = 168_000  # 2,100 nodes: past the /13's 2,048

    with pytest.raises(PlanError, match="holds 2,048") as caught:
        planned(make_profile(edit), catalog, deployed_from(first[1]))
    assert caught.value.hint is not None and "new facility" in caught.value.hint


def test_the_deployed_max_pods_cannot_change(
    first: tuple[Plan, Rendered], make_profile: Callable[..., Profile], catalog: Catalog
) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["network"]["maxPodsPerNode"] = 64

    with pytest.raises(PlanError, match="deployed cluster has 110"):
        planned(make_profile(edit), catalog, deployed_from(first[1]))


# --- resource options -------------------------------------------------------------------


def test_resource_options_the_program_sets(first: tuple[Plan, Rendered]) -> None:
    _, rendered = first
    by_key = {r.key: r.options for r in rendered.resources}
    cluster = by_key["gcp:container/cluster:Cluster::cluster-gke"]
    assert cluster.ignore_changes == ("nodeConfig",)
    assert cluster.delete_before_replace is False  # a replacement fails on the name first
    for r in rendered.of_type("gcp:container/nodePool:NodePool"):
        assert r.options.ignore_changes == ("initialNodeCount",)
    # the enforcer's archive is named by its content: a new one never takes the old name
    archive = by_key["gcp:storage/bucketObject:BucketObject::budget-enforcer-archive"]
    assert archive.delete_before_replace is False
    named = [
        r
        for r in rendered.resources
        if r.type.startswith("gcp:")
        and r.type
        not in {
            "gcp:container/cluster:Cluster",
            "gcp:storage/bucketObject:BucketObject",
            # a key has no name of its own: its replacement is made before the old one goes
            "gcp:serviceaccount/key:Key",
        }
    ]
    assert named and all(r.options.delete_before_replace for r in named)
    assert not any(r.options.protect for r in rendered.resources)  # GKE's flag guards instead
    assert not any(r.options.aliases for r in rendered.resources)  # no rename so far


def test_kubernetes_objects_go_before_the_cluster_on_destroy(first: tuple[Plan, Rendered]) -> None:
    """Pulumi deletes dependents first: every Kubernetes object and Helm release uses the
    provider, which depends on the control pool, which depends on the cluster."""
    _, rendered = first
    provider = rendered.one("pulumi:providers:kubernetes")
    assert provider.options.depends_on == ("gridcloud:cluster:NodePool::control",)
    k8s = [r for r in rendered.resources if r.type.startswith("kubernetes:")]
    assert k8s and all(r.options.provider == provider.key for r in k8s)
    pool = rendered.one("gcp:container/nodePool:NodePool", "control-pool")
    assert pool.inputs["cluster"] == "cluster-gke-id"


# --- the golden snapshot ------------------------------------------------------------------


def tree(rendered: Rendered) -> list[dict[str, str | None]]:
    return sorted(
        ({"type": r.type, "name": r.name, "parent": r.options.parent} for r in rendered.resources),
        key=lambda e: (str(e["parent"]), str(e["type"]), str(e["name"])),
    )


def renamed_without_alias(old: list[dict[str, Any]], rendered: Rendered) -> list[str]:
    """Entries of ``old`` that no resource answers to any more: neither by its own alias nor
    by its parent's (Pulumi carries a parent's rename to children named after it)."""
    now = {r.key: r for r in rendered.resources}
    missing = []
    for entry in old:
        key = f"{entry['type']}::{entry['name']}"
        if key in now:
            continue
        if not any(_answers_to(r, entry, now) for r in rendered.resources):
            missing.append(key)
    return missing


def _answers_to(resource: Declared, old: dict[str, Any], now: dict[str, Declared]) -> bool:
    if resource.type != old["type"]:
        return False
    if old["name"] in resource.options.aliases:
        return True
    parent = now.get(resource.options.parent or "")
    if parent is None:
        return False
    parent_name = parent.name
    return any(
        resource.name.startswith(parent_name)
        and old["name"] == alias + resource.name[len(parent_name) :]
        for alias in parent.options.aliases
    )


def plan_for_snapshot(path: Path) -> Plan:
    return analyse(path).plan


def check_snapshot(rendered: Rendered, snapshot: Path, *, update: bool) -> None:
    """The resource tree against the committed ``snapshot``, compared before anything is
    written: a resource renamed or removed without an alias fails in update mode too (the
    snapshot is left as committed); otherwise update mode writes the new tree, and the normal
    mode asks for it to be committed."""
    current = tree(rendered)
    committed = json.loads(snapshot.read_text()) if snapshot.exists() else []
    lost = renamed_without_alias(committed, rendered)
    assert not lost, (
        f"renamed or removed without an alias (the cloud resource would be replaced): {lost}; "
        "add `aliases=[pulumi.Alias(name=OLD)]` to the renamed resource"
        + (f" ({snapshot.name} left as committed)" if update else "")
    )
    if update:
        if current != committed:
            snapshot.write_text(json.dumps(current, indent=1) + "\n")
        return
    assert current == committed, (
        f"the resource tree changed: update tests/program/snapshots/{snapshot.name} in the "
        f"same commit ({UPDATE}=1 pytest tests/program/test_day_two.py)"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_resource_tree_matches_the_committed_snapshot(
    path: Path, request: pytest.FixtureRequest
) -> None:
    if path.stem == "onprem":
        request.getfixturevalue("onprem_kubeconfig")
    rendered = render(plan_for_snapshot(path))
    check_snapshot(rendered, SNAPSHOTS / f"{path.stem}.json", update=bool(os.environ.get(UPDATE)))


def _cluster_renamed(plan: Plan, monkeypatch: pytest.MonkeyPatch, *, alias: bool) -> Rendered:
    """The Plan rendered with the cluster component renamed ``kube`` (and so its GKE
    cluster), with or without an alias to its old name."""
    import pulumi

    from gridcloud.program import facility
    from gridcloud.program.cluster import GkeCluster

    def make(_name: str, *args: Any, **kwargs: Any) -> GkeCluster:
        opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(name="cluster")]) if alias else None
        return GkeCluster("kube", *args, **kwargs, opts=opts)

    with monkeypatch.context() as patch:
        patch.setattr(facility, "GkeCluster", make)
        return render(plan)


def test_a_rename_without_an_alias_is_caught(
    first: tuple[Plan, Rendered], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming the cluster component (and so its GKE cluster) fails; with an alias it does
    not, as Pulumi then carries the old name over."""
    plan, before = first
    committed = tree(before)
    assert renamed_without_alias(committed, _cluster_renamed(plan, monkeypatch, alias=False)) == [
        "gridcloud:cluster:Cluster::cluster",
        "gcp:container/cluster:Cluster::cluster-gke",
    ]
    assert renamed_without_alias(committed, _cluster_renamed(plan, monkeypatch, alias=True)) == []


@pytest.mark.parametrize("update", [False, True], ids=["compare", "update"])
def test_the_snapshot_guard_refuses_a_rename_even_in_update_mode(
    first: tuple[Plan, Rendered], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, update: bool
) -> None:
    """Update mode compares with the committed snapshot before it writes: a rename without an
    alias fails, and the snapshot keeps the old tree (so the next run fails too)."""
    plan, before = first
    snapshot = tmp_path / "default.json"
    snapshot.write_text(json.dumps(tree(before), indent=1) + "\n")
    committed = snapshot.read_text()
    with pytest.raises(AssertionError, match="cluster-gke"):
        check_snapshot(_cluster_renamed(plan, monkeypatch, alias=False), snapshot, update=update)
    assert snapshot.read_text() == committed


def test_update_mode_writes_an_aliased_rename(
    first: tuple[Plan, Rendered], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the alias, update mode writes the new tree, which then names the cluster ``kube``;
    compare mode (no update) fails until it is committed."""
    plan, before = first
    snapshot = tmp_path / "default.json"
    snapshot.write_text(json.dumps(tree(before), indent=1) + "\n")
    aliased = _cluster_renamed(plan, monkeypatch, alias=True)
    with pytest.raises(AssertionError, match="the resource tree changed"):
        check_snapshot(aliased, snapshot, update=False)
    check_snapshot(aliased, snapshot, update=True)
    written = {(e["type"], e["name"]) for e in json.loads(snapshot.read_text())}
    assert ("gcp:container/cluster:Cluster", "kube-gke") in written
    assert ("gcp:container/cluster:Cluster", "cluster-gke") not in written
    check_snapshot(aliased, snapshot, update=False)  # now it matches
