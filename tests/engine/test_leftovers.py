"""The leftover listing after a destroy, through the real Compute Engine client library."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import responses
from google.auth.credentials import AnonymousCredentials

from gridcloud.engine import leftovers
from tests.engine import compute_api

#: The names GKE's Ingress controller gives (and the managed certificate's)
INGRESS = re.compile(r"k8s[12]?-|mcrt-")

FACILITY = leftovers.LeftoverScope(
    project="atlas-analysis-facility",
    region="us-central1",
    name="atlas-gcp",
    cluster="atlas-gcp",
    label=("gridcloud-facility", "atlas-gcp"),
    namespaces=("cvmfs", "grid", "jupyter", "reana"),
    network="atlas-gcp-vpc",
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
    assert {(i.kind, i.name, i.location) for i in found if not INGRESS.match(i.name)} == {
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
    disk = f"{compute_api.API}/zones/us-central1-a/disks/pvc-3f1c9a52"
    api.delete(urls[0], status=404, json={"error": {"code": 404, "message": "not found"}})
    api.delete(
        disk,
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
    for url in urls[1:]:
        if url != disk:
            api.delete(url, json=compute_api.operation(url))
    failures = leftovers.delete(FACILITY, found, clients())
    assert len(failures) == 1
    assert failures[0].startswith("disk pvc-3f1c9a52 (us-central1-a): Google refused: 400 ")
    assert "already being used" in failures[0]
    assert failures[0].endswith(
        "[by hand: gcloud compute disks delete pvc-3f1c9a52 --zone us-central1-a "
        "--project atlas-analysis-facility]"
    )


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
    assert (
        leftovers.LeftoverScope.from_outputs({"facility": "campus", "target": "kubernetes"}) is None
    )


def test_what_gke_ingress_built_for_the_hub_is_listed_and_another_clusters_is_not(
    api: responses.RequestsMock,
) -> None:
    """The hub's Ingress jupyter/hub as ingress-gce leaves it when the cluster goes first: its
    HTTPS and HTTP frontends (v2 names, cluster hash 9f3c2e1a), the URL maps, the backend
    services of the hub's Service and of GKE's default backend with their NEGs in two zones and
    health checks (namer UID a1b2c3d4...), and the ManagedCertificate's Google-managed
    certificate. Another cluster's Ingress shop/web in the same project, and a load balancer
    made by hand, are not the facility's."""
    lb, hub, default = compute_api.LB, compute_api.HUB, compute_api.DEFAULT_BACKEND
    found = [i for i in leftovers.find(FACILITY, clients()) if INGRESS.match(i.name)]
    assert sorted((i.kind, i.name, i.location) for i in found) == sorted(
        [
            ("forwarding-rule", f"k8s2-fs-{lb}", "global"),
            ("forwarding-rule", f"k8s2-fr-{lb}", "global"),
            ("target-https-proxy", f"k8s2-ts-{lb}", "global"),
            ("target-http-proxy", f"k8s2-tp-{lb}", "global"),
            ("url-map", f"k8s2-um-{lb}", "global"),
            ("url-map", f"k8s2-rm-{lb}", "global"),
            ("backend-service", hub, "global"),
            ("backend-service", default, "global"),
            ("network-endpoint-group", hub, "us-central1-a"),
            ("network-endpoint-group", hub, "us-central1-b"),
            ("network-endpoint-group", default, "us-central1-a"),
            ("health-check", hub, "global"),
            ("health-check", default, "global"),
            ("ssl-certificate", compute_api.CERT, "global"),
        ]
    )
    why = {(i.kind, i.name, i.location): i.why for i in found}
    assert why[("forwarding-rule", f"k8s2-fs-{lb}", "global")] == (
        "load balancer of ingress jupyter/hub"
    )
    assert why[("network-endpoint-group", default, "us-central1-a")] == (
        "endpoints of service kube-system/default-http-backend on network atlas-gcp-vpc"
    )
    assert why[("ssl-certificate", compute_api.CERT, "global")] == (
        f"used by target-https-proxy k8s2-ts-{lb}"
    )
    # GKE's default backend is in kube-system, not a facility namespace: found by its name
    assert "k8s1-a1b2c3d4" in why[("backend-service", default, "global")]


def test_each_leftover_says_how_to_delete_it_by_hand(api: responses.RequestsMock) -> None:
    found = {(i.kind, i.location): i for i in leftovers.find(FACILITY, clients())}
    project = "atlas-analysis-facility"
    lb = compute_api.LB
    assert found["target-https-proxy", "global"].command(project) == (
        f"gcloud compute target-https-proxies delete k8s2-ts-{lb} --global "
        "--project atlas-analysis-facility"
    )
    assert found["network-endpoint-group", "us-central1-b"].command(project) == (
        f"gcloud compute network-endpoint-groups delete {compute_api.HUB} --zone us-central1-b "
        "--project atlas-analysis-facility"
    )
    assert found["address", "us-central1"].command(project) == (
        "gcloud compute addresses delete atlas-gcp-hub --region us-central1 "
        "--project atlas-analysis-facility"
    )
    assert found["snapshot", "global"].command(project) == (
        "gcloud compute snapshots delete reana-nfs-2026-11-01 --project atlas-analysis-facility"
    )


def test_a_facility_from_its_stack_knows_its_network() -> None:
    facility = leftovers.LeftoverScope.from_outputs(
        {
            "facility": "atlas-gcp",
            "target": "gcp",
            "project": "atlas-analysis-facility",
            "region": "us-central1",
            "namespaces": ["jupyter"],
        }
    )
    assert facility is not None and facility.network == "atlas-gcp-vpc"  # docs/plan.md's names


def test_google_unavailable_after_the_destroy_is_a_message_not_a_traceback(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compute Engine answers 503 to the listing: the client library retries it (its default,
    600 s, on a virtual clock here) and gives up with a RetryError."""
    from gridcloud.errors import EngineError

    clock = compute_api.virtual_retry_clock(monkeypatch)
    api.replace(
        responses.GET,
        f"{compute_api.GLOBAL}/urlMaps",
        status=503,
        json=compute_api.UNAVAILABLE,
    )
    with pytest.raises(EngineError) as caught:
        leftovers.find(FACILITY, clients())
    error = caught.value
    assert error.message.startswith(
        "the facility is destroyed, but its project could not be searched for leftovers: "
        "no answer from Google, after retrying: "
    )
    assert "The service is currently unavailable." in error.message
    assert error.hint is not None
    assert error.hint.startswith("a Google outage or a network problem: try again")
    assert "gridcloud-facility=atlas-gcp" in error.hint
    asked = [c for c in api.calls if "global/urlMaps" in c.request.url]
    assert len(asked) > 10 and clock.now >= 500  # it did retry, for Google's 600 s
