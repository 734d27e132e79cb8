"""The profile's base model: the settings every part of a profile shares (unknown keys
refused, camelCase aliases, frozen, no infinities). A leaf module, so the profile's sections
in their own modules (data, backups, fallback, spending, shards) build on it without
importing ``models.py``, which imports them.

The fields' docstrings describe them in the JSON Schema only: read from the source when the
schema is made (:func:`gridcloud.profile.models.documented`), not on every import
(pydantic's ``use_attribute_docstrings`` re-parses a module for each class, ~40 ms a run).

The modules of the models (this one's users) do not use ``from __future__ import
annotations``: with it every annotation is a string pydantic compiles and evaluates when it
creates the class, ~20 M instructions of every command; without it Python evaluates them
once, as bytecode. A validator returns ``Self``; a name defined later is quoted.
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

    def is_default(self) -> bool:
        """Whether every field holds its default (what ``self == type(self)()`` says,
        without building the validator that constructing one needs: a profile read back
        from gridcloud's cache is used without one)."""
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            factory = info.default_factory
            if isinstance(factory, type) and issubclass(factory, Model):
                if not (type(value) is factory and value.is_default()):
                    return False
            elif factory is not None:
                if value != factory():  # type: ignore[call-arg]
                    return False
            elif value != info.default:
                return False
        return True
