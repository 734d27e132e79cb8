"""Valid profiles kept by content (:mod:`gridcloud.memo`): the models validated from a
profile's YAML text, read back when the same text is read again by the same gridcloud,
pydantic and Python.

Reading a profile is most of a short command's work before the Plan: importing PyYAML,
building pydantic's validator for the 44 models (its core schema, then the Rust validator),
validating. The answer depends only on the text and on the code that checks it, so a text
seen before under the same code has the same answer: the models are read back (~1 ms)
instead. Only a profile that passed every structural check is kept (YAML, apiVersion,
duplicate keys, the models); the checks against the catalog (machine types, zones,
accelerators) and the callers' further checks run on every read, so a catalog refresh is
seen at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud import memo

if TYPE_CHECKING:
    from gridcloud.profile.models import Profile


def _parts(text: str) -> tuple[str, ...]:
    import pydantic
    import pydantic_core

    return (pydantic.VERSION, pydantic_core.__version__, text)


def recall(text: str) -> Profile | None:
    """The validated profile of this text, if this gridcloud kept it; else None."""
    from gridcloud.profile.models import Profile

    return memo.recall("profile", _parts(text), Profile)


def keep(text: str, profile: Profile) -> None:
    """Keep a profile that passed the structural checks."""
    memo.keep("profile", _parts(text), profile)
