"""What the Plan holds about the services: releases with computed values, the grid site's
Kubernetes objects, shared storage, and the control node's footprint."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gridcloud.plain import Frozen

#: Where a secret value stands in computed values until the program fills it in.
SECRET_PLACEHOLDER = "<secret>"


class SecretValue(Frozen):
    """A value the program fills in at deploy time; the Plan never holds the secret."""

    path: tuple[str, ...]
    """Where in the release's values."""
    source: Literal["generated"]
    length: int = 32


class Placement(Frozen):
    """Where a component's pods land."""

    component: str
    pool: str


class ReleasePlan(Frozen):
    name: str
    """Helm release name."""
    service: str
    """The profile's service it belongs to: gridSite, reana, jupyter."""
    chart: str
    chart_key: str
    version: str
    repository: str | None
    namespace: str
    values: dict[str, Any]
    secrets: tuple[SecretValue, ...] = ()
    placements: tuple[Placement, ...] = ()


def release_of(
    chart_key: str,
    *,
    name: str,
    service: str,
    namespace: str,
    values: dict[str, Any],
    placements: tuple[Placement, ...],
    secrets: tuple[SecretValue, ...] = (),
) -> ReleasePlan:
    """A release of one of gridcloud's charts (``catalog.charts.CHARTS``)."""
    from gridcloud.catalog.charts import CHARTS

    chart = CHARTS[chart_key]
    return ReleasePlan(
        name=name,
        service=service,
        chart=chart.chart,
        chart_key=chart.key,
        version=chart.version,
        repository=chart.repository,
        namespace=namespace,
        values=values,
        secrets=secrets,
        placements=placements,
    )


class PriorityClassPlan(Frozen):
    name: str
    value: int
    preemption_policy: Literal["Never", "PreemptLowerPriority"]
    description: str


class PolicyRule(Frozen):
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]


class GoogleAccessPlan(Frozen):
    """The Harvester host's way into a GKE cluster without a stored key or token: a Google
    service account of the cluster's project, allowed to reach the API (``roles``), bound
    to the submitter's Role by the RoleBinding; its kubeconfig runs GKE's exec plugin, which
    mints hour-long tokens from the host's Google credentials (Workload Identity Federation,
    or the account attached to a Google Cloud host)."""

    account: str
    """The service account ID."""
    email: str
    project: str
    roles: tuple[str, ...]
    credentials: str
    """Where the Harvester host keeps its Google credential configuration (the exec plugin's
    ``GOOGLE_APPLICATION_CREDENTIALS``)."""


class GridSitePlan(Frozen):
    namespace: str
    service_account: str
    role_rules: tuple[PolicyRule, ...]
    quota_cores: int | None
    pool: str
    cvmfs_claims: dict[str, str]
    """Repository -> the claim pilots mount it from (Harvester's ``csi-cvmfs-<name>-pvc``)."""
    token_secret: str | None
    """The Secret holding the submitter's long-lived token (existing clusters only; None on
    GKE: see ``google``)."""
    quota_name: str
    job_template: dict[str, Any]
    """The Job Harvester's K8sSubmitter fills in per pilot (its ``k8s_yaml_file``; a stack
    output)."""
    harvester_queue: dict[str, Any]
    """The site's entry in Harvester's queue configuration (a stack output)."""
    account: dict[str, Any]
    """The submitter's ServiceAccount, Role, RoleBinding, core quota (None without
    ``maxCores``) and, on an existing cluster, long-lived token Secret: complete manifests
    the program applies as they are (the token after the account)."""
    role: dict[str, Any]
    binding: dict[str, Any]
    quota: dict[str, Any] | None
    token: dict[str, Any] | None
    pools: tuple[str, ...] = ()
    """Every pool pilots may land on (``pool`` is the first)."""
    queue: str = ""
    """The PanDA queue's name (the key of ``harvester_queue``)."""
    cric: dict[str, Any] = Field(default_factory=dict)
    """What the queue's CRIC entry must say for the template's pilots (CE queue name, core
    count, memory, max time, pilot dir)."""
    kubeconfig_path: str = ""
    """Where the Harvester host keeps the submitter's kubeconfig (the queue's
    ``k8s_config_file``)."""
    google: GoogleAccessPlan | None = None
    """On GKE: the Harvester host's Google account (no token stored)."""

    @property
    def manifests(self) -> tuple[dict[str, Any], ...]:
        quota = (self.quota,) if self.quota is not None else ()
        token = (self.token,) if self.token is not None else ()
        return (self.account, self.role, self.binding, *quota, *token)


#: Where a value stands in a manifest that the program reads back from another object at
#: deploy time (the NFS Service's cluster IP in REANA's volume: unknown until it exists).
CLUSTER_IP_PLACEHOLDER = "<cluster IP>"


class PrivilegeNeed(Frozen):
    """A container of gridcloud's own objects that runs with more than an unprivileged
    container may, by need: the policy's ``privileged-pod`` rule reports it waived with
    ``reason``, and only for exactly these rights (anything beyond them is a warning)."""

    kind: str
    namespace: str
    name: str
    container: str
    privileged: bool = False
    capabilities: tuple[str, ...] = ()
    """Capabilities added to the runtime's default set."""
    apparmor_unconfined: bool = False
    reason: str


class SharedStoragePlan(Frozen):
    """ReadWriteMany storage for REANA: an NFS server on the control node on a disk.

    Its four objects are complete manifests (the program applies them as they are, in this
    order, each after the one before; ``gridcloud render`` writes them): the server's disk,
    the server, its Service, and the PersistentVolume REANA's claim binds to, whose
    ``spec.nfs.server`` holds :data:`CLUSTER_IP_PLACEHOLDER` until the program fills in the
    Service's cluster IP (kubelet mounts NFS from the node, where cluster DNS does not
    resolve)."""

    namespace: str
    size_gb: int
    backing_storage_class: str | None
    """Storage class of the NFS server's disk; None: the cluster's default."""
    storage_class_name: str
    """The class name REANA's claim asks for; gridcloud's volume carries it."""
    server_image: str
    node_selector: dict[str, str]
    server_name: str
    """The NFS server's Deployment and Service."""
    disk_claim: str
    """The claim of the NFS server's own disk."""
    volume_name: str
    """The ReadWriteMany PersistentVolume REANA's claim binds to."""
    disk: dict[str, Any]
    server: dict[str, Any]
    service: dict[str, Any]
    volume: dict[str, Any]

    @property
    def manifests(self) -> tuple[dict[str, Any], ...]:
        return (self.disk, self.server, self.service, self.volume)


class FootprintItem(Frozen):
    service: str
    component: str
    cpu_m: int
    memory_mi: int
    source: Literal["set by gridcloud", "namespace default", "GKE system pods"]
    """Requests written into the values or objects, the namespace's LimitRange default
    for a chart that takes none (REANA 0.9.4), or GKE's own pods."""
    rendered: bool = True
    """Among the rendered manifests (a chart's, or the Plan's own objects); False for
    GKE's own pods."""


class Footprint(Frozen):
    machine: str
    allocatable_cpu_m: int
    allocatable_memory_mi: int
    items: tuple[FootprintItem, ...]

    @property
    def cpu_m(self) -> int:
        return sum(i.cpu_m for i in self.items)

    @property
    def memory_mi(self) -> int:
        return sum(i.memory_mi for i in self.items)

    @property
    def fits(self) -> bool:
        return self.cpu_m <= self.allocatable_cpu_m and self.memory_mi <= self.allocatable_memory_mi


class PatchPlan(Frozen):
    """A server-side patch of an object a chart creates but cannot configure (applied after
    its release; Helm's three-way merge keeps a field its chart never sets)."""

    release: str
    manifest: dict[str, Any]
    """apiVersion, kind, metadata (name, namespace) and the fields to set."""


class Backend(Frozen):
    path: str
    service: str
    port: int


class IngressPlan(Frozen):
    """One service's HTTPS entry point (``ingress.py``): GKE's load balancer on Google
    Cloud, the site's ingress controller on an existing cluster."""

    service: str
    """The profile's service: jupyter or reana."""
    release: str
    """The release whose Services it routes to (created before it)."""
    namespace: str
    hostname: str
    address: str | None
    """The global static IP address's name (``gcp.compute.GlobalAddress``); None on an
    existing cluster (the site's controller has its own address)."""
    name: str
    """The Ingress's (and on Google Cloud its ManagedCertificate's) name."""
    backends: tuple[Backend, ...]
    controller: Literal["gce", "site"] = "gce"
    """GKE's load balancer, or the site's ingress controller (``target.ingress``)."""
    class_name: str | None = None
    """The site's IngressClass (None: the cluster's default class)."""
    tls_secret: str | None = None
    """The site's TLS Secret for the hostname, in the service's namespace."""
    issuer: tuple[str, str] | None = None
    """A cert-manager issuer: (its annotation, its name)."""

    @property
    def serves_https(self) -> bool:
        """Whether anything serves the hostname over HTTPS with a certificate."""
        return self.controller == "gce" or bool(self.tls_secret or self.issuer)


class AfterRelease(Frozen):
    """gridcloud's objects that need a release's own objects first (an Ingress its
    Services, REANA's first-run Job its server): applied once the release is ready."""

    release: str
    manifests: tuple[dict[str, Any], ...]


class GeneratedSecret(Frozen):
    """A Secret whose values Pulumi generates at deploy time: the Plan names its keys,
    never holds its values (kept encrypted in the stack's state)."""

    namespace: str
    name: str
    generated: tuple[str, ...]
    """Keys with a generated value (letters and digits)."""
    literal: dict[str, str] = Field(default_factory=dict)
    """Keys with a value that is not secret."""
    length: int = 32


class SecretOutput(Frozen):
    """A stack output read back, encrypted, from a Secret a Job of ``after_release`` makes
    in the cluster."""

    output: str
    namespace: str
    job: str
    """The Job that writes the Secret (in ``namespace``)."""
    secret: str
    key: str


class DiskPlan(Frozen):
    """A persistent disk the services cause (beyond the nodes' boot disks)."""

    what: str
    size_gb: int
    disk_type: str
    count: int = 1
    """How many: one, or one per expected user (home volumes)."""


class HubLogin(Frozen):
    """The hub's login as a person registers it with the provider (shown by ``plan``)."""

    provider: str
    """The provider's name, e.g. ``CERN SSO``."""
    endpoints: str
    """Where the hub finds the provider's endpoints: its discovery document's URL, or
    ``endpoints from the profile``."""
    callback: str
    """The redirect URI to register with the provider."""


class ServicesPlan(Frozen):
    enabled: tuple[str, ...]
    """Services switched on: gridSite, reana, jupyter, dask."""
    namespaces: tuple[str, ...]
    priority_classes: tuple[PriorityClassPlan, ...]
    releases: tuple[ReleasePlan, ...]
    grid_site: GridSitePlan | None
    shared_storage: SharedStoragePlan | None
    footprint: Footprint | None
    """None when the control node's capacity is unknown."""
    oidc_secret: dict[str, str] | None
    """JupyterHub's OIDC client secret: {"env": VAR} or {"name": secret, "key": key}."""
    objects: tuple[dict[str, Any], ...] = ()
    """gridcloud's own Kubernetes objects, as complete manifests (the site squid, quotas,
    namespace defaults): the program applies them as they are, ``gridcloud render`` writes
    them beside the releases."""
    patches: tuple[PatchPlan, ...] = ()
    ingresses: tuple[IngressPlan, ...] = ()
    """HTTPS entry points (Google Cloud): a global address each; their manifests are in
    ``after_release``."""
    after_release: tuple[AfterRelease, ...] = ()
    generated_secrets: tuple[GeneratedSecret, ...] = ()
    secret_outputs: tuple[SecretOutput, ...] = ()
    warnings: tuple[str, ...] = ()
    """What the user should know about the services (shown by ``plan``)."""
    disks: tuple[DiskPlan, ...] = ()
    """Persistent disks on Google Cloud: REANA's workspace, the hub's database, homes."""
    login: HubLogin | None = None
    """JupyterHub's login; None without the hub."""
    privilege_needs: tuple[PrivilegeNeed, ...] = ()
    """gridcloud's own containers that need more than an unprivileged container, and why."""

    @property
    def manifests(self) -> tuple[dict[str, Any], ...]:
        """Every Kubernetes object gridcloud applies itself (beyond namespaces, priority
        classes and Secrets of generated values), as complete manifests: ``objects``, the
        grid site's account and RBAC, REANA's NFS server and volume, what follows a
        release. What ``render`` writes, the policy reads and ``check`` asks to create."""
        site = self.grid_site.manifests if self.grid_site is not None else ()
        storage = self.shared_storage.manifests if self.shared_storage is not None else ()
        after = tuple(body for entry in self.after_release for body in entry.manifests)
        return (*self.objects, *site, *storage, *after)

    def release(self, name: str) -> ReleasePlan:
        for release in self.releases:
            if release.name == name:
                return release
        raise KeyError(name)
