"""Bad input ends in a clean error, never a crash or a hang: valid profiles mutated at
every path (wrong types; negative, zero, huge, NaN and infinite numbers; unknown keys;
unicode and control characters; long strings; deep nesting), and hostile YAML (alias bombs,
tags, multi-document files, binary, oversized files). Each must give a valid plan or a
GridcloudError with exit 2 (input) or 3 (plan), and a message naming what is wrong.

The number of generated cases: ``GRIDCLOUD_FUZZ_EXAMPLES`` (default 1,000)."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcloud.catalog import Catalog, load_catalog
from gridcloud.cost.estimate import estimate
from gridcloud.errors import GridcloudError
from gridcloud.plan import expand
from gridcloud.profile import parse_profile
from tests.conftest import SHIPPED

EXAMPLES = int(os.environ.get("GRIDCLOUD_FUZZ_EXAMPLES", "2000"))
BASES = {p.stem: yaml.safe_load(p.read_text()) for p in SHIPPED}
CATALOG: Catalog = load_catalog()

Path_ = tuple[Any, ...]


def _paths(node: Any, at: Path_ = ()) -> list[Path_]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**18, 10**100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "inf", "-inf", "1e999", "0x10", "1_000", ""]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),
    st.sampled_from(["ü" * 30, "\u202e" + "evil", "a" * 5000, "../../etc/passwd", "10.0.0.0/33"]),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(min_value=1, max_value=200).map(_nested),
)


def outcome(text: str) -> None:
    """What gridcloud does with a profile text: a plan, or a clean error."""
    failure: GridcloudError | None = None
    try:
        profile = parse_profile(text, "fuzz.yaml", CATALOG)
        plan = expand(profile, CATALOG)
        estimate(plan, CATALOG)
        assert plan.fingerprint
    except GridcloudError as error:
        failure = error
    if failure is not None:
        assert failure.exit_code in (2, 3), failure
        assert str(failure).strip()


@settings(
    max_examples=EXAMPLES,
    # no deadline: a timing is not a verdict on a shared, loaded machine (the first example
    # also pays the catalog's and the schema validator's start-up)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(data=st.data())
def test_mutated_profiles_end_in_a_plan_or_a_clean_error(data: st.DataObject) -> None:
    base = copy.deepcopy(BASES[data.draw(st.sampled_from(sorted(BASES)))])
    where = data.draw(st.sampled_from(_paths(base)[1:]))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    parent: Any = base
    for part in where[:-1]:
        parent = parent[part]
    last = where[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][data.draw(st.text(min_size=1, max_size=12))] = data.draw(VALUES)
    else:
        parent[last] = data.draw(VALUES)
    outcome(yaml.safe_dump(base, allow_unicode=True))


HOSTILE = {
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    ),
    "deep nesting": "apiVersion: gridcloud.io/v1\nname: x\ntarget: " + "[" * 5000 + "]" * 5000,
    "deep mapping": "target:\n" + "".join("  " * i + f"a{i}:\n" for i in range(1, 400)),
    "python tag": "!!python/object/apply:os.system ['true']\n",
    "unknown tag": "apiVersion: !secret gridcloud.io/v1\n",
    "two documents": "name: a\n---\nname: b\n",
    "binary": "\x00\x01\x02\xff\xfe" * 100,
    "only a scalar": "42\n",
    "a list": "- a\n- b\n",
    "huge": "name: " + "x" * (2 * 1024 * 1024) + "\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_refused_cleanly(name: str) -> None:
    with pytest.raises(GridcloudError) as info:
        parse_profile(HOSTILE[name], "hostile.yaml", CATALOG)
    assert info.value.exit_code == 2
