"""A Plan is priced once (gridcloud.facility.planned): the estimate the commands show is the
one the hard cap's node prices come from; ``expand`` alone prices nothing."""

from __future__ import annotations

from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost import estimate as estimate_module
from gridcloud.facility import analyse
from gridcloud.plan import expand
from gridcloud.plan.cap import unpriced_cap
from gridcloud.profile import Profile
from tests.conftest import PROFILES


def test_analyse_prices_the_plan_once(monkeypatch: pytest.MonkeyPatch) -> None:
    real = estimate_module.estimate
    calls: list[Any] = []

    def counted(plan: Any, catalog: Any) -> Any:
        calls.append(plan)
        return real(plan, catalog)

    monkeypatch.setattr(estimate_module, "estimate", counted)
    result = analyse(PROFILES / "default.yaml")
    assert len(calls) == 1
    # the cap acts on the estimate's node prices, pool by pool
    assert result.plan.budget is not None and result.plan.budget.cap is not None
    capped = {p.name: p.node_hourly for p in result.plan.budget.cap.pools}
    priced = {p.name: p.node_hourly for p in result.estimate.pools}
    assert capped == {name: priced[name] for name in capped}
    assert set(capped) == {p.name for p in result.plan.elastic_pools}


def test_expand_alone_has_no_cap_and_the_program_refuses_it(
    make_profile: Any, catalog: Catalog
) -> None:
    profile: Profile = make_profile()
    assert profile.budget is not None and profile.budget.hard_cap
    bare = expand(profile, catalog)
    assert bare.budget is not None and bare.budget.cap is None
    assert unpriced_cap(bare)
    from gridcloud.program import build

    with pytest.raises(ValueError, match="hard cap is missing"):
        build(bare)
