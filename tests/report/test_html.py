"""The HTML report as a facility manager sees it: opened in Debian's headless Chromium, read
from what the page shows (its rendered text and the boxes of its plots), with a screenshot
kept in the test's temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports
from tests.report.browser import Browser
from tests.report.exports import cents

pytestmark = pytest.mark.needs("duckdb")

SHOWN = """(() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, text: e.textContent}; };
  const svgs = [...document.querySelectorAll('svg')];
  return {
    text: document.body.innerText,
    headline: document.querySelector('.headline').innerText,
    plots: svgs.map((svg) => ({
      box: box(svg),
      label: svg.getAttribute('aria-label'),
      texts: [...svg.querySelectorAll('text')].map(box),
      yticks: [...svg.querySelectorAll('text.ytick')].map(box),
      xticks: [...svg.querySelectorAll('text.xtick')].map(box),
      bars: [...svg.querySelectorAll('rect.day')].map(box),
      budget: [...svg.querySelectorAll('line.budget')].map(box),
      forecast: [...svg.querySelectorAll('line.forecast')].map(box),
      spent: [...svg.querySelectorAll('polyline.spent')].map(box),
    })),
    days: [...document.querySelectorAll('#days tr')].slice(1)
      .map((tr) => [...tr.children].map((td) => td.innerText)),
    tables: [...document.querySelectorAll('h2')].map((h) => h.innerText),
  };
})()"""


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "").replace("k", "000"))


def test_the_html_report_reads_at_a_glance(browser: Browser, tmp_path: Path) -> None:
    lines = exports.october()
    [path] = exports.bq_jsonl(lines, tmp_path / "export")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--month",
            "2026-10",
            "--export",
            str(path),
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    net = want["net"]
    browser.open(page)
    shown: dict[str, Any] = browser.evaluate(SHOWN)
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 10_000  # kept with the test's files, not committed

    # the headline: spent, share of the budget, forecast, verdict, as of when
    share = (net / 25000 * 100).quantize(Decimal(1))
    assert shown["headline"] == (
        f"Spent ${Decimal(cents(net)):,} net, {share} % of the budget of $25,000.00; "
        f"forecast ${Decimal(cents(net)):,} by the month's end: WITHIN budget "
        "(as of 2026-11-01 00:00 UTC)."
    )
    assert "2026-11-01 00:00 UTC (the export's last hour); day 31 of 31" in shown["text"]

    cumulative, daily = shown["plots"]
    assert cumulative["label"] == "month-to-date spend against the budget"
    # the budget line, labelled, above the spent curve's end (a month at 58 % of it)
    assert any(t["text"] == "budget $25,000.00" for t in cumulative["texts"])
    assert cumulative["budget"] and cumulative["spent"]
    assert cumulative["budget"][0]["y"] < cumulative["spent"][0]["y"]
    assert any(t["text"].startswith("forecast $") for t in cumulative["texts"])

    for plot in (cumulative, daily):
        svg = plot["box"]
        # every label inside its plot, none clipped
        for text in plot["texts"]:
            assert svg["x"] - 1 <= text["x"] and text["x"] + text["w"] <= svg["x"] + svg["w"] + 1
            assert svg["y"] - 1 <= text["y"] and text["y"] + text["h"] <= svg["y"] + svg["h"] + 1
        # a money axis: at least 3 labels, rising up the page, from 0
        ticks = sorted(plot["yticks"], key=lambda t: -t["y"])
        values = [_money(t["text"]) for t in ticks]
        assert len(values) >= 3 and values[0] == 0 and values == sorted(values)
        # days on x: 1, 5, 10, ... 30
        assert [t["text"] for t in plot["xticks"]] == ["1", "5", "10", "15", "20", "25", "30"]
        assert any(t["text"] == "day of the month" for t in plot["texts"])

    # a bar a day, the tallest on the day that cost the most, heights in proportion
    days = want["by"]["day"]
    assert len(daily["bars"]) == 31
    heights = {f"2026-10-{i + 1:02d}": bar["h"] for i, bar in enumerate(daily["bars"])}
    top = max(days, key=lambda d: days[d])
    assert max(heights, key=lambda d: heights[d]) == top
    low = min(days, key=lambda d: days[d])
    assert heights[low] / heights[top] == pytest.approx(float(days[low] / days[top]), rel=0.02)
    # the y axis's top label is at or above the tallest bar
    assert max(_money(t["text"]) for t in daily["yticks"]) >= days[top]

    # the per-day table: every day, its net and the month to date
    assert [row[0] for row in shown["days"]] == sorted(days)
    running = Decimal(0)
    for row in shown["days"]:
        running += days[row[0]]
        assert _money(row[3]) == Decimal(cents(days[row[0]]))
        assert _money(row[4]) == Decimal(cents(running))

    text = shown["text"]
    for heading in ("by pool", "by service", "by user", "credits by type", "per day"):
        assert heading in shown["tables"]
    assert "promotions and research credits" in text
    assert "(unattributed: no hub user's pod)" in text
    assert "Kubernetes Engine (not split by namespace)" in text
    assert "goog-k8s-unsupported-sku" not in text


def test_the_terminal_report_reads_at_a_glance(tmp_path: Path) -> None:
    lines = exports.october()
    [path] = exports.bq_jsonl(lines, tmp_path)
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--month",
            "2026-10",
            *["--export", str(path)],
        ],
    )
    assert result.exit_code == 0, result.output
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    first = " ".join(result.stdout.split("\n\n")[0].split())
    assert first.startswith(f"Spent ${Decimal(cents(want['net'])):,} net, 58 % of the budget")
    assert "WITHIN budget (as of 2026-11-01 00:00 UTC)" in first
    days = [r for r in result.stdout.splitlines() if r.lstrip("│ ").startswith("2026-10-")]
    assert len(days) == 31
    assert all(len(row) <= 80 for row in result.stdout.splitlines())
    last = [c.strip() for c in days[-1].split("│") if c.strip()]
    assert last[0] == "2026-10-31" and last[3] == f"${Decimal(cents(want['net'])):,}"
    assert last[4] == "58 %"
