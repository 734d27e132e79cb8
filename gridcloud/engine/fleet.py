"""One operation over a facility's stacks: one stack per shard, each on its own.

A facility of shards has one Pulumi stack per cluster (gridcloud/plan/shards.py): the home
cluster's, named after the facility, and ``<facility>-<shard>`` for each compute-only shard.
``up``, ``preview``, ``destroy``, ``refresh`` and ``status`` without ``--shard`` act on all of them
(:func:`run_all`), in an order that keeps the budget's enforcer watching every pool that can
spend:

- ``up``: the home stack first (it holds the budget's enforcer and the hub), then the compute
  shards side by side. When the home stack fails, the compute shards are left as they are
  (skipped): a shard's pools would grow with no enforcer to cap them on a first ``up``, and a
  change to the facility's budget or cap lands on the home stack. ``--shard NAME`` acts on one
  anyway.
- ``destroy``: the compute shards first, side by side, then the home stack, only when every
  shard went: the enforcer then outlives the last pool it caps, and the hub never points at a
  cluster that is gone. A shard that failed (or was declined) keeps the home stack
  (skipped), since its pools could still spend; ``--shard home`` destroys it anyway.
- ``preview`` and ``status`` change nothing, and ``refresh`` changes each stack's state
  only: all stacks side by side.

Stacks of one phase run in threads, at most :data:`MAX_PARALLEL` at once: the Automation API
drives one Pulumi CLI process per stack, and Pulumi's Python SDK keeps an inline program's
state per run (in context variables), so separate stacks can run concurrently in one process.
When an operation asks for confirmation (no ``--yes``), the stacks go one after another, so
that each question is asked on its own.

A failure in one stack does not stop the others: each stack's outcome (done, failed with its
error, or skipped with why) is reported in full when it is known, and the operation fails
(:func:`raise_failed`) when any stack failed or was skipped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from gridcloud.errors import EngineError, GridcloudError, InterruptError
from gridcloud.plan.shards import HOME

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gridcloud.engine.stacks import StackRef

T = TypeVar("T")

#: The most stacks one phase runs at once (each a Pulumi CLI process with its providers).
MAX_PARALLEL = 4

Operation = Literal["preview", "up", "destroy", "refresh", "status"]


@dataclass(frozen=True)
class Step:
    """One stack of the facility: which shard (``home`` for the home cluster), its stack."""

    shard: str
    stack: str


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of one stack: its value, or its error, or why it was skipped."""

    step: Step
    value: T | None = None
    error: GridcloudError | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def phases(operation: Operation, steps: Sequence[Step]) -> list[list[Step]]:
    """The steps in the order the module's docstring gives, one list per phase."""
    home = [s for s in steps if s.shard == HOME]
    compute = [s for s in steps if s.shard != HOME]
    if operation == "up":
        ordered = [home, compute]
    elif operation == "destroy":
        ordered = [compute, home]
    else:
        ordered = [list(steps)]
    return [phase for phase in ordered if phase]


def _blocked(operation: Operation, failed: list[Outcome[T]]) -> str:
    names = ", ".join(o.step.shard for o in failed)
    if operation == "up":
        return (
            f"not changed: the home stack's {operation} did not finish, and it holds the "
            "budget's enforcer (`--shard NAME` acts on one shard anyway)"
        )
    return (
        f"kept: shard(s) {names} are still there, and the home stack's budget enforcer must "
        "outlive their pools (`--shard home` destroys it anyway)"
    )


def run_all(
    operation: Operation,
    steps: Sequence[Step],
    work: Callable[[Step], T],
    *,
    parallel: bool,
    on_done: Callable[[Outcome[T]], None],
    finished: Callable[[T], bool] = lambda _value: True,
) -> list[Outcome[T]]:
    """``work`` on every step, phase by phase; ``on_done`` with each outcome as it is known
    (in the calling thread). ``finished`` says whether a value counts as done for the next
    phase (a declined confirmation does not). One step alone: ``work``'s error is raised as
    it is."""
    if len(steps) == 1:
        outcome = Outcome(steps[0], value=work(steps[0]))
        on_done(outcome)
        return [outcome]
    outcomes: list[Outcome[T]] = []
    blocked: str | None = None
    for phase in phases(operation, steps):
        if blocked is not None:
            for step in phase:
                skipped: Outcome[T] = Outcome(step, skipped=blocked)
                on_done(skipped)
                outcomes.append(skipped)
            continue
        done = _phase(phase, work, parallel=parallel, on_done=on_done)
        outcomes += done
        unfinished = [
            o for o in done if not o.ok or (o.value is not None and not finished(o.value))
        ]
        if unfinished and operation in ("up", "destroy"):
            blocked = _blocked(operation, unfinished)
    return outcomes


def _attempt(step: Step, work: Callable[[Step], T]) -> Outcome[T]:
    try:
        return Outcome(step, value=work(step))
    except GridcloudError as exc:
        return Outcome(step, error=exc)


def _phase(
    phase: list[Step],
    work: Callable[[Step], T],
    *,
    parallel: bool,
    on_done: Callable[[Outcome[T]], None],
) -> list[Outcome[T]]:
    outcomes: list[Outcome[T]] = []
    if not parallel or len(phase) == 1:
        for step in phase:
            outcome = _attempt(step, work)
            on_done(outcome)
            outcomes.append(outcome)
        return outcomes
    with ThreadPoolExecutor(
        max_workers=min(MAX_PARALLEL, len(phase)), thread_name_prefix="stack"
    ) as pool:
        futures = [pool.submit(_attempt, step, work) for step in phase]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                on_done(outcome)
                outcomes.append(outcome)
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            # Ctrl-C reaches every Pulumi process of the terminal's group: each stops after
            # the operations in flight
            raise InterruptError(
                "interrupted: Pulumi stops each stack after the operations in flight, so "
                f"stacks {', '.join(s.stack for s in phase)} may be partly changed",
                hint="`gridcloud status` shows what exists; `gridcloud refresh --shard NAME` "
                "then the operation again converges them",
            ) from None
    order = {step: i for i, step in enumerate(phase)}
    return sorted(outcomes, key=lambda o: order[o.step])


def raise_failed(operation: str, outcomes: Sequence[Outcome[object]]) -> None:
    """Fail (the engine's exit code) when a stack failed or was skipped, naming each."""
    failed = [o.step.stack for o in outcomes if o.error is not None]
    skipped = [o.step.stack for o in outcomes if o.skipped is not None]
    if not failed and not skipped:
        return
    parts = []
    if failed:
        parts.append(f"failed on {len(failed)} of {len(outcomes)} stacks: {', '.join(failed)}")
    if skipped:
        parts.append(f"skipped {', '.join(skipped)}")
    raise EngineError(
        f"{operation} " + "; ".join(parts),
        hint="the others are done (each reported above); run it again, or for one stack with "
        "--shard NAME",
    )


def shard_stacks(home: StackRef, named: Sequence[str] = ()) -> list[str]:
    """The compute-only shards whose stacks are in ``home``'s backend, for an operation that
    works from the stacks alone (``destroy``, ``status``): every stack ``<home>-<shard>`` whose
    outputs name it a shard (``shard``, written by ``up``), or whose shard the profile names
    (``named``: a stack whose first ``up`` failed has no outputs yet)."""
    import re

    from gridcloud.engine import stacks
    from gridcloud.plan.shards import stack_name

    pattern = re.compile(rf"^{re.escape(home.name)}-([a-z][a-z0-9]{{0,5}})$")
    found = []
    for listed in stacks.list_stacks(home):
        # a backend may list a stack as organization/project/name
        match = pattern.match(str(listed["name"]).rsplit("/", 1)[-1])
        if match is None:
            continue
        shard = match.group(1)
        if shard not in named:
            ref = stacks.StackRef(stack_name(home.name, shard), home.backend, home.secrets_provider)
            state = stacks.read_state(ref)
            if state is None or state.facts.shard != shard:
                continue
        found.append(shard)
    return sorted(found)
