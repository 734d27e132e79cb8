"""JSON text indented by two spaces, the text ``json.dumps(value, indent=2, default=str)``
gives, made about twice as fast.

The standard library encodes with indentation in pure Python, one generator per container
(its C encoder, before Python 3.13, only writes compact text); ``plan --json`` writes ~200 kB
of it, ~10 % of the command. This is the same algorithm as one recursive function appending
to a list, with the C string escaper the standard library uses: the text is equal, character
for character (tests/unit/test_jsontext.py compares the two on generated documents).
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _quoted
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_INFINITY = float("inf")


def _number(value: float) -> str:
    """A float as ``json`` writes it (``allow_nan``: NaN and the infinities as JavaScript
    names)."""
    if value != value:  # noqa: PLR0124 (NaN is the one value unequal to itself)
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _number(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def dumps(value: Any, default: Callable[[Any], Any] = str) -> str:
    """``json.dumps(value, indent=2, default=default)``."""
    parts: list[str] = []
    add = parts.append

    def write(item: Any, indent: str) -> None:
        if isinstance(item, str):
            add(_quoted(item))
        elif item is None:
            add("null")
        elif item is True:
            add("true")
        elif item is False:
            add("false")
        elif isinstance(item, int):
            add(int.__repr__(item))
        elif isinstance(item, float):
            add(_number(item))
        elif isinstance(item, (list, tuple)):
            if not item:
                add("[]")
                return
            inner = indent + "  "
            opening = "["
            for element in item:
                add(opening)
                add(inner)
                opening = ","
                write(element, inner)
            add(indent)
            add("]")
        elif isinstance(item, dict):
            if not item:
                add("{}")
                return
            inner = indent + "  "
            opening = "{"
            for key, element in item.items():
                add(opening)
                add(inner)
                add(_quoted(_key(key)))
                add(": ")
                opening = ","
                write(element, inner)
            add(indent)
            add("}")
        else:
            write(default(item), indent)

    write(value, "\n")
    return "".join(parts)
