"""The engine: Pulumi's Automation API driving the program, with progress and clear errors."""

from __future__ import annotations
