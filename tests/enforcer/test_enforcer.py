"""The hard cap, end to end on real parts: Cloud Billing's notifications published to the
Pub/Sub emulator, pushed to the function under functions-framework, which calls the (fake)
GKE API. The cap is 25,000 USD; the running pools (fake_gke) cost 0.75 USD a node-hour (cpu)
and 0.25 (gpu), over a billing lag of 6 hours."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from google.cloud import container_v1

from tests.enforcer.conftest import BUDGET_ID, SETTINGS, Enforcer, period, use_settings

pytestmark = pytest.mark.integration

CLUSTER = "/projects/atlas-analysis-facility/locations/us-central1-a/clusters/atlas-gcp"


CAPPING = [
    ("POST", f"{CLUSTER}/nodePools/cpu:setAutoscaling", {"autoscaling": {}}),
    ("POST", f"{CLUSTER}/nodePools/cpu:setSize", {}),
    ("POST", f"{CLUSTER}/nodePools/gpu:setAutoscaling", {"autoscaling": {}}),
]
"""The cap's changes for the running cpu pool and the empty gpu pool (at zero already: no
resize), before the label."""


def _changes(enforcer: Enforcer) -> list[tuple[str, str, dict[str, object] | None]]:
    """The changing calls, without the name the client repeats in each body."""
    return [
        (m, p, {k: v for k, v in (b or {}).items() if k != "name"})
        for m, p, b in enforcer.gke.changes()
    ]


def _capped(enforcer: Enforcer, label: str) -> None:
    """What a cap in force looks like on the cluster: autoscaling off, zero nodes, the label."""
    for name in ("cpu", "gpu"):
        enforcer.gke.pools[name].autoscaling = {}
        enforcer.gke.pools[name].per_zone = 0
    enforcer.gke.labels["gridcloud-cap"] = label


def _assert_cap_in_force(enforcer: Enforcer, label: str) -> None:
    for name in ("cpu", "gpu"):
        pool = enforcer.gke.pools[name]
        assert (pool.per_zone, bool(pool.autoscaling.get("enabled"))) == (0, False), name
    assert enforcer.gke.labels["gridcloud-cap"] == label
    assert enforcer.gke.pools["control"].per_zone == 1


def test_below_the_cap_nothing_changes(enforcer: Enforcer) -> None:
    assert enforcer.notify("12000.00", exceeded=0.4) == "nothing"
    assert enforcer.gke.changes() == []


def test_crossing_the_cap_scales_every_elastic_pool_to_zero_and_records_it(
    enforcer: Enforcer,
) -> None:
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 100  # 300 nodes running
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    changes = _changes(enforcer)
    assert changes[:3] == CAPPING
    assert changes[3][1] == f"{CLUSTER}:setResourceLabels"
    assert changes[3][2]["resourceLabels"] == {  # type: ignore[index]
        "managed-by": "gridcloud",
        "gridcloud-facility": "atlas-gcp",
        "gridcloud-cap": month,
    }
    assert len(changes) == 4
    # the control pool is never touched; the pools are at zero with autoscaling off
    assert not [c for c in changes if "control" in c[1]]
    _assert_cap_in_force(enforcer, month)
    # each operation was followed until done (the fake answers RUNNING once, then DONE)
    polls = [c for c in enforcer.gke.calls if "/operations/" in c[1]]
    assert len(polls) == 2 * 4


def test_repeats_change_nothing_once_the_cap_is_in_force(enforcer: Enforcer) -> None:
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    before = len(enforcer.gke.changes())
    # Cloud Billing repeats its notification several times a day; Pub/Sub may redeliver
    assert enforcer.notify("25010.00", exceeded=1.0) == "nothing"
    assert enforcer.notify("25600.00", exceeded=1.0) == "nothing"
    assert len(enforcer.gke.changes()) == before


def test_the_lag_allowance_tips_the_decision(enforcer: Enforcer) -> None:
    """Reported 23,000: 2,000 below the cap. The cpu pool runs 450 nodes (150 in each of
    three zones) at 0.75 USD: over 6 hours 450 x 0.75 x 6 = 2,025 not yet reported, so
    23,000 + 2,025 = 25,025 crosses the cap. With 440 nodes (1,980) it would not."""
    enforcer.gke.pools["cpu"].per_zone = 440 // 3 + 1  # 147 x 3 = 441 nodes: 1,984.5
    assert enforcer.notify("23000.00") == "nothing"
    enforcer.gke.pools["cpu"].per_zone = 150
    assert enforcer.notify("23000.00") == "cap"
    assert _changes(enforcer)[:3] == CAPPING


def test_out_of_order_messages_are_ignored(enforcer: Enforcer) -> None:
    """Last period's final notification, over the cap, arriving late: it must not cap this
    period, and once this period is capped, an older one changes nothing either."""
    old, _ = period(-1)
    assert enforcer.notify("26000.00", start=old, exceeded=1.0) == "nothing"
    assert enforcer.gke.calls == []
    assert enforcer.notify("25001.00", exceeded=1.0) == "cap"
    count = len(enforcer.gke.changes())
    assert enforcer.notify("100.00", start=old) == "nothing"
    assert len(enforcer.gke.changes()) == count


def test_malformed_messages_are_acknowledged_and_logged(enforcer: Enforcer) -> None:
    attributes = {"budgetId": "x", "schemaVersion": "1.0", "billingAccountId": "b"}
    assert enforcer.publish(b"not json at all", **attributes) == "malformed"
    assert enforcer.publish(json.dumps({"costAmount": 1}).encode(), **attributes) == "malformed"
    assert enforcer.publish(b"{}", budgetId="x", schemaVersion="2.0") == "malformed"
    # numbers no budget reaches, a time with no zone: not a notification
    body = {"costAmount": 1e300, "budgetAmount": 25000.0, "currencyCode": "USD"}
    for bad in (
        {**body, "costIntervalStart": period()[0]},
        {**body, "costAmount": 100.0, "costIntervalStart": "2026-12-01T08:00:00"},
    ):
        assert enforcer.publish(json.dumps(bad).encode(), **attributes) == "malformed"
    assert enforcer.gke.calls == []
    assert any("ignored a malformed message" in line for line in enforcer.outcomes.lines)
    # nothing was redelivered: one outcome per message (acknowledged, no retry storm)
    handled = [line for line in enforcer.outcomes.lines if line.startswith("message ")]
    assert len(handled) == 5


@pytest.mark.parametrize(
    "event",
    [
        {"message": {"data": 12345, "attributes": {"budgetId": BUDGET_ID, "schemaVersion": "1.0"}}},
        {"message": {"data": ["a"], "attributes": {"budgetId": BUDGET_ID, "schemaVersion": "1.0"}}},
        {"message": {"data": {"costAmount": 1}, "attributes": {"schemaVersion": "1.0"}}},
        {"message": {"data": "e30=", "attributes": ["budgetId", BUDGET_ID]}},
        {"message": {"data": "e30=", "attributes": "schemaVersion=1.0"}},
        {"message": {"data": "e30=", "attributes": {"budgetId": 7, "schemaVersion": "1.0"}}},
        {
            "message": {
                "data": "e30=",
                "attributes": {"budgetId": "b" * 5000, "schemaVersion": "1.0"},
            }
        },
        {"message": ["data", "e30="]},
        {"message": None},
        ["message"],
        "a string",
        None,
    ],
    ids=[
        "data-number",
        "data-list",
        "data-object",
        "attributes-list",
        "attributes-string",
        "budget-id-number",
        "budget-id-huge",
        "message-list",
        "message-null",
        "event-list",
        "event-string",
        "event-null",
    ],
)
def test_a_message_of_any_shape_is_acknowledged_without_an_exception(
    enforcer: Enforcer, event: object
) -> None:
    """Delivered as Eventarc delivers (a CloudEvent over HTTP to functions-framework): the
    function answers 200 (acknowledged) and logs the message as malformed; an exception
    would be a 500."""
    status, outcome = enforcer.post(event)
    assert (status, outcome) == (200, "malformed")
    assert enforcer.gke.calls == []


def test_another_budgets_messages_are_ignored(enforcer: Enforcer) -> None:
    other = enforcer.notify("99999.00", budget_id="another-budget", exceeded=1.0)
    assert other == "other budget"
    assert enforcer.gke.calls == []


def test_a_notification_in_another_currency_is_refused(enforcer: Enforcer) -> None:
    """30,000 JPY is about 200 USD: it must not cap a 25,000 USD budget, nor lift its cap."""
    assert enforcer.notify("30000", currency="JPY", exceeded=1.2) == "refused"
    assert enforcer.gke.calls == []
    _, last = period(-1)
    _capped(enforcer, last)
    assert enforcer.notify("10", currency="EUR") == "refused"
    assert enforcer.gke.calls == []
    _assert_cap_in_force(enforcer, last)
    refusals = [line for line in enforcer.outcomes.lines if "refused" in line]
    assert any("JPY, not the budget's USD" in line for line in refusals)
    assert any("EUR, not the budget's USD" in line for line in refusals)


@pytest.mark.parametrize("months", [1, 2, 12 * (2099 - datetime.now(UTC).year)])
def test_a_period_that_has_not_begun_neither_lifts_nor_caps(
    enforcer: Enforcer, months: int
) -> None:
    """Next month, the one after, 2099: no notification of them can be true yet."""
    start, month = period(months)
    _capped(enforcer, period()[1])
    assert enforcer.notify("12.00", start=start) == "refused"
    assert enforcer.gke.changes() == []
    _assert_cap_in_force(enforcer, period()[1])
    del enforcer.gke.labels["gridcloud-cap"]  # no cap in force: it does not cap either
    assert enforcer.notify("99000.00", start=start, exceeded=3.0) == "refused"
    assert enforcer.gke.changes() == []
    assert any(f"period {month}, which has not begun" in x for x in enforcer.outcomes.lines)


def test_a_new_period_below_the_cap_lifts_it_and_restores_the_plans_autoscaling(
    enforcer: Enforcer,
) -> None:
    _, last = period(-1)
    _capped(enforcer, last)  # capped last month
    assert enforcer.notify("12.00") == "lift"
    lifted = _changes(enforcer)
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
    assert len(lifted) == 3
    assert enforcer.gke.labels == {"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp"}
    # lifted: the next notification of the period changes nothing
    assert enforcer.notify("14.00") == "nothing"
    assert len(_changes(enforcer)) == 3


def test_a_new_period_without_restoring_keeps_the_cap_asserted(
    enforcer: Enforcer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, replace(SETTINGS, restore_on_new_period=False))
    _, last = period(-1)
    _capped(enforcer, last)
    assert enforcer.notify("12.00") == "nothing"
    assert enforcer.gke.changes() == []
    _assert_cap_in_force(enforcer, last)
    # until `up --lift-cap`, the pools are held at zero
    enforcer.gke.pools["gpu"].autoscaling = {"enabled": True, "totalMaxNodeCount": 16}
    assert enforcer.notify("13.00") == "repaired"
    _assert_cap_in_force(enforcer, last)


# --- a busy GKE: the cap converges -----------------------------------------------------------


def test_an_auto_repair_between_autoscaling_off_and_resize_delays_the_cap_only(
    enforcer: Enforcer, fast_retries: None
) -> None:
    """The issue's case: GKE starts an auto-repair on the cluster right after the cpu pool's
    autoscaling goes off; the resize is refused (FAILED_PRECONDITION) while it runs. Without
    retries the pool stayed at its size with autoscaling off and no label."""
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 100
    enforcer.gke.busy_after = {"cpu:setAutoscaling": 12}  # twelve requests' time
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    _assert_cap_in_force(enforcer, month)
    refused = [
        line for line in enforcer.outcomes.lines if "Cluster is running incompatible" in line
    ]
    assert refused, "the fake GKE never refused: the test did not test the retry"
    resizes = [c for c in enforcer.gke.changes() if c[1].endswith("cpu:setSize")]
    assert len(resizes) == len(refused) + 1  # refused, refused, ..., done


@pytest.mark.parametrize("fault", ["busy", "unavailable", "operation"])
@pytest.mark.parametrize("step", range(4), ids=["cpu-off", "cpu-zero", "gpu-off", "label"])
def test_each_step_failing_once_still_ends_in_the_cap(
    enforcer: Enforcer, fast_retries: None, step: int, fault: str
) -> None:
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 100
    enforcer.gke.faults = {step: fault}
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    _assert_cap_in_force(enforcer, month)
    assert enforcer.gke.faults == {}, "the fault was never met"
    assert len(enforcer.gke.changes()) == 5  # the four changes and the one retried


def test_a_label_changed_between_read_and_write_is_read_again_and_kept(
    enforcer: Enforcer, fast_retries: None
) -> None:
    """Someone labels the cluster just after the enforcer read it: GKE refuses the stale
    fingerprint (409 ABORTED); the enforcer reads again and keeps their label."""
    _, month = period()
    gke = enforcer.gke

    def relabel(method: str, path: str) -> None:
        """Once, after the read that precedes the label (the pools capped)."""
        capped = gke.pools["gpu"].autoscaling == {}
        if method == "GET" and path == CLUSTER and capped and "team" not in gke.labels:
            gke.labels = {**gke.labels, "team": "atlas"}
            gke.fingerprint += 1

    gke.hooks.append(relabel)
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    _assert_cap_in_force(enforcer, month)
    assert gke.labels["team"] == "atlas"
    labels = [c for c in gke.changes() if c[1].endswith(":setResourceLabels")]
    assert len(labels) == 2  # the stale one refused, then the one that kept "team"


def test_a_pool_scaled_back_by_hand_during_a_cap_is_scaled_to_zero_again(
    enforcer: Enforcer,
) -> None:
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 100
    assert enforcer.notify("25010.00", exceeded=1.0) == "cap"
    count = len(enforcer.gke.changes())
    # someone resizes cpu to 5 nodes a zone, and turns gpu's autoscaling back on
    enforcer.gke.pools["cpu"].per_zone = 5
    enforcer.gke.pools["gpu"].autoscaling = {"enabled": True, "totalMaxNodeCount": 16}
    assert enforcer.notify("25050.00", exceeded=1.0) == "repaired"
    assert [c[1] for c in _changes(enforcer)[count:]] == [
        f"{CLUSTER}/nodePools/cpu:setSize",
        f"{CLUSTER}/nodePools/gpu:setAutoscaling",
    ]
    _assert_cap_in_force(enforcer, month)
    # a cap half-done (the label set, a pool left running) is completed the same way
    enforcer.gke.pools["cpu"].autoscaling = {"enabled": True, "totalMaxNodeCount": 1250}
    assert enforcer.notify("25060.00") == "repaired"
    _assert_cap_in_force(enforcer, month)


def test_the_handler_gives_up_at_its_deadline_and_the_next_notification_finishes(
    enforcer: Enforcer, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GKE busy for longer than the function may run: the handler stops at its deadline
    (a 2 s function: 1.8 s), logs what is left, and the next notification completes the
    cap. Without a shared deadline the retries would run past the function's timeout."""
    use_settings(monkeypatch, replace(SETTINGS, timeout_seconds=2))
    _, month = period()
    enforcer.gke.pools["cpu"].per_zone = 100
    enforcer.gke.busy_after = {"cpu:setAutoscaling": -1}  # an upgrade that does not end
    assert enforcer.notify("25010.00", exceeded=1.0) == "failed"
    assert enforcer.gke.pools["cpu"].per_zone == 100
    assert "gridcloud-cap" not in enforcer.gke.labels
    assert any("deadline (2 s) reached" in line for line in enforcer.outcomes.lines)
    enforcer.gke.background.clear()  # the upgrade ends
    assert enforcer.notify("25020.00", exceeded=1.0) == "cap"
    _assert_cap_in_force(enforcer, month)


def test_an_operation_that_never_ends_is_waited_for_until_the_deadline_only(
    enforcer: Enforcer, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, replace(SETTINGS, timeout_seconds=2))
    enforcer.gke.faults = {0: "stuck"}
    assert enforcer.notify("25010.00", exceeded=1.0) == "failed"
    assert any("still running" in line for line in enforcer.outcomes.lines)


def test_the_handlers_deadline_is_below_the_functions_timeout() -> None:
    from gridcloud.enforcer.gke import Deadline

    # the Plan's 540 s: 30 s kept back; GKE's operations used to be waited for 600 s each
    assert Deadline.for_function(540).seconds == 510
    assert Deadline.for_function(2).seconds == pytest.approx(1.8)


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
