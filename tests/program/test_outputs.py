"""The program's stack outputs, read back by the engine: what ``build`` exports is what the
engine finds (gridcloud/plan/outputs.py declares both sides)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcloud.analysis import analyse
from gridcloud.engine import cap, leftovers
from gridcloud.engine.stacks import StackState
from gridcloud.plan.outputs import StackOutputs
from tests.conftest import PROFILES
from tests.program.mocks import render


def test_the_engine_reads_what_the_program_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = analyse(PROFILES / "default.yaml").plan
    assert plan.cluster is not None and plan.network is not None
    assert plan.target.provider == "gcp"
    rendered = render(plan)
    # every output is declared, and those declared secret are exported as secrets
    assert set(rendered.outputs) <= set(StackOutputs.keys())
    assert rendered.secret_outputs == StackOutputs.secret_keys()
    state = StackState(rendered.outputs, [{"type": "gcp:container/cluster:Cluster"}])
    # the ranges and max pods a second up keeps are the Plan's
    deployed = state.deployed()
    assert deployed is not None
    assert (deployed.pod_range, deployed.service_range, deployed.subnet_range) == (
        plan.network.pod_range,
        plan.network.service_range,
        plan.network.subnet_range,
    )
    assert deployed.max_pods_per_node == plan.network.max_pods_per_node
    # destroy's hint and the leftover listing name the Plan's cluster, project and namespaces
    assert state.facts.cluster_location == plan.cluster.location
    facility = leftovers.LeftoverScope.from_outputs(rendered.outputs)
    assert facility is not None
    assert (facility.project, facility.region, facility.cluster) == (
        plan.target.project,
        plan.target.region,
        plan.cluster.name,
    )
    assert facility.namespaces == plan.services.namespaces
    # status asks GKE about the cluster the cap acts on
    asked: list[str] = []
    monkeypatch.setattr(cap, "read_cap", lambda cluster: asked.append(cluster.path))
    assert cap.status(rendered.outputs) == {"inForce": False, "period": None, "error": None}
    capped = cap.of_plan(plan)
    assert capped is not None
    assert asked == [capped.path]


def test_an_existing_cluster_stack_names_its_kubeconfig(onprem_kubeconfig: Path) -> None:
    plan = analyse(PROFILES / "onprem.yaml").plan
    assert plan.target.provider == "kubernetes"
    rendered = render(plan)
    assert set(rendered.outputs) <= set(StackOutputs.keys())
    facts = StackOutputs.read(rendered.outputs)
    assert (facts.target, facts.kubeconfig_path, facts.context) == (
        "kubernetes",
        plan.target.kubeconfig,
        plan.target.context,
    )
    assert leftovers.LeftoverScope.from_outputs(rendered.outputs) is None  # nothing billed to find


def test_an_undeclared_output_is_refused() -> None:
    with pytest.raises(KeyError, match="clusterZone"):
        StackOutputs.written({"clusterZone": "us-central1-a"})
    assert StackOutputs.written({"cluster_location": "x", "clusterName": "y", "budget": None}) == {
        "clusterLocation": "x",
        "clusterName": "y",
    }
