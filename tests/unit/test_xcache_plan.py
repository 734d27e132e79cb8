"""XCache in the Plan: its node pool with local SSDs, what it costs (worked by hand from
../shared/data/gcp), what the profile is refused, and what the pods are told."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.catalog.model import with_prices
from gridcloud.cost.estimate import estimate
from gridcloud.errors import GridcloudError
from gridcloud.plan import Plan
from gridcloud.policy import evaluate
from gridcloud.profile.models import PriceOverride

MakePlan = Callable[..., Plan]
D = Decimal
#: The local SSD price the test profile gives (the catalog has none).
LOCAL_SSD = {
    "kind": "disk",
    "item": "local-ssd",
    "ondemand": "0.08",
    "source": "a test figure for local SSD, per GB-month",
}


def with_xcache(**settings: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["data"]["xcache"] = {"enabled": True, **settings}
        data.setdefault("prices", []).append(LOCAL_SSD)

    return edit


def test_the_cache_gets_an_on_demand_node_with_local_ssds(make_plan: MakePlan) -> None:
    plan = make_plan(with_xcache(localSsdCount=4, ramGib=8))
    pool = plan.pool("xcache")
    assert pool.machine_type == "n2d-standard-8"
    assert pool.local_ssd_count == 4
    assert pool.spot is False
    assert (pool.min_nodes, pool.max_nodes) == (1, 1)
    assert pool.zones == ("us-central1-a",)  # the facility's first zone: one node
    assert {(t.key, t.effect) for t in pool.taints} == {
        ("gridcloud.io/elastic", "NoSchedule"),
        ("gridcloud.io/xcache", "NoSchedule"),
    }
    cache = plan.xcache
    assert cache is not None
    # 4 x 375 GiB = 1,500 GiB; purge at 95 % of 1,536,000 MiB = 1,459,200, down to 90 %
    assert cache.disk_gib == 1500
    assert "pfc.diskusage 1382400m 1459200m" in cache.config.splitlines()
    assert "pfc.ram 8g" in cache.config.splitlines()
    assert cache.client_env == {"XROOT_PROXY": "root://xcache.xcache.svc.cluster.local:1094//"}
    assert cache.given_to == ("notebooks", "Dask workers", "pilots")


def test_without_xcache_no_pool(make_plan: MakePlan) -> None:
    plan = make_plan()
    assert plan.xcache is None
    assert "xcache" not in {p.name for p in plan.pools}
    assert all(p.local_ssd_count == 0 for p in plan.pools)


def test_the_cache_node_priced_by_hand(make_plan: MakePlan, catalog: Catalog) -> None:
    """n2d-standard-8 in us-central1 from N2D's rates (family-rates-us-central1.csv: 0.027502
    a vCPU-hour, 0.003686 a GB-hour): 8 x 0.027502 + 32 x 0.003686 = 0.337968 an hour; a
    node on all month pays N2D's sustained-use tiers' mean, (1 + 0.8678 + 0.733 + 0.598) / 4
    = 0.7997 of it: 0.337968 x 730 x 0.7997 = 197.299297008. Its 50 GB pd-balanced boot disk
    at 0.1 (other-prices-by-region.csv line 376): 5.00; its two local SSDs, 750 GB at the
    profile's 0.08: 60.00. 262.299297008 a month, idle."""
    priced = with_prices(catalog, "us-central1", [PriceOverride.model_validate(LOCAL_SSD)])
    with_cache = estimate(make_plan(with_xcache()), priced)
    without = estimate(make_plan(), priced)
    pool = next(p for p in with_cache.pools if p.name == "xcache")
    assert pool.idle_monthly is not None
    assert pool.idle_monthly.quantize(D("0.000001")) == D("262.299297")
    assert with_cache.idle_monthly is not None and without.idle_monthly is not None
    # and one more VM behind Cloud NAT: 0.0014 an hour, 1.022 a month
    assert with_cache.idle_monthly - without.idle_monthly == pool.idle_monthly + D("1.022")


def test_without_a_local_ssd_price_the_pool_is_named_unknown(
    make_plan: MakePlan, catalog: Catalog
) -> None:
    def no_price(data: dict[str, Any]) -> None:
        with_xcache()(data)
        data["prices"] = [p for p in data["prices"] if p["item"] != "local-ssd"]

    cost = estimate(make_plan(no_price), catalog)
    assert cost.complete is False
    assert "price of local-ssd (per GB-month) in us-central1 (pool xcache)" in cost.missing


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"machineType": "e2-standard-8"}, "takes local SSDs"),
        ({"machineType": "c3d-standard-8-lssd"}, "takes local SSDs"),
    ],
)
def test_a_type_without_local_ssds_is_refused(
    make_plan: MakePlan, settings: dict[str, Any], says: str
) -> None:
    with pytest.raises(GridcloudError) as refused:
        make_plan(with_xcache(**settings))
    assert says in str(refused.value)


def test_a_count_compute_engine_does_not_attach_is_refused(make_plan: MakePlan) -> None:
    with pytest.raises(GridcloudError) as refused:
        make_plan(with_xcache(localSsdCount=3))
    assert "localSsdCount" in str(refused.value)


def test_its_always_on_node_is_not_flagged_as_an_idle_elastic_pool(make_plan: MakePlan) -> None:
    findings = [f for f in evaluate(make_plan(with_xcache())) if f.rule == "elastic-min-zero"]
    assert not [f for f in findings if "xcache" in f.message]


def test_check_asks_for_the_local_ssd_quota(make_plan: MakePlan) -> None:
    """Compute Engine counts local SSDs against the region's LOCAL_SSD_TOTAL_GB: the cache
    node and its surge node at an upgrade, 2 x 4 disks x 375 GB = 3,000 GB."""
    from gridcloud.check.quotas import quota_rows

    plan = make_plan(with_xcache(localSsdCount=4))
    rows = {r.metric: r for r in quota_rows(plan, {}, {})}
    assert rows["LOCAL_SSD_TOTAL_GB"].need == 2 * 4 * 375
    assert rows["LOCAL_SSD_TOTAL_GB"].for_what == "xcache local SSDs"
    assert "LOCAL_SSD_TOTAL_GB" not in {r.metric for r in quota_rows(make_plan(), {}, {})}
