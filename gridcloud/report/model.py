"""The cost report, assembled from the query's rows: month to date by pool, by service, by
user and by day; gross, credits and net (net = gross + credits, credits being negative);
idle capacity; burn rate and forecast against the budget; cost per core-hour."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from gridcloud.cost.money import Amount, Rate
from gridcloud.plan.frozen import Frozen

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gridcloud.plan import Plan
    from gridcloud.report.source import Row

UNALLOCATED = "kube:unallocated"
SYSTEM = "kube:system-overhead"
#: What the namespace-less and the buckets are called in the report.
NOT_A_POD = "(outside the cluster's pods)"
NOT_A_NODE = "(not a node)"


class Part(Frozen):
    name: str
    gross: Amount
    credits: Amount
    net: Amount


class Day(Frozen):
    day: date
    gross: Amount
    credits: Amount
    net: Amount


class CostReport(Frozen):
    facility: str
    project: str
    cluster: str
    month: str
    source: str
    currency: str
    gross: Amount
    credits: Amount
    net: Amount
    line_items: int
    by_pool: tuple[Part, ...]
    by_service: tuple[Part, ...]
    by_user: tuple[Part, ...]
    by_day: tuple[Day, ...]
    idle: Amount
    """Capacity paid for that no pod requested (GKE's ``kube:unallocated``)."""
    days_elapsed: int
    days_in_month: int
    burn_per_day: Amount | None
    forecast: Amount | None
    """Month to date plus the burn rate over the days left."""
    budget: Amount | None
    core_hours: Decimal
    per_core_hour: Rate | None

    @property
    def daily_budget(self) -> Decimal | None:
        return None if self.budget is None else self.budget / self.days_in_month


def _parts(rows: Iterable[Row], key: Callable[[Row], str | None]) -> tuple[Part, ...]:
    sums: dict[str, list[Decimal]] = {}
    for row in rows:
        name = key(row)
        if name is None:
            continue
        total = sums.setdefault(name, [Decimal(0), Decimal(0)])
        total[0] += row.gross
        total[1] += row.credits
    parts = [Part(name=n, gross=g, credits=c, net=g + c) for n, (g, c) in sums.items()]
    return tuple(sorted(parts, key=lambda p: (-p.net, p.name)))


def services_of(plan: Plan) -> dict[str, str]:
    """Namespace -> the service that runs there."""
    names = {"gridSite": "grid site", "reana": "REANA", "jupyter": "JupyterHub and Dask"}
    found = {r.namespace: names.get(r.service, r.service) for r in plan.services.releases}
    if plan.services.grid_site is not None:
        found[plan.services.grid_site.namespace] = "grid site"
    return found | {UNALLOCATED: "idle capacity (unallocated)", SYSTEM: "system overhead"}


def assemble(plan: Plan, rows: list[Row], *, month: date, source: str, today: date) -> CostReport:
    assert plan.target.provider == "gcp"
    assert plan.cluster is not None
    services = services_of(plan)
    gross = sum((r.gross for r in rows), Decimal(0))
    credits = sum((r.credits for r in rows), Decimal(0))
    net = gross + credits
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    if (today.year, today.month) == (month.year, month.month):
        elapsed = today.day
    elif today < month:
        elapsed = 0
    else:
        elapsed = days_in_month
    days: dict[date, list[Decimal]] = {}
    for row in rows:
        total = days.setdefault(row.day, [Decimal(0), Decimal(0)])
        total[0] += row.gross
        total[1] += row.credits
    burn = net / elapsed if elapsed else None
    forecast = None if burn is None else net + burn * (days_in_month - elapsed)
    core_hours = sum((r.core_hours for r in rows), Decimal(0))
    return CostReport(
        facility=plan.name,
        project=plan.target.project,
        cluster=plan.cluster.name,
        month=month.strftime("%Y-%m"),
        source=source,
        currency=plan.budget.currency if plan.budget else "USD",
        gross=gross,
        credits=credits,
        net=net,
        line_items=sum(r.line_items for r in rows),
        by_pool=_parts(rows, lambda r: r.pool or NOT_A_NODE),
        by_service=_parts(
            rows,
            lambda r: services.get(r.namespace, r.namespace) if r.namespace else NOT_A_POD,
        ),
        by_user=_parts(rows, lambda r: r.username),
        by_day=tuple(
            Day(day=d, gross=g, credits=c, net=g + c) for d, (g, c) in sorted(days.items())
        ),
        idle=sum((r.gross + r.credits for r in rows if r.namespace == UNALLOCATED), Decimal(0)),
        days_elapsed=elapsed,
        days_in_month=days_in_month,
        burn_per_day=burn,
        forecast=forecast,
        budget=plan.budget.monthly if plan.budget else None,
        core_hours=core_hours,
        per_core_hour=net / core_hours if core_hours else None,
    )
