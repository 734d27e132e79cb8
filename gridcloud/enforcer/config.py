"""The enforcer's settings: one model, written by the program from the Plan
(``gridcloud/program/budget.py``: ``Settings(...).to_json()``) and read here
(``Settings.from_json``). Standard library only: this module travels in the function's source
archive, where nothing of gridcloud but ``gridcloud/enforcer/`` exists.

The JSON keys are the fields' names in camelCase, derived from the dataclasses below and
nowhere else; reading is strict (a missing, unknown or mistyped key is a ``SettingsError``
naming it), so a writer and a reader that disagree fail at once, not at the first
notification over the cap.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

#: The Plan's cap as JSON (``Settings.to_json``).
SETTINGS_VAR = "GRIDCLOUD_CAP"
#: The budget whose notifications count (its ID, the last part of its resource name): known
#: only once the budget exists, so it travels apart from the Plan's settings.
BUDGET_VAR = "GRIDCLOUD_BUDGET_ID"


class SettingsError(ValueError):
    """The settings the function was deployed with cannot be read."""


@dataclass(frozen=True)
class CappedPool:
    """An elastic pool the cap scales to zero, and the autoscaling a lift gives back."""

    name: str
    node_hourly: Decimal
    total_min_nodes: int
    total_max_nodes: int
    location_policy: str


@dataclass(frozen=True)
class CappedCluster:
    """A cluster of the facility and the elastic pools the cap scales there: the home
    cluster or a compute-only shard, each in its own project and location."""

    shard: str
    """``home``, or the shard's name: with a pool's name, what the enforcer logs and keys
    the running nodes by (pool names repeat from shard to shard)."""
    project: str
    location: str
    cluster: str
    pools: tuple[CappedPool, ...]

    @property
    def path(self) -> str:
        """Its resource name in the GKE API."""
        return f"projects/{self.project}/locations/{self.location}/clusters/{self.cluster}"


@dataclass(frozen=True)
class Settings:
    facility: str
    amount: Decimal
    """The cap: spend at which the elastic pools go to zero."""
    currency: str
    """The budget's currency: a notification in another is refused."""
    lag_hours: Decimal
    restore_on_new_period: bool
    label: str
    timeout_seconds: int
    """The function's timeout (the Plan's); the handler's deadline is kept below it."""
    clusters: tuple[CappedCluster, ...]
    """Every cluster of the facility with elastic pools, the home one first."""
    budget_id: str = field(default="", metadata={"json": False})
    """From ``BUDGET_VAR``, not from the JSON."""

    @property
    def pools(self) -> tuple[tuple[CappedCluster, CappedPool], ...]:
        """Every capped pool of the facility, with its cluster."""
        return tuple((c, p) for c in self.clusters for p in c.pools)

    def to_json(self) -> str:
        return json.dumps(_dump(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, budget_id: str = "") -> Settings:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise SettingsError(f"{SETTINGS_VAR} is not JSON: {error}") from None
        settings = _load(cls, data, SETTINGS_VAR)
        assert isinstance(settings, Settings)
        return replace(settings, budget_id=budget_id)

    @classmethod
    def from_environment(cls) -> Settings:
        missing = [v for v in (SETTINGS_VAR, BUDGET_VAR) if not os.environ.get(v)]
        if missing:
            raise SettingsError(f"not set: {', '.join(missing)}")
        return cls.from_json(os.environ[SETTINGS_VAR], os.environ[BUDGET_VAR])


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _json_fields(cls: type) -> list[Any]:
    return [f for f in fields(cls) if f.metadata.get("json", True)]


def _dump(value: Any) -> Any:
    if isinstance(value, Settings | CappedCluster | CappedPool):
        return {camel(f.name): _dump(getattr(value, f.name)) for f in _json_fields(type(value))}
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"{where}: a string expected, not {value!r}")
    return value


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{where}: an integer expected, not {value!r}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{where}: true or false expected, not {value!r}")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(_string(value, where))
    except InvalidOperation:
        raise SettingsError(f"{where}: a decimal number expected, not {value!r}") from None
    if not number.is_finite():
        raise SettingsError(f"{where}: a finite number expected, not {value!r}")
    return number


def _pools(value: Any, where: str) -> tuple[CappedPool, ...]:
    if not isinstance(value, list):
        raise SettingsError(f"{where}: a list expected, not {value!r}")
    loaded = [_load(CappedPool, item, f"{where}[{i}]") for i, item in enumerate(value)]
    return tuple(p for p in loaded if isinstance(p, CappedPool))


def _clusters(value: Any, where: str) -> tuple[CappedCluster, ...]:
    if not isinstance(value, list) or not value:
        raise SettingsError(f"{where}: a list of one cluster or more expected, not {value!r}")
    loaded = [_load(CappedCluster, item, f"{where}[{i}]") for i, item in enumerate(value)]
    found = tuple(c for c in loaded if isinstance(c, CappedCluster))
    shards = [c.shard for c in found]
    if len(set(shards)) != len(shards):
        raise SettingsError(f"{where}: a cluster named twice: {', '.join(shards)}")
    return found


#: Each field's type (as annotated: a string under ``from __future__ import annotations``) and
#: how its JSON value is read.
_READERS = {
    "str": _string,
    "int": _integer,
    "bool": _boolean,
    "Decimal": _decimal,
    "tuple[CappedPool, ...]": _pools,
    "tuple[CappedCluster, ...]": _clusters,
}

_Model = Settings | CappedCluster | CappedPool


def _load(
    cls: type[Settings] | type[CappedCluster] | type[CappedPool], data: Any, where: str
) -> _Model:
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: an object expected, not {type(data).__name__}")
    wanted = {camel(f.name): f for f in _json_fields(cls)}
    unknown = sorted(set(data) - set(wanted))
    missing = sorted(set(wanted) - set(data))
    if unknown or missing:
        raise SettingsError(
            f"{where}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    values: dict[str, Any] = {
        f.name: _READERS[str(f.type)](data[key], f"{where}.{key}") for key, f in wanted.items()
    }
    return cls(**values)
