"""Cloud NAT's rows by hand (us-central1, ../shared/data/gcp/other-prices-by-region.csv):
$0.0014 a VM-hour up to 32 VMs, then the gateway's cap of $0.0448 an hour; an address in use
$0.005 an hour, one per 64,512 ports (64 ports a VM for nodes of up to 64 cores: 1,008 VMs
an address). What each row counts is said: "1 VM", "41 VMs", thousands with a comma."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gridcloud.catalog import Catalog
from gridcloud.cost.estimate import CostItem, Estimate, estimate
from gridcloud.plan import Plan
from tests.conftest import services_off

D = Decimal
HOURS = 730


def e2_pool(min_nodes: int, max_nodes: int) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        data["pools"] = [
            {
                "name": "small",
                "kind": "cpu",
                "machineType": "e2-standard-2",
                "spot": False,
                "minNodes": min_nodes,
                "maxNodes": max_nodes,
            }
        ]

    return edit


def item(cost: Estimate, name: str) -> CostItem:
    return next(i for i in cost.items if i.item == name)


def test_past_32_vms_the_gateway_costs_its_cap_and_a_second_address_comes(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    cost = estimate(make_plan_module(e2_pool(40, 1200)), catalog)
    nat, addresses = item(cost, "Cloud NAT gateway"), item(cost, "Cloud NAT addresses")
    # 40 nodes and the control node always on: 41 VMs, over 32: the cap
    assert nat.quantity == "41 VMs; 1,201 at peak"
    assert (nat.idle_monthly, nat.peak_hourly) == (D("0.0448") * HOURS, D("0.0448"))
    # 1,201 VMs x 64 ports = 76,864 ports: two addresses at peak, one at idle
    assert addresses.quantity == "1; 2 at peak (64 ports a VM)"
    assert (addresses.idle_monthly, addresses.peak_hourly) == (
        D("0.005") * HOURS,
        2 * D("0.005"),
    )


def test_one_vm_and_a_few(make_plan_module: Callable[..., Plan], catalog: Catalog) -> None:
    alone = estimate(make_plan_module(e2_pool(0, 2)), catalog)
    nat = item(alone, "Cloud NAT gateway")
    assert nat.quantity == "1 VM; 3 at peak"
    assert (nat.idle_monthly, nat.peak_hourly) == (D("0.0014") * HOURS, 3 * D("0.0014"))
    two = item(estimate(make_plan_module(e2_pool(1, 2)), catalog), "Cloud NAT gateway")
    assert two.quantity == "2 VMs; 3 at peak"
    assert two.idle_monthly == 2 * D("0.0014") * HOURS


def test_two_addresses_always_on(make_plan_module: Callable[..., Plan], catalog: Catalog) -> None:
    """1,008 nodes always on and the control node: 1,009 VMs x 64 ports = 64,576 ports, over
    one address's 64,512."""
    cost = estimate(make_plan_module(e2_pool(1008, 1008)), catalog)
    addresses = item(cost, "Cloud NAT addresses")
    assert addresses.quantity == "2; 2 at peak (64 ports a VM)"
    assert addresses.idle_monthly == 2 * D("0.005") * HOURS


def test_the_forwarding_rules_name_both_their_prices_sources(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """The hub's and REANA's hostnames: 4 rules, within the first 5's price; the row says
    where both of its prices come from (the catalog's two rows, each with its basis)."""
    rules = item(estimate(make_plan_module(), catalog), "forwarding rules")
    assert (rules.idle_monthly, rules.peak_hourly) == (D("0.025") * HOURS, D("0.025"))
    assert rules.source == (
        "us-central1: forwarding rules: the first 5, together; Google's pricing pages (Cloud "
        "NAT, IP addresses, load balancing) 2026-11; each forwarding rule beyond the first 5; "
        "Google's pricing pages (Cloud NAT, IP addresses, load balancing) 2026-11"
    )


def test_what_is_left_out_is_said_with_the_regions_rates(
    make_plan_module: Callable[..., Plan], catalog: Catalog
) -> None:
    """Cloud NAT's data ($0.045 per GiB processed) and internet egress ($0.12, $0.11, $0.08
    per GiB by band) in us-central1, from the source file's rows."""
    (said,) = estimate(make_plan_module(e2_pool(0, 2)), catalog).assumptions
    assert "data through Cloud NAT ($0.045 per GB)" in said
    assert (
        "(premium tier, $0.12 per GB for the first TiB a month, $0.11 per GB to 10 TiB, "
        "$0.08 per GB beyond)"
    ) in said
