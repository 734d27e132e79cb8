"""Entry point for plain ``pulumi up`` (Pulumi.yaml: ``main: stacks/``).

Reads the profile path from the stack config key ``gridcloud:profile`` (relative to the
project's root) and deploys through the same use case as ``gridcloud up``
(:func:`gridcloud.deploy.prepare`: the policy with ``gridcloud:strict``, the budget gate, the
variables the profile reads, the cap gate), then the same ``build``. The options are stack
config: ``gridcloud:allowOverBudget``, ``gridcloud:strict`` (``"true"``); a compute-only
shard's stack also sets ``gridcloud:shard`` (its name). What plain Pulumi
cannot do (keep the deployed ranges, lift the cap) is in docs/deploy.md, "Plain Pulumi".
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from gridcloud.deploy import InsideUpdate, Options, prepare
from gridcloud.plan.shards import stack_plans
from gridcloud.program import build, export

ROOT = Path(__file__).resolve().parent.parent

config = pulumi.Config("gridcloud")
profile = Path(config.require("profile"))
prepared = prepare(
    profile if profile.is_absolute() else ROOT / profile,
    Options(
        allow_over_budget=config.get_bool("allowOverBudget") or False,
        strict=config.get_bool("strict") or False,
    ),
    lambda _plan: InsideUpdate(),
)
# a compute-only shard's stack names it: gridcloud:shard (docs/plan.md, "Shards")
shard = config.get("shard")
export(build(stack_plans(prepared.analysis.plan, shard)[0] if shard else prepared.analysis.plan))
