"""E2 shared-core machine types outside us-central1 (where the catalog lists no row for
them): derived from the region's E2 rates for the share of a core Google bills (e2-micro
0.25 vCPU, e2-small 0.5, e2-medium 1; cloud.google.com/compute/vm-instance-pricing, E2
shared-core), with their memory. us-central1's listed rows agree: e2-small $0.01675 =
0.5 x 0.02181159 + 2 x 0.00292353, e2-medium $0.03351 = 0.02181159 + 4 x 0.00292353 (to
the listed digits). Rates from ../shared/data/gcp/family-rates-by-region.csv."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gridcloud.catalog import Catalog
from tests.unit.test_regions import Source

D = Decimal


@pytest.mark.needs("shared")
@pytest.mark.parametrize("region", ["europe-west1", "us-east4", "asia-east1"])
@pytest.mark.parametrize(
    "shape",
    [("e2-micro", D("0.25"), 1), ("e2-small", D("0.5"), 2), ("e2-medium", D(1), 4)],
)
def test_a_shared_core_type_is_billed_for_its_share_of_a_core(
    catalog: Catalog, source: Source, region: str, shape: tuple[str, Decimal, int]
) -> None:
    name, share, memory = shape
    prices = catalog.prices(region)
    assert prices is not None
    assert name not in prices.machines  # derived, not listed
    quote = prices.machine(catalog.machine_types[name])
    rates = source.families["e2", region]
    assert quote.ondemand == share * D(rates["ondemand_usd_per_vcpu_hour"]) + memory * D(
        rates["ondemand_usd_per_gb_hour"]
    )
    assert quote.spot == share * D(rates["spot_usd_per_vcpu_hour"]) + memory * D(
        rates["spot_usd_per_gb_hour"]
    )


def test_us_central1s_listed_shared_core_rows_are_the_same_rule(catalog: Catalog) -> None:
    prices = catalog.prices("us-central1")
    assert prices is not None
    vcpu, gb = D("0.02181159"), D("0.00292353")  # us-central1's E2 rates
    for name, share, memory, listed in (
        ("e2-small", D("0.5"), 2, D("0.01675")),
        ("e2-medium", D(1), 4, D("0.03351")),
    ):
        assert prices.machine(catalog.machine_types[name]).ondemand == listed
        assert abs(share * vcpu + memory * gb - listed) < D("0.000005")  # the listed digits
