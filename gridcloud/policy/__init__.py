"""Policy: rules over a Plan that flag what is legal but likely a mistake."""

from __future__ import annotations

from gridcloud.policy.rules import Finding, enforce_strict, evaluate
from gridcloud.policy.waivers import PROFILE_CHECKS

__all__ = ["PROFILE_CHECKS", "Finding", "enforce_strict", "evaluate"]
