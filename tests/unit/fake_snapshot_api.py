"""A fake Kubernetes API server for the backup CronJob: HTTP on localhost, the few REST
paths the job calls, answered as the API server and GKE's snapshot controller would.

- Every request is checked against the RBAC rules the Plan gives the job's account (its
  Role in the namespace, its ClusterRole): anything else is a 403, as the API server says.
- A created VolumeSnapshot is checked against the CRD's openAPIV3Schema (external-snapshotter's,
  gridcloud/render/data/snapshot-crds.yaml), plus the CRD's CEL rule that exactly one source
  is set; a name taken is a 409.
- The snapshot controller: a snapshot of a bound claim gets a content, with the class's
  deletion policy, and is ready (``ready=False`` keeps new ones in progress); deleting a
  snapshot deletes its Compute Engine snapshot only when its content's policy is Delete.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SNAPSHOTS = "/apis/snapshot.storage.k8s.io/v1"


@dataclass
class Cluster:
    namespace: str
    rules: list[dict[str, Any]]
    """The Role's and the ClusterRole's rules, each with ``namespaced``."""
    schema: dict[str, Any]
    deletion_policy: str
    claims: list[dict[str, Any]] = field(default_factory=list)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)
    gce_snapshots: set[str] = field(default_factory=set)
    """Compute Engine snapshots that exist (by content name)."""
    clock: str = "2026-12-01T03:00:00Z"
    ready: bool = True
    fail_create_for: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def allowed(self, verb: str, group: str, resource: str, *, namespaced: bool) -> bool:
        return any(
            group in r["apiGroups"]
            and resource in r["resources"]
            and verb in r["verbs"]
            and r["namespaced"] == namespaced
            for r in self.rules
        )

    def add_claim(
        self, name: str, labels: dict[str, str] | None = None, *, bound: bool = True
    ) -> None:
        self.claims.append(
            {
                "metadata": {"name": name, "namespace": self.namespace, "labels": labels or {}},
                "status": {"phase": "Bound" if bound else "Pending"},
            }
        )


class _Handler(BaseHTTPRequestHandler):
    cluster: Cluster

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, message: str) -> None:
        self._send(code, {"kind": "Status", "status": "Failure", "message": message, "code": code})

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        result: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return result

    def _route(self, verb: str) -> None:
        cluster = self.cluster
        url = urlparse(self.path)
        path = url.path
        cluster.requests.append((verb, path))
        if self.headers.get("Authorization") != "Bearer job-token":
            self._status(401, "Unauthorized")
            return
        ns_claims = f"/api/v1/namespaces/{cluster.namespace}/persistentvolumeclaims"
        ns_snaps = f"{SNAPSHOTS}/namespaces/{cluster.namespace}/volumesnapshots"
        contents = f"{SNAPSHOTS}/volumesnapshotcontents/"
        if path == ns_claims:
            target = ("", "persistentvolumeclaims", True)
        elif path.startswith(ns_snaps):
            target = ("snapshot.storage.k8s.io", "volumesnapshots", True)
        elif path.startswith(contents):
            target = ("snapshot.storage.k8s.io", "volumesnapshotcontents", False)
        else:
            self._status(404, f"no such path {path}")
            return
        group, resource, namespaced = target
        if not cluster.allowed(verb, group, resource, namespaced=namespaced):
            cluster.refused.append(f"{verb} {resource}")
            self._status(403, f'cannot {verb} resource "{resource}" in API group "{group}"')
            return
        if resource == "persistentvolumeclaims":
            self._send(200, {"kind": "PersistentVolumeClaimList", "items": cluster.claims})
        elif resource == "volumesnapshotcontents":
            self._patch_content(path[len(contents) :])
        elif verb == "list":
            self._list(parse_qs(url.query).get("labelSelector", [""])[0])
        elif verb == "create":
            self._create(self._body())
        else:
            self._delete(path[len(ns_snaps) + 1 :])

    def _list(self, selector: str) -> None:
        wanted = dict(pair.split("=", 1) for pair in selector.split(",") if pair)
        items = [
            s
            for s in self.cluster.snapshots.values()
            if all(s["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]
        self._send(200, {"kind": "VolumeSnapshotList", "items": items})

    def _create(self, body: dict[str, Any]) -> None:
        import jsonschema

        cluster = self.cluster
        errors = [e.message for e in jsonschema.Draft7Validator(cluster.schema).iter_errors(body)]
        source = body.get("spec", {}).get("source", {})
        if len(source) != 1:  # the CRD's CEL rule, which jsonschema does not run
            errors.append("exactly one of volumeSnapshotContentName and persistentVolumeClaimName")
        if errors:
            self._status(422, "; ".join(errors))
            return
        name = body["metadata"]["name"]
        if name in cluster.snapshots:
            self._status(409, f'volumesnapshots "{name}" already exists')
            return
        claim = source["persistentVolumeClaimName"]
        if claim in cluster.fail_create_for:
            self._status(500, "etcdserver: request timed out")
            return
        body["metadata"]["creationTimestamp"] = cluster.clock
        content = f"snapcontent-{name}"
        cluster.contents[content] = {"spec": {"deletionPolicy": cluster.deletion_policy}}
        cluster.gce_snapshots.add(content)
        body["status"] = {"boundVolumeSnapshotContentName": content, "readyToUse": cluster.ready}
        cluster.snapshots[name] = body
        self._send(201, body)

    def _delete(self, name: str) -> None:
        cluster = self.cluster
        snapshot = cluster.snapshots.pop(name, None)
        if snapshot is None:
            self._status(404, f'volumesnapshots "{name}" not found')
            return
        content = snapshot["status"]["boundVolumeSnapshotContentName"]
        if cluster.contents[content]["spec"]["deletionPolicy"] == "Delete":
            cluster.gce_snapshots.discard(content)
            del cluster.contents[content]
        self._send(200, {"kind": "Status", "status": "Success"})

    def _patch_content(self, name: str) -> None:
        cluster = self.cluster
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            self._status(415, "the patch must be a merge patch")
            return
        patch = self._body()
        if name not in cluster.contents:
            self._status(404, f'volumesnapshotcontents "{name}" not found')
            return
        cluster.contents[name]["spec"].update(patch.get("spec", {}))
        self._send(200, cluster.contents[name])

    def do_GET(self) -> None:
        self._route("list")

    def do_POST(self) -> None:
        self._route("create")

    def do_DELETE(self) -> None:
        self._route("delete")

    def do_PATCH(self) -> None:
        self._route("patch")


class FakeApiServer:
    """``with FakeApiServer(cluster) as base:`` serves ``cluster`` at ``base``."""

    def __init__(self, cluster: Cluster) -> None:
        handler = type("Handler", (_Handler,), {"cluster": cluster})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
