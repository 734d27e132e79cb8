"""The profile's ``data`` section and what the Plan decides from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from gridcloud.analysis import planned
from gridcloud.catalog import Catalog
from gridcloud.errors import GridcloudError
from gridcloud.plan import Plan
from gridcloud.policy import PROFILE_CHECKS, evaluate
from gridcloud.profile import Profile
from gridcloud.profile.loader import parse_profile
from tests.conftest import PROFILES

MakePlan = Callable[..., Plan]


def with_data(data: dict[str, Any] | None) -> Callable[[dict[str, Any]], None]:
    def edit(profile: dict[str, Any]) -> None:
        if data is None:
            profile.pop("data", None)
        else:
            profile["data"] = data

    return edit


def test_the_bucket_plan(make_plan: MakePlan) -> None:
    plan = make_plan(
        with_data(
            {
                "bucket": {
                    "enabled": True,
                    "versioning": True,
                    "lifecycle": [
                        {"action": "delete", "ageDays": 7, "prefix": "scratch/"},
                        {"action": "set-storage-class", "ageDays": 365, "storageClass": "archive"},
                    ],
                }
            }
        )
    )
    assert plan.data is not None and plan.data.bucket is not None
    bucket = plan.data.bucket
    # default.yaml: project atlas-analysis-facility, facility atlas-gcp, us-central1
    assert bucket.name == "atlas-analysis-facility-atlas-gcp-data"
    assert bucket.location == "US-CENTRAL1"
    assert (bucket.uniform_bucket_level_access, bucket.public_access_prevention) == (
        True,
        "enforced",
    )
    assert bucket.versioning is True
    assert [
        (r.action, r.age_days, r.matches_prefix, r.storage_class) for r in bucket.lifecycle
    ] == [
        ("Delete", 7, ("scratch/",), None),
        ("SetStorageClass", 365, (), "ARCHIVE"),
    ]
    assert plan.data.rucio is None  # not asked for
    # in the Plan's JSON, camelCase like the rest
    assert plan.to_json()["data"]["bucket"]["publicAccessPrevention"] == "enforced"


RUCIO_ON = {"bucket": {"enabled": True}, "rucio": {"enabled": True, "rse": "ATLAS_GCP_DATADISK"}}


def test_rucio_plan_names_its_account_and_prefix(make_plan: MakePlan) -> None:
    plan = make_plan(with_data(RUCIO_ON))
    assert plan.data is not None and plan.data.rucio is not None
    rucio = plan.data.rucio
    assert rucio.rse == "ATLAS_GCP_DATADISK"
    assert rucio.account_email == "atlas-gcp-rucio@atlas-analysis-facility.iam.gserviceaccount.com"
    assert rucio.prefix == "/atlas-analysis-facility-atlas-gcp-data/rucio/"
    assert rucio.bucket_role == "roles/storage.objectAdmin"
    # the services that are on reach the bucket from their namespaces
    assert [(a.namespace, a.role) for a in plan.data.workload_access] == [
        ("jupyter", "roles/storage.objectUser"),
        ("reana", "roles/storage.objectUser"),
        ("grid", "roles/storage.objectUser"),
    ]


def test_no_data_section_no_data_plan(make_plan: MakePlan) -> None:
    assert make_plan(with_data(None)).data is None


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"rucio": {"enabled": True}}, "rucio.enabled needs bucket.enabled"),
        (
            {
                "bucket": {
                    "enabled": True,
                    "lifecycle": [{"action": "set-storage-class", "ageDays": 3}],
                }
            },
            "set-storage-class needs storageClass",
        ),
        (
            {"bucket": {"lifecycle": [{"action": "delete", "ageDays": 0}]}},
            "ageDays",
        ),
        ({"rucio": {"rse": "lower_case"}}, "rse"),
        ({"monthly": {"egress": {"otherSitesGib": -1}}}, "otherSitesGib"),
    ],
)
def test_what_the_profile_refuses(
    make_profile: Callable[..., Profile], data: dict[str, Any], says: str
) -> None:
    with pytest.raises(GridcloudError) as refused:
        make_profile(with_data(data))
    assert says in str(refused.value)


def test_egress_unstated_is_advised_once_stated_it_is_not(make_plan: MakePlan) -> None:
    no_data = make_plan(lambda d: d.pop("data"))
    assert "data-egress-unstated" not in {f.rule for f in evaluate(no_data)}
    findings = {f.rule: f for f in evaluate(make_plan(with_data(RUCIO_ON)))}
    assert findings["data-egress-unstated"].severity == "info"
    stated = make_plan(
        with_data(
            {
                "bucket": {"enabled": True},
                "monthly": {"egress": {"otherSitesGib": 1000}},
            }
        )
    )
    assert "data-egress-unstated" not in {f.rule for f in evaluate(stated)}


def test_a_kubernetes_target_builds_no_bucket(catalog: Catalog) -> None:
    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["data"] = {"bucket": {"enabled": True}}
    profile = parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog, PROFILE_CHECKS)
    plan = planned(profile, catalog)[0]
    assert plan.data is None
    assert any("data.bucket is not built" in w for w in plan.warnings)


def test_the_deployer_permissions_cover_the_data_resources(make_plan: MakePlan) -> None:
    """What the program creates for data (tests/program/test_storage.py) against what
    ``gridcloud check`` asks for, and the roles it names grant them (Google's recorded
    predefined roles)."""
    from gridcloud.check.permissions import needs
    from tests.unit.test_check_permissions import _predefined

    plan = make_plan(with_data(RUCIO_ON))
    found = {n.permission: n.role for n in needs(plan)}
    for permission in (
        "storage.buckets.create",
        "storage.buckets.delete",
        "storage.buckets.getIamPolicy",
        "storage.buckets.setIamPolicy",
        "iam.serviceAccounts.create",
        "iam.serviceAccounts.delete",
        "resourcemanager.projects.get",
    ):
        assert permission in found, permission
        assert permission in _predefined()[found[permission]]["includedPermissions"]
