"""What to do with one budget notification: pure, no I/O.

A notification (Cloud Billing's programmatic budget notification, schema 1.0) carries the
spend Google has seen so far this period (``costAmount``), which lags the real spend by
hours. The cap adds what the report cannot see yet: each elastic pool's current nodes times
its node-hour price over ``lag_hours``, summed over every cluster of the facility (the home
one and its compute-only shards). When that crosses the cap, the pools of every cluster go
to zero and each cluster is labelled with the period.

The enforcer trusts only what can be true. ``parse`` reads any message without raising
anything but ``MalformedError`` (whatever the shape of its data and attributes);
``screen`` refuses a notification in another currency than the budget's, and acts only on
one of the current period (or of the next, up to ``CLOCK_SKEW`` early): a late one of an
earlier period is ignored, one of a later period is refused (it could lift a cap in force).
Every notification of the period while a cap is in force re-asserts it (pools at zero,
autoscaling off); one of a new period below the cap lifts it (restoring the pools'
autoscaling when the profile says so, else the cap stays asserted).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gridcloud.enforcer.config import Settings

#: Budget periods start at midnight Pacific time (07:00 or 08:00 UTC): shifting the period's
#: start forward, and the clock back by Pacific time's two offsets, names the months without
#: a time zone database.
_START_SHIFT = timedelta(hours=12)
_PACIFIC = (timedelta(hours=7), timedelta(hours=8))
#: How far ahead of the function's clock Cloud Billing's may be: a notification of the next
#: period is accepted this long before the period starts, never earlier.
CLOCK_SKEW = timedelta(minutes=15)
#: No budget reaches this (Cloud Billing's amounts are int64 units): a larger figure is not a
#: notification, and it would overflow the decimal arithmetic.
_LARGEST = Decimal(10) ** 18
_CURRENCY = re.compile(r"[A-Z]{3}")
#: The currency of the pools' node-hour prices in the settings: the catalog's (its MANIFEST,
#: Cloud Billing Catalog API's list prices, USD). Added only to a ``costAmount`` in the same
#: currency: a USD price added to a sum in yen or euros would be a figure in no currency.
PRICES_CURRENCY = "USD"
#: Data longer than this is not a budget notification (they are a few hundred bytes), nor is
#: a budget ID longer than this one (they are UUIDs).
_LONGEST = 64 * 1024
_LONGEST_ID = 128


class MalformedError(ValueError):
    """The message is not a budget notification gridcloud can read."""


@dataclass(frozen=True)
class Notification:
    budget_id: str
    cost: Decimal
    budget_amount: Decimal
    currency: str
    period_start: datetime
    period: str
    """The period as a label value: the month it belongs to, ``2026-11``."""


def _amount(body: dict[str, Any], key: str) -> Decimal:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedError(f"{key} is not a number: {_short(value)}")
    amount = Decimal(str(value))
    if not amount.is_finite() or not -_LARGEST < amount < _LARGEST:
        raise MalformedError(f"{key} is out of range: {_short(value)}")
    return amount


def _month(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def _short(value: object) -> str:
    """A value from a message, as logged: never more than a line."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def parse(data: object, attributes: object) -> Notification:
    """A Pub/Sub message's base64 data and attributes, as Cloud Billing sends them. Anything
    else raises ``MalformedError``, and nothing else."""
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise MalformedError(f"attributes are not a mapping: {_short(attributes)}")
    schema = attributes.get("schemaVersion")
    if schema != "1.0":
        raise MalformedError(f"schemaVersion {_short(schema)}, not '1.0'")
    budget_id = attributes.get("budgetId")
    if not isinstance(budget_id, str) or not 0 < len(budget_id) <= _LONGEST_ID:
        raise MalformedError(f"no budgetId attribute: {_short(budget_id)}")
    if data is None:
        data = b""
    if not isinstance(data, str | bytes):
        raise MalformedError(f"data is not a string: {_short(data)}")
    if len(data) > _LONGEST:
        raise MalformedError(f"data of {len(data)} characters: not a budget notification")
    try:
        raw = base64.b64decode(data, validate=True)
        body: Any = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as error:
        raise MalformedError(f"data is not base64 JSON: {_short(str(error))}") from None
    if not isinstance(body, dict):
        raise MalformedError("data is not a JSON object")
    currency = body.get("currencyCode")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise MalformedError(f"currencyCode is not a currency: {_short(currency)}")
    start = body.get("costIntervalStart")
    if not isinstance(start, str):
        raise MalformedError(f"costIntervalStart is not a time: {_short(start)}")
    try:
        period_start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        if period_start.utcoffset() is None:
            raise ValueError("no time zone")
        period = _month(period_start + _START_SHIFT)
    except (ValueError, OverflowError) as error:
        raise MalformedError(
            f"costIntervalStart {_short(start)} is not a time: {_short(str(error))}"
        ) from None
    return Notification(
        budget_id=budget_id,
        cost=_amount(body, "costAmount"),
        budget_amount=_amount(body, "budgetAmount"),
        currency=currency,
        period_start=period_start,
        period=period,
    )


@dataclass(frozen=True)
class Decision:
    action: Literal["cap", "reassert", "lift", "nothing"]
    """``cap``: pools to zero, label the period; ``reassert``: a cap in force, its pools
    made sure of (at zero, autoscaling off); ``lift``: autoscaling back, label off."""
    reason: str
    projected: Decimal | None = None


#: A pool of the facility: its cluster (``home`` or the shard's name) and its own name.
PoolKey = tuple[str, str]


def unseen_cost(settings: Settings, nodes: Mapping[PoolKey, int]) -> Decimal:
    """What the running pools of every cluster of the facility cost over the billing lag:
    not in the report yet."""
    hourly = sum(
        (p.node_hourly * nodes.get((c.shard, p.name), 0) for c, p in settings.pools),
        Decimal(0),
    )
    return hourly * settings.lag_hours


def current_periods(now: datetime) -> set[str]:
    """The periods a notification may be of now: the current one (two around midnight
    Pacific, whichever offset is in force), and the next from ``CLOCK_SKEW`` before it
    starts."""
    return {_month(at - offset) for offset in _PACIFIC for at in (now, now + CLOCK_SKEW)}


@dataclass(frozen=True)
class Verdict:
    """Whether a notification may be acted on at all, before anything is read from GKE."""

    outcome: Literal["accept", "ignore", "refuse"]
    reason: str = ""


def screen(note: Notification, settings: Settings, now: datetime) -> Verdict:
    """``note``: of this facility's budget (``main.handle`` drops the others). ``refuse``: it
    cannot be true (another currency, a later period), logged as a warning; ``ignore``: late
    and harmless (an earlier period)."""
    if note.currency != settings.currency:
        return Verdict(
            "refuse",
            f"a notification in {note.currency}, not the budget's {settings.currency} "
            f"(cost {note.cost}): refused",
        )
    periods = current_periods(now)
    if note.period in periods:
        return Verdict("accept")
    if note.period > max(periods):
        return Verdict(
            "refuse",
            f"a notification of period {note.period}, which has not begun "
            f"(now {now:%Y-%m-%d %H:%M} UTC): refused",
        )
    return Verdict("ignore", f"a notification of period {note.period}, out of order: ignored")


def decide(
    note: Notification,
    settings: Settings,
    *,
    capped: str | None,
    nodes: Mapping[PoolKey, int],
) -> Decision:
    """``note``: one ``screen`` accepted; ``capped``: the period a cap is in force for (the
    clusters' label), or None; ``nodes``: the enforced pools' current node counts, in every
    cluster of the facility, by (cluster, pool). The lag
    allowance (the running pools' prices, in :data:`PRICES_CURRENCY`) is added only to a
    notification in that currency; in another it is left out, and the reason says so."""
    if note.currency == PRICES_CURRENCY:
        projected = note.cost + unseen_cost(settings, nodes)
        figures = (
            f"reported {note.cost} + running pools over {settings.lag_hours} h "
            f"{projected - note.cost:.2f} = {projected:.2f} {note.currency} against the cap "
            f"{settings.amount}"
        )
    else:
        projected = note.cost
        figures = (
            f"reported {note.cost} {note.currency} against the cap {settings.amount} (no lag "
            f"allowance: the pools' prices are in {PRICES_CURRENCY}, the notification in "
            f"{note.currency})"
        )
    over = projected >= settings.amount
    if capped is None:
        if over:
            return Decision("cap", figures, projected=projected)
        return Decision("nothing", f"below the cap: {figures}", projected=projected)
    if note.period <= capped:
        return Decision("reassert", f"cap in force for {capped}: {figures}", projected=projected)
    if over:
        return Decision(
            "cap", f"new period {note.period}, over again: {figures}", projected=projected
        )
    if settings.restore_on_new_period:
        return Decision(
            "lift", f"new period {note.period} below the cap: {figures}", projected=projected
        )
    return Decision(
        "reassert",
        f"new period {note.period} below the cap, but the pools stay at zero until "
        f"`gridcloud up --lift-cap` (budget.restoreOnNewPeriod is false): {figures}",
        projected=projected,
    )
