"""`gridcloud cost report` on a generated detailed billing export: October 2026, hourly rows
for the default facility's pools and namespaces (GKE cost allocation's labels, users,
credits), with what a billing account also holds: another cluster in the same project,
another project, rows of the months before and after. The expected figures are summed here
from the generated rows, independently of the report's query."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES, require

require("duckdb")
require("sqlglot")

PROJECT = "atlas-analysis-facility"
CLUSTER = "atlas-gcp"
CENT = Decimal("0.01")
CORE = "Spot Preemptible N2D AMD Instance Core running in Americas"
RAM = "Spot Preemptible N2D AMD Instance Ram running in Americas"


@dataclass
class Line:
    project: str
    start: datetime
    cost: Decimal
    credits: list[Decimal]
    labels: dict[str, str]
    sku: str
    cores: Decimal = Decimal(0)

    def export(self) -> dict[str, Any]:
        """As the detailed export's schema has it (nested records and arrays)."""
        end = self.start + timedelta(hours=1)
        core = self.sku == CORE
        return {
            "billing_account_id": "012345-6789AB-CDEF01",
            "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
            "sku": {"id": "0000-0000-0000", "description": self.sku},
            "usage_start_time": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "usage_end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "project": {"id": self.project, "number": "123456789012", "name": self.project},
            "labels": [{"key": k, "value": v} for k, v in self.labels.items()],
            "system_labels": [],
            "location": {"location": "us-central1", "region": "us-central1"},
            "resource": {"name": "gke-node", "global_name": "//compute/instances/x"},
            "cost": float(self.cost),
            "currency": "USD",
            "usage": {
                "amount": float(self.cores * 3600) if core else 1.0,
                "unit": "seconds" if core else "byte-seconds",
                "amount_in_pricing_units": float(self.cores) if core else 1.0,
                "pricing_unit": "hour" if core else "gibibyte hour",
            },
            "credits": [
                {
                    "name": "Sustained usage discount",
                    "amount": float(c),
                    "type": "SUSTAINED_USAGE_DISCOUNT",
                }
                for c in self.credits
            ],
            "invoice": {"month": self.start.strftime("%Y%m")},
            "cost_type": "regular",
        }


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 6)))


def generate() -> list[Line]:
    rng = random.Random(20261031)
    lines: list[Line] = []
    ours = {"goog-k8s-cluster-name": CLUSTER, "gridcloud-facility": "atlas-gcp"}
    start = datetime(2026, 9, 30, 20, tzinfo=UTC)  # from the month before
    for hour in range(24 * 31 + 8):  # into the month after
        at = start + timedelta(hours=hour)
        busy = 9 <= at.hour < 21
        pods = [
            ("cpu", "grid", None, 40.0 if busy else 5.0),
            ("cpu", "kube:unallocated", None, 3.0),
            ("ondemand", "jupyter", "alice", 0.8),
            ("ondemand", "jupyter", "bob", 0.5 if busy else 0.0),
            ("ondemand", "reana", None, 0.4),
            ("control", "kube:system-overhead", None, 0.05),
            ("control", "jupyter", None, 0.03),
        ]
        for pool, namespace, user, scale in pods:
            if scale == 0:
                continue
            labels = {**ours, "gridcloud-pool": pool, "k8s-namespace": namespace}
            if user:
                labels["k8s-label/hub.jupyter.org/username"] = user
            cost = _money(rng, 0.5 * scale, 1.5 * scale)
            credits = (
                [-(cost * Decimal("0.2")).quantize(Decimal("0.000001"))]
                if pool == "control"
                else []
            )
            cores = Decimal(str(round(rng.uniform(1, 80), 3)))
            lines.append(Line(PROJECT, at, cost, credits, labels, CORE, cores))
            lines.append(
                Line(PROJECT, at, _money(rng, 0.1, 0.3) * Decimal(str(scale)), [], labels, RAM)
            )
        # the project's own costs outside the cluster (Cloud NAT): the facility's
        lines.append(Line(PROJECT, at, _money(rng, 0.04, 0.05), [], {}, "Cloud NAT Gateway"))
        # another cluster in the same project, and another project: never counted
        other = {"goog-k8s-cluster-name": "other-cluster", "k8s-namespace": "grid"}
        lines.append(Line(PROJECT, at, _money(rng, 5, 9), [], other, CORE, Decimal(8)))
        lines.append(Line("someone-else", at, _money(rng, 5, 9), [], ours, CORE, Decimal(8)))
    return lines


def expected(lines: list[Line]) -> dict[str, Any]:
    """The facility's October, summed row by row."""
    october = [
        line
        for line in lines
        if line.project == PROJECT
        and line.start.year == 2026
        and line.start.month == 10
        and line.labels.get("goog-k8s-cluster-name", CLUSTER) == CLUSTER
    ]
    gross = sum((line.cost for line in october), Decimal(0))
    credits = sum((c for line in october for c in line.credits), Decimal(0))
    by: dict[str, dict[str, Decimal]] = {"pool": {}, "namespace": {}, "user": {}, "day": {}}
    cores = Decimal(0)
    for line in october:
        net = line.cost + sum(line.credits, Decimal(0))
        keys = {
            "pool": line.labels.get("gridcloud-pool", "(not a node)"),
            "namespace": line.labels.get("k8s-namespace", "(outside the cluster's pods)"),
            "user": line.labels.get("k8s-label/hub.jupyter.org/username"),
            "day": line.start.date().isoformat(),
        }
        for kind, key in keys.items():
            if key is not None:
                by[kind][key] = by[kind].get(key, Decimal(0)) + net
        if line.sku == CORE:
            cores += line.cores
    return {
        "gross": gross,
        "credits": credits,
        "net": gross + credits,
        "by": by,
        "cores": cores,
        "lines": len(october),
    }


@pytest.fixture(scope="module")
def lines() -> list[Line]:
    return generate()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory, lines: list[Line]) -> Path:
    path = tmp_path_factory.mktemp("export") / "gcp_billing_export_resource_v1.jsonl"
    path.write_text("\n".join(json.dumps(line.export()) for line in lines) + "\n")
    return path


def _report(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--month", "2026-10", "--json", *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT))


def test_totals_match_an_independent_sum_to_the_cent(export: Path, lines: list[Line]) -> None:
    want = expected(lines)
    got = _report("--export", str(export))
    assert len(lines) > 10_000  # a month of hourly rows: large enough to matter
    assert (got["gross"], got["credits"], got["net"]) == (
        _cents(want["gross"]),
        _cents(want["credits"]),
        _cents(want["net"]),
    )
    assert got["lineItems"] == want["lines"]
    assert Decimal(got["net"]) == Decimal(got["gross"]) + Decimal(got["credits"])


def test_other_clusters_projects_and_months_are_excluded(export: Path, lines: list[Line]) -> None:
    got = _report("--export", str(export))
    everything = sum((line.cost for line in lines), Decimal(0))
    assert Decimal(got["gross"]) < everything
    # the other cluster's and project's costs alone would be above 5 USD an hour
    days = [d["day"] for d in got["byDay"]]
    assert days[0] == "2026-10-01" and days[-1] == "2026-10-31" and len(days) == 31


def test_by_pool_service_user_and_day(export: Path, lines: list[Line]) -> None:
    want = expected(lines)["by"]
    got = _report("--export", str(export))
    assert {p["name"]: p["net"] for p in got["byPool"]} == {
        k: _cents(v) for k, v in want["pool"].items()
    }
    services = {
        "grid": "grid site",
        "jupyter": "JupyterHub and Dask",
        "reana": "REANA",
        "kube:unallocated": "idle capacity (unallocated)",
        "kube:system-overhead": "system overhead",
        "(outside the cluster's pods)": "(outside the cluster's pods)",
    }
    assert {p["name"]: p["net"] for p in got["byService"]} == {
        services[k]: _cents(v) for k, v in want["namespace"].items()
    }
    assert {p["name"]: p["net"] for p in got["byUser"]} == {
        k: _cents(v) for k, v in want["user"].items()
    }
    assert {d["day"]: d["net"] for d in got["byDay"]} == {
        k: _cents(v) for k, v in want["day"].items()
    }
    assert got["idle"] == _cents(want["namespace"]["kube:unallocated"])


def test_burn_rate_forecast_and_cost_per_core_hour(export: Path, lines: list[Line]) -> None:
    want = expected(lines)
    got = _report("--export", str(export))
    # a past month: all 31 days elapsed, the forecast is what was spent
    assert (got["daysElapsed"], got["daysInMonth"]) == (31, 31)
    assert got["burnPerDay"] == _cents(want["net"] / 31)
    assert got["forecast"] == _cents(want["net"])
    assert got["budget"] == "25000.00"
    assert got["perCoreHour"] == str((want["net"] / want["cores"]).quantize(Decimal("0.0001")))


def test_parquet_and_csv_exports_give_the_same_report(
    export: Path, tmp_path: Path, lines: list[Line]
) -> None:
    import duckdb

    parquet = tmp_path / "export.parquet"
    csv = tmp_path / "export.csv"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json('{export}')) TO '{parquet}' (FORMAT parquet)")
    # a CSV keeps the nested columns as JSON text
    con.execute(
        f"COPY (SELECT * REPLACE (to_json(labels) AS labels, to_json(credits) AS credits, "
        f"to_json(project) AS project, to_json(sku) AS sku, to_json(usage) AS usage) "
        f"FROM read_json('{export}')) TO '{csv}' (FORMAT csv, HEADER)"
    )
    con.close()
    want = _report("--export", str(export))
    for path in (parquet, csv):
        got = _report("--export", str(path))
        assert (got["gross"], got["credits"], got["net"], got["byPool"]) == (
            want["gross"],
            want["credits"],
            want["net"],
            want["byPool"],
        )


def test_the_html_report_is_self_contained_with_its_plot(export: Path, tmp_path: Path) -> None:
    from html.parser import HTMLParser

    page = tmp_path / "report.html"
    _report("--export", str(export), "--html", str(page))
    text = page.read_text()
    tags: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append(tag)
            assert not [v for k, v in attrs if k in ("src", "href") and v], (tag, attrs)

    Tags().feed(text)
    assert "script" not in tags  # nothing runs, nothing is fetched
    assert tags.count("svg") == 1
    assert tags.count("rect") == 31  # a bar a day
    assert "line" in tags  # the budget's daily share


def test_the_terminal_report_charts_each_day_against_the_budget(export: Path) -> None:
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--month",
            "2026-10",
            "--export",
            str(export),
        ],
    )
    assert result.exit_code == 0, result.output
    days = [line for line in result.stdout.splitlines() if line.lstrip("│ ").startswith("2026-10-")]
    assert len(days) == 31
    # 25,000 USD / 31 days = 806.45 a day: every day of this facility stays under it
    assert all("|" in line for line in days)
    assert "within" in result.stdout


def test_the_bigquery_query_is_the_one_duckdb_runs(export: Path) -> None:
    """No BigQuery here: the SQL it would send names the export table, filters the facility,
    and is what DuckDB ran after sqlglot's transpiling."""
    import sqlglot

    from gridcloud.report.query import Scope, report_sql, table_name
    from gridcloud.report.source import duckdb_sql

    scope = Scope(PROJECT, CLUSTER, "atlas-gcp", by_label=False, month=datetime(2026, 10, 1).date())
    table = f"`billing.exports.{table_name('012345-6789AB-CDEF01')}`"
    sql = report_sql(scope, table)
    assert "gcp_billing_export_resource_v1_012345_6789AB_CDEF01" in sql
    assert "project.id = 'atlas-analysis-facility'" in sql
    assert "TIMESTAMP('2026-10-01')" in sql and "TIMESTAMP('2026-11-01')" in sql
    assert "(cluster IS NULL OR cluster = 'atlas-gcp')" in sql
    assert "UNNEST(labels)" in sql and "UNNEST(credits)" in sql
    sqlglot.parse_one(sql, read="bigquery")  # valid BigQuery SQL
    local = duckdb_sql(scope)
    assert (
        sqlglot.transpile(report_sql(scope, "export"), read="bigquery", write="duckdb")[0] == local
    )


def test_a_missing_source_or_bad_file_is_a_clean_error(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["cost", "report", str(PROFILES / "default.yaml")]
    nothing = runner.invoke(create_cli(), base)
    assert nothing.exit_code == 2
    assert "gcp_billing_export_resource_v1_012345_6789AB_CDEF01" in nothing.stderr
    bad = tmp_path / "export.jsonl"
    bad.write_text('{"hello": 1}\n')
    wrong = runner.invoke(create_cli(), [*base, "--export", str(bad)])
    assert wrong.exit_code == 2
    assert "not a billing export" in wrong.stderr
    assert "Traceback" not in wrong.output
    onprem = runner.invoke(
        create_cli(), ["cost", "report", str(PROFILES / "onprem.yaml"), "--export", str(bad)]
    )
    assert onprem.exit_code == 2


def test_a_shared_project_counts_only_the_facilitys_labelled_rows(
    export: Path, lines: list[Line]
) -> None:
    """budget.scope: label: the project's unlabelled costs (the NAT here) are not the
    facility's."""
    from gridcloud.report.query import Scope
    from gridcloud.report.source import from_export

    scope = Scope(PROJECT, CLUSTER, "atlas-gcp", by_label=True, month=datetime(2026, 10, 1).date())
    rows = from_export(export, scope)
    want = expected([line for line in lines if line.labels])
    assert _cents(sum((r.gross for r in rows), Decimal(0))) == _cents(want["gross"])
    assert {r.pool for r in rows} == {"cpu", "ondemand", "control"}
