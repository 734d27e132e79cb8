"""The facility bucket and Rucio's signing account as the program declares them (Pulumi's
mocks), for the default profile with ``data`` switched on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gridcloud.plan import Plan
from tests.program.mocks import PROJECT_NUMBER, Rendered, render

BUCKET = "gcp:storage/bucket:Bucket"
MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"

DATA = {
    "bucket": {
        "enabled": True,
        "versioning": True,
        "lifecycle": [
            {"action": "delete", "ageDays": 14, "prefix": "scratch/"},
            {"action": "set-storage-class", "ageDays": 90, "storageClass": "coldline"},
        ],
    },
    "rucio": {"enabled": True, "rse": "ATLAS_GCP_DATADISK"},
}


def with_data(data: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(profile: dict[str, Any]) -> None:
        profile["data"] = data

    return edit


@pytest.fixture(scope="module")
def rendered(request: pytest.FixtureRequest) -> tuple[Plan, Rendered]:
    make_plan = request.getfixturevalue("make_plan_module")
    plan = make_plan(with_data(DATA))
    return plan, render(plan)


@pytest.fixture(scope="module")
def make_plan_module() -> Callable[..., Plan]:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile.loader import parse_profile
    from tests.conftest import default_data

    def make(edit: Callable[[dict[str, Any]], None]) -> Plan:
        data = default_data()
        edit(data)
        catalog = load_catalog()
        text = yaml.safe_dump(data, sort_keys=False)
        return planned(parse_profile(text, "t.yaml", catalog, PROFILE_CHECKS), catalog)[0]

    return make


def test_the_bucket_is_regional_private_and_labelled(rendered: tuple[Plan, Rendered]) -> None:
    plan, out = rendered
    bucket = out.one(BUCKET, "data-bucket").inputs
    # <project>-<facility>-data in the cluster's region (default.yaml: us-central1)
    assert bucket["name"] == f"{plan.target.project}-{plan.name}-data"  # type: ignore[union-attr]
    assert bucket["location"] == "US-CENTRAL1"
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["forceDestroy"] is False
    assert bucket["labels"] == {"managed-by": "gridcloud", "gridcloud-facility": plan.name}
    assert bucket["lifecycleRules"] == [
        {
            "action": {"type": "Delete"},
            "condition": {"age": 14, "matchesPrefixes": ["scratch/"]},
        },
        {
            "action": {"type": "SetStorageClass", "storageClass": "COLDLINE"},
            "condition": {"age": 90},
        },
    ]


def test_rucio_signs_as_an_object_admin_of_this_bucket_only(
    rendered: tuple[Plan, Rendered],
) -> None:
    plan, out = rendered
    account = out.one(ACCOUNT, "data-rucio-account").inputs
    assert account["accountId"] == f"{plan.name}-rucio"
    member = out.one(MEMBER, "data-rucio-objects")
    assert member.inputs["role"] == "roles/storage.objectAdmin"
    assert member.inputs["bucket"] == f"{plan.target.project}-{plan.name}-data"  # type: ignore[union-attr]
    assert member.inputs["member"].startswith("serviceAccount:")
    # no project-wide role for it
    project_members = [
        r
        for r in out.of_type("gcp:projects/iAMMember:IAMMember")
        if "rucio" in str(r.inputs.get("member"))
    ]
    assert project_members == []


def test_no_key_is_made_or_exported(rendered: tuple[Plan, Rendered]) -> None:
    """Rucio's administrators create the signing key themselves (docs/data.md)."""
    _, out = rendered
    assert out.of_type(KEY) == []
    assert out.outputs["rucioAccount"] is not None
    assert {k for k in out.outputs if "rucio" in k.lower()} == {"rucioAccount"}
    assert not out.secret_outputs & {k for k in out.outputs if "rucio" in k.lower()}


def test_the_services_pods_reach_the_bucket_through_workload_identity(
    rendered: tuple[Plan, Rendered],
) -> None:
    """Every pod of the services' namespaces as itself (Workload Identity Federation for
    GKE's principal set of a namespace, as Google's docs write it): object user on the
    bucket only; no Google service account, no key for them."""
    plan, out = rendered
    project = plan.target.project  # type: ignore[union-attr]
    pool = (
        f"principalSet://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/"
        f"workloadIdentityPools/{project}.svc.id.goog/namespace"
    )
    found = {
        r.name: (r.inputs["member"], r.inputs["role"], r.inputs["bucket"])
        for r in out.of_type(MEMBER)
        if r.name != "data-rucio-objects"
    }
    bucket = f"{project}-{plan.name}-data"
    # default.yaml: the grid site (grid), REANA (reana), JupyterHub with Dask (jupyter)
    assert found == {
        "data-jupyter-pods": (f"{pool}/jupyter", "roles/storage.objectUser", bucket),
        "data-reana-pods": (f"{pool}/reana", "roles/storage.objectUser", bucket),
        "data-grid-pods": (f"{pool}/grid", "roles/storage.objectUser", bucket),
    }
    assert [r.name for r in out.of_type(ACCOUNT) if "data" in r.name] == ["data-rucio-account"]
    assert out.of_type(KEY) == []


def test_without_data_there_is_no_bucket(make_plan_module: Callable[..., Plan]) -> None:
    out = render(make_plan_module(lambda profile: profile.pop("data", None)))
    assert all(r.name != "data-bucket" for r in out.of_type(BUCKET))
    assert out.of_type(KEY) == []
    assert out.of_type(MEMBER) == []
