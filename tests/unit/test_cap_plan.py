"""The budget and hard cap the Plan holds on Google Cloud (gridcloud/plan/cap.py), every name
and figure written out by hand for the default profile (facility atlas-gcp in project
atlas-analysis-facility, $25,000 a month, hard cap, a billing account)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gridcloud.catalog import Catalog
from gridcloud.plan import Plan, expand
from gridcloud.plan.cap import unpriced_cap, with_cap
from gridcloud.profile import Profile

MakeProfile = Callable[..., Profile]
PRICES = {"cpu": Decimal("0.9"), "gpu": Decimal("0.4"), "ondemand": Decimal("0.8"),
          "arm": Decimal("0.5")}  # fmt: skip


def test_the_cloud_budget_and_its_cap(make_profile: MakeProfile, catalog: Catalog) -> None:
    profile = make_profile()
    assert profile.budget is not None
    bare = expand(profile, catalog)
    assert bare.budget is not None
    assert bare.budget.display_name == "gridcloud atlas-gcp"
    assert bare.budget.topic == "atlas-gcp-budget"
    assert bare.budget.label_filter == {}  # scope: project (the default)
    assert unpriced_cap(bare)
    plan = with_cap(bare, profile.budget, {"home": PRICES})
    assert plan.budget is not None and not unpriced_cap(plan)
    cap = plan.budget.cap
    assert cap is not None
    assert cap.amount == 25000 and cap.lag_hours == 6 and cap.restore_on_new_period
    assert cap.label == "gridcloud-cap"
    assert cap.function == "atlas-gcp-budget-cap" and cap.account == "atlas-gcp-cap"
    assert cap.role_id == "gridcloud_cap_atlas_gcp"
    assert cap.bucket == "atlas-analysis-facility-atlas-gcp-enforcer"
    assert cap.runtime == "python312" and cap.timeout_seconds == 540
    assert cap.permissions == (
        "container.clusters.get",
        "container.clusters.update",
        "container.operations.get",
        "compute.instanceGroupManagers.get",
    )
    # one cluster, the home one, where the Plan puts it
    (home,) = cap.clusters
    assert (home.shard, home.project, home.location, home.cluster) == (
        "home",
        "atlas-analysis-facility",
        "us-central1-a",
        "atlas-gcp",
    )
    # every elastic pool, in the profile's order, with its price and its own autoscaling
    assert [(p.name, p.node_hourly) for p in home.pools] == [
        ("cpu", Decimal("0.9")),
        ("gpu", Decimal("0.4")),
        ("ondemand", Decimal("0.8")),
        ("arm", Decimal("0.5")),
    ]
    for capped in home.pools:
        assert capped.autoscaling == bare.pool(capped.name).autoscaling
    assert plan.warnings == bare.warnings  # every pool priced: nothing to say
    assert plan.model_copy(update={"budget": bare.budget}) == bare  # nothing else changed


def test_a_label_scope_and_the_profiles_cap_settings(
    make_profile: MakeProfile, catalog: Catalog
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["budget"] |= {"scope": "label", "billingLagHours": 12, "restoreOnNewPeriod": False}

    profile = make_profile(edit)
    assert profile.budget is not None
    plan = with_cap(expand(profile, catalog), profile.budget, {"home": PRICES})
    assert plan.budget is not None and plan.budget.cap is not None
    assert plan.budget.label_filter == {"gridcloud-facility": "atlas-gcp"}
    assert plan.budget.cap.lag_hours == 12 and not plan.budget.cap.restore_on_new_period


def test_an_unpriced_pool_is_capped_and_named(make_profile: MakeProfile, catalog: Catalog) -> None:
    profile = make_profile()
    assert profile.budget is not None
    bare = expand(profile, catalog)
    plan = with_cap(bare, profile.budget, {"home": {**PRICES, "gpu": None, "arm": None}})
    assert plan.budget is not None and plan.budget.cap is not None
    assert {p.name: p.node_hourly for p in plan.budget.cap.clusters[0].pools}["gpu"] == 0
    assert plan.warnings[len(bare.warnings) :] == tuple(
        f"pool {name}: no price, so the hard cap's lag allowance leaves it out (the cap still "
        "scales it to zero); price it to have it counted"
        for name in ("gpu", "arm")
    )


def test_no_cap_without_a_hard_cap_or_a_billing_account(
    make_profile: MakeProfile, catalog: Catalog
) -> None:
    def alerts_only(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False

    profile = make_profile(alerts_only)
    assert profile.budget is not None
    bare = expand(profile, catalog)
    assert bare.budget is not None and bare.budget.topic == "atlas-gcp-budget"
    assert with_cap(bare, profile.budget, {"home": PRICES}) == bare
    assert not unpriced_cap(bare)

    def no_account(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False
        del data["budget"]["billingAccount"]

    profile = make_profile(no_account)
    assert profile.budget is not None
    bare = expand(profile, catalog)
    assert bare.budget is not None
    assert (bare.budget.topic, bare.budget.display_name, bare.budget.label_filter) == (None, "", {})
    assert with_cap(bare, profile.budget, {"home": PRICES}) == bare
    assert not unpriced_cap(bare)


def test_an_existing_cluster_has_no_cloud_budget(catalog: Catalog) -> None:
    from gridcloud.analysis import analyse
    from tests.conftest import PROFILES

    plan: Plan = analyse(PROFILES / "onprem.yaml").plan
    assert plan.budget is None and not unpriced_cap(plan)
