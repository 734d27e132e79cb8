"""Rendering with Helm's own engine from the charts' published sources in ../shared/charts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.plan import Plan, expand
from gridcloud.profile import parse_profile
from gridcloud.render import Rendered, render_plan
from tests.charts import charts_dir
from tests.conftest import SHIPPED, default_data, require

require("helm_python")

Variant = Callable[[dict[str, Any]], None]


def _regional(data: dict[str, Any]) -> None:
    data["cluster"]["availability"] = "regional"


def _europe(data: dict[str, Any]) -> None:
    data["target"]["region"] = "europe-west4"
    data["target"]["zones"] = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
    for pool in data["pools"]:
        pool.pop("zones", None)


#: Off the default profile: a regional cluster and another region.
VARIANTS: dict[str, Variant] = {"regional": _regional, "europe-west4": _europe}


def charts() -> Path:
    return charts_dir()


@pytest.fixture(scope="session")
def plans(catalog: Catalog) -> dict[str, Plan]:
    """Every shipped profile, and the default profile's variants, as Plans."""
    import yaml

    result = {}
    for path in SHIPPED:
        profile = parse_profile(path.read_text(), path.name, catalog)
        result[path.stem] = expand(profile, catalog)
    for name, change in VARIANTS.items():
        data = default_data()
        change(data)
        profile = parse_profile(yaml.safe_dump(data), f"default/{name}", catalog)
        result[f"default/{name}"] = expand(profile, catalog)
    return result


@pytest.fixture(scope="session")
def rendered(plans: dict[str, Plan]) -> dict[str, list[Rendered]]:
    return {name: render_plan(plan, charts()) for name, plan in plans.items()}
