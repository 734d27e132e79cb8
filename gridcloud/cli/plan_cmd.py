"""``gridcloud plan``: what would be built, and what it would cost."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from gridcloud.analysis import Analysis

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


def _print_values(result: Analysis, name: str, *, json_output: bool) -> None:
    from gridcloud.errors import InputError

    releases = {r.name: r for r in result.plan.services.releases}
    if name not in releases:
        from gridcloud.profile.loader import suggest

        close = suggest(name, releases)
        raise InputError(
            f"no release {name!r} in this plan",
            hint=(f"did you mean {close[0]}? " if close else "")
            + f"releases: {', '.join(releases) or 'none (every service is off)'}",
        )
    release = releases[name]
    document = {
        "release": release.name,
        "chart": release.chart,
        "version": release.version,
        "repository": release.repository,
        "namespace": release.namespace,
        "secrets": [".".join(s.path) for s in release.secrets],
        "values": release.values,
    }
    if json_output:
        from gridcloud.cli.output import emit_json

        emit_json(document)
        return
    import yaml

    from gridcloud.cli.output import err

    secrets = ", ".join(document["secrets"]) or "none"  # type: ignore[arg-type]
    err.print(
        f"# {release.chart} {release.version} in namespace {release.namespace}; "
        f"secrets filled in by Pulumi at deploy time: {secrets}",
        markup=False,
    )
    sys.stdout.write(yaml.safe_dump(release.values, sort_keys=False, width=100))


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        profile: ProfileArg = None,
        values: Annotated[
            str | None,
            typer.Option(
                "--values",
                metavar="RELEASE",
                help="Print the computed Helm values of one release (secrets masked).",
            ),
        ] = None,
        json: JsonOpt = False,
        strict: Annotated[
            bool,
            typer.Option(
                "--strict", help="Exit 8 on a policy warning the profile does not waive (CI)."
            ),
        ] = False,
    ) -> None:
        """Show the facility a profile describes: pools, network, services, cost, budget."""
        from gridcloud.analysis import analyse, resolve_profile
        from gridcloud.policy import enforce_strict

        result = analyse(resolve_profile(profile))
        if values is not None:
            _print_values(result, values, json_output=json)
            return
        if json:
            from gridcloud.cli.output import emit_json

            emit_json(analysis_json(result))
            if strict:
                enforce_strict(result.findings)
            return
        from gridcloud.cli import tables
        from gridcloud.cli.output import out

        for part in tables.analysis(result):
            out.print(part)
            out.print()
        if strict:
            enforce_strict(result.findings)
