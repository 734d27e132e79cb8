"""Requests of the always-on components: one table for the values and for the footprint.

``SET`` are the requests gridcloud writes into the charts' values and its own objects.
``NAMESPACE_DEFAULT`` covers a chart that cannot take requests (REANA 0.9.4).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    cpu_m: int
    memory_mi: int

    def k8s(self) -> dict[str, dict[str, str]]:
        """As a container's ``resources``."""
        return {"requests": {"cpu": f"{self.cpu_m}m", "memory": f"{self.memory_mi}Mi"}}


SET: dict[str, Request] = {
    "jupyterhub/hub": Request(100, 256),
    "jupyterhub/proxy": Request(50, 64),
    "dask-gateway/gateway": Request(50, 128),
    "dask-gateway/controller": Request(25, 64),
    "dask-gateway/traefik": Request(25, 64),
    "cvmfs-csi/controller-plugin": Request(10, 32),
    "cvmfs-csi/controller-provisioner": Request(10, 32),
    "cvmfs-csi/node-plugin": Request(20, 64),
    "cvmfs-csi/node-automount": Request(20, 64),
    "cvmfs-csi/node-registrar": Request(10, 16),
    "reana/traefik": Request(25, 64),
    "reana/nfs-server": Request(50, 128),
    "squid/squid": Request(100, 128),  # plus its memory cache
}

#: REANA 0.9.4's infrastructure pods take no requests from the chart: a LimitRange in its
#: namespace gives each container this default request, so the scheduler reserves room for
#: them on the control node. Containers per component, as the chart renders them.
NAMESPACE_DEFAULT: dict[str, Request] = {"reana": Request(25, 128)}
CONTAINERS: dict[str, int] = {
    "reana/server": 2,
    "reana/workflow-controller": 2,
    "reana/db": 1,
    "reana/message-broker": 1,
    "reana/cache": 1,
    "reana/ui": 1,
}

#: Jobs that run to completion on the control node (not in the footprint: they end).
JOBS: dict[str, Request] = {"reana/first-run": Request(50, 128)}
