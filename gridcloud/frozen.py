"""The base of every Plan model, and of the models computed from a Plan (the estimate, the
verdict, the checks, the reports): frozen, strict, camelCase in JSON. A leaf module: what
derives from it needs no other part of gridcloud."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        defer_build=True,  # built at its first use: most commands read no stack's outputs
    )
