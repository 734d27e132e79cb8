"""Plain ``pulumi up`` runs stacks/__main__.py: the same deploy use case and build as
``gridcloud up``, from the stack config (tests/engine/test_entry_points.py runs both on the same
profiles)."""

from __future__ import annotations

import asyncio
import runpy
from typing import Any

import pulumi
import pytest
import yaml

from gridcloud.engine import cap
from gridcloud.errors import BudgetError, InputError, PolicyError
from tests.conftest import ROOT
from tests.program.mocks import RecordingMocks

ENTRY = ROOT / "stacks" / "__main__.py"


@pytest.fixture(autouse=True)
def cap_in_force(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """What the cluster's cap label says (no GKE here): no cap, unless a test plants one."""
    period: list[str | None] = [None]
    monkeypatch.setattr(cap, "read_cap", lambda _cluster: period[0])
    return period


def run_entry(config: dict[str, str]) -> RecordingMocks:
    # Pulumi's mocks run on the thread's event loop; a test that ran asyncio.run before
    # leaves none (tests/engine/test_entry_points.py runs this after other suites' tests)
    try:
        usable = not asyncio.get_event_loop().is_closed()
    except RuntimeError:
        usable = False
    if not usable:
        asyncio.set_event_loop(asyncio.new_event_loop())
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


def test_entry_applies_the_policy_with_strict() -> None:
    """The small profile's GPU notebooks run on a spot pool and it waives nothing."""
    profile = str(ROOT / "profiles" / "small.yaml")
    with pytest.raises(PolicyError, match="interactive-on-spot"):
        run_entry({"gridcloud:profile": profile, "gridcloud:strict": "true"})
    mocks = run_entry({"gridcloud:profile": profile})
    assert any(r.type == "gcp:container/cluster:Cluster" for r in mocks.resources)


def test_entry_refuses_while_the_cap_is_in_force(cap_in_force: list[str | None]) -> None:
    cap_in_force[0] = "2026-11"
    with pytest.raises(BudgetError, match="cap is in force for 2026-11"):
        run_entry(example_config())


def test_entry_checks_the_variables_the_profile_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDCLOUD_OIDC_CLIENT_SECRET")
    with pytest.raises(InputError, match="GRIDCLOUD_OIDC_CLIENT_SECRET"):
        run_entry(example_config())
