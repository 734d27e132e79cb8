"""Plain ``pulumi up`` runs stacks/__main__.py: the same build, from the stack config."""

from __future__ import annotations

import runpy
from typing import Any

import pulumi
import pytest
import yaml

from gridcloud.errors import BudgetError
from tests.conftest import ROOT
from tests.program.mocks import RecordingMocks

ENTRY = ROOT / "stacks" / "__main__.py"


def run_entry(config: dict[str, str]) -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="gridcloud", stack="atlas-gcp", preview=False)
    pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test  # type: ignore[misc]
    def run() -> None:
        runpy.run_path(str(ENTRY), run_name="__main__")

    try:
        run()
    finally:
        pulumi.runtime.set_all_config({})
    return mocks


def example_config() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "stacks" / "Pulumi.atlas-gcp.yaml").read_text())
    return {k: str(v) for k, v in data["config"].items()}


def test_example_stack_config_renders_the_default_facility() -> None:
    mocks = run_entry(example_config())
    pools = [r.inputs["name"] for r in mocks.resources if r.type.endswith("nodePool:NodePool")]
    assert pools == ["control", "cpu", "gpu", "ondemand", "arm"]
    cluster = next(r for r in mocks.resources if r.type == "gcp:container/cluster:Cluster")
    assert cluster.inputs["name"] == "atlas-gcp"


def test_entry_applies_the_budget_gate(tmp_path: Any) -> None:
    text = (ROOT / "profiles" / "default.yaml").read_text().replace("monthly: 25000", "monthly: 10")
    profile = tmp_path / "poor.yaml"
    profile.write_text(text)
    with pytest.raises(BudgetError):
        run_entry({"gridcloud:profile": str(profile)})
    mocks = run_entry({"gridcloud:profile": str(profile), "gridcloud:allowOverBudget": "true"})
    assert any(r.type == "gcp:container/cluster:Cluster" for r in mocks.resources)
