"""The service behind every deploy: ``gridcloud up`` and ``preview`` (through the Automation
API) and plain ``pulumi up`` (``stacks/__main__.py``, inside the Pulumi CLI's own run).

One sequence, :func:`prepare`, whichever entry point deploys:

1. the profile analysed (:func:`gridcloud.analysis.analyse`);
2. for ``up``, the gates: with ``strict``, the policy (a warning the profile does not waive
   refuses, exit 8); the budget gate (exit 4 unless ``allow_over_budget``);
3. readiness: what the deploy needs from this machine, checked before the stack is touched;
4. what the deployed stacks fix (their ranges and max pods), the home cluster's and each
   compute-only shard's read back from its own stack: the profile analysed again to keep
   them, and the gates passed again on that Plan;
5. for ``up``, the cap gate: while the budget's hard cap is in force, refused (exit 4) unless
   ``lift_cap``, which makes the update refresh first.

What differs between the entry points is only where a step's facts come from
(:class:`Stack`): ``gridcloud up`` reads the stack's state through the engine; plain
``pulumi up`` runs inside the update and cannot read its own stack first, nor refresh it
(docs/deploy.md, "Plain Pulumi").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gridcloud.analysis import Analysis
    from gridcloud.plan import Plan
    from gridcloud.plan.model import Deployed


class Stack(Protocol):
    """Where a deploy goes, as the use case needs it."""

    def ready(self, plan: Plan) -> None:
        """Raise when this machine cannot deploy ``plan`` (tools, credentials, variables)."""

    def deployed(self) -> Deployed | None:
        """What the stack already fixes (None: a new stack, or not knowable)."""

    def deployed_shards(self, plan: Plan) -> dict[str, Deployed]:
        """What each compute-only shard's own stack fixes, by shard name (a shard whose
        stack is new, or not knowable, left out)."""


@dataclass(frozen=True)
class Options:
    """What the person deploying decides: ``gridcloud up``'s flags, plain Pulumi's config."""

    allow_over_budget: bool = False
    strict: bool = False
    lift_cap: bool = False


@dataclass(frozen=True)
class Prepared:
    analysis: Analysis
    stack: Stack
    refresh: bool
    """The update must read the live resources first (the cap being lifted)."""


def gates(analysis: Analysis, options: Options) -> None:
    """The policy (with ``strict``) and the budget gate."""
    from gridcloud.cost.budget import enforce
    from gridcloud.policy import enforce_strict

    if options.strict:
        enforce_strict(analysis.findings)
    enforce(analysis.verdict, allow_over_budget=options.allow_over_budget)


def prepare(
    path: Path,
    options: Options,
    stack_for: Callable[[Plan], Stack],
    *,
    operation: Literal["preview", "up"] = "up",
) -> Prepared:
    """Everything before the update itself, in order (the module's docstring)."""
    from gridcloud.analysis import analyse
    from gridcloud.engine import cap

    analysis = analyse(path)
    if operation == "up":
        gates(analysis, options)
    stack = stack_for(analysis.plan)
    stack.ready(analysis.plan)
    deployed = stack.deployed()
    shards = stack.deployed_shards(analysis.plan)
    if deployed is not None or shards:
        kept = analyse(path, deployed, shards)
        if kept.plan != analysis.plan and operation == "up":
            gates(kept, options)
        analysis = kept
    refresh = cap.gate(analysis.plan, lift=options.lift_cap) if operation == "up" else False
    return Prepared(analysis, stack, refresh)


class InsideUpdate:
    """The stack of a plain ``pulumi up``, as its program sees it from inside the update:
    the Pulumi CLI, its backend, secrets and the cloud provider's credentials are the CLI's
    (already there, or its own error); the variables the profile reads are checked here. It
    cannot read its own stack's outputs before the update, so keeps no deployed ranges."""

    def ready(self, plan: Plan) -> None:
        from gridcloud.engine.preflight import environment_ready

        environment_ready(plan)

    def deployed(self) -> Deployed | None:
        return None

    def deployed_shards(self, plan: Plan) -> dict[str, Deployed]:  # noqa: ARG002
        return {}
