"""HTTPS for JupyterHub and REANA: GKE's load balancer on Google Cloud, the site's ingress
controller on an existing cluster.

**Google Cloud.** An Ingress per service (GKE's external Application Load Balancer), a
Google-managed certificate for the service's hostname, a global static IP address that
gridcloud reserves (so the DNS record survives a re-created Ingress or cluster), and HTTP
redirected to HTTPS. The certificate is issued once the hostname's DNS A record points at
the address (``gridcloud status`` and the stack outputs give it); until then the load
balancer serves HTTPS with no valid certificate.

The load balancer reaches pods through network endpoint groups (container-native load
balancing): each backend Service carries ``cloud.google.com/neg``. What it needs from each
backend (docs/services/load-balancer.md):

- a health check that answers 200. GKE's Ingress controller derives it from the pods'
  readiness probe when the probe is a plain HTTP GET on the serving port with at most a
  ``Host`` header; a BackendConfig can set the path and port, never the Host. The hub's
  proxy answers ``/_chp_healthz``. REANA's server refuses a Host other than its hostname
  (400) and redirects a request without ``X-Forwarded-Proto: https`` (302): it gets a
  readiness probe on ``/api/ping`` with its hostname as Host, and its in-app HTTPS
  redirect is off (the load balancer already redirects HTTP to HTTPS, and it is the only
  way in). REANA's session router (Traefik) answers its ping on the port it serves, where
  its readiness probe looks.
- a backend timeout longer than a WebSocket lives: the load balancer closes a WebSocket
  when the backend service's timeout ends (30 s by default). The hub's and REANA's
  session router's are a day (:data:`WEBSOCKET_TIMEOUT_S`).
- keep-alive longer than the load balancer's (600 s): every backend keeps idle
  connections :data:`BACKEND_KEEP_ALIVE_S` (configurable-http-proxy's default, 5 s,
  uWSGI's 60 s and Traefik's 180 s let the load balancer reuse a connection the backend
  is closing: a 502).

REANA's interactive sessions: the workflow controller gives each session an Ingress of the
class in the chart's ``ingress.annotations`` on REANA's hostname at ``/<workflow id>``. One
in-cluster router, REANA's own Traefik (ClusterIP), serves those Ingresses and the chart's
own; the load balancer sends ``/api`` and ``/oauth`` to the server directly and everything
else to the router (``reana.py``).

**An existing cluster** (``target.provider: kubernetes``): an Ingress per service with the
site's IngressClass (``target.ingress.className``, else the cluster's default) and its
certificate from a TLS Secret the site names or a cert-manager issuer it names. Without
either nothing serves HTTPS, and the OIDC callback (``https://<hostname>/...``) cannot
work: ``plan`` says so (policy rule ``ingress-without-tls``). ingress-nginx's
timeouts are set for WebSockets (its annotations; other controllers ignore them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gridcloud.plan.services.model import Backend, IngressPlan, PatchPlan

if TYPE_CHECKING:
    from gridcloud.profile.models import SiteIngress

INGRESS_CLASS = "gce"
REDIRECT = "gridcloud-https-redirect"
NEG = {"cloud.google.com/neg": json.dumps({"ingress": True})}
BACKEND_CONFIG = "cloud.google.com/backend-config"

#: A WebSocket's longest life through the load balancer (its backend service's timeout):
#: notebook kernels, terminals and dashboards reconnect after it.
WEBSOCKET_TIMEOUT_S = 24 * 3600
#: How long the hub's proxy keeps an idle connection: longer than Google's load balancer
#: (600 s, which requires its backends to keep them longer) and ingress-nginx (60 s).
LB_KEEP_ALIVE_S = 600
#: What every backend keeps: the hub's proxy, reana-server's uWSGI HTTP router (its
#: ``http-timeout``, 60 s by default, read from UWSGI_HTTP_TIMEOUT), REANA's router.
BACKEND_KEEP_ALIVE_S = LB_KEEP_ALIVE_S + 20
PROXY_KEEP_ALIVE_MS = BACKEND_KEEP_ALIVE_S * 1000
#: REANA's API: a workspace upload or download may take minutes (default 30 s).
REANA_API_TIMEOUT_S = 600

#: BackendConfigs: the hub's proxy, REANA's server, REANA's session router.
HUB_BACKEND = "gridcloud-hub"
REANA_SERVER_BACKEND = "reana-server-backend"
REANA_ROUTER_BACKEND = "reana-router-backend"

#: REANA 0.9.4's Services: its server and the Traefik (subchart) that routes the rest.
REANA_SERVER, REANA_ROUTER = "reana-server", "reana-traefik"
REANA_SERVER_CONTAINER, REANA_SERVER_PORT = "rest-api", 5000
REANA_HEALTH_PATH = "/api/ping"
#: The port REANA's Traefik serves (its ``web`` entry point), where its ping answers too.
ROUTER_PORT = 8000
PROXY_PUBLIC = "proxy-public"
#: ingress-nginx's annotations (read by ingress-nginx only).
NGINX = "nginx.ingress.kubernetes.io/"


def _ingress(
    service: str,
    facility: str,
    namespace: str,
    hostname: str,
    *,
    release: str,
    site: SiteIngress | None,
    backends: tuple[Backend, ...],
) -> IngressPlan:
    common: dict[str, Any] = {
        "service": service,
        "release": release,
        "namespace": namespace,
        "hostname": hostname,
        "name": f"gridcloud-{service}",
        "backends": backends,
    }
    if site is None:
        return IngressPlan(**common, address=f"{facility}-{service}")
    issuer = None
    if site.cluster_issuer:
        issuer = ("cert-manager.io/cluster-issuer", site.cluster_issuer)
    elif site.issuer:
        issuer = ("cert-manager.io/issuer", site.issuer)
    return IngressPlan(
        **common,
        address=None,
        controller="site",
        class_name=site.class_name,
        tls_secret=site.tls_secret,
        issuer=issuer,
    )


def jupyter_ingress(
    facility: str, namespace: str, hostname: str, site: SiteIngress | None = None
) -> IngressPlan:
    return _ingress(
        "jupyter",
        facility,
        namespace,
        hostname,
        release="jupyterhub",
        site=site,
        backends=(Backend(path="/", service=PROXY_PUBLIC, port=80),),
    )


def reana_ingress(
    facility: str, namespace: str, hostname: str, site: SiteIngress | None = None
) -> IngressPlan:
    """REANA 0.9.4's Ingress paths (templates/ingress.yaml): the API and login to the
    server; on Google Cloud everything else (the UI, sessions) to REANA's router; on an
    existing cluster the UI directly (sessions have Ingresses of the site's class)."""
    api = (
        Backend(path="/api", service=REANA_SERVER, port=80),
        Backend(path="/oauth", service=REANA_SERVER, port=80),
    )
    if site is None:
        rest = Backend(path="/", service=REANA_ROUTER, port=80)
    else:
        rest = Backend(path="/", service="reana-ui", port=80)
    return _ingress(
        "reana", facility, namespace, hostname, release="reana", site=site, backends=(*api, rest)
    )


def nginx_annotations(timeout_s: int) -> dict[str, str]:
    """ingress-nginx's settings for WebSockets (its read and send timeouts, 60 s by
    default, end an idle WebSocket) and uploads (no body size limit: 1 MiB by default)."""
    return {
        f"{NGINX}proxy-read-timeout": str(timeout_s),
        f"{NGINX}proxy-send-timeout": str(timeout_s),
        f"{NGINX}proxy-body-size": "0",
    }


def session_annotations(site: SiteIngress | None) -> dict[str, str | None]:
    """The chart's ``ingress.annotations``, which the workflow controller gives every
    session's Ingress (REANA_INGRESS_ANNOTATIONS): REANA's router's class on Google Cloud,
    the site's class (or its default, the chart's ``traefik`` removed) elsewhere."""
    if site is None:
        return {"kubernetes.io/ingress.class": "traefik"}
    return {
        "kubernetes.io/ingress.class": site.class_name,
        "traefik.ingress.kubernetes.io/router.entrypoints": None,
        **nginx_annotations(WEBSOCKET_TIMEOUT_S),
    }


def _rules(ingress: IngressPlan) -> list[dict[str, Any]]:
    paths = [
        {
            "path": b.path,
            "pathType": "Prefix",
            "backend": {"service": {"name": b.service, "port": {"number": b.port}}},
        }
        for b in ingress.backends
    ]
    return [{"host": ingress.hostname, "http": {"paths": paths}}]


def _backend_config(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "cloud.google.com/v1",
        "kind": "BackendConfig",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _site_objects(ingress: IngressPlan) -> list[dict[str, Any]]:
    annotations = nginx_annotations(
        WEBSOCKET_TIMEOUT_S if ingress.service == "jupyter" else REANA_API_TIMEOUT_S
    )
    if ingress.issuer is not None:
        annotations[ingress.issuer[0]] = ingress.issuer[1]
    spec: dict[str, Any] = {}
    if ingress.class_name:
        spec["ingressClassName"] = ingress.class_name
    if ingress.tls_secret or ingress.issuer:
        # with an issuer, cert-manager writes the certificate into this Secret
        secret = ingress.tls_secret or f"{ingress.name}-tls"
        spec["tls"] = [{"hosts": [ingress.hostname], "secretName": secret}]
    spec["rules"] = _rules(ingress)
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": ingress.name,
                "namespace": ingress.namespace,
                "annotations": annotations,
            },
            "spec": spec,
        }
    ]


def objects(ingress: IngressPlan) -> list[dict[str, Any]]:
    """The Ingress and what it needs (certificate, redirect, backend settings)."""
    if ingress.controller == "site":
        return _site_objects(ingress)
    meta = {"namespace": ingress.namespace}
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
            "spec": {"rules": _rules(ingress)},
        },
    ]
    if ingress.service == "jupyter":
        made.append(
            _backend_config(HUB_BACKEND, ingress.namespace, {"timeoutSec": WEBSOCKET_TIMEOUT_S})
        )
    if ingress.service == "reana":
        made += [
            _backend_config(
                REANA_SERVER_BACKEND, ingress.namespace, {"timeoutSec": REANA_API_TIMEOUT_S}
            ),
            _backend_config(
                REANA_ROUTER_BACKEND, ingress.namespace, {"timeoutSec": WEBSOCKET_TIMEOUT_S}
            ),
        ]
    return made


def hub_service_annotations() -> dict[str, str]:
    """The hub proxy's Service on Google Cloud: NEGs and its backend settings."""
    return {**NEG, BACKEND_CONFIG: json.dumps({"default": HUB_BACKEND})}


def reana_server_probe(hostname: str) -> dict[str, Any]:
    """reana-server's readiness probe, from which GKE derives the load balancer's health
    check: its ping, on the port it serves, with REANA's hostname as Host (reana-server
    refuses any other Host). Only a Host header: GKE ignores a probe with other headers."""
    return {
        "httpGet": {
            "path": REANA_HEALTH_PATH,
            "port": REANA_SERVER_PORT,
            "scheme": "HTTP",
            "httpHeaders": [{"name": "Host", "value": hostname}],
        },
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }


def reana_patches(namespace: str, hostname: str) -> list[PatchPlan]:
    """REANA's Services as the load balancer needs them (network endpoint groups, backend
    settings) and the server's readiness probe: the chart takes neither."""
    annotations = {
        REANA_SERVER: {**NEG, BACKEND_CONFIG: json.dumps({"default": REANA_SERVER_BACKEND})},
    }
    patches = [
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
    patches.append(
        PatchPlan(
            release="reana",
            manifest={
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": REANA_SERVER, "namespace": namespace},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": REANA_SERVER_CONTAINER,
                                    "readinessProbe": reana_server_probe(hostname),
                                }
                            ]
                        }
                    }
                },
            },
        )
    )
    return patches


def router_service_values() -> dict[str, Any]:
    """REANA's Traefik Service on Google Cloud: in-cluster, NEGs, its backend settings."""
    return {
        "type": "ClusterIP",
        "annotations": {**NEG, BACKEND_CONFIG: json.dumps({"default": REANA_ROUTER_BACKEND})},
    }
