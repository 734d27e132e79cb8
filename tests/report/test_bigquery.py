"""`cost report --table`: through google-cloud-bigquery's own classes, with the cloud calls
stood in for by a client that answers from DuckDB: the query is bounded by the partitioning
the table's metadata declares, priced by a dry run that is printed first, capped by
maximum_bytes_billed, and takes its values as parameters; missing credentials are named
before anything is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES, require
from tests.report import exports
from tests.report.exports import Line, cents

pytestmark = pytest.mark.needs("duckdb")
bigquery = require("google.cloud.bigquery")

TABLE = "billing-admin.billing.gcp_billing_export_resource_v1_012345_6789AB_CDEF01"


class Answer:
    def __init__(self, values: tuple[Any, ...]) -> None:
        self._values = values

    def values(self) -> tuple[Any, ...]:
        return self._values


class Job:
    def __init__(self, rows: list[tuple[Any, ...]], scanned: int) -> None:
        self.rows, self.total_bytes_processed = rows, scanned

    def result(self) -> list[Answer]:
        return [Answer(r) for r in self.rows]


class FakeClient:
    """What the report calls: get_table, list_partitions, query (dry or not)."""

    calls: list[tuple[str, Any]]
    export: Path
    scanned = 2_410_000_000
    partitioned_by: str | None = None  # None: ingestion time

    def __init__(self, project: str | None = None, **_: Any) -> None:
        self.project = project

    def get_table(self, name: str) -> Any:
        table = bigquery.Table(
            name.replace(":", "."), schema=[bigquery.SchemaField("usage_start_time", "TIMESTAMP")]
        )
        table.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=self.partitioned_by
        )
        self.calls.append(("get_table", name))
        return table

    def list_partitions(self, _table: Any) -> list[str]:
        return ["20261030", "20261101", "20261102", "__NULL__"]

    def query(self, sql: str, job_config: Any) -> Job:
        import duckdb

        from gridcloud.report.source import to_duckdb

        self.calls.append(("query", (sql, job_config)))
        if job_config.dry_run:
            return Job([], self.scanned)
        params = {p.name: p.value for p in job_config.query_parameters}
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in exports.DUCKDB_SCHEMA.items()) + "}"
        con.execute(
            f"CREATE VIEW export AS SELECT * REPLACE (CAST(usage_start_time AS TIMESTAMPTZ) "
            f"AS usage_start_time), date_trunc('day', CAST(usage_start_time AS TIMESTAMPTZ)) "
            f"AS _PARTITIONTIME FROM read_json('{self.export}', columns = {spec})"
        )
        local = to_duckdb(sql.replace(f"`{TABLE}`", "export"))
        rows = con.execute(local, {k: v for k, v in params.items() if f"${k}" in local}).fetchall()
        con.close()
        return Job(rows, self.scanned)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Line], Path]:
    lines = exports.october()
    [path] = exports.bq_jsonl(lines, tmp_path_factory.mktemp("bigquery"))
    return lines, path


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, month: tuple[list[Line], Path]) -> type[FakeClient]:
    import google.auth

    lines, path = month
    FakeClient.calls = []
    FakeClient.export = path
    FakeClient.lines = lines  # type: ignore[attr-defined]
    monkeypatch.setattr(bigquery, "Client", FakeClient)
    monkeypatch.setattr(google.auth, "default", lambda **_: (object(), "billing-admin"))
    return FakeClient


def run(*args: str) -> Any:
    return CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--table", TABLE, *args],
    )


def test_the_month_is_priced_then_read_within_its_partitions(client: type[FakeClient]) -> None:
    result = run("--month", "2026-10", "--json")
    assert result.exit_code == 0, result.output
    assert "BigQuery will scan 2.41 GB of" in result.stderr
    queries = [c[1] for c in client.calls if c[0] == "query"]
    (dry_sql, dry), (sql, real) = queries
    assert dry.dry_run and not real.dry_run and dry_sql == sql
    assert real.maximum_bytes_billed == 50 * 10**9
    # the partition filter from the metadata: ingestion time, the month and 3 late days
    assert "_PARTITIONTIME >= TIMESTAMP(@first) AND _PARTITIONTIME < TIMESTAMP(@last)" in sql
    params = {p.name: (p.type_, p.value) for p in real.query_parameters}
    assert params["first"] == ("STRING", "2026-10-01")
    assert params["last"] == ("STRING", "2026-11-04")
    assert params["project"] == ("STRING", "atlas-analysis-facility")
    assert params["start"] == ("TIMESTAMP", datetime(2026, 10, 1, tzinfo=UTC))
    assert "atlas-analysis-facility" not in sql
    got = json.loads(result.stdout)
    lines: list[Line] = client.lines  # type: ignore[attr-defined]
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert got["net"] == cents(want["net"])
    assert got["source"] == f"BigQuery {TABLE}"


def test_a_partitioning_column_is_used_when_the_table_has_one(client: type[FakeClient]) -> None:
    client.partitioned_by = "usage_start_time"
    try:
        result = run("--month", "2026-10", "--json")
    finally:
        client.partitioned_by = None
    assert result.exit_code == 0, result.output
    sql = next(c[1][0] for c in client.calls if c[0] == "query")
    assert "usage_start_time >= TIMESTAMP(@first)" in sql


def test_over_max_bytes_nothing_is_run(client: type[FakeClient]) -> None:
    result = run("--month", "2026-10", "--max-bytes", "1GB")
    assert result.exit_code == 2
    assert "would scan 2.41 GB, over --max-bytes 1.00 GB" in result.stderr
    assert [c[1][1].dry_run for c in client.calls if c[0] == "query"] == [True]


def test_without_month_the_last_partitions_month(client: type[FakeClient]) -> None:
    result = run("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["month"] == "2026-11"


def test_missing_credentials_are_named_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def none(**_: Any) -> Any:
        raise DefaultCredentialsError("Your default credentials were not found.")  # type: ignore[no-untyped-call]

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("no client without credentials")

    monkeypatch.setattr(google.auth, "default", none)
    monkeypatch.setattr(bigquery, "Client", never)
    result = run("--month", "2026-10")
    assert result.exit_code == 2
    assert "no Google credentials" in result.stderr
    assert "gcloud auth application-default login" in result.stderr


def test_credentials_that_are_a_folder_are_named_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("no client without credentials")

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path))
    monkeypatch.setattr(bigquery, "Client", never)
    result = run("--month", "2026-10")
    assert result.exit_code == 2, result.output
    assert "the credentials file cannot be read" in result.stderr
    assert "internal error" not in result.stderr


def test_sizes_for_max_bytes() -> None:
    from gridcloud.errors import InputError
    from gridcloud.report.source import human_bytes, parse_bytes

    assert parse_bytes("20GB") == 20 * 10**9
    assert parse_bytes("500 MB") == 500 * 10**6
    assert parse_bytes("1TiB") == 2**40
    assert parse_bytes("1.5GB") == 1_500_000_000
    assert parse_bytes("123") == 123
    for bad in ("lots", "-1GB", "0", "1PB"):
        with pytest.raises(InputError):
            parse_bytes(bad)
    assert human_bytes(2_410_000_000) == "2.41 GB"
