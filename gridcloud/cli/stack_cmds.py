"""``gridcloud preview | up | destroy | refresh | status | stacks``: the engine's commands.

Each analyses the profile (the same Plan, cost and budget verdict as ``gridcloud plan``),
runs preflight checks, and drives the stack through the Automation API with live progress.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from gridcloud.cli.plan_cmd import JsonOpt, ProfileArg

StackOpt = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="Stack name. Default: the profile's facility name."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Pulumi state backend URL (gs://bucket/prefix, file://DIR, ...). Default: "
        "$GRIDCLOUD_BACKEND, else a local directory in your user data dir.",
        show_default=False,
    ),
]
SecretsOpt = Annotated[
    str | None,
    typer.Option(
        "--secrets-provider",
        help="passphrase (default; $PULUMI_CONFIG_PASSPHRASE) or a Cloud KMS key "
        "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K.",
        show_default=False,
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _ref(stack: str | None, default_name: str, backend: str | None, secrets: str | None) -> Any:
    from gridcloud.engine.backend import resolve_backend
    from gridcloud.engine.stacks import StackRef

    return StackRef(stack or default_name, resolve_backend(backend), secrets)


def _confirmer(
    operation: str, stack: str, *, yes: bool, warning: str | None = None
) -> Callable[[dict[str, int]], bool] | None:
    """None with --yes; else a prompt, refused up front when nobody can answer it."""
    if yes:
        return None
    if not sys.stdin.isatty():
        from gridcloud.errors import InputError

        raise InputError(
            f"`gridcloud {operation}` asks for confirmation, and this session is not interactive",
            hint="pass --yes to go ahead without asking (CI: --yes --json)",
        )

    def confirm(changes: dict[str, int]) -> bool:
        from gridcloud.cli.output import err

        summary = ", ".join(f"{n} to {op}" for op, n in changes.items() if op != "same")
        err.print(f"[bold]{operation}[/] stack {stack}: {summary or 'no changes'}")
        if warning:
            err.print(f"[yellow]warning:[/] {warning}")
        return typer.confirm(f"Go ahead with {operation}?", default=False, err=True)

    return confirm


def _report(result: Any, json_output: bool) -> None:
    from gridcloud.cli.output import emit_json_line, err, out

    if json_output:
        emit_json_line(result.to_json())
        return
    if result.result == "cancelled":
        err.print(f"{result.operation} cancelled: nothing was changed")
        return
    changes = ", ".join(f"{n} {op}" for op, n in result.changes.items()) or "no changes"
    err.print(
        f"[green]{result.operation} succeeded[/] on stack {result.stack} in "
        f"{result.elapsed_seconds:.0f}s: {changes}"
    )
    for key, value in result.outputs.items():
        out.print(f"{key}: {value}", markup=False)


def _operate(
    operation: str,
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
    yes: bool = True,
    allow_over_budget: bool = False,
) -> None:
    from gridcloud.engine import stacks
    from gridcloud.facility import analyse, resolve_profile

    result = analyse(resolve_profile(profile))
    plan = result.plan
    if operation == "up":
        from gridcloud.cost.budget import enforce

        enforce(result.verdict, allow_over_budget=allow_over_budget)
    warning = None
    if operation == "destroy":
        if plan.cluster is not None and plan.cluster.deletion_protection:
            from gridcloud.errors import InputError

            raise InputError(
                f"cluster {plan.cluster.name} has deletion protection on; GKE would refuse",
                hint="set cluster.deletionProtection: false in the profile, run `gridcloud up`, "
                "then destroy",
            )
        warning = (
            "disks created for PersistentVolumeClaims are not Pulumi resources: delete the "
            "claims first (see docs/deploy.md), or they stay behind, still billed"
        )
    ref = _ref(stack, plan.name, backend, secrets_provider)
    confirm = _confirmer(operation, ref.name, yes=yes, warning=warning)
    outcome = stacks.run(operation, plan, ref, json_output=json_output, confirm=confirm)  # type: ignore[arg-type]
    _report(outcome, json_output)


def _read_only(operation: str, summary: str) -> Callable[..., None]:
    """A command that changes no cloud resource, so asks for no confirmation."""

    def command(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        _operate(operation, profile, stack, backend, secrets_provider, json_output=json)

    command.__doc__ = summary
    return command


def register(app: typer.Typer) -> None:
    app.command(name="preview")(
        _read_only("preview", "Show what `up` would change, without changing anything.")
    )

    @app.command()
    def up(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        yes: YesOpt = False,
        allow_over_budget: Annotated[
            bool,
            typer.Option("--allow-over-budget", help="Deploy even if the budget gate refuses."),
        ] = False,
        json: JsonOpt = False,
    ) -> None:
        """Create or update the facility (after the budget gate and a confirmation)."""
        _operate(
            "up",
            profile,
            stack,
            backend,
            secrets_provider,
            json_output=json,
            yes=yes,
            allow_over_budget=allow_over_budget,
        )

    @app.command()
    def destroy(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        yes: YesOpt = False,
        json: JsonOpt = False,
    ) -> None:
        """Delete every resource of the facility's stack."""
        _operate("destroy", profile, stack, backend, secrets_provider, json_output=json, yes=yes)

    app.command(name="refresh")(
        _read_only("refresh", "Read the real state of the facility's resources into the stack.")
    )

    @app.command()
    def status(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """A stack's outputs (secrets masked), its resources and its last update."""
        from gridcloud.engine import stacks
        from gridcloud.facility import analyse, resolve_profile

        plan = analyse(resolve_profile(profile)).plan
        data = stacks.status(plan, _ref(stack, plan.name, backend, secrets_provider))
        from gridcloud.cli.output import emit_json, out

        if json:
            emit_json(data)
            return
        last = data["lastUpdate"] or {}
        out.print(
            f"[bold]stack[/] {data['stack']} ({data['backend']}): {data['resourceCount']} "
            f"resources; last update: {last.get('kind', 'none')} {last.get('result', '')} "
            f"{last.get('endTime') or ''}"
        )
        for key, value in data["outputs"].items():
            out.print(f"  {key}: {value}", markup=False)
        for typ, count in sorted(data["resources"].items()):
            out.print(f"  {count:>4}  {typ}")

    @app.command(name="stacks")
    def list_stacks(
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """The stacks in the state backend."""
        from gridcloud.engine import stacks as engine

        found = engine.list_stacks(_ref(None, "-", backend, secrets_provider))
        from gridcloud.cli.output import emit_json, out

        if json:
            emit_json(found)
            return
        if not found:
            out.print("no stacks")
        for item in found:
            busy = " (update in progress)" if item["updateInProgress"] else ""
            out.print(
                f"{item['name']}{busy}: {item['resourceCount'] or 0} resources, last update "
                f"{item['lastUpdate'] or 'never'}"
            )
