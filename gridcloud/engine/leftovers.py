"""What a destroyed facility can leave behind in its project, still billed, and deleting it.

Pulumi deletes what it created. Some things the cluster creates on its own are not Pulumi
resources: disks for PersistentVolumeClaims (users' home volumes, the hub's database), load
balancer forwarding rules and addresses for Services of type LoadBalancer, snapshots, and the
HTTPS load balancer GKE's Ingress controller builds for an Ingress of class ``gce`` (global
forwarding rules, target HTTP(S) proxies, URL maps, backend services, zonal network endpoint
groups, health checks, SSL certificates). GKE does not delete them with the cluster (the
Ingress controller deletes its own only while it runs, and a destroy can end it first). After a
destroy, gridcloud lists every such resource in the project that is the facility's:

- it carries the facility's label (``gridcloud-facility: <name>``), or GKE's cluster label
  (``goog-k8s-cluster-name: <cluster>``), or
- it was made for the facility's Kubernetes objects: a disk the PD CSI driver created for a
  claim in one of the facility's namespaces, a forwarding rule GKE created for a Service in
  one of them (their descriptions say so), in the facility's region; or
- it is the Ingress controller's, for this cluster, found as the controller finds its own
  (ingress-gce, ``pkg/utils/namer``): a network endpoint group ``k8s1-<uid8>-...`` on the
  facility's network (its description holds the cluster's namer UID); a forwarding rule or
  target proxy whose description names an Ingress in one of the facility's namespaces
  (``{"kubernetes.io/ingress-name": "ns/name"}``); a backend service whose description names a
  Service there; then every resource named for that cluster: ``k8s1-<uid8>-...`` (NEG
  backends and their health checks), ``k8s2-<kind>-<cluster hash>-...`` (the v2 frontends:
  ``fr``/``fs`` forwarding rules, ``tp``/``ts`` proxies, ``um``/``rm`` URL maps, ``cr``
  certificates), ``k8s-<kind>-...--<uid>`` (the v1 names); and what a facility proxy, URL map
  or backend service refers to (its URL map, Google-managed ``mcrt-...`` certificate,
  backend services, health checks).

Each leftover says how to delete it by hand (``gcloud compute ... delete``); ``delete``
deletes them in dependency order (forwarding rules, proxies, URL maps, backend services, then
what they used). The Compute Engine API is reached through the real client library,
``google-cloud-compute``; a failure is told as :mod:`gridcloud.google_errors` classifies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gridcloud.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: Description keys GKE's controllers write (PD CSI driver; service controller).
PVC_NAMESPACE_KEY = "kubernetes.io/created-for/pvc/namespace"
PVC_NAME_KEY = "kubernetes.io/created-for/pvc/name"
SERVICE_KEY = "kubernetes.io/service-name"
CLUSTER_LABEL = "goog-k8s-cluster-name"
#: The Ingress controller's descriptions (ingress-gce: ``L7.description``, a NEG's).
INGRESS_KEY = "kubernetes.io/ingress-name"
NEG_UID_KEY = "cluster-uid"
#: The kinds, in the order they are deleted (a resource before what it uses), and the gcloud
#: group that deletes each.
KINDS = {
    "forwarding-rule": "forwarding-rules",
    "target-https-proxy": "target-https-proxies",
    "target-http-proxy": "target-http-proxies",
    "url-map": "url-maps",
    "backend-service": "backend-services",
    "network-endpoint-group": "network-endpoint-groups",
    "health-check": "health-checks",
    "ssl-certificate": "ssl-certificates",
    "disk": "disks",
    "snapshot": "snapshots",
    "address": "addresses",
}


@dataclass(frozen=True)
class LeftoverScope:
    """What the stack says the facility is (its outputs): enough to find its leftovers."""

    project: str
    region: str
    name: str
    cluster: str
    label: tuple[str, str]
    """The label every GCP resource of the facility carries (the Plan's), key and value."""
    namespaces: tuple[str, ...]
    network: str = ""
    """The facility's VPC (the Plan's name for it): where its NEGs are."""

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> LeftoverScope | None:
        """None for a stack that is not a GCP facility (on-prem: nothing billed to find)."""
        from gridcloud.labels import FACILITY_LABEL
        from gridcloud.plan.expand import gcp_names
        from gridcloud.plan.outputs import StackOutputs

        facts = StackOutputs.read(outputs)
        if facts.target != "gcp" or facts.project is None or facts.facility is None:
            return None
        name = facts.facility
        return cls(
            project=facts.project,
            region=str(facts.region),
            name=name,
            cluster=facts.cluster_name or name,
            label=(FACILITY_LABEL, (facts.labels or {}).get(FACILITY_LABEL, name)),
            namespaces=facts.namespaces or (),
            network=gcp_names(name).network,
        )


@dataclass(frozen=True)
class Leftover:
    kind: str
    """One of :data:`KINDS`."""
    name: str
    location: str
    """The zone, the region, or ``global``."""
    why: str
    """Which label, description or name makes it the facility's."""
    size_gb: int | None = None
    project: str = ""
    """Its project (set by :func:`find`)."""

    def command(self, project: str | None = None) -> str:
        """How to delete it by hand."""
        project = project or self.project
        if self.location == "global":
            where = "" if self.kind == "snapshot" else " --global"
        elif self.location.count("-") >= 2:  # a zone: us-central1-a
            where = f" --zone {self.location}"
        else:
            where = f" --region {self.location}"
        return f"gcloud compute {KINDS[self.kind]} delete {self.name}{where} --project {project}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "location": self.location,
            "why": self.why,
            "sizeGb": self.size_gb,
            "deleteCommand": self.command(),
        }


class ComputeClients:
    """The Compute Engine clients the listing uses (real ones by default)."""

    def __init__(self, credentials: Any = None) -> None:
        from google.cloud import compute_v1

        kwargs: dict[str, Any] = {"credentials": credentials} if credentials else {}
        self.disks = compute_v1.DisksClient(**kwargs)
        self.addresses = compute_v1.AddressesClient(**kwargs)
        self.forwarding_rules = compute_v1.ForwardingRulesClient(**kwargs)
        self.global_addresses = compute_v1.GlobalAddressesClient(**kwargs)
        self.snapshots = compute_v1.SnapshotsClient(**kwargs)
        # what GKE's Ingress controller builds
        self.global_forwarding_rules = compute_v1.GlobalForwardingRulesClient(**kwargs)
        self.target_http_proxies = compute_v1.TargetHttpProxiesClient(**kwargs)
        self.target_https_proxies = compute_v1.TargetHttpsProxiesClient(**kwargs)
        self.url_maps = compute_v1.UrlMapsClient(**kwargs)
        self.backend_services = compute_v1.BackendServicesClient(**kwargs)
        self.network_endpoint_groups = compute_v1.NetworkEndpointGroupsClient(**kwargs)
        self.health_checks = compute_v1.HealthChecksClient(**kwargs)
        self.ssl_certificates = compute_v1.SslCertificatesClient(**kwargs)


def _location(scope: str) -> str:
    """``zones/us-central1-a`` -> ``us-central1-a``; ``regions/x`` -> ``x``."""
    return scope.rsplit("/", 1)[-1]


def _description(text: str | None) -> dict[str, str]:
    try:
        data = json.loads(text or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _by_label(labels: Any, facility: LeftoverScope) -> str | None:
    labels = dict(labels or {})
    key, value = facility.label
    if labels.get(key) == value:
        return f"label {key}={value}"
    if labels.get(CLUSTER_LABEL) == facility.cluster:
        return f"label {CLUSTER_LABEL}={facility.cluster}"
    return None


def _in_region(location: str, facility: LeftoverScope) -> bool:
    return location == facility.region or location.startswith(f"{facility.region}-")


def find(facility: LeftoverScope, clients: ComputeClients) -> list[Leftover]:
    """Every resource of ``facility`` left in its project (see the module's documentation)."""
    from gridcloud.google_errors import failures, raise_for

    try:
        found = [
            *_disks(facility, clients),
            *_addresses(facility, clients),
            *_forwarding_rules(facility, clients),
            *_snapshots(facility, clients),
            *_ingress(facility, clients),
        ]
    except failures() as exc:
        raise_for(
            exc,
            "the facility is destroyed, but its project could not be searched for leftovers",
            project=facility.project,
            cls=EngineError,
            then="then look for what the facility left in the console (Compute Engine: disks, "
            "snapshots, IP addresses; Network services: load balancing): resources labelled "
            f"{facility.label[0]}={facility.label[1]}, disks of its claims, and the GKE "
            "Ingress's k8s1-/k8s2- load balancer parts; they are billed until deleted",
        )
    return [replace(item, project=facility.project) for item in found]


def _disks(facility: LeftoverScope, clients: ComputeClients) -> Iterable[Leftover]:
    for scope, listed in clients.disks.aggregated_list(project=facility.project):
        zone = _location(scope)
        for disk in listed.disks:
            why = _by_label(disk.labels, facility)
            described = _description(disk.description)
            namespace = described.get(PVC_NAMESPACE_KEY)
            if why is None and namespace in facility.namespaces and _in_region(zone, facility):
                why = f"disk of claim {namespace}/{described.get(PVC_NAME_KEY, '?')}"
            if why is not None:
                yield Leftover("disk", disk.name, zone, why, int(disk.size_gb) or None)


def _service_rule(description: str | None, location: str, facility: LeftoverScope) -> str | None:
    service = _description(description).get(SERVICE_KEY, "")
    namespace = service.split("/", 1)[0]
    if namespace in facility.namespaces and _in_region(location, facility):
        return f"load balancer of service {service}"
    return None


def _addresses(facility: LeftoverScope, clients: ComputeClients) -> Iterable[Leftover]:
    for scope, listed in clients.addresses.aggregated_list(project=facility.project):
        region = _location(scope)
        for address in listed.addresses:
            why = _by_label(address.labels, facility)
            if why is not None:
                yield Leftover("address", address.name, region, why)
    for address in clients.global_addresses.list(project=facility.project):
        why = _by_label(address.labels, facility)
        if why is not None:
            yield Leftover("address", address.name, "global", why)


def _forwarding_rules(facility: LeftoverScope, clients: ComputeClients) -> Iterable[Leftover]:
    for scope, listed in clients.forwarding_rules.aggregated_list(project=facility.project):
        region = _location(scope)
        for rule in listed.forwarding_rules:
            why = _by_label(rule.labels, facility) or _service_rule(
                rule.description, region, facility
            )
            if why is not None:
                yield Leftover("forwarding-rule", rule.name, region, why)


def _snapshots(facility: LeftoverScope, clients: ComputeClients) -> Iterable[Leftover]:
    for snapshot in clients.snapshots.list(project=facility.project):
        why = _by_label(snapshot.labels, facility)
        if why is not None:
            yield Leftover("snapshot", snapshot.name, "global", why, int(snapshot.disk_size_gb))


def _name(url: str) -> str:
    """A resource's name from its URL (``.../global/urlMaps/k8s2-um-...`` -> the name)."""
    return url.rsplit("/", 1)[-1]


class _Owner:
    """What names the facility's cluster in the Ingress controller's names: the namer UID
    (v1 names end ``--<uid>``; NEG names start ``k8s1-<uid[:8]>-``) and the v2 cluster hash
    (``k8s2-<kind>-<hash>-``), learnt from the resources whose network or description makes
    them the facility's."""

    def __init__(self, facility: LeftoverScope) -> None:
        self.facility = facility
        self.uids: set[str] = set()
        self.short: set[str] = set()
        self.hashes: set[str] = set()

    def learn(self, name: str) -> None:
        parts = name.split("-")
        if parts[0] == "k8s1" and len(parts) > 2:
            self.short.add(parts[1])
        elif parts[0] == "k8s2" and len(parts) > 3:
            self.hashes.add(parts[2])
        elif parts[0] == "k8s" and "--" in name:
            self.uids.add(name.rsplit("--", 1)[1].split("-", maxsplit=1)[0])

    def named(self, name: str) -> str | None:
        """Why ``name`` is this cluster's Ingress controller's, or None."""
        parts = name.split("-")
        if parts[0] == "k8s1" and len(parts) > 2 and parts[1] in self.short:
            return f"named by GKE's Ingress controller for this cluster (k8s1-{parts[1]})"
        if parts[0] == "k8s2" and len(parts) > 3 and parts[2] in self.hashes:
            return f"named by GKE's Ingress controller for this cluster (k8s2-..-{parts[2]})"
        if parts[0] == "k8s" and "--" in name:
            uid = name.rsplit("--", 1)[1].split("-", maxsplit=1)[0]
            if uid in self.uids:
                return f"named by GKE's Ingress controller for this cluster (--{uid})"
        return None

    def described(self, description: str | None, key: str) -> str | None:
        """The facility's Ingress or Service the description names, or None."""
        named = str(_description(description).get(key, ""))
        if named.split("/", 1)[0] in self.facility.namespaces and "/" in named:
            return named
        return None


def _negs(facility: LeftoverScope, clients: ComputeClients, owner: _Owner) -> Iterator[Leftover]:
    """The Ingress controller's zonal NEGs on the facility's network; ``owner`` learns the
    cluster's namer UID from them."""
    for scope, listed in clients.network_endpoint_groups.aggregated_list(project=facility.project):
        zone = _location(scope)
        for neg in listed.network_endpoint_groups:
            on_network = facility.network and _name(neg.network) == facility.network
            if neg.name.startswith("k8s1-") and on_network and _in_region(zone, facility):
                described = _description(neg.description)
                if described.get(NEG_UID_KEY):
                    owner.uids.add(str(described[NEG_UID_KEY]))
                owner.learn(neg.name)
                service = f"{described.get('namespace', '?')}/{described.get('service-name', '?')}"
                yield Leftover(
                    "network-endpoint-group",
                    neg.name,
                    zone,
                    f"endpoints of service {service} on network {facility.network}",
                )


def _ingress(facility: LeftoverScope, clients: ComputeClients) -> Iterator[Leftover]:
    """What GKE's Ingress controller built for the facility's Ingresses."""
    project = facility.project
    owner = _Owner(facility)
    found: list[Leftover] = []
    negs = list(_negs(facility, clients, owner))
    rules = list(clients.global_forwarding_rules.list(project=project))
    https = list(clients.target_https_proxies.list(project=project))
    http = list(clients.target_http_proxies.list(project=project))
    item: Any
    for item in (*rules, *https, *http):
        if item.name.startswith("k8s") and owner.described(item.description, INGRESS_KEY):
            owner.learn(item.name)
    services = list(clients.backend_services.list(project=project))
    for service in services:
        if service.name.startswith("k8s") and owner.described(service.description, SERVICE_KEY):
            owner.learn(service.name)

    def why(item: Any, key: str = INGRESS_KEY) -> str | None:
        if not item.name.startswith("k8s"):
            return None
        named = owner.described(item.description, key)
        if named is not None:
            return f"load balancer of {'ingress' if key == INGRESS_KEY else 'service'} {named}"
        return owner.named(item.name)

    used: dict[str, str] = {}  # name -> which facility resource uses it
    for rule in rules:
        reason = why(rule) or _by_label(rule.labels, facility)
        if reason is not None:
            found.append(Leftover("forwarding-rule", rule.name, "global", reason))
            used.setdefault(_name(rule.target), f"used by forwarding rule {rule.name}")
    for kind, proxies in (("target-https-proxy", https), ("target-http-proxy", http)):
        for proxy in proxies:
            reason = why(proxy) or used.get(proxy.name)
            if reason is not None:
                found.append(Leftover(kind, proxy.name, "global", reason))
                used.setdefault(_name(proxy.url_map), f"used by {kind} {proxy.name}")
                for certificate in getattr(proxy, "ssl_certificates", ()):
                    used.setdefault(_name(certificate), f"used by {kind} {proxy.name}")
    for url_map in clients.url_maps.list(project=project):
        reason = why(url_map) or used.get(url_map.name)
        if reason is not None:
            found.append(Leftover("url-map", url_map.name, "global", reason))
            backends = [url_map.default_service] + [
                url
                for matcher in url_map.path_matchers
                for url in (
                    matcher.default_service,
                    *(rule.service for rule in matcher.path_rules),
                )
            ]
            for url in backends:
                if url:
                    used.setdefault(_name(url), f"used by url map {url_map.name}")
    for service in services:
        reason = why(service, SERVICE_KEY) or used.get(service.name)
        if reason is not None:
            found.append(Leftover("backend-service", service.name, "global", reason))
            for url in service.health_checks:
                used.setdefault(_name(url), f"used by backend service {service.name}")
    found += negs
    for check in clients.health_checks.list(project=project):
        reason = why(check) or used.get(check.name)
        if reason is not None:
            found.append(Leftover("health-check", check.name, "global", reason))
    for certificate in clients.ssl_certificates.list(project=project):
        reason = why(certificate) or used.get(certificate.name)
        if reason is not None:
            found.append(Leftover("ssl-certificate", certificate.name, "global", reason))
    yield from found


def _deleter(item: Leftover, project: str, clients: ComputeClients) -> Any:
    """The call that deletes ``item`` (its long-running operation)."""
    where = item.location
    if item.kind == "disk":
        return clients.disks.delete(project=project, zone=where, disk=item.name)
    if item.kind == "forwarding-rule" and where == "global":
        return clients.global_forwarding_rules.delete(project=project, forwarding_rule=item.name)
    if item.kind == "forwarding-rule":
        return clients.forwarding_rules.delete(
            project=project, region=where, forwarding_rule=item.name
        )
    if item.kind == "address" and where == "global":
        return clients.global_addresses.delete(project=project, address=item.name)
    if item.kind == "address":
        return clients.addresses.delete(project=project, region=where, address=item.name)
    if item.kind == "snapshot":
        return clients.snapshots.delete(project=project, snapshot=item.name)
    if item.kind == "target-https-proxy":
        return clients.target_https_proxies.delete(project=project, target_https_proxy=item.name)
    if item.kind == "target-http-proxy":
        return clients.target_http_proxies.delete(project=project, target_http_proxy=item.name)
    if item.kind == "url-map":
        return clients.url_maps.delete(project=project, url_map=item.name)
    if item.kind == "backend-service":
        return clients.backend_services.delete(project=project, backend_service=item.name)
    if item.kind == "network-endpoint-group":
        return clients.network_endpoint_groups.delete(
            project=project, zone=where, network_endpoint_group=item.name
        )
    if item.kind == "health-check":
        return clients.health_checks.delete(project=project, health_check=item.name)
    assert item.kind == "ssl-certificate", item.kind
    return clients.ssl_certificates.delete(project=project, ssl_certificate=item.name)


def delete(facility: LeftoverScope, items: list[Leftover], clients: ComputeClients) -> list[str]:
    """Delete ``items`` in :data:`KINDS`' order (a forwarding rule before the proxy and the
    address it holds, a backend service before its NEGs and health checks); the failures, as
    text, each with how to delete it by hand."""
    from google.api_core import exceptions

    from gridcloud.google_errors import classify, failures, first_line

    order = {kind: rank for rank, kind in enumerate(KINDS)}
    caught: tuple[type[BaseException], ...] = (*failures(), TimeoutError)
    found = []
    for item in sorted(items, key=lambda i: (order[i.kind], i.location, i.name)):
        try:
            _deleter(item, facility.project, clients).result(timeout=300)
        except exceptions.NotFound:
            continue  # gone already: what we wanted
        except caught as exc:
            failure = classify(exc, facility.project)
            message = failure.message if failure is not None else first_line(exc)
            found.append(
                f"{item.kind} {item.name} ({item.location}): {message} "
                f"[by hand: {item.command(facility.project)}]"
            )
    return found
