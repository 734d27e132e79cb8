"""``gridcloud upgrade``: the step mechanism, proved with a hypothetical older schema
written by hand (``v1alpha0``, where a pool's ``type`` was today's ``machineType`` and the
control node's size was ``controlNode.size``), and the rule that every real step ships with
its own before/after profiles in ``tests/unit/upgrades/<source version>/``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from gridcloud.errors import InputError
from gridcloud.profile import upgrade as upgrades
from gridcloud.profile.models import API_VERSION
from gridcloud.profile.upgrade import STEPS, Step, path_from, upgrade

UPGRADES = Path(__file__).with_name("upgrades")

OLD = """\
# a profile as a user of the hypothetical v1alpha0 wrote it
apiVersion: gridcloud.dev/v1alpha0
name: tryout
target: {provider: gcp, project: my-gridcloud-tryout, region: europe-west4, zones: [europe-west4-a]}
controlNode: {size: e2-standard-4}
pools:
  - {name: cpu, kind: cpu, type: n2d-highcpu-80, maxCores: 160}
services: {jupyter: {enabled: false}, reana: {enabled: false}, gridSite: {enabled: false}}
"""


def _rename_pool_type(document: dict[str, object]) -> list[str]:
    changes = []
    for pool in document.get("pools", []):  # type: ignore[attr-defined]
        if "type" in pool:
            pool["machineType"] = pool.pop("type")
            changes.append(f"pools[{pool['name']}]: type is now machineType")
    return changes


def _rename_control_size(document: dict[str, object]) -> list[str]:
    control = document["controlNode"]
    control["machineType"] = control.pop("size")  # type: ignore[index,attr-defined]
    return ["controlNode: size is now machineType"]


HYPOTHETICAL = (
    Step("gridcloud.dev/v1alpha0", "gridcloud.dev/v1alpha0b", "pools", _rename_pool_type),
    Step("gridcloud.dev/v1alpha0b", API_VERSION, "control node", _rename_control_size),
)


def test_every_real_step_has_its_profiles_and_reaches_a_valid_profile() -> None:
    """Vacuous until the first schema change; then a step without its two profiles, or one
    whose output differs from the hand-written ``after.yaml``, fails here."""
    from gridcloud.profile.loader import parse_profile

    for step in STEPS:
        folder = UPGRADES / step.source.partition("/")[2]
        before = yaml.safe_load((folder / "before.yaml").read_text(encoding="utf-8"))
        after = yaml.safe_load((folder / "after.yaml").read_text(encoding="utf-8"))
        single, _ = upgrade(before, (step,))
        assert single == after, step.source
        if step.target == API_VERSION:
            parse_profile((folder / "after.yaml").read_text(encoding="utf-8"), "after.yaml")


def test_steps_chain_in_order_and_say_what_they_changed() -> None:
    document = yaml.safe_load(OLD)
    upgraded, notes = upgrade(document, HYPOTHETICAL)
    assert upgraded["apiVersion"] == API_VERSION
    assert upgraded["pools"][0]["machineType"] == "n2d-highcpu-80"
    assert upgraded["controlNode"] == {"machineType": "e2-standard-4"}
    assert document["controlNode"] == {"size": "e2-standard-4"}  # the input is untouched
    assert notes == [
        "gridcloud.dev/v1alpha0 -> gridcloud.dev/v1alpha0b: pools",
        "  pools[cpu]: type is now machineType",
        f"gridcloud.dev/v1alpha0b -> {API_VERSION}: control node",
        "  controlNode: size is now machineType",
    ]


def test_a_gap_in_the_chain_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no upgrade leads from apiVersion gridcloud.dev/v0"):
        path_from("gridcloud.dev/v0", HYPOTHETICAL)
    with pytest.raises(InputError):  # the second step alone does not start at v1alpha0
        path_from("gridcloud.dev/v1alpha0", HYPOTHETICAL[1:])
    assert path_from(API_VERSION, HYPOTHETICAL) == []


def test_the_command_prints_then_writes_and_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upgrades, "STEPS", HYPOTHETICAL)
    profile = tmp_path / "tryout.yaml"
    profile.write_text(OLD, encoding="utf-8")
    runner = CliRunner()

    shown = runner.invoke(create_cli(), ["upgrade", str(profile)])
    assert shown.exit_code == 0, shown.output
    assert yaml.safe_load(shown.stdout)["controlNode"] == {"machineType": "e2-standard-4"}
    assert "controlNode: size is now machineType" in shown.stderr
    assert profile.read_text(encoding="utf-8") == OLD  # nothing written without --write

    written = runner.invoke(create_cli(), ["upgrade", str(profile), "--write"])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "tryout.yaml.orig").read_text(encoding="utf-8") == OLD
    # the written profile is what validate reads
    valid = runner.invoke(create_cli(), ["validate", str(profile)])
    assert valid.exit_code == 0, valid.output

    again = runner.invoke(create_cli(), ["upgrade", str(profile)])
    assert again.exit_code == 0
    assert "already apiVersion" in again.stderr

    # the validate command now names the upgrade for such a profile
    old = tmp_path / "old.yaml"
    old.write_text(OLD, encoding="utf-8")
    refused = runner.invoke(create_cli(), ["validate", str(old)])
    assert refused.exit_code == 2
    assert "gridcloud upgrade PROFILE --write" in refused.stderr


def test_an_upgrade_whose_result_is_invalid_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = (Step("gridcloud.dev/v1alpha0", API_VERSION, "forgets the rename", lambda _: []),)
    monkeypatch.setattr(upgrades, "STEPS", broken)
    profile = tmp_path / "tryout.yaml"
    profile.write_text(OLD, encoding="utf-8")
    result = CliRunner().invoke(create_cli(), ["upgrade", str(profile), "--write"])
    assert result.exit_code == 2
    assert "upgraded" in result.stderr  # the error names the upgraded profile
    assert profile.read_text(encoding="utf-8") == OLD
    assert not (tmp_path / "tryout.yaml.orig").exists()
