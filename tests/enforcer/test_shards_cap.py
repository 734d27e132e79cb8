"""The hard cap over a facility of shards, on the enforcer's real parts (the Pub/Sub emulator,
functions-framework; fake_gke.py for the GKE and Compute Engine APIs): one budget, one
function, the elastic pools of every cluster scaled to zero, the lag allowance summed over
all of them.

The facility: the home cluster of conftest.SETTINGS (atlas-gcp in us-central1-a, project
atlas-analysis-facility: cpu at 0.75 USD a node-hour, gpu at 0.25) and a compute-only shard
in another region and project (atlas-gcp-ew4 in europe-west4-a, project atlas-eu-compute:
n2d-80 at 1.00 USD a node-hour, c2d-112 at 1.50). The cap is 25,000 USD over a billing lag
of 6 hours.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from google.cloud import container_v1

from gridcloud.enforcer.config import CappedCluster, CappedPool, Settings
from tests.enforcer.conftest import SETTINGS, Enforcer, period, use_settings
from tests.enforcer.fake_gke import FakeGke, Pool

pytestmark = pytest.mark.integration

EU_PROJECT = "atlas-eu-compute"
EU_ZONES = ("europe-west4-a", "europe-west4-b", "europe-west4-c")
SHARD = CappedCluster(
    shard="ew4",
    project=EU_PROJECT,
    location="europe-west4-a",
    cluster="atlas-gcp-ew4",
    pools=(
        CappedPool("n2d-80", Decimal("1.00"), 0, 1000, "ANY"),
        CappedPool("c2d-112", Decimal("1.50"), 0, 400, "ANY"),
    ),
)
FACILITY = replace(SETTINGS, clusters=(*SETTINGS.clusters, SHARD))
SHARD_PATH = f"/projects/{EU_PROJECT}/locations/europe-west4-a/clusters/atlas-gcp-ew4"


def _shard() -> FakeGke:
    return FakeGke(
        labels={"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp-ew4"},
        pools={
            "control": Pool("control", EU_ZONES[:1], 1, {}),
            "n2d-80": Pool(
                "n2d-80",
                EU_ZONES,
                0,
                {"enabled": True, "totalMaxNodeCount": 1000, "locationPolicy": "ANY"},
            ),
            "c2d-112": Pool(
                "c2d-112",
                EU_ZONES,
                0,
                {"enabled": True, "totalMaxNodeCount": 400, "locationPolicy": "ANY"},
            ),
        },
        project=EU_PROJECT,
        location="europe-west4-a",
        name="atlas-gcp-ew4",
        operation_base=1000,
    )


@pytest.fixture
def shard(enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch) -> FakeGke:
    """The shard's cluster served beside the home one, and the facility's settings."""
    found = _shard()
    enforcer.clusters.append(found)
    use_settings(monkeypatch, FACILITY)
    return found


def _at_zero(gke: FakeGke, pools: tuple[str, ...]) -> None:
    for name in pools:
        pool = gke.pools[name]
        assert (pool.per_zone, bool(pool.autoscaling.get("enabled"))) == (0, False), name
    assert gke.pools["control"].per_zone == 1


def _rest(pool: CappedPool) -> dict[str, Any]:
    """A pool's autoscaling as the GKE client sends it back at a lift (a minimum of 0 left
    out as proto3's default, the policy as its number)."""
    return {
        "enabled": True,
        "totalMaxNodeCount": pool.total_max_nodes,
        "locationPolicy": container_v1.NodePoolAutoscaling.LocationPolicy[
            pool.location_policy
        ].value,
    }


def test_the_lag_allowance_sums_the_running_pools_of_every_cluster(
    enforcer: Enforcer, shard: FakeGke
) -> None:
    """Reported 22,700. Home: cpu 40 nodes in each of 3 zones, 120 x 0.75 x 6 = 540; the
    shard: n2d-80 96 a zone, 288 x 1.00 x 6 = 1,728: 22,700 + 540 + 1,728 = 24,968, below the
    cap. With 100 a zone (300 x 1.00 x 6 = 1,800): 25,040, over it, though neither cluster's
    allowance alone (23,240 or 24,500) would be."""
    enforcer.gke.pools["cpu"].per_zone = 40
    shard.pools["n2d-80"].per_zone = 96
    assert enforcer.notify("22700.00") == "nothing"
    assert enforcer.gke.changes() == [] and shard.changes() == []
    shard.pools["n2d-80"].per_zone = 100
    assert enforcer.notify("22700.00") == "cap"
    assert any("= 25040.00 USD" in line for line in enforcer.outcomes.lines)


def test_the_cap_scales_every_clusters_pools_to_zero_and_labels_each(
    enforcer: Enforcer, shard: FakeGke
) -> None:
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 10
    shard.pools["n2d-80"].per_zone = 50
    shard.pools["c2d-112"].per_zone = 5
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    _at_zero(enforcer.gke, ("cpu", "gpu"))
    _at_zero(shard, ("n2d-80", "c2d-112"))
    assert enforcer.gke.labels["gridcloud-cap"] == month
    assert shard.labels == {
        "managed-by": "gridcloud",
        "gridcloud-facility": "atlas-gcp-ew4",
        "gridcloud-cap": month,
    }
    # the shard's changes went to its own cluster, in its own project and location
    paths = [path for _, path, _ in shard.changes()]
    assert paths == [
        f"{SHARD_PATH}/nodePools/n2d-80:setAutoscaling",
        f"{SHARD_PATH}/nodePools/n2d-80:setSize",
        f"{SHARD_PATH}/nodePools/c2d-112:setAutoscaling",
        f"{SHARD_PATH}/nodePools/c2d-112:setSize",
        f"{SHARD_PATH}:setResourceLabels",
    ]
    # its instance groups were read in its project
    assert any(
        path.startswith(f"/projects/{EU_PROJECT}/zones/europe-west4-b/instanceGroupManagers/")
        for method, path, _ in shard.calls
        if method == "GET"
    )
    # repeats change nothing, anywhere
    before = (len(enforcer.gke.changes()), len(shard.changes()))
    assert enforcer.notify("25600.00", exceeded=1.0) == "nothing"
    assert (len(enforcer.gke.changes()), len(shard.changes())) == before


def test_a_pool_scaled_back_in_a_shard_is_found_and_capped_again(
    enforcer: Enforcer, shard: FakeGke
) -> None:
    """A cap in force; someone gives the shard's pool its autoscaling back by hand: the next
    notification of the period re-asserts the cap there, and changes nothing at home."""
    _, month = period()
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    home_changes = len(enforcer.gke.changes())
    shard.pools["c2d-112"].autoscaling = {"enabled": True, "totalMaxNodeCount": 400}
    shard.pools["c2d-112"].per_zone = 7
    assert enforcer.notify("25020.00") == "repaired"
    _at_zero(shard, ("n2d-80", "c2d-112"))
    assert len(enforcer.gke.changes()) == home_changes
    assert shard.labels["gridcloud-cap"] == month


def test_a_new_period_lifts_the_cap_in_every_cluster(enforcer: Enforcer, shard: FakeGke) -> None:
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    _, last = period(-1)
    for gke in (enforcer.gke, shard):
        gke.labels["gridcloud-cap"] = last
    assert enforcer.notify("10.00") == "lift"
    for gke, capped in ((enforcer.gke, SETTINGS.clusters[0]), (shard, SHARD)):
        for pool in capped.pools:
            assert gke.pools[pool.name].autoscaling == _rest(pool), pool.name
        assert "gridcloud-cap" not in gke.labels


def test_a_cluster_gke_keeps_busy_does_not_hold_the_others_back(
    enforcer: Enforcer, shard: FakeGke, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home cluster in an upgrade that outlasts the function (2 s): every change there
    is refused. The shard is capped all the same within the handler's deadline; the home
    is left to the next notification, which completes it once the upgrade is over."""
    use_settings(monkeypatch, replace(FACILITY, timeout_seconds=2))
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 10
    shard.pools["n2d-80"].per_zone = 50
    enforcer.gke.background = {"operation-upgrade": -1}
    assert enforcer.notify("25010.00", exceeded=1.0) == "failed"
    _at_zero(shard, ("n2d-80", "c2d-112"))
    assert shard.labels["gridcloud-cap"] == month
    assert enforcer.gke.pools["cpu"].per_zone == 10
    assert "gridcloud-cap" not in enforcer.gke.labels
    enforcer.gke.background.clear()
    assert enforcer.notify("25020.00", exceeded=1.0) == "repaired"
    _at_zero(enforcer.gke, ("cpu", "gpu"))
    assert enforcer.gke.labels["gridcloud-cap"] == month


def test_a_shard_that_cannot_be_read_counts_at_its_maximum_and_the_others_are_capped(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings name a shard whose cluster GKE does not have (deleted by hand, or not
    created yet): 404. Nothing runs at home; reported 20,000: the shard's pools count at
    their maximum, 1,000 x 1.00 + 400 x 1.50 = 1,600 USD an hour, 9,600 over 6 hours, so
    29,600 crosses the cap. The home cluster is capped; the outcome is a failure naming the
    shard's cluster, for the next notification to try again."""
    use_settings(monkeypatch, FACILITY)
    _, month = period()
    assert enforcer.notify("20000.00") == "failed"
    _at_zero(enforcer.gke, ("cpu", "gpu"))
    assert enforcer.gke.labels["gridcloud-cap"] == month
    assert any(
        "cluster atlas-gcp-ew4: cannot be read" in line and "at their maximum" in line
        for line in enforcer.outcomes.lines
    )
    assert any("= 29600.00 USD" in line for line in enforcer.outcomes.lines)


def test_the_settings_carry_every_cluster() -> None:
    again = Settings.from_json(FACILITY.to_json())
    assert [c.path for c in again.clusters] == [
        "projects/atlas-analysis-facility/locations/us-central1-a/clusters/atlas-gcp",
        f"projects/{EU_PROJECT}/locations/europe-west4-a/clusters/atlas-gcp-ew4",
    ]
    assert [(c.shard, p.name) for c, p in again.pools] == [
        ("home", "cpu"),
        ("home", "gpu"),
        ("ew4", "n2d-80"),
        ("ew4", "c2d-112"),
    ]
