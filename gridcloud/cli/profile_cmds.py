"""``gridcloud validate`` and ``gridcloud schema``."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated

import typer

from gridcloud.cli.plan_cmd import JsonOpt


def profile_schema() -> dict[str, object]:
    """The profile's JSON Schema (draft 2020-12), for editors' YAML language servers."""
    from gridcloud.profile.models import documented

    schema = documented().model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gridcloud.dev/schemas/profile-v1alpha1.json",
        **schema,
    }


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        profile: Annotated[str, typer.Argument(help="Profile path or shipped profile name.")],
        json: JsonOpt = False,
    ) -> None:
        """Check a profile: its fields, the catalog, and that its Plan can be built."""
        from gridcloud.errors import GridcloudError, ProfileError
        from gridcloud.facility import analyse, resolve_profile

        path = resolve_profile(profile)
        try:
            result = analyse(path)
        except GridcloudError as error:
            if json:
                from gridcloud.cli.output import emit_json

                problems = error.problems if isinstance(error, ProfileError) else [error.message]
                emit_json({"profile": str(path), "valid": False, "problems": problems})
            raise
        if json:
            from gridcloud.cli.output import emit_json

            emit_json(
                {
                    "profile": str(path),
                    "valid": True,
                    "name": result.plan.name,
                    "fingerprint": result.plan.fingerprint,
                }
            )
            return
        from gridcloud.cli.output import out, styled

        pools = len(result.plan.elastic_pools)
        out.print(
            styled(
                ("valid:", "green"),
                f" {path}: facility {result.plan.name}, {pools} elastic "
                f"pool{'s' if pools != 1 else ''}, fingerprint {result.plan.fingerprint}",
            )
        )

    @app.command()
    def schema(
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Write to this file instead of stdout."),
        ] = None,
    ) -> None:
        """Print the profile's JSON Schema (for editors and CI linters)."""
        text = jsonlib.dumps(profile_schema(), indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
