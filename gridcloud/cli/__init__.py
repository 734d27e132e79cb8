"""The command line: ``gridcloud``. Thin commands over the service layer."""

from __future__ import annotations

from gridcloud.cli.app import create_cli, main

__all__ = ["create_cli", "main"]
