"""Day two over a facility of shards, one stack each: a second ``up`` after one shard
changed differs in that shard's stack only, and each shard keeps the ranges its own stack
reports (read back per stack, as the engine does before ``up``: gridcloud/deploy.py).

The stacks are the program run under Pulumi's mocks for each shard's Plan
(tests/program/mocks.py), compared as the engine diffs them (tests/program/test_day_two.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gridcloud.analysis import analyse
from gridcloud.plan import Plan
from tests.conftest import default_data
from tests.program.mocks import Rendered, render
from tests.program.test_day_two import changes, deployed_from, replaced

NODE_POOL = "gcp:container/nodePool:NodePool"


def profile(tmp_path: Path, ew4_cores: int) -> Path:
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
    return path


def stacks(plan: Plan) -> dict[str, Rendered]:
    """Each compute-only shard's stack, by shard name."""
    return {str(shard.shard): render(shard) for shard in plan.shards}


def test_shrinking_one_shard_changes_its_stack_only(tmp_path: Path) -> None:
    first = analyse(profile(tmp_path, 8000)).plan
    before = stacks(first)
    # ew4 halves (100 nodes of 80 cores to 50); the engine reads each stack's ranges back
    read_back = {name: deployed_from(rendered) for name, rendered in before.items()}
    second = analyse(profile(tmp_path, 4000), shards_deployed=read_back).plan
    after = stacks(second)

    assert changes(before["ew1"], after["ew1"]) == {}
    assert after["ew1"].outputs == before["ew1"].outputs
    diff = changes(before["ew4"], after["ew4"])
    # only the spot pool's ceiling moves, in place: 50 nodes instead of 100
    assert list(diff) == [next(r.key for r in after["ew4"].of_type(NODE_POOL) if "spot" in r.key)]
    assert diff[next(iter(diff))] == {"autoscaling.totalMaxNodeCount"}
    assert replaced(diff) == {}
    spot = next(r for r in after["ew4"].of_type(NODE_POOL) if r.inputs["name"] == "spot")
    assert spot.inputs["autoscaling"]["totalMaxNodeCount"] == 50
    # the home cluster's Plan (its own stack) is the same but for ew4's entry in the
    # facility's hard cap, which carries every shard's pools (docs/budget.md)
    assert without_ew4(second) == without_ew4(first)


def without_ew4(plan: Plan) -> Plan:
    """The home Plan without its shards, and without ew4's cluster in the cap's settings."""
    assert plan.budget is not None and plan.budget.cap is not None
    cap = plan.budget.cap
    kept = tuple(c for c in cap.clusters if c.shard != "ew4")
    assert len(kept) == len(cap.clusters) - 1
    budget = plan.budget.model_copy(update={"cap": cap.model_copy(update={"clusters": kept})})
    return plan.model_copy(update={"shards": (), "budget": budget})


def test_each_shard_keeps_the_ranges_its_own_stack_reports(tmp_path: Path) -> None:
    first = analyse(profile(tmp_path, 8000)).plan
    ew4 = first.shards[0]
    assert ew4.network is not None
    # 103 nodes to address (100, and surge): a /17 of pods at 110 per node (/24 each)
    assert ew4.network.pod_range == "10.0.0.0/17"
    read_back = {"ew4": deployed_from(render(ew4))}
    kept = analyse(profile(tmp_path, 4000), shards_deployed=read_back).plan.shards[0]
    fresh = analyse(profile(tmp_path, 4000)).plan.shards[0]
    assert kept.network is not None and fresh.network is not None
    # 53 nodes alone would take a /18; the deployed /17 stays (a range in use cannot shrink)
    assert fresh.network.pod_range == "10.0.0.0/18"
    assert kept.network.pod_range == "10.0.0.0/17"
    assert kept.network.subnet_range == ew4.network.subnet_range
    assert set(kept.network.kept) == {"podRange", "serviceRange", "subnetRange"}
    # ew1's stack reported nothing (a new stack): its ranges are computed as before
    assert analyse(profile(tmp_path, 4000), shards_deployed=read_back).plan.shards[1].network == (
        first.shards[1].network
    )
