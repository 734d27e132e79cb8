"""Where the rows come from: BigQuery (the export table), or a local export file through
DuckDB. The query is the same: BigQuery's SQL, transpiled by sqlglot for DuckDB."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gridcloud.errors import InputError
from gridcloud.report.query import Scope, report_sql

if TYPE_CHECKING:
    from pathlib import Path

#: Export files DuckDB reads, by suffix.
READERS = {
    ".jsonl": "read_json",
    ".json": "read_json",
    ".parquet": "read_parquet",
    ".csv": "read_csv",
}
#: In a CSV export the nested columns are JSON text: their types, to parse them.
NESTED = {
    "labels": '[{"key": "VARCHAR", "value": "VARCHAR"}]',
    "credits": '[{"name": "VARCHAR", "amount": "DOUBLE", "type": "VARCHAR"}]',
    "project": '{"id": "VARCHAR", "number": "VARCHAR", "name": "VARCHAR"}',
    "sku": '{"id": "VARCHAR", "description": "VARCHAR"}',
    "usage": (
        '{"amount": "DOUBLE", "unit": "VARCHAR", "amount_in_pricing_units": "DOUBLE", '
        '"pricing_unit": "VARCHAR"}'
    ),
}


@dataclass(frozen=True)
class Row:
    day: date
    pool: str | None
    namespace: str | None
    username: str | None
    gross: Decimal
    credits: Decimal
    core_hours: Decimal
    line_items: int


def _row(values: tuple[Any, ...]) -> Row:
    day, pool, namespace, username, gross, credits, core_hours, count = values
    return Row(
        day=day if isinstance(day, date) else date.fromisoformat(str(day)),
        pool=pool,
        namespace=namespace,
        username=username,
        gross=Decimal(str(gross or 0)),
        credits=Decimal(str(credits or 0)),
        core_hours=Decimal(str(core_hours or 0)),
        line_items=int(count),
    )


def duckdb_sql(scope: Scope) -> str:
    import sqlglot

    return sqlglot.transpile(report_sql(scope, "export"), read="bigquery", write="duckdb")[0]


def from_export(path: Path, scope: Scope) -> list[Row]:
    """Run the query on a local export file (JSONL, Parquet or CSV in the export's schema)."""
    import duckdb

    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            f"{path.name}: not an export file gridcloud reads",
            hint="give a .jsonl, .parquet or .csv file in the detailed export's schema",
        )
    if not path.is_file():
        raise InputError(f"{path} does not exist", hint="give the path of a billing export file")
    con = duckdb.connect()
    with contextlib.suppress(duckdb.Error):  # without ICU, timestamps are UTC already
        con.execute("SET TimeZone = 'UTC'")
    source = f"{reader}(?)"
    try:
        if reader == "read_csv":
            columns = [
                c[0]
                for c in con.execute(f"DESCRIBE SELECT * FROM {source}", [str(path)]).fetchall()
            ]
            parsed = ", ".join(
                f"from_json({c}, '{NESTED[c]}') AS {c}" if c in NESTED else c for c in columns
            )
            con.execute(f"CREATE VIEW export AS SELECT {parsed} FROM read_csv('{_quote(path)}')")
        else:
            con.execute(f"CREATE VIEW export AS SELECT * FROM {reader}('{_quote(path)}')")
        return [_row(r) for r in con.execute(duckdb_sql(scope)).fetchall()]
    except duckdb.Error as error:
        raise InputError(
            f"{path.name} is not a billing export gridcloud can read: {str(error).splitlines()[0]}",
            hint="the detailed (resource-level) export's columns: usage_start_time, cost, "
            "credits, labels, project, sku, usage (docs/cost-report.md)",
        ) from error
    finally:
        con.close()


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def from_bigquery(table: str, scope: Scope) -> list[Row]:
    """Run the query in BigQuery on the export table ``PROJECT.DATASET.TABLE``."""
    from google.cloud import bigquery

    from gridcloud.check.google import failures, first_line

    try:
        client = bigquery.Client(project=table.split(".", maxsplit=1)[0])
        rows = client.query(report_sql(scope, f"`{table}`")).result()
        return [_row(tuple(r.values())) for r in rows]
    except failures() as error:
        raise InputError(
            f"BigQuery refused the report on {table}: {first_line(error)}",
            hint="check the table name and that you may run queries on it (BigQuery Data "
            "Viewer and Job User); or download the export and use --export FILE",
        ) from error
