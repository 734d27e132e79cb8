"""``services.jupyter.spending``: monthly limits in dollars per hub user and per group.

A user's notebooks and Dask clusters are charged to the user and to one group: the first of
the groups listed here (``groups``), then of ``oidc.allowedGroups``, that the user is in
(the groups come from the provider's groups claim). A limit left out is no limit.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from gridcloud.profile.base import Model

Dollars = Annotated[Decimal, Field(ge=0, le=100_000_000, decimal_places=2)]


class Spending(Model):
    """Monthly spending limits in US dollars, per user and per group (docs/spending.md)."""

    user_monthly: Dollars | None = None
    """Every user's limit a month, unless ``users`` names theirs. Default: none."""
    group_monthly: Dollars | None = None
    """Every group's limit a month (the groups of ``groups`` and ``oidc.allowedGroups``),
    unless ``groups`` names theirs. Default: none."""
    users: dict[Annotated[str, Field(min_length=1, max_length=256)], Dollars] = Field(
        default_factory=dict
    )
    """Limits of named users (the hub's usernames), over ``userMonthly``."""
    groups: dict[Annotated[str, Field(min_length=1, max_length=256)], Dollars] = Field(
        default_factory=dict
    )
    """Limits of named groups (as the groups claim names them), over ``groupMonthly``; a
    user in several is charged to the first listed here."""
    warn_at: Annotated[Decimal, Field(gt=0, le=1, decimal_places=2)] = Decimal("0.8")
    """The share of a limit at which the hub warns the user."""

    @property
    def limited(self) -> bool:
        return bool(
            self.user_monthly is not None
            or self.group_monthly is not None
            or self.users
            or self.groups
        )
