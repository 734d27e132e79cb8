"""One error hierarchy: every failure a user can meet, with a message, a hint and an exit code.

The CLI's entry point turns a :class:`GridcloudError` into ``Error: ...`` / ``Hint: ...`` on
stderr and exits with :attr:`GridcloudError.exit_code`. The codes are documented in
``docs/cli.md``; change them there too.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, stable for scripts and CI."""

    OK = 0
    INTERNAL = 1
    INVALID_INPUT = 2
    PLAN_INFEASIBLE = 3
    OVER_BUDGET = 4
    ENGINE = 5
    ENGINE_MISSING = 6
    CONFLICT = 7
    POLICY = 8
    NOT_READY = 9
    INTERRUPTED = 130


class GridcloudError(Exception):
    """Base of every error gridcloud reports to a user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(GridcloudError):
    """The command line or a file the user gave cannot be used."""

    exit_code = ExitCode.INVALID_INPUT


class ProfileError(InputError):
    """A profile failed to load or validate; ``problems`` holds one line per finding."""

    def __init__(self, message: str, problems: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {p}" for p in self.problems)])


class CatalogError(GridcloudError):
    """The price or machine catalog is missing or damaged."""

    exit_code = ExitCode.INTERNAL


class PolicyError(GridcloudError):
    """``--strict``: the Plan has policy warnings the profile does not waive."""

    exit_code = ExitCode.POLICY


class PlanError(GridcloudError):
    """A valid profile asks for a facility that cannot be built (limits, address space)."""

    exit_code = ExitCode.PLAN_INFEASIBLE


class BudgetError(GridcloudError):
    """The budget gate refused: the facility would cost more than the profile allows."""

    exit_code = ExitCode.OVER_BUDGET


class EngineError(GridcloudError):
    """Pulumi failed: a resource, the backend, credentials."""

    exit_code = ExitCode.ENGINE


class EngineMissingError(EngineError):
    """The Pulumi CLI (or a part of it) is not installed or too old."""

    exit_code = ExitCode.ENGINE_MISSING


class ConflictError(EngineError):
    """Another update holds the stack's lock."""

    exit_code = ExitCode.CONFLICT


class NotReadyError(GridcloudError):
    """``gridcloud check``: a deploy cannot go ahead from here (a tool, access or quota)."""

    exit_code = ExitCode.NOT_READY


class InterruptError(GridcloudError):
    """The user pressed Ctrl-C."""

    exit_code = ExitCode.INTERRUPTED
