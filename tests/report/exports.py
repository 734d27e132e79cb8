"""A billing account's detailed export, generated, and written the ways Google's tools write it.

The rows: hourly line items for the default facility's pools and namespaces (GKE cost
allocation's labels, users, credits of several types, a SKU GKE does not split by
namespace), with what a billing account also holds: another cluster in the same project,
another project, the months around. ``expected`` sums them here, with Decimal, independently
of the report's query.

The writers follow the producers, not the reader: ``bq extract`` writes newline-delimited JSON
with TIMESTAMP as ``2026-11-24 01:00:00 UTC``, INT64 as strings, NULL fields left out, split
into ``export-000000000000.json`` ... and gzip-compressed on request; BigQuery's Parquet and
Avro keep the nested records and repeated fields (Avro: nullable unions, timestamp-micros);
a CSV either flattens the records to ``service.id`` ... columns (as flattening tools do: bq
itself cannot extract nested or repeated fields to CSV) or keeps them as JSON text.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

PROJECT = "atlas-analysis-facility"
CLUSTER = "atlas-gcp"
ACCOUNT = "012345-6789AB-CDEF01"
CENT = Decimal("0.01")
CORE = "Spot Preemptible N2D AMD Instance Core running in Americas"
RAM = "Spot Preemptible N2D AMD Instance Ram running in Americas"
USER_LABEL = "k8s-label/hub.jupyter.org/username"
BQ_TIME = "%Y-%m-%d %H:%M:%S UTC"


@dataclass
class Line:
    project: str
    start: datetime
    cost: Decimal
    credits: list[tuple[Decimal, str, str]]
    """(amount, type, name)"""
    labels: dict[str, str]
    sku: str
    service: str = "Compute Engine"
    cores: Decimal = Decimal(0)
    currency: str = "USD"

    @property
    def net(self) -> Decimal:
        return self.cost + sum((c[0] for c in self.credits), Decimal(0))

    def record(self) -> dict[str, Any]:
        """The row as the export's schema has it (nested records and arrays), Python values."""
        core = self.sku == CORE
        return {
            "billing_account_id": ACCOUNT,
            "service": {"id": "6F81-5844-456A", "description": self.service},
            "sku": {"id": "0000-0000-0000", "description": self.sku},
            "usage_start_time": self.start,
            "usage_end_time": self.start + timedelta(hours=1),
            "project": {"id": self.project, "number": "123456789012", "name": self.project},
            "labels": [{"key": k, "value": v} for k, v in self.labels.items()],
            "system_labels": [],
            "location": {"location": "us-central1", "region": "us-central1"},
            "resource": {"name": "gke-node", "global_name": "//compute/instances/x"},
            "export_time": self.start + timedelta(hours=5),
            "cost": float(self.cost),
            "currency": self.currency,
            "currency_conversion_rate": 1.0,
            "usage": {
                "amount": float(self.cores * 3600) if core else 1.0,
                "unit": "seconds" if core else "byte-seconds",
                "amount_in_pricing_units": float(self.cores) if core else 1.0,
                "pricing_unit": "hour" if core else "gibibyte hour",
            },
            "credits": [
                {
                    "name": name,
                    "amount": float(amount),
                    "full_name": None,
                    "id": f"{kind.lower()}-1",
                    "type": kind,
                }
                for amount, kind, name in self.credits
            ],
            "invoice": {"month": self.start.strftime("%Y%m")},
            "cost_type": "regular",
        }


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 6)))


def generate(start: datetime, hours: int, seed: int = 20261031) -> list[Line]:
    """Hourly line items from ``start``."""
    rng = random.Random(seed)
    lines: list[Line] = []
    ours = {"goog-k8s-cluster-name": CLUSTER, "gridcloud-facility": "atlas-gcp"}
    for hour in range(hours):
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
                labels[USER_LABEL] = user
            cost = _money(rng, 0.5 * scale, 1.5 * scale)
            credits: list[tuple[Decimal, str, str]] = []
            if pool == "control":
                credits.append(
                    (
                        -(cost * Decimal("0.2")).quantize(Decimal("0.000001")),
                        "SUSTAINED_USAGE_DISCOUNT",
                        "Sustained usage discount",
                    )
                )
            if pool == "cpu":  # the research credits: the largest
                credits.append(
                    (
                        -(cost * Decimal("0.5")).quantize(Decimal("0.000001")),
                        "PROMOTION",
                        "Research credits",
                    )
                )
            cores = Decimal(str(round(rng.uniform(1, 80), 3)))
            lines.append(Line(PROJECT, at, cost, credits, labels, CORE, cores=cores))
            ram = _money(rng, 0.1, 0.3) * Decimal(str(scale))
            lines.append(Line(PROJECT, at, ram, [], labels, RAM))
        # GKE's cluster fee: not split by namespace
        fee = {**ours, "k8s-namespace": "goog-k8s-unsupported-sku"}
        lines.append(
            Line(
                PROJECT,
                at,
                Decimal("0.1"),
                [],
                fee,
                "Regional Kubernetes Clusters",
                service="Kubernetes Engine",
            )
        )
        # the project's own costs outside the cluster (Cloud NAT): the facility's
        lines.append(
            Line(
                PROJECT,
                at,
                _money(rng, 0.04, 0.05),
                [],
                {},
                "Cloud NAT Gateway",
                service="Networking",
            )
        )
        # another cluster in the same project, and another project: never counted
        other = {"goog-k8s-cluster-name": "other-cluster", "k8s-namespace": "grid"}
        lines.append(Line(PROJECT, at, _money(rng, 5, 9), [], other, CORE, cores=Decimal(8)))
        lines.append(Line("someone-else", at, _money(rng, 5, 9), [], ours, CORE, cores=Decimal(8)))
    return lines


def october() -> list[Line]:
    """October 2026, and the month's neighbours (from 30 September 20:00 to 1 November 08:00)."""
    return generate(datetime(2026, 9, 30, 20, tzinfo=UTC), 24 * 31 + 12)


def expected(lines: list[Line], first: datetime, end: datetime) -> dict[str, Any]:
    """The facility's rows in [first, end), summed row by row."""
    ours = [
        line
        for line in lines
        if line.project == PROJECT
        and first <= line.start < end
        and line.labels.get("goog-k8s-cluster-name", CLUSTER) == CLUSTER
    ]
    gross = sum((line.cost for line in ours), Decimal(0))
    credits = sum((c[0] for line in ours for c in line.credits), Decimal(0))
    by: dict[str, dict[str, Decimal]] = {
        "pool": {},
        "namespace": {},
        "user": {},
        "day": {},
        "credit": {},
    }
    cores = Decimal(0)
    for line in ours:
        keys = {
            "pool": line.labels.get("gridcloud-pool", "(not a node)"),
            "namespace": line.labels.get("k8s-namespace", line.service),
            "user": line.labels.get(USER_LABEL, "unattributed"),
            "day": line.start.date().isoformat(),
        }
        for kind, key in keys.items():
            by[kind][key] = by[kind].get(key, Decimal(0)) + line.net
        for amount, kind, _ in line.credits:
            by["credit"][kind] = by["credit"].get(kind, Decimal(0)) + amount
        if line.sku == CORE:
            cores += line.cores
    return {
        "gross": gross,
        "credits": credits,
        "net": gross + credits,
        "by": by,
        "cores": cores,
        "lines": len(ours),
    }


def cents(value: Decimal) -> str:
    return str(value.quantize(CENT))


# --- the writers ----------------------------------------------------------------------------


def _bq_json(value: Any) -> Any:
    """A value as bq's JSON extract writes it: TIMESTAMP as text in UTC, NULL left out."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(BQ_TIME)
    if isinstance(value, dict):
        return {k: _bq_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_bq_json(v) for v in value]
    return value


def bq_jsonl(
    lines: list[Line], folder: Path, *, files: int = 1, gzipped: bool = False
) -> list[Path]:
    """``bq extract --destination_format NEWLINE_DELIMITED_JSON [--compression GZIP]
    TABLE gs://bucket/export-*.json``: rows in no particular order, split into numbered
    files."""
    folder.mkdir(parents=True, exist_ok=True)
    order = list(lines)
    random.Random(7).shuffle(order)
    size = -(-len(order) // files)
    paths = []
    for i in range(files):
        path = folder / f"export-{i:012d}.json"
        text = "".join(
            json.dumps(_bq_json(line.record())) + "\n" for line in order[i * size : (i + 1) * size]
        )
        if gzipped:
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        paths.append(path)
    return paths


#: The export's schema as BigQuery's Parquet and Avro carry it (the columns written here).
DUCKDB_SCHEMA = {
    "billing_account_id": "VARCHAR",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "usage_start_time": "VARCHAR",
    "usage_end_time": "VARCHAR",
    "project": "STRUCT(id VARCHAR, number VARCHAR, name VARCHAR)",
    "labels": "STRUCT(key VARCHAR, value VARCHAR)[]",
    "cost": "DOUBLE",
    "currency": "VARCHAR",
    "usage": "STRUCT(amount DOUBLE, unit VARCHAR, amount_in_pricing_units DOUBLE, "
    "pricing_unit VARCHAR)",
    "credits": "STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, type VARCHAR)[]",
}


def bigquery_parquet(lines: list[Line], path: Path) -> Path:
    """``EXPORT DATA OPTIONS(format='PARQUET')``: nested records and lists, TIMESTAMP as
    UTC-adjusted microseconds."""
    import duckdb

    source = bq_jsonl(lines, path.parent / (path.name + ".src"))[0]
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DUCKDB_SCHEMA.items()) + "}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(usage_start_time AS TIMESTAMPTZ) AS usage_start_time, "
        f"CAST(usage_end_time AS TIMESTAMPTZ) AS usage_end_time) "
        f"FROM read_json('{source}', columns = {spec})) TO '{path}' (FORMAT parquet)"
    )
    con.close()
    source.unlink()
    source.parent.rmdir()
    return path


def _nullable(kind: Any) -> list[Any]:
    return ["null", kind]


def _record(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": "root",
        "fields": [{"name": k, "type": v} for k, v in fields.items()],
    }


def avro_schema() -> dict[str, Any]:
    """BigQuery's Avro export schema for the columns written (nullable unions, REPEATED as
    arrays, TIMESTAMP as timestamp-micros)."""
    text = _nullable("string")
    number = _nullable("double")
    timestamp = _nullable({"type": "long", "logicalType": "timestamp-micros"})
    return {
        "type": "record",
        "name": "Root",
        "fields": [
            {"name": "billing_account_id", "type": text},
            {
                "name": "service",
                "type": _nullable(_record("service", {"id": text, "description": text})),
            },
            {"name": "sku", "type": _nullable(_record("sku", {"id": text, "description": text}))},
            {"name": "usage_start_time", "type": timestamp},
            {"name": "usage_end_time", "type": timestamp},
            {
                "name": "project",
                "type": _nullable(_record("project", {"id": text, "number": text, "name": text})),
            },
            {
                "name": "labels",
                "type": {"type": "array", "items": _record("labels", {"key": text, "value": text})},
            },
            {"name": "cost", "type": number},
            {"name": "currency", "type": text},
            {
                "name": "usage",
                "type": _nullable(
                    _record(
                        "usage",
                        {
                            "amount": number,
                            "unit": text,
                            "amount_in_pricing_units": number,
                            "pricing_unit": text,
                        },
                    )
                ),
            },
            {
                "name": "credits",
                "type": {
                    "type": "array",
                    "items": _record(
                        "credits",
                        {
                            "name": text,
                            "amount": number,
                            "full_name": text,
                            "id": text,
                            "type": text,
                        },
                    ),
                },
            },
        ],
    }


def bigquery_avro(lines: list[Line], path: Path, codec: str = "deflate") -> Path:
    import fastavro

    keep = {f["name"] for f in avro_schema()["fields"]}
    records = ({k: v for k, v in line.record().items() if k in keep} for line in lines)
    with path.open("wb") as out:
        fastavro.writer(out, fastavro.parse_schema(avro_schema()), records, codec=codec)
    return path


def _flat(record: dict[str, Any]) -> dict[str, str]:
    """One column per nested field (``service.id``); repeated fields as JSON text."""
    row: dict[str, str] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                row[f"{key}.{sub}"] = "" if inner is None else str(_bq_json(inner))
        elif isinstance(value, list):
            row[key] = json.dumps(_bq_json(value))
        elif value is None:
            row[key] = ""
        else:
            row[key] = str(_bq_json(value))
    return row


def csv_flattened(lines: list[Line], path: Path) -> Path:
    rows = [_flat(line.record()) for line in lines]
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_json_columns(lines: list[Line], path: Path) -> Path:
    """The nested columns as JSON text (as a BigQuery query's TO_JSON_STRING gives them)."""
    rows = []
    for line in lines:
        record = _bq_json(line.record())
        rows.append(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}
        )
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
