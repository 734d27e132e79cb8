"""XCache: XRootD's caching proxy, configured as a forwarding proxy for grid data.

The configuration is XRootD's own directives (xrootd.org, "Proxy Storage Services" and
"Proxy File Cache"): the proxy storage service (``ofs.osslib libXrdPss.so``) with the file
cache plugged in (``pss.cachelib libXrdPfc.so``), and ``pss.origin =``: no fixed origin, the
cache forwards to the server the URL names. A client reads
``root://<cache>:1094//root://<site>//<path>``; the exports ``/root:/`` and ``/xroot:/`` let
such URLs through. Cached files live under ``oss.localroot``; ``pfc.ram`` bounds the memory
for blocks in flight; ``pfc.diskusage LOW HIGH`` purges down to LOW once the cache holds HIGH.

Pods learn the cache the way XRootD's client expects: ``XROOT_PROXY``, the prefix URL that
XrdCl's proxy-prefix plugin (``libXrdClProxyPlugin``, loaded with ``XRD_PLUGIN``) puts in
front of every ``root://`` URL. gridcloud sets ``XROOT_PROXY`` but does not load the plugin
for every client: the plugin prefixes an ``xrdcp``'s local destination too, which the cache
then refuses (seen with XRootD 5.5.3); a job writes the prefixed URL,
``${XROOT_PROXY}root://<site>//<path>``. The cache in the cluster (its pool, objects and who
is given the address): gridcloud/plan/xcache.py.
"""

from __future__ import annotations

from gridcloud.frozen import Frozen

PORT = 1094
#: The cache's disk as the pod mounts it.
LOCALROOT = "/xcache/data"


def usage_marks(disk_gb: int) -> tuple[int, int]:
    """``pfc.diskusage``'s low and high marks in MiB: purge at 95 % of the disk, down to
    90 % (MiB, so that a small disk still has two distinct marks)."""
    mib = disk_gb * 1024
    return mib * 90 // 100, mib * 95 // 100


def cache_config(
    *,
    disk_gb: int,
    ram_gb: int,
    localroot: str = LOCALROOT,
    port: int = PORT,
    adminpath: str | None = None,
) -> str:
    """The cache's configuration file (``xrootd -c``)."""
    low, high = usage_marks(disk_gb)
    lines = [
        "# XCache, forwarding mode (gridcloud): root://<this>//root://<site>//<path>",
        "all.export /root:/",
        "all.export /xroot:/",
        "ofs.osslib libXrdPss.so",
        "pss.cachelib libXrdPfc.so",
        "pss.origin =",
        f"oss.localroot {localroot}",
        f"pfc.ram {ram_gb}g",
        f"pfc.diskusage {low}m {high}m",
        f"xrd.port {port}",
    ]
    if adminpath is not None:
        lines += [f"all.adminpath {adminpath}", f"all.pidpath {adminpath}"]
    return "\n".join(lines) + "\n"


def client_environment(service: str, namespace: str, port: int = PORT) -> dict[str, str]:
    """What a pod is given to read through the cache."""
    return {"XROOT_PROXY": f"root://{service}.{namespace}.svc.cluster.local:{port}//"}


class XCachePlan(Frozen):
    """The cache: where it runs, how big, and what the pods are told."""

    pool: str
    namespace: str
    service: str
    port: int
    local_ssd_count: int
    disk_gib: int
    """The local SSDs' size: what ``pfc.diskusage`` is computed from."""
    ram_gib: int
    image: str
    config: str
    """The configuration file (``xrootd -c``), as the ConfigMap holds it."""
    address: str
    """``root://<service>.<namespace>.svc.cluster.local:<port>//``."""
    client_env: dict[str, str]
    """What the notebooks, Dask workers and pilots are given."""
    given_to: tuple[str, ...]
    """Which of them (the services that are on)."""
