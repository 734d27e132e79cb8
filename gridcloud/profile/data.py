"""The profile's ``data`` section: the facility bucket, Rucio on it, and the data movement
and storage the user expects a month (which the estimate prices).

Quantities are GiB (2^30 bytes), the unit Google bills egress and Cloud Storage in.
"""

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from gridcloud.profile.base import Model

#: A month's GiB: up to 100 PiB.
Gib = Annotated[int, Field(ge=0, le=100 * 1024 * 1024)]


class InternetEgress(Model):
    """GiB a month sent to the internet (premium tier), by destination: Google prices
    worldwide destinations, China and Australia apart."""

    worldwide_gib: Gib = 0
    """To worldwide destinations, China and Australia excluded (users' downloads)."""
    china_gib: Gib = 0
    australia_gib: Gib = 0


class Egress(Model):
    """What leaves the facility's region a month."""

    internet: InternetEgress = Field(default_factory=InternetEgress)
    other_regions_gib: Gib = 0
    """To Google Cloud in other regions (inter-region data transfer)."""
    other_sites_gib: Gib = 0
    """To other grid sites (staged out over the internet: billed as internet egress to
    worldwide destinations, in the same monthly tiers)."""


class Stored(Model):
    """GiB kept in the facility bucket, on average over the month, by storage class."""

    standard_gib: Gib = 0
    nearline_gib: Gib = 0
    coldline_gib: Gib = 0
    archive_gib: Gib = 0


class Monthly(Model):
    """Expected data movement and storage a month, priced by the estimate."""

    egress: Egress = Field(default_factory=Egress)
    stored: Stored = Field(default_factory=Stored)


class LifecycleRule(Model):
    """One lifecycle rule of the bucket: delete objects, or move them to a colder class,
    ``ageDays`` after they were written (under ``prefix`` when given)."""

    action: Literal["delete", "set-storage-class"]
    age_days: Annotated[int, Field(ge=1, le=36500)]
    prefix: Annotated[str, Field(pattern=r"^[^\s*?\[\]]{1,256}$")] | None = None
    """Only objects whose names start with it (e.g. ``scratch/``)."""
    storage_class: Literal["nearline", "coldline", "archive"] | None = None
    """The class ``set-storage-class`` moves objects to."""

    @model_validator(mode="after")
    def _class_for_moves_only(self) -> Self:
        if self.action == "set-storage-class" and self.storage_class is None:
            raise ValueError("set-storage-class needs storageClass (nearline, coldline, archive)")
        if self.action == "delete" and self.storage_class is not None:
            raise ValueError("a delete rule takes no storageClass")
        return self


class Bucket(Model):
    """The facility bucket: Cloud Storage in the cluster's region, uniform bucket-level
    access, public access prevented, labelled like the facility's other resources."""

    enabled: bool = False
    versioning: bool = False
    """Keep noncurrent versions of overwritten and deleted objects."""
    lifecycle: list[LifecycleRule] = Field(default_factory=list)


class Rucio(Model):
    """The bucket as a Rucio storage element (RSE), reached with URLs Rucio signs as a
    service account gridcloud creates (object admin on this bucket only)."""

    enabled: bool = False
    rse: Annotated[str, Field(pattern=r"^([A-Z0-9]+([_-][A-Z0-9]+)*)$", max_length=63)] = (
        "GRIDCLOUD_DATADISK"
    )
    """The RSE's name (Rucio's rule: upper-case letters, digits, '_' and '-')."""
    prefix: Annotated[str, Field(pattern=r"^[a-z0-9][-a-z0-9_./]{0,127}/$")] = "rucio/"
    """Where in the bucket Rucio writes (ends with '/')."""


class XCache(Model):
    """XRootD's caching proxy in the cluster, for data read from grid sites: one pod on a
    node pool of its own whose local SSDs hold the cache (gcp)."""

    enabled: bool = False
    machine_type: Annotated[str, Field(pattern=r"^[a-z0-9][-a-z0-9]{1,62}$")] = "n2d-standard-8"
    """The cache node's type: a family that takes local SSDs (n1, n2, n2d)."""
    local_ssd_count: Literal[1, 2, 4, 8, 16, 24] = 2
    """Local NVMe SSDs of 375 GiB on the node: the cache's disk (2: 750 GiB)."""
    ram_gib: Annotated[int, Field(ge=1, le=64)] = 4
    """Memory for blocks in flight (``pfc.ram``)."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] = "xcache"


class Data(Model):
    """Where the facility's data lives and what moving it costs."""

    bucket: Bucket = Field(default_factory=Bucket)
    rucio: Rucio = Field(default_factory=Rucio)
    monthly: Monthly = Field(default_factory=Monthly)
    xcache: XCache = Field(default_factory=XCache)

    @model_validator(mode="after")
    def _rucio_needs_the_bucket(self) -> Self:
        if self.rucio.enabled and not self.bucket.enabled:
            raise ValueError("rucio.enabled needs bucket.enabled: the RSE is the facility bucket")
        return self
