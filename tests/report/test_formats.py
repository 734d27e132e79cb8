"""`gridcloud cost report` reads every export a user gets from Google, and each gives the same
figures, equal to an independent sum of the generated month to the cent: bq's JSONL (its
timestamp text), gzip-compressed, split into numbered files (given as a glob, a folder or
one by one), BigQuery's Parquet and Avro, and CSV flattened or with JSON columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES
from tests.report import exports
from tests.report.exports import Line, cents

pytestmark = pytest.mark.needs("duckdb", "sqlglot", "fastavro")

OCTOBER = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def lines() -> list[Line]:
    return exports.october()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


def report(*args: str, month: str | None = "2026-10") -> dict[str, Any]:
    chosen = ["--month", month] if month else []
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--json", *chosen, *args],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def figures(got: dict[str, Any]) -> dict[str, Any]:
    return {
        "gross": got["gross"],
        "credits": got["credits"],
        "net": got["net"],
        "lines": got["lineItems"],
        "pool": {p["name"]: p["net"] for p in got["byPool"]},
        "service": {p["name"]: p["net"] for p in got["byService"]},
        "user": {p["name"]: p["net"] for p in got["byUser"]},
        "day": {d["day"]: d["net"] for d in got["byDay"]},
        "credit": {p["name"]: p["net"] for p in got["creditsByType"]},
    }


def want(lines: list[Line]) -> dict[str, Any]:
    sums = exports.expected(lines, *OCTOBER)
    by = sums["by"]
    services = {
        "grid": "grid site",
        "jupyter": "JupyterHub and Dask",
        "reana": "REANA",
        "kube:unallocated": "idle capacity (unallocated)",
        "kube:system-overhead": "system overhead",
        "goog-k8s-unsupported-sku": "Kubernetes Engine (not split by namespace)",
        "Networking": "Networking",
    }
    credit_names = {
        "PROMOTION": "promotions and research credits",
        "SUSTAINED_USAGE_DISCOUNT": "sustained use discounts",
    }
    return {
        "gross": cents(sums["gross"]),
        "credits": cents(sums["credits"]),
        "net": cents(sums["net"]),
        "lines": sums["lines"],
        "pool": {k: cents(v) for k, v in by["pool"].items()},
        "service": {services[k]: cents(v) for k, v in by["namespace"].items()},
        "user": {
            ("(unattributed: no hub user's pod)" if k == "unattributed" else k): cents(v)
            for k, v in by["user"].items()
        },
        "day": {k: cents(v) for k, v in by["day"].items()},
        "credit": {credit_names[k]: cents(v) for k, v in by["credit"].items()},
    }


def test_bq_jsonl_matches_an_independent_sum(lines: list[Line], folder: Path) -> None:
    [path] = exports.bq_jsonl(lines, folder / "plain")
    assert " UTC" in path.read_text().splitlines()[0]  # bq's timestamp text
    got = report("--export", str(path))
    assert len(lines) > 10_000
    assert figures(got) == want(lines)
    assert abs(Decimal(got["net"]) - Decimal(got["gross"]) - Decimal(got["credits"])) <= Decimal(
        "0.01"
    )
    # the parts add up to the whole (users with the unattributed rest)
    for key in ("byPool", "byService", "byUser"):
        assert sum(Decimal(p["net"]) for p in got[key]) == pytest.approx(
            Decimal(got["net"]), abs=Decimal("0.05")
        )


def test_research_credits_lead_the_credits_by_type(lines: list[Line], folder: Path) -> None:
    [path] = exports.bq_jsonl(lines, folder / "credits")
    got = report("--export", str(path))
    assert got["creditsByType"][0]["name"] == "promotions and research credits"


@pytest.mark.parametrize(
    "layout",
    [
        "split-gzip-glob",
        "split-folder",
        "split-each",
        "parquet",
        "avro",
        "csv-flat",
        "csv-json",
        "csv-flat-gzip",
    ],
)
def test_every_export_layout_gives_the_same_figures(
    layout: str, lines: list[Line], folder: Path
) -> None:
    import gzip

    place = folder / layout
    place.mkdir()
    if layout == "split-gzip-glob":
        shards = exports.bq_jsonl(lines, place, files=3, gzipped=True)
        assert [p.name for p in shards] == [f"export-{i:012d}.json" for i in range(3)]
        assert shards[0].read_bytes()[:2] == b"\x1f\x8b"
        args = ["--export", str(place / "export-*.json")]
    elif layout == "split-folder":
        # the first file empty (as a split export may hold): its keys cannot be checked
        for shard in sorted(exports.bq_jsonl(lines, place, files=2), reverse=True):
            number = int(shard.name[7:19])
            shard.rename(place / f"export-{number + 1:012d}.json")
        (place / "export-000000000000.json").write_text("")
        args = ["--export", str(place)]
    elif layout == "split-each":
        shards = exports.bq_jsonl(lines, place, files=2)
        args = [a for p in shards for a in ("--export", str(p))]
    elif layout == "parquet":
        args = ["--export", str(exports.bigquery_parquet(lines, place / "export.parquet"))]
    elif layout == "avro":
        args = ["--export", str(exports.bigquery_avro(lines, place / "export.avro"))]
    elif layout == "csv-flat":
        path = exports.csv_flattened(lines, place / "export.csv")
        assert "service.description" in path.read_text().splitlines()[0]
        args = ["--export", str(path)]
    elif layout == "csv-flat-gzip":
        path = exports.csv_flattened(lines, place / "export.csv")
        zipped = place / "export.csv.gz"
        zipped.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        args = ["--export", str(zipped)]
    else:
        args = ["--export", str(exports.csv_json_columns(lines, place / "export.csv"))]
    assert figures(report(*args)) == want(lines)


def test_a_month_without_a_single_credit_is_read(lines: list[Line], folder: Path) -> None:
    """``credits: []`` on every row: DuckDB alone would type the column as JSON."""
    bare = [
        Line(
            line.project, line.start, line.cost, [], line.labels, line.sku, line.service, line.cores
        )
        for line in lines
    ]
    [path] = exports.bq_jsonl(bare, folder / "no-credits")
    got = report("--export", str(path))
    sums = exports.expected(bare, *OCTOBER)
    assert (got["gross"], got["credits"], got["net"]) == (
        cents(sums["gross"]),
        "0.00",
        cents(sums["gross"]),
    )
    assert got["creditsByType"] == []


def test_the_month_defaults_to_the_last_with_data(lines: list[Line], folder: Path) -> None:
    """The export runs into 1 November (08:00): without --month, November, said so."""
    [path] = exports.bq_jsonl(lines, folder / "default-month")
    result = CliRunner().invoke(
        create_cli(), ["cost", "report", str(PROFILES / "default.yaml"), "--export", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "2026-11 (the last month with data" in result.stdout
    got = report("--export", str(path), month=None)
    assert (got["month"], got["monthChosen"]) == ("2026-11", "last with data")
    first = exports.expected(
        lines, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert got["net"] == cents(first["net"])
    assert got["asOf"] == "2026-11-01T08:00:00Z"


def test_a_file_that_is_no_export_names_the_accepted_layouts(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["cost", "report", str(PROFILES / "default.yaml"), "--month", "2026-10"]
    for name, text in (
        ("export.json", '{"hello": 1}\n'),
        ("export.csv", "a,b\n1,2\n"),
        ("export.bin", "\x00\x01binary"),
    ):
        bad = tmp_path / name
        bad.write_text(text)
        result = runner.invoke(create_cli(), [*base, "--export", str(bad)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "NEWLINE_DELIMITED_JSON" in result.stderr and "flattened" in result.stderr
    missing = runner.invoke(create_cli(), [*base, "--export", str(tmp_path / "nope-*.json")])
    assert missing.exit_code == 2 and "no files there" in missing.stderr


def test_an_unquoted_glob_is_named(folder: Path, lines: list[Line]) -> None:
    """`--export export-*.json` unquoted: the shell puts the second file where the profile
    goes."""
    shards = exports.bq_jsonl(lines[:100], folder / "unquoted", files=2)
    result = CliRunner().invoke(
        create_cli(), ["cost", "report", "--export", str(shards[0]), str(shards[1])]
    )
    assert result.exit_code == 2
    assert "quote a glob" in result.stderr


def test_a_missing_file_of_a_split_export_is_warned(folder: Path, lines: list[Line]) -> None:
    place = folder / "lost-shard"
    shards = exports.bq_jsonl(lines, place, files=3)
    shards[1].unlink()
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--month",
            "2026-10",
            "--export",
            str(place),
        ],
    )
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert "warning files of the split export are missing: export-000000000001.json" in shown


def test_one_file_of_a_split_export_given_alone_is_warned(folder: Path, lines: list[Line]) -> None:
    """Issue 19: one file of two gives silently low figures. Given alone, the other file
    beside it is named."""
    place = folder / "one-of-two"
    first, _ = exports.bq_jsonl(lines, place, files=2)
    got, warnings = _json_and_stderr("--export", str(first))
    shown = " ".join(warnings.split())
    assert "lie beside the given ones but were not given: export-000000000001.json" in shown
    assert any("export-000000000001.json" in w for w in got["warnings"])


def _json_and_stderr(*args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--month", "2026-10", "--json", *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr
