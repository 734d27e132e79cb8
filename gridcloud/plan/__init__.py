"""The Plan: pure expansion of a profile into the fully resolved facility."""

from __future__ import annotations

from gridcloud.plan.expand import expand
from gridcloud.plan.model import Plan, PoolPlan

__all__ = ["Plan", "PoolPlan", "expand"]
