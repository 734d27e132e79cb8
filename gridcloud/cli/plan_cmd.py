"""``gridcloud plan``: what would be built, and what it would cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from gridcloud.facility import Analysis

ProfileArg = Annotated[
    str | None,
    typer.Argument(
        help="Profile path, or a shipped profile's name. Default: $GRIDCLOUD_PROFILE, "
        "else profiles/default.yaml.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented keys) instead.")]


def analysis_json(result: Analysis) -> dict[str, Any]:
    return {
        "profile": str(result.path),
        "plan": result.plan.to_json(),
        "cost": result.estimate.model_dump(mode="json", by_alias=True),
        "budget": result.verdict.model_dump(mode="json", by_alias=True),
        "findings": [f.model_dump(mode="json") for f in result.findings],
    }


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(profile: ProfileArg = None, json: JsonOpt = False) -> None:
        """Show the facility a profile describes: pools, network, services, cost, budget."""
        from gridcloud.facility import analyse, resolve_profile

        result = analyse(resolve_profile(profile))
        if json:
            from gridcloud.cli.output import emit_json

            emit_json(analysis_json(result))
            return
        from gridcloud.cli import tables
        from gridcloud.cli.output import out

        for part in tables.analysis(result):
            out.print(part)
            out.print()
