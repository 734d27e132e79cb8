"""Money: Decimal amounts, rounded here and shown here, and nowhere else.

A leaf module (nothing of gridcloud imported): the Plan, the estimate, the reports and the
tables all round through it, and every amount a person reads is written by :func:`shown`, in
its currency.
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


#: How money is written in a currency that has a sign people know; others after the number.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
#: Currencies without a minor unit (ISO 4217 exponent 0): a yen has no cents.
WHOLE_UNITS = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)


def minor_digits(currency: str) -> int:
    """The digits after the point an amount in ``currency`` is shown with."""
    return 0 if currency in WHOLE_UNITS else 2


def shown(value: Decimal | None, currency: str = "USD", *, per_unit: bool = False) -> str:
    """An amount as a person reads it, rounded half up once, here: ``$919.87``, ``-$12.50``
    (a credit), ``€1,234.00``, ``¥1,235``, ``1,234.56 CHF``; a price per unit (per node-hour,
    per core-hour) two digits finer: ``$0.0440``, ``¥4.40``. ``unknown`` for a figure a
    missing price leaves open."""
    if value is None:
        return "unknown"
    digits = minor_digits(currency) + (2 if per_unit else 0)
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    number = f"{abs(rounded):,}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
