"""Tables that read whole at any width: a table too wide for the terminal is stacked.

Piped output (a CI log, ``> file``, ``| less``) is 80 columns. A table of seven columns
does not fit there, and rich then cuts cells to ``con…`` or ``100…``. Rather than cut, a
table whose narrowest rendering is wider than the console is shown stacked: each row on its
own, its first cell as a heading and the other cells as ``column value`` pairs that wrap
at word boundaries. Nothing is cut at any width; a word longer than the line is folded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

#: What rich puts where it cuts a cell.
_CUT = "\u2026"

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def _plain(cell: RenderableType) -> str:
    """A cell's text on one line (its line breaks become spaces)."""
    if isinstance(cell, Text):
        text = cell.plain
    elif isinstance(cell, str):
        text = cell
    else:  # pragma: no cover - the tables hold text only
        text = str(cell)
    return " ".join(text.split())


def fits(table: Table, console: Console) -> bool:
    """Whether rich draws ``table`` at the console's width without cutting a cell: drawn
    once off screen, the table shows no more ellipses (rich's mark of a cut) than its cells
    hold. (rich's own measure is clamped to the width, and its narrowing of columns can cut
    a long word in one column while another could still wrap.)"""
    from io import StringIO

    from rich.console import Console

    if Measurement.get(console, console.options.update_width(1_000_000), table).maximum <= (
        console.width
    ):
        return True  # the whole table at its natural width: nothing to narrow, nothing cut
    drawing = StringIO()
    probe = Console(
        file=drawing,
        width=console.width,
        color_system=None,
        markup=False,
        emoji=False,
        highlight=False,
    )
    probe.print(table)
    return drawing.getvalue().count(_CUT) <= _held(table)


def _held(table: Table) -> int:
    """The ellipses the table's own cells hold (a cut adds more)."""
    return sum(
        _plain(cell).count(_CUT)
        for column in table.columns
        for cell in (column.header, *column.cells)
    )


def stacked(table: Table) -> RenderableType:
    """``table`` as one block per row: the first cell, then ``column value`` pairs."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    headers = [_plain(column.header) for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    for row in range(table.row_count):
        first = _plain(cells[0][row]) if cells else ""
        pairs = Text()
        for index in range(1, len(table.columns)):
            value = _plain(cells[index][row])
            if not value:
                continue
            if pairs:
                pairs.append("; ")
            if headers[index]:
                pairs.append(f"{headers[index]} ", style="dim")
            pairs.append(value)
        grid.add_row(first, pairs)
    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text(_plain(table.title), style="italic"))
    parts.append(grid)
    if table.caption:
        parts.append(Text(_plain(table.caption), style="dim"))
    from rich.console import Group

    return Group(*parts)


def fit(part: RenderableType, console: Console, *, as_printed: bool = False) -> RenderableType:
    """``part`` as it reads best at the console's width.

    ``as_printed``: the console prints the result with its own options (``print`` without
    arguments). A table narrowed to the width is then checked on the console's own drawing,
    and that drawing is what is printed: drawn once, not once to check and again to print
    (a third of ``gridcloud plan``'s time at 80 columns)."""
    if not (isinstance(part, Table) and part.columns and part.show_header):
        return part
    if not as_printed:
        return part if fits(part, console) else stacked(part)
    if Measurement.get(console, console.options.update_width(1_000_000), part).maximum <= (
        console.width
    ):
        return part  # the whole table at its natural width: nothing to narrow, nothing cut
    from rich.segment import Segments

    # the options Console.print renders with when given no arguments
    options = console.options.update(
        justify=None, overflow=None, no_wrap=None, markup=None, highlight=None, height=None
    )
    drawing = list(console.render(part, options))
    if sum(segment.text.count(_CUT) for segment in drawing) <= _held(part):
        return Segments(drawing)
    return stacked(part)
