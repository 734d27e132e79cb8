"""What to do with one budget notification: pure, no I/O.

A notification (Cloud Billing's programmatic budget notification, schema 1.0) carries the
spend Google has seen so far this period (``costAmount``), which lags the real spend by
hours. The cap adds what the report cannot see yet: each elastic pool's current nodes times
its node-hour price over ``lag_hours``. When that crosses the cap, the pools go to zero and
the cluster is labelled with the period; later notifications of the period change nothing.
A notification of a later period below the cap lifts it (and restores the pools'
autoscaling when the profile says so); one of an earlier period is out of order and ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gridcloud.enforcer.config import Settings

#: Budget periods start at midnight Pacific time (07:00 or 08:00 UTC): shifting the period's
#: start forward, and the clock back by Pacific time's two offsets, names the months without
#: a time zone database.
_START_SHIFT = timedelta(hours=12)
_PACIFIC = (timedelta(hours=7), timedelta(hours=8))


class MalformedError(ValueError):
    """The message is not a budget notification gridcloud can read."""


@dataclass(frozen=True)
class Notification:
    budget_id: str
    cost: Decimal
    budget_amount: Decimal
    currency: str
    period_start: datetime

    @property
    def period(self) -> str:
        """The period as a label value: the month it belongs to, ``2026-11``."""
        return (self.period_start + _START_SHIFT).strftime("%Y-%m")


def parse(data: str | bytes | None, attributes: dict[str, str] | None) -> Notification:
    """A Pub/Sub message's base64 data and attributes, as Cloud Billing sends them."""
    attributes = attributes or {}
    if attributes.get("schemaVersion") != "1.0":
        raise MalformedError(f"schemaVersion {attributes.get('schemaVersion')!r}, not '1.0'")
    budget_id = attributes.get("budgetId")
    if not budget_id:
        raise MalformedError("no budgetId attribute")
    try:
        raw = base64.b64decode(data or b"", validate=True)
        body: Any = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise MalformedError(f"data is not base64 JSON: {error}") from None
    if not isinstance(body, dict):
        raise MalformedError("data is not a JSON object")
    try:
        start = datetime.fromisoformat(str(body["costIntervalStart"]).replace("Z", "+00:00"))
        return Notification(
            budget_id=budget_id,
            cost=Decimal(str(body["costAmount"])),
            budget_amount=Decimal(str(body["budgetAmount"])),
            currency=str(body["currencyCode"]),
            period_start=start,
        )
    except (KeyError, ValueError, InvalidOperation) as error:
        raise MalformedError(f"missing or bad field: {error}") from None


@dataclass(frozen=True)
class Decision:
    action: Literal["cap", "lift", "nothing"]
    reason: str
    restore: bool = False
    """With ``lift``: give the pools back their autoscaling."""
    projected: Decimal | None = None


def unseen_cost(settings: Settings, nodes: dict[str, int]) -> Decimal:
    """What the running pools cost over the billing lag: not in the report yet."""
    hourly = sum((p.node_hourly * nodes.get(p.name, 0) for p in settings.pools), Decimal(0))
    return hourly * settings.lag_hours


def current_periods(now: datetime) -> set[str]:
    """The period it is now (two around midnight Pacific, whichever offset is in force)."""
    return {(now - offset).strftime("%Y-%m") for offset in _PACIFIC}


def decide(
    note: Notification,
    settings: Settings,
    *,
    capped: str | None,
    nodes: dict[str, int],
    now: datetime,
) -> Decision:
    """``note``: one of this facility's budget (``main.handle`` drops the others before
    anything is read); ``capped``: the period a cap is in force for (the cluster's label),
    or None."""
    if note.period not in current_periods(now) and (capped is None or note.period <= capped):
        return Decision("nothing", f"a notification of period {note.period}, out of order: ignored")
    projected = note.cost + unseen_cost(settings, nodes)
    over = projected >= settings.amount
    figures = (
        f"reported {note.cost} + running pools over {settings.lag_hours} h "
        f"{projected - note.cost:.2f} = {projected:.2f} {note.currency} against the cap "
        f"{settings.amount}"
    )
    if capped is not None and note.period == capped:
        return Decision(
            "nothing", f"cap already in force for {capped}: {figures}", projected=projected
        )
    if capped is not None and note.period > capped:
        if over:
            return Decision(
                "cap", f"new period {note.period}, over again: {figures}", projected=projected
            )
        return Decision(
            "lift",
            f"new period {note.period} below the cap: {figures}",
            restore=settings.restore_on_new_period,
            projected=projected,
        )
    if over:
        return Decision("cap", figures, projected=projected)
    return Decision("nothing", f"below the cap: {figures}", projected=projected)
