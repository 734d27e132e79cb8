"""Scheduled volume snapshots: one run of the backup CronJob, in one namespace.

Runs in the cluster from a ConfigMap (``snapshots.py`` and ``config.json`` beside it), in an
image the facility runs already (JupyterHub's hub, else REANA's server): the standard library
only, Python 3.8 syntax, the API server reached over HTTPS with the pod's service account.

One run:

1. list the namespace's claims and pick those the configuration names (a claim by name, or
   every claim with some labels: the users' homes); only bound claims are snapshotted;
2. create one ``VolumeSnapshot`` (``snapshot.storage.k8s.io/v1``) of each, named
   ``<claim>-<UTC time>``, of the configured class, with gridcloud's labels;
3. prune: of the snapshots with those labels, per claim, keep the newest ``keep`` that are
   ready to use and everything newer than the oldest of them (still being taken); delete
   the rest. A claim that is gone keeps its last ``keep`` snapshots. The class keeps the
   Compute Engine snapshot when its object goes (``Retain``: deleting the namespace or the
   cluster loses no backup), so a pruned snapshot's content is first switched to
   ``Delete``, then its object deleted: the CSI driver deletes the Compute Engine snapshot.

The account may list claims and create, list and delete snapshots in its namespace, and
patch snapshot contents (cluster-scoped: their deletion policy), nothing else.
A claim that fails does not stop the others; the run exits 1 when anything failed, so the
Job shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

GROUP_VERSION = "snapshot.storage.k8s.io/v1"
ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CONFIG = Path(__file__).resolve().parent / "config.json"
#: Room left in a snapshot's name (253 characters at most) for ``-YYYYMMDD-HHMMSS``.
MAX_CLAIM_IN_NAME = 253 - 16

if TYPE_CHECKING:  # annotations only: Python 3.8 cannot subscript dict at run time
    Body = dict[str, Any]


class ApiError(Exception):
    """The API server refused a request (its HTTP status and message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Api:
    """The few REST calls a run makes, over HTTP(S) with a bearer token."""

    def __init__(self, base: str, token: str, context: ssl.SSLContext | None = None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.context = context

    @classmethod
    def in_cluster(cls) -> Api:  # pragma: no cover - needs a pod
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if ":" in host:
            host = f"[{host}]"
        token = (ACCOUNT / "token").read_text().strip()
        context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
        return cls(f"https://{host}:{port}", token, context)

    def call(
        self,
        method: str,
        path: str,
        body: Body | None = None,
        query: Body | None = None,
        content_type: str = "application/json",
    ) -> Body:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.context) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            try:
                message = json.loads(detail).get("message", detail)
            except ValueError:
                message = detail
            raise ApiError(error.code, str(message)[:500]) from None
        return json.loads(text) if text else {}

    def claims(self, namespace: str) -> list[Body]:
        found = self.call("GET", f"/api/v1/namespaces/{namespace}/persistentvolumeclaims")
        return list(found.get("items") or [])

    def snapshots(self, namespace: str, labels: dict[str, str]) -> list[Body]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        found = self.call(
            "GET",
            f"/apis/{GROUP_VERSION}/namespaces/{namespace}/volumesnapshots",
            query={"labelSelector": selector},
        )
        return list(found.get("items") or [])

    def create_snapshot(self, namespace: str, body: Body) -> None:
        self.call("POST", f"/apis/{GROUP_VERSION}/namespaces/{namespace}/volumesnapshots", body)

    def release_content(self, content: str) -> None:
        """Let the snapshot in Compute Engine go with its object: the class keeps them
        (``Retain``, so that deleting a namespace or the cluster loses no backup)."""
        self.call(
            "PATCH",
            f"/apis/{GROUP_VERSION}/volumesnapshotcontents/{content}",
            {"spec": {"deletionPolicy": "Delete"}},
            content_type="application/merge-patch+json",
        )

    def delete_snapshot(self, namespace: str, name: str) -> None:
        self.call("DELETE", f"/apis/{GROUP_VERSION}/namespaces/{namespace}/volumesnapshots/{name}")


def log(message: str) -> None:
    print("snapshots: " + message, flush=True)


def chosen(claims: list[Body], targets: list[Body]) -> tuple[list[str], list[str]]:
    """The bound claims the targets name (in the claims' order), and what was skipped."""
    names: list[str] = []
    skipped: list[str] = []
    by_name = {c["metadata"]["name"]: c for c in claims}
    for target in targets:
        if "claim" in target:
            claim = by_name.get(target["claim"])
            picked = [] if claim is None else [claim]
            if claim is None:
                skipped.append(f"claim {target['claim']} does not exist (yet)")
        else:
            wanted = target["selector"]
            picked = [
                c
                for c in claims
                if all((c["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
            ]
        for claim in picked:
            name = claim["metadata"]["name"]
            phase = (claim.get("status") or {}).get("phase")
            if phase != "Bound":
                skipped.append(f"claim {name} is {phase or 'not bound'}")
            elif name not in names:
                names.append(name)
    return names, skipped


def snapshot_name(claim: str, now: dt.datetime) -> str:
    return f"{claim[:MAX_CLAIM_IN_NAME].rstrip('-.')}-{now:%Y%m%d-%H%M%S}"


def snapshot_body(
    claim: str, namespace: str, snapshot_class: str, labels: dict[str, str], now: dt.datetime
) -> Body:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": snapshot_name(claim, now),
            "namespace": namespace,
            "labels": dict(labels),
        },
        "spec": {
            "volumeSnapshotClassName": snapshot_class,
            "source": {"persistentVolumeClaimName": claim},
        },
    }


def _ready(snapshot: Body) -> bool:
    return bool((snapshot.get("status") or {}).get("readyToUse"))


def _created(snapshot: Body) -> str:
    # RFC 3339 in UTC ("2026-12-04T03:00:00Z"): ordered as text; the name breaks ties
    meta = snapshot["metadata"]
    return f"{meta.get('creationTimestamp', '')} {meta['name']}"


def expired(snapshots: list[Body], keep: int) -> list[str]:
    """Which snapshots to delete: per claim, those older than the oldest of the newest
    ``keep`` ready ones. Nothing goes while a claim has ``keep`` or fewer ready snapshots
    unless it is older than all of them (a failed or abandoned one)."""
    by_claim: dict[str, list[Body]] = {}
    for snapshot in snapshots:
        claim = ((snapshot.get("spec") or {}).get("source") or {}).get(
            "persistentVolumeClaimName", ""
        )
        by_claim.setdefault(claim, []).append(snapshot)
    doomed: list[str] = []
    for claim in sorted(by_claim):
        newest_first = sorted(by_claim[claim], key=_created, reverse=True)
        ready = [s for s in newest_first if _ready(s)][:keep]
        if not ready:
            continue  # none ready yet: keep everything rather than lose the last chance
        oldest_kept = _created(ready[-1])
        doomed += [s["metadata"]["name"] for s in newest_first if _created(s) < oldest_kept]
    return doomed


def run(api: Api, config: Body, now: dt.datetime) -> tuple[list[str], list[str], list[str]]:
    """One run: the snapshots made, those deleted, and what failed (one line each)."""
    namespace = config["namespace"]
    labels = config["labels"]
    failures: list[str] = []
    made: list[str] = []
    names, skipped = chosen(api.claims(namespace), config["targets"])
    for line in skipped:
        log(f"skipped: {line}")
    for claim in names:
        body = snapshot_body(claim, namespace, config["snapshotClass"], labels, now)
        try:
            api.create_snapshot(namespace, body)
        except ApiError as error:
            if error.status != 409:  # 409: this run's snapshot exists already (a retry)
                failures.append(f"snapshot of {claim}: {error}")
                continue
        made.append(body["metadata"]["name"])
        log(f"snapshot {body['metadata']['name']} of claim {claim} requested")
    deleted: list[str] = []
    listed = api.snapshots(namespace, labels)
    contents = {
        s["metadata"]["name"]: (s.get("status") or {}).get("boundVolumeSnapshotContentName")
        for s in listed
    }
    for name in expired(listed, int(config["keep"])):
        try:
            content = contents.get(name)
            if content:
                api.release_content(str(content))
            api.delete_snapshot(namespace, name)
        except ApiError as error:
            if error.status != 404:
                failures.append(f"deleting {name}: {error}")
                continue
        deleted.append(name)
        log(f"snapshot {name} deleted (beyond the {config['keep']} kept)")
    return made, deleted, failures


def main() -> int:  # pragma: no cover - the CronJob's entry point
    config = json.loads(CONFIG.read_text())
    try:
        made, deleted, failures = run(
            Api.in_cluster(),
            config,
            dt.datetime.now(dt.timezone.utc).replace(microsecond=0),  # noqa: UP017 - Python 3.8
        )
    except ApiError as error:
        log(f"failed: {error}")
        return 1
    for failure in failures:
        log(f"failed: {failure}")
    log(f"{len(made)} snapshot(s) requested, {len(deleted)} deleted, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
