"""Spot with fallback: a pool's demand over an ordered list of shapes, as a GKE ComputeClass.

Expected figures are worked out by hand from the catalog's rows (us-central1, 2026-08-20):
n2d-highcpu-80 spot $0.87448 and on demand $2.49504 an hour, c2d-highcpu-112 spot $1.876,
n2-highcpu-80 spot $1.64576; pd-balanced $0.10 a GB-month; 100 GB boot disks.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from gridcloud.catalog import Catalog
from gridcloud.cost.estimate import estimate
from gridcloud.errors import PlanError
from gridcloud.plan import Plan
from gridcloud.plan.services.placement import pod_placement
from gridcloud.render.manifests import Manifest, Rendered, compute_class_crd
from gridcloud.render.placement import can_land, nodes
from gridcloud.render.validate import problems

MakePlan = Callable[..., Plan]

SPOT_THEN_ON_DEMAND = [
    {"machineType": "c2d-highcpu-112"},
    {"machineType": "n2-highcpu-80"},
    {"machineType": "n2d-highcpu-80", "spot": False},
]
DISK_HOUR = Decimal("0.1") * 100 / 730
CLASS = "gridcloud-cpu"


def with_fallback(shapes: list[dict[str, Any]], **more: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["pools"][0]["fallback"] = {"shapes": shapes, **more}

    return edit


@pytest.fixture(scope="module")
def fallback_plan(request: pytest.FixtureRequest) -> Plan:
    make: MakePlan = request.getfixturevalue("make_plan_module")
    return make(with_fallback(SPOT_THEN_ON_DEMAND))


@pytest.fixture(scope="module")
def make_plan_module(catalog: Catalog) -> MakePlan:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile.loader import parse_profile
    from tests.conftest import default_data

    def make(edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
        data = default_data()
        if edit is not None:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
        return planned(parse_profile(text, "test.yaml", catalog, PROFILE_CHECKS), catalog)[0]

    return make


def test_each_shape_is_a_node_pool_holding_the_whole_demand(fallback_plan: Plan) -> None:
    pools = {p.name: p for p in fallback_plan.pools}
    # 100,000 cores: 1,250 n2d-highcpu-80, ceil(100,000 / 112) = 893 c2d-highcpu-112
    expected = {
        "cpu": ("n2d-highcpu-80", True, 1250),
        "cpu-f1": ("c2d-highcpu-112", True, 893),
        "cpu-f2": ("n2-highcpu-80", True, 1250),
        "cpu-f3": ("n2d-highcpu-80", False, 1250),
    }
    for name, (machine, spot, max_nodes) in expected.items():
        pool = pools[name]
        assert (pool.machine_type, pool.spot, pool.max_nodes, pool.min_nodes) == (
            machine,
            spot,
            max_nodes,
            0,
        )
        assert pool.labels["cloud.google.com/compute-class"] == CLASS
        assert ("cloud.google.com/compute-class", CLASS, "NoSchedule", False) in [
            (t.key, t.value, t.effect, t.by_gke) for t in pool.taints
        ]
        assert pool.node_selector == {"cloud.google.com/compute-class": CLASS}
    # the rule pools follow their pool, in the profile's order
    names = [p.name for p in fallback_plan.pools]
    assert names[1:5] == ["cpu", "cpu-f1", "cpu-f2", "cpu-f3"]
    # on demand, the last shape spreads evenly: 1,250 over 3 zones
    assert pools["cpu-f3"].autoscaling is not None
    assert pools["cpu-f3"].autoscaling.location_policy == "BALANCED"


def test_the_compute_class_manifest(fallback_plan: Plan) -> None:
    (compute_class,) = fallback_plan.compute_classes
    assert compute_class.manifest() == {
        "apiVersion": "cloud.google.com/v1",
        "kind": "ComputeClass",
        "metadata": {"name": CLASS},
        "spec": {
            "priorities": [
                {"machineType": "n2d-highcpu-80", "spot": True},
                {"machineType": "c2d-highcpu-112", "spot": True},
                {"machineType": "n2-highcpu-80", "spot": True},
                {"machineType": "n2d-highcpu-80", "spot": False},
            ],
            "whenUnsatisfiable": "DoNothing",
            "nodePoolAutoCreation": {"enabled": False},
            "activeMigration": {"optimizeRulePriority": False},
        },
    }


def test_the_manifest_validates_against_the_computeclass_schema(fallback_plan: Plan) -> None:
    body = fallback_plan.compute_classes[0].manifest()
    rendered = Rendered(
        release=None,
        manifests=(Manifest("gridcloud (plan)", body),),
        crds=compute_class_crd(),
        notes="",
    )
    assert problems([rendered], "1.36") == []
    (crd,) = compute_class_crd()
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    validator = jsonschema.Draft7Validator(schema)
    for broken in (
        {"whenUnsatisfiable": "DoNotScaleUp"},
        {"priorities": [{"machineType": "n2d-highcpu-80", "spotVM": True}]},
        {"priorities": []},
        {"nodePoolAutoCreation": {"enabled": "no"}},
    ):
        bad = {**body, "spec": {**body["spec"], **broken}}
        assert list(validator.iter_errors(bad)), broken


def test_pilots_land_on_every_rule_pool_and_no_other(fallback_plan: Plan) -> None:
    spec = pod_placement(fallback_plan.pool("cpu"))
    landing = {node.pool for node in nodes(fallback_plan) if can_land(spec, node)}
    assert landing == {"cpu", "cpu-f1", "cpu-f2", "cpu-f3"}


def test_the_peak_is_priced_at_the_dearest_rule(
    fallback_plan: Plan, make_plan_module: MakePlan, catalog: Catalog
) -> None:
    plain = estimate(make_plan_module(), catalog)
    priced = estimate(fallback_plan, catalog)
    # n2d on demand is the dearest: 1,250 x $2.49504 against 893 x $1.876 (c2d spot) and
    # 1,250 x $1.64576 (n2 spot); the plain pool's peak was 1,250 x $0.87448 (disks the same)
    assert priced.peak_hourly is not None and plain.peak_hourly is not None
    difference = priced.peak_hourly - plain.peak_hourly
    assert abs(difference - 1250 * (Decimal("2.49504") - Decimal("0.87448"))) < Decimal("1e-18")
    (cls,) = priced.classes
    assert cls.priced_at == "cpu-f3"
    assert cls.elastic_hourly == 1250 * (Decimal("2.49504") + DISK_HOUR)
    # the cores and the NAT's VMs at peak count the demand once: 1 + 1,250 + 16 + 10 + 20 VMs
    assert [i.quantity for i in priced.items] == [i.quantity for i in plain.items]
    assert "1,297 at peak" in priced.items[0].quantity
    assert priced.peak_cores == plain.peak_cores
    assert priced.idle_monthly == plain.idle_monthly


def test_spot_only_fallback_is_priced_at_the_dearest_spot_rule(
    make_plan_module: MakePlan, catalog: Catalog
) -> None:
    plan = make_plan_module(with_fallback(SPOT_THEN_ON_DEMAND[:2]))
    (cls,) = estimate(plan, catalog).classes
    # 893 x ($1.876 + disk) = $1,687.49 against 1,250 x ($1.64576 + disk) = $2,074.32
    assert cls.priced_at == "cpu-f2"
    assert cls.elastic_hourly == 1250 * (Decimal("1.64576") + DISK_HOUR)
    assert cls.peak_cores == 100_000


def test_the_cap_scales_every_rule_pool(fallback_plan: Plan) -> None:
    assert fallback_plan.budget is not None and fallback_plan.budget.cap is not None
    capped = {p.name: p.node_hourly for p in fallback_plan.budget.cap.clusters[0].pools}
    assert {"cpu", "cpu-f1", "cpu-f2", "cpu-f3"} <= set(capped)
    assert capped["cpu-f1"] == Decimal("1.876") + DISK_HOUR


def test_the_plan_warns_that_unbounded_work_could_reach_every_pool(fallback_plan: Plan) -> None:
    # 100,000 + 100,016 + 100,000 + 100,000
    assert any("could reach 400,016 cores" in w for w in fallback_plan.warnings)


@pytest.mark.parametrize(
    ("shapes", "more", "message"),
    [
        (
            [{"machineType": "n2d-highcpu-80", "spot": False}, {"machineType": "n2-highcpu-80"}],
            {},
            "on-demand shapes",
        ),
        ([{"machineType": "c2d-highcpu-112"}], {"whenUnsatisfiable": "ScaleUpAnyway"}, "DoNothing"),
        ([{"machineType": "c2d-highcpu-112"}] * 2, {}, "more than once"),
        ([], {}, "at least 1"),
    ],
)
def test_profile_refuses(
    make_plan_module: MakePlan, shapes: list[dict[str, Any]], more: dict[str, Any], message: str
) -> None:
    from gridcloud.errors import GridcloudError

    with pytest.raises(GridcloudError, match=message):
        make_plan_module(with_fallback(shapes, **more))


def test_plan_refuses_a_gpu_pool_or_an_unknown_shape(make_plan_module: MakePlan) -> None:
    def gpu(data: dict[str, Any]) -> None:
        data["pools"][1]["fallback"] = {"shapes": [{"machineType": "n1-standard-16"}]}

    with pytest.raises(PlanError, match="cpu pools"):
        make_plan_module(gpu)
    with pytest.raises(PlanError, match="not in the catalog"):
        make_plan_module(with_fallback([{"machineType": "n9-imaginary-80"}]))
    with pytest.raises(PlanError, match="repeats its own shape"):
        make_plan_module(with_fallback([{"machineType": "n2d-highcpu-80"}]))


def test_reana_runtime_pool_takes_no_fallback(make_plan_module: MakePlan) -> None:
    def reana(data: dict[str, Any]) -> None:
        data["pools"][2]["fallback"] = {"shapes": [{"machineType": "n2-standard-16"}]}

    with pytest.raises(PlanError, match="REANA"):
        make_plan_module(reana)


def test_render_writes_the_class_and_it_validates(make_plan_module: MakePlan) -> None:
    from gridcloud.render.manifests import render_plan
    from gridcloud.render.validate import cluster_version
    from tests.conftest import services_off

    def edit(data: dict[str, Any]) -> None:
        services_off(data)
        with_fallback(SPOT_THEN_ON_DEMAND)(data)

    plan = make_plan_module(edit)
    rendered = render_plan(plan, None)  # no release: no chart to render
    classes = [m for r in rendered for m in r.manifests if m.kind == "ComputeClass"]
    assert [m.body for m in classes] == [plan.compute_classes[0].manifest()]
    assert problems(rendered, cluster_version(plan)) == []


def test_an_existing_cluster_takes_no_fallback(catalog: Catalog) -> None:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile.loader import parse_profile
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["pools"][0]["fallback"] = {"shapes": [{"machineType": "n2-highcpu-80"}]}
    profile = parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog, PROFILE_CHECKS)
    with pytest.raises(PlanError, match="a kubernetes target's nodes exist already"):
        planned(profile, catalog)
