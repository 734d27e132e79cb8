"""The profile: what a user writes, validated, nothing derived.

Field names are camelCase in YAML (``machineType``) and snake_case in Python. Every model
forbids unknown keys, so a typo is an error with a suggestion, never silently ignored.
Checks that need the machine catalog live in :mod:`gridcloud.profile.checks`.
"""

import ipaddress
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from gridcloud.catalog import identity_providers, limits
from gridcloud.profile.backups import Backups
from gridcloud.profile.base import Model
from gridcloud.profile.data import Data
from gridcloud.profile.fallback import Fallback
from gridcloud.profile.spending import Spending

if TYPE_CHECKING:
    # Profile.shards: shards.py needs Pool, so it puts Shards in this module itself
    from gridcloud.profile.shards import Shards

API_VERSION = "gridcloud.dev/v1alpha1"

Name = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$",
        description="lower-case letters, digits and '-', starting with a letter, at most 20",
    ),
]


#: A DNS name (RFC 1123): lower-case labels of letters, digits and '-', 1 to 63 characters,
#: at least two, 253 in all.
DnsName = Annotated[
    str,
    Field(
        pattern=r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        max_length=253,
        description="a DNS name: lower-case letters, digits, '-' and '.'",
    ),
]


def _cidr_text(value: object) -> object:
    """A range is written as text with its prefix: pydantic alone would read ``true`` or
    ``167772160`` as a one-address network."""
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if not isinstance(value, str) or "/" not in value:
        raise ValueError("must be a CIDR range written as text, such as 10.0.0.0/16")
    return value


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_cidr_text)]

#: A Kubernetes object name (DNS-1123 subdomain), e.g. a Secret's.
ObjectName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
        description="a Kubernetes object name: lower-case letters, digits, '-' and '.'",
    ),
]
#: A container image reference ([registry[:port]/]path[:tag][@sha256:digest]).
ImageRef = Annotated[
    str,
    Field(
        max_length=512,
        pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?"
        r"(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
        r"(@sha256:[a-f0-9]{64})?$",
        description="an image reference, e.g. quay.io/jupyter/scipy-notebook:python-3.12",
    ),
]
#: An https URL with a host (an OIDC issuer).
HttpsUrl = Annotated[
    str,
    Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$",
        max_length=2048,
        description="an https URL: https://host[:port][/path]",
    ),
]
#: Text that must say something: not empty, not only spaces (a path, a context name).
NonBlank = Annotated[
    str,
    Field(pattern=r"\S", max_length=4096, description="a non-blank text"),
]
_LABEL_KEY = re.compile(
    r"^(([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Kubernetes label keys ([prefix/]name) and values, as the API server checks them."""
    for key, value in labels.items():
        prefix = key.rpartition("/")[0]
        if not _LABEL_KEY.match(key) or len(prefix) > 253:
            raise ValueError(f"'{key}' is not a Kubernetes label key ([prefix/]name)")
        if not _LABEL_VALUE.match(value):
            raise ValueError(f"'{value}' (for {key}) is not a Kubernetes label value")
    return labels


def distinct(values: list[str]) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return values


class GcpTarget(Model):
    """A new GKE cluster in a Google Cloud project."""

    provider: Literal["gcp"]
    project: Annotated[str, Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")]
    """The Google Cloud project ID."""
    region: str
    """The region of the cluster, e.g. us-central1."""
    zones: Annotated[list[str], Field(min_length=1)]
    """Zones the node pools span; the first also hosts a zonal control plane."""

    @field_validator("zones")
    @classmethod
    def _distinct(cls, zones: list[str]) -> list[str]:
        if len(set(zones)) != len(zones):
            raise ValueError("zones are listed more than once")
        return zones


class SiteIngress(Model):
    """How the site's ingress controller serves the hub and REANA over HTTPS: its
    IngressClass and where the certificate comes from (one of the three)."""

    class_name: ObjectName | None = None
    """The IngressClass of the site's controller, e.g. nginx. Default: the cluster's
    default IngressClass."""
    tls_secret: ObjectName | None = None
    """A kubernetes.io/tls Secret the site provides for the hostnames, in each service's
    namespace."""
    cluster_issuer: ObjectName | None = None
    """A cert-manager ClusterIssuer that issues the certificates."""
    issuer: ObjectName | None = None
    """A cert-manager Issuer, in each service's namespace, that issues the certificates."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        named = [n for n in (self.tls_secret, self.cluster_issuer, self.issuer) if n]
        if len(named) > 1:
            raise ValueError("name one of tlsSecret, clusterIssuer and issuer, not several")
        return self


class KubernetesTarget(Model):
    """An existing cluster (on-prem or elsewhere), reached through a kubeconfig."""

    provider: Literal["kubernetes"]
    kubeconfig: NonBlank = "~/.kube/config"
    """Path to the kubeconfig file."""
    context: NonBlank
    """The kubeconfig context to use."""
    ingress: SiteIngress = Field(default_factory=SiteIngress)
    """The site's ingress controller, which serves the hub and REANA over HTTPS."""


Target = Annotated[GcpTarget | KubernetesTarget, Field(discriminator="provider")]


class Resources(Model):
    """Allocatable capacity of a node that gridcloud does not create (on-prem)."""

    cpu: Annotated[Decimal, Field(gt=0, le=limits.MAX_NODE_CORES)]
    """Allocatable cores."""
    memory_gb: Annotated[Decimal, Field(gt=0, le=limits.MAX_NODE_MEMORY_GB)]
    """Allocatable memory in GB."""


class ControlNode(Model):
    """The single always-on node that hosts the facility's services."""

    machine_type: str | None = None
    """Machine type on GCP (e.g. e2-standard-2). Required for a gcp target."""
    disk_size_gb: Annotated[int, Field(ge=10, le=65536)] = 50
    node_selector: Annotated[dict[str, str], AfterValidator(check_labels)] = Field(
        default_factory=dict
    )
    """Labels of the existing control node (kubernetes target)."""
    allocatable: Resources | None = None
    """Capacity of the existing control node (kubernetes target)."""


class AcceleratorSpec(Model):
    type: str
    """Accelerator type, e.g. nvidia-tesla-t4 or nvidia-l4."""
    count: Annotated[int, Field(ge=1, le=16)] = 1


class Pool(Model):
    """An elastic node pool that scales between its minimum and maximum."""

    name: Name
    kind: Literal["cpu", "gpu", "arm"]
    machine_type: str | None = None
    """Machine type (gcp target). On a kubernetes target pools describe existing nodes."""
    spot: bool = True
    """Spot VMs: up to 5x cheaper, reclaimed with 30 s notice. Only fault-tolerant work lands."""
    max_nodes: Annotated[int, Field(ge=1, le=limits.MAX_NODES_PER_CLUSTER)] | None = None
    max_cores: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """Size in cores; the plan rounds up to whole nodes."""
    min_nodes: Annotated[int, Field(ge=0, le=limits.MAX_NODES_PER_CLUSTER)] = 0
    accelerator: AcceleratorSpec | None = None
    zones: Annotated[list[str], AfterValidator(distinct)] | None = None
    """Zones of this pool; default: the target's zones."""
    disk_size_gb: Annotated[int, Field(ge=10, le=65536)] = 100
    disk_type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = "pd-balanced"
    node_selector: Annotated[dict[str, str], AfterValidator(check_labels)] = Field(
        default_factory=dict
    )
    """Labels of the existing nodes this pool stands for (kubernetes target)."""
    fallback: Fallback | None = None
    """Shapes its demand falls back to when its machine type has no capacity (gcp target, cpu
    pools): a GKE ComputeClass over one node pool per shape (docs/plan.md)."""

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.max_nodes is None) == (self.max_cores is None):
            raise ValueError("give exactly one of maxNodes and maxCores")
        if self.max_nodes is not None and self.min_nodes > self.max_nodes:
            raise ValueError(f"minNodes {self.min_nodes} is above maxNodes {self.max_nodes}")
        if self.kind != "gpu" and self.accelerator is not None:
            raise ValueError(f"a {self.kind} pool takes no accelerator; use kind: gpu")
        return self


class Network(Model):
    max_pods_per_node: Annotated[
        int, Field(ge=limits.MIN_PODS_PER_NODE, le=limits.MAX_PODS_PER_NODE)
    ] = 110
    """Pods per node; fixed at pool creation. GKE allows 8 to 256."""
    subnet_range: Cidr | None = None
    """Primary range of the nodes' subnet; computed when absent."""
    pod_range: Cidr | None = None
    """Secondary range for pods; computed when absent."""
    service_range: Cidr | None = None
    """Secondary range for services; computed when absent."""
    address_space: Cidr = ipaddress.IPv4Network("10.0.0.0/8")
    """Where computed ranges are carved from."""
    control_plane_range: Cidr = ipaddress.IPv4Network("172.16.0.0/28")
    """The private control plane's /28."""

    @field_validator("control_plane_range")
    @classmethod
    def _a_28(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if value.prefixlen != 28:
            raise ValueError(
                f"must be a /28 (GKE's private control plane takes one), not a /{value.prefixlen}"
            )
        return value


class AuthorizedNetwork(Model):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    """What the range is (GKE shows it as the display name)."""
    cidr: Cidr
    """Addresses that may reach the control plane's endpoint."""


class Cluster(Model):
    availability: Literal["auto", "zonal", "regional"] = "auto"
    """auto: zonal (free-tier management fee) unless the cluster is large; see docs."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    deletion_protection: bool = True
    authorized_networks: Annotated[
        list[AuthorizedNetwork], Field(min_length=1, max_length=limits.MAX_AUTHORIZED_NETWORKS)
    ] | (None) = None
    """The only addresses that may reach the control plane (where `gridcloud up` and kubectl
    run from, CI runners included). Absent: any address (authentication still needed)."""

    @field_validator("authorized_networks")
    @classmethod
    def _distinct_ranges(
        cls, value: list[AuthorizedNetwork] | None
    ) -> list[AuthorizedNetwork] | None:
        if value is not None:
            seen = [str(n.cidr) for n in value]
            twice = sorted({c for c in seen if seen.count(c) > 1})
            if twice:
                raise ValueError(f"lists {', '.join(twice)} more than once")
        return value


class ServiceToggle(Model):
    enabled: bool = True


class Cvmfs(Model):
    repositories: Annotated[list[DnsName], Field(min_length=1), AfterValidator(distinct)] = [
        "atlas.cern.ch",
        "atlas-condb.cern.ch",
        "sft.cern.ch",
    ]
    """CVMFS repositories the nodes mount for pilots and jobs."""
    cache_gb: Annotated[int, Field(ge=1, le=1000)] = 20
    """Local CVMFS cache per node."""


class Squid(Model):
    cache_mem_mb: Annotated[int, Field(ge=64, le=65536)] = 256
    """Squid's memory cache (it lives on the control node: keep it small there)."""
    cache_disk_mb: Annotated[int, Field(ge=100, le=1_000_000)] = 10000


class Harvester(Model):
    """How the site's PanDA Harvester instance reaches it (the generated queue config)."""

    queue: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    """The PanDA queue (CRIC) this site serves. Default: ``<NAME>_K8S`` from the facility's
    name."""
    config_dir: Annotated[str, Field(pattern=r"^/")] = "/data/atlpan/k8_configs"
    """Where the Harvester host keeps the site's kubeconfig and Job template."""
    template_queue: str = "production.pull"
    """The Harvester template queue the site's queue builds on (pull mode)."""


class GridSite(ServiceToggle):
    """A Kubernetes grid site receiving batch pilots from a central workload manager."""

    namespace: Name = "grid"
    pool: str | None = None
    """Pool the pilots land on. Default: every spot cpu pool, else the first cpu pool."""
    max_cores: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """Cap on the cores pilots may request at once (a ResourceQuota); none by default."""
    cvmfs: Cvmfs = Field(default_factory=Cvmfs)
    squid: Squid = Field(default_factory=Squid)
    harvester: Harvester = Field(default_factory=Harvester)


class Reana(ServiceToggle):
    """REANA, reproducible analysis workflows."""

    namespace: Name = "reana"
    hostname: DnsName = "reana.example.org"
    """The name users reach REANA at, over HTTPS (DNS is yours to point at the address
    `up` reserves on Google Cloud)."""
    runtime_pool: str | None = None
    """Pool for workflow and job pods: on-demand, as REANA 0.9 cannot tolerate taints.
    Default: the first on-demand cpu pool."""
    storage_gb: Annotated[int, Field(ge=10, le=64000)] = 200
    """Shared workspace size (ReadWriteMany, served by an in-cluster NFS server)."""
    admin_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    """The REANA administrator's e-mail, its login (default: ``admin@<hostname>``); its
    password and access token are generated at the first ``up``."""


class OidcSecretRef(Model):
    name: ObjectName
    """An existing Kubernetes Secret in the JupyterHub namespace."""
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]{1,253}$")] = "client-secret"


class OidcEndpoints(Model):
    """A provider's endpoints, for one that publishes no discovery document."""

    authorization: HttpsUrl
    token: HttpsUrl
    userinfo: HttpsUrl


class Oidc(Model):
    """Login through an OpenID Connect provider (e.g. ATLAS IAM, CERN SSO, Google)."""

    issuer: HttpsUrl
    """The provider's issuer URL; the hub reads its /.well-known/openid-configuration when it
    starts."""
    provider: Literal["indigo-iam", "cern-sso", "google", "keycloak", "generic"] | None = None
    """Which provider, for its claims. Default: from the issuer (accounts.google.com: google;
    auth.cern.ch/auth/realms/cern: cern-sso; *-auth.cern.ch, *.cloud.cnaf.infn.it:
    indigo-iam; a path with /realms/: keycloak; else generic)."""
    endpoints: OidcEndpoints | None = None
    """The provider's endpoints, where it publishes no discovery document (then not read)."""
    client_id: Annotated[str, Field(pattern=r"^\S+$", max_length=512)]
    """The client ID registered with the provider (no spaces)."""
    client_secret_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] | None = None
    """Environment variable holding the client secret when `gridcloud up` runs."""
    client_secret_ref: OidcSecretRef | None = None
    allowed_groups: list[str] = Field(default_factory=list)
    """Groups (from the groups claim) allowed in; empty: every authenticated user."""
    groups_claim: Annotated[str, Field(pattern=r"^\S+$", max_length=256)] | None = None
    """The userinfo claim listing a user's groups. Default by provider: groups (INDIGO IAM,
    Keycloak, generic), cern_roles (CERN SSO); Google sends none."""
    username_claim: Annotated[str, Field(pattern=r"^\S+$", max_length=256)] | None = None
    """The userinfo claim usernames come from. Default by provider: preferred_username
    (INDIGO IAM, Keycloak, generic), cern_upn (CERN SSO), email (Google)."""

    @model_validator(mode="after")
    def _one_secret_source(self) -> Self:
        if (self.client_secret_env is None) == (self.client_secret_ref is None):
            raise ValueError("give exactly one of clientSecretEnv and clientSecretRef")
        return self

    @model_validator(mode="after")
    def _groups_to_read(self) -> Self:
        provider = (
            identity_providers.PROVIDERS[self.provider]
            if self.provider
            else identity_providers.provider_for(self.issuer)
        )
        if self.allowed_groups and self.groups_claim is None and provider.groups_claim is None:
            raise ValueError(
                f"allowedGroups cannot be checked: {provider.name} sends no groups claim; "
                "leave allowedGroups out, or name the claim that lists groups in groupsClaim"
            )
        return self


class Images(Model):
    cpu: ImageRef = "quay.io/jupyter/scipy-notebook:python-3.12"
    ml: ImageRef = "quay.io/jupyter/pytorch-notebook:python-3.12"
    gpu: ImageRef = "quay.io/jupyter/pytorch-notebook:cuda12-python-3.12"
    arm: ImageRef = "quay.io/jupyter/scipy-notebook:python-3.12"
    """Multi-arch images run on the Arm pool as they are."""


class Dask(ServiceToggle):
    """Dask Gateway behind JupyterHub."""

    worker_pool: str | None = None
    """Pool for Dask workers. Default: the first spot cpu pool."""
    gpu_workers: bool = False
    """Offer GPU workers (on the first gpu pool) as a cluster option."""
    max_workers: Annotated[int, Field(ge=1, le=limits.MAX_NODES_PER_CLUSTER * 256)] = 200
    """Workers one user's cluster may have."""
    max_worker_cores: Annotated[int, Field(ge=1, le=64)] = 8
    max_worker_memory_gb: Annotated[int, Field(ge=1, le=512)] = 32


class Jupyter(ServiceToggle):
    """JupyterHub for interactive analysis."""

    namespace: Name = "jupyter"
    hostname: DnsName | None = None
    """The name users reach the hub at; required on Google Cloud (its HTTPS certificate
    and the OIDC callback are issued for it). DNS is yours to point at the address `up`
    reserves."""
    oidc: Oidc | None = None
    """Login; required when JupyterHub is on."""
    user_pool: str | None = None
    """Pool for notebook servers. Default: the first on-demand cpu pool, else the first cpu pool."""
    idle_cull_minutes: Annotated[int, Field(ge=5, le=60 * 24 * 30)] = 60
    user_storage_gb: Annotated[int, Field(ge=1, le=1000)] = 10
    expected_users: Annotated[int, Field(ge=0, le=1_000_000)] = 20
    """Users expected to log in (for the cost estimate: a home volume each, kept when their
    servers are culled)."""
    images: Images = Field(default_factory=Images)
    dask: Dask = Field(default_factory=Dask)
    spending: Spending = Field(default_factory=Spending)
    """Monthly limits in dollars per user and group (docs/spending.md)."""


class Services(Model):
    grid_site: GridSite = Field(default_factory=GridSite)
    reana: Reana = Field(default_factory=Reana)
    jupyter: Jupyter = Field(default_factory=Jupyter)


class Budget(Model):
    monthly: Annotated[Decimal, Field(gt=0, le=1_000_000_000, decimal_places=2)]
    """Monthly budget in the currency below."""
    currency: Literal["USD"] = "USD"
    """The catalog's prices are US dollars; other currencies are not converted."""
    alert_thresholds: Annotated[list[Annotated[float, Field(gt=0, le=2)]], Field(min_length=1)] = [
        0.5,
        0.9,
        1.0,
    ]
    """Fractions of the monthly budget at which alerts fire."""
    hard_cap: bool = False
    """Scale elastic pools to zero when spending crosses 100%."""
    billing_account: (
        Annotated[str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")] | None
    ) = None
    """Billing account ID (XXXXXX-XXXXXX-XXXXXX); required for alerts and the hard cap."""
    min_runway_hours: Annotated[Decimal, Field(ge=0, le=1_000_000)] = Decimal(0)
    """Refuse to deploy when the budget buys fewer hours at peak than this."""
    billing_lag_hours: Annotated[Decimal, Field(ge=0, le=72, decimal_places=2)] = Decimal(6)
    """How late Google's cost data arrives: the cap adds what the running pools cost over
    this many hours to the reported spend before it compares with the budget."""
    scope: Literal["project", "label"] = "project"
    """What the Cloud Billing budget counts: the whole project (everything, the NAT and
    egress included: for a project of its own), or only costs carrying the facility's label
    (for a shared project; unlabelled costs such as egress are then not counted)."""
    restore_on_new_period: bool = True
    """When a new budget period starts below the cap, restore the pools' autoscaling (else
    they stay at zero until `gridcloud up --lift-cap`)."""

    @field_validator("alert_thresholds")
    @classmethod
    def _sorted(cls, values: list[float]) -> list[float]:
        if values != sorted(set(values)):
            raise ValueError("alert thresholds must be distinct and ascending")
        return values

    @model_validator(mode="after")
    def _cap_needs_account(self) -> Self:
        if self.hard_cap and self.billing_account is None:
            raise ValueError("hardCap needs billingAccount: the cap listens to its budget alerts")
        return self


class Waiver(Model):
    rule: str
    """A policy rule's id (docs/policy.md)."""
    reason: Annotated[str, Field(min_length=10, max_length=500)]
    """Why the facility accepts what the rule flags (shown wherever the finding is)."""


class Policy(Model):
    waivers: list[Waiver] = Field(default_factory=list)


PriceFigure = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=9)]


class PriceOverride(Model):
    """A price for the profile's region that the catalog lacks (or yours): the estimate
    uses it instead of the catalog's. ``machine`` and ``gpu`` per hour, ``disk`` per
    GB-month, ``network`` as the catalog's row of that item, ``storage`` per GiB-month
    (docs/cost.md)."""

    kind: Literal["machine", "gpu", "disk", "network", "storage"]
    item: Annotated[str, Field(pattern=r"^[a-z0-9][-a-z0-9+]{0,62}$")]
    """The machine type, accelerator type, disk type or network item (forwarding-rules-first-5)."""
    ondemand: PriceFigure | None = None
    spot: PriceFigure | None = None
    source: Annotated[str, Field(min_length=3, max_length=200)]
    """Where the figure comes from and when (shown as the price's basis)."""

    @model_validator(mode="after")
    def _a_figure(self) -> Self:
        if self.ondemand is None and self.spot is None:
            raise ValueError("give ondemand, spot or both")
        if self.kind in ("disk", "network", "storage") and self.ondemand is None:
            raise ValueError(f"a {self.kind} price is given as ondemand")
        return self


class Profile(Model):
    """A gridcloud facility profile."""

    api_version: Literal["gridcloud.dev/v1alpha1"]
    name: Name
    """Facility name: prefixes every cloud resource."""
    description: str = ""
    target: Target
    control_node: ControlNode
    pools: list[Pool] = Field(default_factory=list)
    network: Network = Field(default_factory=Network)
    cluster: Cluster = Field(default_factory=Cluster)
    services: Services = Field(default_factory=Services)
    budget: Budget | None = None
    policy: Policy = Field(default_factory=Policy)
    prices: list[PriceOverride] = Field(default_factory=list)
    """Prices for the target region the catalog lacks, each with its source."""
    data: Data = Field(default_factory=Data)
    """The facility bucket, Rucio on it, and the data movement a month (docs/data.md)."""
    shards: "Shards | None" = None
    """Compute-only clusters beside this one (gcp): declared, or a core target split over
    regions (gridcloud/profile/shards.py, docs/plan.md)."""
    backups: Backups = Field(default_factory=Backups)
    """Scheduled snapshots of the facility's volumes (off unless enabled)."""

    @field_validator("pools")
    @classmethod
    def _distinct_pool_names(cls, pools: list[Pool]) -> list[Pool]:
        names = [p.name for p in pools]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"pool names must be unique: {', '.join(duplicated)}")
        if "control" in names:
            raise ValueError("'control' is reserved for the control node's pool")
        return pools


def _attribute_docstrings(source: str) -> dict[str, dict[str, str]]:
    """Each class of the module at ``source`` -> its fields' docstrings (the string right
    after a field's annotation, cleaned as pydantic's ``use_attribute_docstrings`` cleans
    it)."""
    import ast
    import inspect
    from pathlib import Path

    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs = found.setdefault(node.name, {})
        for before, statement in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(before, ast.AnnAssign)
                and isinstance(before.target, ast.Name)
                and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                docs[before.target.id] = inspect.cleandoc(statement.value.value)
    return found


_documented = False


def documented() -> type[Profile]:
    """The Profile model with its fields' docstrings as their descriptions, as the JSON
    Schema shows them: a field described in its own class's body, else in the base class
    that declares it (what ``use_attribute_docstrings`` gives). Done once per process,
    then every model rebuilt (leaves first, as defined) so the descriptions reach the
    schema; validation is the same before and after."""
    global _documented  # noqa: PLW0603 (once per process)
    if _documented:
        return Profile
    import inspect
    import sys

    def subclasses(cls: type[Model]) -> list[type[Model]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    # this module's models and those of the profile's other modules built on Model
    # (shards.py), each field's docstring read from the module that declares it
    classes = list(dict.fromkeys(subclasses(Model)))
    docs: dict[str, dict[str, dict[str, str]]] = {}
    for cls in classes:
        for name, info in cls.model_fields.items():
            if info.description is not None:
                continue
            declaring = next(k for k in cls.__mro__ if name in inspect.get_annotations(k))
            source = sys.modules[declaring.__module__].__file__
            if source is None:
                continue
            if source not in docs:
                docs[source] = _attribute_docstrings(source)
            info.description = docs[source].get(declaring.__name__, {}).get(name)
    # a model embeds its fields' models as they were when it was built: rebuild every one
    # until the schema holds still (as many passes as the models nest, a handful)
    schema = None
    for _ in range(12):
        for cls in classes:
            cls.model_rebuild(force=True)
        again = Profile.model_json_schema(by_alias=True, mode="validation")
        if again == schema:
            break
        schema = again
    _documented = True
    return Profile
