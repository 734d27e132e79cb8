"""The enforcer's settings, from its environment (written by the program from the Plan)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal

#: The Plan's cap as JSON (see ``Settings.from_json``).
SETTINGS_VAR = "GRIDCLOUD_CAP"
#: The budget whose notifications count (its ID, the last part of its resource name).
BUDGET_VAR = "GRIDCLOUD_BUDGET_ID"


@dataclass(frozen=True)
class Pool:
    name: str
    node_hourly: Decimal
    total_min_nodes: int
    total_max_nodes: int
    location_policy: str


@dataclass(frozen=True)
class Settings:
    facility: str
    project: str
    location: str
    cluster: str
    budget_id: str
    amount: Decimal
    lag_hours: Decimal
    restore_on_new_period: bool
    label: str
    pools: tuple[Pool, ...]

    @classmethod
    def from_json(cls, text: str, budget_id: str) -> Settings:
        data = json.loads(text)
        return cls(
            facility=data["facility"],
            project=data["project"],
            location=data["location"],
            cluster=data["cluster"],
            budget_id=budget_id,
            amount=Decimal(str(data["amount"])),
            lag_hours=Decimal(str(data["lagHours"])),
            restore_on_new_period=bool(data["restoreOnNewPeriod"]),
            label=data["label"],
            pools=tuple(
                Pool(
                    name=p["name"],
                    node_hourly=Decimal(str(p["nodeHourly"])),
                    total_min_nodes=int(p["totalMinNodes"]),
                    total_max_nodes=int(p["totalMaxNodes"]),
                    location_policy=p["locationPolicy"],
                )
                for p in data["pools"]
            ),
        )

    @classmethod
    def from_environment(cls) -> Settings:
        return cls.from_json(os.environ[SETTINGS_VAR], os.environ[BUDGET_VAR])
