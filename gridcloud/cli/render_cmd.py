"""``gridcloud render``: the manifests a deploy would install, for review and GitOps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridcloud.cli.plan_cmd import ProfileArg


def register(app: typer.Typer) -> None:
    @app.command()
    def render(
        profile: ProfileArg = None,
        out: Annotated[
            Path,
            typer.Option("--out", help="Folder to write the manifests into (created)."),
        ] = Path("rendered"),
        charts: Annotated[
            Path | None,
            typer.Option(
                "--charts",
                help="A local folder of charts as <chart>-<version>/ (offline). Default: "
                "pull each chart from its repository once into gridcloud's cache.",
            ),
        ] = None,
    ) -> None:
        """Render every release with Helm's engine, check each object against Kubernetes'
        schemas, and write one file per release (secrets stay placeholders)."""
        from gridcloud.analysis import analyse, resolve_profile
        from gridcloud.cli.output import err
        from gridcloud.cli.output import out as stdout
        from gridcloud.errors import InputError, PlanError
        from gridcloud.render import missing_engine, render_plan
        from gridcloud.render.validate import cluster_version, problems

        absent = missing_engine()
        if absent:
            raise InputError(
                f"gridcloud render needs Helm's engine and Kubernetes' schemas; not installed: "
                f"{', '.join(absent)}",
                hint="install the render extra: pip install 'gridcloud[render]' (in a clone: "
                ".venv/bin/pip install -c requirements/lock.txt -e '.[render]')",
            )
        if out.exists() and not out.is_dir():
            raise InputError(
                f"--out {out} is a file; render writes a folder of files",
                hint="name a new or existing folder",
            )
        result = analyse(resolve_profile(profile))
        plan = result.plan
        rendered = render_plan(plan, charts, progress=lambda name: err.print(f"rendering {name}"))
        version = cluster_version(plan)
        found = problems(rendered, version)
        from gridcloud.render.multikueue import render_shards, write_shards

        shards = render_shards(plan, charts, progress=lambda name: err.print(f"rendering {name}"))
        for releases in shards.values():  # the shards run the home cluster's channel
            found += problems(releases, version)
        if found:
            raise PlanError(
                f"{len(found)} rendered object(s) Kubernetes {version} would refuse:\n  "
                + "\n  ".join(found),
                hint="this is a gridcloud bug or a chart change: report it with the profile",
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
            for release in rendered:
                path = out / f"{release.name}.yaml"
                path.write_text(release.to_yaml(), encoding="utf-8")
                stdout.print(f"{path}  {len(release.manifests)} objects")
            from gridcloud.render import harvester

            # every cluster's Job template and queue (the kubeconfigs are stack outputs)
            for path, what in harvester.write(plan, out):
                stdout.print(f"{path}  {what}")
            if plan.data is not None and plan.data.rucio is not None:
                from gridcloud.render import rucio

                for path, what in rucio.write(plan.data.rucio, out):
                    stdout.print(f"{path}  {what}")
            for path, what in write_shards(shards, out):
                stdout.print(f"{path}  {what}")
            from gridcloud.render.backups import write_restores

            for path, what in write_restores(plan, out):
                stdout.print(f"{path}  {what}")
        except OSError as error:
            raise InputError(
                f"cannot write the manifests into {out}: {error.strerror or error}",
                hint="name a folder you can write to",
            ) from error
        stdout.print(f"valid for Kubernetes {version}; secrets are placeholders, filled at deploy")
