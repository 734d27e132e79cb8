"""gridcloud's indented JSON is the standard library's, character for character: compared
with ``json.dumps(value, indent=2, default=str)`` itself on generated documents and on the
awkward values (NaN, the infinities, non-string keys, non-ASCII, objects only ``str`` can
write)."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcloud.jsontext import dumps


def standard(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_generated_documents_are_written_as_the_standard_library_writes_them(value: Any) -> None:
    assert dumps(value) == standard(value)


class Colour(Enum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": {}, "b": [], "c": [{}], "d": [[]]},
        {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "tiny": 5e-324, "big": 1e16},
        {2: "two", 2.5: "half", True: "yes", False: "no", None: "nothing"},
        {"é": 'naïve ☃ \u2028 \x00 "quoted" \\ back'},
        {"when": dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC), "path": Path("/tmp/x")},
        {"price": Decimal("0.0440"), "colour": Colour.RED, "level": Level.HIGH},
        ("a", ("b", ["c"])),
    ],
)
def test_awkward_values_are_written_as_the_standard_library_writes_them(value: Any) -> None:
    assert dumps(value) == standard(value)


def test_a_key_json_cannot_write_is_refused_with_its_message() -> None:
    with pytest.raises(TypeError) as ours:
        dumps({(1, 2): "tuple key"})
    with pytest.raises(TypeError) as theirs:
        standard({(1, 2): "tuple key"})
    assert str(ours.value) == str(theirs.value)
