"""The backups under Pulumi's mocks: the program applies the Plan's snapshot objects as they
are, the snapshot class with its fields beside metadata (not under spec), through the
facility's Kubernetes provider."""

from __future__ import annotations

import pytest

from gridcloud.analysis import analyse
from gridcloud.plan import backups as bk
from tests.conftest import PROFILES
from tests.program.mocks import Rendered, render

CLASS = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render(analyse(PROFILES / "default.yaml").plan)


def test_the_snapshot_class_goes_to_the_cluster_as_planned(default: Rendered) -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    (planned,) = [o for o in plan.services.objects if o["kind"] == "VolumeSnapshotClass"]
    declared = default.one(CLASS)
    assert declared.inputs["driver"] == "pd.csi.storage.gke.io"
    assert declared.inputs["deletionPolicy"] == "Retain"
    assert declared.inputs["parameters"] == planned["parameters"]
    assert "spec" not in declared.inputs
    assert "pulumi:providers:kubernetes::kubernetes" in declared.provider


def test_a_cronjob_and_its_account_in_each_namespace(default: Rendered) -> None:
    crons = default.of_type("kubernetes:batch/v1:CronJob")
    assert sorted(c.inputs["metadata"]["namespace"] for c in crons) == ["jupyter", "reana"]
    for cron in crons:
        assert cron.inputs["spec"]["schedule"] == "0 3 * * *"
        assert cron.inputs["metadata"]["name"] == bk.JOB
        # after its namespace
        namespace = cron.inputs["metadata"]["namespace"]
        assert any(namespace in d for d in cron.options.depends_on)
    bindings = default.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert sorted(b.inputs["metadata"]["name"] for b in bindings) == [
        "gridcloud-snapshots-jupyter",
        "gridcloud-snapshots-reana",
    ]
