"""``cost report`` breaks out network egress and Cloud Storage by SKU: line items of the
facility bucket (service "Cloud Storage") and of egress SKUs (Compute Engine's "Network
Internet Data Transfer Out ...", Cloud Storage's "Download ..."), written as ``bq extract``
writes the export, summed here with Decimal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import PROFILES, require
from tests.report import exports
from tests.report.exports import Line

require("duckdb")
require("sqlglot")

OURS = {"goog-k8s-cluster-name": exports.CLUSTER, "gridcloud-facility": "atlas-gcp"}
# the bucket's own labels (no cluster label: it is not a node)
BUCKET = {"gridcloud-facility": "atlas-gcp", "managed-by": "gridcloud"}
STORAGE = "Standard Storage Iowa"
DOWNLOAD = "Download Worldwide Destinations (excluding Asia & Australia)"
EGRESS = "Network Internet Data Transfer Out from Americas to Europe"
PEERING = "Network Egress via Carrier Peering Network - Americas Based"


def _lines() -> list[Line]:
    start = datetime(2026, 10, 3, tzinfo=UTC)
    found: list[Line] = []
    for hour in range(48):
        at = start + timedelta(hours=hour)
        found += [
            Line(exports.PROJECT, at, Decimal("0.027397"), [], BUCKET, STORAGE, "Cloud Storage"),
            Line(exports.PROJECT, at, Decimal("0.5"), [], BUCKET, DOWNLOAD, "Cloud Storage"),
            Line(
                exports.PROJECT, at, Decimal("1.2"), [], {**OURS, "gridcloud-pool": "cpu"}, EGRESS
            ),
            Line(
                exports.PROJECT, at, Decimal("0.1"), [], {**OURS, "gridcloud-pool": "cpu"}, PEERING
            ),
            # not data: a core-hour
            Line(
                exports.PROJECT,
                at,
                Decimal("3"),
                [],
                {**OURS, "gridcloud-pool": "cpu", "k8s-namespace": "grid"},
                exports.CORE,
                cores=Decimal(80),
            ),
        ]
    return found


def test_egress_and_storage_by_sku(tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(_lines(), tmp_path / "data")
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--json",
            "--month",
            "2026-10",
            "--export",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    got: dict[str, Any] = json.loads(result.stdout)
    skus = {p["name"]: Decimal(p["net"]) for p in got["byDataSku"]}
    # 48 hours each: 0.027397 x 48 = 1.315056; 0.5 x 48 = 24; 1.2 x 48 = 57.6; 0.1 x 48 = 4.8
    assert skus == {
        f"Compute Engine: {EGRESS}": Decimal("57.60"),
        f"Compute Engine: {PEERING}": Decimal("4.80"),
        f"Cloud Storage: {DOWNLOAD}": Decimal("24.00"),
        f"Cloud Storage: {STORAGE}": Decimal("1.32"),
    }
    # the whole still adds up: 48 x (0.027397 + 0.5 + 1.2 + 0.1 + 3) = 231.715056
    assert Decimal(got["net"]) == Decimal("231.72")


def test_the_text_report_shows_the_breakdown(tmp_path: Path) -> None:
    [path] = exports.bq_jsonl(_lines(), tmp_path / "text")
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
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "network egress and storage by SKU" in result.stdout
    assert "Cloud Storage: Standard Storage Iowa" in result.stdout
