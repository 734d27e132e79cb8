"""A one-line result (``validate``'s) is written without rich when rich would write plain
text: the same characters rich writes, never wrapped, and rich's own judgement of a
terminal (``TTY_COMPATIBLE``, ``FORCE_COLOR``, ``isatty``) decides which."""

from __future__ import annotations

import io
import sys

import pytest

from gridcloud.cli import output
from gridcloud.cli.consoles import TextConsole
from gridcloud.cli.output import print_line, styled, takes_plain_text

LINE = (
    ("valid:", "green"),
    " profiles/a-very-long-name-for-a-profile.yaml: facility atlas-gcp, 4 elastic pools, "
    "fingerprint 56cd82a62e06af4a \x1b[31m",
)


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def by_rich(stream: io.StringIO) -> str:
    console = TextConsole(file=stream, highlight=False, markup=False, emoji=False, width=80)
    console.print(styled(*LINE), soft_wrap=True)
    return stream.getvalue()


def test_a_line_to_a_pipe_is_what_rich_writes_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    ours = Pipe()
    monkeypatch.setattr(sys, "stdout", ours)
    print_line(*LINE)
    expected = by_rich(Pipe())
    assert ours.getvalue() == expected
    assert ours.getvalue().count("\n") == 1  # longer than 80 columns, not wrapped
    assert "\\x1b[31m" in ours.getvalue()  # an escape in the data shown, never sent


def test_a_tab_is_expanded_as_rich_expands_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    ours = Pipe()
    monkeypatch.setattr(sys, "stdout", ours)
    monkeypatch.setattr("gridcloud.cli.consoles.out", TextConsole(file=ours, width=80))
    print_line(("valid:", "green"), " a\tpath.yaml: facility x")
    theirs = Pipe()
    TextConsole(file=theirs, width=80).print(
        styled(("valid:", "green"), " a\tpath.yaml: facility x"), soft_wrap=True
    )
    assert ours.getvalue() == theirs.getvalue()
    assert "\t" not in ours.getvalue()


@pytest.mark.parametrize(
    ("environment", "stream", "plain"),
    [
        ({}, Pipe, True),
        ({}, Terminal, False),
        ({"FORCE_COLOR": "1"}, Pipe, False),
        ({"FORCE_COLOR": ""}, Terminal, True),
        ({"TTY_COMPATIBLE": "1"}, Pipe, False),
        ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, Terminal, True),
        ({"TTY_COMPATIBLE": "2"}, Terminal, False),
    ],
)
def test_plain_when_rich_would_write_no_escape_codes(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    stream: type[io.StringIO],
    plain: bool,
) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert takes_plain_text(stream()) is plain
    # rich's own judgement of the same stream agrees
    assert TextConsole(file=stream()).is_terminal is not plain


def test_a_terminal_gets_the_line_from_rich_styled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    printed: list[tuple[object, dict[str, object]]] = []

    class Console:
        def print(self, *objects: object, **kwargs: object) -> None:
            printed.append((objects[0], kwargs))

    from gridcloud.cli import consoles

    monkeypatch.setattr(consoles, "out", Console())
    print_line(*LINE)
    ((text, kwargs),) = printed
    assert kwargs == {"soft_wrap": True}
    assert str(text).startswith("valid: profiles/")
    assert output.takes_plain_text(io.StringIO()) is False  # FORCE_COLOR set
