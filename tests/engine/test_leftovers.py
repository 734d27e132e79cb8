"""The leftover listing after a destroy, through the real Compute Engine client library."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from google.auth.credentials import AnonymousCredentials

from gridcloud.engine import leftovers
from tests.engine import compute_api

FACILITY = leftovers.Facility(
    project="atlas-analysis-facility",
    region="us-central1",
    name="atlas-gcp",
    cluster="atlas-gcp",
    label=("gridcloud-facility", "atlas-gcp"),
    namespaces=("cvmfs", "grid", "jupyter", "reana"),
)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        compute_api.serve_listing(mock)
        yield mock


def clients() -> leftovers.ComputeClients:
    return leftovers.ComputeClients(AnonymousCredentials())


def test_lists_the_facilitys_leftovers_and_nothing_else(api: responses.RequestsMock) -> None:
    found = leftovers.find(FACILITY, clients())
    assert {(i.kind, i.name, i.location) for i in found} == {
        ("disk", "pvc-3f1c9a52", "us-central1-a"),  # a user's home volume (second page too)
        ("disk", "pvc-77aa0d10", "us-central1-b"),  # the hub's database, GKE's cluster label
        ("address", "atlas-gcp-hub", "us-central1"),
        ("forwarding-rule", "a8f2c61e0d4b311efb0f942010a80002", "us-central1"),
        ("snapshot", "reana-nfs-2026-11-01", "global"),
    }
    why = {i.name: i.why for i in found}
    assert why["pvc-3f1c9a52"] == "disk of claim jupyter/claim-alice"
    assert why["pvc-77aa0d10"] == "label goog-k8s-cluster-name=atlas-gcp"
    assert why["atlas-gcp-hub"] == "label gridcloud-facility=atlas-gcp"
    sizes = {i.name: i.size_gb for i in found}
    assert sizes["pvc-3f1c9a52"] == 10 and sizes["reana-nfs-2026-11-01"] == 200
    pages = [c.request.url for c in api.calls if "aggregated/disks" in c.request.url]
    assert len(pages) == 2 and "pageToken=page-2" in pages[1]


def test_deletes_forwarding_rules_first_then_disks_snapshots_and_addresses(
    api: responses.RequestsMock,
) -> None:
    compute_api.serve_deletes(api)
    found = leftovers.find(FACILITY, clients())
    assert leftovers.delete(FACILITY, found, clients()) == []
    deleted = [c.request.url for c in api.calls if c.request.method == "DELETE"]
    assert deleted == compute_api.DELETES


def test_a_leftover_gone_already_is_no_failure_and_a_refused_one_is_reported(
    api: responses.RequestsMock,
) -> None:
    found = leftovers.find(FACILITY, clients())
    urls = compute_api.DELETES
    api.delete(urls[0], status=404, json={"error": {"code": 404, "message": "not found"}})
    api.delete(
        urls[1],
        status=400,
        json={
            "error": {
                "code": 400,
                "message": "The disk resource 'pvc-3f1c9a52' is already being used by "
                "'gke-atlas-gcp-ondemand-1'",
                "errors": [{"reason": "resourceInUseByAnotherResource"}],
            }
        },
    )
    for url in urls[2:]:
        api.delete(url, json=compute_api.operation(url))
    failures = leftovers.delete(FACILITY, found, clients())
    assert len(failures) == 1
    assert failures[0].startswith("disk pvc-3f1c9a52 (us-central1-a):")
    assert "already being used" in failures[0]


def test_no_access_to_the_project_is_an_answer(api: responses.RequestsMock) -> None:
    api.replace(
        responses.GET,
        f"{compute_api.API}/aggregated/disks",
        status=403,
        json={"error": {"code": 403, "message": "Required 'compute.disks.list' permission"}},
    )
    from gridcloud.errors import EngineError

    with pytest.raises(EngineError, match="compute.disks.list") as caught:
        leftovers.find(FACILITY, clients())
    assert caught.value.hint is not None and "console" in caught.value.hint


def test_an_on_prem_stack_has_nothing_billed_to_look_for() -> None:
    assert leftovers.Facility.from_outputs({"facility": "campus", "target": "kubernetes"}) is None
