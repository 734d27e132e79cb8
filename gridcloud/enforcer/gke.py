"""The enforcer's calls to Google: the GKE API (the cluster, its pools, their autoscaling and
size, the cluster's labels) and Compute Engine (the pools' instance groups, for their
current size). Through the official clients over REST.

A pool goes to zero in two steps, as the API requires: autoscaling off (else the autoscaler
would add nodes back), then size 0. GKE runs one operation at a time on a cluster and refuses
another meanwhile (``FAILED_PRECONDITION``: an auto-repair, an upgrade, a resize started by
hand), so the cap *converges* rather than runs a script: it reads the cluster, makes the
first change still missing, follows its operation until done, and reads again, until every
pool is at zero with autoscaling off and the label is set. A refused or failed step is
retried with backoff. Everything (each request, each wait, each pause) shares one
``Deadline`` kept below the function's timeout; past it the handler gives up, logs what is
left, and the next notification re-asserts the cap. Lifting converges the same way: the
Plan's autoscaling back on every pool, then the label removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcloud.enforcer.config import CappedCluster, CappedPool, Settings

log = logging.getLogger("gridcloud.enforcer")

#: What the handler keeps back from the function's timeout: its last log lines, and one
#: request in flight (each request's own timeout is bounded by the time left).
MARGIN_S = 30.0
#: The longest one request may take (less when the deadline is nearer).
REQUEST_TIMEOUT_S = 30.0
#: Following an operation: first poll, doubling up to the longest.
FIRST_POLL_S = 0.2
LONGEST_POLL_S = 5.0
#: After a refused or failed step: the first pause, doubling up to the longest. An
#: auto-repair or an upgrade holds the cluster for minutes.
FIRST_RETRY_S = 2.0
LONGEST_RETRY_S = 30.0


class DeadlineError(TimeoutError):
    """The handler's time is up; what is not done waits for the next notification."""


class OperationError(RuntimeError):
    """A GKE operation finished with an error (retried: the next attempt reads afresh)."""


class Deadline:
    """One clock for the whole handler: every wait and every retry draws on it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @classmethod
    def for_function(cls, timeout_seconds: int) -> Deadline:
        """Below the function's timeout by ``MARGIN_S`` (by a tenth of a shorter one)."""
        return cls(timeout_seconds - min(MARGIN_S, timeout_seconds / 10))

    def left(self) -> float:
        return max(self.end - time.monotonic(), 0.0)

    def sleep(self, seconds: float, what: str) -> None:
        """Pause, or raise if the pause would end past the deadline."""
        if seconds >= self.left():
            raise DeadlineError(f"{what}: the handler's deadline ({self.seconds:.0f} s) reached")
        time.sleep(seconds)

    def timeout(self) -> float:
        """One request's timeout."""
        left = self.left()
        if left <= 0:
            raise DeadlineError(f"the handler's deadline ({self.seconds:.0f} s) reached")
        return min(left, REQUEST_TIMEOUT_S)


#: The statuses of a refusal a later attempt can get past: GKE busy with another operation
#: on the cluster (FAILED_PRECONDITION, over HTTP a 400), a stale label fingerprint
#: (ABORTED, a 409), throttling, Google's transient errors.
RETRIED_STATUSES = frozenset(
    {
        "FAILED_PRECONDITION",
        "ABORTED",
        "RESOURCE_EXHAUSTED",
        "UNAVAILABLE",
        "INTERNAL",
        "DEADLINE_EXCEEDED",
    }
)


def retryable(error: BaseException) -> bool:
    """Whether a later attempt can get past ``error``: a refusal of ``RETRIED_STATUSES``, a
    5xx, a dropped connection, an operation that ended in error."""
    import requests
    from google.api_core import exceptions

    if isinstance(error, OperationError | requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(error, exceptions.ServerError | exceptions.TooManyRequests):
        return True
    if isinstance(error, exceptions.GoogleAPICallError):
        return _status(error) in RETRIED_STATUSES
    return False


def _status(error: Any) -> str | None:
    """The status Google's JSON error names (the HTTP code alone says 400 for both a bad
    request and a busy cluster)."""
    try:
        status = error.response.json()["error"]["status"]
    except Exception:  # no response, not JSON, another shape
        return None
    return status if isinstance(status, str) else None


@dataclass(frozen=True)
class PoolState:
    name: str
    autoscaling: bool
    nodes: int
    min_nodes: int
    max_nodes: int
    location_policy: str


#: One change still missing: what it is, and the call that starts its operation.
Step = tuple[str, Callable[[], Any]]


class ClusterError(RuntimeError):
    """Clusters the cap or the lift could not finish on (the others were)."""


class Cluster:
    """One cluster of the facility: its GKE resource name, its capped pools, the calls."""

    def __init__(self, gke: Gke, settings: CappedCluster) -> None:
        self.gke = gke
        self.settings = settings
        self.name = settings.path
        base = self.name.rsplit("/clusters/", 1)[0]
        self.operations = f"{base}/operations"
        self.who = f"cluster {settings.cluster}"

    def get(self) -> Any:
        return self.gke.container.get_cluster(name=self.name, timeout=self.gke.deadline.timeout())

    def cap_in_force(self, cluster: Any) -> str | None:
        value = dict(cluster.resource_labels).get(self.gke.settings.label)
        return str(value) if value is not None else None

    def pools(self, cluster: Any) -> dict[str, PoolState]:
        """Each capped pool's autoscaling and current node count (its instance groups'
        target size); a pool missing from the cluster is missing here."""
        wanted = {p.name for p in self.settings.pools}
        states: dict[str, PoolState] = {}
        for pool in cluster.node_pools:
            if pool.name not in wanted:
                continue
            total = 0
            for url in pool.instance_group_urls:
                parts = url.split("/")
                project, zone, name = parts[-5], parts[-3], parts[-1]
                group = self.gke.groups.get(
                    project=project,
                    zone=zone,
                    instance_group_manager=name,
                    timeout=self.gke.deadline.timeout(),
                )
                total += group.target_size
            scaling = pool.autoscaling
            states[pool.name] = PoolState(
                name=pool.name,
                autoscaling=bool(scaling.enabled),
                nodes=total,
                min_nodes=scaling.total_min_node_count,
                max_nodes=scaling.total_max_node_count,
                location_policy=scaling.location_policy.name,
            )
        return states

    def cap_step(self, cluster: Any, period: str) -> Step | None:
        states = self.pools(cluster)
        for pool in self.settings.pools:
            state = states.get(pool.name)
            if state is None:
                log.warning("%s: pool %s not in the cluster, nothing to cap", self.who, pool.name)
                continue
            if state.autoscaling:
                return (
                    f"{self.who}: pool {pool.name}: autoscaling off (at {state.nodes} nodes)",
                    lambda name=pool.name: self.gke.container.set_node_pool_autoscaling(
                        request={"name": self._pool(name), "autoscaling": {"enabled": False}},
                        timeout=self.gke.deadline.timeout(),
                    ),
                )
            if state.nodes > 0:
                return (
                    f"{self.who}: pool {pool.name}: {state.nodes} nodes to 0",
                    lambda name=pool.name: self.gke.container.set_node_pool_size(
                        request={"name": self._pool(name), "node_count": 0},
                        timeout=self.gke.deadline.timeout(),
                    ),
                )
        if self.cap_in_force(cluster) != period:
            label = self.gke.settings.label
            return (f"{self.who}: label {label}={period}", self._label(cluster, period))
        return None

    def lift_step(self, cluster: Any) -> Step | None:
        states = self.pools(cluster)
        for pool in self.settings.pools:
            state = states.get(pool.name)
            if state is None:
                log.warning(
                    "%s: pool %s not in the cluster, nothing to restore", self.who, pool.name
                )
                continue
            if (
                state.autoscaling,
                state.min_nodes,
                state.max_nodes,
                state.location_policy,
            ) != (True, pool.total_min_nodes, pool.total_max_nodes, pool.location_policy):
                return (
                    f"{self.who}: pool {pool.name}: autoscaling restored ({pool.total_min_nodes} "
                    f"to {pool.total_max_nodes} nodes, {pool.location_policy})",
                    lambda pool=pool: self._restore(pool),
                )
        if self.cap_in_force(cluster) is not None:
            label = self.gke.settings.label
            return (f"{self.who}: label {label} removed", self._label(cluster, None))
        return None

    # -- changing ------------------------------------------------------------------------
    def _pool(self, pool: str) -> str:
        return f"{self.name}/nodePools/{pool}"

    def _restore(self, pool: CappedPool) -> Any:
        from google.cloud import container_v1

        policy = getattr(container_v1.NodePoolAutoscaling.LocationPolicy, pool.location_policy)
        return self.gke.container.set_node_pool_autoscaling(
            request={
                "name": self._pool(pool.name),
                "autoscaling": {
                    "enabled": True,
                    "total_min_node_count": pool.total_min_nodes,
                    "total_max_node_count": pool.total_max_nodes,
                    "location_policy": policy,
                },
            },
            timeout=self.gke.deadline.timeout(),
        )

    def _label(self, cluster: Any, value: str | None) -> Callable[[], Any]:
        """Set (or with None remove) the cap's label, keeping the cluster's others; the
        fingerprint is the one just read (a stale one is refused and read again)."""
        labels = dict(cluster.resource_labels)
        if value is None:
            labels.pop(self.gke.settings.label, None)
        else:
            labels[self.gke.settings.label] = value
        fingerprint = cluster.label_fingerprint
        return lambda: self.gke.container.set_labels(
            request={
                "name": self.name,
                "resource_labels": labels,
                "label_fingerprint": fingerprint,
            },
            timeout=self.gke.deadline.timeout(),
        )

    def wait(self, operation: Any, what: str) -> None:
        from google.cloud import container_v1

        name = f"{self.operations}/{operation.name}"
        pause = FIRST_POLL_S
        while operation.status != container_v1.Operation.Status.DONE:
            self.gke.deadline.sleep(pause, f"{what}: operation {operation.name} still running")
            pause = min(pause * 2, LONGEST_POLL_S)
            operation = self.gke.container.get_operation(
                name=name, timeout=self.gke.deadline.timeout()
            )
        if operation.error and operation.error.message:
            raise OperationError(f"{what}: operation {operation.name}: {operation.error.message}")


@dataclass(frozen=True)
class View:
    """What the handler reads before it decides: the period a cap is in force for (the
    latest any cluster is labelled with), and the capped pools' running nodes."""

    capped: str | None
    nodes: dict[tuple[str, str], int]


class Gke:
    """Every cluster of the facility the cap acts on, through one pair of clients and one
    deadline."""

    def __init__(self, settings: Settings, deadline: Deadline) -> None:
        from google.cloud import compute_v1, container_v1

        self.settings = settings
        self.deadline = deadline
        self.container = container_v1.ClusterManagerClient(transport="rest")
        self.groups = compute_v1.InstanceGroupManagersClient(transport="rest")
        self.clusters = [Cluster(self, c) for c in settings.clusters]

    # -- reading -------------------------------------------------------------------------
    def read(self, *, nodes: Callable[[str | None], bool]) -> View:
        """Every cluster's label, and, when ``nodes(capped)`` says they are needed, its
        pools' running nodes. A cluster that cannot be read counts its pools at their
        maximum (the lag allowance errs towards capping) and is logged; the cap then tries
        it again."""
        read: list[tuple[Cluster, Any]] = []
        unread: list[Cluster] = []
        for cluster in self.clusters:
            try:
                read.append((cluster, cluster.get()))
            except DeadlineError:
                raise
            except Exception as error:
                log.warning(
                    "%s: cannot be read (%s): its pools count at their maximum",
                    cluster.who,
                    _first_line(error),
                )
                unread.append(cluster)
        labels = [c.cap_in_force(state) for c, state in read]
        capped = max((label for label in labels if label is not None), default=None)
        running: dict[tuple[str, str], int] = {}
        if nodes(capped):
            for cluster, state in read:
                for name, pool in cluster.pools(state).items():
                    running[(cluster.settings.shard, name)] = pool.nodes
            for cluster in unread:
                for capped_pool in cluster.settings.pools:
                    running[(cluster.settings.shard, capped_pool.name)] = (
                        capped_pool.total_max_nodes
                    )
        return View(capped=capped, nodes=running)

    # -- converging ----------------------------------------------------------------------
    def cap(self, period: str) -> int:
        """Converge on the cap in every cluster: each capped pool at zero with autoscaling
        off, then the cluster's label ``period``. The number of changes made (0: it was in
        force already)."""
        return self._converge(lambda cluster, state: cluster.cap_step(state, period))

    def lift(self) -> int:
        """Converge on the lift in every cluster: the Plan's autoscaling on every pool, then
        no label."""
        return self._converge(lambda cluster, state: cluster.lift_step(state))

    def _converge(self, next_step: Callable[[Cluster, Any], Step | None]) -> int:
        """One change at a time in each cluster, the clusters in turn, so that a cluster
        GKE keeps busy (or one that refuses) does not hold the others back: a round that
        changes nothing anywhere waits (backoff) before the next. A cluster whose error a
        retry cannot fix is left, logged, and named at the end (``ClusterError``)."""
        changes = 0
        attempt = 0
        pause = FIRST_RETRY_S
        pending = list(self.clusters)
        broken: list[str] = []
        while pending:
            progress = False
            refused: list[str] = []
            for cluster in list(pending):
                try:
                    step = next_step(cluster, cluster.get())
                    if step is None:
                        pending.remove(cluster)
                        continue
                    what, call = step
                    cluster.wait(call(), what)
                    log.warning("%s: done", what)
                    changes += 1
                    progress = True
                except DeadlineError:
                    raise
                except Exception as error:
                    if not retryable(error):
                        log.error("%s: %s; the other clusters go on", cluster.who, error)
                        broken.append(f"{cluster.who}: {_first_line(error)}")
                        pending.remove(cluster)
                        continue
                    refused.append(f"{cluster.who}: {_first_line(error)}")
            if not pending or progress:
                pause = FIRST_RETRY_S  # progress: a later refusal starts the backoff afresh
                continue
            if not refused:
                continue
            attempt += 1
            log.warning(
                "refused or failed (%s); attempt %d, again in %.1f s",
                "; ".join(refused),
                attempt,
                pause,
            )
            self.deadline.sleep(pause, f"still refused after {attempt} attempts")
            pause = min(pause * 2, LONGEST_RETRY_S)
        if broken:
            raise ClusterError("; ".join(broken))
        return changes


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
