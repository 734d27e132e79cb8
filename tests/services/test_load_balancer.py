"""What Google's load balancer makes of the rendered install (tests/services/gclb.py), and
whether the real backends answer what it sends: reana-server 0.9.4 and
configurable-http-proxy 5.2.0, started as their rendered Deployments start them."""

from __future__ import annotations

import copy
import json
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gridcloud.plan import Plan
from gridcloud.plan.services.jupyter import DASK_PREFIX
from gridcloud.render import Rendered, release_named
from tests.conftest import missing
from tests.services import gclb, local, reana_app
from tests.services.test_https import GCP

#: Google's load balancer keeps idle connections to backends 600 s and requires backends
#: to keep them longer (Google Cloud docs, "Backend service settings: HTTP keepalive").
LB_KEEP_ALIVE_S = 600
#: A pod's address as the health checker sees it (no Host of its own: it sends the IP).
POD = "10.8.0.12"


def _hosts(plan: Plan) -> dict[str, str]:
    return {i.service: i.hostname for i in plan.services.ingresses}


def _hub(rendered: dict[str, list[Rendered]]) -> str:
    (host,) = {r.host for r in gclb.routes(rendered["default"]) if r.ingress == "gridcloud-jupyter"}
    return host


@pytest.mark.parametrize("name", GCP)
def test_every_path_reaches_pods_that_have_an_explicit_health_check(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """Each hostname's paths lead to pods; no backend is left to the default check
    (``GET /`` with the pod's IP as Host), which neither the hub's proxy (302) nor
    reana-server (400) answers 200; the check goes to the port the pods serve."""
    found = gclb.routes(rendered[name])
    hosts = _hosts(plans[name])
    assert {r.host for r in found} == set(hosts.values())
    objects = gclb.manifests(rendered[name])
    for entry in found:
        assert entry.health.source != "default", entry
        assert entry.health.port == entry.target_port, entry
        assert entry.protocol == "HTTP"
        # Dataplane V2 enforces the charts' NetworkPolicies: Google's ranges must get in
        assert gclb.admitted(objects, entry) is None


def test_the_routes_of_the_default_facility(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """By hand, from REANA 0.9.4's Ingress (templates/ingress.yaml) and the charts' pods:
    the API and login to reana-server's port 5000, the rest of REANA to its router
    (Traefik, port 8000), the hub to its proxy (port 8000)."""
    hosts = _hosts(plans["default"])
    found = gclb.routes(rendered["default"])
    reana, hub = hosts["reana"], hosts["jupyter"]
    api = gclb.matching(found, reana, "/api/workflows")
    assert (api.workload, api.container, api.target_port) == (
        "Deployment/reana-server",
        "rest-api",
        5000,
    )
    assert gclb.matching(found, reana, "/oauth/login/keycloak").workload == api.workload
    assert gclb.matching(found, reana, "/").workload == "Deployment/reana-traefik"
    assert gclb.matching(found, reana, "/apis").workload == "Deployment/reana-traefik"
    proxy = gclb.matching(found, hub, "/hub/login")
    assert (proxy.workload, proxy.target_port) == ("Deployment/proxy", 8000)
    assert (proxy.health.path, proxy.health.host) == ("/_chp_healthz", None)


def test_websockets_live_longer_than_a_working_session(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """The backend service's timeout is a WebSocket's whole life (30 s by default): the
    hub (kernels, terminals, and the Dask dashboard, which the hub's proxy routes) and
    REANA's sessions must keep one at least a working day; REANA's API an upload's
    minutes."""
    hosts = _hosts(plans["default"])
    found = gclb.routes(rendered["default"])
    day = 8 * 3600
    hub = hosts["jupyter"]
    assert gclb.matching(found, hub, "/user/alice/api/kernels/1/channels").timeout_s >= day
    dashboard = gclb.matching(found, hub, f"{DASK_PREFIX}/clusters/x/status")
    assert dashboard.service == "proxy-public"
    assert dashboard.timeout_s >= day
    reana = hosts["reana"]
    assert gclb.matching(found, reana, "/0a1b2c3d/api/kernels/1/channels").timeout_s >= day
    assert gclb.matching(found, reana, "/api/workflows/x/workspace").timeout_s >= 300


def test_the_model_sees_what_gke_ignores(rendered: dict[str, list[Rendered]]) -> None:
    """The model itself: a probe with a header besides Host is not used by GKE (the check
    falls back to GET /), a NetworkPolicy that admits only other pods shuts Google's
    ranges out, and a ClusterIP Service without NEGs is refused."""
    objects = copy.deepcopy(gclb.manifests(rendered["default"]))
    server = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "reana-server"
    )
    probe = server["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["httpHeaders"].append({"name": "X-Forwarded-Proto", "value": "https"})
    (ingress,) = (
        o for o in gclb.gce_ingresses(objects) if o["metadata"]["name"] == "gridcloud-reana"
    )
    rule = ingress["spec"]["rules"][0]
    api = gclb.route(objects, ingress, rule["host"], rule["http"]["paths"][0])
    assert (api.health.source, api.health.path, api.health.host) == ("default", "/", None)
    service = next(
        o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "reana-server"
    )
    # a policy that admits only the hub's own pods shuts the load balancer out
    proxy = gclb.matching(gclb.routes(rendered["default"]), _hub(rendered), "/")
    assert gclb.admitted(objects, proxy) is None
    policy = next(
        o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "proxy"
    )
    policy["spec"]["ingress"] = [
        {
            "from": [{"podSelector": {"matchLabels": {"component": "hub"}}}],
            "ports": [{"port": 8000}],
        }
    ]
    assert "35.191.0.0/16 cannot reach port 8000" in (gclb.admitted(objects, proxy) or "")
    del service["metadata"]["annotations"]["cloud.google.com/neg"]
    with pytest.raises(gclb.UnroutableError, match="without NEGs"):
        gclb.route(objects, ingress, rule["host"], rule["http"]["paths"][0])


# --- the real backends -------------------------------------------------------------


@pytest.fixture(scope="module")
def reana_server(rendered: dict[str, list[Rendered]]) -> Iterator[reana_app.ReanaServer]:
    venv, reason = reana_app.venv_or_reason()
    if venv is None:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="gridcloud-reana-") as tmp:
        reana = release_named(rendered["default"], "reana")
        with reana_app.started(venv, reana, Path(tmp)) as server:
            yield server


@pytest.mark.integration
def test_reana_server_answers_the_load_balancers_health_check(
    reana_server: reana_app.ReanaServer,
    plans: dict[str, Plan],
    rendered: dict[str, list[Rendered]],
) -> None:
    """The check GKE derives from the rendered pods, sent as the health checker sends it
    (no X-Forwarded-Proto), to the real reana-server: 200. A user's request through the
    load balancer too. The server does refuse a Host that is not REANA's (what the check
    sent before it had one): the check's Host is what makes it pass."""
    host = _hosts(plans["default"])["reana"]
    api = gclb.matching(gclb.routes(rendered["default"]), host, "/api/ping")
    check = api.health
    answer = reana_server.get(check.path, check.headers(f"{POD}:{check.port}"))
    assert answer.status_code == 200, f"{answer.status_code} {answer.text[:300]}"
    assert answer.json()["message"] == "OK"
    user = reana_server.get("/api/ping", api.user_headers())
    assert user.status_code == 200
    untrusted = reana_server.get(check.path, {"Host": f"{POD}:{check.port}"})
    assert untrusted.status_code == 400
    assert "not trusted" in untrusted.text


def _rendered_env(rendered: list[Rendered], deployment: str, container: str) -> dict[str, str]:
    reana = release_named(rendered, "reana")
    spec = reana.find("Deployment", deployment).body["spec"]["template"]["spec"]
    (found,) = (c for c in spec["containers"] if c["name"] == container)
    return {e["name"]: e["value"] for e in found.get("env", []) if "value" in e}


def _held(port: int, host: str, path: str, idle_s: float) -> tuple[bytes, bytes]:
    """Two requests on one kept-alive connection, ``idle_s`` apart: their status lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        first = _exchange(sock, host, path)
        time.sleep(idle_s)
        try:
            second = _exchange(sock, host, path)
        except OSError:
            second = b""
    return first.split(b"\r\n")[0], second.split(b"\r\n")[0]


@pytest.mark.integration
def test_reana_server_keeps_idle_connections_longer_than_the_load_balancer(
    reana_server: reana_app.ReanaServer,
    plans: dict[str, Plan],
    rendered: dict[str, list[Rendered]],
) -> None:
    """reana-server's uWSGI HTTP router closes an idle keep-alive connection after its
    ``http-timeout`` (60 s by default): the rendered UWSGI_HTTP_TIMEOUT keeps them past the
    load balancer's 600 s. The real server shows the variable is what governs: set to 2 s
    it closes an idle connection within 3.5 s; as rendered it still serves it."""
    env = _rendered_env(rendered["default"], "reana-server", "rest-api")
    assert int(env["UWSGI_HTTP_TIMEOUT"]) > LB_KEEP_ALIVE_S
    host = _hosts(plans["default"])["reana"]
    port = int(reana_server.url.rsplit(":", 1)[1])
    assert _held(port, host, "/api/ping", 3.5) == (b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK")
    venv, _ = reana_app.venv_or_reason()
    assert venv is not None
    with tempfile.TemporaryDirectory(prefix="gridcloud-reana-") as tmp:
        reana = release_named(rendered["default"], "reana")
        with reana_app.started(venv, reana, Path(tmp), UWSGI_HTTP_TIMEOUT="2") as short:
            short_port = int(short.url.rsplit(":", 1)[1])
            assert _held(short_port, host, "/api/ping", 3.5) == (b"HTTP/1.1 200 OK", b"")


def test_reanas_router_keeps_idle_connections_longer_than_the_load_balancer(
    rendered: dict[str, list[Rendered]],
) -> None:
    """REANA's Traefik (2.5) closes idle connections after 180 s by default."""
    reana = release_named(rendered["default"], "reana")
    spec = reana.find("Deployment", "reana-traefik").body["spec"]["template"]["spec"]
    args = spec["containers"][0]["args"]
    (idle,) = (a for a in args if a.startswith("--entryPoints.web.transport."))
    key, _, value = idle.partition("=")
    assert key.endswith("respondingTimeouts.idleTimeout")
    assert int(value.removesuffix("s")) > LB_KEEP_ALIVE_S


@pytest.fixture(scope="module")
def proxy(rendered: dict[str, list[Rendered]]) -> Iterator[str]:
    """configurable-http-proxy 5.2.0 with the rendered proxy container's arguments."""
    if shutil.which("npm") is None:
        missing("npm is not installed (it installs configurable-http-proxy from the lock)")
    local.install_proxy()
    hub = release_named(rendered["default"], "jupyterhub")
    ports = {k: local.free_port() for k in ("public", "api", "hub")}
    command = local.proxy_command(hub, public=ports["public"], api=ports["api"], hub=ports["hub"])
    env = local.python_env(CONFIGPROXY_AUTH_TOKEN="test-token")
    with tempfile.TemporaryDirectory(prefix="gridcloud-chp-") as tmp:
        url = f"http://127.0.0.1:{ports['public']}"
        with local.started(command, Path(tmp) / "proxy.log", env, Path(tmp), f"{url}/_chp_healthz"):
            yield url


def _exchange(sock: socket.socket, host: str, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


@pytest.mark.integration
def test_the_hub_proxy_answers_its_check_and_keeps_connections_past_the_default(
    proxy: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """The check from the rendered proxy pod answers 200 on the running proxy; an idle
    keep-alive connection is still served after configurable-http-proxy's default 5 s
    (the rendered flag is in force), and the flag keeps it past the load balancer's 600 s."""
    hub = _hosts(plans["default"])["jupyter"]
    check = gclb.matching(gclb.routes(rendered["default"]), hub, "/").health
    answer = requests.get(
        proxy + check.path, headers=check.headers(f"{POD}:{check.port}"), timeout=10
    )
    assert answer.status_code == 200
    command = local.proxy_command(
        release_named(rendered["default"], "jupyterhub"), public=1, api=2, hub=3
    )
    flags = dict(arg.partition("=")[::2] for arg in command[1:])
    assert int(flags["--keep-alive-timeout"]) > LB_KEEP_ALIVE_S * 1000
    port = int(proxy.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert b" 200 " in _exchange(sock, hub, check.path)
        time.sleep(6.5)
        assert b" 200 " in _exchange(sock, hub, check.path)


# --- REANA's interactive sessions ----------------------------------------------------

#: The port of the Service reana-workflow-controller 0.9.4 puts in front of a session
#: (k8s.py: InteractiveDeploymentK8sBuilder.internal_service_port) and the Jupyter port
#: behind it (config.py: JUPYTER_INTERACTIVE_SESSION_DEFAULT_PORT).
SESSION_SERVICE_PORT, SESSION_PORT = 8081, 8888


def _controller_env(rendered: list[Rendered]) -> dict[str, str]:
    reana = release_named(rendered, "reana")
    spec = reana.find("Deployment", "reana-workflow-controller").body["spec"]["template"]["spec"]
    return {
        e["name"]: e["value"] for c in spec["containers"] for e in c.get("env", []) if "value" in e
    }


def session_objects(env: dict[str, str], workflow_id: str) -> list[dict[str, Any]]:
    """What reana-workflow-controller 0.9.4 creates for a Jupyter session
    (reana_workflow_controller/k8s.py, InteractiveDeploymentK8sBuilder;
    workflow_run_manager.py: path ``/<workflow id>``, name ``run-session-<id>``), with the
    settings it reads from its environment: REANA_INGRESS_ANNOTATIONS, REANA_INGRESS_HOST,
    REANA_RUNTIME_KUBERNETES_NAMESPACE."""
    name = f"run-session-{workflow_id}"
    namespace = env["REANA_RUNTIME_KUBERNETES_NAMESPACE"]
    path = f"/{workflow_id}"
    labels = {"app": name, "reana_workflow_mode": "session"}
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": json.loads(env["REANA_INGRESS_ANNOTATIONS"]),
            },
            "spec": {
                "rules": [
                    {
                        "host": env["REANA_INGRESS_HOST"],
                        "http": {
                            "paths": [
                                {
                                    "path": path,
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": name,
                                            "port": {"number": SESSION_SERVICE_PORT},
                                        }
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "type": "ClusterIP",
                "ports": [{"port": SESSION_SERVICE_PORT, "targetPort": SESSION_PORT}],
                "selector": {"app": name},
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name, "image": "jupyter"}]},
                },
            },
        },
    ]


def traefik_ingresses(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Ingresses REANA's Traefik 2.5 serves: its kubernetesingress provider without an
    ``ingressClass`` takes those of class ``traefik`` or of none."""
    return [
        o
        for o in objects
        if o.get("kind") == "Ingress" and gclb.ingress_class(o) in ("traefik", None)
    ]


def _router_backend(
    objects: list[dict[str, Any]], host: str, url_path: str
) -> tuple[str, int, str]:
    """Where the router sends ``host`` + ``url_path``: the longest matching Prefix path of
    its Ingresses; (Service, port, the pods' workload)."""
    best: tuple[int, dict[str, Any], dict[str, Any]] | None = None
    for ingress in traefik_ingresses(objects):
        for rule in ingress["spec"]["rules"]:
            if rule.get("host", host) != host:
                continue
            for path in rule["http"]["paths"]:
                prefix = path["path"].rstrip("/")
                if (url_path == prefix or url_path.startswith(prefix + "/")) and (
                    best is None or len(prefix) > best[0]
                ):
                    best = (len(prefix), ingress, path)
    assert best is not None, f"the router has no route for {host}{url_path}"
    _, ingress, path = best
    # the router reaches Services through cluster networking: no NEGs needed
    followed = gclb.route(objects, ingress, host, path, negs=False)
    return followed.service, followed.target_port, followed.workload


def test_a_reana_session_is_reached_through_the_router(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """A session's Ingress, as the workflow controller makes it from its rendered
    environment, makes no new load balancer (GKE serves class gce only); the load
    balancer sends its path to REANA's router, which serves that Ingress and reaches the
    session's pods on Jupyter's port; the UI stays at /."""
    host = _hosts(plans["default"])["reana"]
    env = _controller_env(rendered["default"])
    assert env["REANA_INGRESS_HOST"] == host
    workflow = "3f6b9f0e-4d43-4a8e-9d59-1c2e3f4a5b6c"
    session = session_objects(env, workflow)
    objects = [*gclb.manifests(rendered["default"]), *session]
    before = gclb.routes(rendered["default"])
    assert [i["metadata"]["name"] for i in gclb.gce_ingresses(objects)] == [
        i["metadata"]["name"] for i in gclb.gce_ingresses(gclb.manifests(rendered["default"]))
    ]
    url = f"/{workflow}/lab/api/kernels/1/channels"
    entry = gclb.matching(before, host, url)
    assert entry.workload == "Deployment/reana-traefik"
    assert entry.timeout_s >= 8 * 3600
    service, port, workload = _router_backend(objects, host, url)
    assert (service, port, workload) == (
        f"run-session-{workflow}",
        SESSION_PORT,
        f"Deployment/run-session-{workflow}",
    )
    assert _router_backend(objects, host, "/")[0] == "reana-ui"


def test_on_prem_sessions_take_the_sites_class(rendered: dict[str, list[Rendered]]) -> None:
    """On an existing cluster REANA's Traefik is off: a session's Ingress (from the
    rendered workflow controller's environment) has the site's class, nginx, and nginx's
    WebSocket timeouts; nothing of the chart's Traefik is left on it."""
    env = _controller_env(rendered["onprem"])
    (ingress, *_) = session_objects(env, "3f6b9f0e-4d43-4a8e-9d59-1c2e3f4a5b6c")
    notes = ingress["metadata"]["annotations"]
    assert gclb.ingress_class(ingress) == "nginx"
    assert not any(key.startswith("traefik.") for key in notes)
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 8 * 3600
    reana = release_named(rendered["onprem"], "reana")
    assert [m.name for m in reana.of_kind("Deployment") if "traefik" in m.name] == []


def test_the_gateways_router_keeps_dashboards_and_schedulers_connected(
    rendered: dict[str, list[Rendered]],
) -> None:
    """The Dask dashboard and a client's scheduler connection pass the gateway's Traefik
    (3.3.5, the chart's), whose entry points end a connection 60 s after its request began
    unless ``respondingTimeouts.readTimeout`` says otherwise (its default since 2.11.2)."""
    gateway = release_named(rendered["default"], "dask-gateway")
    spec = gateway.find("Deployment", "traefik-dask-gateway").body["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["image"].endswith(":3.3.5")
    args = container["args"]
    assert "--entrypoints.web.address=:8000" in args
    assert "--entryPoints.web.transport.respondingTimeouts.readTimeout=0" in args
    service = gateway.find("Service", "traefik-dask-gateway").body
    assert service["spec"]["type"] == "ClusterIP"
