"""The services under Pulumi's mocks: releases, RBAC, priority classes, provider wiring."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from tests.conftest import PROFILES
from tests.program.conftest import SERVER, ca_data
from tests.program.mocks import Rendered, render

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render(analyse(PROFILES / "default.yaml").plan)


def test_five_releases_with_versions_namespaces_and_values(default: Rendered) -> None:
    releases = {r.inputs["name"]: r.inputs for r in default.of_type(RELEASE)}
    assert set(releases) == {"cvmfs-csi", "reana", "jupyterhub", "dask-gateway"}
    hub = releases["jupyterhub"]
    assert (hub["chart"], hub["version"], hub["namespace"]) == ("jupyterhub", "4.4.0", "jupyter")
    assert hub["repositoryOpts"] == {"repo": "https://hub.jupyter.org/helm-chart/"}
    assert "repositoryOpts" not in releases["cvmfs-csi"]  # an OCI chart
    assert releases["reana"]["values"]["node_label_runtimejobs"] == "gridcloud.io/pool=ondemand"


def test_reana_secrets_are_generated_not_placeholders(default: Rendered) -> None:
    reana = next(r.inputs for r in default.of_type(RELEASE) if r.inputs["name"] == "reana")
    text = json.dumps(reana["values"])
    assert "<secret>" not in text
    assert reana["values"]["secrets"]["database"]["password"].startswith("generated-")
    passwords = default.of_type("random:index/randomPassword:RandomPassword")
    # the chart's database, broker, cache and key; CERN SSO's and GitLab's pairs (unused,
    # not left as the chart's placeholders); the REANA administrator's password
    assert len(passwords) == 9
    assert all(p.inputs["length"] >= 32 and p.inputs["special"] is False for p in passwords)


def test_grid_role_has_exactly_the_submitter_rules(default: Rendered) -> None:
    role = default.one(
        "kubernetes:rbac.authorization.k8s.io/v1:Role", "services-grid-submitter-role"
    ).inputs
    assert role["metadata"] == {"name": "grid-submitter", "namespace": "grid"}
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in role["rules"]}
    assert rules == {
        (("batch",), ("jobs",)): {"create", "get", "list", "watch", "delete"},
        (("",), ("pods",)): {"get", "list", "delete"},
        (("",), ("pods/log",)): {"get"},
        (("",), ("configmaps", "secrets")): {"create", "get", "patch", "delete"},
    }
    binding = default.one(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "services-grid-submitter-binding"
    ).inputs
    # the namespace's account, and the Harvester host's Google account (GKE: no token)
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "grid-submitter", "namespace": "grid"},
        {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "User",
            "name": "atlas-gcp-grid@atlas-analysis-facility.iam.gserviceaccount.com",
        },
    ]
    assert binding["roleRef"]["kind"] == "Role"


def test_priority_classes_make_pilots_preemptible(default: Rendered) -> None:
    classes = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in default.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")
    }
    pilot, interactive = classes["gridcloud-grid-pilot"], classes["gridcloud-interactive"]
    workers = classes["gridcloud-dask-worker"]
    assert pilot["value"] < interactive["value"] == workers["value"]
    assert pilot["preemptionPolicy"] == "Never"
    # notebooks share the on-demand pool with REANA's jobs (priority 0): they must not
    # preempt; Dask workers share the spot pool with pilots only, and may
    assert interactive["preemptionPolicy"] == "Never"
    assert workers["preemptionPolicy"] == "PreemptLowerPriority"


def test_dask_workers_on_reanas_pool_preempt_nothing(make_plan: Any) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["services"]["jupyter"]["dask"]["workerPool"] = "ondemand"

    classes = {c.name: c for c in make_plan(edit).services.priority_classes}
    assert classes["gridcloud-dask-worker"].preemption_policy == "Never"


def test_quota_namespaces_and_cvmfs_claim(default: Rendered) -> None:
    quota = default.one("kubernetes:core/v1:ResourceQuota", "services-grid-quota").inputs
    assert quota["spec"] == {"hard": {"requests.cpu": "96000"}}
    namespaces = {
        r.inputs["metadata"]["name"] for r in default.of_type("kubernetes:core/v1:Namespace")
    }
    assert namespaces == {"grid", "cvmfs", "reana", "jupyter"}
    claims = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in default.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    }
    # one claim per repository of the profile, named as Harvester's templates mount them,
    # made once the CSI driver is installed
    atlas = claims["csi-cvmfs-atlas-pvc"]
    assert atlas["metadata"]["namespace"] == "grid"
    assert atlas["spec"]["storageClassName"] == "csi-cvmfs-atlas"
    assert atlas["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert {"csi-cvmfs-atlas-condb-pvc", "csi-cvmfs-sft-pvc"} <= set(claims)
    classes = {
        r.inputs["metadata"]["name"]: r
        for r in default.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    }
    assert classes["csi-cvmfs-atlas-condb"].inputs["parameters"] == {
        "repository": "atlas-condb.cern.ch"
    }
    claim = next(
        r
        for r in default.of_type("kubernetes:core/v1:PersistentVolumeClaim")
        if r.inputs["metadata"]["name"] == "csi-cvmfs-sft-pvc"
    )
    assert "kubernetes:helm.sh/v3:Release::services-cvmfs-csi" in claim.options.depends_on


def test_reana_shared_volume_is_nfs_with_the_class_reana_asks_for(default: Rendered) -> None:
    volume = default.one("kubernetes:core/v1:PersistentVolume").inputs["spec"]
    assert volume["storageClassName"] == "reana-shared-volume-storage-class"
    assert volume["accessModes"] == ["ReadWriteMany"]
    assert volume["nfs"] == {"server": "10.8.0.42", "path": "/"}  # the service's cluster IP
    disk = next(
        r.inputs
        for r in default.of_type("kubernetes:core/v1:PersistentVolumeClaim")
        if r.inputs["metadata"]["name"] == "gridcloud-nfs-disk"
    )
    assert disk["spec"]["storageClassName"] == "standard-rwo"
    assert disk["spec"]["resources"]["requests"]["storage"] == "200Gi"
    server = default.one("kubernetes:apps/v1:Deployment", "services-nfs-server").inputs
    assert server["spec"]["template"]["spec"]["nodeSelector"] == {"gridcloud.io/pool": "control"}


def test_every_kubernetes_resource_uses_the_facility_provider(default: Rendered) -> None:
    kube = [r for r in default.resources if r.type.startswith("kubernetes:")]
    assert len(kube) >= 20
    for resource in kube:
        assert "pulumi:providers:kubernetes::kubernetes" in resource.provider, resource.name


def test_oidc_secret_comes_from_the_environment(default: Rendered) -> None:
    secret = next(
        r.inputs
        for r in default.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "jupyterhub-oidc"
    )
    from tests.program.mocks import is_secret, reveal

    # the whole stringData travels as a secret: never in the clear in the state
    assert is_secret(secret["stringData"])
    assert reveal(secret["stringData"]) == {"client-secret": "test-only-client-secret"}


def test_grid_site_outputs(default: Rendered) -> None:
    kubeconfig = json.loads(default.outputs["gridSiteKubeconfig"])
    assert "gridSiteKubeconfig" in default.secret_outputs
    # GKE: no token Secret, no token in the kubeconfig: GKE's exec plugin from the
    # Harvester host's Google credentials
    user = kubeconfig["users"][0]["user"]
    assert "token" not in user
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["exec"]["env"] == [
        {
            "name": "GOOGLE_APPLICATION_CREDENTIALS",
            "value": "/data/atlpan/k8_configs/atlas-gcp-google.json",
        }
    ]
    assert not [
        r
        for r in default.of_type("kubernetes:core/v1:Secret")
        if r.inputs.get("type") == "kubernetes.io/service-account-token"
    ]
    # the account the binding names, allowed to reach the cluster and nothing more
    account = default.one("gcp:serviceaccount/account:Account", "harvester-identity-account")
    assert account.inputs["accountId"] == "atlas-gcp-grid"
    roles = {
        r.inputs["role"]: r.inputs["member"]
        for r in default.of_type("gcp:projects/iAMMember:IAMMember")
        if "atlas-gcp-grid@" in str(r.inputs["member"])
    }
    assert roles == {
        "roles/container.clusterViewer": (
            "serviceAccount:atlas-gcp-grid@atlas-analysis-facility.iam.gserviceaccount.com"
        )
    }
    assert kubeconfig["contexts"][0]["context"]["namespace"] == "grid"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://203.0.113.10"
    template = default.outputs["gridSiteJobTemplate"]
    assert template["spec"]["template"]["spec"]["priorityClassName"] == "gridcloud-grid-pilot"


def test_on_prem_has_the_same_services_and_no_cloud(onprem_kubeconfig: Path) -> None:
    rendered = render(analyse(PROFILES / "onprem.yaml").plan)
    assert [r for r in rendered.resources if r.type.startswith(("gcp:",))] == []
    releases = {r.inputs["name"] for r in rendered.of_type(RELEASE)}
    assert releases == {"cvmfs-csi", "reana", "jupyterhub", "dask-gateway"}
    # the OIDC secret is referenced, not created
    assert not any(
        r.inputs.get("metadata", {}).get("name") == "jupyterhub-oidc"
        for r in rendered.of_type("kubernetes:core/v1:Secret")
    )
    kubeconfig = json.loads(rendered.outputs["gridSiteKubeconfig"])
    # an existing cluster: the token the cluster fills into the account's Secret
    assert kubeconfig["users"][0]["user"]["token"] == "token-for-tests"
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"] == SERVER
    assert cluster["certificate-authority-data"] == ca_data()
    assert base64.b64decode(cluster["certificate-authority-data"]).startswith(b"-----BEGIN")


def test_missing_oidc_secret_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcloud.errors import InputError

    monkeypatch.delenv("GRIDCLOUD_OIDC_CLIENT_SECRET")
    with pytest.raises(InputError, match="GRIDCLOUD_OIDC_CLIENT_SECRET is not set"):
        render(analyse(PROFILES / "default.yaml").plan)


def test_https_entry_points_have_static_addresses_and_follow_their_releases(
    default: Rendered,
) -> None:
    """A global address per hostname, named by the Plan and labelled; each Ingress waits
    for its address and for the release whose Services it routes to; the addresses are
    outputs for the DNS records."""
    addresses = {
        r.inputs["name"]: r for r in default.of_type("gcp:compute/globalAddress:GlobalAddress")
    }
    assert set(addresses) == {"atlas-gcp-jupyter", "atlas-gcp-reana"}
    assert addresses["atlas-gcp-reana"].inputs["labels"]["gridcloud-facility"] == "atlas-gcp"
    ingresses = {
        r.inputs["metadata"]["name"]: r
        for r in default.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    }
    assert set(ingresses) == {"gridcloud-jupyter", "gridcloud-reana"}
    hub = ingresses["gridcloud-jupyter"]
    assert "kubernetes:helm.sh/v3:Release::services-jupyterhub" in hub.options.depends_on
    services = default.one("gridcloud:services:Services")
    assert "gridcloud:network:Addresses::addresses" in services.options.depends_on
    assert set(default.outputs["addresses"]) == {
        "jupyter.atlas-af.example.org",
        "reana.atlas-af.example.org",
    }
    certificate = next(
        r for r in default.of_type("kubernetes:networking.gke.io/v1:ManagedCertificate")
    )
    assert certificate.inputs["spec"]["domains"][0].endswith(".atlas-af.example.org")


def test_reanas_first_run_follows_the_release_and_its_token_is_a_secret_output(
    default: Rendered,
) -> None:
    """The chart's first-run steps as a Job after the release, the administrator's login in
    a Secret of generated values, and the token it stores read back as a secret output."""
    job = default.one("kubernetes:batch/v1:Job")
    assert "kubernetes:helm.sh/v3:Release::services-reana" in job.options.depends_on
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/reanahub/reana-server:0.9.4"
    env = {e["name"]: e for e in container["env"]}
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "reana-admin",
        "key": "password",
    }
    admin = next(
        r
        for r in default.of_type("kubernetes:core/v1:Secret")
        if r.inputs.get("metadata", {}).get("name") == "reana-admin"
    )
    from tests.program.mocks import is_secret, reveal

    assert is_secret(admin.inputs["stringData"])
    login = reveal(admin.inputs["stringData"])
    assert login["email"] == "admin@reana.atlas-af.example.org"
    assert login["password"].startswith("generated-")
    assert default.outputs["reanaAdminToken"] == "admin-token-for-tests"
    assert "reanaAdminToken" in default.secret_outputs
