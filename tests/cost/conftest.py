"""Plans for the cost tests: the default profile changed by an edit, planned as `analyse`
plans it (module-scoped, so a test module builds its plans once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from gridcloud.analysis import planned
from gridcloud.catalog import Catalog
from gridcloud.plan import Plan
from gridcloud.policy import PROFILE_CHECKS
from gridcloud.profile.loader import parse_profile
from tests.conftest import default_data
from tests.unit.test_regions import Source

MakePlan = Callable[..., Plan]


@pytest.fixture(scope="module")
def make_plan_module(catalog: Catalog) -> MakePlan:
    def make(edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
        data = default_data()
        if edit is not None:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
        return planned(parse_profile(text, "test.yaml", catalog, PROFILE_CHECKS), catalog)[0]

    return make


@pytest.fixture(scope="module")
def source() -> Source:
    """The regional source files, read as a person looks figures up in them."""
    return Source()
