"""``gridcloud preview | up | destroy | refresh | status | stacks``: the engine's commands.

``preview`` and ``up`` go through the deploy use case (:func:`gridcloud.deploy.prepare`, which
plain ``pulumi up`` shares: the analysis, the gates, the preflight checks, the deployed ranges,
the cap gate) and drive the stack through the Automation API with live progress.
``destroy``, ``refresh``, ``status`` and ``stacks`` need only the stack: its name
(``--stack``, else the profile's ``name``), the backend and the secrets provider; they never
validate a profile.
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


def _stack_only_ref(
    profile: str | None, stack: str | None, backend: str | None, secrets: str | None
) -> Any:
    """The stack a state-only command works on: ``--stack``, else the profile's name."""
    from gridcloud.facility import stack_name

    return _ref(stack, stack or stack_name(profile), backend, secrets)


def _confirmer(operation: str, stack: str, *, yes: bool) -> Callable[[dict[str, int]], bool] | None:
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
        from gridcloud.cli.output import err, styled

        summary = ", ".join(f"{n} to {op}" for op, n in changes.items() if op != "same")
        err.print(styled((operation, "bold"), f" stack {stack}: {summary or 'no changes'}"))
        return typer.confirm(f"Go ahead with {operation}?", default=False, err=True)

    return confirm


def _report(result: Any, json_output: bool) -> None:
    from gridcloud.cli.output import emit_json_line, err, out, styled

    if json_output:
        emit_json_line(result.to_json())
        return
    if result.result == "cancelled":
        err.print(f"{result.operation} cancelled: nothing was changed")
        return
    changes = ", ".join(f"{n} {op}" for op, n in result.changes.items()) or "no changes"
    err.print(
        styled(
            (f"{result.operation} succeeded", "green"),
            f" on stack {result.stack} in {result.elapsed_seconds:.0f}s: {changes}",
        )
    )
    for key, value in result.outputs.items():
        out.print(f"{key}: {value}")


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
    strict: bool = False,
    lift_cap: bool = False,
) -> None:
    from gridcloud.deploy import Options, prepare
    from gridcloud.engine import stacks
    from gridcloud.facility import resolve_profile

    def stack_for(plan: Any) -> stacks.EngineStack:
        ref = _ref(stack, plan.name, backend, secrets_provider)
        # refused up front when nobody can answer, before the stack is touched
        return stacks.EngineStack(ref, confirm=_confirmer(operation, ref.name, yes=yes))

    prepared = prepare(
        resolve_profile(profile),
        Options(allow_over_budget=allow_over_budget, strict=strict, lift_cap=lift_cap),
        stack_for,
        operation="up" if operation == "up" else "preview",
    )
    target = prepared.stack
    assert isinstance(target, stacks.EngineStack)
    outcome = stacks.run(
        operation,  # type: ignore[arg-type]
        prepared.analysis.plan,
        target.ref,
        json_output=json_output,
        confirm=target.confirm,
        refresh=prepared.refresh,
    )
    _report(outcome, json_output)


def _refresh(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
) -> None:
    from gridcloud.engine import stacks

    ref = _stack_only_ref(profile, stack, backend, secrets_provider)
    stacks.require_state(ref)
    _report(stacks.run("refresh", None, ref, json_output=json_output), json_output)


def _leftover_prompt(yes: bool) -> Callable[[list[Any]], bool]:
    def ask(items: list[Any]) -> bool:
        from gridcloud.cli.output import err, styled

        err.print(
            styled((f"{len(items)} resource(s) of the facility remain, still billed:", "yellow"))
        )
        for item in items:
            size = f", {item.size_gb} GB" if item.size_gb else ""
            err.print(f"  {item.kind} {item.name} ({item.location}{size}): {item.why}")
            err.print(f"    by hand: {item.command()}", style="dim")
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return typer.confirm("Delete them?", default=False, err=True)

    return ask


def _destroy(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
    yes: bool,
) -> None:
    from gridcloud.engine import teardown

    ref = _stack_only_ref(profile, stack, backend, secrets_provider)
    confirm = _confirmer("destroy", ref.name, yes=yes)
    outcome = teardown.destroy(
        ref,
        json_output=json_output,
        confirm=confirm,
        delete_leftovers=_leftover_prompt(yes),
    )
    from gridcloud.cli.output import emit_json_line, err, styled

    if json_output:
        emit_json_line(outcome.to_json())
    else:
        _report(outcome.result, json_output=False)
        if outcome.deleted:
            err.print(f"deleted {len(outcome.deleted)} leftover resource(s)")
        kept = len(outcome.leftovers) - len(outcome.deleted)
        if kept and not outcome.failures:
            err.print(
                styled(
                    ("warning:", "yellow"),
                    f" {kept} leftover resource(s) kept, still billed: run again with --yes "
                    "to delete them, or delete them in the console",
                )
            )
    if outcome.failures:
        from gridcloud.errors import EngineError

        raise EngineError(
            "the facility is destroyed, but some leftovers could not be deleted: "
            + "; ".join(outcome.failures),
            hint="delete them in the console or with gcloud; they are still billed",
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def preview(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Show what `up` would change, without changing anything."""
        _operate("preview", profile, stack, backend, secrets_provider, json_output=json)

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
        strict: Annotated[
            bool,
            typer.Option(
                "--strict", help="Refuse (exit 8) on a policy warning the profile does not waive."
            ),
        ] = False,
        lift_cap: Annotated[
            bool,
            typer.Option(
                "--lift-cap",
                help="Give the pools back their autoscaling while the budget cap is in force.",
            ),
        ] = False,
        json: JsonOpt = False,
    ) -> None:
        """Create or update the facility (after the budget gate and a confirmation).

        While the budget cap is in force `up` refuses (exit 4): it would undo the cap.
        """
        _operate(
            "up",
            profile,
            stack,
            backend,
            secrets_provider,
            json_output=json,
            yes=yes,
            allow_over_budget=allow_over_budget,
            strict=strict,
            lift_cap=lift_cap,
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
        """Delete every resource of the facility's stack, then what it left behind.

        Works from the stack's state alone: the profile only names the stack (--stack does
        without it)."""
        _destroy(profile, stack, backend, secrets_provider, json_output=json, yes=yes)

    @app.command()
    def refresh(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Read the real state of the facility's resources into the stack (state only)."""
        _refresh(profile, stack, backend, secrets_provider, json_output=json)

    @app.command()
    def status(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """A stack's outputs (secrets masked), its resources and its last update (state only)."""
        from gridcloud.engine import cap, stacks

        data = stacks.status(None, _stack_only_ref(profile, stack, backend, secrets_provider))
        data["cap"] = cap.status(data["outputs"])
        from gridcloud.cli.output import emit_json, out, styled

        if json:
            emit_json(data)
            return
        last = data["lastUpdate"] or {}
        out.print(
            styled(
                ("stack", "bold"),
                f" {data['stack']} ({data['backend']}): {data['resourceCount']} "
                f"resources; last update: {last.get('kind', 'none')} {last.get('result', '')} "
                f"{last.get('endTime') or ''}",
            )
        )
        for key, value in data["outputs"].items():
            out.print(f"  {key}: {value}")
        capped = data["cap"]
        if capped is not None:
            if capped["error"]:
                out.print(styled(("budget cap: unknown", "yellow"), f" ({capped['error']})"))
            elif capped["inForce"]:
                out.print(
                    styled(
                        (f"budget cap in force for {capped['period']}", "bold red"),
                        ": the elastic pools are at zero; `gridcloud up --lift-cap` restores them",
                    )
                )
            else:
                out.print("budget cap: not in force")
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
