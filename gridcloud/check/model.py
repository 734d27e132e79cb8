"""What ``gridcloud check`` finds: checks with their fix, and quotas as need against limit."""

from __future__ import annotations

from typing import Literal

from gridcloud.frozen import Frozen

Status = Literal["ok", "fail", "warn", "skip"]

#: every check's id, in the order ``check`` runs them (gcp, then kubernetes-only ones)
CHECK_IDS = (
    "pulumi-cli",
    "secrets",
    "environment",
    "auth-plugin",
    "credentials",
    "project",
    "apis",
    "billing",
    "permissions",
    "quotas",
    "gke-limits",
    "cluster",
    "access",
)


class CheckResult(Frozen):
    id: str
    """Stable, for scripts: one of :data:`CHECK_IDS` (``check``), or ``stack``, ``cluster``,
    ``namespaces``, ``workloads``, ``entry-points`` (``verify``)."""
    status: Status
    title: str
    detail: str
    fix: str = ""


class QuotaRow(Frozen):
    metric: str
    """Compute Engine's quota metric, e.g. ``N2D_CPUS``."""
    scope: str
    """The region, or ``global``."""
    project: str = ""
    """The project the quota is in: a facility's shards may be in projects of their own."""
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
    waived: tuple[str, ...] = ()
    """The ids skipped with ``--skip ID=REASON``: run, shown, and not counted."""

    @property
    def go(self) -> bool:
        """A deploy can go ahead: nothing failed (a waived check does not count)."""
        return all(c.status != "fail" for c in self.checks) and (
            "quotas" in self.waived or all(q.status != "fail" for q in self.quotas)
        )

    def waive(self, reasons: dict[str, str]) -> Report:
        """The report with the checks in ``reasons`` (id -> why) turned into skips that
        keep what they found: a known false alarm (a quota Google granted an hour ago, a
        permission held through a group the API does not see) no longer blocks, and the
        reason is in the output for whoever reads the log."""
        checks = tuple(
            c.model_copy(
                update={
                    "status": "skip",
                    "detail": f"skipped with --skip: {reasons[c.id]} (it found: {c.status}, "
                    f"{c.detail})",
                    "fix": "",
                }
            )
            if c.id in reasons
            else c
            for c in self.checks
        )
        waived = tuple(i for i in CHECK_IDS if i in reasons)
        return self.model_copy(update={"checks": checks, "waived": waived})

    def to_json(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "target": self.target,
            "go": self.go,
            "waived": list(self.waived),
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
