"""A pool's fallback shapes: where its demand goes when its own machine type has no capacity.

Written under a pool (``fallback:``); the Plan turns it into a GKE custom ComputeClass whose
rules are the pool's own shape first, then these, in order, each a real node pool the Plan
sizes (gridcloud/plan/fallback.py).

```yaml
pools:
  - name: spot
    kind: cpu
    machineType: n2d-highcpu-80
    maxCores: 100000
    fallback:
      shapes:
        - machineType: c2d-highcpu-112      # another family of spot
        - machineType: n2-highcpu-80
        - machineType: n2d-highcpu-80       # on demand: only when listed, and last
          spot: false
      whenUnsatisfiable: DoNothing
```
"""

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from gridcloud.profile.base import Model

#: A pool's fallback shapes at most: each is a node pool, with its own share of the ranges.
MAX_SHAPES = 5


class FallbackShape(Model):
    """One shape the pool's demand may fall back to."""

    machine_type: Annotated[str, Field(pattern=r"^[a-z][-a-z0-9]{1,62}$")]
    """Machine type, e.g. c2d-highcpu-112 (another family or size)."""
    spot: bool = True
    """Spot VMs; false (on demand, several times the price) only where you accept it: the
    estimate's peak and the budget gate are then priced at it."""


class Fallback(Model):
    """Where an elastic pool's demand goes when its machine type has no capacity: a GKE
    custom ComputeClass over the pool and one node pool per shape (docs/plan.md)."""

    shapes: Annotated[list[FallbackShape], Field(min_length=1, max_length=MAX_SHAPES)]
    """Tried in order after the pool's own shape; spot shapes first, on-demand ones last."""
    when_unsatisfiable: Literal["DoNothing", "ScaleUpAnyway"] = "DoNothing"
    """When no rule has capacity: DoNothing leaves the pods pending (no node outside the
    rules); ScaleUpAnyway lets GKE pick a default machine, outside the rules and their
    prices: refused, as the budget gate could not price it."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        seen = [(s.machine_type, s.spot) for s in self.shapes]
        twice = sorted(
            {f"{m} ({'spot' if s else 'on demand'})" for m, s in seen if seen.count((m, s)) > 1}
        )
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        spots = [s.spot for s in self.shapes]
        if spots != sorted(spots, reverse=True):
            raise ValueError("on-demand shapes (spot: false) come after every spot shape")
        if self.when_unsatisfiable == "ScaleUpAnyway":
            raise ValueError(
                "ScaleUpAnyway lets GKE create nodes outside the listed shapes, which the "
                "budget gate cannot price and the cap does not know: use DoNothing"
            )
        return self
