"""The facility's JupyterHub, proxy and Dask Gateway run on localhost, as the cluster runs them.

Each service starts from its *rendered* manifests: the hub from the chart's own
jupyterhub_config.py and z2jh.py (the hub ConfigMap) with the values and secrets of the hub
Secret, laid out as the Deployment mounts them, and the environment the Deployment gives
it; the proxy with the rendered container's arguments; the gateway with the rendered
dask_gateway_config.py and the hub service token it is given. What cannot exist here is
replaced, and only that: cluster DNS names become 127.0.0.1 ports, KubeSpawner a spawner
that starts a local process with the environment KubeSpawner would give the notebook, the
gateway's Kubernetes backend its local one, and the OIDC provider a fake.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from gridcloud.render import Rendered

HERE = Path(__file__).resolve().parent
PROXY_DIR = HERE / "proxy"
HUB_DIR = "/usr/local/etc/jupyterhub"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited {process.returncode}\n{log.read_text()[-4000:]}")
        with contextlib.suppress(requests.ConnectionError):
            # 200 only: the gateway's proxy answers 404 until it has its routing table
            if requests.get(url, timeout=2, allow_redirects=False).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url}: not up in {timeout} s\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def started(
    command: list[str], log: Path, env: dict[str, str], cwd: Path, url: str
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        wait_http(url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def container_env(
    rendered: Rendered, kind: str, name: str, secrets: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The environment a rendered workload's first container gets, its Secret references
    resolved from the rendered Secrets (a Secret the deploy creates outside the chart, such
    as the OIDC client's, gets a stand-in value)."""
    body = rendered.find(kind, name).body
    container = body["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = secrets.get(ref["name"], {}).get(ref["key"], "stand-in-secret")
        elif "fieldRef" in source:
            env[item["name"]] = body["metadata"].get("namespace", "default")
    return env


class FakeOidc:
    """The identity provider (the one boundary faked), laid out as Keycloak lays out a
    realm, not as INDIGO IAM does: discovery at
    ``<issuer>/.well-known/openid-configuration`` and the endpoints under
    ``<issuer>/protocol/openid-connect/`` (``auth``, ``token``, ``userinfo``). It answers for
    whichever user the test logs in as next, and records the paths asked for and the token
    requests' forms."""

    REALM = "/realms/physics"

    def __init__(self, username_claim: str, groups_claim: str) -> None:
        self.claims = {"username": username_claim, "groups": groups_claim}
        self.next_user: tuple[str, list[str]] = ("nobody", [])
        self.asked: list[str] = []
        self.token_forms: list[dict[str, list[str]]] = []
        provider = self
        realm = self.REALM
        endpoints = f"{realm}/protocol/openid-connect"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                provider.asked.append(url.path)
                if url.path == f"{realm}/.well-known/openid-configuration":
                    self._json(provider.discovery())
                elif url.path == f"{endpoints}/auth":
                    query = parse_qs(url.query)
                    back = query["redirect_uri"][0]
                    params = {"code": "code-1", "state": query["state"][0]}
                    self.send_response(302)
                    self.send_header("Location", f"{back}?{urlencode(params)}")
                    self.end_headers()
                elif url.path == f"{endpoints}/userinfo":
                    name, groups = provider.next_user
                    self._json(
                        {
                            "sub": f"id-{name}",
                            provider.claims["username"]: name,
                            provider.claims["groups"]: groups,
                        }
                    )
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                path = urlparse(self.path).path
                provider.asked.append(path)
                if path == f"{endpoints}/token":
                    provider.token_forms.append(form)
                    self._json({"access_token": "access-1", "token_type": "Bearer"})
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = f"{self.url}{realm}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def discovery(self) -> dict[str, Any]:
        """The realm's discovery document, in Keycloak's field names and paths."""
        base = f"{self.issuer}/protocol/openid-connect"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "introspection_endpoint": f"{base}/token/introspect",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{base}/certs",
            "response_types_supported": ["code", "none", "id_token", "token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "private_key_jwt",
                "client_secret_basic",
                "client_secret_post",
                "tls_client_auth",
                "client_secret_jwt",
            ],
            "scopes_supported": ["openid", "profile", "email", "roles"],
        }

    def __enter__(self) -> FakeOidc:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def point_login_at(root: Path, provider: FakeOidc) -> None:
    """The hub's provider at the fake's address instead of the profile's issuer (which
    cannot be reached from here): its ``custom.gridcloud.oidc`` in the hub Secret's
    values.yaml, which the hub's discovery reads; nothing else of the login changes."""
    import yaml

    path = root / "secret" / "values.yaml"
    values = yaml.safe_load(path.read_text())
    login = values["custom"]["gridcloud"]["oidc"]
    login["issuer"] = provider.issuer
    login["discovery"] = f"{provider.issuer}/.well-known/openid-configuration"
    path.write_text(yaml.safe_dump(values))


SPAWNER = '''
"""A notebook server as a local process: the environment KubeSpawner would give the pod
(JupyterHub's variables, the server's API token, the profile's extraEnv), written where the
test reads it; an HTTP server stands in for the notebook."""
import json, os, subprocess, sys
from jupyterhub.spawner import Spawner
from jupyterhub.utils import random_port


class LocalNotebook(Spawner):
    proc = None

    async def start(self):
        port = random_port()
        env = self.get_env()
        with open(os.path.join(os.environ["NOTEBOOK_ENV_DIR"], self.user.name + ".json"), "w") as f:
            json.dump(env, f)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return ("127.0.0.1", port)

    async def poll(self):
        if self.proc is None:
            return 0
        return self.proc.poll()

    async def stop(self, now=False):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def get_state(self):
        return {}
'''


def lay_out_hub(jupyterhub: Rendered, root: Path) -> dict[str, dict[str, str]]:
    """The hub's files where the Deployment mounts them, under ``root`` instead of
    /usr/local/etc/jupyterhub; returns the rendered Secrets, decoded."""
    secrets = {m.body["metadata"]["name"]: decoded(m.body) for m in jupyterhub.of_kind("Secret")}
    config = jupyterhub.find("ConfigMap", "hub").body["data"]
    (root / "config").mkdir(parents=True)
    (root / "secret").mkdir()
    (root / "jupyterhub_config.d").mkdir()
    for key, text in config.items():
        (root / "config" / key).write_text(text)
        if key.endswith(".py"):
            (root / key).write_text(text.replace(HUB_DIR, str(root)))
    for key, text in secrets["hub"].items():
        (root / "secret" / key).write_text(text)
    (root / "local_notebook.py").write_text(SPAWNER)
    return secrets


def hub_overrides(*, hub: int, proxy_api: int, public: int, hosts: dict[str, str]) -> str:
    """What a cluster's DNS and KubeSpawner give the hub, as localhost stands in for them,
    through the chart's own jupyterhub_config.d (the login's endpoints are not here: the
    hub's discovery, ``hub.extraConfig``, finds them). ``hosts`` maps the services'
    in-cluster URLs to local ones (a service without a URL keeps none)."""
    return f"""
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub}"
c.JupyterHub.hub_connect_url = "http://127.0.0.1:{hub}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.spawner_class = "local_notebook.LocalNotebook"
# KubeSpawner's environment is Spawner.environment: give it to the stand-in spawner
c.Spawner.environment = dict(c.KubeSpawner.environment)
c.Spawner.http_timeout = 30
c.GenericOAuthenticator.oauth_callback_url = "http://127.0.0.1:{public}/hub/oauth_callback"
for _service in c.JupyterHub.services:
    if "url" in _service:
        _service["url"] = {hosts!r}[_service["url"]]
"""


def gateway_overrides(*, api: int, http: int, tcp: int, hub: int, scratch: Path) -> str:
    """The gateway's local backend and addresses in place of Kubernetes and Traefik; the
    prefix Traefik serves the API under (the rendered ``gateway.prefix``) kept."""
    return f"""
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.address = "127.0.0.1:{api}"
c.Proxy.address = "127.0.0.1:{http}"
c.Proxy.tcp_address = "127.0.0.1:{tcp}"
c.Proxy.prefix = get_property("gateway.prefix", "/").rstrip("/")
c.JupyterHubAuthenticator.jupyterhub_api_url = "http://127.0.0.1:{hub}/hub/api"
# distributed 2026 has only the `dask` command (the cluster's image brings its own)
c.ClusterConfig.scheduler_cmd = ["dask", "scheduler"]
c.ClusterConfig.worker_cmd = ["dask", "worker"]
c.ClusterConfig.environment = {{
    "DASK_TEMPORARY_DIRECTORY": "{scratch}",
    # dask's own files in the run's folder: the backend passes the schedulers and workers
    # only what it is given, and dask would otherwise write ~/.config/dask
    "DASK_CONFIG": "{os.environ.get("DASK_CONFIG", f"{scratch}/dask-config")}",
}}
"""


def proxy_command(jupyterhub: Rendered, *, public: int, api: int, hub: int) -> list[str]:
    """The rendered proxy container's command, its addresses moved to localhost."""
    body = jupyterhub.find("Deployment", "proxy").body
    command = list(body["spec"]["template"]["spec"]["containers"][0]["command"])
    local = {
        "--ip": "127.0.0.1",
        "--api-ip": "127.0.0.1",
        "--api-port": str(api),
        "--port": str(public),
        "--default-target": f"http://127.0.0.1:{hub}",
        "--error-target": f"http://127.0.0.1:{hub}/hub/error",
    }
    binary = PROXY_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    result = [str(binary)]
    for arg in command[1:]:
        flag, _, _value = arg.partition("=")
        result.append(f"{flag}={local[flag]}" if flag in local else arg)
    return result


def install_proxy() -> Path:
    """configurable-http-proxy from npm, at the version the chart's proxy image runs
    (package-lock.json), installed beside this file on first use."""
    binary = PROXY_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    if not binary.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(PROXY_DIR)],
            check=True,
            capture_output=True,
        )
    return binary


def python_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # DASK_CONFIG stays: the run's own folder for dask's files, not ~/.config/dask
        if not k.startswith(("JUPYTERHUB_", "DASK_")) or k == "DASK_CONFIG"
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env
