"""Money: :mod:`gridcloud.money` (a leaf module the Plan uses too), under its older name."""

from __future__ import annotations

from gridcloud.money import CENT, RATE, Amount, Hours, Rate, amount, hours, rate

__all__ = ["CENT", "RATE", "Amount", "Hours", "Rate", "amount", "hours", "rate"]
