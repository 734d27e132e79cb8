"""The services on the cluster: namespaces, priority classes, the grid site, REANA's storage,
JupyterHub's login secret and the Helm releases, all through one Kubernetes provider."""

from __future__ import annotations

from gridcloud.program.services.component import Services

__all__ = ["Services"]
