"""The lag allowance and the budget's currency: the pools' prices are the catalog's, in USD;
they are added to a notification's costAmount only when it is in USD too. Pure (no emulator):
the notification as Cloud Billing publishes it, read by the enforcer's own parser."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from gridcloud.enforcer.decide import PRICES_CURRENCY, decide, parse, screen
from tests.enforcer.conftest import BUDGET_ID, SETTINGS, period


def _notification(cost: str, currency: str) -> tuple[bytes, dict[str, str]]:
    start, _ = period()
    body = {
        "budgetDisplayName": "gridcloud atlas-gcp",
        "alertThresholdExceeded": 0.9,
        "costAmount": float(cost),
        "costIntervalStart": start,
        "budgetAmount": 25000.0,
        "budgetAmountType": "SPECIFIED_AMOUNT",
        "currencyCode": currency,
    }
    attributes = {
        "schemaVersion": "1.0",
        "billingAccountId": "012345-6789AB-CDEF01",
        "budgetId": BUDGET_ID,
    }
    return base64.b64encode(json.dumps(body).encode()), attributes


#: 450 cpu nodes at 0.75 USD a node-hour over 6 hours: 2,025 USD not reported yet
RUNNING = {("home", "cpu"): 450, ("home", "gpu"): 0}


def test_the_allowance_is_added_to_a_notification_in_the_prices_currency() -> None:
    assert PRICES_CURRENCY == "USD"
    note = parse(*_notification("23000", "USD"))
    assert screen(note, SETTINGS, datetime.now(UTC)).outcome == "accept"
    decision = decide(note, SETTINGS, capped=None, nodes=RUNNING)
    # 23,000 + 2,025 = 25,025 >= 25,000
    assert (decision.action, decision.projected) == ("cap", Decimal("25025.00"))


def test_usd_prices_are_never_added_to_a_cost_in_euros() -> None:
    """A budget of 25,000 EUR: 23,000 EUR reported. Adding the 2,025 USD allowance would give
    25,025 of no currency and cap the pools; left out, 23,000 EUR is below the cap, and the
    reason says why the allowance is missing."""
    in_euros = replace(SETTINGS, currency="EUR")
    note = parse(*_notification("23000", "EUR"))
    assert screen(note, in_euros, datetime.now(UTC)).outcome == "accept"
    decision = decide(note, in_euros, capped=None, nodes=RUNNING)
    assert (decision.action, decision.projected) == ("nothing", Decimal("23000.0"))
    assert "no lag allowance: the pools' prices are in USD, the notification in EUR" in (
        decision.reason
    )
    # over the cap on the reported figure alone, it still caps
    over = decide(parse(*_notification("25000", "EUR")), in_euros, capped=None, nodes=RUNNING)
    assert over.action == "cap"
