"""Any message, never an exception: Cloud Billing's notification mutated at every field (wrong
types, NaN and infinite numbers, huge and tiny ones, times out of range or without a zone,
unicode), arbitrary data and attributes of any shape. ``parse`` gives a notification or a
``MalformedError``; ``screen`` and ``decide`` take whatever it gives without raising; and the
handler, given the whole event, returns an outcome (no GKE call is made: the budget ID never
matches, or the period is refused, or the message is malformed).

The number of generated cases: ``GRIDCLOUD_FUZZ_EXAMPLES`` (default 1,000)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcloud.enforcer.decide import MalformedError, Notification, decide, parse, screen
from gridcloud.enforcer.main import handle
from tests.enforcer.conftest import SETTINGS

EXAMPLES = int(os.environ.get("GRIDCLOUD_FUZZ_EXAMPLES", "1000"))
NOW = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
BODY: dict[str, Any] = {
    "budgetDisplayName": "gridcloud atlas-gcp",
    "alertThresholdExceeded": 1.0,
    "costAmount": 25010.5,
    "costIntervalStart": "2026-12-01T08:00:00Z",
    "budgetAmount": 25000.0,
    "budgetAmountType": "SPECIFIED_AMOUNT",
    "currencyCode": "USD",
}
ATTRIBUTES = {"schemaVersion": "1.0", "budgetId": "b", "billingAccountId": "a"}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ODD_VALUES = st.one_of(
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            -float("inf"),
            1e308,
            -1e308,
            5e-324,
            10**19,
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2026-12-01T08:00:00",
            "2026-12-01T08:00:00+14:00",
            "2026-13-01T08:00:00Z",
            "USD ",
            "usd",
            "JPY",
            "",
        ]
    ),
    JSON,
)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """Cloud Billing's body with one to three fields given odd values or removed: most
    parse up to the odd field, so each check in the parser is reached."""
    body: dict[str, Any] = dict(BODY)
    for key in draw(st.sets(st.sampled_from(sorted(BODY)), min_size=1, max_size=3)):
        if draw(st.integers(0, 4)):
            body[key] = draw(ODD_VALUES)
        else:
            del body[key]
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not an object at all
    return body


def encoded(body: Any) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode()


DATA = st.one_of(
    mutated_bodies().map(encoded),
    mutated_bodies().map(encoded),
    mutated_bodies().map(lambda b: encoded(b).encode()),
    st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=40),
    JSON,
    st.just("W" * 10 + "[" * 5000),
    st.just(base64.b64encode(b"[" * 100_000).decode()),
)
ATTRS = st.one_of(
    st.dictionaries(st.sampled_from(sorted(ATTRIBUTES)), ODD_VALUES, max_size=3).map(
        lambda odd: {**ATTRIBUTES, **odd}
    ),
    st.just(ATTRIBUTES),
    JSON,
)
LABELS = st.one_of(st.none(), st.sampled_from(["2026-11", "2026-12", "2027-01", "yes", ""]))
NODES = st.dictionaries(
    st.tuples(st.sampled_from(["home", "s1", ""]), st.sampled_from(["cpu", "gpu", "other"])),
    st.integers(min_value=0, max_value=10**6),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=DATA, attributes=ATTRS, capped=LABELS, nodes=NODES)
def test_the_parser_and_the_decision_never_raise(
    data: Any, attributes: Any, capped: str | None, nodes: dict[tuple[str, str], int]
) -> None:
    note: Notification | MalformedError
    try:
        note = parse(data, attributes)
    except MalformedError as error:
        note = error
    if isinstance(note, MalformedError):
        assert str(note)  # says what is wrong
        return
    verdict = screen(note, SETTINGS, NOW)
    assert verdict.outcome in {"accept", "ignore", "refuse"}
    decision = decide(note, SETTINGS, capped=capped, nodes=nodes)
    assert decision.action in {"cap", "reassert", "lift", "nothing"}


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None)
@given(
    event=st.one_of(
        JSON,
        st.fixed_dictionaries({"message": JSON}),
        DATA.map(lambda d: {"message": {"data": d, "attributes": ATTRIBUTES, "messageId": d}}),
    )
)
def test_the_handler_returns_an_outcome_for_any_event(event: Any) -> None:
    """The budget ID ``b`` is not this facility's: a message that parses stops there, so no
    GKE call is ever attempted."""
    outcome = handle(event, replace(SETTINGS, budget_id="this-facility"), now=NOW)
    assert outcome in {"malformed", "other budget"}
