"""The hard cap, end to end on real parts: Cloud Billing's notifications published to the
Pub/Sub emulator, pushed to the function under functions-framework, which calls the (fake)
GKE API. The cap is 25,000 USD; the running pools (fake_gke) cost 0.75 USD a node-hour (cpu)
and 0.25 (gpu), over a billing lag of 6 hours."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import container_v1

from tests.enforcer.conftest import Enforcer

pytestmark = pytest.mark.integration

CLUSTER = "/projects/atlas-analysis-facility/locations/us-central1-a/clusters/atlas-gcp"


def _period_start(months_ago: int = 0) -> tuple[str, str]:
    """A period's costIntervalStart (midnight Pacific, 08:00 UTC) and its label."""
    today = datetime.now(UTC) - timedelta(hours=8)
    year, month = today.year, today.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year}-{month:02d}-01T08:00:00Z", f"{year}-{month:02d}"


def _next_period() -> tuple[str, str]:
    today = datetime.now(UTC) - timedelta(hours=8)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year}-{month:02d}-01T08:00:00Z", f"{year}-{month:02d}"


CAPPING = [
    ("POST", f"{CLUSTER}/nodePools/cpu:setAutoscaling", {"autoscaling": {}}),
    ("POST", f"{CLUSTER}/nodePools/cpu:setSize", {}),
    ("POST", f"{CLUSTER}/nodePools/gpu:setAutoscaling", {"autoscaling": {}}),
    ("POST", f"{CLUSTER}/nodePools/gpu:setSize", {}),
]


def _changes(enforcer: Enforcer) -> list[tuple[str, str, dict[str, object] | None]]:
    """The changing calls, without the name the client repeats in each body."""
    return [
        (m, p, {k: v for k, v in (b or {}).items() if k != "name"})
        for m, p, b in enforcer.gke.changes()
    ]


def test_below_the_cap_nothing_changes(enforcer: Enforcer) -> None:
    start, _ = _period_start()
    assert enforcer.notify("12000.00", start=start, exceeded=0.4) == "nothing"
    assert enforcer.gke.changes() == []


def test_crossing_the_cap_scales_every_elastic_pool_to_zero_and_records_it(
    enforcer: Enforcer,
) -> None:
    start, period = _period_start()
    enforcer.gke.pools["cpu"].per_zone = 100  # 300 nodes running
    assert enforcer.notify("25010.00", start=start, exceeded=1.0) == "cap"
    changes = _changes(enforcer)
    assert changes[:4] == CAPPING
    assert changes[4][1] == f"{CLUSTER}:setResourceLabels"
    assert changes[4][2]["resourceLabels"] == {  # type: ignore[index]
        "managed-by": "gridcloud",
        "gridcloud-facility": "atlas-gcp",
        "gridcloud-cap": period,
    }
    assert len(changes) == 5
    # the control pool is never touched; the pools are at zero with autoscaling off
    assert not [c for c in changes if "control" in c[1]]
    assert enforcer.gke.pools["cpu"].per_zone == 0
    assert not enforcer.gke.pools["cpu"].autoscaling.get("enabled")
    assert enforcer.gke.pools["control"].per_zone == 1
    # each operation was followed until done
    polls = [c for c in enforcer.gke.calls if "/operations/" in c[1]]
    assert len(polls) == 2 * 5


def test_repeats_change_nothing_once_the_cap_is_in_force(enforcer: Enforcer) -> None:
    start, _ = _period_start()
    assert enforcer.notify("25010.00", start=start, exceeded=1.0) == "cap"
    before = len(enforcer.gke.changes())
    # Cloud Billing repeats its notification several times a day; Pub/Sub may redeliver
    assert enforcer.notify("25010.00", start=start, exceeded=1.0) == "nothing"
    assert enforcer.notify("25600.00", start=start, exceeded=1.0) == "nothing"
    assert len(enforcer.gke.changes()) == before


def test_the_lag_allowance_tips_the_decision(enforcer: Enforcer) -> None:
    """Reported 23,000: 2,000 below the cap. The cpu pool runs 450 nodes (150 in each of
    three zones) at 0.75 USD: over 6 hours 450 x 0.75 x 6 = 2,025 not yet reported, so
    23,000 + 2,025 = 25,025 crosses the cap. With 440 nodes (1,980) it would not."""
    start, _ = _period_start()
    enforcer.gke.pools["cpu"].per_zone = 440 // 3 + 1  # 147 x 3 = 441 nodes: 1,984.5
    assert enforcer.notify("23000.00", start=start) == "nothing"
    enforcer.gke.pools["cpu"].per_zone = 150
    assert enforcer.notify("23000.00", start=start) == "cap"
    assert _changes(enforcer)[:4] == CAPPING


def test_out_of_order_messages_are_ignored(enforcer: Enforcer) -> None:
    """Last period's final notification, over the cap, arriving late: it must not cap this
    period, and once this period is capped, an older one changes nothing either."""
    old, _ = _period_start(months_ago=1)
    assert enforcer.notify("26000.00", start=old, exceeded=1.0) == "nothing"
    assert enforcer.gke.changes() == []
    start, _ = _period_start()
    assert enforcer.notify("25001.00", start=start, exceeded=1.0) == "cap"
    count = len(enforcer.gke.changes())
    assert enforcer.notify("100.00", start=old) == "nothing"
    assert len(enforcer.gke.changes()) == count


def test_malformed_messages_are_acknowledged_and_logged(enforcer: Enforcer) -> None:
    attributes = {"budgetId": "x", "schemaVersion": "1.0", "billingAccountId": "b"}
    assert enforcer.publish(b"not json at all", **attributes) == "malformed"
    assert enforcer.publish(json.dumps({"costAmount": 1}).encode(), **attributes) == "malformed"
    assert enforcer.publish(b"{}", budgetId="x", schemaVersion="2.0") == "malformed"
    assert enforcer.gke.calls == []
    assert any("ignored a malformed message" in line for line in enforcer.outcomes.lines)
    # nothing was redelivered: one outcome per message (acknowledged, no retry storm)
    handled = [line for line in enforcer.outcomes.lines if line.startswith("message ")]
    assert len(handled) == 3


def test_another_budgets_messages_are_ignored(enforcer: Enforcer) -> None:
    start, _ = _period_start()
    other = enforcer.notify("99999.00", start=start, budget_id="another-budget", exceeded=1.0)
    assert other == "other budget"
    assert enforcer.gke.calls == []


def test_a_new_period_below_the_cap_lifts_it_and_restores_the_plans_autoscaling(
    enforcer: Enforcer,
) -> None:
    start, _ = _period_start()
    assert enforcer.notify("25010.00", start=start, exceeded=1.0) == "cap"
    capped = len(enforcer.gke.changes())
    following, _ = _next_period()
    assert enforcer.notify("12.00", start=following) == "lift"
    lifted = _changes(enforcer)[capped:]
    # the client sends enums as numbers (enum-encoding=int): ANY is 2 in GKE's proto; a
    # minimum of 0 is proto3's default and not sent
    any_ = container_v1.NodePoolAutoscaling.LocationPolicy.ANY.value
    assert lifted[:2] == [
        (
            "POST",
            f"{CLUSTER}/nodePools/cpu:setAutoscaling",
            {"autoscaling": {"enabled": True, "totalMaxNodeCount": 1250, "locationPolicy": any_}},
        ),
        (
            "POST",
            f"{CLUSTER}/nodePools/gpu:setAutoscaling",
            {"autoscaling": {"enabled": True, "totalMaxNodeCount": 16, "locationPolicy": any_}},
        ),
    ]
    assert lifted[2][1] == f"{CLUSTER}:setResourceLabels"
    assert "gridcloud-cap" not in enforcer.gke.labels
    assert enforcer.gke.labels == {"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp"}


def test_a_new_period_without_restoring_keeps_the_pools_at_zero(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.enforcer.conftest import SETTINGS

    monkeypatch.setenv("GRIDCLOUD_CAP", json.dumps({**SETTINGS, "restoreOnNewPeriod": False}))
    start, period = _period_start()
    assert enforcer.notify("25010.00", start=start, exceeded=1.0) == "cap"
    count = len(enforcer.gke.changes())
    following, _ = _next_period()
    assert enforcer.notify("12.00", start=following) == "nothing"
    assert len(enforcer.gke.changes()) == count
    assert enforcer.gke.labels["gridcloud-cap"] == period


def test_the_message_format_is_cloud_billings() -> None:
    """The parser reads what Cloud Billing documents, and refuses what it does not send."""
    from gridcloud.enforcer.decide import MalformedError, parse

    data = base64.b64encode(
        json.dumps(
            {
                "budgetDisplayName": "name",
                "alertThresholdExceeded": 1.0,
                "costAmount": 140.321,
                "costIntervalStart": "2026-11-01T07:00:00Z",
                "budgetAmount": 152.557,
                "budgetAmountType": "SPECIFIED_AMOUNT",
                "currencyCode": "USD",
            }
        ).encode()
    )
    note = parse(data, {"schemaVersion": "1.0", "budgetId": "b", "billingAccountId": "a"})
    assert (str(note.cost), note.period, note.currency) == ("140.321", "2026-11", "USD")
    with pytest.raises(MalformedError, match="budgetId"):
        parse(data, {"schemaVersion": "1.0"})
