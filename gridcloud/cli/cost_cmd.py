"""``gridcloud cost``: the estimate from the catalog, the report from the billing export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg

if TYPE_CHECKING:
    from rich.text import Text

    from gridcloud.cost.estimate import Estimate

app = typer.Typer(help="What a facility costs.", no_args_is_help=True)


@app.command()
def estimate(profile: ProfileArg = None, json: JsonOpt = False) -> None:
    """Idle and peak cost per pool, cost per core-hour, and the budget runway."""
    from gridcloud.facility import analyse, resolve_profile

    result = analyse(resolve_profile(profile))
    if json:
        from gridcloud.cli.output import emit_json

        emit_json(
            {
                "profile": str(result.path),
                "cost": result.estimate.model_dump(mode="json", by_alias=True),
                "budget": result.verdict.model_dump(mode="json", by_alias=True),
            }
        )
        return
    from gridcloud.cli import tables
    from gridcloud.cli.output import err, out, styled

    out.print(tables.cost(result.estimate))
    commitments = commitment_lines(result.estimate)
    if commitments is not None:
        out.print()
        out.print(commitments)
    out.print()
    out.print(tables.budget(result.verdict))
    for warning in result.estimate.warnings:
        err.print(styled(("warning: ", "yellow"), warning))


def commitment_lines(estimate: Estimate) -> Text | None:
    """The always-on nodes a month on demand (sustained use applied) beside 1- and 3-year
    commitments: information, nothing is bought."""
    from rich.text import Text

    from gridcloud.cli.tables import usd

    rows = [p for p in estimate.pools if not p.spot and p.min_nodes and p.idle_monthly]
    if not rows:
        return None
    text = Text("Always-on nodes, a month: on demand, or committed for 1 or 3 years", style="bold")
    cur = estimate.currency
    for pool in rows:
        nodes = "1 node" if pool.min_nodes == 1 else f"{pool.min_nodes} nodes"
        text.append(
            f"\n  {pool.name} ({nodes} {pool.machine_type}): on demand "
            f"{usd(pool.idle_monthly, cur)}, 1-year {usd(pool.one_year_commitment_monthly, cur)}, "
            f"3-year {usd(pool.three_year_commitment_monthly, cur)}",
            style="",
        )
        if pool.one_year_commitment_monthly is None:
            text.append(" (no commitment price published for it here)", style="dim")
    text.append(
        "\n  a commitment is billed every hour of its term, used or not; information, not a "
        "purchase",
        style="dim",
    )
    return text


@app.command()
def report(
    profile: ProfileArg = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="FILE",
            help="A local detailed billing export (JSONL, Parquet or CSV), read with DuckDB.",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            metavar="PROJECT.DATASET.TABLE",
            help="The export's BigQuery table (gcp_billing_export_resource_v1_<ACCOUNT>).",
        ),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option("--month", metavar="YYYY-MM", help="The month (default: this one, UTC)."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML report."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """What the facility really spent: by pool, service, user and day, against the budget."""
    from datetime import UTC, date, datetime

    from gridcloud.errors import InputError
    from gridcloud.facility import analyse, resolve_profile
    from gridcloud.report import render, source
    from gridcloud.report.model import assemble
    from gridcloud.report.query import Scope, table_name

    plan = analyse(resolve_profile(profile)).plan
    if plan.target.provider != "gcp" or plan.cluster is None:
        raise InputError(
            f"{plan.name} runs on an existing cluster: there is no Google Cloud bill to report",
            hint="cost reports are for gcp targets",
        )
    today = datetime.now(UTC).date()
    try:
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        raise InputError(f"--month {month}: not a month", hint="give YYYY-MM") from None
    scope = Scope(
        project=plan.target.project,
        cluster=plan.cluster.name,
        facility=plan.name,
        by_label=plan.budget is not None and bool(plan.budget.label_filter),
        month=first,
    )
    if (export is None) == (table is None):
        account = plan.budget.billing_account if plan.budget else None
        name = table_name(account) if account else "gcp_billing_export_resource_v1_<ACCOUNT>"
        raise InputError(
            "say where the billing data is: --export FILE or --table PROJECT.DATASET.TABLE",
            hint=f"the detailed export's table is named {name} in the dataset you chose when "
            "you set up the export (docs/cost-report.md)",
        )
    if export is not None:
        rows = source.from_export(export, scope)
        where = f"export {export.name}"
    else:
        assert table is not None
        rows = source.from_bigquery(table, scope)
        where = f"BigQuery {table}"
    result = assemble(plan, rows, month=first, source=where, today=today)
    if html is not None:
        html.write_text(render.html_page(result), encoding="utf-8")
    if json:
        from gridcloud.cli.output import emit_json

        emit_json(result.model_dump(mode="json", by_alias=True))
        return
    from gridcloud.cli.output import out

    for part in render.terminal(result):
        out.print(part)
        out.print()
