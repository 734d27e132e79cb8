"""Stacks through Pulumi's Automation API: the inline program is :func:`gridcloud.program.build`.

Every function here runs the real Pulumi CLI; none is exercised against a cloud in this
project's tests (see docs/deploy.md, "What is verified offline"). Failures of the engine
become :mod:`gridcloud.errors` with an answer: a missing or old CLI, no credentials, a stack
locked by another update, a resource the provider refused.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gridcloud.engine import preflight
from gridcloud.engine.backend import masked, workspace_dir
from gridcloud.engine.progress import Tracker, renderer_for
from gridcloud.errors import (
    ConflictError,
    EngineError,
    EngineMissingError,
    InputError,
    InterruptError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from pulumi import automation as auto

    from gridcloud.plan import Plan
    from gridcloud.plan.model import Deployed
    from gridcloud.plan.outputs import StackOutputs

PROJECT = "gridcloud"

#: Provider messages that have a known answer: (text in the message, hint).
KNOWN_FAILURES = (
    (
        "has not been used in project",
        "enable the APIs the facility uses: `gcloud services enable compute.googleapis.com "
        "container.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com` "
        "(docs/deploy.md)",
    ),
    ("QUOTA_EXCEEDED", "ask Google for more quota (docs/deploy.md, Quotas), or lower maxNodes"),
    ("Quota", "ask Google for more quota (docs/deploy.md, Quotas), or lower maxNodes"),
    (
        "deletion_protection",
        "set cluster.deletionProtection: false in the profile and run `gridcloud up` first",
    ),
)
Operation = Literal["preview", "up", "destroy", "refresh"]


@dataclass(frozen=True)
class StackRef:
    """Which stack, where, with which secrets provider."""

    name: str
    backend: str
    secrets_provider: str | None = None


@dataclass
class OperationResult:
    operation: str
    stack: str
    result: Literal["succeeded", "cancelled"]
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "result",
            "operation": self.operation,
            "stack": self.stack,
            "result": self.result,
            "changes": self.changes,
            "outputs": self.outputs,
            "elapsedSeconds": round(self.elapsed_seconds, 1),
        }


def _options(ref: StackRef, plan: Plan | None) -> auto.LocalWorkspaceOptions:
    from pulumi import automation as auto
    from semver import VersionInfo

    def program() -> None:
        from gridcloud.program import build, export

        if plan is None:  # destroy and refresh work from the state and never run it
            raise EngineError("the program needs a Plan: this operation is not one of them")
        export(build(plan))

    return auto.LocalWorkspaceOptions(
        program=program,
        # the backend through the environment, not the workspace's Pulumi.yaml: its URL may
        # carry credentials (postgres://user:PASSWORD@host/db)
        project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        work_dir=str(workspace_dir(ref.backend, ref.name)),
        secrets_provider=ref.secrets_provider,
        env_vars={"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_BACKEND_URL": ref.backend},
        pulumi_command=auto.PulumiCommand(version=VersionInfo(*preflight.MIN_PULUMI)),
    )


def translate(exc: BaseException, ref: StackRef, tracker: Tracker | None = None) -> Exception:
    """The gridcloud error that answers an Automation API failure."""
    from pulumi import automation as auto

    from gridcloud.check.local import INSTALL_HINT

    if isinstance(exc, FileNotFoundError):
        return EngineMissingError("the Pulumi CLI is not installed", hint=INSTALL_HINT)
    if isinstance(exc, auto.errors.InvalidVersionError):
        return EngineMissingError(
            f"the Pulumi CLI cannot be used: {exc}", hint="update it: `pulumi self-update`"
        )
    if isinstance(exc, auto.ConcurrentUpdateError):
        return ConflictError(
            f"stack {ref.name} is locked by another update",
            hint="wait for it to finish; if it died, `pulumi cancel --stack "
            f"{ref.name}` (with PULUMI_BACKEND_URL={masked(ref.backend)}) releases the lock",
        )
    if isinstance(exc, auto.StackNotFoundError):
        return InputError(
            f"no stack {ref.name} in {masked(ref.backend)}",
            hint="`gridcloud stacks` lists the stacks there; `gridcloud up` creates one",
        )
    if isinstance(exc, auto.CommandError):
        failures = tracker.failure_report() if tracker is not None else None
        stderr = str(exc).split(" stderr: ", 1)[-1]
        detail = failures or _last_error_line(stderr)
        hint = "run again with --debug for the engine's full output"
        known = next((h for needle, h in KNOWN_FAILURES if needle in detail), None)
        if known is not None:
            hint = known
        elif "passphrase" in stderr.lower():
            hint = "set PULUMI_CONFIG_PASSPHRASE to the passphrase this stack was created with"
        elif "credentials" in stderr.lower():
            hint = (
                "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
            )
        return EngineError(f"the engine failed on stack {ref.name}: {detail}", hint=hint)
    return exc if isinstance(exc, Exception) else EngineError(str(exc))


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith("error")]
    return (errors or lines or ["no output"])[-1]


@contextmanager
def _engine_errors(ref: StackRef, tracker: Tracker | None = None) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptError(
            f"interrupted: Pulumi stops stack {ref.name} after the operations in flight, so "
            "it may be partly updated",
            hint="`gridcloud status` shows what exists; `gridcloud refresh` then "
            "`gridcloud up` converges it",
        ) from None
    except Exception as exc:
        translated = translate(exc, ref, tracker)
        if translated is exc:
            raise
        raise translated from exc


def check_ready(plan: Plan | None, ref: StackRef, *, needs_cloud: bool) -> None:
    """Preflight: CLI, secrets, and (for a gcp target that the operation touches) credentials
    and the environment the program reads."""
    preflight.pulumi_cli()
    preflight.secrets_ready(ref.backend, ref.secrets_provider)
    if needs_cloud and plan is not None and plan.on_gcp:
        preflight.google_credentials()
    if needs_cloud and plan is not None:
        preflight.environment_ready(plan)


@dataclass(frozen=True)
class EngineStack:
    """A stack reached through the Automation API, as a deploy needs it
    (:class:`gridcloud.deploy.Stack`)."""

    ref: StackRef
    confirm: Callable[[dict[str, int]], bool] | None = None
    """Asked with the changes before ``up`` goes ahead (None: no question)."""
    shard_ref: Callable[[str], StackRef] | None = None
    """The stack of a compute-only shard, from the shard's name (None: no shard is read)."""

    def ready(self, plan: Plan) -> None:
        check_ready(plan, self.ref, needs_cloud=True)

    def deployed(self) -> Deployed | None:
        state = read_state(self.ref)
        return state.deployed() if state is not None else None

    def deployed_shards(self, plan: Plan) -> dict[str, Deployed]:
        """Each shard's ranges from its own stack's ``network`` output (the stacks read side
        by side, :func:`read_states`)."""
        shard_ref = self.shard_ref
        if shard_ref is None:
            return {}
        states = read_states({str(s.shard): shard_ref(str(s.shard)) for s in plan.shards})
        read_back = {name: s.deployed() if s is not None else None for name, s in states.items()}
        return {name: deployed for name, deployed in read_back.items() if deployed is not None}


@dataclass(frozen=True)
class StackState:
    """What a stack's state says, read without any profile: outputs (secrets included, never
    shown) and its resources."""

    outputs: dict[str, Any]
    resources: list[dict[str, Any]]

    @property
    def facts(self) -> StackOutputs:
        """The outputs, read through their declaration (:mod:`gridcloud.plan.outputs`)."""
        from gridcloud.plan.outputs import StackOutputs

        return StackOutputs.read(self.outputs)

    @property
    def on_gcp(self) -> bool:
        return self.facts.target in ("gcp", None) and any(
            str(r.get("type", "")).startswith("gcp:") for r in self.resources
        )

    def protected_cluster(self) -> str | None:
        """The GKE cluster's name if the state says its deletion protection is on."""
        for resource in self.resources:
            if resource.get("type") == "gcp:container/cluster:Cluster":
                outputs = resource.get("outputs") or resource.get("inputs") or {}
                if outputs.get("deletionProtection", True):
                    return str(outputs.get("name") or "the cluster")
        return None

    def deployed(self) -> Deployed | None:
        """The ranges and max pods the next Plan must keep (None before the first up)."""
        return self.facts.network


def read_states(refs: Mapping[str, StackRef]) -> dict[str, StackState | None]:
    """Several stacks' states by name (None: not deployed), read side by side, as
    gridcloud/engine/fleet.py runs stacks (at most ``MAX_PARALLEL`` at once)."""
    from concurrent.futures import ThreadPoolExecutor

    from gridcloud.engine.fleet import MAX_PARALLEL

    if not refs:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(refs))) as pool:
        return dict(zip(refs, pool.map(read_state, refs.values()), strict=True))


def read_state(ref: StackRef) -> StackState | None:
    """The stack's state, or None when the stack does not exist (yet)."""
    from pulumi import automation as auto

    check_ready(None, ref, needs_cloud=False)
    options = _options(ref, None)
    with _engine_errors(ref):
        try:
            stack = auto.select_stack(ref.name, PROJECT, program=options.program, opts=options)
        except auto.StackNotFoundError:
            return None
        outputs = {k: v.value for k, v in stack.outputs().items()}
        deployment = stack.export_stack().deployment or {}
    return StackState(outputs, list(deployment.get("resources", [])))


def require_state(ref: StackRef) -> StackState:
    """The state of an existing stack, for an operation on its cloud resources (destroy,
    refresh): refused when the stack does not exist; Google credentials checked when it
    holds GCP resources."""
    state = read_state(ref)
    if state is None:
        raise InputError(
            f"no stack {ref.name} in {masked(ref.backend)}",
            hint="`gridcloud stacks` lists the stacks there (--backend for another backend)",
        )
    if state.on_gcp:
        preflight.google_credentials()
    return state


def open_stack(plan: Plan | None, ref: StackRef, *, create: bool) -> auto.Stack:
    from pulumi import automation as auto

    options = _options(ref, plan)
    with _engine_errors(ref):
        if create:
            return auto.create_or_select_stack(
                ref.name, PROJECT, opts=options, program=options.program
            )
        return auto.select_stack(ref.name, PROJECT, opts=options, program=options.program)


def _counts(summary: Any) -> dict[str, int]:
    """Changes by operation, from any of the Automation API's summaries."""
    return {str(getattr(op, "value", op)): int(n) for op, n in (summary or {}).items()}


def _masked_outputs(stack: auto.Stack) -> dict[str, Any]:
    return {k: ("[secret]" if v.secret else v.value) for k, v in stack.outputs().items()}


def run(
    operation: Operation,
    plan: Plan | None,
    ref: StackRef,
    *,
    json_output: bool,
    confirm: Callable[[dict[str, int]], bool] | None = None,
    refresh: bool = False,
    shared: bool = False,
) -> OperationResult:
    """Preview, up, destroy or refresh ``plan``'s stack with live progress.

    ``refresh`` (``up`` after ``--lift-cap``): read the live resources first, so the update
    sees what changed outside Pulumi (the pools the cap scaled down) and restores the Plan.

    For ``up`` and ``destroy`` a preview comes first: it counts the resources for the
    progress view and shows the changes to ``confirm``, which may decline. ``destroy`` and
    ``refresh`` need no Plan (``None``): they work from the stack's state alone.
    ``shared``: other stacks run at the same time (gridcloud/engine/fleet.py): plain progress
    lines, each naming the stack. Every ``--json`` record names its stack (``stack``).
    """
    if plan is None and operation in ("preview", "up"):
        raise EngineError(f"{operation} needs a Plan")
    check_ready(plan, ref, needs_cloud=True)
    stack = open_stack(plan, ref, create=operation in ("preview", "up"))
    tracker = Tracker()
    title = f"{operation} {ref.name}"

    def on_event_with(renderer: Any) -> Callable[[Any], None]:
        def on_event(event: Any) -> None:
            for record in tracker.handle(event):
                renderer.record({**record, "stack": ref.name})

        return on_event

    def count(event: Any) -> None:
        tracker.handle(event)  # failures in the preview are reported like any other

    with _engine_errors(ref, tracker):
        if operation in ("up", "destroy"):
            counted = (
                stack.preview(on_event=count, refresh=refresh)
                if operation == "up"
                else stack.preview_destroy(on_event=count)
            )
            changes = _counts(counted.change_summary)
            if confirm is not None and not confirm(changes):
                return OperationResult(operation, ref.name, "cancelled", changes)
            tracker.reset(total=sum(changes.values()))
        renderer = renderer_for(tracker, title, json_output=json_output, shared=shared)
        with renderer:
            callback = on_event_with(renderer)
            if operation == "preview":
                result: Any = stack.preview(on_event=callback)
                changes = _counts(result.change_summary)
            elif operation == "up":
                result = stack.up(on_event=callback, refresh=refresh)
                changes = _counts(result.summary.resource_changes)
            elif operation == "destroy":
                result = stack.destroy(on_event=callback)
                changes = _counts(result.summary.resource_changes)
            else:
                result = stack.refresh(on_event=callback)
                changes = _counts(result.summary.resource_changes)
        outputs = _masked_outputs(stack) if operation in ("up", "refresh") else {}
    return OperationResult(operation, ref.name, "succeeded", changes, outputs, tracker.elapsed)


def status(plan: Plan | None, ref: StackRef) -> dict[str, Any]:
    """Outputs (secrets masked), resources by type, and the last update of a stack."""
    check_ready(plan, ref, needs_cloud=False)
    stack = open_stack(plan, ref, create=False)
    with _engine_errors(ref):
        deployment = stack.export_stack().deployment or {}
        resources = deployment.get("resources", [])
        by_type: dict[str, int] = {}
        for resource in resources:
            typ = str(resource.get("type", ""))
            if not typ.startswith("pulumi:pulumi:"):
                by_type[typ] = by_type.get(typ, 0) + 1
        info = stack.info(show_secrets=False)
        last = None
        if info is not None:
            last = {
                "kind": info.kind,
                "result": info.result,
                "startTime": info.start_time.isoformat() if info.start_time else None,
                "endTime": info.end_time.isoformat() if info.end_time else None,
                "changes": dict(info.resource_changes or {}),
            }
        return {
            "stack": ref.name,
            "backend": masked(ref.backend),
            "outputs": _masked_outputs(stack),
            "resources": by_type,
            "resourceCount": sum(by_type.values()),
            "lastUpdate": last,
        }


def list_stacks(ref: StackRef) -> list[dict[str, Any]]:
    """The stacks in ``ref.backend`` (``ref.name`` is ignored)."""
    from pulumi import automation as auto

    check_ready(None, ref, needs_cloud=False)
    with _engine_errors(ref):
        workspace = auto.LocalWorkspace(**vars(_options(ref, None)))
        return [
            {
                "name": s.name,
                "current": s.current,
                "lastUpdate": s.last_update,
                "updateInProgress": s.update_in_progress,
                "resourceCount": s.resource_count,
            }
            for s in workspace.list_stacks()
        ]
