"""Requests of the always-on components: one table for the values and for the footprint.

``SET`` are the requests gridcloud writes into the charts' values. ``ESTIMATED`` are the idle
use of components whose chart cannot take requests (REANA 0.9.4's infrastructure pods, the
Frontier squid): they are counted in the footprint all the same, marked as estimates.
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
}

ESTIMATED: dict[str, Request] = {
    "reana/server": Request(100, 300),
    "reana/workflow-controller": Request(50, 200),
    "reana/db": Request(50, 128),
    "reana/message-broker": Request(50, 200),
    "reana/cache": Request(10, 32),
    "reana/ui": Request(10, 32),
    "osg-frontier-squid/squid": Request(100, 128),  # plus its memory cache
}
