"""The cost report for people: rich tables and a daily chart in the terminal, or one
self-contained HTML file with an SVG plot (no scripts, nothing fetched)."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from gridcloud.cost import money

if TYPE_CHECKING:
    from rich.console import RenderableType

    from gridcloud.report.model import CostReport, Part

BAR_WIDTH = 40


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "unknown"
    rounded = money.amount(value)
    return f"-${-rounded:,}" if rounded < 0 else f"${rounded:,}"


def _parts_table(title: str, parts: tuple[Part, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(title.rsplit(" ", maxsplit=1)[-1])
    for column in ("gross", "credits", "net"):
        table.add_column(column, justify="right")
    for part in parts:
        table.add_row(part.name, _usd(part.gross), _usd(part.credits), _usd(part.net))
    return table


def summary(report: CostReport) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "facility", f"{report.facility} (project {report.project}, cluster {report.cluster})"
    )
    grid.add_row("month", f"{report.month}, day {report.days_elapsed} of {report.days_in_month}")
    grid.add_row("from", f"{report.source}: {report.line_items:,} line items")
    grid.add_row(
        "spent",
        f"gross {_usd(report.gross)}, credits {_usd(report.credits)}, net {_usd(report.net)}",
    )
    grid.add_row("idle capacity", f"{_usd(report.idle)} (nodes paid for, no pod requested)")
    per_core = "unknown" if report.per_core_hour is None else f"${money.rate(report.per_core_hour)}"
    grid.add_row("per core-hour", f"{per_core} over {money.hours(report.core_hours):,} core-hours")
    if report.burn_per_day is not None:
        against = ""
        if report.budget is not None and report.forecast is not None:
            verdict = "over" if report.forecast > report.budget else "within"
            against = f" against the budget of {_usd(report.budget)}: {verdict}"
        grid.add_row(
            "forecast",
            f"{_usd(report.burn_per_day)} a day, {_usd(report.forecast)} by the month's "
            f"end{against}",
        )
    return grid


def chart(report: CostReport) -> Table:
    """Daily net spend as bars; ``|`` marks the budget's daily share."""
    table = Table(title="daily spend (| = the budget's daily share)", title_justify="left")
    table.add_column("day", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("net", justify="right")
    line = report.daily_budget
    top = max([d.net for d in report.by_day] + ([line] if line else []) + [Decimal(1)])
    for day in report.by_day:
        width = int(BAR_WIDTH * max(day.net, Decimal(0)) / top)
        cells = ["#"] * width + [" "] * (BAR_WIDTH - width)
        style = "green"
        if line is not None:
            mark = min(int(BAR_WIDTH * line / top), BAR_WIDTH - 1)
            cells[mark] = "|"
            style = "red" if day.net > line else "green"
        table.add_row(day.day.isoformat(), Text("".join(cells), style=style), _usd(day.net))
    return table


def terminal(report: CostReport) -> list[RenderableType]:
    parts: list[RenderableType] = [summary(report), chart(report)]
    parts.append(_parts_table("by pool", report.by_pool))
    parts.append(_parts_table("by service", report.by_service))
    if report.by_user:
        parts.append(_parts_table("by user", report.by_user))
    return parts


def svg_plot(report: CostReport, width: int = 760, height: int = 260) -> str:
    """Daily net spend as bars and the budget's daily share as a line."""
    pad = 40
    days = report.by_day
    line = report.daily_budget
    top = float(max([d.net for d in days] + ([line] if line else []) + [Decimal(1)]))
    step = (width - 2 * pad) / max(len(days), 1)

    def y(value: float) -> float:
        return height - pad - (height - 2 * pad) * value / top

    bars = []
    for i, day in enumerate(days):
        value = max(float(day.net), 0.0)
        bars.append(
            f'<rect x="{pad + i * step + 1:.1f}" y="{y(value):.1f}" width="{step - 2:.1f}" '
            f'height="{height - pad - y(value):.1f}" fill="#3b7dd8">'
            f"<title>{day.day.isoformat()}: {html.escape(_usd(day.net))}</title></rect>"
        )
    budget = ""
    if line is not None:
        budget = (
            f'<line x1="{pad}" x2="{width - pad}" y1="{y(float(line)):.1f}" '
            f'y2="{y(float(line)):.1f}" stroke="#d83b3b" stroke-dasharray="6 4"/>'
            f'<text x="{width - pad}" y="{y(float(line)) - 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#d83b3b">budget per day {html.escape(_usd(line))}</text>'
        )
    axis = (
        f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" '
        'stroke="#444"/>'
        f'<text x="{pad}" y="{height - pad + 16}" font-size="11">'
        f"{days[0].day.isoformat() if days else ''}</text>"
        f'<text x="{width - pad}" y="{height - pad + 16}" font-size="11" text-anchor="end">'
        f"{days[-1].day.isoformat() if days else ''}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="daily spend">{"".join(bars)}{budget}{axis}</svg>'
    )


def _html_table(title: str, parts: tuple[Part, ...]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p.name)}</td><td>{_usd(p.gross)}</td><td>{_usd(p.credits)}</td>"
        f"<td>{_usd(p.net)}</td></tr>"
        for p in parts
    )
    return (
        f"<h2>{html.escape(title)}</h2><table><tr><th></th><th>gross</th><th>credits</th>"
        f"<th>net</th></tr>{rows}</table>"
    )


def html_page(report: CostReport) -> str:
    facts = [
        ("month", f"{report.month}, day {report.days_elapsed} of {report.days_in_month}"),
        ("from", f"{report.source}: {report.line_items:,} line items"),
        ("gross", _usd(report.gross)),
        ("credits", _usd(report.credits)),
        ("net", _usd(report.net)),
        ("idle capacity", _usd(report.idle)),
        ("burn per day", _usd(report.burn_per_day)),
        ("forecast to the month's end", _usd(report.forecast)),
        ("budget", _usd(report.budget)),
        (
            "per core-hour",
            "unknown" if report.per_core_hour is None else f"${money.rate(report.per_core_hour)}",
        ),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    tables = "".join(
        _html_table(title, parts)
        for title, parts in (
            ("by pool", report.by_pool),
            ("by service", report.by_service),
            ("by user", report.by_user),
        )
        if parts
    )
    title = html.escape(f"{report.facility}: cost report {report.month}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>{title}</h1><table>{rows}</table><h2>daily spend</h2>{svg_plot(report)}"
        f"{tables}</body></html>\n"
    )
