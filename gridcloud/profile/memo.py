"""Valid profiles kept by content (:mod:`gridcloud.memo`): the models validated from a
profile's YAML text, read back when the same text is read again by the same gridcloud,
pydantic and Python.

Reading a profile is most of a short command's work before the Plan: importing PyYAML,
building pydantic's validator for the 44 models (its core schema, then the Rust validator),
validating. The answer depends only on the text and on the code that checks it, so a text
seen before under the same code has the same answer: the models are read back instead.
Only a profile that passed every structural check is kept (YAML, apiVersion, duplicate
keys, the models); the checks against the catalog (machine types, zones, accelerators) and
the callers' further checks run on every read, so a catalog refresh is seen at once.

Kept as plain data: each model as its class's name (a profile model's, looked up among them,
never imported), its fields and the fields the text set; a Decimal or a network as its text.
Read back with ``model_construct``: the values the validator produced, unvalidated again. A
profile holding a value of another type is not kept (it is validated every time).
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gridcloud import memo
from gridcloud.profile.base import Model

if TYPE_CHECKING:
    from gridcloud.profile.models import Profile

_NETWORKS = {"4": ipaddress.IPv4Network, "6": ipaddress.IPv6Network}


def _parts(text: str) -> tuple[str, ...]:
    import pydantic
    import pydantic_core

    # what read the text: PyYAML (its file, not imported), pydantic and its core
    return (
        "profile-1",
        memo.module_stamp("yaml"),
        pydantic.VERSION,
        pydantic_core.__version__,
        text,
    )


def _classes() -> dict[str, type[Model]]:
    found: dict[str, type[Model]] = {}
    waiting: list[type[Model]] = [Model]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            found[f"{sub.__module__}:{sub.__qualname__}"] = sub
            waiting.append(sub)
    return found


def _encode(value: Any) -> Any:
    """``value`` as plain data (tagged tuples); TypeError for a value of no known type."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if isinstance(value, Model):
        names = type(value).model_fields
        return (
            "model",
            f"{kind.__module__}:{kind.__qualname__}",
            {name: _encode(getattr(value, name)) for name in names},
            tuple(sorted(value.model_fields_set)),
        )
    if kind is Decimal:
        return ("decimal", str(value))
    if kind in (ipaddress.IPv4Network, ipaddress.IPv6Network):
        return ("network", str(value.version), str(value))
    if kind is list:
        return ("list", [_encode(v) for v in value])
    if kind is tuple:
        return ("tuple", tuple(_encode(v) for v in value))
    if kind is dict and all(type(k) is str for k in value):
        return ("dict", {k: _encode(v) for k, v in value.items()})
    raise TypeError(f"a {kind.__name__} is not kept")


def _decode(data: Any, classes: dict[str, type[Model]]) -> Any:
    if type(data) is not tuple:
        if data is None or type(data) in (str, int, float, bool):
            return data
        raise TypeError(f"a kept {type(data).__name__} is none of a profile's values")
    tag = data[0]
    if tag == "model":
        model = classes[data[1]]
        fields = {name: _decode(v, classes) for name, v in data[2].items()}
        return model.model_construct(_fields_set=set(data[3]), **fields)
    if tag == "decimal":
        return Decimal(data[1])
    if tag == "network":
        return _NETWORKS[data[1]](data[2])
    if tag == "list":
        return [_decode(v, classes) for v in data[1]]
    if tag == "tuple":
        return tuple(_decode(v, classes) for v in data[1])
    if tag == "dict":
        return {k: _decode(v, classes) for k, v in data[1].items()}
    raise ValueError(f"unknown tag {tag!r}")


def recall(text: str) -> Profile | None:
    """The validated profile of this text, if this gridcloud kept it; else None."""
    from gridcloud.profile.models import Profile

    kept = memo.recall("profile", _parts(text))
    if kept is None:
        return None
    try:
        profile = _decode(kept, _classes())
    except Exception:
        return None
    return profile if isinstance(profile, Profile) else None


def keep(text: str, profile: Profile) -> None:
    """Keep a profile that passed the structural checks."""
    try:
        data = _encode(profile)
    except TypeError:
        return
    memo.keep("profile", _parts(text), data)
