"""The one query over the detailed billing export, in BigQuery's SQL.

It keeps the facility's rows only: its project, and there neither another GKE cluster's
(``goog-k8s-cluster-name``) nor, with ``budget.scope: label``, an unlabelled or another
facility's row. GKE cost allocation splits a cluster's node costs by namespace
(``k8s-namespace``, with the buckets ``kube:unallocated`` for capacity no pod requested and
``kube:system-overhead``) and by pod label (``k8s-label/<key>``); gridcloud's own node label
``gridcloud-pool`` names the pool. The rows come back grouped by day, pool, namespace and
user, with gross cost, credits (negative, as exported) and core-hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gridcloud.plan.expand import FACILITY_LABEL, POOL_LABEL

#: Labels the query reads (GKE cost allocation's, KubeSpawner's user label, gridcloud's).
CLUSTER_LABEL = "goog-k8s-cluster-name"
NAMESPACE_LABEL = "k8s-namespace"
USER_LABEL = "k8s-label/hub.jupyter.org/username"
#: The export's table name for a billing account (its dataset is the user's choice).
TABLE_PREFIX = "gcp_billing_export_resource_v1_"


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


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _label(key: str) -> str:
    return f"(SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = {_literal(key)})"


def report_sql(scope: Scope, table: str) -> str:
    """The query, in BigQuery's SQL (``table``: a BigQuery table, or ``export`` locally)."""
    start = scope.month
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    cluster = _literal(scope.cluster)
    facility = _literal(scope.facility)
    ours = (
        f"(cluster = {cluster} OR facility = {facility})"
        if scope.by_label
        else f"(cluster IS NULL OR cluster = {cluster})"
    )
    return f"""
WITH labelled AS (
  SELECT
    DATE(usage_start_time) AS day,
    cost,
    IFNULL((SELECT SUM(c.amount) FROM UNNEST(credits) AS c), 0) AS credit,
    IF(sku.description LIKE '%Core%' AND usage.pricing_unit = 'hour',
       usage.amount_in_pricing_units, 0) AS core_hours,
    {_label(CLUSTER_LABEL)} AS cluster,
    {_label(FACILITY_LABEL)} AS facility,
    {_label(POOL_LABEL)} AS pool,
    {_label(NAMESPACE_LABEL)} AS namespace,
    {_label(USER_LABEL)} AS username
  FROM {table}
  WHERE project.id = {_literal(scope.project)}
    AND usage_start_time >= TIMESTAMP({_literal(start.isoformat())})
    AND usage_start_time < TIMESTAMP({_literal(end.isoformat())})
)
SELECT
  day,
  pool,
  namespace,
  username,
  SUM(cost) AS gross,
  SUM(credit) AS credits,
  SUM(core_hours) AS core_hours,
  COUNT(*) AS line_items
FROM labelled
WHERE {ours}
GROUP BY day, pool, namespace, username
ORDER BY day, pool, namespace, username
""".strip()
