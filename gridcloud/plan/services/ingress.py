"""HTTPS for JupyterHub and REANA on Google Cloud.

One way, GKE's own: an Ingress per service (GKE's external Application Load Balancer), a
Google-managed certificate for the service's hostname, a global static IP address that
gridcloud reserves (so the DNS record survives a re-created Ingress or cluster), and HTTP
redirected to HTTPS. The certificate is issued once the hostname's DNS A record points at
the address (``gridcloud status`` and the stack outputs give it); until then the load
balancer serves HTTPS with no valid certificate.

The load balancer reaches pods through network endpoint groups (container-native load
balancing): each backend Service carries ``cloud.google.com/neg``. Health checks: GKE takes
the hub proxy's from its readiness probe (``/_chp_healthz`` on the port it serves); REANA's
server has no probe and answers 404 at ``/``, so a BackendConfig points its check at
``/api/ping``. REANA's own Traefik (a NodePort on private nodes) and its Ingress are off:
the load balancer routes as REANA's Ingress would (``/api`` and ``/oauth`` to the server,
the rest to the UI).

An existing cluster (``target.provider: kubernetes``) keeps the charts' own exposure; the
site's ingress and certificates are its own (docs/deploy.md).
"""

from __future__ import annotations

import json
from typing import Any

from gridcloud.plan.services.model import Backend, IngressPlan, PatchPlan

INGRESS_CLASS = "gce"
REDIRECT = "gridcloud-https-redirect"
NEG = {"cloud.google.com/neg": json.dumps({"ingress": True})}


def _ingress(
    service: str, release: str, facility: str, namespace: str, hostname: str, *backends: Backend
) -> IngressPlan:
    return IngressPlan(
        service=service,
        release=release,
        namespace=namespace,
        hostname=hostname,
        address=f"{facility}-{service}",
        name=f"gridcloud-{service}",
        backends=backends,
    )


def jupyter_ingress(facility: str, namespace: str, hostname: str) -> IngressPlan:
    return _ingress(
        "jupyter",
        "jupyterhub",
        facility,
        namespace,
        hostname,
        Backend(path="/", service="proxy-public", port=80),
    )


#: REANA 0.9.4's Ingress paths (templates/ingress.yaml), and the server's health path.
REANA_SERVER, REANA_UI = "reana-server", "reana-ui"
REANA_HEALTH = "reana-server-health"


def reana_ingress(facility: str, namespace: str, hostname: str) -> IngressPlan:
    return _ingress(
        "reana",
        "reana",
        facility,
        namespace,
        hostname,
        Backend(path="/api", service=REANA_SERVER, port=80),
        Backend(path="/oauth", service=REANA_SERVER, port=80),
        Backend(path="/", service=REANA_UI, port=80),
    )


def objects(ingress: IngressPlan) -> list[dict[str, Any]]:
    """The Ingress, its certificate and the HTTP-to-HTTPS redirect, as manifests."""
    meta = {"namespace": ingress.namespace}
    paths = [
        {
            "path": b.path,
            "pathType": "Prefix",
            "backend": {"service": {"name": b.service, "port": {"number": b.port}}},
        }
        for b in ingress.backends
    ]
    made: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "ManagedCertificate",
            "metadata": {"name": ingress.name, **meta},
            "spec": {"domains": [ingress.hostname]},
        },
        {
            "apiVersion": "networking.gke.io/v1beta1",
            "kind": "FrontendConfig",
            "metadata": {"name": REDIRECT, **meta},
            "spec": {
                "redirectToHttps": {
                    "enabled": True,
                    "responseCodeName": "MOVED_PERMANENTLY_DEFAULT",
                }
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": ingress.name,
                **meta,
                "annotations": {
                    "kubernetes.io/ingress.class": INGRESS_CLASS,
                    "kubernetes.io/ingress.global-static-ip-name": ingress.address,
                    "networking.gke.io/managed-certificates": ingress.name,
                    "networking.gke.io/v1beta1.FrontendConfig": REDIRECT,
                },
            },
            "spec": {"rules": [{"host": ingress.hostname, "http": {"paths": paths}}]},
        },
    ]
    if ingress.service == "reana":
        made.append(
            {
                "apiVersion": "cloud.google.com/v1",
                "kind": "BackendConfig",
                "metadata": {"name": REANA_HEALTH, **meta},
                "spec": {"healthCheck": {"type": "HTTP", "requestPath": "/api/ping", "port": 5000}},
            }
        )
    return made


def reana_service_patches(namespace: str) -> list[PatchPlan]:
    """REANA's Services as the load balancer needs them: network endpoint groups, and the
    server's health check (the chart takes no Service annotations)."""
    annotations = {
        REANA_SERVER: {
            **NEG,
            "cloud.google.com/backend-config": json.dumps({"default": REANA_HEALTH}),
        },
        REANA_UI: dict(NEG),
    }
    return [
        PatchPlan(
            release="reana",
            manifest={
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace, "annotations": notes},
            },
        )
        for name, notes in annotations.items()
    ]
