"""Engine events to progress: a tracker, and three ways to show it.

The tracker turns Pulumi's engine events into a small state (resources done of total,
operations in flight, failures with the provider's message) and into records, one per
event worth telling. A renderer shows them: a rich live view on a terminal, plain lines
otherwise, or NDJSON records on stdout with ``--json`` (keys in docs/deploy.md).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from pulumi.automation import EngineEvent

#: Operations that change nothing, left out of the progress counts' "changes".
QUIET_OPS = frozenset({"same", "read", "refresh"})


def short_name(urn: str) -> str:
    """The resource name at the end of a URN."""
    return urn.rsplit("::", 1)[-1]


@dataclass
class Failure:
    name: str
    type: str
    message: str


@dataclass
class Tracker:
    """What an operation has done so far, fed by engine events (thread-safe)."""

    total: int | None = None
    done: int = 0
    in_flight: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self, total: int | None) -> None:
        """Start counting afresh (after the preview that counted the steps)."""
        with self._lock:
            self.total, self.done = total, 0
            self.in_flight.clear()
            self.failures.clear()
            self.errors.clear()
            self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def handle(self, event: EngineEvent) -> list[dict[str, Any]]:
        """Update the state; return the records this event gives (possibly none)."""
        with self._lock:
            return self._handle(event)

    def _handle(self, event: EngineEvent) -> list[dict[str, Any]]:
        at = round(self.elapsed, 1)
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            op = str(getattr(meta.op, "value", meta.op))
            self.in_flight[meta.urn] = (op, meta.type, time.monotonic())
            return [
                {
                    "event": "resource-start",
                    "name": short_name(meta.urn),
                    "type": meta.type,
                    "op": op,
                    "elapsed": at,
                }
            ]
        if event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            op = str(getattr(meta.op, "value", meta.op))
            self.in_flight.pop(meta.urn, None)
            self.done += 1
            return [
                {
                    "event": "resource-done",
                    "name": short_name(meta.urn),
                    "type": meta.type,
                    "op": op,
                    "elapsed": at,
                }
            ]
        if event.diagnostic_event is not None:
            diag = event.diagnostic_event
            if diag.severity == "error":
                message = diag.message.strip()
                self.errors.setdefault(diag.urn or "", []).append(message)
                return [
                    {
                        "event": "error",
                        "name": short_name(diag.urn or ""),
                        "message": message,
                        "elapsed": at,
                    }
                ]
            return []
        if event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            self.in_flight.pop(meta.urn, None)
            message = " ".join(self.errors.get(meta.urn, [])) or "the operation failed"
            failure = Failure(short_name(meta.urn), meta.type, message)
            self.failures.append(failure)
            return [
                {
                    "event": "resource-failed",
                    "name": failure.name,
                    "type": failure.type,
                    "message": failure.message,
                    "elapsed": at,
                }
            ]
        if event.summary_event is not None:
            changes = {str(k): int(v) for k, v in event.summary_event.resource_changes.items()}
            return [{"event": "summary", "changes": changes, "elapsed": at}]
        return []

    def failure_report(self) -> str | None:
        with self._lock:
            failures = list(self.failures)
            if not failures and self.errors:
                failures = [
                    Failure(short_name(urn) or "(stack)", "", " ".join(messages))
                    for urn, messages in self.errors.items()
                ]
        if not failures:
            return None
        return "; ".join(
            f"{f.name}{f' ({f.type})' if f.type else ''}: {f.message}" for f in failures
        )


class Renderer(Protocol):
    def __enter__(self) -> Renderer: ...
    def __exit__(self, *exc: object) -> None: ...
    def record(self, record: dict[str, Any]) -> None: ...


class _Lines:
    """A renderer that writes as records come: nothing to set up or tear down."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class JsonLines(_Lines):
    """NDJSON records on stdout, one per line."""

    def record(self, record: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(record, default=str) + "\n")
        sys.stdout.flush()


class PlainLines(_Lines):
    """One line per resource started, finished or failed, on stderr (for logs and CI); with a
    ``prefix`` (the stack's name), each line starts with it, for stacks run side by side."""

    def __init__(self, tracker: Tracker, prefix: str = "") -> None:
        super().__init__(tracker)
        self.prefix = f"[{prefix}] " if prefix else ""

    def record(self, record: dict[str, Any]) -> None:
        kind = record["event"]
        count = f"[{self.tracker.done}/{self.tracker.total or '?'}]"
        stamp = f"{record.get('elapsed', 0):7.1f}s"
        if kind == "resource-start" and record["op"] not in QUIET_OPS:
            line = f"{stamp} {count} {record['op']:<8} {record['name']} ({record['type']})"
        elif kind == "resource-done" and record["op"] not in QUIET_OPS:
            line = f"{stamp} {count} done     {record['name']}"
        elif kind == "resource-failed":
            line = f"{stamp} {count} FAILED   {record['name']}: {record['message']}"
        elif kind == "summary":
            line = f"{stamp} summary: {record['changes']}"
        else:
            return
        print(self.prefix + line, file=sys.stderr, flush=True)


class LiveView:
    """A rich live view on stderr: a bar of resources done, operations in flight, failures."""

    def __init__(self, tracker: Tracker, title: str) -> None:
        from rich.console import Console
        from rich.live import Live

        self.tracker = tracker
        self.title = title
        self.live = Live(
            get_renderable=self._render, console=Console(stderr=True), refresh_per_second=4
        )

    def __enter__(self) -> LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def record(self, record: dict[str, Any]) -> None:  # noqa: ARG002
        return None  # the view re-renders from the tracker

    def _render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        t = self.tracker
        total = t.total or max(t.done + len(t.in_flight), 1)
        head = Text(f"{self.title}  {t.done}/{t.total or '?'} resources  {t.elapsed:.0f}s")
        lines: list[Any] = [head, ProgressBar(total=total, completed=min(t.done, total), width=50)]
        now = time.monotonic()
        for urn, (op, typ, since) in list(t.in_flight.items())[:8]:
            if op not in QUIET_OPS:
                lines.append(
                    Text(f"  {op:<8} {short_name(urn)} ({typ}) {now - since:.0f}s", style="cyan")
                )
        for failure in t.failures:
            lines.append(Text(f"  failed   {failure.name}: {failure.message}", style="red"))
        return Group(*lines)


def renderer_for(
    tracker: Tracker, title: str, *, json_output: bool, shared: bool = False
) -> Renderer:
    """``shared``: other stacks run at the same time, on the same terminal (one live view at
    a time is all a terminal holds): plain lines, each starting with ``title``."""
    if json_output:
        return JsonLines(tracker)
    if shared:
        return PlainLines(tracker, prefix=title)
    if sys.stderr.isatty():
        return LiveView(tracker, title)
    return PlainLines(tracker)
