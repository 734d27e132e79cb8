"""How money is written for people: one formatter (gridcloud.money.shown) for the plan's
tables, the cost report and the budget verdict, the rules worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gridcloud import money

D = Decimal


@pytest.mark.parametrize(
    ("value", "currency", "per_unit", "expected"),
    [
        # an amount to the cent, half up; thousands separated
        (D("919.865"), "USD", False, "$919.87"),
        (D("919.864"), "USD", False, "$919.86"),
        (D("1234567.891"), "USD", False, "$1,234,567.89"),
        (D("0"), "USD", False, "$0.00"),
        # a price per unit to a hundredth of a cent: 0.044 a node-hour is not $0.04
        (D("0.044"), "USD", True, "$0.0440"),
        (D("0.04405"), "USD", True, "$0.0441"),
        (D("1234.5"), "USD", True, "$1,234.5000"),
        # a credit: the sign before the symbol; nothing left after rounding is no credit
        (D("-12.5"), "USD", False, "-$12.50"),
        (D("-1234.567"), "EUR", False, "-€1,234.57"),
        (D("-0.004"), "USD", False, "$0.00"),
        # other currencies: their sign where people know one, else the code after the number
        (D("1234"), "EUR", False, "€1,234.00"),
        (D("1234.5"), "GBP", False, "£1,234.50"),
        (D("1234.5"), "CHF", False, "1,234.50 CHF"),
        (D("-3.2"), "CHF", False, "-3.20 CHF"),
        # the yen has no minor unit: whole yen, and a per-unit price to a hundredth
        (D("1234.5"), "JPY", False, "¥1,235"),
        (D("-1234.4"), "JPY", False, "-¥1,234"),
        (D("6.6049"), "JPY", True, "¥6.60"),
        (D("98765.4"), "KRW", False, "98,765 KRW"),
    ],
)
def test_money_as_people_read_it(
    value: Decimal, currency: str, per_unit: bool, expected: str
) -> None:
    assert money.shown(value, currency, per_unit=per_unit) == expected


def test_an_unknown_figure_is_said_so() -> None:
    assert money.shown(None, "EUR") == "unknown"


def test_the_three_places_that_show_money_agree() -> None:
    """The plan's tables, the cost report and the budget verdict write the same amount the
    same way (they used to disagree: `$-12.50` against `-$12.50`, `1,234 JPY` against
    `¥1,234.00`)."""
    from gridcloud.cli.tables import usd
    from gridcloud.report.render import amount, per_unit

    for value, currency in ((D("-12.5"), "USD"), (D("1234.5"), "JPY"), (D("7"), "CHF")):
        assert usd(value, currency) == amount(value, currency) == money.shown(value, currency)
    assert usd(D("0.044"), "USD", per_unit=True) == per_unit(D("0.044"), "USD") == "$0.0440"
