"""Shards: a facility of several GKE clusters, beyond what one cluster holds.

The profile's own target, control node, pools and services are the **home** shard: the
always-on control node, the hub, REANA, the grid site and the budget's enforcer stay there.
``shards`` adds compute-only clusters, each in a region, with its own elastic pools that
scale to zero, in one of two ways (gridcloud/plan/shards.py plans them; docs/plan.md):

```yaml
shards:
  declared:                   # each shard written out
    - name: ew4
      region: europe-west4
      pools:
        - {name: spot, kind: cpu, machineType: n2d-highcpu-80, maxCores: 80000}
```

```yaml
shards:
  split:                      # or: a core target the Plan splits over regions
    cores: 1000000
    regions: [us-central1, us-east1, us-east4, us-west1, europe-west1, europe-west4]
```
"""

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from gridcloud.profile.base import Model
from gridcloud.profile.models import Pool, distinct
from gridcloud.profile.multikueue import MultiKueue

#: A shard's name: short, as it joins the facility's in every resource name
#: (``<facility>-<shard>``, at most 24 characters: a service account ID takes 30 with
#: ``-nodes``).
ShardName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9]{0,5}$",
        description="lower-case letters and digits, starting with a letter, at most 6",
    ),
]

#: The most cores the Plan puts in one shard by default: the largest cluster the vision this
#: serves ran without instabilities, well under GKE's node limits (1,250 nodes of 80 cores).
DEFAULT_CORES_PER_SHARD = 100_000
#: Spot pools spread over several families, so that one family's lack of spot capacity in a
#: region leaves the others: x86 80-odd-core types with high CPU (catalog: every region that
#: offers them).
DEFAULT_MACHINE_TYPES = ["n2d-highcpu-80", "n2-highcpu-80", "c2d-highcpu-112"]


class Shard(Model):
    """A compute-only cluster of the facility, written out."""

    name: ShardName
    region: str
    """Its region, e.g. europe-west4."""
    zones: Annotated[list[str], Field(min_length=1), AfterValidator(distinct)] | None = None
    """Zones its pools span. Default: every zone of the region that offers a pool's type."""
    project: Annotated[str, Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")] | None = None
    """Its Google Cloud project. Default: the target's."""
    availability: Literal["auto", "zonal", "regional"] = "auto"
    """As ``cluster.availability``: auto goes regional above 5,000 nodes."""
    pools: Annotated[list[Pool], Field(min_length=1)]
    """Its elastic pools (machine types, sizes, spot, fallback: as ``pools[]``)."""

    @field_validator("pools")
    @classmethod
    def _names(cls, pools: list[Pool]) -> list[Pool]:
        distinct([p.name for p in pools])
        if any(p.name == "control" for p in pools):
            raise ValueError("'control' is reserved for the shard's system node")
        if any(p.min_nodes for p in pools):
            raise ValueError("a compute-only shard scales to zero: its pools take no minNodes")
        return pools


class Split(Model):
    """A core target the Plan splits into compute-only shards over the regions allowed."""

    cores: Annotated[int, Field(ge=1, le=10_000_000)]
    """Cores of the compute shards together (the home cluster's own pools come on top)."""
    regions: Annotated[list[str], Field(min_length=1, max_length=40), AfterValidator(distinct)]
    """Regions allowed, in order of preference: shard i goes to region i (mod their count)."""
    machine_types: Annotated[
        list[str], Field(min_length=1, max_length=6), AfterValidator(distinct)
    ] = Field(default_factory=lambda: list(DEFAULT_MACHINE_TYPES))
    """x86 types a shard's cores are spread over, one pool each, every zone of the region
    that offers it (types a region lacks are left out there)."""
    spot: bool = True
    max_cores_per_shard: Annotated[int, Field(ge=1_000, le=400_000)] = DEFAULT_CORES_PER_SHARD
    """The most cores in one shard; the shards are as many as that needs, equal in size."""


class Shards(Model):
    """Compute-only clusters beside the home one: ``declared`` or ``split``, not both."""

    declared: list[Shard] = Field(default_factory=list)
    split: Split | None = None
    multikueue: MultiKueue = Field(default_factory=MultiKueue)
    """Kueue's MultiKueue over the shards (gridcloud/profile/multikueue.py): off unless
    ``enabled``."""

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if bool(self.declared) == (self.split is not None):
            raise ValueError("give either declared shards or a split, one of the two")
        distinct([s.name for s in self.declared])
        return self


def _complete_profile() -> None:
    """The profile's ``shards`` field names :class:`Shards`, defined here (this module needs
    the profile's Pool): the package's __init__ imports this module, which puts the name in
    the models' module, where pydantic looks it up when it builds Profile's validator. The
    build itself waits for the first validation (``defer_build``): a profile read back from
    gridcloud's cache (gridcloud/profile/memo.py) needs none."""
    from gridcloud.profile import models

    models.Shards = Shards  # type: ignore[attr-defined]


_complete_profile()
