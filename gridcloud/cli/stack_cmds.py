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
        help="One shard's stack only (`home` for the home cluster). Default: every shard's "
        "stack (up: the home one first; destroy: the home one last).",
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
    from gridcloud.engine import fleet, stacks
    from gridcloud.plan.shards import HOME, stack_name, stack_plans

    def shard_ref(home_stack: str) -> Callable[[str], Any]:
        def ref_of(name: str) -> Any:
            # a compute-only shard's stack: <home stack>-<shard>
            return _ref(None, stack_name(home_stack, name), backend, secrets_provider)

        return ref_of

    def stack_for(plan: Any) -> stacks.EngineStack:
        ref = _ref(stack, plan.name, backend, secrets_provider)
        # refused up front when nobody can answer, before the stack is touched
        return stacks.EngineStack(
            ref, confirm=_confirmer(operation, ref.name, yes=yes), shard_ref=shard_ref(ref.name)
        )

    prepared = prepare(
        resolve_profile(profile),
        Options(allow_over_budget=allow_over_budget, strict=strict, lift_cap=lift_cap),
        stack_for,
        operation="up" if operation == "up" else "preview",
    )
    target = prepared.stack
    assert isinstance(target, stacks.EngineStack)
    home = prepared.analysis.plan
    plans = {}
    for plan in stack_plans(home, shard):
        name = HOME if plan is home else str(plan.shard)
        ref = target.ref if plan is home else shard_ref(target.ref.name)(name)
        plans[fleet.Step(name, ref.name)] = (plan, ref)
    # side by side unless a confirmation is asked for each stack (one question at a time)
    parallel = yes or operation == "preview"

    def work(step: fleet.Step) -> Any:
        plan, ref = plans[step]
        confirm = target.confirm if plan is home else _confirmer(operation, ref.name, yes=yes)
        return stacks.run(
            operation,  # type: ignore[arg-type]
            plan,
            ref,
            json_output=json_output,
            confirm=confirm,
            refresh=prepared.refresh and plan is home,
            shared=parallel and len(plans) > 1,
        )

    outcomes = fleet.run_all(
        operation,  # type: ignore[arg-type]
        list(plans),
        work,
        parallel=parallel,
        on_done=lambda outcome: _told(operation, outcome, json_output, _report),
        finished=lambda result: result.result == "succeeded",
    )
    fleet.raise_failed(operation, outcomes)


def _told(
    operation: str, outcome: Any, json_output: bool, report: Callable[[Any, bool], None]
) -> None:
    """One stack's outcome, in full: ``report`` of its result, or its error, or why it was
    skipped (on stderr; with --json, also an NDJSON record on stdout)."""
    from gridcloud.cli.output import emit_json_line, err, styled

    step = outcome.step
    if outcome.value is not None:
        report(outcome.value, json_output)
        return
    if outcome.error is not None:
        what = outcome.error.message
        err.print(styled((f"{operation} failed on stack {step.stack}: ", "red"), what))
        if outcome.error.hint:
            err.print(f"  hint: {outcome.error.hint}", style="dim")
        event = {"event": "failed", "error": what, "hint": outcome.error.hint}
    else:
        what = str(outcome.skipped)
        err.print(styled((f"{operation} skipped on stack {step.stack}: ", "yellow"), what))
        event = {"event": "skipped", "reason": what}
    if json_output:
        emit_json_line({**event, "operation": operation, "stack": step.stack, "shard": step.shard})


def _refresh(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    json_output: bool,
    shard: str | None = None,
) -> None:
    from gridcloud.engine import fleet, stacks

    refs = _facility_stacks(profile, stack, backend, secrets_provider, shard)
    parallel = len(refs) > 1

    def work(step: Any) -> Any:
        stacks.require_state(refs[step])
        return stacks.run("refresh", None, refs[step], json_output=json_output, shared=parallel)

    outcomes = fleet.run_all(
        "refresh",
        list(refs),
        work,
        parallel=parallel,
        on_done=lambda outcome: _told("refresh", outcome, json_output, _report),
    )
    fleet.raise_failed("refresh", outcomes)


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
    from gridcloud.engine.verify import verify_facility
    from gridcloud.errors import InputError

    path = resolve_profile(profile)
    ref = _stack_only_ref(profile, stack, backend, secrets_provider)
    state = stacks.read_state(ref)
    if state is None or not state.outputs:
        raise InputError(
            f"the stack {ref.name} has not been deployed",
            hint="`gridcloud up` deploys it; `gridcloud stacks` lists the stacks",
        )
    plan = analyse(path, state.deployed()).plan
    shard_states = stacks.read_states(
        {
            str(s.shard): _stack_only_ref(profile, stack, backend, secrets_provider, str(s.shard))
            for s in plan.shards
        }
    )
    facts = {
        name: found.facts if found is not None and found.outputs else None
        for name, found in shard_states.items()
    }
    ranges = {
        name: deployed
        for name, found in shard_states.items()
        if found is not None and found.outputs and (deployed := found.deployed()) is not None
    }
    if ranges:  # each shard's Plan with its ranges as deployed, as `up` would make it
        plan = analyse(path, state.deployed(), ranges).plan
    report = verify_facility(plan, state.facts, facts)
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


def _profile_shards(profile: str | None, stack: str | None) -> list[str]:
    """The compute-only shards the profile plans, for a state-only command: none when
    ``--stack`` names another facility's stack, nor when the profile no longer plans (the
    stacks' own outputs still name their shards: gridcloud/engine/fleet.py)."""
    from gridcloud.analysis import analyse, resolve_profile
    from gridcloud.errors import GridcloudError
    from gridcloud.profile.loader import read_fields

    if stack is not None and profile is None:
        return []
    try:
        path = resolve_profile(profile)
        data = read_fields(path)
        if not data or not data.get("shards"):
            return []
        return [str(s.shard) for s in analyse(path).plan.shards]
    except GridcloudError:
        return []


def _facility_stacks(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets: str | None,
    shard: str | None,
) -> dict[Any, Any]:
    """The stacks a state-only command acts on, by step: the one ``--shard`` names, else the
    home stack and every compute-only shard's found in the backend."""
    from gridcloud.engine import fleet
    from gridcloud.plan.shards import HOME, stack_name

    if shard is not None:
        ref = _stack_only_ref(profile, stack, backend, secrets, shard)
        return {fleet.Step(shard, ref.name): ref}
    home = _stack_only_ref(profile, stack, backend, secrets)
    found = {fleet.Step(HOME, home.name): home}
    named = _profile_shards(profile, stack)
    for name in fleet.shard_stacks(home, named):
        ref = _ref(None, stack_name(home.name, name), backend, secrets)
        found[fleet.Step(name, ref.name)] = ref
    return found


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
    from gridcloud.engine import fleet, teardown

    refs = _facility_stacks(profile, stack, backend, secrets_provider, shard)
    confirms = {step: _confirmer("destroy", ref.name, yes=yes) for step, ref in refs.items()}
    # side by side only with --yes: otherwise each stack (and its leftovers) asks in turn
    parallel = yes and len(refs) > 1

    def work(step: Any) -> Any:
        return teardown.destroy(
            refs[step],
            json_output=json_output,
            confirm=confirms[step],
            delete_leftovers=_leftover_prompt(yes),
            delete_backups=_backup_prompt(yes, delete_backups),
            shared=parallel,
        )

    outcomes = fleet.run_all(
        "destroy",
        list(refs),
        work,
        parallel=parallel,
        on_done=lambda outcome: _told("destroy", outcome, json_output, _report_teardown),
        finished=lambda torn: torn.result.result == "succeeded",
    )
    left = [(o.step.stack, o.value) for o in outcomes if o.value is not None and o.value.failures]
    fleet.raise_failed("destroy", outcomes)
    if left:
        from gridcloud.errors import EngineError

        raise EngineError(
            ("the facility is destroyed" if len(refs) == 1 else "the stacks are destroyed")
            + ", but some leftovers could not be deleted: "
            + "; ".join(
                f + (f" (stack {name})" if len(refs) > 1 else "")
                for name, torn in left
                for f in torn.failures
            ),
            hint="delete them in the console or with gcloud; they are still billed",
        )


def _report_teardown(outcome: Any, json_output: bool) -> None:
    """One stack's destroy: its result, the leftovers deleted or kept, the backups kept."""
    from gridcloud.cli.output import emit_json_line, err, styled

    if json_output:
        emit_json_line(outcome.to_json())
        return
    _report(outcome.result, json_output=False)
    if outcome.deleted:
        err.print(f"deleted {len(outcome.deleted)} leftover resource(s)")
    backups = [i for i in outcome.leftovers if i.kind == "snapshot" and i not in outcome.deleted]
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


def _status(
    profile: str | None,
    stack: str | None,
    backend: str | None,
    secrets_provider: str | None,
    *,
    shard: str | None,
    json_output: bool,
) -> None:
    from gridcloud.engine import cap, fleet, stacks

    refs = _facility_stacks(profile, stack, backend, secrets_provider, shard)

    def work(step: Any) -> dict[str, Any]:
        data = stacks.status(None, refs[step])
        data["cap"] = cap.status(data["outputs"])
        return data

    several = len(refs) > 1
    shown: list[dict[str, Any]] = []

    def report(data: dict[str, Any], json_output: bool) -> None:
        if json_output:
            shown.append(data)
        else:
            _show_status(data)

    def told(outcome: Any) -> None:
        if outcome.value is not None and several:
            outcome.value["shard"] = outcome.step.shard
        if json_output and outcome.value is None:
            # in the JSON document, not as a line of its own
            shown.append(
                {
                    "stack": outcome.step.stack,
                    "shard": outcome.step.shard,
                    "error": outcome.error.message,
                }
            )
            _told("status", outcome, False, report)
            return
        _told("status", outcome, json_output, report)

    outcomes = fleet.run_all("status", list(refs), work, parallel=True, on_done=told)
    from gridcloud.cli.output import emit_json

    if json_output:
        emit_json({"stacks": shown} if several else shown[0])
    fleet.raise_failed("status", outcomes)


def _show_status(data: dict[str, Any]) -> None:
    from gridcloud.cli.output import out, styled

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
        shard: ShardOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Read the real state of the facility's resources into its stacks (state only): the
        home stack and every compute-only shard's, or the one --shard names."""
        _refresh(profile, stack, backend, secrets_provider, json_output=json, shard=shard)

    @app.command()
    def status(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        shard: ShardOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Each stack's outputs (secrets masked), its resources and its last update (state
        only): the home stack and every compute-only shard's, or the one --shard names."""
        _status(profile, stack, backend, secrets_provider, shard=shard, json_output=json)

    @app.command()
    def verify(
        profile: ProfileArg = None,
        stack: StackOpt = None,
        backend: BackendOpt = None,
        secrets_provider: SecretsOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """After `up`: each cluster holds what the Plan says (namespaces, workloads ready,
        entry points addressed), the home one and every shard's. Read-only. Exit 9 when
        something is not ready."""
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
