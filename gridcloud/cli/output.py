"""Where output goes: data to stdout, progress and diagnostics to stderr.

Both consoles print text as text: no rich markup, no emoji codes, and control characters
shown as escapes (:func:`gridcloud.display.visible`), so a value from a profile, an export
or a cloud error can neither style nor drive the terminal. Styling is given explicitly, as
``rich.text.Text`` with a style (see :func:`styled`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from gridcloud.display import visible


class TextConsole(Console):
    """A console whose strings are data: never markup, control characters made visible;
    and whose tables are never cut: one too wide for the terminal is stacked
    (:mod:`gridcloud.cli.layout`)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(visible(text), **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        from gridcloud.cli.layout import fit

        super().print(*(fit(o, self) for o in objects), **kwargs)


out = TextConsole(highlight=False, markup=False, emoji=False)
err = TextConsole(stderr=True, highlight=False, markup=False, emoji=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of text pieces, each plain (``"text"``) or styled (``("text", "bold red")``);
    every piece is data, shown as it is."""
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
