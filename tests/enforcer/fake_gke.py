"""The one boundary the enforcer tests fake: the GKE API and Compute Engine's instance group
managers, over REST in their documented shapes (served to the real client libraries with
``responses``). Stateful: a cluster with labels and a fingerprint, node pools with
autoscaling and a size per zone; operations that run once before they are done. Every
call is recorded as (method, path, body).

Like GKE, it runs one operation at a time on the cluster: a change while another operation
runs is refused with ``FAILED_PRECONDITION`` ("Cluster is running incompatible operation").
Operations of GKE's own (an auto-repair, an upgrade) can be started after a given change
(``busy_after``) and run for a number of requests; ``faults`` makes the n-th change fail
once: refused as busy, unavailable (503), accepted with an operation that ends in error, or
with one that never ends."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import responses

GKE = "https://container.googleapis.com/v1"
COMPUTE = "https://compute.googleapis.com/compute/v1"
PROJECT = "atlas-analysis-facility"
LOCATION = "us-central1-a"
CLUSTER = f"projects/{PROJECT}/locations/{LOCATION}/clusters/atlas-gcp"


@dataclass
class Pool:
    name: str
    zones: tuple[str, ...]
    per_zone: int
    autoscaling: dict[str, Any]


@dataclass
class FakeGke:
    labels: dict[str, str]
    pools: dict[str, Pool]
    project: str = PROJECT
    location: str = LOCATION
    name: str = "atlas-gcp"
    operation_base: int = 0
    """Where its operations' numbers start: GKE's operation names are unique in a location,
    so two fake clusters in one answer with numbers of their own."""
    fingerprint: int = 1
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)
    #: GKE's own operations (auto-repair, upgrade): requests left before each is done
    background: dict[str, int] = field(default_factory=dict)
    #: after a change whose path ends with the key, an operation of GKE's own starts and
    #: runs for the value's number of requests (-1: for ever)
    busy_after: dict[str, int] = field(default_factory=dict)
    #: the n-th change (0-based) fails once: "busy", "unavailable", "operation" (ends in
    #: error) or "stuck" (never ends)
    faults: dict[int, str] = field(default_factory=dict)
    changes_seen: int = 0
    #: called after each request with (method, path): someone else acting on the cluster
    hooks: list[Callable[[str, str], None]] = field(default_factory=list)
    failing_operations: set[str] = field(default_factory=set)
    stuck_operations: set[str] = field(default_factory=set)

    @property
    def path(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/clusters/{self.name}"

    def group_names(self) -> dict[str, str]:
        """Its pools' instance group managers, as GKE names them: group name -> pool."""
        return {
            f"gke-{self.name}-{pool.name}-{i:08x}-grp": pool.name
            for pool in self.pools.values()
            for i, _ in enumerate(pool.zones)
        }

    def owns(self, short: str) -> bool:
        """Whether a request's path is for this cluster: the cluster, its pools, its
        operations, its instance groups."""
        if short == f"/{self.path}" or short.startswith(f"/{self.path}/"):
            return True
        if short.startswith(f"/{self.path}:"):
            return True
        if match := re.fullmatch(r".*/instanceGroupManagers/([^/]+)", short):
            return match[1] in self.group_names()
        operations = f"/projects/{self.project}/locations/{self.location}/operations/"
        return short.startswith(operations) and short[len(operations) :] in self.operations

    def _next_operation(self) -> str:
        return f"operation-{self.operation_base + len(self.operations) + 1}"

    def changes(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        """The calls that change something (POSTs), in order."""
        return [c for c in self.calls if c[0] == "POST"]

    # -- shapes --------------------------------------------------------------------------
    def cluster_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "location": self.location,
            "status": "RUNNING",
            "resourceLabels": dict(self.labels),
            "labelFingerprint": f"{self.fingerprint:016x}",
            "nodePools": [
                {
                    "name": pool.name,
                    "status": "RUNNING",
                    "locations": list(pool.zones),
                    "autoscaling": pool.autoscaling,
                    "instanceGroupUrls": [
                        f"https://www.googleapis.com/compute/v1/projects/{self.project}/zones/"
                        f"{zone}/instanceGroupManagers/gke-{self.name}-{pool.name}-{i:08x}-grp"
                        for i, zone in enumerate(pool.zones)
                    ],
                }
                for pool in self.pools.values()
            ],
        }

    def _operation(self, kind: str, target: str) -> dict[str, Any]:
        name = self._next_operation()
        # one poll before it is done (a stuck one never is)
        self.operations[name] = 10**9 if name in self.stuck_operations else 1
        return {
            "name": name,
            "zone": self.location,
            "operationType": kind,
            "status": "RUNNING",
            "selfLink": f"{GKE}/projects/{self.project}/locations/{self.location}/operations/"
            f"{name}",
            "targetLink": f"{GKE}/{target}",
        }

    def running(self) -> list[str]:
        """Operations not done yet: the client's own (not polled to the end) and GKE's."""
        return [n for n, left in self.operations.items() if left > 0] + [
            n for n, left in self.background.items() if left != 0
        ]

    # -- handlers ------------------------------------------------------------------------
    def handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        path = request.url.split("?")[0]
        body = json.loads(request.body) if request.body else None
        short = path.removeprefix(GKE).removeprefix(COMPUTE)
        self.calls.append((request.method, short, body))
        for name, left in self.background.items():  # time passes: one request
            if left > 0:
                self.background[name] = left - 1
        try:
            return self._answer(request.method, short, body)
        finally:
            for hook in self.hooks:
                hook(request.method, short)

    def _answer(
        self, method: str, short: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, str], str]:
        if method == "POST":
            refused = self._refuse()
            if refused is not None:
                return refused
            failing = self._next_operation() in self.failing_operations
            before = copy.deepcopy((self.pools, self.labels))
            answer = self._handle(method, short, body)
            if failing:  # an operation that ends in error changed nothing
                self.pools, self.labels = before
            if answer[0] == 200:
                for suffix, length in self.busy_after.items():
                    if short.endswith(suffix):
                        self.background[f"operation-auto-repair-{len(self.background) + 1}"] = (
                            length
                        )
            return answer
        return self._handle(method, short, body)

    def _refuse(self) -> tuple[int, dict[str, str], str] | None:
        index = self.changes_seen
        self.changes_seen += 1
        fault = self.faults.pop(index, None)
        if fault == "unavailable":
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        if fault == "operation":
            self.failing_operations.add(self._next_operation())
        if fault == "stuck":
            self.stuck_operations.add(self._next_operation())
        running = self.running()
        if fault == "busy" or running:
            name = running[0] if running else "operation-1700000000000-5f3a"
            return _error(
                400, "FAILED_PRECONDITION", f"Cluster is running incompatible operation {name}."
            )
        return None

    def _handle(
        self, method: str, short: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, str], str]:
        cluster = self.path
        if method == "GET" and short == f"/{cluster}":
            return 200, {}, json.dumps(self.cluster_json())
        if (match := re.fullmatch(r".*/zones/([^/]+)/instanceGroupManagers/([^/]+)", short)) and (
            match[2] in self.group_names()
        ):
            pool = self.pools[self.group_names()[match[2]]]
            return (
                200,
                {},
                json.dumps(
                    {
                        "kind": "compute#instanceGroupManager",
                        "name": short.rsplit("/", 1)[-1],
                        "zone": match[1],
                        "targetSize": pool.per_zone,
                    }
                ),
            )
        if match := re.fullmatch(r".*/operations/(operation-\d+)", short):
            left = self.operations[match[1]]
            self.operations[match[1]] = max(left - 1, 0)
            status = "DONE" if left == 0 else "RUNNING"
            answer: dict[str, Any] = {"name": match[1], "status": status, "zone": self.location}
            if status == "DONE" and match[1] in self.failing_operations:
                answer["error"] = {"code": 13, "message": "Internal error, please retry."}
            return 200, {}, json.dumps(answer)
        if match := re.fullmatch(rf"/{cluster}/nodePools/([\w-]+):setAutoscaling", short):
            assert body is not None
            self.pools[match[1]].autoscaling = body["autoscaling"]
            return 200, {}, json.dumps(self._operation("SET_NODE_POOL_MANAGEMENT", short))
        if match := re.fullmatch(rf"/{cluster}/nodePools/([\w-]+):setSize", short):
            assert body is not None
            pool = self.pools[match[1]]
            if pool.autoscaling.get("enabled"):
                return (
                    400,
                    {},
                    json.dumps(
                        {
                            "error": {
                                "code": 400,
                                "status": "FAILED_PRECONDITION",
                                "message": "Cannot resize a node pool with autoscaling enabled",
                            }
                        }
                    ),
                )
            pool.per_zone = int(body.get("nodeCount", 0))
            return 200, {}, json.dumps(self._operation("SET_NODE_POOL_SIZE", short))
        if short == f"/{cluster}:setResourceLabels":
            assert body is not None
            if body.get("labelFingerprint") != f"{self.fingerprint:016x}":
                return (
                    409,
                    {},
                    json.dumps(
                        {
                            "error": {
                                "code": 409,
                                "status": "ABORTED",
                                "message": "Labels could not be set due to fingerprint mismatch",
                            }
                        }
                    ),
                )
            self.labels = dict(body.get("resourceLabels", {}))
            self.fingerprint += 1
            return 200, {}, json.dumps(self._operation("UPDATE_CLUSTER", short))
        return 404, {}, json.dumps({"error": {"code": 404, "message": f"no {short}"}})

    def serve(self, mock: responses.RequestsMock) -> None:
        serve_all(mock, [self])


def serve_all(mock: responses.RequestsMock, clusters: list[FakeGke]) -> None:
    """The GKE and Compute Engine APIs of several clusters (in one project or several, one
    location or several): each request goes to the cluster it names."""

    def route(request: Any) -> tuple[int, dict[str, str], str]:
        short = request.url.split("?")[0].removeprefix(GKE).removeprefix(COMPUTE)
        for cluster in clusters:
            if cluster.owns(short):
                return cluster.handle(request)
        return 404, {}, json.dumps({"error": {"code": 404, "message": f"no {short}"}})

    for method in ("GET", "POST"):
        mock.add_callback(method, re.compile(rf"{re.escape(GKE)}/.*"), callback=route)
        mock.add_callback(method, re.compile(rf"{re.escape(COMPUTE)}/.*"), callback=route)


def _error(code: int, status: str, message: str) -> tuple[int, dict[str, str], str]:
    return code, {}, json.dumps({"error": {"code": code, "status": status, "message": message}})
