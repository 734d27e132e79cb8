"""``gridcloud check`` on a kubernetes target: the official client talks HTTP to a small API
server on localhost answering ``/version`` and SelfSubjectAccessReviews in Kubernetes' shapes,
through a kubeconfig written by kubectl. What the Plan must create is held to what Helm
renders elsewhere (tests/services)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from gridcloud.check import run
from gridcloud.check.kube import Access
from gridcloud.plan import Plan
from tests.conftest import PROFILES
from tests.json_http import JsonHandler, serving

TOKEN = "campus-admin-token"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


@dataclass
class ApiServer:
    url: str
    denied: set[Access] = field(default_factory=set)
    asked: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)


def _handler(state: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.tokens.add(self.path + " " + self.headers.get("Authorization", ""))
            if self.path.rstrip("/") == "/version":
                self._send(
                    200,
                    {
                        "major": "1",
                        "minor": "35",
                        "gitVersion": "v1.35.2",
                        "gitCommit": "0" * 40,
                        "gitTreeState": "clean",
                        "buildDate": "2026-10-01T00:00:00Z",
                        "goVersion": "go1.25.1",
                        "compiler": "gc",
                        "platform": "linux/amd64",
                    },
                )
            else:
                self._send(404, {"kind": "Status", "status": "Failure", "code": 404})

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            state.tokens.add(self.path + " " + self.headers.get("Authorization", ""))
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != SSAR:
                self._send(404, {"kind": "Status", "status": "Failure", "code": 404})
                return
            attributes = body["spec"]["resourceAttributes"]
            state.asked.append(attributes)
            access = Access(
                attributes.get("group", ""), attributes["resource"], attributes.get("namespace")
            )
            allowed = access not in state.denied
            self._send(
                201,
                {
                    **body,
                    "metadata": {"creationTimestamp": None},
                    "status": {"allowed": allowed}
                    | ({} if allowed else {"reason": "no RBAC policy matched"}),
                },
            )

    return Handler


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    state = ApiServer(url="")
    with serving(_handler(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_server: ApiServer) -> Path:
    """~/.kube/config with the onprem profile's context, written by kubectl."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is part of the image these tests run on, and it is missing")
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / ".kube" / "config"
    for args in (
        ["set-cluster", "campus", f"--server={api_server.url}"],
        ["set-credentials", "admin", f"--token={TOKEN}"],
        ["set-context", "campus-af", "--cluster=campus", "--user=admin"],
    ):
        subprocess.run(
            [kubectl, "config", f"--kubeconfig={config}", *args], check=True, capture_output=True
        )
    return config


def _onprem() -> Plan:
    return analyse(PROFILES / "onprem.yaml").plan


def test_the_user_may_create_everything_the_plan_needs(
    kubeconfig: Path, api_server: ApiServer
) -> None:
    report = run(_onprem())
    checks = {c.id: c for c in report.checks}
    assert checks["cluster"].status == "ok", checks["cluster"].detail
    assert "v1.35.2" in checks["cluster"].detail
    assert checks["access"].status == "ok"
    # the kubeconfig's user, on every review
    assert {t for t in api_server.tokens if t.startswith(SSAR)} == {f"{SSAR} Bearer {TOKEN}"}
    # every review asked to create, one per kind and namespace the Plan uses
    assert {a["verb"] for a in api_server.asked} == {"create"}
    asked = {(a.get("group", ""), a["resource"], a.get("namespace")) for a in api_server.asked}
    assert asked == ONPREM_CREATES
    assert len(api_server.asked) == len(ONPREM_CREATES)  # each asked once


def _namespaced(namespace: str, *resources: tuple[str, str]) -> set[tuple[str, str, str | None]]:
    return {(group, resource, namespace) for group, resource in resources}


#: What the onprem profile's facility creates, written out by hand (not from ``needed``): the
#: kinds of gridcloud's own objects (the grid site's ServiceAccount, Role, RoleBinding and
#: token Secret and its squid's Deployment and Service; the hub's OIDC Secret; REANA's NFS
#: server's Deployment, Service and claim, its first-run Job's account and Role), asked
#: where the Plan puts them (no ResourceQuota: the onprem grid site sets no core quota), and
#: the kinds the charts' templates hold (../shared/charts: cvmfs-csi 2.5.2, reana 0.9.4,
#: jupyterhub 4.4.0, dask-gateway 2026.3.0) in their release's namespace; cluster-scoped
#: kinds without one.
PROGRAM = (
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
)
ONPREM_CREATES: set[tuple[str, str, str | None]] = {
    # cluster-scoped: the namespaces, priority classes, the CSI driver and its storage
    # classes, the charts' cluster roles, dask-gateway's and REANA's CRDs, the NFS volume
    ("", "namespaces", None),
    ("", "persistentvolumes", None),
    ("apiextensions.k8s.io", "customresourcedefinitions", None),
    ("rbac.authorization.k8s.io", "clusterroles", None),
    ("rbac.authorization.k8s.io", "clusterrolebindings", None),
    ("scheduling.k8s.io", "priorityclasses", None),
    ("storage.k8s.io", "csidrivers", None),
    ("storage.k8s.io", "storageclasses", None),
    # the CSI chart's controller, node plugin and their accounts, nothing of gridcloud's
    *_namespaced(
        "cvmfs",
        ("", "secrets"),
        ("", "serviceaccounts"),
        ("", "configmaps"),
        ("apps", "deployments"),
        ("apps", "daemonsets"),
    ),
    *_namespaced("grid", *PROGRAM),
    *_namespaced(
        "jupyter",
        *PROGRAM,
        ("", "configmaps"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "networkpolicies"),
        # dask-gateway's routes through Traefik
        ("traefik.io", "ingressroutes"),
        ("traefik.io", "middlewares"),
    ),
    *_namespaced(
        "reana",
        *PROGRAM,
        ("", "configmaps"),
        ("", "limitranges"),
        ("apps", "statefulsets"),
        ("batch", "cronjobs"),
        ("batch", "jobs"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "networkpolicies"),
        ("traefik.containo.us", "ingressroutes"),
    ),
}


def test_what_the_user_may_not_create_is_named(kubeconfig: Path, api_server: ApiServer) -> None:
    api_server.denied = {
        Access("", "namespaces", None),
        Access("apiextensions.k8s.io", "customresourcedefinitions", None),
    }
    report = run(_onprem())
    access = next(c for c in report.checks if c.id == "access")
    assert access.status == "fail"
    assert access.detail == (
        "you may not create: namespaces, customresourcedefinitions.apiextensions.k8s.io"
    )
    assert not report.go


def test_an_unreachable_cluster_is_a_failed_check(
    kubeconfig: Path, api_server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = kubeconfig.read_text().replace(api_server.url, "http://127.0.0.1:9")
    kubeconfig.write_text(text)
    report = run(_onprem())
    checks = {c.id: c for c in report.checks}
    assert checks["cluster"].status == "fail"
    assert "kubectl --context campus-af version" in checks["cluster"].fix
    assert "access" not in checks


def test_a_missing_context_says_where_to_look(kubeconfig: Path) -> None:
    kubeconfig.unlink()
    cluster = next(c for c in run(_onprem()).checks if c.id == "cluster")
    assert cluster.status == "fail"
    assert "target.kubeconfig" in cluster.fix
