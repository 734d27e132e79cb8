"""The profile's ``backups``: scheduled snapshots of the facility's volumes.

Off unless the profile turns them on (``enabled: true``; the shipped profiles do). Snapshots
are a recurring charge of their own and outlive a ``destroy`` (they are the point of a backup),
so a profile that never asked for them gets neither the charge nor the leftovers; and they
need GKE's persistent disk CSI driver, which an existing cluster may not have.
"""

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from gridcloud.profile.base import Model

#: What can be backed up: the hub's database, the users' home volumes, REANA's volume
#: (its database and its workspace live on the one disk of its NFS server).
Volume = Literal["hubDatabase", "homes", "reana"]
VOLUMES: tuple[Volume, ...] = ("hubDatabase", "homes", "reana")

# minute hour day-of-month month day-of-week, as CronJob takes them (no @-macros, no seconds)
_CRON_FIELD = r"[0-9A-Za-z*/,\-]+"
_CRON = re.compile(rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")


class Backups(Model):
    """Scheduled CSI volume snapshots of the facility's volumes, pruned beyond ``keep``."""

    # the settings of profile.models.Model (which imports this module, so it cannot be
    # imported here); tests/unit/test_backups.py checks that they stay the same

    enabled: bool = False
    schedule: Annotated[str, Field(max_length=100)] = "0 3 * * *"
    """When to snapshot, as a cron expression in UTC (minute hour day month weekday)."""
    keep: Annotated[int, Field(ge=1, le=1000)] = 7
    """Ready snapshots kept per volume; older ones are deleted after each run."""
    volumes: list[Volume] | None = None
    """Which volumes: hubDatabase, homes, reana. Default: every one the facility has."""
    changed_percent: Annotated[int, Field(ge=0, le=100)] = 10
    """For the estimate: the share of a volume that changes between two snapshots (each
    snapshot after the first stores only the changed blocks)."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not _CRON.match(value.strip()):
            raise ValueError(
                "must be a cron expression of five fields (minute hour day month weekday), "
                "such as '0 3 * * *' for 03:00 UTC every day"
            )
        return value.strip()

    @field_validator("volumes")
    @classmethod
    def _distinct(cls, value: list[Volume] | None) -> list[Volume] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a volume is listed more than once")
        return value
