"""gridcloud.plain: the light base of the Plan's models. Each behaviour is compared with
what pydantic (the base it replaces, gridcloud.frozen) does with the same class and data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import Field

from gridcloud import frozen, plain
from gridcloud.money import Amount


class PInner(frozen.Frozen):
    key_name: str
    price: Amount | None
    share: float = 0.5


class POuter(frozen.Frozen):
    max_nodes: int
    memory_gb: Decimal
    zones: tuple[str, ...]
    inner: PInner
    inners: tuple[PInner, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None


class LInner(plain.Frozen):
    key_name: str
    price: Amount | None
    share: float = 0.5


class LOuter(plain.Frozen):
    max_nodes: int
    memory_gb: Decimal
    zones: tuple[str, ...]
    inner: LInner
    inners: tuple[LInner, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None


def _both(**given: Any) -> tuple[POuter, LOuter]:
    inner = {"key_name": "a", "price": Decimal("12.345"), "share": 1}
    return (
        POuter(inner=PInner(**inner), inners=[PInner(**inner)], **given),
        LOuter(inner=LInner(**inner), inners=[LInner(**inner)], **given),
    )


GIVEN: dict[str, Any] = {
    "max_nodes": Decimal(4),  # lax: a whole Decimal is an int
    "memory_gb": 16,  # an int is a Decimal
    "zones": ["us-central1-a", "us-central1-b"],  # a list is a tuple
    "values": {"hub": {"cpu": Decimal("0.5"), "ports": (80, 443)}, "on": True},
}


@pytest.mark.parametrize("by_alias", [True, False])
def test_json_dump_is_pydantics(by_alias: bool) -> None:
    # camelCase keys, Decimal as text, the Amount serializer's cents, tuples as lists,
    # an int given for a float made a float, nested models and dicts of any
    reference, light = _both(**GIVEN)
    expected = reference.model_dump(mode="json", by_alias=by_alias)
    assert light.model_dump(mode="json", by_alias=by_alias) == expected
    assert expected["inner"]["price"] == "12.35"  # the serializer did round: a real check


def test_python_dump_and_exclusions_are_pydantics() -> None:
    reference, light = _both(**GIVEN)
    assert light.model_dump() == reference.model_dump()
    exclude: Any = {"zones": True, "inner": {"share"}}
    assert light.model_dump(mode="json", by_alias=True, exclude=exclude) == (
        reference.model_dump(mode="json", by_alias=True, exclude=exclude)
    )
    assert light.model_dump(mode="json", exclude_none=True) == (
        reference.model_dump(mode="json", exclude_none=True)
    )


def test_values_converted_as_pydantic_converts_them() -> None:
    reference, light = _both(**GIVEN)
    for name in ("max_nodes", "memory_gb", "zones"):
        assert getattr(light, name) == getattr(reference, name)
        assert type(getattr(light, name)) is type(getattr(reference, name))
    assert type(light.inner.share) is float
    assert type(light.inners) is tuple


def test_copy_replaces_fields_unconverted_and_keeps_the_original() -> None:
    _, light = _both(**GIVEN)
    changed = light.model_copy(update={"max_nodes": 9, "note": "n"})
    assert (changed.max_nodes, changed.note) == (9, "n")
    assert (light.max_nodes, light.note) == (4, None)
    assert changed.zones is light.zones


def test_frozen_equal_hashable_and_strict_about_fields() -> None:
    one = LInner(key_name="a", price=None)
    assert one == LInner(key_name="a", price=None, share=0.5)
    assert one != LInner(key_name="b", price=None)
    assert hash(one) == hash(LInner(key_name="a", price=None))
    with pytest.raises(AttributeError):
        one.share = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing field 'price'"):
        LInner(key_name="a")
    with pytest.raises(TypeError, match="unknown"):
        LInner(key_name="a", price=None, sharee=1.0)


def test_default_factories_give_each_instance_its_own() -> None:
    first = LOuter(
        max_nodes=1, memory_gb=Decimal(1), zones=(), inner=LInner(key_name="a", price=None)
    )
    second = LOuter(
        max_nodes=1, memory_gb=Decimal(1), zones=(), inner=LInner(key_name="a", price=None)
    )
    assert first.labels == {} and first.labels is not second.labels


def test_a_dict_given_for_a_dict_field_is_copied() -> None:
    # pydantic keeps its own dict: a later change of the caller's does not reach the model
    labels = {"a": "1"}
    reference = POuter(
        max_nodes=1, memory_gb=1, zones=(), inner=PInner(key_name="a", price=None), labels=labels
    )
    light = LOuter(
        max_nodes=1, memory_gb=1, zones=(), inner=LInner(key_name="a", price=None), labels=labels
    )
    labels["b"] = "2"
    assert light.labels == reference.labels == {"a": "1"}


def test_what_it_would_ignore_is_refused_when_the_class_is_made() -> None:
    from pydantic import field_validator

    with pytest.raises(TypeError, match="validators"):

        class Checked(plain.Frozen):  # pyright: ignore[reportUnusedClass]
            size: int

            @field_validator("size")
            @classmethod
            def _positive(cls, value: int) -> int:
                return value

    with pytest.raises(TypeError, match="field size"):

        class Bounded(plain.Frozen):  # pyright: ignore[reportUnusedClass]
            size: int = Field(default=1, ge=0)
