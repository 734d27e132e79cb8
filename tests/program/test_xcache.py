"""XCache as the program declares it (Pulumi's mocks): its node pool with local SSDs for the
nodes' ephemeral storage, and the cache's ConfigMap, Deployment and Service."""

from __future__ import annotations

from typing import Any

import pytest

from gridcloud.plan import Plan
from tests.program.mocks import Rendered, render

NODE_POOL = "gcp:container/nodePool:NodePool"


@pytest.fixture(scope="module")
def rendered() -> tuple[Plan, Rendered]:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.policy import PROFILE_CHECKS
    from gridcloud.profile.loader import parse_profile
    from tests.conftest import default_data

    data: dict[str, Any] = default_data()
    data["data"]["xcache"] = {"enabled": True, "localSsdCount": 4}
    catalog = load_catalog()
    text = yaml.safe_dump(data, sort_keys=False)
    plan = planned(parse_profile(text, "t.yaml", catalog, PROFILE_CHECKS), catalog)[0]
    return plan, render(plan)


def test_the_cache_pool_has_its_local_ssds_as_ephemeral_storage(
    rendered: tuple[Plan, Rendered],
) -> None:
    _, out = rendered
    pool = out.one(NODE_POOL, "xcache-pool").inputs
    config = pool["nodeConfig"]
    assert config["machineType"] == "n2d-standard-8"
    assert config["spot"] is False
    assert config["ephemeralStorageLocalSsdConfig"] == {"localSsdCount": 4}
    assert pool["autoscaling"]["totalMinNodeCount"] == 1
    assert pool["nodeLocations"] == ["us-central1-a"]
    assert {"key": "gridcloud.io/xcache", "value": "true", "effect": "NO_SCHEDULE"} in config[
        "taints"
    ]
    # no other pool has local SSDs
    others = [
        r.name
        for r in out.of_type(NODE_POOL)
        if r.name != "xcache-pool" and "ephemeralStorageLocalSsdConfig" in r.inputs["nodeConfig"]
    ]
    assert others == []


def test_the_cache_objects_are_declared(rendered: tuple[Plan, Rendered]) -> None:
    _, out = rendered
    deployment = out.one("kubernetes:apps/v1:Deployment", "services-deployment-xcache-xcache")
    assert deployment.inputs["metadata"]["namespace"] == "xcache"
    service = out.one("kubernetes:core/v1:Service", "services-service-xcache-xcache")
    assert service.inputs["spec"]["ports"][0]["port"] == 1094
    config = out.one("kubernetes:core/v1:ConfigMap", "services-configmap-xcache-xcache")
    assert "pss.cachelib libXrdPfc.so" in config.inputs["data"]["xcache.cfg"]
    namespaces = [r.inputs["metadata"]["name"] for r in out.of_type("kubernetes:core/v1:Namespace")]
    assert "xcache" in namespaces
