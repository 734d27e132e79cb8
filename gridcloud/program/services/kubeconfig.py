"""Kubeconfigs the services hand out: the grid submitter's, scoped to its namespace."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml

from gridcloud.errors import InputError


def token_kubeconfig(name: str, server: str, ca_data: str, namespace: str, token: str) -> str:
    """A kubeconfig that authenticates with a service account token, for one namespace."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}
        ],
        "users": [{"name": f"{name}-submitter", "user": {"token": token}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": f"{name}-submitter", "namespace": namespace},
            }
        ],
        "current-context": name,
    }
    return json.dumps(config, indent=2)


#: GKE's exec credential plugin; with ``--use_application_default_credentials`` it turns the
#: host's Google credentials (``GOOGLE_APPLICATION_CREDENTIALS``) into an hour-long token.
GKE_AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def gke_exec_kubeconfig(
    name: str, server: str, ca_data: str, namespace: str, credentials: str
) -> str:
    """A kubeconfig for one namespace that holds no credential: the Kubernetes client runs
    GKE's exec plugin for a token, from the Google credentials at ``credentials`` (a
    Workload Identity Federation configuration, or none on a Google Cloud host: the
    attached account), and again when the token expires (an hour)."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}
        ],
        "users": [
            {
                "name": f"{name}-submitter",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": GKE_AUTH_PLUGIN,
                        "args": ["--use_application_default_credentials"],
                        "env": [{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": credentials}],
                        "installHint": "install gke-gcloud-auth-plugin (gcloud components "
                        "install gke-gcloud-auth-plugin, or the google-cloud-cli-gke-gcloud-"
                        "auth-plugin package)",
                        "provideClusterInfo": True,
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": f"{name}-submitter", "namespace": namespace},
            }
        ],
        "current-context": name,
    }
    return json.dumps(config, indent=2)


def existing_cluster(kubeconfig_path: str, context: str) -> tuple[str, str]:
    """The API server URL and CA (base64) of ``context`` in a kubeconfig file."""
    path = Path(kubeconfig_path).expanduser()
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(
            f"cannot read the kubeconfig {path}: {exc}",
            hint="target.kubeconfig names the file with the cluster's context",
        ) from exc
    contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
    if context not in contexts:
        raise InputError(
            f"no context {context!r} in {path}",
            hint=f"its contexts: {', '.join(sorted(contexts)) or 'none'}",
        )
    cluster_name = contexts[context]["cluster"]
    clusters = {c["name"]: c["cluster"] for c in config.get("clusters", [])}
    cluster = clusters.get(cluster_name, {})
    ca = cluster.get("certificate-authority-data")
    if ca is None and cluster.get("certificate-authority"):
        ca = base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode()
    return str(cluster.get("server", "")), str(ca or "")
