"""The cost report, assembled from the query's rows (already summed by hour, pool, namespace,
user and service: a few thousand rows, never the export's line items): month to date by
pool, service, user, day and credit type; gross, credits and net (net = gross + credits,
credits being negative); idle capacity; burn rate and forecast against the budget; cost
per core-hour.

Time comes from the data: ``as_of`` is the end of the last hour that has rows (or
``--as-of``), and the days elapsed, the burn rate and the forecast are counted to it, never
to the wall clock; the wall clock only tells whether the data is late.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from gridcloud.frozen import Frozen
from gridcloud.money import Amount, Rate
from gridcloud.report.query import next_month

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gridcloud.report.source import Fetched, Row

UNALLOCATED = "kube:unallocated"
SYSTEM = "kube:system-overhead"
#: GKE cost allocation's namespace for SKUs it does not split by namespace.
UNSUPPORTED = "goog-k8s-unsupported-sku"
#: What the namespace-less and the buckets are called in the report.
NOT_A_POD = "(outside the cluster's pods)"
NOT_A_NODE = "(not a node)"
UNATTRIBUTED = "(unattributed: no hub user's pod)"
#: The home cluster's name in the report's shard breakdown (gridcloud/plan/shards.py's HOME).
HOME_SHARD = "home"
#: The export's credit types as people call them.
CREDIT_NAMES = {
    "PROMOTION": "promotions and research credits",
    "SUSTAINED_USAGE_DISCOUNT": "sustained use discounts",
    "COMMITTED_USAGE_DISCOUNT": "committed use discounts (resource)",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE": "committed use discounts (spend)",
    "DISCOUNT": "contract discounts",
    "FREE_TIER": "free tier",
    "SUBSCRIPTION_BENEFIT": "subscription benefits",
    "RESELLER_MARGIN": "reseller margin",
    "FEE_UTILIZATION_OFFSET": "fee utilization offset",
    "OTHER": "other credits",
}
#: A late export: the data ends more than this before the report's end.
STALE = timedelta(days=1)
HOUR = timedelta(hours=1)


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
    cumulative: Amount
    """Net spend from the month's first day to this one's end."""


class Gap(Frozen):
    start: datetime
    end: datetime


class Scope(Frozen):
    """What the report covers, and where that was read from."""

    facility: str
    project: str
    cluster: str
    namespaces: tuple[str, ...]
    by_label: bool
    budget: Decimal | None
    currency: str | None
    origin: str
    """``stack <name>`` (the deployed facility's state) or ``profile <path>``."""
    services: dict[str, str]
    """Namespace -> the service that runs there."""
    shards: dict[str, str] = Field(default_factory=dict)
    """A facility of shards: each compute-only shard's cluster -> the shard's name."""
    shard_projects: tuple[str, ...] = ()
    """The projects besides ``project`` that shards are in (their rows are read there)."""


class CostReport(Frozen):
    facility: str
    project: str
    cluster: str
    namespaces: tuple[str, ...]
    scope_from: str
    month: str
    month_chosen: Literal["given", "last with data"]
    source: str
    currency: str
    as_of: datetime | None
    """The data's end: the end of the last hour with rows (or ``--as-of``)."""
    as_of_from: Literal["data", "given", "no data"]
    data_from: datetime | None
    gaps: tuple[Gap, ...]
    warnings: tuple[str, ...]
    gross: Amount
    credits: Amount
    net: Amount
    line_items: int
    by_pool: tuple[Part, ...]
    by_service: tuple[Part, ...]
    by_user: tuple[Part, ...]
    """Users' pods, and the unattributed rest (so that the parts add up to ``net``)."""
    by_day: tuple[Day, ...]
    credits_by_type: tuple[Part, ...]
    by_data_sku: tuple[Part, ...] = ()
    """Network egress (any service's) and Cloud Storage, by SKU (``<service>: <SKU>``)."""
    by_shard: tuple[Part, ...] = ()
    """A facility of shards: ``home`` (the home cluster and the project's unlabelled rows) and
    each compute-only shard (its cluster's and its label's rows); empty otherwise."""
    idle: Amount
    """Capacity paid for that no pod requested (GKE's ``kube:unallocated``)."""
    days_elapsed: Decimal
    """Days from the month's start to ``as_of`` (in hours / 24)."""
    days_in_month: int
    burn_per_day: Amount | None
    forecast: Amount | None
    """Month to date plus the burn rate over the days from ``as_of`` to the month's end."""
    budget: Amount | None
    verdict: Literal["over", "within"] | None
    """The forecast against the budget (None without a budget or a forecast; a budget in
    another currency than the export's is refused)."""
    core_hours: Decimal
    per_core_hour: Rate | None


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


def service_name(row: Row, services: dict[str, str]) -> str:
    """What people call the service a row's money went to."""
    google = row.service or "unknown Google service"
    if row.namespace is None:
        return google if row.service else NOT_A_POD
    if row.namespace == UNSUPPORTED:
        return f"{google} (not split by namespace)"
    return services.get(row.namespace, f"namespace {row.namespace}")


def _gaps(hours: list[datetime]) -> list[Gap]:
    gaps = []
    for before, after in pairwise(hours):
        if after - before > HOUR:
            gaps.append(Gap(start=before + HOUR, end=after))
    return gaps


def _span(length: timedelta) -> str:
    days, hours = length.days, length.seconds // 3600
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    return " ".join(parts) or "less than an hour"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _currency(rows: list[Row], scope: Scope) -> str:
    found = sorted({r.currency for r in rows if r.currency})
    if len(found) > 1:
        from gridcloud.errors import InputError

        raise InputError(
            f"the export's rows are in several currencies: {', '.join(found)}",
            hint="a billing account has one currency: give one account's export",
        )
    return found[0] if found else (scope.currency or "USD")


def _days(rows: list[Row], month: date, until: datetime | None) -> list[Day]:
    """Every day from the month's first to the data's last (none left out), and its sums."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    by_day: dict[date, list[Decimal]] = {}
    last_day = (until - HOUR).date() if until is not None and until > start else None
    day = month
    while last_day is not None and day <= last_day:
        by_day[day] = [Decimal(0), Decimal(0)]
        day += timedelta(days=1)
    for row in rows:
        total = by_day.setdefault(row.day, [Decimal(0), Decimal(0)])
        total[0] += row.gross
        total[1] += row.credits
    running = Decimal(0)
    days = []
    for d, (g, c) in sorted(by_day.items()):
        running += g + c
        days.append(Day(day=d, gross=g, credits=c, net=g + c, cumulative=running))
    return days


def _users(rows: list[Row]) -> list[Part]:
    users = list(_parts(rows, lambda r: r.username))
    rest = [r for r in rows if r.username is None]
    if rest:
        users.append(
            Part(
                name=UNATTRIBUTED,
                gross=sum((r.gross for r in rest), Decimal(0)),
                credits=sum((r.credits for r in rest), Decimal(0)),
                net=sum((r.net for r in rest), Decimal(0)),
            )
        )
    return users


def _credit_parts(rows: list[Row]) -> list[Part]:
    by_type: dict[str, Decimal] = {}
    for row in rows:
        for kind, value in row.by_type.items():
            by_type[kind] = by_type.get(kind, Decimal(0)) + value
    return sorted(
        (
            Part(name=CREDIT_NAMES.get(k, k), gross=Decimal(0), credits=v, net=v)
            for k, v in by_type.items()
            if v
        ),
        key=lambda p: (p.net, p.name),
    )


def _coverage(hours: list[datetime], month: date, *, now: datetime, from_data: bool) -> list[str]:
    """Warnings about what the data covers: late, starting late, with holes."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end_day = next_month(month)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=UTC)
    if not hours:
        return [f"the export has no rows of this facility in {month:%Y-%m}"]
    warnings = []
    data_until = hours[-1] + HOUR
    # what the report should reach: the month's end, or now in the current month
    expected = min(end, now)
    if from_data and expected - data_until > STALE:
        late = expected - data_until
        warnings.append(
            f"the data ends at {_when(data_until)}, {_span(late)} before "
            f"{'the month ends' if expected == end else 'now'}: a stale export, or files "
            "missing; the figures run to then, and the forecast from then"
        )
    if hours[0] - start > STALE:
        warnings.append(f"the data starts at {_when(hours[0])}, not at the month's start")
    gaps = _gaps(hours)
    if gaps:
        shown = ", ".join(f"{_when(g.start)} to {_when(g.end)}" for g in gaps[:3])
        more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        warnings.append(f"hours without any row: {shown}{more} (files missing?)")
    return warnings


def assemble(
    scope: Scope,
    fetched: Fetched,
    *,
    source: str,
    now: datetime,
    as_of: datetime | None = None,
) -> CostReport:
    rows = fetched.rows
    month = fetched.month
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end_day = next_month(month)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=UTC)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    currency = _currency(rows, scope)
    if scope.budget is not None and scope.currency and scope.currency != currency:
        from gridcloud.errors import InputError

        raise InputError(
            f"the budget ({scope.budget:,} {scope.currency}) is in {scope.currency}, the "
            f"export in {currency}: the report would compare amounts in different currencies",
            hint=f"give the export of the billing account the budget is for, or the budget in "
            f"the account's currency (budget.currency: {currency} and budget.monthly in "
            f"{currency} in the profile)",
        )
    warnings = list(fetched.notes)

    hours = sorted({r.hour for r in rows})
    data_from = hours[0] if hours else None
    data_until = hours[-1] + HOUR if hours else None
    as_of_from: Literal["data", "given", "no data"] = "data" if hours else "no data"
    if as_of is not None:
        as_of_from = "given"
        rows = [r for r in rows if r.hour < as_of]
    else:
        as_of = data_until
    until = None if as_of is None else min(max(as_of, start), end)
    gaps = _gaps(hours)
    warnings += _coverage(hours, month, now=now, from_data=as_of_from == "data")

    gross = sum((r.gross for r in rows), Decimal(0))
    credits = sum((r.credits for r in rows), Decimal(0))
    net = gross + credits
    elapsed = Decimal(0)
    if until is not None:
        elapsed = Decimal(int((until - start).total_seconds()) // 3600) / 24
    burn = net / elapsed if elapsed else None
    forecast = None if burn is None else net + burn * (days_in_month - elapsed)
    verdict: Literal["over", "within"] | None = None
    if scope.budget is not None and forecast is not None:
        verdict = "over" if forecast > scope.budget else "within"

    days = _days(rows, month, until)
    users = _users(rows)
    credit_parts = _credit_parts(rows)
    core_hours = sum((r.core_hours for r in rows), Decimal(0))
    return CostReport(
        facility=scope.facility,
        project=scope.project,
        cluster=scope.cluster,
        namespaces=scope.namespaces,
        scope_from=scope.origin,
        month=month.strftime("%Y-%m"),
        month_chosen="given" if fetched.month_given else "last with data",
        source=source,
        currency=currency,
        as_of=as_of,
        as_of_from=as_of_from,
        data_from=data_from,
        gaps=tuple(gaps),
        warnings=tuple(warnings),
        gross=gross,
        credits=credits,
        net=net,
        line_items=sum(r.line_items for r in rows),
        by_pool=_parts(rows, lambda r: r.pool or NOT_A_NODE),
        by_service=_parts(rows, lambda r: service_name(r, scope.services)),
        by_user=tuple(users),
        by_day=tuple(days),
        credits_by_type=tuple(credit_parts),
        by_data_sku=_parts(rows, lambda r: r.data_sku),
        by_shard=_parts(rows, lambda r: scope.shards.get(r.shard or "", HOME_SHARD))
        if scope.shards
        else (),
        idle=sum((r.net for r in rows if r.namespace == UNALLOCATED), Decimal(0)),
        days_elapsed=elapsed,
        days_in_month=days_in_month,
        burn_per_day=burn,
        forecast=forecast,
        budget=scope.budget,
        verdict=verdict,
        core_hours=core_hours,
        per_core_hour=net / core_hours if core_hours else None,
    )
