"""Money: Decimal US dollars, rounded here and nowhere else."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

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
