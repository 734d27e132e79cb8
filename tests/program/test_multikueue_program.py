"""MultiKueue in the program: the home stack installs Kueue, its objects after it, the
credentials CronJob and the manager's Google identity; each shard's stack installs Kueue and
its worker objects. What is declared, under Pulumi's mocks (no cloud here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gridcloud.analysis import analyse
from gridcloud.plan import Plan
from tests.conftest import default_data
from tests.program.mocks import PROJECT_NUMBER, Rendered, render

RELEASE = "kubernetes:helm.sh/v3:Release"
CUSTOM = "kubernetes:kueue.x-k8s.io/v1beta2:"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    data: dict[str, Any] = default_data()
    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}
    data["shards"] = {
        "declared": [{"name": "ew4", "region": "europe-west4", "pools": [pool]}],
        "multikueue": {"enabled": True},
    }
    path = Path(tmp_path_factory.mktemp("mk")) / "mk.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return analyse(path).plan


def kueue_objects(rendered: Rendered) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in rendered.resources:
        if r.type.startswith("kubernetes:kueue.x-k8s.io/"):
            found.setdefault(r.type.rsplit(":", 1)[1], []).append(r.inputs["metadata"]["name"])
    return found


def test_the_home_stack_is_the_manager(plan: Plan) -> None:
    rendered = render(plan)
    release = rendered.one(RELEASE, "services-kueue").inputs
    assert (release["chart"], release["version"]) == (
        "oci://registry.k8s.io/kueue/charts/kueue",
        "0.19.2",
    )
    assert kueue_objects(rendered) == {
        "ResourceFlavor": ["shards"],
        "ClusterQueue": ["gridcloud"],
        "LocalQueue": ["batch"],
        "AdmissionCheck": ["gridcloud-multikueue"],
        "MultiKueueConfig": ["gridcloud-shards"],
        "MultiKueueCluster": ["atlas-gcp-ew4"],
    }
    account = rendered.one("gcp:serviceaccount/account:Account", "multikueue-account").inputs
    assert account["accountId"] == "atlas-gcp-mkueue"
    creator = rendered.one("gcp:serviceaccount/iAMMember:IAMMember").inputs
    assert creator["role"] == "roles/iam.serviceAccountTokenCreator"
    assert creator["member"] == (
        f"principal://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/"
        "workloadIdentityPools/atlas-analysis-facility.svc.id.goog/subject/ns/kueue-system/"
        "sa/multikueue-credentials"
    )
    viewer = [
        r.inputs
        for r in rendered.of_type("gcp:projects/iAMMember:IAMMember")
        if r.inputs["role"] == "roles/container.clusterViewer" and "mkueue" in r.inputs["member"]
    ]
    # (the grid site's Harvester account holds the role too, on its own cluster's project)
    assert viewer == [
        {
            "project": "atlas-analysis-facility",
            "role": "roles/container.clusterViewer",
            "member": "serviceAccount:atlas-gcp-mkueue@project.iam.gserviceaccount.com",
        }
    ]
    # no kubeconfig, token or key in the stack: the CronJob writes the Secrets in-cluster
    secrets = [
        r.inputs.get("metadata", {}).get("name", r.name)
        for r in rendered.of_type("kubernetes:core/v1:Secret")
    ]
    assert not [name for name in secrets if "kubeconfig" in name]


def test_a_shard_stack_is_a_worker(plan: Plan) -> None:
    rendered = render(plan.shards[0])
    assert rendered.one(RELEASE, "services-kueue").inputs["namespace"] == "kueue-system"
    assert kueue_objects(rendered) == {
        "ResourceFlavor": ["spot"],
        "ClusterQueue": ["gridcloud"],
        "LocalQueue": ["batch"],
    }
    binding = rendered.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs
    assert binding["subjects"] == [
        {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "User",
            "name": "atlas-gcp-mkueue@atlas-analysis-facility.iam.gserviceaccount.com",
        }
    ]
    assert not rendered.of_type("gcp:serviceaccount/account:Account") or all(
        "mkueue" not in r.inputs["accountId"]
        for r in rendered.of_type("gcp:serviceaccount/account:Account")
    )
