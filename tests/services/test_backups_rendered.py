"""The backups against what the charts really create: the claims the CronJob snapshots and
the restores replace are the ones Helm renders (the hub's database) and KubeSpawner makes
(the homes), and the snapshot objects pass the render's own validation."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

from gridcloud.plan import backups as bk

if TYPE_CHECKING:
    from pathlib import Path

    from gridcloud.plan import Plan
    from gridcloud.render import Rendered


def test_the_hub_database_claim_is_the_charts(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    plan = plans["default"]
    assert plan.backups is not None
    jupyterhub = next(r for r in rendered["default"] if r.name == "jupyterhub")
    claim = jupyterhub.find("PersistentVolumeClaim", bk.HUB_DB_CLAIM).body
    restore = next(r for r in plan.backups.restores if r.volume == "hubDatabase").manifest
    assert restore["metadata"]["name"] == claim["metadata"]["name"]
    assert restore["spec"]["resources"] == claim["spec"]["resources"]
    assert restore["spec"]["accessModes"] == claim["spec"]["accessModes"]
    assert restore["spec"].get("storageClassName") == claim["spec"].get("storageClassName")
    # the restored claim keeps the labels the chart's claim has that the backup relies on
    for key, value in restore["metadata"]["labels"].items():
        assert claim["metadata"]["labels"][key] == value


def test_the_snapshot_class_is_rendered_beside_gridclouds_objects(
    rendered: dict[str, list[Rendered]],
) -> None:
    own = next(r for r in rendered["default"] if r.name == "gridcloud")
    klass = own.find("VolumeSnapshotClass", bk.SNAPSHOT_CLASS).body
    assert klass["driver"] == "pd.csi.storage.gke.io"
    assert any(c["spec"]["names"]["kind"] == "VolumeSnapshotClass" for c in own.crds)


#: KubeSpawner's own home claim, for a user, as the hub makes it (its defaults, which the
#: chart 4.4.0 leaves: pvcNameTemplate and extraLabels unset).
HOME_CLAIM = """
import asyncio, json, os, sys
from kubernetes_asyncio.client import ApiClient
from kubespawner import KubeSpawner
from traitlets.config import Config

async def main():
    c = Config()
    c.KubeSpawner.storage_capacity = "10Gi"
    c.KubeSpawner.storage_class = "gridcloud-home"
    spawner = KubeSpawner(_mock=True, config=c)
    manifest = spawner.get_pvc_manifest()
    async with ApiClient() as client:
        print(json.dumps(client.sanitize_for_serialization(manifest)))

asyncio.run(main())
"""


def test_a_home_claim_kubespawner_makes_is_among_those_snapshotted(tmp_path: Path) -> None:
    import json

    from tests.services.spawn_pods import KUBECONFIG

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    done = subprocess.run(
        [sys.executable, "-c", HOME_CLAIM],
        capture_output=True,
        text=True,
        check=True,
        env={"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    claim = json.loads(done.stdout)
    labels = claim["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in bk.HOME_SELECTOR.items())
    assert claim["metadata"]["name"].startswith("claim-")
