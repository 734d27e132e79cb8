"""The facility's files for PanDA Harvester and CRIC: one queue per cluster with a grid site.

PanDA sees a facility of shards as one PanDA queue per cluster (the home cluster and each
compute shard with a cpu pool: gridcloud/plan/services/grid_site.py decides which), served
by one Harvester instance through each cluster's kubeconfig, namespace and Job template.
``gridcloud render`` writes, for the whole facility:

- ``harvester-<cluster>-job.yaml``: each cluster's Job template (its ``k8s_yaml_file``);
- ``harvester-queue.json``: every queue's entry, merged, for ``panda_queueconfig.json``;
- ``harvester-cric.json``: per queue, what its CRIC entry must say (CE queue name, core
  count, memory, max time, pilot dir) and which cluster, kubeconfig and template it is.

The kubeconfigs are each stack's ``gridSiteKubeconfig`` output (they need the cluster's
endpoint and CA): no credential in them on GKE (docs/services/grid-site.md).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from gridcloud.plan import Plan
    from gridcloud.plan.services.model import GridSitePlan

QUEUES_FILE = "harvester-queue.json"
CRIC_FILE = "harvester-cric.json"


def sites(plan: Plan) -> list[tuple[Plan, GridSitePlan]]:
    """Every cluster of the facility with a grid site, the home cluster first."""
    found = []
    for each in (plan, *plan.shards):
        if each.services.grid_site is not None:
            found.append((each, each.services.grid_site))
    return found


def job_file(cluster: Plan) -> str:
    return f"harvester-{cluster.name}-job.yaml"


def queues(plan: Plan) -> dict[str, Any]:
    """Every queue's entry in Harvester's queue configuration, one per cluster."""
    merged: dict[str, Any] = {}
    for _, site in sites(plan):
        merged.update(site.harvester_queue)
    return merged


def cric(plan: Plan) -> dict[str, Any]:
    """Per PanDA queue: its cluster and what its CRIC entry must say."""
    from gridcloud.plan.shards import HOME

    entries: dict[str, Any] = {}
    for cluster, site in sites(plan):
        entry = next(iter(site.harvester_queue.values()))
        common = entry["common"]
        region = cluster.target.region if cluster.target.provider == "gcp" else None
        entries[site.queue] = {
            "shard": cluster.shard or HOME,
            "stack": cluster.name,
            "region": region,
            "kubeconfig": common["k8s_config_file"],
            "jobTemplate": common["k8s_yaml_file"],
            "namespace": site.namespace,
            "pools": list(site.pools),
            "maxWorkers": entry.get("maxWorkers"),
            "cric": dict(site.cric),
        }
    return entries


def write(plan: Plan, out: Path) -> list[tuple[Path, str]]:
    """Write the facility's Harvester files into ``out``; what was written, and what it is."""
    import yaml

    found = sites(plan)
    if not found:
        return []
    written: list[tuple[Path, str]] = []
    for cluster, site in found:
        path = out / job_file(cluster)
        path.write_text(yaml.safe_dump(site.job_template, sort_keys=False), encoding="utf-8")
        written.append((path, f"Harvester's Job template for {site.queue} (k8s_yaml_file)"))
    path = out / QUEUES_FILE
    path.write_text(json.dumps(queues(plan), indent=2) + "\n", encoding="utf-8")
    written.append((path, f"Harvester's queue configuration: {len(found)} queue(s)"))
    path = out / CRIC_FILE
    path.write_text(json.dumps(cric(plan), indent=2) + "\n", encoding="utf-8")
    written.append((path, "each queue's CRIC values and cluster"))
    return written
