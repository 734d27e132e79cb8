"""The Pulumi program under Pulumi's mocks: every resource and the properties that matter."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from gridcloud.plan import Plan
from tests.conftest import PROFILES, SHIPPED
from tests.program.mocks import Rendered, is_secret, render, reveal

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
GCP_PROFILES = [p for p in SHIPPED if p.stem != "onprem"]


def plan_of(path: Path) -> Plan:
    return analyse(path).plan


@pytest.fixture(scope="module")
def default() -> tuple[Plan, Rendered]:
    plan = plan_of(PROFILES / "default.yaml")
    return plan, render(plan)


@pytest.mark.parametrize("path", GCP_PROFILES, ids=lambda p: p.stem)
def test_every_gcp_profile_renders_one_pool_per_plan_pool(path: Path) -> None:
    plan = plan_of(path)
    rendered = render(plan)
    pools = {r.inputs["name"]: r.inputs for r in rendered.of_type(NODE_POOL)}
    assert set(pools) == {p.name for p in plan.pools}
    for pool in plan.elastic_pools:
        inputs = pools[pool.name]
        assert inputs["autoscaling"]["totalMinNodeCount"] == pool.min_nodes
        assert inputs["autoscaling"]["totalMaxNodeCount"] == pool.max_nodes
        assert inputs["nodeConfig"]["spot"] is pool.spot
        assert inputs["nodeLocations"] == list(pool.zones)
    assert rendered.outputs["planFingerprint"] == plan.fingerprint
    assert "kubeconfig" in rendered.secret_outputs


def test_network_subnet_ranges_and_nat(default: tuple[Plan, Rendered]) -> None:
    plan, rendered = default
    assert plan.network is not None
    vpc = rendered.one("gcp:compute/network:Network")
    assert vpc.inputs["autoCreateSubnetworks"] is False
    subnet = rendered.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert subnet["ipCidrRange"] == plan.network.subnet_range
    assert subnet["privateIpGoogleAccess"] is True
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]}
    assert ranges == {"pods": plan.network.pod_range, "services": plan.network.service_range}
    nat = rendered.one("gcp:compute/routerNat:RouterNat").inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert nat["router"] == rendered.one("gcp:compute/router:Router").inputs["name"]
    # 80-core spot nodes: 80 x 64 ports = 5,120, rounded up to a power of two
    assert nat["enableDynamicPortAllocation"] is True
    assert nat["minPortsPerVm"] == 64
    assert nat["maxPortsPerVm"] == 8192
    assert nat["enableEndpointIndependentMapping"] is False


def test_small_nodes_get_a_small_nat_ceiling(make_plan: Callable[..., Plan]) -> None:
    def edit(data: dict[str, Any]) -> None:
        cpu = data["pools"][0]
        cpu["machineType"], cpu["maxCores"] = "e2-standard-4", 4_000

    nat = render(make_plan(edit)).one("gcp:compute/routerNat:RouterNat").inputs
    # the largest node left is the Arm pool's t2a-standard-48: 48 x 64 = 3,072 -> 4,096
    assert nat["maxPortsPerVm"] == 4096


def test_cluster_properties(default: tuple[Plan, Rendered]) -> None:
    _plan, rendered = default
    cluster = rendered.one(CLUSTER).inputs
    assert cluster["location"] == "us-central1-a"  # zonal, as the Plan decided
    assert cluster["nodeLocations"] == ["us-central1-b", "us-central1-c"]
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"
    assert (
        cluster["workloadIdentityConfig"]["workloadPool"] == "atlas-analysis-facility.svc.id.goog"
    )
    assert cluster["enableShieldedNodes"] is True
    # only the profile's ranges reach the control plane, not even Google Cloud's own
    assert cluster["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [
            {"cidrBlock": "128.141.0.0/16", "displayName": "cern-128-141"},
            {"cidrBlock": "128.142.0.0/16", "displayName": "cern-128-142"},
            {"cidrBlock": "137.138.0.0/16", "displayName": "cern-137-138"},
            {"cidrBlock": "188.184.0.0/15", "displayName": "cern-188-184"},
        ],
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert cluster["costManagementConfig"] == {"enabled": True}
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["deletionProtection"] is True
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert cluster["resourceLabels"]["gridcloud-facility"] == "atlas-gcp"
    assert cluster["defaultMaxPodsPerNode"] == 110


def test_regional_cluster_lists_every_zone(make_plan: Callable[..., Plan]) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    cluster = render(make_plan(edit)).one(CLUSTER).inputs
    assert cluster["location"] == "us-central1"
    assert cluster["nodeLocations"] == ["us-central1-a", "us-central1-b", "us-central1-c"]


def test_nodes_use_their_own_least_privilege_account(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    account = rendered.one("gcp:serviceaccount/account:Account", "node-identity-account").inputs
    email = f"{account['accountId']}@project.iam.gserviceaccount.com"
    nodes = [
        r
        for r in rendered.of_type("gcp:projects/iAMMember:IAMMember")
        if r.name.startswith("node-identity")
    ]
    roles = {r.inputs["role"] for r in nodes}
    # GKE's least-privilege node role, nothing else (the images are public)
    assert roles == {"roles/container.defaultNodeServiceAccount"}
    assert all(r.inputs["member"] == f"serviceAccount:{email}" for r in nodes)
    configs = [rendered.one(CLUSTER).inputs["nodeConfig"]] + [
        p.inputs["nodeConfig"] for p in rendered.of_type(NODE_POOL)
    ]
    for config in configs:
        assert config["serviceAccount"] == email
        assert "compute@developer" not in config["serviceAccount"]


def test_control_pool_is_one_on_demand_node(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    control = next(p.inputs for p in rendered.of_type(NODE_POOL) if p.inputs["name"] == "control")
    assert control["nodeCount"] == 1
    assert "autoscaling" not in control
    assert control["nodeConfig"]["spot"] is False
    assert control["nodeConfig"]["machineType"] == "e2-standard-2"
    assert control["nodeConfig"].get("taints", []) == []
    assert control["nodeLocations"] == ["us-central1-a"]


def test_spot_pool_taints_labels_and_location_policy(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    cpu = next(p.inputs for p in rendered.of_type(NODE_POOL) if p.inputs["name"] == "cpu")
    assert cpu["autoscaling"] == {
        "totalMinNodeCount": 0,
        "totalMaxNodeCount": 1250,
        "locationPolicy": "ANY",
    }
    config = cpu["nodeConfig"]
    assert config["machineType"] == "n2d-highcpu-80"
    assert {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NO_SCHEDULE"} in (
        config["taints"]
    )
    assert config["labels"]["gridcloud.io/pool"] == "cpu"
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert config["shieldedInstanceConfig"]["enableSecureBoot"] is True
    assert cpu["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert cpu["upgradeSettings"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_gpu_pool_accelerators_with_managed_drivers(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    gpu = next(p.inputs for p in rendered.of_type(NODE_POOL) if p.inputs["name"] == "gpu")
    assert gpu["nodeConfig"]["guestAccelerators"] == [
        {
            "type": "nvidia-tesla-t4",
            "count": 1,
            "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
        }
    ]
    taints = {(t["key"], t["effect"]) for t in gpu["nodeConfig"]["taints"]}
    assert ("nvidia.com/gpu", "NO_SCHEDULE") in taints


def test_arm_pool(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    arm = next(p.inputs for p in rendered.of_type(NODE_POOL) if p.inputs["name"] == "arm")
    assert arm["nodeConfig"]["machineType"] == "t2a-standard-48"
    # GKE taints Arm nodes kubernetes.io/arch=arm64:NoSchedule itself: not declared again
    assert "kubernetes.io/arch" not in {t["key"] for t in arm["nodeConfig"]["taints"]}
    assert {"key": "gridcloud.io/elastic", "value": "true", "effect": "NO_SCHEDULE"} in (
        arm["nodeConfig"]["taints"]
    )
    assert arm["nodeLocations"] == ["us-central1-a", "us-central1-b"]


def test_bundled_gpu_is_declared_for_driver_installation() -> None:
    rendered = render(plan_of(PROFILES / "small.yaml"))
    gpu = next(p.inputs for p in rendered.of_type(NODE_POOL) if p.inputs["name"] == "gpu")
    assert gpu["nodeConfig"]["machineType"] == "g2-standard-4"
    assert gpu["nodeConfig"]["guestAccelerators"][0]["type"] == "nvidia-l4"


def test_kubeconfig_uses_the_gke_auth_plugin(default: tuple[Plan, Rendered]) -> None:
    _, rendered = default
    kubeconfig = json.loads(rendered.outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://203.0.113.10"
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    provider = rendered.one("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])
    assert json.loads(reveal(provider.inputs["kubeconfig"])) == kubeconfig


def test_on_prem_profile_creates_no_cloud_resources(onprem_kubeconfig: Path) -> None:
    rendered = render(plan_of(PROFILES / "onprem.yaml"))
    assert [r for r in rendered.resources if r.type.startswith("gcp:")] == []
    provider = rendered.one("pulumi:providers:kubernetes").inputs
    assert provider["context"] == "campus-af"
    assert provider["kubeconfig"] == str(onprem_kubeconfig)
    assert rendered.outputs["context"] == "campus-af"
