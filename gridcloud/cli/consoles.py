"""The two consoles of :mod:`gridcloud.cli.output` (stdout and stderr), in a module of their
own: it imports rich, which a command that only prints JSON never needs."""

from __future__ import annotations

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

        # without arguments, print draws with the console's own options: a table checked
        # for cuts on that drawing is printed from it
        super().print(*(fit(o, self, as_printed=not kwargs) for o in objects), **kwargs)


out = TextConsole(highlight=False, markup=False, emoji=False)
err = TextConsole(stderr=True, highlight=False, markup=False, emoji=False)
