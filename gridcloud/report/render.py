"""The cost report for people: rich tables and charts in the terminal, or one self-contained
HTML file with SVG plots (no scripts, nothing fetched).

Read at a glance by a facility manager: where the month stands against the budget (spent,
forecast, verdict, as of when), the cumulative spend against the budget with the forecast
to the month's end, daily bars on labelled axes, a table per day, and where the money went
(pools, services, users with the unattributed rest, credits by type). Every name that
comes from the export is text: escaped in HTML, control characters shown as escapes in the
terminal, never markup.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from gridcloud import money
from gridcloud.display import visible

if TYPE_CHECKING:
    from rich.console import RenderableType

    from gridcloud.report.model import CostReport, Part

#: The daily bars' width in the terminal: the table fits 80 columns.
BAR_WIDTH = 20
SYMBOLS = money.SYMBOLS


def amount(value: Decimal | None, currency: str) -> str:
    """Money in the export's currency (:func:`gridcloud.money.shown`)."""
    return money.shown(value, currency)


def per_unit(value: Decimal | None, currency: str) -> str:
    """A price per unit, two digits finer than an amount: ``$0.0213``."""
    return money.shown(value, currency, per_unit=True)


def cell(text: str) -> Text:
    """A value from the export as a table cell: plain text, control characters visible."""
    return Text(visible(text).replace("\n", "\\n"))


def when(moment: datetime | None) -> str:
    return "no data" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def as_of_line(report: CostReport) -> str:
    """What the data covers, for every output."""
    if report.as_of is None:
        return f"no data for {report.month}"
    origin = {"data": "the export's last hour", "given": "--as-of", "no data": ""}[
        report.as_of_from
    ]
    return (
        f"{when(report.as_of)} ({origin}); day {report.days_elapsed.normalize():f} "
        f"of {report.days_in_month}"
    )


def month_line(report: CostReport) -> str:
    chosen = (
        " (the last month with data; --month for another)"
        if (report.month_chosen == "last with data")
        else ""
    )
    return f"{report.month}{chosen}"


def headline(report: CostReport) -> str:
    """One sentence: where the month stands."""
    cur = report.currency
    text = f"Spent {amount(report.net, cur)} net"
    if report.budget is not None:
        share = report.net / report.budget * 100 if report.budget else Decimal(0)
        text += f", {share:.0f} % of the budget of {amount(report.budget, cur)}"
    if report.forecast is not None:
        text += f"; forecast {amount(report.forecast, cur)} by the month's end"
        if report.verdict is not None:
            text += f": {report.verdict.upper()} budget"
    return text + f" (as of {when(report.as_of)})."


def _parts_table(title: str, parts: tuple[Part, ...], currency: str, first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    for column in ("gross", "credits", "net"):
        table.add_column(column, justify="right")
    for part in parts:
        table.add_row(
            cell(part.name),
            amount(part.gross, currency),
            amount(part.credits, currency),
            amount(part.net, currency),
        )
    return table


def summary(report: CostReport) -> Table:
    cur = report.currency
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    scope = f"{report.facility} (project {report.project}, cluster {report.cluster})"
    grid.add_row("facility", cell(scope))
    grid.add_row("scope from", cell(report.scope_from))
    grid.add_row("month", month_line(report))
    grid.add_row("data as of", as_of_line(report))
    grid.add_row("from", cell(f"{report.source}: {report.line_items:,} line items"))
    grid.add_row(
        "spent",
        f"gross {amount(report.gross, cur)}, credits {amount(report.credits, cur)}, "
        f"net {amount(report.net, cur)}",
    )
    grid.add_row("idle capacity", f"{amount(report.idle, cur)} (nodes paid for, no pod requested)")
    per_core = per_unit(report.per_core_hour, cur)
    grid.add_row("per core-hour", f"{per_core} over {money.hours(report.core_hours):,} core-hours")
    if report.burn_per_day is not None:
        against = ""
        if report.budget is not None:
            verdict = report.verdict or "no verdict"
            against = f" against the budget of {amount(report.budget, cur)}: {verdict}"
        grid.add_row(
            "forecast",
            f"{amount(report.burn_per_day, cur)} a day, {amount(report.forecast, cur)} by the "
            f"month's end{against}",
        )
    for warning in report.warnings:
        grid.add_row(Text("warning", style="bold yellow"), cell(warning))
    return grid


def chart(report: CostReport) -> Table:
    """A row per day: net as a bar (scale in the title), the running total and its share
    of the budget; red where the running total is past the budget's pace."""
    cur = report.currency
    top = max([d.net for d in report.by_day] + [Decimal(1)])
    unit = top / BAR_WIDTH
    table = Table(
        title=f"per day (each # = {amount(unit, cur)} net; pace = budget x days / month)",
        title_justify="left",
    )
    table.add_column("day", no_wrap=True)
    table.add_column("net", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column("month to date", justify="right")
    if report.budget:
        table.add_column("of budget", justify="right")
    for i, day in enumerate(report.by_day, start=1):
        width = int(BAR_WIDTH * max(day.net, Decimal(0)) / top)
        row: list[str | Text] = [
            day.day.isoformat(),
            amount(day.net, cur),
            Text("#" * width),
            amount(day.cumulative, cur),
        ]
        if report.budget:
            share = day.cumulative / report.budget * 100
            pace = report.budget * i / report.days_in_month
            style = "red" if day.cumulative > pace else "green"
            row[2] = Text("#" * width, style=style)
            row.append(f"{share:.0f} %")
        table.add_row(*row)
    return table


def terminal(report: CostReport) -> list[RenderableType]:
    cur = report.currency
    parts: list[RenderableType] = [
        Text(headline(report), style="bold"),
        summary(report),
        chart(report),
        *([_parts_table("by shard", report.by_shard, cur, "shard")] if report.by_shard else []),
        _parts_table("by pool", report.by_pool, cur, "pool"),
        _parts_table("by service", report.by_service, cur, "service"),
    ]
    if report.by_user:
        parts.append(_parts_table("by user", report.by_user, cur, "user"))
    if report.credits_by_type:
        parts.append(_parts_table("credits by type", report.credits_by_type, cur, "credit"))
    if report.by_data_sku:
        parts.append(_parts_table(DATA_SKU_TITLE, report.by_data_sku, cur, "SKU"))
    return parts


#: The title of the network egress and storage breakdown (text and HTML).
DATA_SKU_TITLE = "network egress and storage by SKU"


# --- HTML -----------------------------------------------------------------------------------


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 x 10^k) for about ``ticks`` axis labels up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover


def _short(value: float, currency: str) -> str:
    symbol = SYMBOLS.get(currency, "")
    suffix = "" if symbol else f" {currency}"
    if value == 0:
        return f"{symbol}0{suffix}"
    if abs(value) >= 1000 and value == int(value) and int(value) % 1000 == 0:
        return f"{symbol}{int(value) // 1000:,}k{suffix}"
    return f"{symbol}{value:,.0f}{suffix}" if value >= 10 else f"{symbol}{value:,.2f}{suffix}"


class _Frame:
    """A plot's axes: days on x (1 .. days in month), money on y (0 .. a round top)."""

    left, right, top_pad, bottom = 70, 20, 20, 40

    def __init__(self, width: int, height: int, days: int, top: float) -> None:
        self.width, self.height, self.days = width, height, days
        self.step = nice_step(top)
        self.top = max(self.step * math.ceil(top / self.step), self.step)

    def x(self, day: float) -> float:
        """Day ``day`` counted from the month's start (0 = its first midnight)."""
        span = self.width - self.left - self.right
        return self.left + span * day / self.days

    def y(self, value: float) -> float:
        span = self.height - self.top_pad - self.bottom
        return self.height - self.bottom - span * max(value, 0.0) / self.top

    def axes(self, currency: str, y_title: str) -> str:
        parts = []
        base = self.height - self.bottom
        value = 0.0
        while value <= self.top + 1e-9:
            y = self.y(value)
            parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#ddd"/>'
                f'<text class="ytick" x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'font-size="11">{html.escape(_short(value, currency))}</text>'
            )
            value += self.step
        every = 1 if self.days <= 10 else 5
        for day in range(1, self.days + 1):
            if day == 1 or day % every == 0:
                x = self.x(day - 0.5)
                parts.append(
                    f'<text class="xtick" x="{x:.1f}" y="{base + 16}" text-anchor="middle" '
                    f'font-size="11">{day}</text>'
                )
        parts.append(
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{base}" y2="{base}" '
            'stroke="#444"/>'
            f'<line x1="{self.left}" x2="{self.left}" y1="{self.top_pad}" y2="{base}" '
            'stroke="#444"/>'
            f'<text x="{(self.left + self.width - self.right) / 2:.0f}" y="{self.height - 6}" '
            'text-anchor="middle" font-size="12">day of the month</text>'
            f'<text x="14" y="{(self.top_pad + base) / 2:.0f}" text-anchor="middle" '
            f'font-size="12" transform="rotate(-90 14 {(self.top_pad + base) / 2:.0f})">'
            f"{html.escape(y_title)}</text>"
        )
        return "".join(parts)


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)}">'
        f"<title>{html.escape(label)}</title>{body}</svg>"
    )


def cumulative_plot(report: CostReport, width: int = 760, height: int = 300) -> str:
    """Month-to-date net spend, day by day, with the forecast from the data's end to the
    month's end, against the budget (a horizontal line)."""
    cur = report.currency
    budget = float(report.budget) if report.budget is not None else 0.0
    forecast = float(report.forecast) if report.forecast is not None else 0.0
    spent = [float(d.cumulative) for d in report.by_day]
    frame = _Frame(width, height, report.days_in_month, max([budget, forecast, 1.0, *spent]))
    points = [f"{frame.x(0):.1f},{frame.y(0):.1f}"]
    start = datetime(int(report.month[:4]), int(report.month[5:]), 1, tzinfo=UTC)
    for d in report.by_day:
        day = float((datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC) - start).days + 1)
        if d == report.by_day[-1]:  # the last day: as far as the data goes
            day = min(day, float(report.days_elapsed))
        points.append(f"{frame.x(day):.1f},{frame.y(float(d.cumulative)):.1f}")
    body = [frame.axes(cur, f"month to date ({cur})")]
    body.append(
        f'<polyline class="spent" points="{" ".join(points)}" fill="none" '
        'stroke="#3b7dd8" stroke-width="2.5"/>'
    )
    if report.forecast is not None:
        x0, y0 = frame.x(float(report.days_elapsed)), frame.y(float(report.net))
        x1, y1 = frame.x(report.days_in_month), frame.y(forecast)
        colour = "#d83b3b" if report.verdict == "over" else "#3b7dd8"
        body.append(
            f'<line class="forecast" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{x1 - 4:.1f}" y="{y1 - 6:.1f}" text-anchor="end" font-size="12" '
            f'fill="{colour}">forecast {html.escape(amount(report.forecast, cur))}</text>'
        )
    if report.budget is not None:
        yb = frame.y(budget)
        body.append(
            f'<line class="budget" x1="{frame.left}" x2="{width - frame.right}" y1="{yb:.1f}" '
            f'y2="{yb:.1f}" stroke="#d83b3b" stroke-width="1.5"/>'
            f'<text x="{frame.left + 6}" y="{yb - 6:.1f}" font-size="12" fill="#d83b3b">'
            f"budget {html.escape(amount(report.budget, cur))}</text>"
        )
    return _svg(width, height, "month-to-date spend against the budget", "".join(body))


def daily_plot(report: CostReport, width: int = 760, height: int = 260) -> str:
    """Each day's net spend as a bar, on labelled axes."""
    cur = report.currency
    frame = _Frame(
        width, height, report.days_in_month, max([float(d.net) for d in report.by_day] + [1.0])
    )
    body = [frame.axes(cur, f"net per day ({cur})")]
    slot = frame.x(1) - frame.x(0)
    for d in report.by_day:
        x = frame.x(d.day.day - 1) + 1
        y = frame.y(float(d.net))
        body.append(
            f'<rect class="day" x="{x:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" '
            f'height="{frame.y(0) - y:.1f}" fill="#3b7dd8">'
            f"<title>{d.day.isoformat()}: {html.escape(amount(d.net, cur))}</title></rect>"
        )
    return _svg(width, height, "net spend per day", "".join(body))


def _html_table(title: str, parts: tuple[Part, ...], currency: str, first: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p.name)}</td><td>{html.escape(amount(p.gross, currency))}</td>"
        f"<td>{html.escape(amount(p.credits, currency))}</td>"
        f"<td>{html.escape(amount(p.net, currency))}</td></tr>"
        for p in parts
    )
    return (
        f'<h2>{html.escape(title)}</h2><table class="parts"><tr><th>{html.escape(first)}</th>'
        f"<th>gross</th><th>credits</th><th>net</th></tr>{rows}</table>"
    )


def _day_table(report: CostReport) -> str:
    cur = report.currency
    head = "<tr><th>day</th><th>gross</th><th>credits</th><th>net</th><th>month to date</th>"
    head += "<th>of budget</th></tr>" if report.budget else "</tr>"
    rows = []
    for d in report.by_day:
        share = f"<td>{d.cumulative / report.budget * 100:.0f} %</td>" if report.budget else ""
        rows.append(
            f"<tr><td>{d.day.isoformat()}</td><td>{html.escape(amount(d.gross, cur))}</td>"
            f"<td>{html.escape(amount(d.credits, cur))}</td>"
            f"<td>{html.escape(amount(d.net, cur))}</td>"
            f"<td>{html.escape(amount(d.cumulative, cur))}</td>{share}</tr>"
        )
    return f'<h2>per day</h2><table id="days">{head}{"".join(rows)}</table>'


def html_page(report: CostReport) -> str:
    cur = report.currency
    facts = [
        ("facility", f"{report.facility} (project {report.project}, cluster {report.cluster})"),
        ("scope from", report.scope_from),
        ("month", month_line(report)),
        ("data as of", as_of_line(report)),
        ("from", f"{report.source}: {report.line_items:,} line items"),
        ("gross", amount(report.gross, cur)),
        ("credits", amount(report.credits, cur)),
        ("net", amount(report.net, cur)),
        ("idle capacity", amount(report.idle, cur)),
        ("burn per day", amount(report.burn_per_day, cur)),
        ("forecast to the month's end", amount(report.forecast, cur)),
        ("budget", amount(report.budget, cur)),
        ("verdict", report.verdict or "no verdict"),
        (
            "per core-hour",
            per_unit(report.per_core_hour, cur),
        ),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in report.warnings)
    warned = f'<ul class="warnings">{warnings}</ul>' if warnings else ""
    tables = "".join(
        _html_table(title, parts, cur, first)
        for title, parts, first in (
            ("by shard", report.by_shard, "shard"),
            ("by pool", report.by_pool, "pool"),
            ("by service", report.by_service, "service"),
            ("by user", report.by_user, "user"),
            ("credits by type", report.credits_by_type, "credit"),
            (DATA_SKU_TITLE, report.by_data_sku, "SKU"),
        )
        if parts
    )
    title = html.escape(f"{report.facility}: cost report {report.month}")
    verdict = "over" if report.verdict == "over" else "within"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em;max-width:60em}}"
        "table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}"
        "td:first-child,th:first-child{text-align:left}"
        "table.facts td{text-align:left}"
        ".headline{font-size:1.3em;padding:.5em;border-left:6px solid #3b7dd8}"
        ".headline.over{border-color:#d83b3b}.warnings{color:#8a5a00}</style></head><body>"
        f'<h1>{title}</h1><p class="headline {verdict}">{html.escape(headline(report))}</p>'
        f'{warned}<table class="facts">{rows}</table>'
        f"<h2>month to date against the budget</h2>{cumulative_plot(report)}"
        f"<h2>net spend per day</h2>{daily_plot(report)}"
        f"{tables}{_day_table(report)}</body></html>\n"
    )
