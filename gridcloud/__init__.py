"""gridcloud: infrastructure as code for physics analysis facilities."""

from __future__ import annotations

__version__ = "0.1.0"
