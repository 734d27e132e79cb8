"""The Compute Engine API as the project's leftovers would show it, in the API's own shapes.

Responses follow the REST reference (aggregated lists keyed by ``zones/...``/``regions/...``
with a ``warning`` for empty scopes and ``nextPageToken`` for more pages; operations with
``status: DONE``). The real client library, ``google-cloud-compute``, sends the requests;
``responses`` answers them at compute.googleapis.com, the one boundary we cannot reach.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
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
    serve_ingress(mock)


# GKE's Ingress controller (ingress-gce) for the hub's Ingress jupyter/hub, named as its namer
# names them (pkg/utils/namer): the cluster's namer UID a1b2c3d4e5f60718 (NEGs and their
# backends: k8s1-<uid[:8]>-<ns>-<service>-<port>-<hash>), the v2 frontends with the cluster
# hash 9f3c2e1a (k8s2-<fs|fr|ts|tp|um|rm>-<hash>-<ns>-<ingress>-<hash>), the Google-managed
# certificate of the ManagedCertificate (mcrt-<uuid>); and another cluster's in the same
# project (namer UID 0b0b0b0b..., cluster hash 44aa88cc, network "default"), and a load
# balancer made by hand. Descriptions as the controller writes them.
GLOBAL = f"{API}/global"
LB = "9f3c2e1a-jupyter-hub-m1fy2oqz"
HUB = "k8s1-a1b2c3d4-jupyter-proxy-public-80-5e0c1f7b"
DEFAULT_BACKEND = "k8s1-a1b2c3d4-kube-system-default-http-backend-80-2c6d8a0e"
CERT = "mcrt-3b5e9a7c-1d2f-4e6a-9b8c-0f1e2d3c4b5a"
OTHER_LB = "44aa88cc-shop-web-q8w7e6r5"
OTHER_BACKEND = "k8s1-0b0b0b0b-shop-web-80-7d6c5b4a"


def _neg(name: str, zone: str, network: str, uid: str, service: str) -> Any:
    namespace, service = service.split("/")
    return {
        "kind": "compute#networkEndpointGroup",
        "id": str(abs(hash((name, zone))) % 10**18),
        "creationTimestamp": "2026-10-01T10:05:00.000-07:00",
        "selfLink": f"{API}/zones/{zone}/networkEndpointGroups/{name}",
        "name": name,
        "description": json.dumps(
            {"cluster-uid": uid, "namespace": namespace, "service-name": service, "port": "80"},
            separators=(",", ":"),
        ),
        "networkEndpointType": "GCE_VM_IP_PORT",
        "size": 0,
        "zone": f"{API}/zones/{zone}",
        "network": f"{API}/global/networks/{network}",
        "subnetwork": f"{API}/regions/us-central1/subnetworks/{network}-nodes",
        "defaultPort": 8000,
    }


NEGS = {
    "kind": "compute#networkEndpointGroupAggregatedList",
    "items": {
        "zones/us-central1-a": {
            "networkEndpointGroups": [
                _neg(
                    HUB,
                    "us-central1-a",
                    "atlas-gcp-vpc",
                    "a1b2c3d4e5f60718",
                    "jupyter/proxy-public",
                ),
                _neg(
                    DEFAULT_BACKEND,
                    "us-central1-a",
                    "atlas-gcp-vpc",
                    "a1b2c3d4e5f60718",
                    "kube-system/default-http-backend",
                ),
                _neg(OTHER_BACKEND, "us-central1-a", "default", "0b0b0b0b9c9c9c9c", "shop/web"),
            ]
        },
        "zones/us-central1-b": {
            "networkEndpointGroups": [
                _neg(
                    HUB,
                    "us-central1-b",
                    "atlas-gcp-vpc",
                    "a1b2c3d4e5f60718",
                    "jupyter/proxy-public",
                )
            ]
        },
        "zones/us-central1-f": {"warning": EMPTY},
    },
    "selfLink": f"{API}/aggregated/networkEndpointGroups",
}


def _ingress_description(ingress: str) -> str:
    return json.dumps({"kubernetes.io/ingress-name": ingress})


def _rule(name: str, target: str, port: str, ingress: str) -> dict[str, Any]:
    return {
        "kind": "compute#forwardingRule",
        "name": name,
        "description": _ingress_description(ingress),
        "IPAddress": "203.0.113.7" if ingress == "jupyter/hub" else "198.51.100.4",
        "IPProtocol": "TCP",
        "portRange": f"{port}-{port}",
        "target": target,
        "loadBalancingScheme": "EXTERNAL",
        "networkTier": "PREMIUM",
        "selfLink": f"{GLOBAL}/forwardingRules/{name}",
    }


GLOBAL_FORWARDING_RULES = {
    "kind": "compute#forwardingRuleList",
    "items": [
        _rule(f"k8s2-fs-{LB}", f"{GLOBAL}/targetHttpsProxies/k8s2-ts-{LB}", "443", "jupyter/hub"),
        _rule(f"k8s2-fr-{LB}", f"{GLOBAL}/targetHttpProxies/k8s2-tp-{LB}", "80", "jupyter/hub"),
        _rule(
            f"k8s2-fs-{OTHER_LB}",
            f"{GLOBAL}/targetHttpsProxies/k8s2-ts-{OTHER_LB}",
            "443",
            "shop/web",
        ),
        {
            "kind": "compute#forwardingRule",
            "name": "web-lb-https",
            "IPAddress": "198.51.100.9",
            "target": f"{GLOBAL}/targetHttpsProxies/web-lb-proxy",
            "loadBalancingScheme": "EXTERNAL_MANAGED",
        },
    ],
    "selfLink": f"{GLOBAL}/forwardingRules",
}
TARGET_HTTPS_PROXIES = {
    "kind": "compute#targetHttpsProxyList",
    "items": [
        {
            "kind": "compute#targetHttpsProxy",
            "name": f"k8s2-ts-{LB}",
            "description": _ingress_description("jupyter/hub"),
            "urlMap": f"{GLOBAL}/urlMaps/k8s2-um-{LB}",
            "sslCertificates": [f"{GLOBAL}/sslCertificates/{CERT}"],
            "quicOverride": "NONE",
        },
        {
            "kind": "compute#targetHttpsProxy",
            "name": f"k8s2-ts-{OTHER_LB}",
            "description": _ingress_description("shop/web"),
            "urlMap": f"{GLOBAL}/urlMaps/k8s2-um-{OTHER_LB}",
            "sslCertificates": [
                f"{GLOBAL}/sslCertificates/mcrt-0c0c0c0c-aaaa-bbbb-cccc-dddddddddddd"
            ],
        },
    ],
}
TARGET_HTTP_PROXIES = {
    "kind": "compute#targetHttpProxyList",
    "items": [
        {
            "kind": "compute#targetHttpProxy",
            "name": f"k8s2-tp-{LB}",
            "description": _ingress_description("jupyter/hub"),
            "urlMap": f"{GLOBAL}/urlMaps/k8s2-rm-{LB}",
        }
    ],
}
URL_MAPS = {
    "kind": "compute#urlMapList",
    "items": [
        {
            "kind": "compute#urlMap",
            "name": f"k8s2-um-{LB}",
            "defaultService": f"{GLOBAL}/backendServices/{DEFAULT_BACKEND}",
            "hostRules": [{"hosts": ["hub.atlas.example.org"], "pathMatcher": "host1"}],
            "pathMatchers": [
                {
                    "name": "host1",
                    "defaultService": f"{GLOBAL}/backendServices/{DEFAULT_BACKEND}",
                    "pathRules": [{"paths": ["/*"], "service": f"{GLOBAL}/backendServices/{HUB}"}],
                }
            ],
        },
        {
            "kind": "compute#urlMap",
            "name": f"k8s2-rm-{LB}",
            "defaultUrlRedirect": {
                "httpsRedirect": True,
                "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
            },
        },
        {
            "kind": "compute#urlMap",
            "name": f"k8s2-um-{OTHER_LB}",
            "defaultService": f"{GLOBAL}/backendServices/{OTHER_BACKEND}",
        },
        {
            "kind": "compute#urlMap",
            "name": "web-lb",
            "defaultService": f"{GLOBAL}/backendServices/web",
        },
    ],
}


def _backend(name: str, service: str) -> dict[str, Any]:
    zone_negs = [
        {
            "group": f"{API}/zones/{zone}/networkEndpointGroups/{name}",
            "balancingMode": "RATE",
            "maxRatePerEndpoint": 1,
            "capacityScaler": 1,
        }
        for zone in ("us-central1-a", "us-central1-b")
    ]
    return {
        "kind": "compute#backendService",
        "name": name,
        "description": json.dumps(
            {"kubernetes.io/service-name": service, "kubernetes.io/service-port": "80"},
            separators=(",", ":"),
        ),
        "backends": zone_negs,
        "healthChecks": [f"{GLOBAL}/healthChecks/{name}"],
        "timeoutSec": 30,
        "port": 80,
        "protocol": "HTTP",
        "portName": "port80",
        "loadBalancingScheme": "EXTERNAL",
        "connectionDraining": {"drainingTimeoutSec": 0},
        "selfLink": f"{GLOBAL}/backendServices/{name}",
    }


BACKEND_SERVICES = {
    "kind": "compute#backendServiceList",
    "items": [
        _backend(HUB, "jupyter/proxy-public"),
        _backend(DEFAULT_BACKEND, "kube-system/default-http-backend"),
        _backend(OTHER_BACKEND, "shop/web"),
        {"kind": "compute#backendService", "name": "web", "protocol": "HTTP"},
    ],
}


def _health_check(name: str) -> dict[str, Any]:
    return {
        "kind": "compute#healthCheck",
        "name": name,
        "description": "Default kubernetes L7 Loadbalancing health check for NEG.",
        "checkIntervalSec": 15,
        "timeoutSec": 15,
        "unhealthyThreshold": 2,
        "healthyThreshold": 1,
        "type": "HTTP",
        "httpHealthCheck": {"portSpecification": "USE_SERVING_PORT", "requestPath": "/"},
    }


HEALTH_CHECKS = {
    "kind": "compute#healthCheckList",
    "items": [_health_check(HUB), _health_check(DEFAULT_BACKEND), _health_check(OTHER_BACKEND)],
}
SSL_CERTIFICATES = {
    "kind": "compute#sslCertificateList",
    "items": [
        {
            "kind": "compute#sslCertificate",
            "name": CERT,
            "type": "MANAGED",
            "managed": {"domains": ["hub.atlas.example.org"], "status": "ACTIVE"},
            "subjectAlternativeNames": ["hub.atlas.example.org"],
            "expireTime": "2027-02-01T10:00:00.000-08:00",
        },
        {
            "kind": "compute#sslCertificate",
            "name": "mcrt-0c0c0c0c-aaaa-bbbb-cccc-dddddddddddd",
            "type": "MANAGED",
            "managed": {"domains": ["shop.example.com"], "status": "ACTIVE"},
        },
    ],
}


def serve_ingress(mock: responses.RequestsMock) -> None:
    mock.get(f"{API}/aggregated/networkEndpointGroups", json=NEGS)
    mock.get(f"{GLOBAL}/forwardingRules", json=GLOBAL_FORWARDING_RULES)
    mock.get(f"{GLOBAL}/targetHttpsProxies", json=TARGET_HTTPS_PROXIES)
    mock.get(f"{GLOBAL}/targetHttpProxies", json=TARGET_HTTP_PROXIES)
    mock.get(f"{GLOBAL}/urlMaps", json=URL_MAPS)
    mock.get(f"{GLOBAL}/backendServices", json=BACKEND_SERVICES)
    mock.get(f"{GLOBAL}/healthChecks", json=HEALTH_CHECKS)
    mock.get(f"{GLOBAL}/sslCertificates", json=SSL_CERTIFICATES)


#: What deleting the facility's leftovers sends, in order, worked out by hand: forwarding
#: rules (they hold the proxies and the addresses), the proxies (they hold the URL maps and the
#: certificate), the URL maps (they hold the backend services), the backend services (they
#: hold the NEGs and the health checks), then the rest; in a kind by location, then name.
DELETES = [
    f"{GLOBAL}/forwardingRules/k8s2-fr-{LB}",
    f"{GLOBAL}/forwardingRules/k8s2-fs-{LB}",
    f"{API}/regions/us-central1/forwardingRules/a8f2c61e0d4b311efb0f942010a80002",
    f"{GLOBAL}/targetHttpsProxies/k8s2-ts-{LB}",
    f"{GLOBAL}/targetHttpProxies/k8s2-tp-{LB}",
    f"{GLOBAL}/urlMaps/k8s2-rm-{LB}",
    f"{GLOBAL}/urlMaps/k8s2-um-{LB}",
    f"{GLOBAL}/backendServices/{HUB}",
    f"{GLOBAL}/backendServices/{DEFAULT_BACKEND}",
    f"{API}/zones/us-central1-a/networkEndpointGroups/{HUB}",
    f"{API}/zones/us-central1-a/networkEndpointGroups/{DEFAULT_BACKEND}",
    f"{API}/zones/us-central1-b/networkEndpointGroups/{HUB}",
    f"{GLOBAL}/healthChecks/{HUB}",
    f"{GLOBAL}/healthChecks/{DEFAULT_BACKEND}",
    f"{GLOBAL}/sslCertificates/{CERT}",
    f"{API}/zones/us-central1-a/disks/pvc-3f1c9a52",
    f"{API}/zones/us-central1-b/disks/pvc-77aa0d10",
    f"{API}/global/snapshots/reana-nfs-2026-11-01",
    f"{API}/regions/us-central1/addresses/atlas-gcp-hub",
]


def serve_deletes(mock: responses.RequestsMock) -> None:
    for url in DELETES:
        mock.delete(url, json=operation(url))


class VirtualClock:
    """The clock google-api-core's retries read and sleep on, made virtual: a client library
    that retries a 503 for its 600 s runs its real retry loop in milliseconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def virtual_retry_clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    from google.api_core.retry import retry_base, retry_unary

    clock = VirtualClock()
    monkeypatch.setattr(retry_unary, "time", clock)
    monkeypatch.setattr(retry_base, "time", clock)
    return clock


UNAVAILABLE = {
    "error": {
        "code": 503,
        "message": "The service is currently unavailable.",
        "errors": [
            {
                "message": "The service is currently unavailable.",
                "domain": "global",
                "reason": "backendError",
            }
        ],
        "status": "UNAVAILABLE",
    }
}
