"""A light base for the models gridcloud's own code builds: the Plan, the estimate, the
verdict and the policy findings. Frozen, keyword-only, camelCase in JSON, with the part of
pydantic's interface their callers use (``model_dump``, ``model_copy``), and no schema built
when a class is defined.

Why not pydantic: these objects never come from a user (the profile does, and stays pydantic),
and building ~55 pydantic models cost every ``plan`` a fifth of its start-up
(benchmarks/README.md). What validation did for them is kept where it changes a value: a
field's annotation converts what it is given the way pydantic's lax mode did (an ``int`` to a
``Decimal`` or a ``float``, a list to a tuple, a dict to a new dict), so the JSON is the same
byte for byte; the annotations are read once per class, at its first use, not at import.
Serializers in ``Annotated`` metadata (``gridcloud.money.Amount``) apply in JSON mode.
"""

from __future__ import annotations

import copy
import enum
import inspect
import sys
import typing
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from typing import Any, ClassVar, Literal, Self, Union

from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_REQUIRED: Any = object()

Convert = typing.Callable[[Any], Any]
Dump = typing.Callable[[Any, bool, bool, bool], Any]


class _Field:
    __slots__ = ("alias", "convert", "default", "dump", "factory", "name")

    def __init__(self, name: str, default: Any, factory: Any, alias: str) -> None:
        self.name = name
        self.default = default
        self.factory = factory
        self.alias = alias
        self.convert: Convert | None = None
        self.dump: Dump | None = None


def _field_from(name: str, value: Any) -> _Field:
    alias = to_camel(name)
    if isinstance(value, FieldInfo):
        if value.exclude or value.metadata or value.validation_alias is not None:
            raise TypeError(
                f"field {name}: gridcloud.plain takes a default, a default factory "
                "and an alias from Field(), nothing it would silently ignore"
            )
        if value.alias is not None:
            alias = value.alias
        if value.default_factory is not None:
            return _Field(name, _REQUIRED, value.default_factory, alias)
        default = _REQUIRED if value.default is PydanticUndefined else value.default
        return _Field(name, default, None, alias)
    return _Field(name, value, None, alias)


class Frozen:
    """Frozen, keyword-only; JSON keys camelCase (``by_alias=True``), as ``frozen.Frozen``."""

    __plain_fields__: ClassVar[dict[str, _Field]] = {}
    __plain_ready__: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attribute, value in cls.__dict__.items():
            if type(value).__name__ == "PydanticDescriptorProxy" or attribute == "model_config":
                # a validator, serializer or computed field would silently do nothing here
                raise TypeError(
                    f"{cls.__name__}.{attribute}: gridcloud.plain models take no pydantic "
                    "validators, serializers, computed fields or config (use gridcloud.frozen)"
                )
        fields: dict[str, _Field] = {}
        for base in reversed(cls.__mro__[1:]):
            fields.update(base.__dict__.get("__plain_fields__", {}))
        for name, hint in inspect.get_annotations(cls).items():
            if name.startswith("_") or (isinstance(hint, str) and hint.startswith("ClassVar")):
                continue
            fields[name] = _field_from(name, cls.__dict__.get(name, _REQUIRED))
            if name in cls.__dict__:
                delattr(cls, name)
        cls.__plain_fields__ = fields
        cls.__plain_ready__ = False

    @classmethod
    def _plain_fields(cls) -> dict[str, _Field]:
        if not cls.__plain_ready__:
            _resolve(cls)
        return cls.__plain_fields__

    def __init__(self, **data: Any) -> None:
        values = self.__dict__
        for name, field in self._plain_fields().items():
            if name in data:
                value = data.pop(name)
                values[name] = value if field.convert is None else field.convert(value)
            elif field.alias in data:
                value = data.pop(field.alias)
                values[name] = value if field.convert is None else field.convert(value)
            elif field.factory is not None:
                values[name] = field.factory()
            elif field.default is not _REQUIRED:
                values[name] = field.default
            else:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")
        if data:
            raise TypeError(f"{type(self).__name__}: unknown field(s) {sorted(data)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({shown})"

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update``'s fields replaced, unconverted (as pydantic's)."""
        made = object.__new__(type(self))
        made.__dict__.update(copy.deepcopy(self.__dict__) if deep else self.__dict__)
        if update:
            made.__dict__.update(update)
        return made

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        by_alias: bool = False,
        exclude: Any = None,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The fields as a dict, nested models as dicts; ``mode="json"``: JSON's types only
        (tuples as lists, ``Decimal`` as text, the fields' JSON serializers applied)."""
        return _dump_model(self, mode == "json", by_alias, exclude_none, exclude)


def _dump_model(
    model: Frozen, json: bool, by_alias: bool, exclude_none: bool, exclude: Any = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    values = model.__dict__
    for name, field in type(model)._plain_fields().items():
        sub = None
        if exclude is not None and name in exclude:
            sub = exclude[name] if isinstance(exclude, dict) else True
            if sub is True:
                continue
        value = values[name]
        if exclude_none and value is None:
            continue
        key = field.alias if by_alias else name
        if sub is not None and isinstance(value, Frozen):
            out[key] = _dump_model(value, json, by_alias, exclude_none, sub)
        elif field.dump is not None:
            out[key] = field.dump(value, json, by_alias, exclude_none)
        else:
            out[key] = _infer(value, json, by_alias, exclude_none)
    return out


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _infer(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
    """A value serialized by its own type, as pydantic does for ``Any``."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: _infer(v, json, by_alias, exclude_none) for k, v in value.items()}
    if kind is tuple or kind is list:
        items = [_infer(v, json, by_alias, exclude_none) for v in value]
        return items if json or kind is list else tuple(items)
    if kind is Decimal:
        return str(value) if json else value
    return _infer_other(value, json, by_alias, exclude_none)


def _infer_other(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, Frozen):
        return _dump_model(value, json, by_alias, exclude_none)
    if isinstance(value, enum.Enum) and json:
        return _infer(value.value, json, by_alias, exclude_none)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: _infer(v, json, by_alias, exclude_none) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        items = [_infer(v, json, by_alias, exclude_none) for v in value]
        return items if json or isinstance(value, list) else tuple(items)
    if not json:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return [_infer(v, json, by_alias, exclude_none) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"no JSON form for {type(value).__name__} in a gridcloud.plain model")


# --- reading the annotations (once per class, at its first use) ---------------------------

_NONE = type(None)


def _resolve(cls: type[Frozen]) -> None:
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Frozen)) or klass is Frozen:
            continue
        module = sys.modules[klass.__module__].__dict__
        for name, hint in inspect.get_annotations(klass).items():
            if name in cls.__plain_fields__:
                hints[name] = _evaluate(hint, module) if isinstance(hint, str) else hint
    for name, field in cls.__plain_fields__.items():
        field.convert = _converter(hints[name])
        field.dump = _dumper(hints[name])
    cls.__plain_ready__ = True


_SIMPLE: dict[str, Any] = {"str": str, "bool": bool, "int": int, "float": float}


#: Each annotation's text compiled once: many repeat across the Plan's classes
#: (``str | None``, ``tuple[str, ...]``), and compiling is most of evaluating one.
_COMPILED: dict[str, Any] = {}


def _evaluate(text: str, module: dict[str, Any]) -> Any:
    simple = _SIMPLE.get(text)
    if simple is not None:
        return simple
    code = _COMPILED.get(text)
    if code is None:
        code = _COMPILED[text] = compile(text, "<annotation>", "eval")
    return eval(code, module)


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """(origin, arguments) of a hint, ``X | Y`` as ``Union``."""
    origin = typing.get_origin(hint)
    if origin is not None and origin.__class__.__name__ == "UnionType":
        origin = Union
    if hint.__class__.__name__ == "UnionType":
        origin = Union
    return origin, typing.get_args(hint)


def _to_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        whole = int(value)
        if whole == value:
            return whole
    if isinstance(value, str):
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, (int, Decimal, str)):
        return float(value)
    return value


def _to_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _converter(hint: Any) -> Convert | None:
    """What pydantic's lax validation would change in a value of this type; None: nothing."""
    if hint is int:
        return _to_int
    if hint is float:
        return _to_float
    if hint is Decimal:
        return _to_decimal
    if isinstance(hint, type):
        if issubclass(hint, Frozen):
            model = hint

            def to_model(value: Any) -> Any:
                return model(**value) if isinstance(value, dict) else value

            return to_model
        return None
    origin, args = _split(hint)
    if origin is typing.Annotated:
        return _converter(args[0])
    if origin is Union:
        options = [a for a in args if a is not _NONE]
        if len(options) != 1:
            return None
        inner = _converter(options[0])
        if inner is None:
            return None
        convert_inner = inner

        def optional(value: Any) -> Any:
            return None if value is None else convert_inner(value)

        return optional
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0])
            if item is None:
                return tuple
            each = item

            def to_tuple(value: Any) -> Any:
                return tuple(each(v) for v in value)

            return to_tuple
        items = [_converter(a) for a in args]

        def to_fixed(value: Any) -> Any:
            return tuple(v if c is None else c(v) for v, c in zip(value, items, strict=True))

        return to_fixed
    if origin is list:
        item = _converter(args[0]) if args else None
        if item is None:
            return list
        each_item = item
        return lambda value: [each_item(v) for v in value]
    if origin is dict:
        inner_value = _converter(args[1]) if args else None
        if inner_value is None:
            return dict
        each_value = inner_value
        return lambda value: {k: each_value(v) for k, v in value.items()}
    if origin in (frozenset, set):
        return origin  # type: ignore[no-any-return]
    return None


def _dumper(hint: Any) -> Dump | None:
    """How a value of this type is dumped when its annotation says more than its value (a
    JSON serializer in ``Annotated``); None: by the value's own type."""
    origin, args = _split(hint)
    if origin is typing.Annotated:
        serializer = next((m for m in args[1:] if m.__class__.__name__ == "PlainSerializer"), None)
        if serializer is None:
            return _dumper(args[0])
        func = serializer.func
        when = serializer.when_used

        def serialize(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
            if value is None and when in ("unless-none", "json-unless-none"):
                return None
            if json or when in ("always", "unless-none"):
                return func(value)
            return _infer(value, json, by_alias, exclude_none)

        return serialize
    if origin is Union:
        options = [a for a in args if a is not _NONE]
        dumps = [_dumper(a) for a in options]
        if all(d is None for d in dumps):
            return None
        if len(options) != 1:
            raise TypeError(f"a serializer inside a union of several types: {hint}")
        inner = dumps[0]
        assert inner is not None

        def optional(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
            return None if value is None else inner(value, json, by_alias, exclude_none)

        return optional
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _dumper(args[0])
        if item is None:
            return None
        each = item

        def items(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
            made = [each(v, json, by_alias, exclude_none) for v in value]
            return made if json else tuple(made)

        return items
    if origin is dict and args:
        inner_value = _dumper(args[1])
        if inner_value is None:
            return None
        each_value = inner_value

        def values(value: Any, json: bool, by_alias: bool, exclude_none: bool) -> Any:
            return {k: each_value(v, json, by_alias, exclude_none) for k, v in value.items()}

        return values
    if args and any(_dumper(a) is not None for a in args):
        raise TypeError(f"a serializer inside {hint}: not supported by gridcloud.plain")
    return None
