"""The enforcer's settings: one model (gridcloud/enforcer/config.py) written by the program and
read by the function. From a shipped profile's Plan, through the program under Pulumi's
mocks (the function's environment as deployed), to the handler on the Pub/Sub emulator and
the fake GKE: the cap and the lift act on the Plan's figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from google.cloud import container_v1

from gridcloud.analysis import analyse
from gridcloud.enforcer.config import BUDGET_VAR, SETTINGS_VAR, Settings, SettingsError
from gridcloud.plan import Plan
from tests.conftest import PROFILES
from tests.enforcer.conftest import SETTINGS, Enforcer, period
from tests.enforcer.fake_gke import FakeGke, Pool

pytestmark = pytest.mark.integration


def _deployed(monkeypatch: pytest.MonkeyPatch) -> tuple[Plan, dict[str, str]]:
    """The default profile's Plan, and the function's environment the program declares."""
    from tests.program.mocks import render

    monkeypatch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", "test-only-client-secret")
    plan = analyse(PROFILES / "default.yaml").plan
    function = render(plan).one("gcp:cloudfunctionsv2/function:Function")
    return plan, dict(function.inputs["serviceConfig"]["environmentVariables"])


def _rest_autoscaling(plan: Plan, name: str) -> dict[str, Any]:
    """A pool's autoscaling in the Plan, as the GKE client sends it (enums as numbers, a
    minimum of 0 left out as proto3's default)."""
    scaling = plan.pool(name).autoscaling
    assert scaling is not None
    body: dict[str, Any] = {
        "enabled": True,
        "totalMaxNodeCount": scaling.total_max_nodes,
        "locationPolicy": container_v1.NodePoolAutoscaling.LocationPolicy[
            scaling.location_policy
        ].value,
    }
    if scaling.total_min_nodes:
        body["totalMinNodeCount"] = scaling.total_min_nodes
    return body


def test_from_the_plan_through_the_program_to_the_handler(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, environment = _deployed(monkeypatch)
    assert plan.budget is not None
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    elastic = [p.name for p in plan.elastic_pools]
    assert elastic == ["cpu", "gpu", "ondemand", "arm"]
    zones = ("us-central1-a", "us-central1-b", "us-central1-c")
    enforcer.gke.pools = {
        "control": Pool("control", zones[:1], 1, {}),
        **{name: Pool(name, zones, 2, _rest_autoscaling(plan, name)) for name in elastic},
    }
    over = str(plan.budget.monthly + 1)
    budget_id = environment[BUDGET_VAR]

    # over the Plan's cap, in the Plan's currency: every elastic pool of the Plan to zero
    assert enforcer.notify(over, budget_id=budget_id, currency=plan.budget.currency) == "cap"
    for name in elastic:
        pool = enforcer.gke.pools[name]
        assert (pool.per_zone, bool(pool.autoscaling.get("enabled"))) == (0, False), name
    assert enforcer.gke.pools["control"].per_zone == 1
    assert enforcer.gke.labels["gridcloud-cap"] == period()[1]

    # a new month below the cap (the profile restores): each pool gets the Plan's autoscaling
    assert plan.budget.cap is not None and plan.budget.cap.restore_on_new_period
    enforcer.gke.labels["gridcloud-cap"] = period(-1)[1]
    assert enforcer.notify("10", budget_id=budget_id, currency=plan.budget.currency) == "lift"
    for name in elastic:
        assert enforcer.gke.pools[name].autoscaling == _rest_autoscaling(plan, name), name
    assert "gridcloud-cap" not in enforcer.gke.labels

    # another currency than the Plan's budget's is refused
    assert enforcer.notify(over, budget_id=budget_id, currency="JPY") == "refused"


def test_a_facility_of_shards_from_the_plan_through_the_program_to_the_handler(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch, make_plan: Callable[..., Plan]
) -> None:
    """The default profile with a compute-only shard in europe-west4, in a project of its
    own: the program's environment for the one function, then a notification over the cap
    scales every elastic pool of both clusters (in two regions, two projects) to zero."""
    from tests.program.mocks import render
    from tests.program.test_budget import with_eu_shard

    monkeypatch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", "test-only-client-secret")
    plan = make_plan(with_eu_shard)
    function = render(plan).one("gcp:cloudfunctionsv2/function:Function")
    for variable, value in function.inputs["serviceConfig"]["environmentVariables"].items():
        monkeypatch.setenv(variable, value)
    assert plan.budget is not None and plan.budget.cap is not None
    home_cap, shard_cap = plan.budget.cap.clusters
    (shard,) = plan.shards
    assert shard.cluster is not None and shard.target.provider == "gcp"
    zones = ("us-central1-a", "us-central1-b", "us-central1-c")
    enforcer.gke.pools = {
        "control": Pool("control", zones[:1], 1, {}),
        **{p.name: Pool(p.name, zones, 3, _rest_autoscaling(plan, p.name)) for p in home_cap.pools},
    }
    eu_zones = tuple(shard.target.zones or ())
    eu = FakeGke(
        labels=dict(shard.cluster.resource_labels),
        pools={
            "control": Pool("control", eu_zones[:1], 1, {}),
            **{
                p.name: Pool(p.name, eu_zones, 4, _rest_autoscaling(shard, p.name))
                for p in shard_cap.pools
            },
        },
        project=shard.target.project,
        location=shard.cluster.location,
        name=shard.cluster.name,
        operation_base=1000,
    )
    enforcer.clusters.append(eu)
    assert (eu.project, eu.name) == ("atlas-eu-compute", "atlas-gcp-ew4")

    over = str(plan.budget.monthly + 1)
    budget_id = function.inputs["serviceConfig"]["environmentVariables"][BUDGET_VAR]
    assert enforcer.notify(over, budget_id=budget_id) == "cap"
    for gke, capped in ((enforcer.gke, home_cap), (eu, shard_cap)):
        assert [p.name for p in capped.pools], gke.name
        for pool in capped.pools:
            state = gke.pools[pool.name]
            assert (state.per_zone, bool(state.autoscaling.get("enabled"))) == (0, False)
        assert gke.pools["control"].per_zone == 1
        assert gke.labels["gridcloud-cap"] == period()[1]

    # a new month below the cap: every pool of both clusters gets the Plan's autoscaling
    for gke in (enforcer.gke, eu):
        gke.labels["gridcloud-cap"] = period(-1)[1]
    assert enforcer.notify("10", budget_id=budget_id) == "lift"
    for name in (p.name for p in shard_cap.pools):
        assert eu.pools[name].autoscaling == _rest_autoscaling(shard, name)
    assert "gridcloud-cap" not in eu.labels


def test_settings_the_function_cannot_read_are_logged_and_acknowledged(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer and a reader that disagree (here: a key renamed) act on nothing, loudly."""
    written = json.loads(SETTINGS.to_json())
    written["lag_hours"] = written.pop("lagHours")
    monkeypatch.setenv(SETTINGS_VAR, json.dumps(written))
    assert enforcer.notify("25010.00", exceeded=1.0) == "misconfigured"
    assert enforcer.gke.calls == []
    assert any(
        "settings cannot be read" in line and "missing lagHours; unknown lag_hours" in line
        for line in enforcer.outcomes.lines
    )


def test_the_model_reads_what_it_writes() -> None:
    text = SETTINGS.to_json()
    assert Settings.from_json(text, "budget") == replace(SETTINGS, budget_id="budget")
    # the keys are the fields' names in camelCase; the budget ID travels apart
    assert sorted(json.loads(text)) == sorted(
        [
            "amount",
            "clusters",
            "currency",
            "facility",
            "label",
            "lagHours",
            "restoreOnNewPeriod",
            "timeoutSeconds",
        ]
    )
    home = json.loads(text)["clusters"][0]
    assert sorted(home) == ["cluster", "location", "pools", "project", "shard"]
    assert (home["shard"], home["project"], home["location"], home["cluster"]) == (
        "home",
        "atlas-analysis-facility",
        "us-central1-a",
        "atlas-gcp",
    )
    assert home["pools"][0] == {
        "name": "cpu",
        "nodeHourly": "0.75",
        "totalMinNodes": 0,
        "totalMaxNodes": 1250,
        "locationPolicy": "ANY",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("currency"), "GRIDCLOUD_CAP: missing currency"),
        (lambda d: d.update(extra=1), "GRIDCLOUD_CAP: unknown extra"),
        (lambda d: d.update(amount=25000), "GRIDCLOUD_CAP.amount: a string expected"),
        (lambda d: d.update(amount="NaN"), "GRIDCLOUD_CAP.amount: a finite number"),
        (lambda d: d.update(amount="lots"), "GRIDCLOUD_CAP.amount: a decimal number"),
        (lambda d: d.update(timeoutSeconds=True), "timeoutSeconds: an integer expected"),
        (lambda d: d.update(restoreOnNewPeriod="yes"), "restoreOnNewPeriod: true or false"),
        (
            lambda d: d["clusters"][0]["pools"][1].pop("nodeHourly"),
            "GRIDCLOUD_CAP.clusters[0].pools[1]: missing nodeHourly",
        ),
        (
            lambda d: d["clusters"][0].update(pools={}),
            "GRIDCLOUD_CAP.clusters[0].pools: a list expected",
        ),
        (lambda d: d["clusters"][0].pop("location"), "clusters[0]: missing location"),
        (lambda d: d.update(clusters=[]), "GRIDCLOUD_CAP.clusters: a list of one cluster"),
        (
            lambda d: d["clusters"].append(d["clusters"][0]),
            "GRIDCLOUD_CAP.clusters: a cluster named twice: home, home",
        ),
    ],
)
def test_the_model_names_what_it_cannot_read(change: Any, message: str) -> None:
    data = json.loads(SETTINGS.to_json())
    change(data)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Settings.from_json(json.dumps(data))


def test_without_its_environment_the_function_says_which_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SETTINGS_VAR, raising=False)
    monkeypatch.setenv(BUDGET_VAR, "b")
    with pytest.raises(SettingsError, match=f"not set: {SETTINGS_VAR}"):
        Settings.from_environment()
    with pytest.raises(SettingsError, match="not JSON"):
        Settings.from_json("{")
