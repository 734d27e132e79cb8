"""``gridcloud cost``: the estimate from the catalog, the report from the billing export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg

if TYPE_CHECKING:
    from rich.text import Text

    from gridcloud.cost.estimate import Estimate

app = typer.Typer(help="What a facility costs.", no_args_is_help=True)


@app.command()
def estimate(profile: ProfileArg = None, json: JsonOpt = False) -> None:
    """Idle and peak cost per pool, cost per core-hour, and the budget runway."""
    from gridcloud.analysis import analyse, resolve_profile

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
    shards = tables.shards(result.estimate)
    if shards is not None:
        out.print(shards)
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
        list[str] | None,
        typer.Option(
            "--export",
            metavar="FILES",
            help="Local detailed billing export files, read with DuckDB: a file, a folder, "
            "or a quoted glob ('export-*.json.gz'); repeatable. Newline-delimited JSON as bq "
            "writes it, Parquet, Avro or CSV, gzip or not.",
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
        typer.Option(
            "--month", metavar="YYYY-MM", help="The month (default: the last one with data)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="TIME",
            help="Count the month to this time (ISO, UTC) instead of the data's last hour.",
        ),
    ] = None,
    max_bytes: Annotated[
        str | None,
        typer.Option(
            "--max-bytes",
            metavar="SIZE",
            help="With --table: the most BigQuery may bill for the query (default 50GB).",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML report."),
    ] = None,
    meter: Annotated[
        Path | None,
        typer.Option(
            "--meter",
            metavar="FILE",
            help="The spending meter's month (its GET /spend?month=YYYY-MM saved): each "
            "user's live figure beside the bill's, and the difference.",
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            "-s",
            help="Report on what this deployed stack built (its project, cluster and "
            "namespaces from its outputs) instead of what the profile says now.",
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="With --stack: the Pulumi state backend URL (default: $GRIDCLOUD_BACKEND, "
            "else the local one).",
            show_default=False,
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """What the facility really spent: by pool, service, user and day, against the budget."""
    from datetime import UTC, datetime

    from gridcloud.analysis import resolve_profile
    from gridcloud.cli.output import err
    from gridcloud.errors import InputError
    from gridcloud.report import render
    from gridcloud.report.model import assemble
    from gridcloud.report.options import check_html, parse_as_of, parse_month, stray_export
    from gridcloud.report.scope import resolve

    stray_export(profile)
    first = parse_month(month)
    cutoff = parse_as_of(as_of)
    if html is not None:
        check_html(html)
    cap = _check_source(export, table, max_bytes, profile)
    if stack is not None:
        scope, lenient = _stack_scope(stack, backend, profile), None
    else:
        scope, lenient = resolve(resolve_profile(profile))
    scope_month = first or (cutoff or datetime.now(UTC)).date().replace(day=1)
    fetched, where = _fetch(
        scope, export, table, cap, month=scope_month, month_given=first is not None
    )
    if lenient:
        fetched.notes.insert(0, lenient)
    result = assemble(scope, fetched, source=where, now=datetime.now(UTC), as_of=cutoff)
    reconciled = None
    if meter is not None:
        from gridcloud.report.meter import read_meter, reconcile

        reconciled = reconcile(result, read_meter(meter, result.month))
    if json:  # the terminal report shows them in its summary
        for warning in result.warnings:
            err.print(f"Warning: {warning}")
    if html is not None:
        try:
            html.write_text(render.html_page(result), encoding="utf-8")
        except OSError as error:
            raise InputError(
                f"--html {html}: cannot write it ({error.strerror})",
                hint="give a file in a folder that exists and you may write",
            ) from None
    if json:
        from gridcloud.cli.output import emit_json

        document = result.model_dump(mode="json", by_alias=True)
        if reconciled is not None:
            document["meterByUser"] = [r.model_dump(mode="json") for r in reconciled]
        emit_json(document)
        return
    from gridcloud.cli.output import out

    for part in render.terminal(result):
        out.print(part)
        out.print()
    if reconciled is not None:
        from gridcloud.report.meter import table as meter_table

        out.print(meter_table(reconciled, result.currency))


def _check_source(
    export: list[str] | None, table: str | None, max_bytes: str | None, profile: str | None
) -> int:
    """One source named; the byte cap for BigQuery."""
    from gridcloud.errors import InputError
    from gridcloud.report import source
    from gridcloud.report.query import table_name

    if (export is None) == (table is None):
        name = "gcp_billing_export_resource_v1_<ACCOUNT>"
        account = _billing_account(profile)
        if account:
            name = table_name(account)
        raise InputError(
            "say where the billing data is: --export FILES or --table PROJECT.DATASET.TABLE",
            hint=f"the detailed export's table is named {name} in the dataset you chose when "
            "you set up the export (docs/cost-report.md)",
        )
    if table is None and max_bytes is not None:
        raise InputError("--max-bytes is for --table", hint="a local export costs nothing")
    return source.parse_bytes(max_bytes) if max_bytes else source.DEFAULT_MAX_BYTES


def _fetch(
    scope: Any,
    export: list[str] | None,
    table: str | None,
    cap: int,
    *,
    month: Any,
    month_given: bool,
) -> tuple[Any, str]:
    """The query's rows from the files or from BigQuery, and where they came from."""
    from gridcloud.cli.output import err
    from gridcloud.report import source
    from gridcloud.report.query import Scope

    query_scope = Scope(
        project=scope.project,
        cluster=scope.cluster,
        facility=scope.facility,
        by_label=scope.by_label,
        month=month,
        shards=tuple(scope.shards),
        shard_projects=scope.shard_projects,
    )
    if export is not None:
        return source.read(export, query_scope, month_given=month_given), "export " + ", ".join(
            export
        )
    assert table is not None
    fetched = source.from_bigquery(
        table, query_scope, month_given=month_given, max_bytes=cap, say=err.print
    )
    return fetched, f"BigQuery {table}"


def _stack_scope(stack: str, backend: str | None, profile: str | None) -> Any:
    """The scope from the stack's outputs; the budget from the profile if one is there."""
    from gridcloud.analysis import resolve_profile
    from gridcloud.engine.backend import resolve_backend
    from gridcloud.engine.stacks import StackRef, read_state
    from gridcloud.errors import GridcloudError, InputError
    from gridcloud.report.scope import budget_of, from_outputs

    ref = StackRef(stack, resolve_backend(backend), None)
    state = read_state(ref)
    if state is None:
        raise InputError(
            f"no stack {stack} in that backend",
            hint="`gridcloud stacks` lists the stacks there (--backend for another backend)",
        )
    # the budget only from a profile named with --stack: the default profile of a checkout
    # is likely another facility's
    budget = None
    if profile is not None:
        try:
            budget = budget_of(resolve_profile(profile))
        except GridcloudError:
            budget = None
    return from_outputs(state.outputs, f"stack {stack}", budget)


def _billing_account(profile: str | None) -> str | None:
    """The budget's billing account, for the hint naming the export table (leniently)."""
    from gridcloud.analysis import resolve_profile
    from gridcloud.errors import GridcloudError
    from gridcloud.profile.loader import read_fields

    try:
        data = read_fields(resolve_profile(profile))
    except GridcloudError:
        return None
    budget = data.get("budget") if data is not None else None
    account = budget.get("billingAccount") if isinstance(budget, dict) else None
    return account if isinstance(account, str) else None
