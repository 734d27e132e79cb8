"""XCache for real: Debian's XRootD server as an origin and as the cache, the cache run with
the configuration gridcloud renders (plan/services/xcache.py), a file read through it with
xrdcp, and again once the origin is gone (from the cache's disk).

Needs Debian's ``xrootd-server`` and ``xrootd-client`` (``apt-get install -y xrootd-server
xrootd-client``; Debian 12 ships 5.5.3): not installable by the project's pip-only set-up, so
a plain skip where they are absent (CI included), with how to get them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from gridcloud.plan.services import xcache

HOW = "install Debian's XRootD: apt-get install -y xrootd-server xrootd-client"

pytestmark = pytest.mark.skipif(
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
    command = ["xrootd", "-c", str(config), "-l", str(log)]
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
    if os.geteuid() == 0:
        for path in work.rglob("*"):
            path.chmod(0o777 if path.is_dir() else 0o666)
        work.chmod(0o777)
        _open_to_all(work, tmp_path_factory.getbasetemp())
    origin = _serve(origin_cfg, work / "origin.log")
    cache = _serve(cache_cfg, work / "cache.log")
    try:
        _wait(origin_port, origin, work / "origin.log")
        _wait(cache_port, cache, work / "cache.log")
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
    finally:
        for process in (origin, cache):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


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
