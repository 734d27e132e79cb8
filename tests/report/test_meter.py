"""`cost report --meter`: the spending meter's month, saved from the real meter's HTTP answer,
beside what the billing export (written as bq writes it) attributes to the same users."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from gridcloud.incluster import spending
from tests.conftest import PROFILES, require
from tests.report import exports

require("duckdb")
require("sqlglot")


def _meter_answer(folder: Path, figures: dict[str, str]) -> Path:
    """October's figures in the real meter's store, and its answer to
    ``GET /spend?month=2026-10`` saved as the docs say."""
    store = spending.Store(str(folder / "meter.sqlite"))
    for user, figure in figures.items():
        store.add("2026-10", "user", user, Decimal(figure))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = spending.serve(store, "127.0.0.1", port)
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/spend?month=2026-10", timeout=5
        ) as answer:
            body = answer.read()
    finally:
        server.shutdown()
        server.server_close()
        store.db.close()
    path = folder / "meter.json"
    path.write_bytes(body)
    return path


def _export(folder: Path) -> Path:
    ours = {"goog-k8s-cluster-name": exports.CLUSTER, "gridcloud-facility": "atlas-gcp"}
    lines = []
    start = datetime(2026, 10, 5, tzinfo=UTC)
    for hour in range(10):
        at = start + timedelta(hours=hour)
        for user, cost in (("alice", Decimal("0.40")), ("bob", Decimal("0.10"))):
            labels = {
                **ours,
                "gridcloud-pool": "ondemand",
                "k8s-namespace": "jupyter",
                exports.USER_LABEL: user,
            }
            lines.append(exports.Line(exports.PROJECT, at, cost, [], labels, exports.CORE))
    [path] = exports.bq_jsonl(lines, folder / "export")
    return path


def _report(*args: str) -> Any:
    return CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(PROFILES / "default.yaml"), "--month", "2026-10", *args],
    )


def test_the_meter_and_the_bill_side_by_side(tmp_path: Path) -> None:
    export = _export(tmp_path)
    # the meter: alice 4.50 (the bill: 10 x 0.40 = 4.00), carol's pods never billed yet
    meter = _meter_answer(tmp_path, {"alice": "4.5", "carol": "0.75"})
    result = _report("--export", str(export), "--meter", str(meter), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["meterByUser"]
    # by hand: alice 4.50 - 4.00; bob 0 - 10 x 0.10; carol 0.75 - 0
    assert rows == [
        {"user": "bob", "meter": "0.00", "bill": "1.00", "difference": "-1.00"},
        {"user": "carol", "meter": "0.75", "bill": "0.00", "difference": "0.75"},
        {"user": "alice", "meter": "4.50", "bill": "4.00", "difference": "0.50"},
    ]
    shown = _report("--export", str(export), "--meter", str(meter))
    assert shown.exit_code == 0, shown.output
    assert "the live meter against the bill" in shown.stdout


def test_a_meter_file_of_another_month_is_refused(tmp_path: Path) -> None:
    export = _export(tmp_path)
    other = tmp_path / "november.json"
    other.write_text(json.dumps({"month": "2026-11", "user": {}, "group": {}}))
    result = _report("--export", str(export), "--meter", str(other))
    assert result.exit_code == 2
    assert "the meter's month is '2026-11', the report's 2026-10" in result.output
