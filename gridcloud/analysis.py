"""The service behind ``validate``, ``plan``, ``cost`` and ``up``: a profile, analysed.

One function, :func:`analyse`, loads a profile, expands it to the Plan, prices it (once:
:func:`planned`), gives the budget verdict and the policy findings. Commands render its
result; none repeats its steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gridcloud.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.catalog import Catalog
    from gridcloud.cost.budget import Verdict
    from gridcloud.cost.estimate import Estimate
    from gridcloud.plan import Plan
    from gridcloud.plan.model import Deployed
    from gridcloud.policy import Finding
    from gridcloud.profile import Profile

PROFILE_ENV = "GRIDCLOUD_PROFILE"
PROFILES_DIR = Path("profiles")
DEFAULT_PROFILE = PROFILES_DIR / "default.yaml"


@dataclass(frozen=True)
class Analysis:
    path: Path
    profile: Profile
    plan: Plan
    estimate: Estimate
    verdict: Verdict
    findings: list[Finding]
    catalog: Catalog


def resolve_profile(given: str | None) -> Path:
    """The profile a command works on.

    ``given`` is a path, or the name of a shipped profile (``small`` for
    ``profiles/small.yaml``); without it, ``$GRIDCLOUD_PROFILE``, else the default profile.
    """
    if given is None:
        env = os.environ.get(PROFILE_ENV)
        path = Path(env) if env else DEFAULT_PROFILE
        if not path.is_file():
            raise InputError(
                f"no profile given and {path} does not exist",
                hint=f"run from the project's root, give a profile's path, or set {PROFILE_ENV}",
            )
        return path
    path = Path(given).expanduser()
    if path.is_file():
        return path
    shipped = PROFILES_DIR / f"{given}.yaml"
    if not path.suffix and shipped.is_file():
        return shipped
    names = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
    hint = f"shipped profiles: {', '.join(names)}" if names else "give a profile's path"
    raise InputError(f"no profile at {given}", hint=hint)


def planned(
    profile: Profile,
    catalog: Catalog,
    deployed: Deployed | None = None,
    shards_deployed: Mapping[str, Deployed] | None = None,
) -> tuple[Plan, Estimate]:
    """The Plan of a validated profile, and its estimate: priced once, and the hard cap
    (which acts on the pools' prices) added from that estimate. The estimate does not depend
    on the cap, so it is the final Plan's."""
    from gridcloud.cost.estimate import estimate
    from gridcloud.plan import expand
    from gridcloud.plan.cap import with_cap
    from gridcloud.plan.services.spending import with_spending
    from gridcloud.plan.shards import HOME

    plan = expand(profile, catalog, deployed, shards_deployed)
    priced = estimate(plan, catalog)
    prices = {pool.name: pool.node_hourly for pool in priced.pools}
    if profile.budget is not None:
        # each cluster's own prices: the home one's, and each compute-only shard's
        shards = {
            row.name: {pool.name: pool.node_hourly for pool in row.estimate.pools}
            for row in priced.shards
            if row.estimate is not None
        }
        plan = with_cap(plan, profile.budget, {HOME: prices, **shards})
    plan = with_spending(plan, profile.services.jupyter, prices)
    return plan, priced


def analyse(
    path: Path,
    deployed: Deployed | None = None,
    shards_deployed: Mapping[str, Deployed] | None = None,
) -> Analysis:
    """Load, validate, expand and price the profile at ``path``; ``deployed`` is what the
    stack already has and a new Plan must keep (see :class:`gridcloud.plan.model.Deployed`),
    ``shards_deployed`` the same for each compute-only shard's own stack, by shard name."""
    from gridcloud.catalog import load_catalog
    from gridcloud.catalog.model import with_prices
    from gridcloud.cost.budget import verdict
    from gridcloud.policy import PROFILE_CHECKS, evaluate
    from gridcloud.profile import load_profile
    from gridcloud.profile.models import GcpTarget

    catalog = load_catalog()
    profile = load_profile(path, catalog, PROFILE_CHECKS)
    if profile.prices and isinstance(profile.target, GcpTarget):
        # prices the profile gives for its region, over the catalog's (docs/cost.md)
        catalog = with_prices(catalog, profile.target.region, profile.prices)
    plan, priced = planned(profile, catalog, deployed, shards_deployed)
    return Analysis(
        path=path,
        profile=profile,
        plan=plan,
        estimate=priced,
        verdict=verdict(plan, priced),
        findings=evaluate(plan),
        catalog=catalog,
    )


def stack_name(given: str | None) -> str:
    """The stack a state-only command (destroy, refresh, status) works on, from a profile.

    Only the profile's ``name`` is read, leniently: a profile that no longer validates (an
    older apiVersion, a stricter gridcloud) still names its stack. Without a profile, the
    caller must give ``--stack``.
    """
    from gridcloud.profile.loader import read_fields

    try:
        path = resolve_profile(given)
    except InputError as exc:
        raise InputError(
            f"{exc.message}: no stack name to work on",
            hint="name the stack: --stack NAME (`gridcloud stacks` lists them)",
        ) from exc
    data = read_fields(path)
    if data is None:
        raise InputError(
            f"cannot read the facility's name from {path}: it is not a YAML profile",
            hint="name the stack: --stack NAME (`gridcloud stacks` lists them)",
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(
            f"{path} has no facility name",
            hint="name the stack: --stack NAME (`gridcloud stacks` lists them)",
        )
    return name
