"""Entry point for plain ``pulumi up`` (Pulumi.yaml: ``main: stacks/``).

Reads the profile path from the stack config key ``gridcloud:profile`` (relative to the
project's root), runs the same analysis and budget gate as ``gridcloud up``, and the same
``build``. Set ``gridcloud:allowOverBudget: "true"`` to deploy past the gate.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from gridcloud.cost.budget import enforce
from gridcloud.facility import analyse
from gridcloud.program import build, export

ROOT = Path(__file__).resolve().parent.parent

config = pulumi.Config("gridcloud")
profile = Path(config.require("profile"))
result = analyse(profile if profile.is_absolute() else ROOT / profile)
enforce(result.verdict, allow_over_budget=config.get_bool("allowOverBudget") or False)
export(build(result.plan))
