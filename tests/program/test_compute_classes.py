"""The program applies the Plan's ComputeClass as the Plan writes it, and declares the class's
label and taint on every node pool of its rules."""

from __future__ import annotations

from pathlib import Path

import yaml

from gridcloud.analysis import analyse
from tests.conftest import default_data
from tests.program.mocks import render

NODE_POOL = "gcp:container/nodePool:NodePool"
CUSTOM = "kubernetes:cloud.google.com/v1:ComputeClass"


def test_compute_class_and_its_pools(tmp_path: Path) -> None:
    data = default_data()
    data["pools"][0]["fallback"] = {
        "shapes": [{"machineType": "c2d-highcpu-112"}, {"machineType": "n2-highcpu-80"}]
    }
    path = tmp_path / "fallback.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    plan = analyse(path).plan
    rendered = render(plan)
    (declared,) = rendered.of_type(CUSTOM)
    assert declared.inputs["metadata"] == {"name": "gridcloud-cpu"}
    assert declared.inputs["spec"] == {
        "priorities": [
            {"machineType": "n2d-highcpu-80", "spot": True},
            {"machineType": "c2d-highcpu-112", "spot": True},
            {"machineType": "n2-highcpu-80", "spot": True},
        ],
        "whenUnsatisfiable": "DoNothing",
        "nodePoolAutoCreation": {"enabled": False},
        "activeMigration": {"optimizeRulePriority": False},
    }
    pools = {r.inputs["name"]: r.inputs for r in rendered.of_type(NODE_POOL)}
    for name, machine in (
        ("cpu", "n2d-highcpu-80"),
        ("cpu-f1", "c2d-highcpu-112"),
        ("cpu-f2", "n2-highcpu-80"),
    ):
        config = pools[name]["nodeConfig"]
        assert config["machineType"] == machine
        assert config["labels"]["cloud.google.com/compute-class"] == "gridcloud-cpu"
        assert {
            "key": "cloud.google.com/compute-class",
            "value": "gridcloud-cpu",
            "effect": "NO_SCHEDULE",
        } in config["taints"]
    # c2d-highcpu-112: ceil(100,000 / 112) = 893 nodes, from zero
    assert pools["cpu-f1"]["autoscaling"]["totalMaxNodeCount"] == 893
    assert pools["cpu-f1"]["autoscaling"]["totalMinNodeCount"] == 0
