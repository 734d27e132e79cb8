"""Where the rows come from: BigQuery (the export table), or local export files through
DuckDB. The query is the same: BigQuery's SQL, transpiled by sqlglot for DuckDB.

Local files are read by DuckDB itself, streaming, and aggregated there: nothing per line item
reaches Python (Avro alone is decoded in Python, streaming, into a temporary JSONL file that
DuckDB then reads). Every layout Google's tools write is turned into one shape, the columns
the query reads, by a view built from this module's constants only: the file's column names
are compared with the known ones, never written into the SQL; the paths and every value are
parameters.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridcloud.errors import InputError
from gridcloud.report.query import (
    COLUMNS,
    CREDIT_TYPES,
    Partitioning,
    Scope,
    last_data_sql,
    parameters,
    partition_bounds,
    report_sql,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb

#: What DuckDB may hold in memory for a report; past it, it spills to a temporary folder.
MEMORY_LIMIT = "512MB"
LAYOUTS = (
    "newline-delimited JSON as `bq extract --destination_format NEWLINE_DELIMITED_JSON` "
    "writes it; Parquet or Avro as BigQuery exports them; CSV with the nested fields as "
    "JSON text (labels, credits, project, ...) or flattened to one column each "
    "(project.id, usage.amount_in_pricing_units, ...) with labels and credits as JSON text; "
    "any of them gzip-compressed, in one file or several"
)
LAYOUT_HINT = f"accepted: {LAYOUTS} (docs/cost-report.md)"

#: The export's columns the query reads, with their types (the nested ones: the fields read).
LABELS = "STRUCT(key VARCHAR, value VARCHAR)[]"
CREDITS = "STRUCT(amount DOUBLE, type VARCHAR)[]"
RECORDS: dict[str, dict[str, str]] = {
    "project": {"id": "VARCHAR"},
    "service": {"description": "VARCHAR"},
    "sku": {"description": "VARCHAR"},
    "usage": {"amount_in_pricing_units": "DOUBLE", "pricing_unit": "VARCHAR"},
}
SCALARS = {"usage_start_time": "VARCHAR", "cost": "DOUBLE", "currency": "VARCHAR"}
#: Without these, a file is not a detailed billing export.
REQUIRED = ("usage_start_time", "cost", "project", "labels")
_JSON_TYPES = {"VARCHAR": '"VARCHAR"', "DOUBLE": '"DOUBLE"'}


def _struct(fields: dict[str, str]) -> str:
    return "STRUCT(" + ", ".join(f"{k} {v}" for k, v in fields.items()) + ")"


def _json_type(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": {_JSON_TYPES[v]}' for k, v in fields.items()) + "}"


@dataclass(frozen=True)
class Row:
    hour: datetime
    currency: str | None
    service: str | None
    pool: str | None
    namespace: str | None
    username: str | None
    gross: Decimal
    credits: Decimal
    core_hours: Decimal
    line_items: int
    by_type: dict[str, Decimal] = field(default_factory=dict)
    data_sku: str | None = None
    """``<service>: <SKU>`` for network egress and Cloud Storage rows (query.DATA_SKU)."""
    shard: str | None = None
    """A compute-only shard's cluster, for its rows (None: the home cluster's, or the
    project's)."""

    @property
    def day(self) -> date:
        return self.hour.date()

    @property
    def net(self) -> Decimal:
        return self.gross + self.credits


@dataclass(frozen=True)
class Fetched:
    rows: list[Row]
    month: date
    month_given: bool
    notes: list[str] = field(default_factory=list)
    """What the reader noticed about its input (missing shards, bytes scanned)."""


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _row(values: tuple[Any, ...]) -> Row:
    named = dict(zip(COLUMNS, values, strict=True))
    hour = named["hour"]
    if not isinstance(hour, datetime):
        hour = datetime.fromisoformat(str(hour))
    hour = hour.replace(tzinfo=UTC) if hour.tzinfo is None else hour.astimezone(UTC)
    by_type = {t: _decimal(named[f"credit_{t.lower()}"]) for t in CREDIT_TYPES}
    credits = _decimal(named["credits"])
    other = credits - sum(by_type.values(), Decimal(0))
    if other:
        by_type["OTHER"] = other
    return Row(
        hour=hour,
        currency=named["currency"],
        service=named["service"],
        pool=named["pool"],
        namespace=named["namespace"],
        username=named["username"],
        gross=_decimal(named["gross"]),
        credits=credits,
        core_hours=_decimal(named["core_hours"]),
        line_items=int(named["line_items"]),
        by_type={t: v for t, v in by_type.items() if v},
        data_sku=named["data_sku"],
        shard=named["shard"],
    )


def duckdb_sql(scope: Scope) -> str:
    """The report's query for DuckDB: transpiled by sqlglot, and each lookup in an array
    (``(SELECT l.value FROM UNNEST(labels) AS l WHERE ...)``, ``SUM`` over ``credits``) made
    a list function, which DuckDB runs row by row instead of as a join over the whole export
    (100 times faster; the same values)."""
    return to_duckdb(report_sql(scope, "export"))


def to_duckdb(sql: str) -> str:
    import sqlglot

    return str(_listify(sqlglot.parse_one(sql, read="bigquery")).sql("duckdb"))


def _listify(tree: Any) -> Any:
    from sqlglot import exp

    def call(name: str, *args: Any) -> Any:
        return exp.Anonymous(this=name, expressions=list(args))

    def swap(node: Any) -> Any:
        if not isinstance(node, exp.Subquery) or not isinstance(node.this, exp.Select):
            return node
        select = node.this
        source = select.args.get("from_") or select.args.get("from")
        if source is None or not isinstance(source.this, exp.Unnest):
            return node
        if len(select.expressions) != 1 or select.args.get("group"):
            return node
        unnest = source.this
        alias = unnest.args.get("alias")
        if alias is None or len(alias.columns) != 1 or len(unnest.expressions) != 1:
            return node
        var = [exp.to_identifier(alias.columns[0].name)]
        items = unnest.expressions[0].copy()
        where = select.args.get("where")
        if where is not None:
            items = call("list_filter", items, exp.Lambda(this=where.this.copy(), expressions=var))
        projection = select.expressions[0]
        if isinstance(projection, exp.Sum):
            each = exp.Lambda(this=projection.this.copy(), expressions=var)
            return call("list_sum", call("list_transform", items, each))
        each = exp.Lambda(this=projection.copy(), expressions=var)
        return call("list_extract", call("list_transform", items, each), exp.Literal.number(1))

    return tree.transform(swap)


# --- which files ---------------------------------------------------------------------------

_MAGIC = {b"PAR1": "parquet", b"Obj\x01": "avro"}
_SUFFIXES = {
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".avro": "avro",
    ".csv": "csv",
}
_SHARD = re.compile(r"^(.*?)(\d{12})(\D*)$")


def export_files(given: list[str]) -> list[Path]:
    """The files named: paths, folders (every file in them) or glob patterns (quoted, so
    that gridcloud expands them: ``'export-*.json.gz'``)."""
    files: list[Path] = []
    for text in given:
        path = Path(text).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            found = [path]
        elif glob.has_magic(text):
            # a user's pattern, absolute or relative: Path.glob takes relative ones only
            matches = glob.glob(str(path))  # noqa: PTH207
            found = sorted(Path(p) for p in matches if Path(p).is_file())
        else:
            raise InputError(f"{text} does not exist", hint="give billing export files")
        if not found:
            raise InputError(f"{text}: no files there", hint="give billing export files")
        files.extend(found)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    if not unique:
        raise InputError("no export file given", hint="give billing export files")
    return unique


def _head(path: Path) -> tuple[bytes, bool]:
    """The file's first bytes (decompressed if gzip) and whether it is gzip."""
    try:
        with path.open("rb") as raw:
            start = raw.read(4096)
        if start[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as unzipped:
                return unzipped.read(4096), True
    except (OSError, EOFError) as error:
        raise InputError(f"{path.name} cannot be read: {error}", hint=LAYOUT_HINT) from None
    return start, False


def file_format(path: Path) -> tuple[str, bool]:
    """(json | parquet | avro | csv, gzip?) from the file's content, its name as a tiebreak."""
    head, zipped = _head(path)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind, zipped
    name = path.name.lower().removesuffix(".gz")
    by_name = _SUFFIXES.get(Path(name).suffix)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "json", zipped
    if by_name in ("csv", None) and head and b"\x00" not in head:
        return "csv", zipped
    if not head:
        return by_name or "json", zipped
    raise InputError(f"{path.name}: not a billing export file gridcloud reads", hint=LAYOUT_HINT)


def shard_notes(files: list[Path]) -> list[str]:
    """bq's split export is numbered from 000000000000 on: a missing number is a lost file,
    and a numbered file beside the given ones but not given is one left out."""
    series: dict[tuple[Path, str, str], set[int]] = {}
    for path in files:
        found = _SHARD.match(path.name)
        if found:
            series.setdefault((path.parent, found[1], found[3]), set()).add(int(found[2]))
    notes = []
    for (folder, prefix, suffix), numbers in series.items():
        missing = sorted(set(range(max(numbers) + 1)) - numbers)
        if missing:
            names = ", ".join(f"{prefix}{n:012d}{suffix}" for n in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            notes.append(f"files of the split export are missing: {names}{more}")
        beside = sorted(
            p.name
            for p in folder.glob(f"{glob.escape(prefix)}{'[0-9]' * 12}{glob.escape(suffix)}")
            if int(p.name[len(prefix) : len(prefix) + 12]) not in numbers
        )
        if beside:
            more = f" and {len(beside) - 3} more" if len(beside) > 3 else ""
            notes.append(
                f"files of the same split export lie beside the given ones but were not "
                f"given: {', '.join(beside[:3])}{more} (give the folder or a quoted glob)"
            )
    return notes


# --- DuckDB ---------------------------------------------------------------------------------


def _connect(scratch: Path, files: list[Path]) -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(scratch),
            "preserve_insertion_order": False,
        }
    )
    with contextlib.suppress(duckdb.Error):  # without ICU, timestamps are UTC already
        con.execute("SET TimeZone = 'UTC'")
    con.execute("SET VARIABLE files = ?", [[str(p) for p in files]])
    return con


def _lock(con: duckdb.DuckDBPyConnection, files: list[Path], scratch: Path) -> None:
    """From here on the connection reads these files and writes its spill folder, nothing
    else (a second wall behind the quoting: no file text becomes SQL anyway)."""
    import duckdb

    with contextlib.suppress(duckdb.Error):  # settings of DuckDB >= 1.3
        con.execute("SET allowed_paths = ?", [[str(p) for p in files]])
        con.execute("SET allowed_directories = ?", [[str(scratch)]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")


def _columns(con: duckdb.DuckDBPyConnection, reader: str) -> list[tuple[str, str]]:
    return [
        (str(c[0]), str(c[1])) for c in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    ]


def _show(name: str) -> str:
    """A column name from a file, for an error message (escaped, cut)."""
    from gridcloud.display import visible

    shown = visible(name)
    return "'" + (shown if len(shown) <= 80 else shown[:77] + "...") + "'"


def _missing(kind: str, names: set[str], layout: str) -> InputError:
    absent = [
        c for c in REQUIRED if c not in names and not any(n.startswith(c + ".") for n in names)
    ]
    known = set(SCALARS) | set(RECORDS) | {"labels", "credits"}
    unknown = sorted(
        n for n in names if n not in known and n.split(".", 1)[0] not in known | _OTHER_COLUMNS
    )
    bad = f"; columns not in the export's schema: {', '.join(_show(n) for n in unknown[:5])}"
    return InputError(
        f"not a billing export: {kind} without {', '.join(absent) or 'the nested fields'}"
        f" ({layout}){bad if unknown else ''}",
        hint=LAYOUT_HINT,
    )


#: The detailed export's other columns (Cloud Billing's schema), accepted and not read.
_OTHER_COLUMNS = {
    "billing_account_id",
    "usage_end_time",
    "location",
    "resource",
    "system_labels",
    "project_labels",
    "tags",
    "export_time",
    "currency_conversion_rate",
    "invoice",
    "cost_type",
    "adjustment_info",
    "price",
    "cost_at_list",
    "transaction_type",
    "seller_name",
    "subscription",
    "consumption_model",
    "cost_at_effective_price_default",
    "cost_at_list_consumption_model",
}


def _json_view(con: duckdb.DuckDBPyConnection, zipped: bool, sample: int) -> str:
    """``sample``: the (0-based) file whose keys are checked, the first that is not empty
    (a split export may hold empty files)."""
    compression = "'gzip'" if zipped else "'none'"
    sniffed = _columns(
        con,
        f"read_json(getvariable('files')[{int(sample) + 1}], format = 'newline_delimited', "
        f"compression = {compression}, sample_size = 1000)",
    )
    names = {n for n, _ in sniffed}
    if not set(REQUIRED) <= names:
        raise _missing("JSON", names, "newline-delimited JSON")
    types = {
        **SCALARS,
        "credits": CREDITS,
        "labels": LABELS,
        **{r: _struct(f) for r, f in RECORDS.items()},
    }
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    return (
        f"SELECT * REPLACE (CAST(usage_start_time AS TIMESTAMPTZ) AS usage_start_time) "
        f"FROM read_json(getvariable('files'), format = 'newline_delimited', "
        f"compression = {compression}, columns = {spec})"
    )


def _parquet_view(con: duckdb.DuckDBPyConnection) -> str:
    reader = "read_parquet(getvariable('files'), union_by_name = true)"
    names = {n for n, _ in _columns(con, reader)}
    if not set(REQUIRED) <= names:
        raise _missing("Parquet", names, "Parquet with the export's nested columns")
    parts = ["CAST(usage_start_time AS TIMESTAMPTZ) AS usage_start_time", "cost"]
    parts.append("currency" if "currency" in names else "CAST(NULL AS VARCHAR) AS currency")
    parts.append("labels")
    parts.append("credits" if "credits" in names else f"CAST([] AS {CREDITS}) AS credits")
    for record, fields in RECORDS.items():
        if record in names:
            parts.append(record)
        else:
            parts.append(f"CAST(NULL AS {_struct(fields)}) AS {record}")
    return f"SELECT {', '.join(parts)} FROM {reader}"


def _csv_view(con: duckdb.DuckDBPyConnection, zipped: bool) -> str:
    compression = "'gzip'" if zipped else "'none'"
    reader = (
        f"read_csv(getvariable('files'), header = true, all_varchar = true, "
        f"compression = {compression}, union_by_name = true)"
    )
    names = {n for n, _ in _columns(con, reader)}
    parts: list[str] = []
    for column, kind in SCALARS.items():
        if column in names:
            parts.append(f'CAST("{column}" AS {kind}) AS {column}')
        elif column == "currency":
            parts.append("CAST(NULL AS VARCHAR) AS currency")
        else:
            raise _missing("CSV", names, "CSV")
    parts[0] = 'CAST("usage_start_time" AS TIMESTAMPTZ) AS usage_start_time'
    for column, kind in (("labels", LABELS), ("credits", CREDITS)):
        element = RECORDS_JSON[column]
        if column in names:
            parts.append(f"CAST(from_json({column}, '[{element}]') AS {kind}) AS {column}")
        elif column == "credits":
            parts.append(f"CAST([] AS {CREDITS}) AS credits")
        else:
            raise _missing("CSV", names, "CSV")
    for record, fields in RECORDS.items():
        flat = [f"{record}.{f}" for f in fields]
        if record in names:
            parts.append(
                f"CAST(from_json({record}, '{_json_type(fields)}') AS {_struct(fields)}) "
                f"AS {record}"
            )
        elif any(f in names for f in flat):
            # every name written here is one of RECORDS' constants, quoted
            packed = ", ".join(
                f'{f} := CAST("{record}.{f}" AS {t})'
                if f"{record}.{f}" in names
                else f"{f} := CAST(NULL AS {t})"
                for f, t in fields.items()
            )
            parts.append(f"struct_pack({packed}) AS {record}")
        elif record == "project":
            raise _missing("CSV", names, "CSV")
        else:
            parts.append(f"CAST(NULL AS {_struct(fields)}) AS {record}")
    return f"SELECT {', '.join(parts)} FROM {reader}"


RECORDS_JSON = {
    "labels": '{"key": "VARCHAR", "value": "VARCHAR"}',
    "credits": '{"amount": "DOUBLE", "type": "VARCHAR"}',
}


def _avro_to_jsonl(files: list[Path], scratch: Path) -> list[Path]:
    """Avro as BigQuery writes it (nullable unions, timestamp-micros, NUMERIC as decimal),
    decoded by fastavro, streaming, into JSONL files DuckDB reads."""
    try:
        import fastavro
    except ImportError:  # pragma: no cover - a main dependency
        raise InputError(
            "Avro exports need fastavro", hint="pip install fastavro, or export Parquet"
        ) from None

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return aware.astimezone(UTC).isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    out = []
    for i, path in enumerate(files):
        target = scratch / f"avro-{i}.jsonl"
        try:
            with path.open("rb") as raw, target.open("w", encoding="utf-8") as lines:
                for record in fastavro.reader(raw):
                    lines.write(json.dumps(record, default=plain, allow_nan=True))
                    lines.write("\n")
        except (ValueError, TypeError, EOFError, OSError, KeyError) as error:
            raise InputError(
                f"{path.name}: not a readable Avro file: {error}", hint=LAYOUT_HINT
            ) from None
        out.append(target)
    return out


@contextlib.contextmanager
def _export_view(files: list[Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with the view ``export`` over the files, in the query's shape."""
    import duckdb

    kinds = {file_format(p) for p in files}
    if len({k for k, _ in kinds}) > 1:
        raise InputError(
            "the export files are of different formats: "
            + ", ".join(sorted({k for k, _ in kinds})),
            hint="give the files of one export",
        )
    kind = next(iter(kinds))[0]
    zipped = any(z for _, z in kinds)
    if zipped and not all(z for _, z in kinds):
        raise InputError(
            "some export files are gzip-compressed, others not", hint="give one export"
        )
    scratch = Path(tempfile.mkdtemp(prefix="gridcloud-report-"))
    try:
        readable = files
        if kind == "avro":
            readable, kind, zipped = _avro_to_jsonl(files, scratch), "json", False
        con = _connect(scratch, readable)
        try:
            if kind == "json":
                sample = next((i for i, p in enumerate(readable) if _head(p)[0].strip()), 0)
                view = _json_view(con, zipped, sample)
            elif kind == "parquet":
                view = _parquet_view(con)
            else:
                view = _csv_view(con, zipped)
            con.execute(f"CREATE TEMP VIEW export AS {view}")
            _lock(con, readable, scratch)
            yield con
        finally:
            con.close()
    except (duckdb.Error, UnicodeError) as error:  # UnicodeError: text DuckDB cannot decode
        raise _unreadable(error) from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _unreadable(error: Exception) -> InputError:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "DECIMAL" in text or "out of range" in text.lower():
        return InputError(
            f"the export holds an amount gridcloud cannot sum: {text}",
            hint="a cost or credit is not a finite amount of money (NaN, Infinity or beyond "
            "10^29): the file is damaged or not a billing export",
        )
    return InputError(f"not a billing export gridcloud can read: {text}", hint=LAYOUT_HINT)


def _duckdb_params(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if f"${k}" in sql}


def read(given: list[str], scope: Scope, *, month_given: bool) -> Fetched:
    """Run the query on local export files: ``scope``'s month, or (``month_given`` False)
    the last month with the project's data."""
    files = export_files(given)
    notes = shard_notes(files)
    with _export_view(files) as con:
        if not month_given:
            sql = to_duckdb(last_data_sql("export"))
            last = con.execute(sql, {"project": scope.project}).fetchone()
            if last is None or last[0] is None:
                raise InputError(
                    f"the export has no rows of project {scope.project}",
                    hint="check the profile's target.project, or give the export of its "
                    "billing account",
                )
            scope = replace(scope, month=date(last[0].year, last[0].month, 1))
        sql = duckdb_sql(scope)
        rows = con.execute(sql, _duckdb_params(sql, parameters(scope))).fetchall()
    return Fetched(
        rows=[_row(r) for r in rows], month=scope.month, month_given=month_given, notes=notes
    )


# --- BigQuery -------------------------------------------------------------------------------

#: --max-bytes's default: what one report may bill at most (BigQuery's on-demand price is
#: per TiB scanned).
DEFAULT_MAX_BYTES = 50 * 10**9
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)


def parse_bytes(text: str) -> int:
    found = _SIZE.match(text)
    if not found:
        raise InputError(f"--max-bytes {text}: not a size", hint="e.g. 20GB, 500MB, 1TiB or bytes")
    number, unit = Decimal(found[1]), (found[2] or "B").upper()
    powers = {"K": 1, "M": 2, "G": 3, "T": 4}
    base = 1024 if "I" in unit else 1000
    size = int(number * base ** powers.get(unit[0], 0)) if unit != "B" else int(number)
    if size <= 0:
        raise InputError(f"--max-bytes {text}: must be above zero", hint="e.g. 20GB")
    return size


def human_bytes(size: int) -> str:
    for unit, power in (("TB", 4), ("GB", 3), ("MB", 2), ("kB", 1)):
        if size >= 1000**power:
            return f"{size / 1000**power:,.2f} {unit}"
    return f"{size:,} bytes"


def partitioning_of(table: Any) -> Partitioning | None:
    """The partitioning a ``google.cloud.bigquery.Table`` declares (None: not partitioned
    by time)."""
    spec = getattr(table, "time_partitioning", None)
    if spec is None:
        return None
    column = getattr(spec, "field", None)
    if not column:
        return Partitioning("_PARTITIONTIME", "TIMESTAMP")
    kinds = {f.name: f.field_type for f in table.schema}
    kind = {"TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "DATETIME": "DATETIME"}.get(
        str(kinds.get(column, "")).upper()
    )
    return Partitioning(column, kind) if kind else None


def _bq_parameters(bigquery: Any, values: dict[str, Any]) -> list[Any]:
    out = []
    for name, value in values.items():
        kind = "TIMESTAMP" if isinstance(value, datetime) else "STRING"
        out.append(bigquery.ScalarQueryParameter(name, kind, value))
    return out


def _credentials_first() -> None:
    """Google credentials, found as ``gridcloud check`` finds them (a folder or an unreadable
    file named by GOOGLE_APPLICATION_CREDENTIALS included), before anything asks BigQuery."""
    from gridcloud.check.google import credentials

    found, result = credentials()
    if found is None:
        raise InputError(
            f"no Google credentials to query BigQuery with: {result.detail}",
            hint=f"{result.fix}; or download the export and use --export FILE",
        )


def from_bigquery(
    table: str,
    scope: Scope,
    *,
    month_given: bool,
    max_bytes: int,
    say: Any = None,
) -> Fetched:
    """Run the query in BigQuery on the export table ``PROJECT.DATASET.TABLE``: the scan
    bounded by the table's partitioning to the month (and its late days), priced by a dry
    run first, and capped by ``maximum_bytes_billed``."""
    if not re.fullmatch(r"[A-Za-z0-9_.:-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+", table):
        raise InputError(
            f"--table {table}: not a BigQuery table name", hint="give PROJECT.DATASET.TABLE"
        )
    _credentials_first()
    from google.cloud import bigquery

    from gridcloud.google_errors import failures, first_line

    notes: list[str] = []
    try:
        client = bigquery.Client(project=table.split(".", maxsplit=1)[0])
        meta = client.get_table(table)
        partitioning = partitioning_of(meta)
        if not month_given:
            partitions = [p for p in client.list_partitions(meta) if p[:6].isdigit()]
            if partitions:
                last = max(partitions)
                scope = replace(scope, month=date(int(last[:4]), int(last[4:6]), 1))
        if partitioning is None:
            notes.append(
                f"{table} is not partitioned by time: the query scans all of it "
                "(the detailed export's own table is partitioned; a copy may not be)"
            )
        sql = report_sql(scope, f"`{table}`", partitioning)
        values = parameters(scope) | (partition_bounds(scope) if partitioning else {})
        params = _bq_parameters(bigquery, values)
        dry = client.query(
            sql,
            job_config=bigquery.QueryJobConfig(
                dry_run=True, use_query_cache=False, query_parameters=params
            ),
        )
        scanned = int(dry.total_bytes_processed or 0)
        line = (
            f"BigQuery will scan {human_bytes(scanned)} of {table} "
            f"(at most {human_bytes(max_bytes)})"
        )
        if say is not None:
            say(line)
        notes.append(line)
        if scanned > max_bytes:
            raise InputError(
                f"the query would scan {human_bytes(scanned)}, over --max-bytes "
                f"{human_bytes(max_bytes)}",
                hint="raise --max-bytes if that is expected, or check the table's partitioning",
            )
        job = client.query(
            sql,
            job_config=bigquery.QueryJobConfig(
                query_parameters=params, maximum_bytes_billed=max_bytes
            ),
        )
        rows = [_row(tuple(r.values())) for r in job.result()]
    except failures() as error:
        raise InputError(
            f"BigQuery refused the report on {table}: {first_line(error)}",
            hint="check the table name and that you may run queries on it (BigQuery Data "
            "Viewer and Job User); or download the export and use --export FILE",
        ) from error
    return Fetched(rows=rows, month=scope.month, month_given=month_given, notes=notes)
