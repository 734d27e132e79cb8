"""A model of what Google's HTTP(S) load balancer makes of the rendered objects.

GKE's Ingress controller (kubernetes/ingress-gce) turns each Ingress of class ``gce`` into
a URL map whose paths lead to backend services, one per Service port, each with a health
check. This module follows the same steps over the rendered manifests, so that a new
service or a chart upgrade that breaks one shows up offline:

- the Ingress names a Service and a port (number or name); the Service must exist, serve
  that port and, being ClusterIP, carry ``cloud.google.com/neg`` (ingress-gce refuses it
  otherwise); the load balancer sends to the pods' target port (network endpoint groups);
- the health check (ingress-gce ``pkg/controller/translator/translator.go``:
  ``getHTTPProbe``/``isSimpleHTTPProbe``; ``pkg/translator/healthchecks.go``:
  ``ApplyProbeSettingsToHC``): taken from the first selected pod's container whose port
  is the target port and whose readiness probe is an HTTP GET of the backend's protocol on
  that port with no header but ``Host``; its path and Host become the check's. Otherwise
  ``GET /`` with no Host (the load balancer then sends the endpoint's address). A
  BackendConfig's ``healthCheck`` overrides the path, port and type, never the Host;
- the backend service's timeout: the BackendConfig's ``timeoutSec``, else 30 s. For a
  WebSocket it is the connection's whole life;
- a health check carries no ``X-Forwarded-Proto``; a user's request through the load
  balancer carries ``Host: <hostname>`` and ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gridcloud.render import Rendered

DEFAULT_TIMEOUT_S = 30
#: Where Google's health checkers and its front ends (which send users' requests to
#: network endpoint groups) connect from (Google Cloud docs, "Health checks overview").
GOOGLE_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
LABELS = "__labels__"
GCE = "gce"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
BACKEND_CONFIG_KEYS = ("cloud.google.com/backend-config", "beta.cloud.google.com/backend-config")


class UnroutableError(Exception):
    """What ingress-gce would refuse, or a path it would leave without a backend."""


@dataclass(frozen=True)
class HealthCheck:
    path: str
    port: int
    host: str | None
    """The Host header it sends; None: the endpoint's address (``10.x.x.x:port``)."""
    protocol: str
    source: str
    """``readiness probe``, ``BackendConfig`` (over either) or ``default``."""

    def headers(self, endpoint: str) -> dict[str, str]:
        """What the check sends to the pod at ``endpoint`` (``ip:port``)."""
        return {"Host": self.host or endpoint}


@dataclass(frozen=True)
class Route:
    ingress: str
    namespace: str
    host: str
    path: str
    service: str
    service_port: int
    target_port: int
    """The pods' port the load balancer sends to (and, by default, checks)."""
    workload: str
    """``Kind/name`` of the pods behind the Service."""
    pod_labels: dict[str, str]
    container: str
    health: HealthCheck
    timeout_s: int
    protocol: str

    def user_headers(self) -> dict[str, str]:
        """What a user's request through the load balancer carries to the pod."""
        return {"Host": self.host, "X-Forwarded-Proto": "https"}


def manifests(rendered: list[Rendered]) -> list[dict[str, Any]]:
    """The objects, each in the namespace it lands in (a chart's template may leave it to
    the release's)."""
    found = []
    for release in rendered:
        namespace = release.release.namespace if release.release else None
        for manifest in release.manifests:
            body = manifest.body
            if namespace and "namespace" not in body.get("metadata", {}):
                body = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
            found.append(body)
    return found


def _named(objects: list[dict[str, Any]], kind: str, namespace: str) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o
        for o in objects
        if o.get("kind") == kind and o["metadata"].get("namespace") == namespace
    }


def ingress_class(ingress: dict[str, Any]) -> str | None:
    annotations = ingress["metadata"].get("annotations") or {}
    found = annotations.get(CLASS_ANNOTATION) or ingress.get("spec", {}).get("ingressClassName")
    return str(found) if found else None


def _service_port(service: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    for port in service["spec"].get("ports", []):
        if ("number" in wanted and port["port"] == wanted["number"]) or (
            "name" in wanted and port.get("name") == wanted["name"]
        ):
            return port  # type: ignore[no-any-return]
    raise UnroutableError(f"Service {service['metadata']['name']} has no port {wanted}")


def _pods(objects: list[dict[str, Any]], service: dict[str, Any]) -> list[tuple[str, Any]]:
    namespace = service["metadata"]["namespace"]
    selector = service["spec"].get("selector") or {}
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        for name, body in sorted(_named(objects, kind, namespace).items()):
            template = body["spec"]["template"]
            labels = template["metadata"].get("labels") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                found.append((f"{kind}/{name}", {**template["spec"], LABELS: labels}))
    return found


def _container_port(container: dict[str, Any], target: int | str) -> int | None:
    for port in container.get("ports") or []:
        if port["containerPort"] == target or port.get("name") == target:
            return int(port["containerPort"])
    return None


def _simple_http_probe(probe: dict[str, Any] | None) -> bool:
    get = (probe or {}).get("httpGet")
    if get is None or get.get("host"):
        return False
    headers = get.get("httpHeaders") or []
    return len(headers) == 0 or (len(headers) == 1 and headers[0]["name"] == "Host")


def _probe_port_matches(probe: dict[str, Any], container: dict[str, Any], port: int) -> bool:
    wanted = probe["httpGet"]["port"]
    if isinstance(wanted, int):
        return wanted == port
    return any(p.get("name") == wanted and p["containerPort"] == port for p in container["ports"])


def _backend_config(
    objects: list[dict[str, Any]], service: dict[str, Any], port: dict[str, Any]
) -> dict[str, Any]:
    annotations = service["metadata"].get("annotations") or {}
    text = next((annotations[k] for k in BACKEND_CONFIG_KEYS if k in annotations), None)
    if text is None:
        return {}
    names = json.loads(text)
    by_port = names.get("ports") or {}
    name = (
        by_port.get(str(port["port"])) or by_port.get(port.get("name", "")) or names.get("default")
    )
    if name is None:
        return {}
    configs = _named(objects, "BackendConfig", service["metadata"]["namespace"])
    if name not in configs:
        raise UnroutableError(f"Service {service['metadata']['name']}: no BackendConfig {name}")
    return configs[name]["spec"]  # type: ignore[no-any-return]


def route(
    objects: list[dict[str, Any]],
    ingress: dict[str, Any],
    host: str,
    path: dict[str, Any],
    *,
    negs: bool = True,
) -> Route:
    """One Ingress path followed to its pods; ``negs=False`` for an in-cluster router,
    which needs no network endpoint groups."""
    namespace = ingress["metadata"]["namespace"]
    backend = path["backend"]["service"]
    services = _named(objects, "Service", namespace)
    if backend["name"] not in services:
        raise UnroutableError(f"{namespace}/{backend['name']}: no such Service")
    service = services[backend["name"]]
    port = _service_port(service, backend["port"])
    annotations = service["metadata"].get("annotations") or {}
    neg = json.loads(annotations.get("cloud.google.com/neg", "{}"))
    clusterip = service["spec"].get("type", "ClusterIP") == "ClusterIP"
    if negs and clusterip and not neg.get("ingress"):
        raise UnroutableError(f"Service {backend['name']}: ClusterIP without NEGs")
    protocols = json.loads(annotations.get("cloud.google.com/app-protocols", "{}"))
    protocol = protocols.get(port.get("name", ""), "HTTP")
    target = port.get("targetPort", port["port"])
    pods = _pods(objects, service)
    if not pods:
        raise UnroutableError(f"Service {backend['name']} selects no pods")
    workload, container_name, serving, health = "", "", None, None
    for owner, spec in pods:
        for container in spec["containers"]:
            number = _container_port(container, target)
            if number is None:
                continue
            if not workload:
                workload, container_name, serving = owner, container["name"], number
            probe = container.get("readinessProbe")
            if (
                health is None
                and _simple_http_probe(probe)
                and probe["httpGet"].get("scheme", "HTTP") == protocol
                and _probe_port_matches(probe, container, number)
            ):
                get = probe["httpGet"]
                probe_host = next((h["value"] for h in get.get("httpHeaders") or []), None)
                path_ = get.get("path") or "/"
                health = HealthCheck(
                    path=path_ if path_.startswith("/") else "/" + path_,
                    port=number,
                    host=probe_host,
                    protocol=protocol,
                    source="readiness probe",
                )
                workload, container_name, serving = owner, container["name"], number
    if serving is None:
        if isinstance(target, int):
            # a container need not declare the port it listens on (a number reaches it)
            workload, container_name = pods[0][0], pods[0][1]["containers"][0]["name"]
            serving = target
        else:
            raise UnroutableError(f"Service {backend['name']}: no pod serves port {target!r}")
    if health is None:
        health = HealthCheck("/", serving, None, protocol, "default")
    config = _backend_config(objects, service, port)
    check = config.get("healthCheck") or {}
    if check:
        health = HealthCheck(
            path=check.get("requestPath", health.path),
            port=check.get("port", health.port),
            host=health.host,
            protocol=check.get("type", health.protocol),
            source="BackendConfig",
        )
    return Route(
        ingress=ingress["metadata"]["name"],
        namespace=namespace,
        host=host,
        path=path["path"],
        service=backend["name"],
        service_port=port["port"],
        target_port=serving,
        workload=workload,
        pod_labels=next(spec[LABELS] for owner, spec in pods if owner == workload),
        container=container_name,
        health=health,
        timeout_s=int(config.get("timeoutSec", DEFAULT_TIMEOUT_S)),
        protocol=protocol,
    )


def gce_ingresses(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Ingresses GKE's controller serves: class ``gce``, or no class at all."""
    return [o for o in objects if o.get("kind") == "Ingress" and ingress_class(o) in (GCE, None)]


def routes(rendered: list[Rendered]) -> list[Route]:
    """Every path of every Ingress the load balancer serves, followed to its pods."""
    objects = manifests(rendered)
    return [
        route(objects, ingress, rule.get("host", "*"), path)
        for ingress in gce_ingresses(objects)
        for rule in ingress["spec"].get("rules", [])
        for path in rule["http"]["paths"]
    ]


def matching(found: list[Route], host: str, url_path: str) -> Route:
    """The route the URL map sends ``host`` + ``url_path`` to: Prefix paths, longest wins
    (ingress-gce turns ``/api`` into ``/api`` and ``/api/*``, ``/`` into ``/*``)."""
    best: Route | None = None
    for candidate in found:
        if candidate.host != host:
            continue
        prefix = candidate.path.rstrip("/")
        covers = url_path == prefix or url_path.startswith(prefix + "/") or candidate.path == "/"
        if covers and (best is None or len(candidate.path) > len(best.path)):
            best = candidate
    if best is None:
        raise UnroutableError(f"{host}{url_path}: no path of the load balancer matches")
    return best


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and labels.get(key) in values)
            or (operator == "Exists" and key not in labels)
            or (operator == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def _port_allowed(rule: dict[str, Any], number: int, names: set[str]) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") in (None, number) or p.get("port") in names for p in ports)


def _source_allowed(rule: dict[str, Any], cidr: str) -> bool:
    import ipaddress

    sources = rule.get("from")
    if not sources:
        return True
    wanted = ipaddress.IPv4Network(cidr)
    for source in sources:
        block = source.get("ipBlock")
        if block is None:
            continue
        allowed = ipaddress.ip_network(block["cidr"])
        if not isinstance(allowed, ipaddress.IPv4Network):
            continue
        if wanted.subnet_of(allowed) and not any(
            wanted.overlaps(ipaddress.ip_network(e)) for e in block.get("except") or []
        ):
            return True
    return False


def admitted(objects: list[dict[str, Any]], entry: Route) -> str | None:
    """Whether the NetworkPolicies selecting the route's pods let Google's health checkers
    and front ends reach its port (Dataplane V2 enforces them): None if they do, else
    which policy shuts them out."""
    names = {
        p.get("name", "")
        for o in objects
        if f"{o.get('kind')}/{o['metadata']['name']}" == entry.workload
        for c in o["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports") or []
        if p["containerPort"] == entry.target_port
    }
    policies = [
        o
        for o in objects
        if o.get("kind") == "NetworkPolicy"
        and o["metadata"].get("namespace") == entry.namespace
        and "Ingress" in (o["spec"].get("policyTypes") or ["Ingress"])
        and _selects(o["spec"].get("podSelector") or {}, entry.pod_labels)
    ]
    if not policies:
        return None
    for cidr in GOOGLE_RANGES:
        if not any(
            _port_allowed(rule, entry.target_port, names) and _source_allowed(rule, cidr)
            for policy in policies
            for rule in policy["spec"].get("ingress") or []
        ):
            listed = ", ".join(p["metadata"]["name"] for p in policies)
            return f"{entry.workload}: {cidr} cannot reach port {entry.target_port} ({listed})"
    return None
