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
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        help="One shard's stack only (`home` for the home cluster). Default: preview and up "
        "act on every shard's stack, destroy and status on the home one.",
        show_default=False,
    ),
]


def _ref(stack: str | None, default_name: str, backend: str | None, secrets: str | None) -> Any:
    from gridcloud.engine.backend import resolve_backend
    from gridcloud.engine.stacks import StackRef

    return StackRef(stack or default_name, resolve_backend(backend), secrets)


def _stack_only_ref(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets: str | None,
    shard: str | None = None,
) -> Any:
    """The stack a state-only command works on: ``--stack``, else the profile's name (with
    ``--shard``, that shard's stack)."""
    from gridcloud.analysis import stack_name
    from gridcloud.plan import shards

    name = stack or stack_name(profile)
    return _ref(None, name if shard is None else shards.stack_name(name, shard), backend, secrets)


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
    shard: str | None = None,
) -> None:
    from gridcloud.analysis import resolve_profile
    from gridcloud.deploy import Options, prepare
    from gridcloud.engine import stacks
    from gridcloud.errors import EngineError, GridcloudError
    from gridcloud.plan.shards import stack_plans

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
    home = prepared.analysis.plan
    plans = stack_plans(home, shard)
    failed: list[str] = []
    for plan in plans:
        # one stack per shard, each on its own: a failure in one does not stop the others
        ref = target.ref if plan is home else _ref(None, plan.name, backend, secrets_provider)
        confirm = target.confirm if plan is home else _confirmer(operation, ref.name, yes=yes)
        try:
            outcome = stacks.run(
                operation,  # type: ignore[arg-type]
                plan,
                ref,
                json_output=json_output,
                confirm=confirm,
                refresh=prepared.refresh and plan is home,
            )
        except GridcloudError as exc:
            if len(plans) == 1:
                raise
            from gridcloud.cli.output import err, styled

            err.print(styled((f"{operation} failed on stack {ref.name}: ", "red"), exc.message))
            failed.append(ref.name)
            continue
        _report(outcome, json_output)
    if failed:
        raise EngineError(
            f"{operation} failed on {len(failed)} of {len(plans)} stacks: {', '.join(failed)}",
            hint="the others are done; run it again for those with --shard NAME",
        )


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


def _verify(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
) -> None:
    from gridcloud.analysis import analyse, resolve_profile
    from gridcloud.engine import stacks
    from gridcloud.engine.verify import verify
    from gridcloud.errors import InputError

    path = resolve_profile(profile)
    ref = _stack_only_ref(profile, stack, backend, secrets_provider)
    state = stacks.read_state(ref)
    if state is None or not state.outputs:
        raise InputError(
            f"the stack {ref.name} has not been deployed",
            hint="`gridcloud up` deploys it; `gridcloud stacks` lists the stacks",
        )
    report = verify(analyse(path, state.deployed()).plan, state.facts)
    from gridcloud.cli.check_cmd import show

    show(
        report,
        json_output=json_output,
        refused=f"{report.profile} is deployed but not working yet",
        again="gridcloud verify",
    )


def _list_remaining(items: list[Any], heading: str, *, size_unit: str, commands: bool) -> None:
    """What a destroy left in the project, one line each (and how to delete it by hand)."""
    from gridcloud.cli.output import err, styled

    err.print(styled((f"{len(items)} {heading}", "yellow")))
    for item in items:
        size = f", {item.size_gb} {size_unit}" if item.size_gb else ""
        err.print(f"  {item.kind} {item.name} ({item.location}{size}): {item.why}")
        if commands:
            err.print(f"    by hand: {item.command()}", style="dim")


def _leftover_prompt(yes: bool) -> Callable[[list[Any]], bool]:
    def ask(items: list[Any]) -> bool:
        _list_remaining(
            items,
            "resource(s) of the facility remain, still billed:",
            size_unit="GB",
            commands=True,
        )
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return typer.confirm("Delete them?", default=False, err=True)

    return ask


def _backup_prompt(yes: bool, wanted: bool) -> Callable[[list[Any]], bool]:
    """The backups' snapshots: kept unless --delete-backups, or a yes at the prompt."""

    def ask(items: list[Any]) -> bool:
        _list_remaining(
            items,
            "backup snapshot(s) of the facility remain, billed:",
            size_unit="GB disk",
            commands=False,
        )
        if wanted:
            return True
        if yes or not sys.stdin.isatty():
            return False
        return typer.confirm("Delete the backups too?", default=False, err=True)

    return ask


def _destroy(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
    yes: bool,
    shard: str | None = None,
    delete_backups: bool = False,
) -> None:
    from gridcloud.engine import teardown

    ref = _stack_only_ref(profile, stack, backend, secrets_provider, shard)
    confirm = _confirmer("destroy", ref.name, yes=yes)
    outcome = teardown.destroy(
        ref,
        json_output=json_output,
        confirm=confirm,
        delete_leftovers=_leftover_prompt(yes),
        delete_backups=_backup_prompt(yes, delete_backups),
    )
    from gridcloud.cli.output import emit_json_line, err, styled

    if json_output:
        emit_json_line(outcome.to_json())
    else:
        _report(outcome.result, json_output=False)
        if outcome.deleted:
            err.print(f"deleted {len(outcome.deleted)} leftover resource(s)")
        backups = [
            i for i in outcome.leftovers if i.kind == "snapshot" and i not in outcome.deleted
        ]
        if backups and not outcome.failures:
            err.print(
                f"{len(backups)} backup snapshot(s) kept (restore: docs/backups.md); delete them "
                "with `gridcloud destroy --delete-backups` or in the console"
            )
        kept = len(outcome.leftovers) - len(outcome.deleted) - len(backups)
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
        shard: ShardOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Show what `up` would change, without changing anything."""
        _operate(
            "preview", profile, stack, backend, secrets_provider, json_output=json, shard=shard
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
        shard: ShardOpt = None,
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
            shard=shard,
        )

    @app.command()
    def destroy(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        yes: YesOpt = False,
        shard: ShardOpt = None,
        json: JsonOpt = False,
        delete_backups: Annotated[
            bool,
            typer.Option(
                "--delete-backups",
                help="Delete the backups' snapshots too (kept otherwise, even with --yes).",
            ),
        ] = False,
    ) -> None:
        """Delete every resource of the facility's stack, then what it left behind.

        Works from the stack's state alone: the profile only names the stack (--stack does
        without it). The backups' snapshots are kept unless --delete-backups (or a yes when
        asked)."""
        _destroy(
            profile,
            stack,
            backend,
            secrets_provider,
            json_output=json,
            yes=yes,
            shard=shard,
            delete_backups=delete_backups,
        )

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
        shard: ShardOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """A stack's outputs (secrets masked), its resources and its last update (state only)."""
        from gridcloud.engine import cap, stacks

        ref = _stack_only_ref(profile, stack, backend, secrets_provider, shard)
        data = stacks.status(None, ref)
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

    @app.command()
    def verify(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """After `up`: the cluster holds what the Plan says (namespaces, workloads ready,
        entry points addressed). Read-only. Exit 9 when something is not ready."""
        _verify(profile, stack, backend, secrets_provider, json_output=json)

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
