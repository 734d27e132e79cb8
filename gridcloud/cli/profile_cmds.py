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
    register_upgrade(app)

    @app.command()
    def validate(
        profile: Annotated[str, typer.Argument(help="Profile path or shipped profile name.")],
        json: JsonOpt = False,
    ) -> None:
        """Check a profile: its fields, the catalog, and that its Plan can be built."""
        from gridcloud.analysis import analyse, resolve_profile
        from gridcloud.errors import GridcloudError, ProfileError

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
        from gridcloud.cli.output import print_line

        pools = len(result.plan.elastic_pools)
        print_line(
            ("valid:", "green"),
            f" {path}: facility {result.plan.name}, {pools} elastic "
            f"pool{'s' if pools != 1 else ''}, fingerprint {result.plan.fingerprint}",
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


def register_upgrade(app: typer.Typer) -> None:
    @app.command()
    def upgrade(
        profile: Annotated[str, typer.Argument(help="Profile path.")],
        write: Annotated[
            bool,
            typer.Option(
                "--write",
                help="Replace the file (the original is kept beside it as FILE.orig).",
            ),
        ] = False,
    ) -> None:
        """Bring a profile written for an older schema to the one this gridcloud reads.

        Prints the upgraded profile (or writes it with --write) and, on stderr, what each
        step changed. The result is validated before anything is written.
        """
        import yaml

        from gridcloud.cli.output import err
        from gridcloud.errors import InputError
        from gridcloud.profile.loader import parse_profile
        from gridcloud.profile.models import API_VERSION
        from gridcloud.profile.upgrade import upgrade as run_upgrade

        path = Path(profile)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputError(
                f"cannot read {path}: {str(exc).splitlines()[0]}",
                hint="give a profile's YAML file",
            ) from exc
        if not isinstance(document, dict):
            raise InputError(f"{path} is not a profile", hint="a profile is a YAML mapping")
        if document.get("apiVersion") == API_VERSION:
            err.print(f"{path} is already apiVersion {API_VERSION}: nothing to upgrade")
            return
        upgraded, notes = run_upgrade(document)
        text = yaml.safe_dump(upgraded, sort_keys=False, allow_unicode=True)
        parse_profile(text, f"{path} (upgraded)")
        for note in notes:
            err.print(note)
        if not write:
            typer.echo(text, nl=False)
            return
        original = path.with_name(path.name + ".orig")
        if original.exists():
            raise InputError(
                f"{original} exists: it may be the copy of an earlier upgrade",
                hint="move it away, then run the upgrade again",
            )
        original.write_bytes(path.read_bytes())
        path.write_text(text, encoding="utf-8")
        err.print(f"wrote {path} (the original is {original}; comments are not carried over)")
