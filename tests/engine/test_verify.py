"""``gridcloud verify`` after a deploy: the official client reads a small API server on
localhost answering lists and objects in Kubernetes' shapes (``apps/v1`` DeploymentList and
so on, as ``kubectl get -o json`` prints them), through a kubeconfig written by kubectl. The
expected verdicts are by hand from what the server holds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from gridcloud.engine.verify import verify
from gridcloud.plan import Plan
from gridcloud.plan.outputs import StackOutputs
from tests.conftest import PROFILES
from tests.json_http import JsonHandler, serving

TOKEN = "verify-token"
LIST = re.compile(r"^/apis/apps/v1/namespaces/([a-z0-9-]+)/(deployments|statefulsets|daemonsets)")
INGRESS = re.compile(r"^/apis/networking\.k8s\.io/v1/namespaces/([a-z0-9-]+)/ingresses/(.+)$")
KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}


def _workload(kind: str, name: str, namespace: str, **status: int) -> dict[str, Any]:
    labels = {"app": name}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": name, "image": f"example/{name}:1"}]},
        },
    }
    if kind != "DaemonSet":
        spec["replicas"] = status.pop("replicas")
    if kind == "StatefulSet":
        spec["serviceName"] = name
        status["replicas"] = spec["replicas"]  # required in a StatefulSet's status
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": spec,
        "status": {"observedGeneration": 1, **status},
    }


@dataclass
class Cluster:
    url: str
    namespaces: set[str] = field(default_factory=set)
    workloads: list[dict[str, Any]] = field(default_factory=list)
    addressed: set[str] = field(default_factory=set)
    """Ingresses (namespace/name) that have a load balancer address."""
    authorized: list[str] = field(default_factory=list)


def _handler(state: Cluster) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            if path.startswith("/api"):  # (kubectl itself may ask /version unauthenticated)
                state.authorized.append(self.headers.get("Authorization", ""))
            if path == "/api/v1/namespaces":
                items = [
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                    for n in sorted(state.namespaces | {"default", "kube-system"})
                ]
                self._send(200, {"kind": "NamespaceList", "apiVersion": "v1", "items": items})
            elif match := LIST.match(path):
                namespace, plural = match.groups()
                items = [
                    w
                    for w in state.workloads
                    if w["kind"] == KINDS[plural] and w["metadata"]["namespace"] == namespace
                ]
                self._send(
                    200,
                    {
                        "kind": f"{KINDS[plural]}List",
                        "apiVersion": "apps/v1",
                        "metadata": {"resourceVersion": "42"},
                        "items": items,
                    },
                )
            elif match := INGRESS.match(path):
                namespace, name = match.groups()
                balancer = (
                    {"ingress": [{"ip": "34.120.7.9"}]}
                    if f"{namespace}/{name}" in state.addressed
                    else {}
                )
                self._send(
                    200,
                    {
                        "apiVersion": "networking.k8s.io/v1",
                        "kind": "Ingress",
                        "metadata": {"name": name, "namespace": namespace},
                        "spec": {},
                        "status": {"loadBalancer": balancer},
                    },
                )
            else:
                self._send(404, {"kind": "Status", "status": "Failure", "code": 404})

    return Handler


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    state = Cluster(url="")
    with serving(_handler(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def kubeconfig(tmp_path: Path, cluster: Cluster) -> Path:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is part of the image these tests run on, and it is missing")
    config = tmp_path / "kubeconfig"
    for args in (
        ["set-cluster", "af", f"--server={cluster.url}"],
        ["set-credentials", "deployer", f"--token={TOKEN}"],
        ["set-context", "campus-af", "--cluster=af", "--user=deployer"],
        ["use-context", "campus-af"],
    ):
        subprocess.run(
            [kubectl, "config", f"--kubeconfig={config}", *args], check=True, capture_output=True
        )
    return config


def _plan(name: str) -> Plan:
    return analyse(PROFILES / f"{name}.yaml").plan


def _healthy(cluster: Cluster) -> None:
    cluster.namespaces = {"cvmfs", "grid", "jupyter", "reana"}
    cluster.workloads = [
        _workload("Deployment", "hub", "jupyter", replicas=1, availableReplicas=1),
        _workload("Deployment", "reana-server", "reana", replicas=1, availableReplicas=1),
        _workload("StatefulSet", "reana-db", "reana", replicas=1, readyReplicas=1),
        # the CVMFS node plugin, on the two nodes up now
        _workload(
            "DaemonSet",
            "cvmfs-nodeplugin",
            "cvmfs",
            desiredNumberScheduled=2,
            numberReady=2,
            currentNumberScheduled=2,
            numberMisscheduled=0,
        ),
    ]
    cluster.addressed = {"jupyter/gridcloud-jupyter", "reana/gridcloud-reana"}


def _statuses(plan: Plan, facts: StackOutputs) -> dict[str, str]:
    return {c.id: c.status for c in verify(plan, facts).checks}


def test_a_healthy_google_cloud_facility_verifies(cluster: Cluster, kubeconfig: Path) -> None:
    """The stack's kubeconfig output (a Google Cloud stack carries it as a secret)."""
    _healthy(cluster)
    plan = _plan("default")
    facts = StackOutputs(plan_fingerprint=plan.fingerprint, kubeconfig=kubeconfig.read_text())
    report = verify(plan, facts)
    assert {c.id: c.status for c in report.checks} == {
        "stack": "ok",
        "cluster": "ok",
        "namespaces": "ok",
        "workloads": "ok",
        "entry-points": "ok",
    }
    assert report.go
    assert set(cluster.authorized) == {f"Bearer {TOKEN}"}


def test_what_is_not_ready_is_named_with_its_counts(cluster: Cluster, kubeconfig: Path) -> None:
    _healthy(cluster)
    cluster.workloads[1] = _workload(
        "Deployment", "reana-server", "reana", replicas=1, availableReplicas=0
    )
    cluster.workloads.append(
        _workload(
            "DaemonSet",
            "cvmfs-nodeplugin-2",
            "cvmfs",
            desiredNumberScheduled=3,
            numberReady=1,
            currentNumberScheduled=3,
            numberMisscheduled=0,
        )
    )
    cluster.namespaces.discard("grid")
    cluster.addressed = {"reana/gridcloud-reana"}
    plan = _plan("onprem")
    facts = StackOutputs(
        plan_fingerprint="0000000000000000", kubeconfig_path=str(kubeconfig), context="campus-af"
    )
    report = verify(plan, facts)
    checks = {c.id: c for c in report.checks}
    assert {k: c.status for k, c in checks.items()} == {
        "stack": "warn",  # deployed from another Plan
        "cluster": "ok",
        "namespaces": "fail",
        "workloads": "fail",
        "entry-points": "warn",
    }
    assert checks["namespaces"].detail == "missing: grid"
    assert checks["workloads"].detail == (
        "not ready: cvmfs/daemonset/cvmfs-nodeplugin-2 (1/3), reana/deployment/reana-server (0/1)"
    )
    assert "jupyter.campus.example.edu" in checks["entry-points"].detail
    assert "reana.campus.example.edu" not in checks["entry-points"].detail
    assert not report.go


def test_a_pool_at_zero_wants_no_daemon_pods(cluster: Cluster, kubeconfig: Path) -> None:
    """A DaemonSet scheduled on no node (the pools scaled to zero) is not a failure."""
    _healthy(cluster)
    cluster.workloads[3] = _workload(
        "DaemonSet",
        "cvmfs-nodeplugin",
        "cvmfs",
        desiredNumberScheduled=0,
        numberReady=0,
        currentNumberScheduled=0,
        numberMisscheduled=0,
    )
    plan = _plan("default")
    facts = StackOutputs(plan_fingerprint=plan.fingerprint, kubeconfig=kubeconfig.read_text())
    assert _statuses(plan, facts)["workloads"] == "ok"


def test_an_unreachable_cluster_is_a_failed_check(kubeconfig: Path, cluster: Cluster) -> None:
    text = kubeconfig.read_text().replace(cluster.url, "http://127.0.0.1:9")
    plan = _plan("default")
    report = verify(plan, StackOutputs(plan_fingerprint=plan.fingerprint, kubeconfig=text))
    checks = {c.id: c for c in report.checks}
    assert checks["cluster"].status == "fail"
    assert "does not answer" in checks["cluster"].detail
    assert "namespaces" not in checks
    assert not report.go


def test_a_stack_without_a_kubeconfig_says_so() -> None:
    plan = _plan("default")
    report = verify(plan, StackOutputs(plan_fingerprint=plan.fingerprint))
    cluster = next(c for c in report.checks if c.id == "cluster")
    assert cluster.status == "fail"
    assert "no kubeconfig output" in cluster.detail


def test_the_command_reads_the_stack_and_exits_9_until_ready(
    cluster: Cluster,
    kubeconfig: Path,
    fake_pulumi: Any,
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the Pulumi CLI (faked): the stack's kubeconfig output, never printed."""
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli

    plan = _plan("default")
    monkeypatch.setenv("FAKE_PULUMI_SECRETS", json.dumps({"kubeconfig": kubeconfig.read_text()}))
    monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", json.dumps({"planFingerprint": plan.fingerprint}))
    _healthy(cluster)
    result = CliRunner().invoke(create_cli(), ["verify", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["go"] is True
    assert {c["id"]: c["status"] for c in data["checks"]}["workloads"] == "ok"
    assert TOKEN not in result.output

    cluster.workloads[0] = _workload("Deployment", "hub", "jupyter", replicas=1)
    result = CliRunner().invoke(create_cli(), ["verify"])
    assert result.exit_code == 9
    assert "jupyter/deployment/hub(0/1)" in "".join(result.stdout.split())  # however wrapped
    assert "deployed but not working yet: workloads ready" in result.stderr
    assert TOKEN not in result.output


def _kubeconfig_for(url: str, path: Path) -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    for args in (
        ["set-cluster", "shard", f"--server={url}"],
        ["set-credentials", "deployer", f"--token={TOKEN}"],
        ["set-context", "shard", "--cluster=shard", "--user=deployer"],
        ["use-context", "shard"],
    ):
        subprocess.run(
            [kubectl, "config", f"--kubeconfig={path}", *args], check=True, capture_output=True
        )
    return path.read_text()


def test_every_shards_cluster_is_verified_through_its_own_stack(  # noqa: PLR0917 (fixtures)
    cluster: Cluster,
    kubeconfig: Path,
    fake_pulumi: Any,
    credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The default profile with a shard, ew4: the home cluster through the home stack's
    kubeconfig, the shard's through its own stack's (a second API server); each of the
    shard's rows titled with it. Its namespaces gone: exit 9, the shard's row names them,
    the home's rows pass. Its stack never deployed: that is the failure."""
    import yaml
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli
    from tests.conftest import default_data

    data = default_data()
    pool = {"name": "spot", "kind": "cpu", "machineType": "n2d-highcpu-80", "maxCores": 8000}
    data["shards"] = {"declared": [{"name": "ew4", "region": "europe-west4", "pools": [pool]}]}
    data["budget"]["monthly"] = 60_000
    path = tmp_path / "sharded.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    from tests.engine.fake_pulumi import OUTPUTS

    # the home Plan as the stack's ranges (the fake's outputs) make it, as `up` would
    plan = analyse(path, StackOutputs.read(OUTPUTS).network).plan
    (shard,) = plan.shards
    shard_state = Cluster(url="", namespaces=set(shard.services.namespaces))
    with serving(_handler(shard_state)) as url:
        shard_state.url = url
        outputs = {
            "facility": shard.name,
            "target": "gcp",
            "shard": "ew4",
            "planFingerprint": shard.fingerprint,
            "kubeconfig": _kubeconfig_for(url, tmp_path / "shard-kubeconfig"),
        }
        monkeypatch.setenv("FAKE_PULUMI_STACK_OUTPUTS", json.dumps({"atlas-gcp-ew4": outputs}))
        monkeypatch.setenv(
            "FAKE_PULUMI_SECRETS", json.dumps({"kubeconfig": kubeconfig.read_text()})
        )
        monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", json.dumps({"planFingerprint": plan.fingerprint}))
        _healthy(cluster)

        result = CliRunner().invoke(create_cli(), ["verify", str(path), "--json"])
        assert result.exit_code == 0, result.output
        checks = json.loads(result.stdout)["checks"]
        shard_rows = [c for c in checks if c["title"].startswith("shard ew4: ")]
        assert [c["id"] for c in shard_rows] == ["stack", "cluster", "namespaces", "workloads"]
        assert all(c["status"] == "ok" for c in checks), checks
        assert shard_state.authorized  # the shard's own API server was asked
        assert TOKEN not in result.output

        gone = sorted(shard.services.namespaces)
        shard_state.namespaces = set()
        result = CliRunner().invoke(create_cli(), ["verify", str(path), "--json"])
        assert result.exit_code == 9
        rows = {c["title"]: c for c in json.loads(result.stdout)["checks"]}
        assert rows["shard ew4: namespaces"]["status"] == "fail"
        assert rows["shard ew4: namespaces"]["detail"] == f"missing: {', '.join(gone)}"
        assert rows["namespaces"]["status"] == "ok"  # the home cluster's

    monkeypatch.setenv("FAKE_PULUMI_MISSING", "atlas-gcp-ew4")
    result = CliRunner().invoke(create_cli(), ["verify", str(path), "--json"])
    assert result.exit_code == 9
    rows = {c["title"]: c for c in json.loads(result.stdout)["checks"]}
    assert rows["shard ew4: deployed Plan"]["detail"] == "shard ew4's stack has not been deployed"
