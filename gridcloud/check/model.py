"""What ``gridcloud check`` finds: checks with their fix, and quotas as need against limit."""

from __future__ import annotations

from typing import Literal

from gridcloud.frozen import Frozen

Status = Literal["ok", "fail", "warn", "skip"]


class CheckResult(Frozen):
    id: str
    """Stable, for scripts: ``pulumi-cli``, ``auth-plugin``, ``credentials``, ``project``,
    ``apis``, ``billing``, ``permissions``, ``quotas``, ``gke-limits``, ``cluster``,
    ``access``."""
    status: Status
    title: str
    detail: str
    fix: str = ""


class QuotaRow(Frozen):
    metric: str
    """Compute Engine's quota metric, e.g. ``N2D_CPUS``."""
    scope: str
    """The region, or ``global``."""
    need: int
    """What the Plan's peak takes (every pool at its maximum, plus its surge node)."""
    limit: int | None
    """None: the project has no such quota in that scope (Google did not list it)."""
    usage: int | None
    for_what: str
    """Which pools or parts of the Plan need it."""
    request: str
    """How to ask for more."""

    @property
    def available(self) -> int | None:
        if self.limit is None:
            return None
        return self.limit - (self.usage or 0)

    @property
    def status(self) -> Status:
        available = self.available
        if available is None:
            return "fail" if self.need > 0 else "ok"
        return "ok" if self.need <= available else "fail"


class Report(Frozen):
    profile: str
    target: Literal["gcp", "kubernetes"]
    checks: tuple[CheckResult, ...]
    quotas: tuple[QuotaRow, ...] = ()

    @property
    def go(self) -> bool:
        """A deploy can go ahead: nothing failed."""
        return all(c.status != "fail" for c in self.checks) and all(
            q.status != "fail" for q in self.quotas
        )

    def to_json(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "target": self.target,
            "go": self.go,
            "checks": [c.model_dump(mode="json", by_alias=True) for c in self.checks],
            "quotas": [
                {
                    **q.model_dump(mode="json", by_alias=True),
                    "available": q.available,
                    "status": q.status,
                }
                for q in self.quotas
            ],
        }
