"""MultiKueue's worker kubeconfigs, kept fresh: one run of the manager's credentials CronJob.

Runs in the home cluster (MultiKueue's manager) from a ConfigMap (this file and
``config.json`` beside it), in a plain Python image: the standard library only, Python 3.8
syntax. Kueue reads each worker's kubeconfig from a Secret in its namespace (key
``kubeconfig``) and watches those Secrets, so a rewritten Secret is picked up at once.

One run, for every worker (compute-only shard) in the configuration:

1. the pod's own Google credential: a token of its Kubernetes service account from GKE's
   metadata server (Workload Identity Federation for GKE; no key anywhere);
2. with it, a fresh access token of the facility's MultiKueue Google service account
   (IAM Credentials ``generateAccessToken``, one hour, the longest without an org policy
   exception): the pod's account may only mint that account's tokens;
3. the worker cluster's endpoint and CA from the GKE API, with that token (the account
   holds ``container.clusterViewer`` on the worker's project, which lets it authenticate);
4. the kubeconfig (server, CA, the token inline: Kueue refuses exec plugins and token
   files) written into the worker's Secret by server-side apply.

On the worker, Kubernetes RBAC binds the account (as a user, its e-mail) to what MultiKueue
needs in the mirrored namespace. The CronJob runs every ``REFRESH_MINUTES``: a Secret always
holds a token with at least ``60 - REFRESH_MINUTES`` minutes to live, and a missed run or
two leaves it valid. A worker that fails does not stop the others; the run exits 1 when any
failed, so the Job shows it. No token is ever printed.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CONFIG = Path(__file__).resolve().parent / "config.json"
METADATA = "http://metadata.google.internal/computeMetadata/v1"
IAM = "https://iamcredentials.googleapis.com/v1"
GKE = "https://container.googleapis.com/v1"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: The minted token's life: an hour, the most IAM gives without an organisation exception.
LIFETIME_S = 3600
#: How often the CronJob runs (the plan's schedule is built from it).
REFRESH_MINUTES = 15
#: Who writes the Secrets (server-side apply's field manager).
FIELD_MANAGER = "gridcloud-multikueue-credentials"
SECRET_KEY = "kubeconfig"

if TYPE_CHECKING:  # annotations only: Python 3.8 cannot subscript dict at run time
    Body = dict[str, Any]


class CallError(Exception):
    """An HTTP call refused (its status and the service's message, never a token)."""


def call(
    url: str,
    *,
    method: str = "GET",
    token: str | None = None,
    body: Body | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Body:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:300]
        raise CallError(
            f"{method} {url.split('?', maxsplit=1)[0]}: HTTP {error.code}: {detail}"
        ) from None
    return json.loads(text) if text else {}


def pod_token(metadata: str) -> str:
    """The pod's federated access token (its Kubernetes service account's identity)."""
    found = call(
        f"{metadata}/instance/service-accounts/default/token",
        headers={"Metadata-Flavor": "Google"},
    )
    return str(found["access_token"])


def account_token(iam: str, federated: str, account: str) -> str:
    """A fresh one-hour access token of ``account`` (IAM Credentials)."""
    found = call(
        f"{iam}/projects/-/serviceAccounts/{account}:generateAccessToken",
        method="POST",
        token=federated,
        body={"scope": [SCOPE], "lifetime": f"{LIFETIME_S}s"},
    )
    return str(found["accessToken"])


def kubeconfig(name: str, endpoint: str, ca: str, token: str) -> str:
    """A kubeconfig Kueue accepts: server, CA, token inline (JSON is YAML)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca},
            }
        ],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return json.dumps(config, indent=2) + "\n"


def secret(name: str, namespace: str, text: str, labels: dict[str, str]) -> Body:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "type": "Opaque",
        "data": {SECRET_KEY: base64.b64encode(text.encode()).decode()},
    }


def refresh(config: Body, *, metadata: str, iam: str, gke: str, kube: Body) -> list[str]:
    """Rewrite every worker's Secret; what failed, one line each (no secret in them)."""
    failed: list[str] = []
    try:
        token = account_token(iam, pod_token(metadata), config["account"])
    except (CallError, KeyError, OSError) as error:
        return [f"minting {config['account']}'s token: {error}"]
    for worker in config["workers"]:
        where = f"{worker['project']}/{worker['location']}/{worker['cluster']}"
        try:
            cluster = call(
                f"{gke}/projects/{worker['project']}/locations/{worker['location']}"
                f"/clusters/{worker['cluster']}",
                token=token,
            )
            text = kubeconfig(
                worker["cluster"],
                cluster["endpoint"],
                cluster["masterAuth"]["clusterCaCertificate"],
                token,
            )
            body = secret(worker["secret"], config["namespace"], text, config["labels"])
            call(
                f"{kube['base']}/api/v1/namespaces/{config['namespace']}/secrets/"
                f"{worker['secret']}?fieldManager={FIELD_MANAGER}&force=true",
                method="PATCH",
                token=kube["token"],
                body=body,
                headers={"Content-Type": "application/apply-patch+yaml"},
                context=kube.get("context"),
            )
            print(f"{worker['secret']}: refreshed for {where}")
        except (CallError, KeyError, OSError) as error:
            failed.append(f"{worker['secret']} ({where}): {error}")
    return failed


def main() -> int:  # pragma: no cover - needs a pod
    config = json.loads(CONFIG.read_text())
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    kube = {
        "base": f"https://{host}:{port}",
        "token": (ACCOUNT / "token").read_text().strip(),
        "context": ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt")),
    }
    failed = refresh(config, metadata=METADATA, iam=IAM, gke=GKE, kube=kube)
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
