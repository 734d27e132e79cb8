"""The base of every Plan model: :class:`gridcloud.frozen.Frozen`, under its older name."""

from __future__ import annotations

from gridcloud.frozen import Frozen

__all__ = ["Frozen"]
