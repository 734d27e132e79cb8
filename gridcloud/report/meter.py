"""The spending meter's month beside the bill: each user's live figure (the meter in the hub's
pod, ``GET /spend?month=YYYY-MM`` saved to a file) and what the billing export attributes to
the same user label, with the difference (docs/spending.md: why they differ).

The meter keys users by their label value, the one the export carries
(``k8s-label/hub.jupyter.org/username``), so both sides name a user the same way.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from gridcloud.errors import InputError
from gridcloud.frozen import Frozen
from gridcloud.money import Amount

if TYPE_CHECKING:
    from pathlib import Path

    from rich.table import Table

    from gridcloud.report.model import CostReport

HINT = (
    "save the meter's month with `kubectl exec -n <namespace> deploy/hub -- python3 -c "
    "\"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8765/spend"
    "?month=YYYY-MM').read().decode())\" > meter.json` (docs/spending.md)"
)


class Reconciled(Frozen):
    user: str
    meter: Amount
    """The live meter's month to date (list prices, the pod's largest share of its node)."""
    bill: Amount
    """The billing export's net for the same user label."""
    difference: Amount
    """meter - bill."""


def read_meter(path: Path, month: str) -> dict[str, Decimal]:
    """The users' figures in a saved ``GET /spend`` answer for ``month``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"--meter {path}: cannot read it ({error.strerror})", hint=HINT) from None
    except ValueError:
        raise InputError(f"--meter {path}: not JSON", hint=HINT) from None
    users = data.get("user") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise InputError(
            f"--meter {path}: not the meter's month (no 'user' figures)", hint=HINT
        ) from None
    if data.get("month") != month:
        raise InputError(
            f"--meter {path}: the meter's month is {str(data.get('month'))[:20]!r}, the "
            f"report's {month}",
            hint="save the meter's answer for the report's month (?month=" + month + ")",
        )
    figures = {}
    for name, value in users.items():
        try:
            figure = Decimal(str(value))
        except InvalidOperation:
            figure = Decimal("NaN")
        if not figure.is_finite() or not isinstance(name, str):
            raise InputError(f"--meter {path}: a user's figure is not an amount", hint=HINT)
        figures[name] = figure
    return figures


def reconcile(report: CostReport, meter: dict[str, Decimal]) -> tuple[Reconciled, ...]:
    """Every user either side names, meter and bill, largest difference first."""
    bill = {part.name: part.net for part in report.by_user}
    users = sorted((set(meter) | set(bill)) - {u for u in bill if u.startswith("(")})
    rows = [
        Reconciled(
            user=user,
            meter=meter.get(user, Decimal(0)),
            bill=bill.get(user, Decimal(0)),
            difference=meter.get(user, Decimal(0)) - bill.get(user, Decimal(0)),
        )
        for user in users
    ]
    return tuple(sorted(rows, key=lambda r: (-abs(r.difference), r.user)))


def table(rows: tuple[Reconciled, ...], currency: str) -> Table:
    from rich.table import Table

    from gridcloud.report.render import amount, cell

    shown = Table(
        title="the live meter against the bill, by user (the meter: list prices, as pods ran)",
        title_justify="left",
    )
    shown.add_column("user")
    for column in ("meter", "bill (net)", "difference"):
        shown.add_column(column, justify="right")
    for row in rows:
        shown.add_row(
            cell(row.user),
            amount(row.meter, currency),
            amount(row.bill, currency),
            amount(row.difference, currency),
        )
    return shown
