"""The profile's base model: the settings every part of a profile shares (unknown keys
refused, camelCase aliases, frozen, no infinities). A leaf module, so the profile's sections
in their own modules (data, backups, fallback, spending, shards) build on it without
importing ``models.py``, which imports them.

The fields' docstrings describe them in the JSON Schema only: read from the source when the
schema is made (:func:`gridcloud.profile.models.documented`), not on every import
(pydantic's ``use_attribute_docstrings`` re-parses a module for each class, ~40 ms a run).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        allow_inf_nan=False,
        defer_build=True,
    )
