"""Money: Decimal US dollars, rounded here and nowhere else.

A leaf module (nothing of gridcloud imported): the Plan, the estimate, the reports and the
tables all round through it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import PlainSerializer

if TYPE_CHECKING:
    from collections.abc import Callable

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def amount(value: Decimal) -> Decimal:
    """An amount of money, to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rate(value: Decimal) -> Decimal:
    """A price per unit (per node-hour, per core-hour), to a hundredth of a cent."""
    return value.quantize(RATE, rounding=ROUND_HALF_UP)


def hours(value: Decimal) -> Decimal:
    """A duration in hours, to a tenth."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rounded(round_: Callable[[Decimal], Decimal]) -> PlainSerializer:
    def serialize(value: Decimal | None) -> str | None:
        return None if value is None else str(round_(value))

    return PlainSerializer(serialize, when_used="json")


#: Exact in the model, rounded once where it leaves it (JSON; the tables round themselves).
Amount = Annotated[Decimal, _rounded(amount)]
Rate = Annotated[Decimal, _rounded(rate)]
Hours = Annotated[Decimal, _rounded(hours)]
