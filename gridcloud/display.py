"""Text from outside (profiles, exports, messages, cloud errors) shown as text, never as code.

A terminal acts on escape sequences (one clears the screen, another retitles the window),
a right-to-left override reorders what follows it, and rich reads ``[...]`` as markup. Data
shown to a person goes through :func:`visible` first: every such character becomes a
visible escape (``\\x1b``, ``\\u202e``), so what is printed is what the data holds.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional
#: formatting characters (Unicode TR9: the marks, embeddings, overrides and isolates).
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control or direction-changing character shown as an escape."""
    return _HIDDEN.sub(_escape, text)
