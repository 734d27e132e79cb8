"""Helm values checked against their chart's schema once: a digest of values that passed is
kept in gridcloud's cache, so an unchanged profile is not validated again (the validator is
most of what `plan` costs, and where Jupyter is installed importing it takes a second)."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import pytest

from gridcloud.catalog.charts import CHARTS, validate_values


def test_values_that_passed_their_schema_are_not_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path))
    hub = CHARTS["jupyterhub"]
    good = {"hub": {"nodeSelector": {"role": "control"}}}
    assert validate_values(hub, good) == []
    assert len(list((tmp_path / "valid-values").iterdir())) == 1
    # the same values again: answered from the digest, without the validator
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    assert validate_values(hub, good) == []
    # other values are validated: here the validator is gone, so validating fails loudly
    with pytest.raises(ImportError):
        validate_values(hub, {"hub": {"nodeSelector": {"role": "other"}}})
    monkeypatch.setitem(sys.modules, "jsonschema", jsonschema)
    # values that fail are never remembered as passing
    assert validate_values(hub, {"hub": {"nodeSelectr": {}}})
    assert len(list((tmp_path / "valid-values").iterdir())) == 1


def test_a_second_plan_of_the_same_profile_skips_the_schema_validator(tmp_path: Path) -> None:

    from tests.conftest import fresh_runs

    script = (
        "import sys\n"
        "from gridcloud.analysis import analyse, resolve_profile\n"
        "analyse(resolve_profile('profiles/default.yaml'))\n"
        "print('jsonschema' in sys.modules)\n"
    )
    runs = [out.strip() for out in fresh_runs(script, tmp_path)]
    assert runs == ["True", "False"]
