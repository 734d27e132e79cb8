"""The real reana-server 0.9.4 on localhost, started as its rendered Deployment starts it.

reana-server runs in a separate Python 3.8 venv (its image's Python; its pins clash with
gridcloud's): ``tests/services/reana/requirements.txt`` is reana-server 0.9.4's own lock,
every package from PyPI. reana-server itself is not published on PyPI, so the venv is built
from a checkout of reanahub/reana-server at tag 0.9.4 named by GRIDCLOUD_REANA_SERVER_SRC,
into ``tests/services/reana/.venv`` (or GRIDCLOUD_REANA_VENV, an existing one). Without
either the tests that need it skip, saying so (also in CI, which reaches no Git host).

The server starts under uWSGI with the rendered ``uwsgi.ini`` (ConfigMap uwsgi-config: the
same module, ``invenio_app.wsgi:application``, and HTTP router) and the environment its
rendered Deployment gives it; only its address moves to localhost, one worker instead of
six. Nothing else is needed to answer ``/api/ping``: no database connection is made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from gridcloud.render import Rendered
from tests.services import local

HERE = Path(__file__).resolve().parent / "reana"
LOCK = HERE / "requirements.txt"
VENV = HERE / ".venv"
#: Written once the venv is complete (a build cut short is rebuilt).
DONE = ".gridcloud-complete"
VERSION = "0.9.4"


def _python38() -> str | None:
    """A Python 3.8 that runs (pyenv's shim answers 127 where 3.8 is not selected)."""
    pyenv = sorted((Path.home() / ".pyenv" / "versions").glob("3.8*/bin/python3.8"))
    for candidate in [*(str(p) for p in reversed(pyenv)), shutil.which("python3.8")]:
        if candidate and subprocess.run([candidate, "-c", ""], check=False).returncode == 0:
            return candidate
    return None


def _complete(venv: Path) -> bool:
    return (venv / "bin" / "uwsgi").exists() and (venv / DONE).exists()


def venv_or_reason() -> tuple[Path | None, str]:
    """The venv with reana-server 0.9.4, built on first use; or why there is none."""
    given = os.environ.get("GRIDCLOUD_REANA_VENV")
    if given:
        path = Path(given)
        if (path / "bin" / "uwsgi").exists():
            return path, ""
        return None, f"GRIDCLOUD_REANA_VENV={given} has no uwsgi"
    if _complete(VENV):
        return VENV, ""
    source = os.environ.get("GRIDCLOUD_REANA_SERVER_SRC")
    if not source:
        return None, (
            f"reana-server {VERSION} is not on PyPI: set GRIDCLOUD_REANA_SERVER_SRC to a "
            f"checkout of reanahub/reana-server at tag {VERSION} (its pins, {LOCK.name}, "
            "come from PyPI), or GRIDCLOUD_REANA_VENV to a venv that has it"
        )
    python = _python38()
    if python is None:
        return None, "reana-server 0.9.4 runs on Python 3.8, which is not installed"
    shutil.rmtree(VENV, ignore_errors=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    steps = [
        [python, "-m", "venv", str(VENV)],
        [*pip, "pip<25", "setuptools<70", "wheel"],
        [*pip, "-r", str(LOCK)],
        [*pip, "--no-deps", source],
    ]
    for step in steps:
        subprocess.run(step, check=True, capture_output=True, timeout=1800)
    (VENV / DONE).write_text(f"reana-server {VERSION} from {source}\n")
    return VENV, ""


@dataclass
class ReanaServer:
    url: str
    """http://127.0.0.1:<port>: where the pod's port 5000 is."""
    log: Path

    def get(self, path: str, headers: dict[str, str]) -> requests.Response:
        return requests.get(self.url + path, headers=headers, timeout=10, allow_redirects=False)


def _uwsgi_ini(reana: Rendered, port: int, folder: Path) -> str:
    text = reana.find("ConfigMap", "uwsgi-config").body["data"]["uwsgi.ini"]
    local_settings = {
        "http": f"127.0.0.1:{port}",
        "processes": "1",
        "stats": str(folder / "stats.socket"),
    }
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {local_settings[key]}" if key in local_settings else line)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def started(venv: Path, reana: Rendered, folder: Path, **override: str) -> Iterator[ReanaServer]:
    """reana-server as its rendered Deployment runs it, on a free local port (``override``:
    environment variables changed from the rendered ones)."""
    port = local.free_port()
    ini = folder / "uwsgi.ini"
    ini.write_text(_uwsgi_ini(reana, port, folder))
    secrets = {m.name: local.decoded(m.body) for m in reana.of_kind("Secret")}
    env = local.container_env(reana, "Deployment", "reana-server", secrets)
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(folder),
        "SHARED_VOLUME_PATH": str(folder / "shared"),
        "TMPDIR": str(folder),
        **override,
    }
    log = folder / "uwsgi.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "uwsgi"), "--ini", str(ini)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
        )
    server = ReanaServer(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"reana-server exited\n{log.read_text()[-4000:]}")
            with contextlib.suppress(requests.ConnectionError):
                # any answer: the app is loaded (lazy-apps loads it in the worker)
                server.get("/api/ping", {"Host": "localhost"})
                if "WSGI app 0" in log.read_text(errors="replace"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"reana-server not up in 90 s\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
