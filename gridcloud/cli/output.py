"""Where output goes: data to stdout, progress and diagnostics to stderr.

Both consoles print text as text: no rich markup, no emoji codes, and control characters
shown as escapes (:func:`gridcloud.display.visible`), so a value from a profile, an export
or a cloud error can neither style nor drive the terminal. Styling is given explicitly, as
``rich.text.Text`` with a style (see :func:`styled`).
"""

from __future__ import annotations

import json
import os
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


def takes_plain_text(stream: Any) -> bool:
    """Whether rich would write to ``stream`` without escape codes, judged as rich judges it
    (``Console.is_terminal``: ``TTY_COMPATIBLE``, then ``FORCE_COLOR``, then ``isatty``), so
    a line for it needs no rich at all (importing it is ~90 M instructions)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force == ""
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


def print_line(*parts: str | tuple[str, str]) -> None:
    """One line of text pieces (as :func:`styled` takes them) to stdout, never wrapped: a
    terminal wraps it on screen, a script or a log gets it whole. Without a terminal it is
    written as the plain text rich would write, without importing rich."""
    text = "".join(visible(p if isinstance(p, str) else p[0]) for p in parts)
    if "\t" not in text and takes_plain_text(sys.stdout):  # rich expands a tab by columns
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    from gridcloud.cli.consoles import out as console

    console.print(styled(*parts), soft_wrap=True)


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (plain text, never styled)."""
    from gridcloud.jsontext import dumps

    sys.stdout.write(dumps(data) + "\n")
    sys.stdout.flush()


def emit_json_line(record: Any) -> None:
    """Write one NDJSON record (a single line) to stdout."""
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
