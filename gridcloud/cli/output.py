"""Where output goes: data to stdout, progress and diagnostics to stderr.

Both consoles print text as text: no rich markup, no emoji codes, and control characters
shown as escapes (:func:`gridcloud.display.visible`), so a value from a profile, an export
or a cloud error can neither style nor drive the terminal. Styling is given explicitly, as
``rich.text.Text`` with a style (see :func:`styled`).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from gridcloud.display import visible

if TYPE_CHECKING:
    from rich.text import Text

    from gridcloud.cli.consoles import TextConsole

    out: TextConsole
    err: TextConsole

#: What is made on first use, from :mod:`gridcloud.cli.consoles` (with rich): ``plan
#: --json`` and the other JSON outputs import neither.
_CONSOLES = ("out", "err", "TextConsole")


def __getattr__(name: str) -> Any:
    if name in _CONSOLES:
        from gridcloud.cli import consoles

        value = getattr(consoles, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of text pieces, each plain (``"text"``) or styled (``("text", "bold red")``);
    every piece is data, shown as it is."""
    from rich.text import Text

    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(visible(text), style=style)
    return line


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (plain text, never styled)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit_json_line(record: Any) -> None:
    """Write one NDJSON record (a single line) to stdout."""
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
