"""A Plan is priced once (gridcloud.analysis.planned): the estimate the commands show is the
one the hard cap's node prices come from; ``expand`` alone prices nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gridcloud.analysis import analyse
from gridcloud.catalog import Catalog
from gridcloud.cost import estimate as estimate_module
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
    capped = {p.name: p.node_hourly for p in result.plan.budget.cap.clusters[0].pools}
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


def test_a_pool_without_a_price_is_capped_all_the_same(make_profile: Any, catalog: Catalog) -> None:
    """--allow-over-budget deploys past an unknown verdict: a pool the catalog cannot price
    (here the gpu pool, its price left out) is still scaled to zero by the cap; only its
    share of the lag allowance is missing, and the Plan says so."""
    from gridcloud.plan.cap import with_cap

    profile: Profile = make_profile()
    assert profile.budget is not None
    bare = expand(profile, catalog)
    names = [p.name for p in bare.elastic_pools]
    assert "gpu" in names
    prices = {name: None if name == "gpu" else Decimal("1.25") for name in names}
    capped = with_cap(bare, profile.budget, {"home": prices})
    assert capped.budget is not None and capped.budget.cap is not None
    pools = {p.name: p.node_hourly for p in capped.budget.cap.clusters[0].pools}
    assert set(pools) == set(names)
    assert pools["gpu"] == 0
    assert any(w.startswith("pool gpu: no price") for w in capped.warnings)
