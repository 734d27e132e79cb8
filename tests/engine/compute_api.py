"""The Compute Engine API as the project's leftovers would show it, in the API's own shapes.

Responses follow the REST reference (aggregated lists keyed by ``zones/...``/``regions/...``
with a ``warning`` for empty scopes and ``nextPageToken`` for more pages; operations with
``status: DONE``). The real client library, ``google-cloud-compute``, sends the requests;
``responses`` answers them at compute.googleapis.com, the one boundary we cannot reach.
"""

from __future__ import annotations

import json
from typing import Any

import responses

API = "https://compute.googleapis.com/compute/v1/projects/atlas-analysis-facility"
EMPTY = {
    "code": "NO_RESULTS_ON_PAGE",
    "message": "There are no results for scope 'zones/us-central1-f' on this page.",
    "data": [{"key": "scope", "value": "zones/us-central1-f"}],
}
FACILITY_LABELS = {"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp"}


def _disk(name: str, zone: str, size: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "compute#disk",
        "id": str(abs(hash(name)) % 10**18),
        "creationTimestamp": "2026-10-01T10:00:00.000-07:00",
        "name": name,
        "sizeGb": size,
        "zone": f"{API}/zones/{zone}",
        "status": "READY",
        "selfLink": f"{API}/zones/{zone}/disks/{name}",
        "type": f"{API}/zones/{zone}/diskTypes/pd-balanced",
        "labelFingerprint": "42WmSpB8rSM=",
        **extra,
    }


def pvc_description(namespace: str, claim: str) -> str:
    return json.dumps(
        {
            "kubernetes.io/created-for/pv/name": f"pvc-{claim}",
            "kubernetes.io/created-for/pvc/name": claim,
            "kubernetes.io/created-for/pvc/namespace": namespace,
            "storage.gke.io/created-by": "pd.csi.storage.gke.io",
        }
    )


DISKS_PAGE_1 = {
    "kind": "compute#diskAggregatedList",
    "id": "projects/atlas-analysis-facility/aggregated/disks",
    "items": {
        "zones/us-central1-a": {
            "disks": [
                # a user's home volume, made by the PD CSI driver for the hub's claim
                _disk(
                    "pvc-3f1c9a52",
                    "us-central1-a",
                    "10",
                    description=pvc_description("jupyter", "claim-alice"),
                    labels={"goog-gke-volume": ""},
                ),
                # another team's disk in the same project: not ours
                _disk("build-cache", "us-central1-a", "500", labels={"team": "ci"}),
            ]
        },
        "zones/us-central1-f": {"warning": EMPTY},
    },
    "nextPageToken": "page-2",
    "selfLink": f"{API}/aggregated/disks",
}
DISKS_PAGE_2 = {
    "kind": "compute#diskAggregatedList",
    "id": "projects/atlas-analysis-facility/aggregated/disks",
    "items": {
        "zones/us-central1-b": {
            "disks": [
                # the hub's database volume, labelled by GKE with the cluster's name
                _disk(
                    "pvc-77aa0d10",
                    "us-central1-b",
                    "1",
                    description=pvc_description("jupyter", "hub-db-dir"),
                    labels={"goog-k8s-cluster-name": "atlas-gcp"},
                ),
                # a claim of the same namespace name in another region's cluster: not ours
            ]
        },
        "zones/europe-west4-a": {
            "disks": [
                _disk(
                    "pvc-eu",
                    "europe-west4-a",
                    "10",
                    description=pvc_description("jupyter", "claim-bob"),
                )
            ]
        },
    },
    "selfLink": f"{API}/aggregated/disks",
}
ADDRESSES = {
    "kind": "compute#addressAggregatedList",
    "items": {
        "regions/us-central1": {
            "addresses": [
                {
                    "kind": "compute#address",
                    "name": "atlas-gcp-hub",
                    "address": "203.0.113.7",
                    "status": "RESERVED",
                    "region": f"{API}/regions/us-central1",
                    "labels": FACILITY_LABELS,
                }
            ]
        },
        "regions/us-east1": {"warning": EMPTY},
    },
}
GLOBAL_ADDRESSES = {"kind": "compute#addressList", "items": []}
FORWARDING_RULES = {
    "kind": "compute#forwardingRuleAggregatedList",
    "items": {
        "regions/us-central1": {
            "forwardingRules": [
                {
                    "kind": "compute#forwardingRule",
                    "name": "a8f2c61e0d4b311efb0f942010a80002",
                    "region": f"{API}/regions/us-central1",
                    "IPAddress": "203.0.113.9",
                    "IPProtocol": "TCP",
                    "portRange": "80-80",
                    "loadBalancingScheme": "EXTERNAL",
                    "description": json.dumps(
                        {"kubernetes.io/service-name": "jupyter/proxy-public"}
                    ),
                },
                {
                    "kind": "compute#forwardingRule",
                    "name": "web-frontend",
                    "region": f"{API}/regions/us-central1",
                    "description": json.dumps({"kubernetes.io/service-name": "shop/web"}),
                },
            ]
        }
    },
}
SNAPSHOTS = {
    "kind": "compute#snapshotList",
    "items": [
        {
            "kind": "compute#snapshot",
            "name": "reana-nfs-2026-11-01",
            "diskSizeGb": "200",
            "status": "READY",
            "labels": FACILITY_LABELS,
        },
        {"kind": "compute#snapshot", "name": "golden-image", "diskSizeGb": "20"},
    ],
}


def operation(target: str) -> dict[str, Any]:
    return {
        "kind": "compute#operation",
        "id": "7365498203651634542",
        "name": "operation-1764345600000-delete",
        "operationType": "delete",
        "targetLink": target,
        "status": "DONE",
        "progress": 100,
        "insertTime": "2026-11-28T10:00:00.000-08:00",
        "endTime": "2026-11-28T10:00:05.000-08:00",
    }


def serve_listing(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{API}/aggregated/disks",
        json=DISKS_PAGE_2,
        match=[responses.matchers.query_param_matcher({"pageToken": "page-2"}, strict_match=False)],
    )
    mock.get(f"{API}/aggregated/disks", json=DISKS_PAGE_1)
    mock.get(f"{API}/aggregated/addresses", json=ADDRESSES)
    mock.get(f"{API}/global/addresses", json=GLOBAL_ADDRESSES)
    mock.get(f"{API}/aggregated/forwardingRules", json=FORWARDING_RULES)
    mock.get(f"{API}/global/snapshots", json=SNAPSHOTS)


#: What deleting the facility's leftovers sends, in order (forwarding rules free addresses).
DELETES = [
    f"{API}/regions/us-central1/forwardingRules/a8f2c61e0d4b311efb0f942010a80002",
    f"{API}/zones/us-central1-a/disks/pvc-3f1c9a52",
    f"{API}/zones/us-central1-b/disks/pvc-77aa0d10",
    f"{API}/global/snapshots/reana-nfs-2026-11-01",
    f"{API}/regions/us-central1/addresses/atlas-gcp-hub",
]


def serve_deletes(mock: responses.RequestsMock) -> None:
    for url in DELETES:
        mock.delete(url, json=operation(url))
