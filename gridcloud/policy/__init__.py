"""Policy: rules over a Plan that flag what is legal but likely a mistake."""

from __future__ import annotations

from gridcloud.policy.rules import Finding, evaluate

__all__ = ["Finding", "evaluate"]
