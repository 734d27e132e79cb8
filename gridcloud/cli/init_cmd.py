"""``gridcloud init``: a starter profile from the shipped examples.

The examples are the files of ``profiles/`` in the repository; a wheel carries the same
files as package data (``gridcloud/profiles/``, force-included at build time), so an
installed gridcloud has them without a second copy to keep in step.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: Where a source checkout keeps the examples (the wheel's copy is made from it).
CHECKOUT_PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def examples() -> dict[str, Traversable]:
    """The shipped example profiles by name: the installed package's copy, else (a source
    checkout) the repository's ``profiles/``."""
    packaged = resources.files("gridcloud") / "profiles"
    folder: Traversable = packaged if packaged.is_dir() else CHECKOUT_PROFILES
    if not folder.is_dir():
        return {}
    return {
        item.name.removesuffix(".yaml"): item
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yaml")
    }


def write_example(name: str, path: Path, *, force: bool) -> Path:
    """Write example ``name`` to ``path``; an existing file only with ``force``."""
    from gridcloud.errors import InputError

    found = examples()
    if name not in found:
        from gridcloud.profile.loader import suggest

        close = suggest(name, list(found))
        raise InputError(
            f"no example profile named '{name}'",
            hint=(f"did you mean {close[0]}? " if close else "")
            + f"examples: {', '.join(found) or 'none (a broken installation)'}",
        )
    if path.exists() and not force:
        raise InputError(
            f"{path} exists: not overwritten",
            hint="give another path, or --force to replace it",
        )
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a file", hint="give a file's path")
    text = found[name].read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        path: Annotated[
            Path | None,
            typer.Argument(
                help="Where to write it. Default: profiles/<NAME>.yaml, where plan and the "
                "other commands find it by name (profiles/default.yaml needs no name).",
                show_default=False,
            ),
        ] = None,
        example: Annotated[
            str,
            typer.Option("--example", "-e", metavar="NAME", help="The example to start from."),
        ] = "default",
        force: Annotated[
            bool, typer.Option("--force", help="Replace the file if it exists.")
        ] = False,
        list_examples: Annotated[
            bool, typer.Option("--list", help="List the examples and exit.")
        ] = False,
    ) -> None:
        """Write a starter profile from one of the shipped examples."""
        from gridcloud.cli.output import err, out, styled

        if list_examples:
            for name in examples():
                out.print(name)
            return
        target = path if path is not None else Path("profiles") / f"{example}.yaml"
        written = write_example(example, target, force=force)
        command = (
            "gridcloud plan"
            if target == Path("profiles/default.yaml")
            else (f"gridcloud plan {written}")
        )
        err.print(
            styled(
                (f"wrote {written}", "bold"),
                f" (example '{example}'): set target.project and the hostnames, then `{command}`",
            )
        )
