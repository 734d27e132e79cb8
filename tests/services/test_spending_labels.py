"""Every pod a hub user causes carries the user: notebooks (KubeSpawner's own label), Dask
schedulers and workers (the gateway's options handler), each made by the real component from
the rendered configuration (as test_runtime_pods makes them), with the user's group beside.

The label's value is checked against KubeSpawner's own escaping (``safe_slug`` with
``is_valid_label``, what it writes on notebooks), never against gridcloud's copy of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridcloud.incluster import spending
from gridcloud.render import Rendered, release_named
from tests.conftest import require
from tests.services.test_runtime_pods import dask_manifests, notebook_manifests

require("kubespawner")
require("dask_gateway_server")

#: Not a valid label value ('@'), so KubeSpawner writes a hashed slug.
USER = "Alice.Smith@cern.ch"
#: The default profile's hub admits ``atlas``; the user is also in a group with no limit.
GROUPS = ("cms-exotics", "atlas")


def kubespawner_label(name: str) -> str:
    from kubespawner.slugs import is_valid_label, safe_slug

    return str(safe_slug(name, is_valid=is_valid_label))


@pytest.fixture(scope="module")
def pods(rendered: dict[str, list[Rendered]]) -> dict[str, dict[str, Any]]:
    objects = rendered["default"]
    made = {
        f"notebook:{slug}": pod
        for slug, pod in notebook_manifests(
            release_named(objects, "jupyterhub"), USER, GROUPS
        ).items()
    }
    made |= {
        f"dask:{kind}": pod
        for kind, pod in dask_manifests(
            release_named(objects, "dask-gateway"), gpu=True, user=USER, groups=GROUPS
        ).items()
    }
    return made


def test_every_notebook_and_dask_pod_carries_the_user_as_kubespawner_labels_it(
    pods: dict[str, dict[str, Any]],
) -> None:
    want = kubespawner_label(USER)
    assert want != USER  # escaped: the case where a copy of the rules could drift
    assert set(pods) >= {"dask:schedulers", "dask:workers", "dask:GPU workers", "notebook:cpu"}
    users = {
        kind: pod["metadata"]["labels"].get("hub.jupyter.org/username")
        for kind, pod in pods.items()
    }
    assert users == dict.fromkeys(pods, want)


def test_every_pod_carries_the_group_the_user_is_charged_to(
    pods: dict[str, dict[str, Any]],
) -> None:
    groups = {kind: pod["metadata"]["labels"].get("gridcloud-group") for kind, pod in pods.items()}
    assert groups == dict.fromkeys(pods, "atlas")


def test_the_gateways_own_labels_stay(pods: dict[str, dict[str, Any]]) -> None:
    """The controller finds its pods by its own labels: the user's are added, not swapped."""
    for kind in ("dask:schedulers", "dask:workers"):
        labels = pods[kind]["metadata"]["labels"]
        assert labels["gateway.dask.org/cluster"] == "c"
        assert labels["app.kubernetes.io/component"] in {"dask-scheduler", "dask-worker"}


@pytest.mark.parametrize(
    "name",
    [
        "alice",
        "Alice",
        "alice.smith",
        "Alice.Smith@cern.ch",
        "a--b",
        "-leading",
        "trailing-",
        "9lives",
        "ünïcødé",
        "x" * 63,
        "x" * 64,
        "user_name",
        "_user",
        "",
        "a b",
        "CN=Alice Smith,OU=Users,DC=cern,DC=ch",
    ],
)
def test_the_label_value_is_kubespawners(name: str) -> None:
    assert spending.label_value(name) == kubespawner_label(name)


def test_cost_report_attributes_dask_spend_to_its_user(
    pods: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """A day of a billing export as bq writes it, whose rows carry the labels GKE cost
    allocation exports for these very pods (``k8s-label/<key>`` of each pod label): the
    user's line in ``cost report`` is the notebook's and the Dask cluster's rows, summed
    here by hand; before, the Dask rows fell in "unattributed"."""
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli
    from tests.conftest import PROFILES
    from tests.report import exports

    ours = {"goog-k8s-cluster-name": exports.CLUSTER, "gridcloud-facility": "atlas-gcp"}
    # (pod, pool, hourly cost): a notebook, a scheduler, and workers on the spot pool
    running = [
        ("notebook:cpu", "ondemand", Decimal("0.19")),
        ("dask:schedulers", "ondemand", Decimal("0.05")),
        ("dask:workers", "cpu", Decimal("0.61")),
        ("dask:workers", "cpu", Decimal("0.61")),
    ]
    start = datetime(2026, 10, 5, tzinfo=UTC)
    lines = []
    for hour in range(24):
        at = start + timedelta(hours=hour)
        for kind, pool, cost in running:
            labels = {f"k8s-label/{k}": v for k, v in pods[kind]["metadata"]["labels"].items()}
            labels |= {**ours, "gridcloud-pool": pool, "k8s-namespace": "jupyter"}
            lines.append(exports.Line(exports.PROJECT, at, cost, [], labels, exports.CORE))
        # someone else's idle node time: nobody's
        idle = {**ours, "gridcloud-pool": "cpu", "k8s-namespace": "kube:unallocated"}
        lines.append(exports.Line(exports.PROJECT, at, Decimal("0.30"), [], idle, exports.CORE))
    [path] = exports.bq_jsonl(lines, tmp_path / "export")
    assert '"k8s-label/gateway.dask.org/cluster"' in path.read_text()
    result = CliRunner().invoke(
        create_cli(),
        [
            "cost",
            "report",
            str(PROFILES / "default.yaml"),
            "--json",
            "--month",
            "2026-10",
            "--export",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    by_user = {p["name"]: p["net"] for p in json.loads(result.stdout)["byUser"]}
    # 24 hours x (0.19 + 0.05 + 2 x 0.61) = 35.04; the idle node: 24 x 0.30 = 7.20
    assert by_user == {
        kubespawner_label(USER): "35.04",
        "(unattributed: no hub user's pod)": "7.20",
    }
