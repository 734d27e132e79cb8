"""The report's options, checked before any file is read or any query sent."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from gridcloud.errors import InputError

_MONTH = re.compile(r"(\d{4})-(\d{2})")
#: Cloud Billing's export exists since 2017; a month past 9998 has no next month in Python.
FIRST_YEAR, LAST_YEAR = 2000, 9998
_EXPORT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet", ".avro", ".csv", ".gz")


def parse_month(text: str | None) -> date | None:
    if text is None:
        return None
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise InputError(f"--month {text}: not a month", hint="give YYYY-MM, e.g. 2026-11")
    year = int(found[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(
            f"--month {text}: no billing data then",
            hint=f"give a month between {FIRST_YEAR}-01 and {LAST_YEAR}-12",
        )
    return date(year, int(found[2]), 1)


def parse_as_of(text: str | None) -> datetime | None:
    """An ISO time (UTC when it names no zone), or a date (its midnight)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise InputError(
            f"--as-of {text}: not a time", hint="give an ISO time, e.g. 2026-11-28T00:00Z"
        ) from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(f"--as-of {text}: out of range", hint="give a time of the month")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_html(path: Path) -> None:
    """Refused before the report is computed: a folder, or a folder that does not exist."""
    if path.is_dir():
        raise InputError(f"--html {path} is a folder", hint="give the HTML file's path")
    parent = path.expanduser().parent
    if not parent.is_dir():
        raise InputError(
            f"--html {path}: the folder {parent} does not exist", hint="create it first"
        )


def stray_export(profile: str | None) -> None:
    """``--export export-*.json`` unquoted: the shell expands the glob, and the second file
    lands where the profile goes."""
    if profile is not None and Path(profile).name.lower().endswith(_EXPORT_SUFFIXES):
        raise InputError(
            f"{profile} looks like an export file, not a profile",
            hint="quote a glob so that gridcloud expands it: --export 'export-*.json.gz', or "
            "repeat --export for each file",
        )
