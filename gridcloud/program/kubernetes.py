"""The Kubernetes provider every Kubernetes and Helm resource of the facility uses.

On GKE the kubeconfig comes from the cluster's outputs and authenticates through
``gke-gcloud-auth-plugin`` (no long-lived credentials in the state); on an existing cluster it
is the profile's kubeconfig file and context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def gke_kubeconfig(name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for a GKE cluster using the exec auth plugin (YAML as JSON)."""
    import json

    context = f"gridcloud-{name}"
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {
                    "server": f"https://{endpoint}",
                    "certificate-authority-data": ca_certificate,
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "users": [
            {
                "name": context,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": AUTH_PLUGIN,
                        "installHint": "gcloud components install gke-gcloud-auth-plugin",
                        "provideClusterInfo": True,
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }
    return json.dumps(config, indent=2)


def gke_provider(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    endpoint: pulumi.Input[str],
    ca_certificate: pulumi.Input[str],
    depends_on: list[pulumi.Resource],
    parent: pulumi.Resource | None = None,
) -> tuple[k8s.Provider, pulumi.Output[str]]:
    plain: pulumi.Output[str] = pulumi.Output.all(cluster_name, endpoint, ca_certificate).apply(
        lambda args: gke_kubeconfig(str(args[0]), str(args[1]), str(args[2]))
    )
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(plain)
    provider = k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
    return provider, kubeconfig


def existing_provider(name: str, kubeconfig_path: str, context: str) -> k8s.Provider:
    """A provider for an existing cluster, from the profile's kubeconfig file and context."""
    return k8s.Provider(
        name,
        kubeconfig=str(Path(kubeconfig_path).expanduser()),
        context=context,
        enable_server_side_apply=True,
    )
