"""Policy: rules over a Plan that flag what is legal but likely a mistake."""

from __future__ import annotations

from gridcloud.policy.rules import Finding, enforce_strict, evaluate

__all__ = ["Finding", "enforce_strict", "evaluate"]
