"""The Typer application and its one error boundary.

Every command runs inside :meth:`GridcloudGroup.invoke`: a :class:`GridcloudError` becomes
``Error: ...`` and ``Hint: ...`` on stderr and its exit code; anything unexpected becomes an
internal error (exit 1). A traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from gridcloud import __version__
from gridcloud.errors import ExitCode, GridcloudError


def _report(error: GridcloudError) -> None:
    from gridcloud.cli.output import err, styled

    err.print(styled(("Error:", "bold red"), f" {error}"), soft_wrap=True)
    if error.hint:
        err.print(styled(("Hint:", "bold"), f" {error.hint}"), soft_wrap=True)


def _flags_take_no_value(command: Any) -> None:
    """Help shows an on/off flag without a type: ``--json``, not ``--json <bool>`` (as if it
    took a value). Typer labels every option with its type; an empty metavar for flags."""
    for param in command.params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    made = command.get_help_option  # --help is made per context, not kept in params

    def help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _flags_take_no_value(sub)


class GridcloudGroup(TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _flags_take_no_value(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise
        except GridcloudError as error:
            if _debug(ctx):
                traceback.print_exc()
            _report(error)
            raise typer.Exit(int(error.exit_code)) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        except KeyboardInterrupt:
            _report(GridcloudError("interrupted"))
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as error:  # the boundary: nothing escapes as a bare traceback
            if _debug(ctx):
                traceback.print_exc()
            _report(
                GridcloudError(
                    f"internal error: {type(error).__name__}: {error}",
                    hint="run again with --debug for the traceback, and report it",
                )
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _quiet_stdout() -> None:
    """The reader went away (``gridcloud plan | head``): stop writing, without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _debug(ctx: Any) -> bool:
    return bool((ctx.obj or {}).get("debug")) or "--debug" in sys.argv


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gridcloud {__version__}")
        raise typer.Exit()


def create_cli() -> typer.Typer:
    """Build the application (a fresh one per call, for tests and embedding)."""
    app = typer.Typer(
        name="gridcloud",
        cls=GridcloudGroup,
        help="Analysis facilities on Kubernetes and Google Cloud, from one profile.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
        version: Annotated[  # noqa: ARG001 (handled by its eager callback)
            bool,
            typer.Option(
                "--version", callback=_version, is_eager=True, help="Show the version and exit."
            ),
        ] = False,
    ) -> None:
        ctx.obj = {"debug": debug}

    from gridcloud.cli import (
        catalog_cmd,
        check_cmd,
        cost_cmd,
        init_cmd,
        plan_cmd,
        profile_cmds,
        render_cmd,
        stack_cmds,
    )

    init_cmd.register(app)
    profile_cmds.register(app)
    plan_cmd.register(app)
    render_cmd.register(app)
    app.add_typer(cost_cmd.app, name="cost")
    catalog_cmd.register(app)
    check_cmd.register(app)
    stack_cmds.register(app)
    return app


def _no_plugin_lookup() -> None:
    """With the plugins off, pydantic's plugin loader still imports importlib.metadata (and
    email, zipfile...) when it builds its first validator, only to return no plugins: ~40 M
    instructions of every command that validates (benchmarks/README.md). Its one function,
    answering as it does with the plugins off, stands in for the module."""
    import types

    name = "pydantic.plugin._loader"
    if name in sys.modules:
        return
    loader = types.ModuleType(name)
    loader.get_plugins = tuple  # type: ignore[attr-defined]  # no plugins: ()
    sys.modules[name] = loader


def main() -> None:
    # pydantic looks for plugins (observability hooks gridcloud does not use) in every
    # installed distribution's entry points the first time it builds a model: importing
    # importlib.metadata and scanning them is ~30 ms a run, more with many packages
    # installed. Set, the variable keeps the user's choice (empty: plugins load).
    if "PYDANTIC_DISABLE_PLUGINS" not in os.environ:
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
        _no_plugin_lookup()
    try:
        create_cli()(prog_name="gridcloud")
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(int(ExitCode.INTERNAL))
