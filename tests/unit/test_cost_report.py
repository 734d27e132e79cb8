"""`gridcloud cost report`: the query BigQuery gets, the label scope, and what a damaged or
hostile export does (a clean error or the right result, never an internal error, never code
run from a file, never a terminal driven by a label). The figures from every export layout
are in tests/report/."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports
from tests.report.exports import CLUSTER, PROJECT, Line, cents

pytestmark = pytest.mark.needs("duckdb", "sqlglot")

BASE = ["cost", "report", str(PROFILES / "default.yaml")]


def _day(hours: int = 48, **change: Any) -> list[Line]:
    lines = exports.generate(datetime(2026, 10, 1, tzinfo=UTC), hours, seed=3)
    for line in lines:
        for key, value in change.items():
            setattr(line, key, value)
    return lines


def invoke(*args: str) -> Any:
    return CliRunner().invoke(create_cli(), [*BASE, *args])


def test_the_bigquery_query_takes_parameters_and_is_the_one_duckdb_runs() -> None:
    """No BigQuery here: the SQL it would send names the export table, takes every value
    as a parameter, sums money as NUMERIC, and is what DuckDB runs after transpiling."""
    import sqlglot

    from gridcloud.report.query import Partitioning, Scope, parameters, report_sql, table_name
    from gridcloud.report.source import duckdb_sql, to_duckdb

    scope = Scope(PROJECT, CLUSTER, "atlas-gcp", by_label=False, month=date(2026, 10, 1))
    table = f"`billing.exports.{table_name('012345-6789AB-CDEF01')}`"
    sql = report_sql(scope, table, Partitioning("_PARTITIONTIME", "TIMESTAMP"))
    assert "gcp_billing_export_resource_v1_012345_6789AB_CDEF01" in sql
    assert "project.id = @project" in sql and PROJECT not in sql
    assert "usage_start_time >= @start" in sql and "usage_start_time < @end" in sql
    assert "_PARTITIONTIME >= TIMESTAMP(@first) AND _PARTITIONTIME < TIMESTAMP(@last)" in sql
    assert "(cluster IS NULL OR cluster = @cluster)" in sql and CLUSTER not in sql
    assert "CAST(cost AS NUMERIC(38, 9))" in sql
    assert parameters(scope)["start"] == datetime(2026, 10, 1, tzinfo=UTC)
    sqlglot.parse_one(sql, read="bigquery")  # valid BigQuery SQL
    assert duckdb_sql(scope) == to_duckdb(report_sql(scope, "export"))
    assert "$project" in duckdb_sql(scope)
    with pytest.raises(ValueError, match="not a column name"):
        Partitioning("x; DROP TABLE t", "TIMESTAMP")


def test_a_shared_project_counts_only_the_facilitys_labelled_rows(tmp_path: Path) -> None:
    """budget.scope: label: the project's unlabelled costs (the NAT here) are not the
    facility's."""
    from gridcloud.report.query import Scope
    from gridcloud.report.source import read

    lines = _day()
    [path] = exports.bq_jsonl(lines, tmp_path)
    scope = Scope(PROJECT, CLUSTER, "atlas-gcp", by_label=True, month=date(2026, 10, 1))
    rows = read([str(path)], scope, month_given=True).rows
    labelled = [line for line in lines if line.labels]
    want = exports.expected(
        labelled, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert cents(sum((r.gross for r in rows), Decimal(0))) == cents(want["gross"])
    assert {r.pool for r in rows} == {"cpu", "ondemand", "control", None}


def test_a_missing_source_is_a_clean_error() -> None:
    nothing = invoke()
    assert nothing.exit_code == 2
    assert "gcp_billing_export_resource_v1_012345_6789AB_CDEF01" in nothing.stderr
    onprem = CliRunner().invoke(
        create_cli(), ["cost", "report", str(PROFILES / "onprem.yaml"), "--export", "x.json"]
    )
    assert onprem.exit_code == 2


def test_an_injection_in_a_csv_header_runs_nothing(tmp_path: Path) -> None:
    """Issue 25: a header cell that is SQL. Nothing is written, and the error names it."""
    target = tmp_path / "pwned.txt"
    header = f"usage_start_time,cost; COPY (SELECT 42) TO '{target}',project,labels"
    path = tmp_path / "export.csv"
    path.write_text(header + "\n" + '2026-10-01 00:00:00 UTC,1.0,"{}","[]"\n')
    result = invoke("--month", "2026-10", "--export", str(path))
    assert result.exit_code == 2, result.output
    assert not target.exists()
    assert "cost; COPY (SELECT 42)" in result.stderr
    assert "not in the export's schema" in result.stderr
    # the same text as a JSON key
    jsonl = tmp_path / "export.json"
    record: dict[str, Any] = {
        "usage_start_time": "2026-10-01 00:00:00 UTC",
        "project": {},
        "labels": [],
    }
    record[f"cost) FROM x; COPY (SELECT 42) TO '{target}'; --"] = 1
    jsonl.write_text(json.dumps(record) + "\n")
    again = invoke("--month", "2026-10", "--export", str(jsonl))
    assert again.exit_code == 2 and not target.exists()


def test_label_values_reach_the_terminal_as_text(tmp_path: Path) -> None:
    """Issue 25: escape sequences, NUL, the right-to-left override and rich markup in a
    user label are shown, not acted on."""
    lines = _day(hours=2)
    hostile = "\x1b[2J\x00\u202e[bold red]mallory[/]"
    for line in lines:
        if line.labels.get(exports.USER_LABEL) == "alice":
            line.labels[exports.USER_LABEL] = hostile
    [path] = exports.bq_jsonl(lines, tmp_path)
    result = invoke("--month", "2026-10", "--export", str(path))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x00" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "\\x1b[2J\\x00\\u202e[bold red]mallory[/]" in result.stdout


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("1e308", "cannot sum"),
        ("1e309", "cannot"),
        ("NaN", "not a billing export"),
        ("Infinity", "not a billing export"),
    ],
)
def test_impossible_amounts_are_a_clean_error(tmp_path: Path, cost: str, message: str) -> None:
    lines = _day(hours=2)
    [path] = exports.bq_jsonl(lines, tmp_path)
    text = path.read_text().splitlines()
    first = json.loads(text[0])
    first["project"]["id"] = PROJECT
    text[0] = json.dumps(first).replace(f'"cost": {first["cost"]}', f'"cost": {cost}')
    assert f'"cost": {cost}' in text[0]
    path.write_text("\n".join(text) + "\n")
    result = invoke("--month", "2026-10", "--export", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_bad_options_are_clean_errors(tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(_day(hours=2), tmp_path)
    for args, words in (
        (["--month", "9999-12"], "no billing data then"),
        (["--month", "2026-13"], "not a month"),
        (["--as-of", "yesterday"], "not a time"),
        (["--html", str(tmp_path / "no" / "such" / "r.html")], "does not exist"),
        (["--html", str(tmp_path)], "is a folder"),
        (["--max-bytes", "10GB"], "--max-bytes is for --table"),
    ):
        result = invoke("--export", str(path), *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.stderr, (args, result.stderr)
        assert "Hint:" in result.stderr


def test_a_profile_that_no_longer_validates_still_reports(tmp_path: Path) -> None:
    """The scope read leniently: a profile changed since (a field gridcloud no longer
    knows) still names the project, cluster and budget."""
    import yaml

    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["retiredField"] = True
    profile = tmp_path / "old.yaml"
    profile.write_text(yaml.safe_dump(data))
    lines = _day()
    [path] = exports.bq_jsonl(lines, tmp_path / "export")
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(profile), "--month", "2026-10", "--export", str(path), "--json"],
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert got["net"] == cents(want["net"])
    assert "read leniently" in got["scopeFrom"]
    # the day's net is far below $25,000 and its forecast too (by hand from _day's rows)
    assert got["budget"] == "25000.00" and got["verdict"] == "within"
    assert "does not validate" in result.stderr


def test_the_scope_of_a_deployed_stack_is_what_it_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--stack: the project, cluster and namespaces from the stack's outputs (as the program
    writes them), though the profile has since moved to another project; the budget from
    the profile. The Pulumi CLI is stood in for: read_state answers with the outputs."""
    import yaml

    from gridcloud.analysis import analyse
    from gridcloud.engine import stacks
    from gridcloud.plan.outputs import StackOutputs

    plan = analyse(PROFILES / "default.yaml").plan
    outputs = {**StackOutputs.of_plan(plan).exported(), "clusterName": CLUSTER}
    asked: list[str] = []

    def read_state(ref: Any) -> Any:
        asked.append(ref.name)
        return stacks.StackState(outputs, [])

    monkeypatch.setattr(stacks, "read_state", read_state)
    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["target"]["project"] = "atlas-moved-since"
    data["budget"]["monthly"] = 30000
    profile = tmp_path / "moved.yaml"
    profile.write_text(yaml.safe_dump(data))
    lines = _day()
    [path] = exports.bq_jsonl(lines, tmp_path / "export")
    result = CliRunner().invoke(
        create_cli(),
        [
            *["cost", "report", str(profile), "--stack", "atlas-gcp", "--month", "2026-10"],
            *["--export", str(path), "--json"],
        ],
    )
    assert result.exit_code == 0, result.output
    assert asked == ["atlas-gcp"]
    got = json.loads(result.stdout)
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert (got["project"], got["scopeFrom"]) == (PROJECT, "stack atlas-gcp")
    assert got["net"] == cents(want["net"])
    assert got["budget"] == "30000.00"
    assert got["namespaces"] == ["cvmfs", "grid", "jupyter", "reana"]
    assert {p["name"] for p in got["byService"]} >= {"grid site", "JupyterHub and Dask", "REANA"}


@pytest.mark.parametrize("given", ["none", "another facility's"])
def test_a_stack_is_compared_only_with_its_own_facilitys_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """--stack from a checkout: profiles/default.yaml (atlas-gcp) is not the budget of the
    stack of another facility; without a profile there is no budget, with another
    facility's profile the report refuses."""
    from gridcloud.analysis import analyse
    from gridcloud.engine import stacks
    from gridcloud.plan.outputs import StackOutputs

    plan = analyse(PROFILES / "default.yaml").plan
    written = StackOutputs.of_plan(plan).exported()
    outputs = {**written, "facility": "other-af", "clusterName": CLUSTER}
    monkeypatch.setattr(stacks, "read_state", lambda _ref: stacks.StackState(outputs, []))
    [path] = exports.bq_jsonl(_day(), tmp_path / "export")
    profile = [] if given == "none" else [str(PROFILES / "default.yaml")]
    result = CliRunner().invoke(
        create_cli(),
        [
            *["cost", "report", *profile, "--stack", "other-af", "--month", "2026-10"],
            *["--export", str(path), "--json"],
        ],
    )
    if given == "none":
        assert result.exit_code == 0, result.output
        got = json.loads(result.stdout)
        assert (got["budget"], got["verdict"]) == (None, None)
    else:
        assert result.exit_code == 2
        assert "the profile is facility atlas-gcp, the stack's is other-af" in result.stderr


def test_the_accounts_currency_is_carried_through(tmp_path: Path) -> None:
    """A billing account in euros and the profile's budget in euros: every figure in EUR,
    no dollar sign anywhere, the verdict taken against the EUR budget. (Against a USD budget
    the report is refused: tests/report/test_currency.py.)"""
    import yaml

    data = yaml.safe_load((PROFILES / "default.yaml").read_text())
    data["budget"]["currency"] = "EUR"
    profile = tmp_path / "euros.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = _day(currency="EUR")
    [path] = exports.bq_jsonl(lines, tmp_path)
    page = tmp_path / "report.html"

    def euros(*args: str) -> Any:
        return CliRunner().invoke(create_cli(), ["cost", "report", str(profile), *args])

    shown = euros("--month", "2026-10", "--export", str(path), "--html", str(page))
    assert shown.exit_code == 0, shown.output
    assert "$" not in shown.stdout and "$" not in page.read_text()
    want = exports.expected(
        lines, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert f"net €{Decimal(cents(want['net'])):,}" in shown.stdout
    got = json.loads(euros("--month", "2026-10", "--export", str(path), "--json").stdout)
    assert got["currency"] == "EUR" and Decimal(str(got["budget"])) == 25_000
    assert got["verdict"] == ("over" if Decimal(str(got["forecast"])) > 25_000 else "within")


def test_the_connection_reads_only_the_export(tmp_path: Path) -> None:
    """The second wall behind the quoting: once the export is open, the DuckDB connection
    may neither write a file nor read another, nor lift that."""
    import duckdb

    from gridcloud.report.source import _export_view

    [path] = exports.bq_jsonl(_day(hours=2), tmp_path)
    target = tmp_path / "x.txt"
    with _export_view([path]) as con:
        assert con.execute("SELECT count(*) FROM export").fetchone() == (len(_day(hours=2)),)
        for sql in (
            f"COPY (SELECT 42) TO '{target}'",
            "SELECT * FROM read_csv('/etc/passwd')",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
    assert not target.exists()
