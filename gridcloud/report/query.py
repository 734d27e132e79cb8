"""The one query over the detailed billing export, in BigQuery's SQL.

It keeps the facility's rows only: its project, and there neither another GKE cluster's
(``goog-k8s-cluster-name``) nor, with ``budget.scope: label``, an unlabelled or another
facility's row. GKE cost allocation splits a cluster's node costs by namespace
(``k8s-namespace``, with the buckets ``kube:unallocated`` for capacity no pod requested and
``kube:system-overhead``) and by pod label (``k8s-label/<key>``); gridcloud's own node label
``gridcloud-pool`` names the pool. The rows come back grouped by hour, currency, Google
service, pool, namespace and user, with gross cost and credits summed as NUMERIC (credits
negative, as exported; also one column per credit type) and core-hours: a few thousand
rows for a month, however many line items the export holds.

No text from a user or a file becomes SQL: the project, cluster, facility and the month's
bounds are query parameters (``@project`` ...; sqlglot turns them into DuckDB's ``$project``);
the label keys and credit types are this module's constants; the partition column comes
from the table's metadata and is checked to be a plain column name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gridcloud.labels import FACILITY_LABEL, POOL_LABEL

#: Labels the query reads (GKE cost allocation's, KubeSpawner's user label, gridcloud's).
CLUSTER_LABEL = "goog-k8s-cluster-name"
NAMESPACE_LABEL = "k8s-namespace"
USER_LABEL = "k8s-label/hub.jupyter.org/username"
#: The export's table name for a billing account (its dataset is the user's choice).
TABLE_PREFIX = "gcp_billing_export_resource_v1_"
#: The credit types of the export's ``credits.type`` (Cloud Billing's documentation), each
#: summed in a column of its own; any other type lands in ``OTHER``.
CREDIT_TYPES = (
    "PROMOTION",
    "SUSTAINED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
    "DISCOUNT",
    "FREE_TIER",
    "SUBSCRIPTION_BENEFIT",
    "RESELLER_MARGIN",
    "FEE_UTILIZATION_OFFSET",
)
OTHER = "OTHER"
#: Late rows: a month's usage keeps arriving in the export for a few days after it (they
#: land in later ingestion-time partitions); BigQuery scans the month's partitions and these.
LATE_DAYS = 3
#: The columns each result row has, in order.
COLUMNS = (
    "hour",
    "currency",
    "service",
    "pool",
    "namespace",
    "username",
    "data_sku",
    "shard",
    "gross",
    "credits",
    "core_hours",
    "line_items",
    *(f"credit_{t.lower()}" for t in CREDIT_TYPES),
)
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def table_name(billing_account: str) -> str:
    return TABLE_PREFIX + billing_account.replace("-", "_")


@dataclass(frozen=True)
class Scope:
    project: str
    cluster: str
    facility: str
    by_label: bool
    """``budget.scope: label``: only rows with the facility's label (or its cluster's)."""
    month: date
    """The first day of the month reported."""
    shards: tuple[str, ...] = ()
    """A facility of shards: each compute-only shard's cluster (its ``gridcloud-facility``
    label's value too, ``<facility>-<shard>``), whose rows are the facility's as well, named
    in the ``shard`` column."""
    shard_projects: tuple[str, ...] = ()
    """The projects besides ``project`` that shards are in: read too, where only a shard's
    cluster's or label's rows are the facility's (never a row without them)."""

    @property
    def end(self) -> date:
        """The first day of the next month."""
        return next_month(self.month)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _literal(text: str) -> str:
    """A constant of this module as a BigQuery string (never a user's or a file's text)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _label(key: str) -> str:
    return f"(SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = {_literal(key)})"


def _credit(kind: str | None) -> str:
    where = "" if kind is None else f" WHERE c.type = {_literal(kind)}"
    return (
        f"IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC(38, 9))) FROM UNNEST(credits) AS c{where}),"
        " 0)"
    )


@dataclass(frozen=True)
class Partitioning:
    """How a BigQuery table is partitioned (from its metadata)."""

    column: str
    """``_PARTITIONTIME`` for ingestion time, else the partitioning column."""
    kind: str
    """TIMESTAMP (``_PARTITIONTIME``, a TIMESTAMP column), DATE or DATETIME."""

    def __post_init__(self) -> None:
        if not _COLUMN_NAME.fullmatch(self.column):
            raise ValueError(f"not a column name: {self.column!r}")
        if self.kind not in ("TIMESTAMP", "DATE", "DATETIME"):
            raise ValueError(f"not a partitioning type: {self.kind!r}")

    def condition(self) -> str:
        """The month's partitions and the late days after it (``@first``, ``@last``)."""
        cast = {"TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "DATETIME": "DATETIME"}[self.kind]
        return f"{self.column} >= {cast}(@first) AND {self.column} < {cast}(@last)"


def parameters(scope: Scope) -> dict[str, Any]:
    """The query's parameters: name -> value (str, or an aware datetime for TIMESTAMP)."""
    start = datetime(scope.month.year, scope.month.month, 1, tzinfo=UTC)
    end = datetime(scope.end.year, scope.end.month, 1, tzinfo=UTC)
    return {
        "project": scope.project,
        "cluster": scope.cluster,
        "facility": scope.facility,
        "start": start,
        "end": end,
        **{f"shard_{i}": name for i, name in enumerate(scope.shards)},
        **{f"project_{i}": name for i, name in enumerate(scope.shard_projects)},
    }


def _shards(scope: Scope) -> str:
    """The shards' clusters as a list of parameters (``@shard_0, @shard_1``: their names are
    values, never SQL)."""
    return ", ".join(f"@shard_{i}" for i in range(len(scope.shards)))


#: A line item's SKU when it is network egress (any service's) or Cloud Storage (its storage,
#: operations and downloads), as ``<service>: <SKU>``; else NULL, so the other rows stay
#: summed as before. Egress SKUs say "Egress" (older names) or "Data Transfer".
DATA_SKU = (
    "IF(service.description = 'Cloud Storage'"
    " OR LOWER(sku.description) LIKE '%egress%'"
    " OR LOWER(sku.description) LIKE '%data transfer%',"
    " CONCAT(service.description, ': ', sku.description), NULL)"
)


def partition_bounds(scope: Scope) -> dict[str, str]:
    """``@first``/``@last`` for a partition filter (DATE text, which every kind casts)."""
    last = scope.end + timedelta(days=LATE_DAYS)
    return {"first": scope.month.isoformat(), "last": last.isoformat()}


def report_sql(scope: Scope, table: str, partitioning: Partitioning | None = None) -> str:
    """The query, in BigQuery's SQL (``table``: a BigQuery table, or ``export`` locally)."""
    ours = (
        "(cluster = @cluster OR facility = @facility)"
        if scope.by_label
        else "(cluster IS NULL OR cluster = @cluster)"
    )
    shard = "CAST(NULL AS STRING)"
    if scope.shards:
        # a compute-only shard's rows: its cluster's, or its label's (its NAT, its network)
        listed = _shards(scope)
        theirs = f"cluster IN ({listed})" + (
            f" OR facility IN ({listed})" if scope.by_label else ""
        )
        ours = f"({ours[1:-1]} OR {theirs})"
        shard = (
            f"CASE WHEN cluster IN ({listed}) THEN cluster "
            f"WHEN facility IN ({listed}) THEN facility END"
        )
    projects = "project.id = @project"
    if scope.shard_projects and scope.shards:
        # in a shard's own project, only its cluster's and its facility label's rows (its
        # NAT, its network), whatever the budget's scope
        others = ", ".join(f"@project_{i}" for i in range(len(scope.shard_projects)))
        projects = f"project.id IN (@project, {others})"
        labelled = f"cluster IN ({_shards(scope)}) OR facility IN ({_shards(scope)})"
        ours = f"((project_id = @project AND {ours}) OR (project_id <> @project AND ({labelled})))"
    partition = f"\n    AND {partitioning.condition()}" if partitioning else ""
    by_type = ",\n  ".join(f"SUM(credit_{t.lower()}) AS credit_{t.lower()}" for t in CREDIT_TYPES)
    typed = ",\n    ".join(f"{_credit(t)} AS credit_{t.lower()}" for t in CREDIT_TYPES)
    return f"""
WITH labelled AS (
  SELECT
    TIMESTAMP_TRUNC(usage_start_time, HOUR) AS hour,
    currency,
    service.description AS service,
    CAST(cost AS NUMERIC(38, 9)) AS cost,
    {_credit(None)} AS credit,
    {typed},
    IF(sku.description LIKE '%Core%' AND usage.pricing_unit = 'hour',
       usage.amount_in_pricing_units, 0) AS core_hours,
    {_label(CLUSTER_LABEL)} AS cluster,
    {_label(FACILITY_LABEL)} AS facility,
    {_label(POOL_LABEL)} AS pool,
    {_label(NAMESPACE_LABEL)} AS namespace,
    {_label(USER_LABEL)} AS username,
    {DATA_SKU} AS data_sku,
    project.id AS project_id
  FROM {table}
  WHERE {projects}
    AND usage_start_time >= @start
    AND usage_start_time < @end{partition}
)
SELECT
  hour,
  currency,
  service,
  pool,
  namespace,
  username,
  data_sku,
  {shard} AS shard,
  SUM(cost) AS gross,
  SUM(credit) AS credits,
  SUM(core_hours) AS core_hours,
  COUNT(*) AS line_items,
  {by_type}
FROM labelled
WHERE {ours}
GROUP BY hour, currency, service, pool, namespace, username, data_sku, shard
ORDER BY hour, currency, service, pool, namespace, username, data_sku, shard
""".strip()


def last_data_sql(table: str) -> str:
    """When the project's data ends (for the default month)."""
    return f"SELECT MAX(usage_start_time) AS last FROM {table} WHERE project.id = @project"
