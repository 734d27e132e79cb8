"""`gridcloud cost report` of a facility of shards: every shard's rows are the facility's, and
the report breaks the spend down by shard, by the labels each shard's resources carry (GKE's
cluster label on its nodes, gridcloud's facility label ``<facility>-<shard>`` on the rest).

The export is bq's JSONL (tests/report/exports.py writes it as ``bq extract`` does); the
expected figures are summed here by hand from the line items below."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from tests.conftest import default_data
from tests.report import exports
from tests.report.exports import CORE, PROJECT, Line

pytestmark = pytest.mark.needs("duckdb", "sqlglot")

POOL = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}
AT = datetime(2026, 10, 5, 10, tzinfo=UTC)
NAT = "Cloud NAT Gateway uptime charge"


def node(cluster: str, pool: str, cost: str, credit: str = "0", project: str = PROJECT) -> Line:
    """A node's core-hours, as GKE labels a node VM's line item (cluster, pool, namespace)."""
    credits = [(Decimal(credit), "SUSTAINED_USAGE_DISCOUNT", "Sustained usage discount")]
    return Line(
        project=project,
        start=AT,
        cost=Decimal(cost),
        credits=credits if Decimal(credit) else [],
        labels={
            "goog-k8s-cluster-name": cluster,
            "gridcloud-facility": cluster,
            "gridcloud-pool": pool,
            "k8s-namespace": "grid",
        },
        sku=CORE,
        cores=Decimal(80),
    )


LINES = [
    node("atlas-gcp", "cpu-spot", "10.00", "-1.00"),  # home: 9.00
    node("atlas-gcp-ew4", "spot", "20.50", "-0.50"),  # ew4: 20.00
    # ew4's Cloud NAT: no cluster label, the shard's facility label
    Line(
        PROJECT, AT, Decimal("1.25"), [], {"gridcloud-facility": "atlas-gcp-ew4"}, NAT, "Networking"
    ),
    node("atlas-gcp-ue1", "spot", "7.00"),  # ue1: 7.00
    # the project's unlabelled row: the facility's (budget scope: project), the home one's
    Line(PROJECT, AT, Decimal("0.75"), [], {}, "Standard Storage US Multi-region", "Cloud Storage"),
    # another cluster in the project, and another project: not the facility's
    node("someone-else", "default-pool", "100.00"),
    Line("another-project", AT, Decimal("50.00"), [], {}, CORE),
]


def sharded(tmp_path: Path, scope: str = "project") -> Path:
    data: dict[str, Any] = default_data()
    data["budget"]["scope"] = scope
    data["shards"] = {
        "declared": [
            {"name": "ew4", "region": "europe-west4", "pools": [POOL]},
            {"name": "ue1", "region": "us-east1", "pools": [POOL]},
        ]
    }
    path = tmp_path / "sharded.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def report(profile: Path, export: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        create_cli(),
        ["cost", "report", str(profile), "--export", str(export), "--month", "2026-10", "--json"],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_spend_by_shard(tmp_path: Path) -> None:
    [export] = exports.bq_jsonl(LINES, tmp_path / "export")
    got = report(sharded(tmp_path), export)
    by_shard = {p["name"]: Decimal(p["net"]) for p in got["byShard"]}
    assert by_shard == {
        "home": Decimal("9.75"),  # 10.00 - 1.00 + 0.75
        "ew4": Decimal("21.25"),  # 20.50 - 0.50 + 1.25
        "ue1": Decimal("7.00"),
    }
    # the facility's total is the shards' together; the other cluster and project left out
    assert Decimal(got["net"]) == Decimal("38.00")
    assert Decimal(got["gross"]) == Decimal("39.50")
    pools = {p["name"]: Decimal(p["net"]) for p in got["byPool"]}
    assert pools["spot"] == Decimal("27.00")  # both shards' pools of that name


def test_spend_by_shard_under_a_label_scoped_budget(tmp_path: Path) -> None:
    [export] = exports.bq_jsonl(LINES, tmp_path / "export")
    got = report(sharded(tmp_path, "label"), export)
    by_shard = {p["name"]: Decimal(p["net"]) for p in got["byShard"]}
    # the facility's labels only: ew4's NAT by its shard's label; the unlabelled row out
    assert by_shard == {"home": Decimal("9.00"), "ew4": Decimal("21.25"), "ue1": Decimal("7.00")}
    assert Decimal(got["net"]) == Decimal("37.25")


def test_no_breakdown_without_shards(tmp_path: Path) -> None:
    [export] = exports.bq_jsonl(LINES, tmp_path / "export")
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(default_data(), sort_keys=False))
    got = report(plain, export)
    assert got["byShard"] == []
    # the home cluster's rows and every row of the project without a cluster label (budget
    # scope: project), ew4's NAT among them: 9.00 + 1.25 + 0.75; the shards' nodes left out
    assert Decimal(got["net"]) == Decimal("11.00")


OWN = "atlas-us-compute"


def test_a_shard_in_a_project_of_its_own_is_in_the_report(tmp_path: Path) -> None:
    """ue1 in atlas-us-compute (billed to the same account, so in the same export): its
    node and its NAT (by its facility label) are the facility's, ue1's; that project's
    unlabelled row and another cluster there are not (a shard's project is not the
    facility's as the home one is, even with the project scope). By hand: ue1 = 7.00 +
    0.40 = 7.40; home 9.75 and ew4 21.25 as before; total 38.40."""
    lines = [
        *[line for line in LINES if "atlas-gcp-ue1" not in line.labels.values()],
        node("atlas-gcp-ue1", "spot", "7.00", project=OWN),
        Line(
            OWN, AT, Decimal("0.40"), [], {"gridcloud-facility": "atlas-gcp-ue1"}, NAT, "Networking"
        ),
        Line(OWN, AT, Decimal("3.00"), [], {}, "Standard Storage US Multi-region", "Cloud Storage"),
        node("their-own-cluster", "default-pool", "30.00", project=OWN),
    ]
    [export] = exports.bq_jsonl(lines, tmp_path / "export")
    profile = sharded(tmp_path)
    data = yaml.safe_load(profile.read_text())
    data["shards"]["declared"][1]["project"] = OWN
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    got = report(profile, export)
    by_shard = {p["name"]: Decimal(p["net"]) for p in got["byShard"]}
    assert by_shard == {"home": Decimal("9.75"), "ew4": Decimal("21.25"), "ue1": Decimal("7.40")}
    assert Decimal(got["net"]) == Decimal("38.40")
