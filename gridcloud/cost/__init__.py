"""Cost: estimates, the budget verdict and (later) billing-export reports, from a Plan."""

from __future__ import annotations
