"""``gridcloud cost``: estimates (and, later, reports from the billing export)."""

from __future__ import annotations

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg

app = typer.Typer(help="What a facility costs.", no_args_is_help=True)


@app.command()
def estimate(profile: ProfileArg = None, json: JsonOpt = False) -> None:
    """Idle and peak cost per pool, cost per core-hour, and the budget runway."""
    from gridcloud.facility import analyse, resolve_profile

    result = analyse(resolve_profile(profile))
    if json:
        from gridcloud.cli.output import emit_json

        emit_json(
            {
                "profile": str(result.path),
                "cost": result.estimate.model_dump(mode="json", by_alias=True),
                "budget": result.verdict.model_dump(mode="json", by_alias=True),
            }
        )
        return
    from gridcloud.cli import tables
    from gridcloud.cli.output import out

    out.print(tables.cost(result.estimate))
    out.print()
    out.print(tables.budget(result.verdict))
