"""What a destroyed facility can leave behind in its project, still billed, and deleting it.

Pulumi deletes what it created. Some things the cluster creates on its own are not Pulumi
resources: disks for PersistentVolumeClaims (users' home volumes, the hub's database), load
balancer forwarding rules and addresses for Services of type LoadBalancer, snapshots. GKE does
not delete them with the cluster. After a destroy, gridcloud lists every disk, address,
forwarding rule and snapshot in the project that is the facility's:

- it carries the facility's label (``gridcloud-facility: <name>``), or GKE's cluster label
  (``goog-k8s-cluster-name: <cluster>``), or
- it was made for the facility's Kubernetes objects: a disk the PD CSI driver created for a
  claim in one of the facility's namespaces, a forwarding rule GKE created for a Service in
  one of them (their descriptions say so), in the facility's region.

The Compute Engine API is reached through the real client library, ``google-cloud-compute``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gridcloud.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Description keys GKE's controllers write (PD CSI driver; service controller).
PVC_NAMESPACE_KEY = "kubernetes.io/created-for/pvc/namespace"
PVC_NAME_KEY = "kubernetes.io/created-for/pvc/name"
SERVICE_KEY = "kubernetes.io/service-name"
CLUSTER_LABEL = "goog-k8s-cluster-name"


@dataclass(frozen=True)
class Facility:
    """What the stack says the facility is (its outputs): enough to find its leftovers."""

    project: str
    region: str
    name: str
    cluster: str
    label: tuple[str, str]
    """The label every GCP resource of the facility carries (the Plan's), key and value."""
    namespaces: tuple[str, ...]

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Facility | None:
        """None for a stack that is not a GCP facility (on-prem: nothing billed to find)."""
        from gridcloud.plan.expand import FACILITY_LABEL
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
        )


@dataclass(frozen=True)
class Leftover:
    kind: str
    """disk, address, forwarding-rule, snapshot"""
    name: str
    location: str
    """The zone, the region, or ``global``."""
    why: str
    """Which label or description makes it the facility's."""
    size_gb: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "location": self.location,
            "why": self.why,
            "sizeGb": self.size_gb,
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


def _location(scope: str) -> str:
    """``zones/us-central1-a`` -> ``us-central1-a``; ``regions/x`` -> ``x``."""
    return scope.rsplit("/", 1)[-1]


def _description(text: str | None) -> dict[str, str]:
    try:
        data = json.loads(text or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _by_label(labels: Any, facility: Facility) -> str | None:
    labels = dict(labels or {})
    key, value = facility.label
    if labels.get(key) == value:
        return f"label {key}={value}"
    if labels.get(CLUSTER_LABEL) == facility.cluster:
        return f"label {CLUSTER_LABEL}={facility.cluster}"
    return None


def _in_region(location: str, facility: Facility) -> bool:
    return location == facility.region or location.startswith(f"{facility.region}-")


def find(facility: Facility, clients: ComputeClients) -> list[Leftover]:
    """Every disk, address, forwarding rule and snapshot of ``facility`` in its project."""
    from google.api_core import exceptions

    try:
        return [
            *_disks(facility, clients),
            *_addresses(facility, clients),
            *_forwarding_rules(facility, clients),
            *_snapshots(facility, clients),
        ]
    except exceptions.GoogleAPICallError as exc:
        raise EngineError(
            f"cannot list the project's resources to check for leftovers: {exc.message}",
            hint="the facility is destroyed; check for leftovers in the console (Compute Engine: "
            "disks, IP addresses, load balancing, snapshots), or fix access and run "
            "`gridcloud destroy` again",
        ) from exc


def _disks(facility: Facility, clients: ComputeClients) -> Iterable[Leftover]:
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


def _service_rule(description: str | None, location: str, facility: Facility) -> str | None:
    service = _description(description).get(SERVICE_KEY, "")
    namespace = service.split("/", 1)[0]
    if namespace in facility.namespaces and _in_region(location, facility):
        return f"load balancer of service {service}"
    return None


def _addresses(facility: Facility, clients: ComputeClients) -> Iterable[Leftover]:
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


def _forwarding_rules(facility: Facility, clients: ComputeClients) -> Iterable[Leftover]:
    for scope, listed in clients.forwarding_rules.aggregated_list(project=facility.project):
        region = _location(scope)
        for rule in listed.forwarding_rules:
            why = _by_label(rule.labels, facility) or _service_rule(
                rule.description, region, facility
            )
            if why is not None:
                yield Leftover("forwarding-rule", rule.name, region, why)


def _snapshots(facility: Facility, clients: ComputeClients) -> Iterable[Leftover]:
    for snapshot in clients.snapshots.list(project=facility.project):
        why = _by_label(snapshot.labels, facility)
        if why is not None:
            yield Leftover("snapshot", snapshot.name, "global", why, int(snapshot.disk_size_gb))


def delete(facility: Facility, items: list[Leftover], clients: ComputeClients) -> list[str]:
    """Delete ``items``, forwarding rules first (they hold addresses); the failures, as text."""
    from google.api_core import exceptions

    order = {"forwarding-rule": 0, "disk": 1, "snapshot": 2, "address": 3}
    failures = []
    for item in sorted(items, key=lambda i: order[i.kind]):
        project = facility.project
        try:
            if item.kind == "disk":
                op = clients.disks.delete(project=project, zone=item.location, disk=item.name)
            elif item.kind == "forwarding-rule":
                op = clients.forwarding_rules.delete(
                    project=project, region=item.location, forwarding_rule=item.name
                )
            elif item.kind == "address" and item.location == "global":
                op = clients.global_addresses.delete(project=project, address=item.name)
            elif item.kind == "address":
                op = clients.addresses.delete(
                    project=project, region=item.location, address=item.name
                )
            else:
                op = clients.snapshots.delete(project=project, snapshot=item.name)
            op.result(timeout=300)  # type: ignore[no-untyped-call]
        except exceptions.NotFound:
            continue  # gone already: what we wanted
        except (exceptions.GoogleAPICallError, TimeoutError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            failures.append(f"{item.kind} {item.name} ({item.location}): {message}")
    return failures
