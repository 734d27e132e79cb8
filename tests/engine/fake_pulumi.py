"""A stand-in for the Pulumi CLI, at the boundary this machine cannot reach.

The real CLI downloads from hosts that are unreachable here, so the engine's failure paths
are exercised against this script instead. It answers the calls the Automation API makes
(``version``, ``stack select``, ``preview``/``up``/``destroy``/``refresh`` with an event log,
``stack history``, ``stack output``, ``stack ls``, ``stack export``) and behaves as told by
``FAKE_PULUMI_MODE``:

- ``ok``: the operation succeeds, creating the resources named in the event log;
- ``fail``: a resource fails with a provider error (events and exit code as the real CLI);
- ``conflict``: another update holds the lock (the real CLI's 409 message);
- ``missing``: the stack does not exist (``stack select`` fails as the real CLI does).

The stack's state stands for the default profile's facility after a first ``up``: its outputs
(built with gridcloud/plan/outputs.py, which the program writes through) and a GKE cluster
whose deletion protection is ``$FAKE_PULUMI_PROTECTED`` (``true`` unless set to ``false``).

The stack's secret outputs (the cluster's kubeconfig, the grid submitter's kubeconfig with its
token, REANA's administrator token) are ``[secret]`` unless ``--show-secrets`` is given, as
the real CLI prints them; their values can be planted through ``$FAKE_PULUMI_SECRETS`` (a
JSON object), as a real stack would hold generated ones; more plain outputs through
``$FAKE_PULUMI_OUTPUTS``.

Every call is appended to ``$FAKE_PULUMI_LOG`` (one JSON array of arguments per line).

A facility of shards has several stacks (``--stack NAME`` on each call): ``$FAKE_PULUMI_FAIL``
lists stacks (comma-separated) whose operations fail as in ``fail`` mode,
``$FAKE_PULUMI_MISSING`` stacks that do not exist; ``$FAKE_PULUMI_STACK_OUTPUTS`` (a JSON
object, stack name to outputs) gives a stack outputs of its own instead of the default
facility's; ``$FAKE_PULUMI_STACKS`` (a JSON list) names the stacks ``stack ls`` lists. An
operation takes ``$FAKE_PULUMI_SECONDS`` (default 0), and when ``$FAKE_PULUMI_TIMES`` names a
file, each operation appends ``[stack, operation, start, end]`` (``time.time()``) there.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from gridcloud.plan.model import Deployed
from gridcloud.plan.outputs import StackOutputs

CONFLICT = "error: [409] Conflict: Another update is currently in progress."
URN = "urn:pulumi:atlas-gcp::gridcloud::gridcloud:cluster:Cluster$gcp:container/cluster:Cluster::"
NOT_FOUND = "error: no stack named 'atlas-gcp' found"
#: The stack's outputs, declared by gridcloud/plan/outputs.py as the program writes them.
FACTS = StackOutputs(
    facility="atlas-gcp",
    target="gcp",
    project="atlas-analysis-facility",
    region="us-central1",
    cluster_name="atlas-gcp",
    cluster_location="us-central1-a",
    labels={"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp"},
    namespaces=("cvmfs", "grid", "jupyter", "reana"),
    network=Deployed(
        max_pods_per_node=110,
        subnet_range="10.8.0.0/21",
        pod_range="10.0.0.0/13",
        service_range="10.8.16.0/20",
    ),
    kubeconfig="apiVersion: v1",
    grid_site_kubeconfig="apiVersion: v1",
    reana_admin_token="token",
)
OUTPUTS = {k: v for k, v in FACTS.exported().items() if k not in StackOutputs.secret_keys()}
SECRETS = {k: v for k, v in FACTS.exported().items() if k in StackOutputs.secret_keys()}


def events(path: str, mode: str) -> None:
    now = int(time.time())
    meta = {
        "op": "create",
        "urn": URN + "cluster-gke",
        "type": "gcp:container/cluster:Cluster",
        "provider": "",
    }
    records: list[dict[str, object]] = [
        {"sequence": 0, "timestamp": now, "preludeEvent": {"config": {}}},
        {"sequence": 1, "timestamp": now, "resourcePreEvent": {"metadata": meta}},
    ]
    if mode == "fail":
        records += [
            {
                "sequence": 2,
                "timestamp": now,
                "diagnosticEvent": {
                    "urn": meta["urn"],
                    "severity": "error",
                    "message": "googleapi: Error 403: Kubernetes Engine API has not been "
                    "used in project atlas-analysis-facility before or it is disabled.",
                    "color": "never",
                },
            },
            {
                "sequence": 3,
                "timestamp": now,
                "resOpFailedEvent": {"metadata": meta, "status": 1, "steps": 1},
            },
            {"sequence": 4, "timestamp": now, "summaryEvent": {"resourceChanges": {}}},
        ]
    else:
        records += [
            {"sequence": 2, "timestamp": now, "resOutputsEvent": {"metadata": meta}},
            {"sequence": 3, "timestamp": now, "summaryEvent": {"resourceChanges": {"create": 1}}},
        ]
    records.append({"sequence": 9, "timestamp": now, "cancelEvent": {}})
    with Path(path).open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


def main(args: list[str]) -> int:
    log = os.environ.get("FAKE_PULUMI_LOG")
    if log:
        with Path(log).open("a", encoding="utf-8") as f:
            f.write(json.dumps(args) + "\n")
    mode = os.environ.get("FAKE_PULUMI_MODE", "ok")
    args = [a for a in args if a != "--non-interactive"]
    stack = args[args.index("--stack") + 1] if "--stack" in args else None
    if stack in os.environ.get("FAKE_PULUMI_FAIL", "").split(","):
        mode = "fail"
    if stack in os.environ.get("FAKE_PULUMI_MISSING", "").split(","):
        mode = "missing"
    if mode == "missing" and args[:2] in (["stack", "select"], ["stack", "output"]):
        print(NOT_FOUND, file=sys.stderr)
        return 255
    if args[:1] == ["version"]:
        print(os.environ.get("FAKE_PULUMI_VERSION", "v3.200.0"))
        return 0
    operation = next((a for a in args if a in ("preview", "up", "destroy", "refresh")), None)
    if operation is not None and args[0] == operation:
        if mode == "conflict":
            print(CONFLICT, file=sys.stderr)
            return 255
        start = time.time()
        time.sleep(float(os.environ.get("FAKE_PULUMI_SECONDS", "0")))
        times = os.environ.get("FAKE_PULUMI_TIMES")
        if times:
            with Path(times).open("a", encoding="utf-8") as f:
                f.write(json.dumps([stack, operation, start, time.time()]) + "\n")
        if "--event-log" in args:
            events(args[args.index("--event-log") + 1], mode)
        if mode == "fail":
            print("error: update failed", file=sys.stderr)
            return 255
        return 0
    if args[:2] == ["stack", "history"]:
        print(
            json.dumps(
                [
                    {
                        "kind": "update",
                        "result": "succeeded",
                        "message": "",
                        "version": 1,
                        "startTime": "2026-11-24T10:00:00.000Z",
                        "endTime": "2026-11-24T10:05:00.000Z",
                        "resourceChanges": {"create": 1},
                        "environment": {},
                        "config": {},
                    }
                ]
            )
        )
        return 0
    if args[:2] == ["stack", "output"]:
        # the real CLI masks secrets unless --show-secrets is given
        secrets = {**SECRETS, **json.loads(os.environ.get("FAKE_PULUMI_SECRETS", "{}"))}
        if "--show-secrets" not in args:
            secrets = dict.fromkeys(secrets, "[secret]")
        extra = json.loads(os.environ.get("FAKE_PULUMI_OUTPUTS", "{}"))
        own = json.loads(os.environ.get("FAKE_PULUMI_STACK_OUTPUTS", "{}"))
        if stack in own:
            print(json.dumps(own[stack]))
            return 0
        print(json.dumps({**OUTPUTS, **extra, **secrets}))
        return 0
    if args[:2] == ["stack", "ls"]:
        names = json.loads(os.environ.get("FAKE_PULUMI_STACKS", '["atlas-gcp"]'))
        print(
            json.dumps(
                [
                    {
                        "name": name,
                        "current": name == "atlas-gcp",
                        "updateInProgress": False,
                        "lastUpdate": "2026-11-24T10:05:00.000Z",
                        "resourceCount": 23,
                    }
                    for name in names
                ]
            )
        )
        return 0
    if args[:2] == ["stack", "export"]:
        print(
            json.dumps(
                {
                    "version": 3,
                    "deployment": {
                        "resources": [
                            {
                                "urn": URN + "cluster-gke",
                                "type": "gcp:container/cluster:Cluster",
                                "outputs": {
                                    "name": "atlas-gcp",
                                    "deletionProtection": os.environ.get(
                                        "FAKE_PULUMI_PROTECTED", "true"
                                    )
                                    == "true",
                                },
                            },
                        ]
                    },
                }
            )
        )
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
