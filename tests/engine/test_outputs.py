"""The engine reads a stack an earlier gridcloud wrote: its outputs, recorded as
``pulumi stack output --json --show-secrets`` prints them for the default facility after a
first ``up`` (tests/engine/recorded/atlas-gcp.outputs.json). An output key renamed in
gridcloud/plan/outputs.py makes every deployed stack unreadable: this test says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridcloud.engine import cap, leftovers
from gridcloud.engine.stacks import StackState
from gridcloud.errors import EngineError
from gridcloud.plan.model import Deployed
from gridcloud.plan.outputs import StackOutputs

RECORDED = Path(__file__).with_name("recorded") / "atlas-gcp.outputs.json"


def recorded() -> dict[str, object]:
    data = json.loads(RECORDED.read_text())
    assert isinstance(data, dict)
    return data


def test_every_output_of_an_earlier_stack_is_still_read() -> None:
    outputs = recorded()
    facts = StackOutputs.read(outputs)
    # each key the earlier stack holds is one this gridcloud declares, read as what it was
    assert set(outputs) <= set(StackOutputs.keys())
    assert facts.exported() == outputs
    assert facts.cluster_location == "us-central1-a"
    assert facts.cluster_name == "atlas-gcp"
    assert facts.enforcer_function == "atlas-gcp-budget-cap"
    assert facts.network == Deployed(
        max_pods_per_node=110,
        subnet_range="10.8.16.0/21",
        pod_range="10.0.0.0/13",
        service_range="10.8.0.0/20",
    )
    assert StackOutputs.secret_keys() == {"kubeconfig", "gridSiteKubeconfig", "reanaAdminToken"}


def test_the_engine_works_from_an_earlier_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = recorded()
    state = StackState(outputs, [{"type": "gcp:container/cluster:Cluster"}])
    assert state.on_gcp
    assert state.deployed() == Deployed(
        max_pods_per_node=110,
        subnet_range="10.8.16.0/21",
        pod_range="10.0.0.0/13",
        service_range="10.8.0.0/20",
    )
    # the leftover listing after a destroy looks in the stack's project, region, namespaces
    assert leftovers.LeftoverScope.from_outputs(outputs) == leftovers.LeftoverScope(
        project="atlas-analysis-facility",
        region="us-central1",
        name="atlas-gcp",
        cluster="atlas-gcp",
        label=("gridcloud-facility", "atlas-gcp"),
        namespaces=("cvmfs", "grid", "jupyter", "reana"),
        network="atlas-gcp-vpc",  # where GKE Ingress's NEGs are: the Plan's name for the VPC
    )
    # status reads the cap from the stack's cluster
    asked: list[str] = []
    monkeypatch.setattr(cap, "read_cap", lambda cluster: asked.append(cluster.path) or "2026-11")
    assert cap.status(outputs) == {"inForce": True, "period": "2026-11", "error": None}
    assert asked == ["projects/atlas-analysis-facility/locations/us-central1-a/clusters/atlas-gcp"]


def test_a_stack_without_outputs_is_read_as_one() -> None:
    """A first ``up`` that failed leaves a stack with no outputs: destroy still works on it."""
    state = StackState({}, [])
    assert state.deployed() is None
    assert leftovers.LeftoverScope.from_outputs({}) is None
    assert cap.status({}) is None


def test_an_output_not_of_its_type_is_an_engine_error() -> None:
    outputs = {**recorded(), "network": {"maxPodsPerNode": "many"}}
    with pytest.raises(EngineError, match="network"):
        StackState(outputs, []).deployed()


def test_keys_of_a_newer_gridcloud_are_left_alone() -> None:
    facts = StackOutputs.read({**recorded(), "somethingNew": 1})
    assert facts.facility == "atlas-gcp"
