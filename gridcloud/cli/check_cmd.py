"""``gridcloud check``: whether a deploy can go ahead, each finding with its fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg
from gridcloud.cli.stack_cmds import BackendOpt, SecretsOpt

if TYPE_CHECKING:
    from gridcloud.check.model import Report


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
        skip: Annotated[
            list[str] | None,
            typer.Option(
                "--skip",
                metavar="ID=REASON",
                help="Do not let check ID block (repeatable); it still runs and shows "
                "what it found, with your reason.",
            ),
        ] = None,
    ) -> None:
        """Preflight: tools, credentials, project, APIs, quotas against the Plan's peak.

        Exit 0 when a deploy can go ahead, 9 when something must be fixed first.
        """
        from gridcloud.analysis import analyse, resolve_profile
        from gridcloud.check import run
        from gridcloud.cli.output import err, styled

        reasons = _reasons(skip or [])
        result = analyse(resolve_profile(profile))

        def progress(message: str) -> None:
            if not quiet:
                err.print(styled((f"... {message}", "dim")))

        report = run(result.plan, progress, backend=backend, secrets_provider=secrets_provider)
        if reasons:
            report = report.waive(reasons)
        show(
            report,
            json_output=json,
            refused=f"a deploy of {report.profile} cannot go ahead",
            again="gridcloud check",
        )


def _reasons(skips: list[str]) -> dict[str, str]:
    """``--skip ID=REASON`` values as id -> reason; an unknown id or a missing reason is
    an input error (a typo must not silently waive nothing)."""
    from gridcloud.check.model import CHECK_IDS
    from gridcloud.errors import InputError

    reasons: dict[str, str] = {}
    for given in skips:
        check_id, _, reason = given.partition("=")
        check_id, reason = check_id.strip(), reason.strip()
        if check_id not in CHECK_IDS:
            raise InputError(
                f"--skip {given!r}: no check has the id {check_id!r}",
                hint=f"the ids: {', '.join(CHECK_IDS)}",
            )
        if not reason:
            raise InputError(
                f"--skip {given!r}: say why it is skipped",
                hint=f"--skip {check_id}='quota raised on 2026-12-01, case 1234' "
                "(the reason is printed with the check)",
            )
        reasons[check_id] = reason
    return reasons


def show(report: Report, *, json_output: bool, refused: str, again: str) -> None:
    """A report of checks (``check``'s, ``verify``'s) as a table or JSON; exit 9 naming
    the failed checks when it is not a go."""
    from gridcloud.errors import NotReadyError

    if json_output:
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
            f"{refused}: {', '.join(failed)} failed",
            hint=f"each failed row above says what to do; run `{again}` again after",
        )
