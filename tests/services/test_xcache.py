"""XCache for real: Debian's XRootD server as an origin and as the cache, the cache run with
the configuration gridcloud renders (plan/services/xcache.py), a file read through it with
xrdcp, and again once the origin is gone (from the cache's disk). And the cache in the
cluster (plan/xcache.py): its objects rendered beside the charts and validated like theirs,
where they land, the address the pods are given, and a file read through the configuration
the ConfigMap holds by that very address form.

Needs Debian's ``xrootd-server`` and ``xrootd-client`` (``apt-get install -y xrootd-server
xrootd-client``; Debian 12 ships 5.5.3): not installable by the project's pip-only set-up, so
a plain skip where they are absent (CI included), with how to get them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gridcloud.plan.services import xcache
from gridcloud.render.placement import landing, nodes, rendered_pods
from gridcloud.render.validate import cluster_version, problems

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gridcloud.plan import Plan
    from gridcloud.render import Rendered

HOW = "install Debian's XRootD: apt-get install -y xrootd-server xrootd-client"

needs_xrootd = pytest.mark.skipif(
    shutil.which("xrootd") is None or shutil.which("xrdcp") is None,
    reason=f"XRootD is not installed here ({HOW}); the project's pip set-up cannot install it",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _open_to_all(path: Path, top: Path) -> None:
    """As root, XRootD runs as ``nobody`` (it refuses root): let it through the folders."""
    for folder in [path, *path.parents]:
        folder.chmod(folder.stat().st_mode | 0o711)
        if folder == top:
            break


def _serve(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """xrootd on ``config``. Its pid file (``-s``) beside the configuration: XRootD writes its
    environment file (``xrootd.anon.env``) in the pid file's folder, else in ``/tmp``, where
    it would outlive the test (seen with 5.5.3, by strace)."""
    pid_file = config.with_suffix(".pid")
    command = ["xrootd", "-c", str(config), "-l", str(log), "-s", str(pid_file)]
    if os.geteuid() == 0:
        command[1:1] = ["-R", "nobody"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            pytest.fail(f"xrootd exited {process.returncode}:\n{text[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"xrootd did not listen on {port}")


@contextlib.contextmanager
def _origin_and_cache(
    work: Path, origin: tuple[Path, int], cache: tuple[Path, int], top: Path
) -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """An origin and a cache served from ``work`` (each a configuration and its port), both
    listening; both stopped at the end. As root, ``work`` is opened to ``nobody``."""
    if os.geteuid() == 0:
        for path in work.rglob("*"):
            path.chmod(0o777 if path.is_dir() else 0o666)
        work.chmod(0o777)
        _open_to_all(work, top)
    processes = [_serve(config, config.with_suffix(".log")) for config, _ in (origin, cache)]
    try:
        for (config, port), process in zip((origin, cache), processes, strict=True):
            _wait(port, process, config.with_suffix(".log"))
        yield processes[0], processes[1]
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


@needs_xrootd
def test_a_file_is_read_through_the_rendered_cache(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path / "xcache"
    origin_data, cache_data, admin = work / "origin", work / "cache", work / "admin"
    for folder in (origin_data, cache_data, admin / "origin", admin / "cache"):
        folder.mkdir(parents=True)
    payload = os.urandom(3 * 1024 * 1024 + 17)  # more than one 1 MiB block
    (origin_data / "data").mkdir()
    (origin_data / "data" / "events.root").write_bytes(payload)
    origin_port, cache_port = _free_port(), _free_port()
    origin_cfg = work / "origin.cfg"
    origin_cfg.write_text(
        f"all.export /\noss.localroot {origin_data}\nxrd.port {origin_port}\n"
        f"all.adminpath {admin / 'origin'}\nall.pidpath {admin / 'origin'}\n"
    )
    cache_cfg = work / "cache.cfg"
    cache_cfg.write_text(
        xcache.cache_config(
            disk_gb=10,
            ram_gb=1,
            localroot=str(cache_data),
            port=cache_port,
            adminpath=str(admin / "cache"),
        )
    )
    with _origin_and_cache(
        work, (origin_cfg, origin_port), (cache_cfg, cache_port), tmp_path_factory.getbasetemp()
    ) as (origin, _):
        url = f"root://127.0.0.1:{cache_port}//root://127.0.0.1:{origin_port}//data/events.root"
        first = work / "first.root"
        subprocess.run(["xrdcp", "-f", "-s", url, str(first)], check=True, timeout=60)
        assert first.read_bytes() == payload
        # the cache kept it on its disk, with its block map
        assert (cache_data / "data" / "events.root").exists()
        assert (cache_data / "data" / "events.root.cinfo").exists()
        # the origin gone, the same URL is served from the cache
        origin.terminate()
        origin.wait(timeout=10)
        again = work / "again.root"
        subprocess.run(["xrdcp", "-f", "-s", url, str(again)], check=True, timeout=60)
        assert again.read_bytes() == payload


def test_the_rendered_directives() -> None:
    text = xcache.cache_config(disk_gb=375, ram_gb=4)
    lines = text.splitlines()
    assert "pss.origin =" in lines  # forwarding: the origin is the URL's
    assert "pfc.ram 4g" in lines
    # purge at 95 % of 375 GiB (384,000 MiB): 364,800 MiB, down to 90 %: 345,600 MiB
    assert "pfc.diskusage 345600m 364800m" in lines
    assert f"oss.localroot {xcache.LOCALROOT}" in lines
    assert xcache.client_environment("xcache", "grid") == {
        "XROOT_PROXY": "root://xcache.grid.svc.cluster.local:1094//"
    }


# --- the cache in the cluster -------------------------------------------------------------

LOCAL_SSD = {"kind": "disk", "item": "local-ssd", "ondemand": "0.08", "source": "a test figure"}


@pytest.fixture(scope="module")
def cached() -> tuple[Plan, list[Rendered]]:
    """The default profile with XCache, planned and rendered by Helm's engine."""
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.profile import parse_profile
    from gridcloud.render import render_plan
    from tests.conftest import default_data
    from tests.services.conftest import charts

    data = default_data()
    data["data"]["xcache"] = {"enabled": True, "localSsdCount": 2, "ramGib": 4}
    data.setdefault("prices", []).append(LOCAL_SSD)
    catalog = load_catalog()
    plan, _ = planned(parse_profile(yaml.safe_dump(data), "default/xcache", catalog), catalog)
    return plan, render_plan(plan, charts())


def _own(rendered: list[Rendered]) -> Rendered:
    return next(r for r in rendered if r.name == "gridcloud")


def test_the_cache_objects_are_valid_and_land_on_the_cache_pool(
    cached: tuple[Plan, list[Rendered]],
) -> None:
    plan, rendered = cached
    assert problems(rendered, cluster_version(plan)) == []
    own = _own(rendered)
    deployment = own.find("Deployment", "xcache").body
    spec = deployment["spec"]["template"]["spec"]
    # only the cache pool takes it (its own taint), and it takes nothing else
    assert landing(spec, nodes(plan)) == ("xcache",)
    # (the node plugins aside: DaemonSets run on every pool, test_rendered.py)
    others = [
        p.owner
        for p in rendered_pods(rendered)
        if "xcache" in landing(p.spec, nodes(plan)) and "DaemonSet/" not in p.owner
    ]
    assert others == ["gridcloud: Deployment/xcache"]
    pool = plan.pool("xcache")
    assert pool.local_ssd_count == 2 and pool.spot is False
    # the cache's disk is the node's ephemeral storage (on its local SSDs): an emptyDir
    # as large as the two SSDs, 750 GiB, mounted where the configuration keeps the files
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["cache"]["emptyDir"] == {"sizeLimit": "750Gi"}
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    config_map = own.find("ConfigMap", "xcache").body["data"]["xcache.cfg"]
    assert f"oss.localroot {mounts['cache']}" in config_map.splitlines()
    command = spec["containers"][0]["command"]
    assert command == ["xrootd", "-c", f"{mounts['config']}/xcache.cfg"]


def test_the_pods_are_given_the_service_address(cached: tuple[Plan, list[Rendered]]) -> None:
    plan, rendered = cached
    own = _own(rendered)
    service = own.find("Service", "xcache").body
    port = service["spec"]["ports"][0]["port"]
    name, namespace = service["metadata"]["name"], service["metadata"]["namespace"]
    # the address as cluster DNS names the Service, with the empty path XRootD's
    # root://host:port//root://origin//path form needs
    address = f"root://{name}.{namespace}.svc.cluster.local:{port}//"
    assert port == 1094
    # the notebooks (the hub's KubeSpawner environment), the Dask workers' containers, the
    # pilots' Job template
    jupyterhub = next(r for r in rendered if r.name == "jupyterhub")
    assert jupyterhub.release is not None
    assert jupyterhub.release.values["singleuser"]["extraEnv"]["XROOT_PROXY"] == address
    gateway = next(r for r in rendered if r.name == "dask-gateway")
    assert gateway.release is not None
    worker = gateway.release.values["gateway"]["backend"]["worker"]["extraContainerConfig"]
    assert {"name": "XROOT_PROXY", "value": address} in worker["env"]
    assert plan.services.grid_site is not None
    pilot = plan.services.grid_site.job_template["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "XROOT_PROXY", "value": address} in pilot["env"]
    # the selector finds the Deployment's pods
    labels = own.find("Deployment", "xcache").body["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


@needs_xrootd
def test_a_file_is_read_through_the_configmap_by_the_pods_address_form(
    cached: tuple[Plan, list[Rendered]], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The configuration as the ConfigMap holds it, only its paths, port and disk marks moved
    to this machine; the URL the pods would read: ``$XROOT_PROXY`` then the origin's URL."""
    plan, rendered = cached
    assert plan.xcache is not None
    text = _own(rendered).find("ConfigMap", "xcache").body["data"]["xcache.cfg"]
    work = tmp_path / "xc"
    origin_data, cache_data, admin = work / "origin", work / "cache", work / "admin"
    for folder in (origin_data / "data", cache_data, admin / "origin", admin / "cache"):
        folder.mkdir(parents=True)
    payload = os.urandom(2 * 1024 * 1024 + 5)
    (origin_data / "data" / "aod.root").write_bytes(payload)
    origin_port, cache_port = _free_port(), _free_port()
    origin_cfg = work / "origin.cfg"
    origin_cfg.write_text(
        f"all.export /\noss.localroot {origin_data}\nxrd.port {origin_port}\n"
        f"all.adminpath {admin / 'origin'}\nall.pidpath {admin / 'origin'}\n"
    )
    moved = {
        "oss.localroot": str(cache_data),
        "xrd.port": str(cache_port),
        "all.adminpath": str(admin / "cache"),
        "all.pidpath": str(admin / "cache"),
        # XRootD refuses marks above the disk it finds (750 GiB is more than this machine
        # has): 10 GiB's, as the first test
        "pfc.diskusage": "{}m {}m".format(*xcache.usage_marks(10)),
    }
    lines = [
        f"{line.split()[0]} {moved[line.split()[0]]}"
        if line.split() and line.split()[0] in moved
        else line
        for line in text.splitlines()
    ]
    assert sum(1 for line in lines if line.split() and line.split()[0] in moved) == len(moved)
    cache_cfg = work / "cache.cfg"
    cache_cfg.write_text("\n".join(lines) + "\n")
    with _origin_and_cache(
        work, (origin_cfg, origin_port), (cache_cfg, cache_port), tmp_path_factory.getbasetemp()
    ):
        given = plan.xcache.client_env["XROOT_PROXY"]
        host = f"{plan.xcache.service}.{plan.xcache.namespace}.svc.cluster.local:{plan.xcache.port}"
        assert given == f"root://{host}//"
        prefix = given.replace(host, f"127.0.0.1:{cache_port}")  # this machine's cache
        url = prefix + f"root://127.0.0.1:{origin_port}//data/aod.root"
        out = work / "aod.root"
        subprocess.run(["xrdcp", "-f", "-s", url, str(out)], check=True, timeout=60)
        assert out.read_bytes() == payload
        assert (cache_data / "data" / "aod.root.cinfo").exists()


@pytest.mark.needs("dask-gateway-server")
def test_gpu_dask_workers_get_the_address_too(cached: tuple[Plan, list[Rendered]]) -> None:
    """A GPU worker's container config is the GPU option's, which replaced the workers'
    own (and the cache's address with it): the real gateway's options handler and
    controller (dask-gateway-server) make both kinds of worker pod from the rendered
    configuration; each has ``XROOT_PROXY``, the GPU one its GPU besides."""
    from tests.services.test_runtime_pods import dask_manifests

    plan, rendered = cached
    assert plan.xcache is not None
    address = plan.xcache.client_env["XROOT_PROXY"]
    gateway = next(r for r in rendered if r.name == "dask-gateway")
    pods = dask_manifests(gateway, gpu=True)
    for kind in ("workers", "GPU workers"):
        (container,) = pods[kind]["spec"]["containers"]
        assert {"name": "XROOT_PROXY", "value": address} in container["env"], kind
    (gpu,) = pods["GPU workers"]["spec"]["containers"]
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == "1"
