"""The policy runs on every shard's Plan: a compute-only shard's cluster and pools are held
to the same rules as the home cluster's, named by shard, under the profile's waivers; the
facility's own rules (its budget, its bucket) are the home Plan's alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.errors import PolicyError
from gridcloud.plan import Plan
from gridcloud.policy import enforce_strict, evaluate
from gridcloud.profile import Profile

#: 80-core nodes on demand: the large-on-demand rule's case (32 cores or more, not spot).
ON_DEMAND = {
    "name": "big",
    "kind": "cpu",
    "machineType": "n2d-highcpu-80",
    "maxCores": 8000,
    "spot": False,
}
SPOT = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}


@pytest.fixture
def plan_of(make_profile: Callable[..., Profile], catalog: Catalog) -> Callable[..., Plan]:
    from gridcloud.analysis import planned

    def build(edit: Callable[[dict[str, Any]], None]) -> Plan:
        return planned(make_profile(edit), catalog)[0]

    return build


def shards(*declared: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["shards"] = {"declared": list(declared)}

    return edit


def test_a_shard_on_demand_pool_is_flagged_by_shard(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of(
        shards(
            {"name": "ew4", "region": "europe-west4", "pools": [ON_DEMAND]},
            {"name": "ue1", "region": "us-east1", "pools": [SPOT]},
        )
    )
    home = {(f.rule, f.message) for f in evaluate(plan.model_copy(update={"shards": ()}))}
    found = [f for f in evaluate(plan) if (f.rule, f.message) not in home]
    assert [(f.rule, f.severity, f.waived) for f in found] == [("large-on-demand", "warning", None)]
    assert found[0].message.startswith("shard ew4: pool big runs 80-core nodes on demand")
    # under --strict it refuses, naming the shard
    with pytest.raises(PolicyError, match="shard ew4: pool big"):
        enforce_strict(evaluate(plan))


def test_a_shard_has_no_budget_of_its_own_to_flag(plan_of: Callable[..., Plan]) -> None:
    plan = plan_of(shards({"name": "ew4", "region": "europe-west4", "pools": [SPOT]}))
    assert plan.shards[0].budget is None  # the facility's budget is the home Plan's
    assert not any(f.message.startswith("shard ") for f in evaluate(plan))


def test_the_profile_waivers_cover_the_shards(plan_of: Callable[..., Plan]) -> None:
    def edit(data: dict[str, Any]) -> None:
        shards({"name": "ew4", "region": "europe-west4", "pools": [ON_DEMAND]})(data)
        data.setdefault("policy", {}).setdefault("waivers", []).append(
            {"rule": "large-on-demand", "reason": "pilots that must not be preempted"}
        )

    flagged = [f for f in evaluate(plan_of(edit)) if f.message.startswith("shard ew4:")]
    assert [(f.rule, f.waived) for f in flagged] == [
        ("large-on-demand", "pilots that must not be preempted")
    ]
