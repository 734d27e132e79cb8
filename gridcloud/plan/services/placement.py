"""Which pool each service's workloads use, with the defaults the profile leaves open."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gridcloud.errors import PlanError

if TYPE_CHECKING:
    from gridcloud.plan.model import PoolPlan
    from gridcloud.profile.models import Pool, Profile


def _first(pools: list[Pool], *, spot: bool | None) -> str | None:
    for pool in pools:
        if pool.kind == "cpu" and (spot is None or pool.spot is spot):
            return pool.name
    return None


def reana_runtime_pool(profile: Profile) -> str | None:
    """REANA's job pool: named, else the first on-demand cpu pool (None: REANA is off)."""
    reana = profile.services.reana
    if not reana.enabled:
        return None
    chosen = reana.runtime_pool or _first(profile.pools, spot=False)
    if chosen is None:
        raise PlanError(
            "REANA needs an on-demand cpu pool for its workflow jobs, and the profile has none",
            hint="add a cpu pool with spot: false (and name it in services.reana.runtimePool), "
            "or switch REANA off",
        )
    return chosen


def choose(profile: Profile, named: str | None, *, prefer_spot: bool, what: str) -> str:
    """A pool for ``what``: the one named, else the first cpu pool of the preferred kind."""
    chosen = named or _first(profile.pools, spot=prefer_spot) or _first(profile.pools, spot=None)
    if chosen is None:
        raise PlanError(
            f"{what} needs a cpu pool, and the profile has none",
            hint="add a pool of kind cpu, or switch the service off",
        )
    return chosen


def by_name(pools: tuple[PoolPlan, ...], name: str) -> PoolPlan:
    return next(p for p in pools if p.name == name)


def pod_placement(pool: PoolPlan) -> dict[str, object]:
    """nodeSelector and tolerations for a pod spec to land on ``pool``."""
    return {"nodeSelector": dict(pool.node_selector), "tolerations": pool.tolerations}


def node_label(pool: PoolPlan, *, quoted: bool = False) -> str:
    """``key=value``: the one-label form some charts take (REANA).

    ``quoted`` writes the value as a YAML string (``key="true"``), for a chart that pastes
    it into a nodeSelector unquoted, where ``true`` or ``1`` would become a boolean or a
    number that Kubernetes refuses. REANA's job controller reads the unquoted form.
    """
    key, value = next(iter(pool.node_selector.items()))
    return f"{key}={json.dumps(value)}" if quoted else f"{key}={value}"
