"""The Pulumi program: the only place that creates Pulumi resources.

Importing this package imports Pulumi and its providers (slow): the CLI does so only for
commands that deploy.
"""

from __future__ import annotations

from gridcloud.program.facility import Facility, build, export

__all__ = ["Facility", "build", "export"]
