"""The data Plan: the facility bucket, its Rucio storage element, and the data movement
and storage a month the estimate prices. Pure: decided here, translated by
``gridcloud.program.storage`` and priced by ``gridcloud.cost.estimate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from gridcloud.plain import Frozen

if TYPE_CHECKING:
    from gridcloud.profile.data import Data, LifecycleRule
    from gridcloud.profile.models import Services

#: The role Rucio's signing account has on the bucket, and only there: read, write and
#: delete objects (Rucio's signed URLs are for GET, PUT and DELETE).
OBJECT_ADMIN = "roles/storage.objectAdmin"
#: The role the facility's workloads have on the bucket: read, write, list and delete
#: objects; no say over its IAM.
OBJECT_USER = "roles/storage.objectUser"
#: How Rucio reaches Google Cloud Storage: HTTPS URLs it signs with a service account key
#: (rucio.core.credential.get_signed_url, service "gcs"; the RSE attribute ``sign_url``).
GCS_HOST = "storage.googleapis.com"
#: gfal2 over HTTPS without rename: an upload goes straight to its final name (a signed URL
#: is for one object; GCS has no rename).
RUCIO_IMPL = "rucio.rse.protocols.gfal.NoRename"
#: Where the Rucio server reads the key it signs with (``[credentials] gcs`` in rucio.cfg;
#: Rucio's default is /opt/rucio/etc/google-cloud-storage-test.json).
RUCIO_KEY_PATH = "/opt/rucio/etc/google-cloud-storage.json"


class LifecyclePlan(Frozen):
    """One lifecycle rule as the Cloud Storage API has it."""

    action: Literal["Delete", "SetStorageClass"]
    age_days: int
    matches_prefix: tuple[str, ...] = ()
    storage_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] | None = None


class BucketPlan(Frozen):
    name: str
    """Globally unique: ``<project>-<facility>-data``."""
    location: str
    """The cluster's region, upper-case as Cloud Storage reports it."""
    storage_class: Literal["STANDARD"] = "STANDARD"
    uniform_bucket_level_access: bool = True
    public_access_prevention: Literal["enforced"] = "enforced"
    versioning: bool
    lifecycle: tuple[LifecyclePlan, ...]
    force_destroy: bool = False
    """A destroy keeps a bucket that still holds objects (the user's data). Its labels are
    the cluster's ``resource_labels``, as every GCP resource's."""


class RucioPlan(Frozen):
    """The bucket as a Rucio storage element, and the account Rucio signs URLs as."""

    rse: str
    account_id: str
    """The signing service account's ID (``<facility>-rucio``)."""
    account_email: str
    """``<account_id>@<project>.iam.gserviceaccount.com``."""
    region: str
    bucket_role: str = OBJECT_ADMIN
    scheme: Literal["https"] = "https"
    hostname: str = GCS_HOST
    port: int = 443
    prefix: str
    """``/<bucket>/<prefix>``: the path every PFN starts with."""
    impl: str = RUCIO_IMPL
    sign_url: Literal["gcs"] = "gcs"
    key_path: str = RUCIO_KEY_PATH


class MonthlyData(Frozen):
    """What the profile expects to move and keep a month, in GiB."""

    internet_worldwide_gib: int
    internet_china_gib: int
    internet_australia_gib: int
    other_regions_gib: int
    other_sites_gib: int
    stored_gib: dict[str, int]
    """By Cloud Storage class (``standard``, ``nearline``, ...), those above zero."""


class WorkloadAccess(Frozen):
    """The pods of one namespace reaching the bucket through Workload Identity: the
    namespace's Kubernetes service accounts as principals of the project's workload pool,
    granted ``role`` on the bucket only. No Google service account, no key, no annotation:
    GKE's metadata server gives the pods tokens as themselves."""

    namespace: str
    who: str
    """What runs there ("notebooks and Dask workers", "REANA jobs", "grid pilots")."""
    role: str = OBJECT_USER


class DataPlan(Frozen):
    bucket: BucketPlan | None
    rucio: RucioPlan | None
    monthly: MonthlyData
    workload_access: tuple[WorkloadAccess, ...] = ()
    """The namespaces whose pods reach the bucket (the services that are on)."""


#: The GKE metadata server, where a pod gets its Workload Identity tokens (GKE's "Control
#: communication between Pods and Services using network policies": with Workload Identity,
#: allow egress to 169.254.169.252/32 port 988, and on Dataplane V2 to 169.254.169.254/32
#: port 80). A NetworkPolicy that blocks them leaves the pod without a token.
METADATA_SERVER_EGRESS: tuple[dict[str, Any], ...] = (
    {
        "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
        "ports": [{"port": 80, "protocol": "TCP"}],
    },
    {
        "to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}],
        "ports": [{"port": 988, "protocol": "TCP"}],
    },
)


def pods_use_the_bucket(data: Data, *, on_gcp: bool) -> bool:
    """Whether the services' pods reach the facility bucket through Workload Identity (and so
    need GKE's metadata server): a bucket on Google Cloud."""
    return on_gcp and data.bucket.enabled


def bucket_name(project: str, facility: str) -> str:
    return f"{project}-{facility}-data"


def _rule(rule: LifecycleRule) -> LifecyclePlan:
    prefix = (rule.prefix,) if rule.prefix else ()
    if rule.action == "delete":
        return LifecyclePlan(action="Delete", age_days=rule.age_days, matches_prefix=prefix)
    assert rule.storage_class is not None
    return LifecyclePlan(
        action="SetStorageClass",
        age_days=rule.age_days,
        matches_prefix=prefix,
        storage_class=_CLASSES[rule.storage_class],
    )


_CLASSES: dict[str, Literal["NEARLINE", "COLDLINE", "ARCHIVE"]] = {
    "nearline": "NEARLINE",
    "coldline": "COLDLINE",
    "archive": "ARCHIVE",
}


def workload_access(services: Services) -> tuple[WorkloadAccess, ...]:
    """The namespaces of the services that are on, with what runs in them."""
    found = []
    if services.jupyter.enabled:
        found.append(WorkloadAccess(namespace=services.jupyter.namespace, who=_JUPYTER))
    if services.reana.enabled:
        found.append(WorkloadAccess(namespace=services.reana.namespace, who="REANA jobs"))
    if services.grid_site.enabled:
        found.append(WorkloadAccess(namespace=services.grid_site.namespace, who="grid pilots"))
    return tuple(found)


_JUPYTER = "notebooks and Dask workers"


def plan_data(
    data: Data,
    *,
    project: str,
    region: str,
    facility: str,
    access: tuple[WorkloadAccess, ...] = (),
) -> DataPlan | None:
    """The data Plan of a GCP facility; None when the profile says nothing about data."""
    if data.is_default():
        return None
    egress, stored = data.monthly.egress, data.monthly.stored
    monthly = MonthlyData(
        internet_worldwide_gib=egress.internet.worldwide_gib,
        internet_china_gib=egress.internet.china_gib,
        internet_australia_gib=egress.internet.australia_gib,
        other_regions_gib=egress.other_regions_gib,
        other_sites_gib=egress.other_sites_gib,
        stored_gib={
            name.removesuffix("_gib"): getattr(stored, name)
            for name in type(stored).model_fields
            if getattr(stored, name) > 0
        },
    )
    if not data.bucket.enabled:
        return DataPlan(bucket=None, rucio=None, monthly=monthly)
    name = bucket_name(project, facility)
    bucket = BucketPlan(
        name=name,
        location=region.upper(),
        versioning=data.bucket.versioning,
        lifecycle=tuple(_rule(r) for r in data.bucket.lifecycle),
    )
    rucio = None
    if data.rucio.enabled:
        rucio = RucioPlan(
            rse=data.rucio.rse,
            account_id=f"{facility}-rucio",
            account_email=f"{facility}-rucio@{project}.iam.gserviceaccount.com",
            region=region,
            prefix=f"/{name}/{data.rucio.prefix}",
        )
    return DataPlan(bucket=bucket, rucio=rucio, monthly=monthly, workload_access=access)
