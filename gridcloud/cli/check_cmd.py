"""``gridcloud check``: whether a deploy can go ahead, each finding with its fix."""

from __future__ import annotations

from typing import Annotated

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg
from gridcloud.cli.stack_cmds import BackendOpt, SecretsOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        profile: ProfileArg = None,
        json: JsonOpt = False,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="No progress on stderr.")
        ] = False,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
    ) -> None:
        """Preflight: tools, credentials, project, APIs, quotas against the Plan's peak.

        Exit 0 when a deploy can go ahead, 9 when something must be fixed first.
        """
        from gridcloud.check import run
        from gridcloud.cli.output import err, styled
        from gridcloud.errors import NotReadyError
        from gridcloud.facility import analyse, resolve_profile

        result = analyse(resolve_profile(profile))

        def progress(message: str) -> None:
            if not quiet:
                err.print(styled((f"... {message}", "dim")))

        report = run(result.plan, progress, backend=backend, secrets_provider=secrets_provider)
        if json:
            from gridcloud.cli.output import emit_json

            emit_json(report.to_json())
        else:
            from gridcloud.cli import tables
            from gridcloud.cli.output import out

            for part in tables.check_report(report):
                out.print(part)
                out.print()
        if not report.go:
            failed = [c.title for c in report.checks if c.status == "fail"]
            raise NotReadyError(
                f"a deploy of {report.profile} cannot go ahead: {', '.join(failed)} failed",
                hint="each failed row above says what to do; run `gridcloud check` again after",
            )
