"""``gridcloud up`` and plain ``pulumi up`` (stacks/__main__.py) deploy through one use case
(gridcloud/deploy.py): the same profile is refused by both, for the same reason, before any
resource is declared or any update starts.

``gridcloud up`` runs against the stand-in Pulumi CLI (tests/engine/fake_pulumi.py); the plain
entry under Pulumi's mocks, as the Pulumi CLI would run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from gridcloud.engine import cap
from gridcloud.errors import BudgetError, ExitCode, PolicyError
from tests.conftest import PROFILES
from tests.engine.conftest import FakePulumi
from tests.program.test_stack_entry import run_entry


def gridcloud_up(profile: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(create_cli(), ["up", str(profile), "--yes", "--json", *flags])
    return result.exit_code, result.stderr


def updates(fake: FakePulumi) -> list[list[str]]:
    return [c for c in fake.calls() if {"up", "preview"} & set(c)]


@pytest.fixture
def over_budget(tmp_path: Path) -> Path:
    """The default facility with a budget of $10 a month: its idle cost alone is more."""
    text = (PROFILES / "default.yaml").read_text()
    assert "monthly: 25000" in text
    profile = tmp_path / "poor.yaml"
    profile.write_text(text.replace("monthly: 25000", "monthly: 10"))
    return profile


@pytest.mark.usefixtures("credentials")
def test_both_refuse_an_over_budget_profile(fake_pulumi: FakePulumi, over_budget: Path) -> None:
    code, err = gridcloud_up(over_budget)
    assert code == ExitCode.OVER_BUDGET
    assert "over" in err.lower()
    assert updates(fake_pulumi) == []
    with pytest.raises(BudgetError) as refused:
        run_entry({"gridcloud:profile": str(over_budget)})
    assert refused.value.exit_code == ExitCode.OVER_BUDGET
    # both let it through when told to
    assert gridcloud_up(over_budget, "--allow-over-budget")[0] == 0
    run_entry({"gridcloud:profile": str(over_budget), "gridcloud:allowOverBudget": "true"})


@pytest.mark.usefixtures("credentials")
def test_both_refuse_a_policy_warning_under_strict(fake_pulumi: FakePulumi) -> None:
    """The small profile's GPU notebooks run on a spot pool, and it waives nothing."""
    small = PROFILES / "small.yaml"
    code, err = gridcloud_up(small, "--strict")
    assert code == ExitCode.POLICY
    assert "interactive-on-spot" in err
    assert updates(fake_pulumi) == []
    with pytest.raises(PolicyError, match="interactive-on-spot") as refused:
        run_entry({"gridcloud:profile": str(small), "gridcloud:strict": "true"})
    assert refused.value.exit_code == ExitCode.POLICY


@pytest.mark.usefixtures("credentials")
def test_both_refuse_while_the_cap_is_in_force(
    fake_pulumi: FakePulumi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cap, "read_cap", lambda _cluster: "2026-11")
    default = PROFILES / "default.yaml"
    code, err = gridcloud_up(default)
    assert code == ExitCode.OVER_BUDGET
    assert "cap is in force for 2026-11" in err
    assert updates(fake_pulumi) == []
    with pytest.raises(BudgetError, match="cap is in force for 2026-11"):
        run_entry({"gridcloud:profile": str(default)})
