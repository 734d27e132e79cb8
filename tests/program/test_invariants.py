"""Invariants over every resource the program declares, for every Google Cloud profile
(shipped and corpus), as pulumi/examples' testing-unit-py checks a whole stack: what must
hold of each resource whatever the profile, so that a new resource that forgets one fails
here without a test of its own.

The label-bearing types and their label fields are listed by hand from
terraform-provider-google's resource schemas (``labels``; ``resource_labels`` on
google_container_cluster; ``node_config.resource_labels`` on google_container_node_pool);
a type not listed here and not in ``UNLABELLED`` fails the test until someone decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from tests.conftest import PROFILES, SHIPPED
from tests.program.mocks import Declared, Rendered, is_secret, render

CORPUS = Path(__file__).parents[1] / "corpus"
PATHS = [p for p in SHIPPED if p.stem != "onprem"] + [
    CORPUS / f"{name}.yaml"
    for name in (
        "cern-sso",
        "europe-west1-regional",
        "europe-west4-l4-jupyter",
        "google-login",
    )
]

#: type -> the path of its labels in the inputs (terraform-provider-google's schemas)
LABELLED: dict[str, tuple[str, ...]] = {
    "gcp:container/cluster:Cluster": ("resourceLabels",),
    "gcp:container/nodePool:NodePool": ("nodeConfig", "resourceLabels"),
    "gcp:compute/globalAddress:GlobalAddress": ("labels",),
    "gcp:compute/address:Address": ("labels",),
    "gcp:compute/disk:Disk": ("labels",),
    "gcp:pubsub/topic:Topic": ("labels",),
    "gcp:storage/bucket:Bucket": ("labels",),
    "gcp:cloudfunctionsv2/function:Function": ("labels",),
}
#: types whose Google resource takes no labels, or that are not billed by themselves
UNLABELLED = {
    "gcp:compute/network:Network",
    "gcp:compute/subnetwork:Subnetwork",
    "gcp:compute/router:Router",
    "gcp:compute/routerNat:RouterNat",
    "gcp:serviceaccount/account:Account",
    "gcp:serviceaccount/key:Key",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    "gcp:billing/budget:Budget",
    "gcp:storage/bucketObject:BucketObject",
    "gcp:cloudrun/iamMember:IamMember",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:pubsub/topicIAMMember:TopicIAMMember",
}


@pytest.fixture(scope="module", params=PATHS, ids=lambda p: p.stem)
def stack(request: pytest.FixtureRequest) -> tuple[str, Rendered]:
    plan = analyse(request.param).plan
    return plan.name, render(plan)


def _at(inputs: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = inputs
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _google(rendered: Rendered) -> list[Declared]:
    return [r for r in rendered.resources if r.type.startswith("gcp:")]


def test_every_billed_google_resource_carries_the_facilitys_labels(
    stack: tuple[str, Rendered],
) -> None:
    """The billing export attributes cost by these labels (docs/cost-report.md); the
    budget of a shared project counts only the facility's label."""
    name, rendered = stack
    for resource in _google(rendered):
        if resource.type in UNLABELLED:
            continue
        assert resource.type in LABELLED, f"{resource.key}: is it labelled? add it above"
        labels = _at(resource.inputs, LABELLED[resource.type]) or {}
        assert labels.get("gridcloud-facility") == name, resource.key
        assert labels.get("managed-by") == "gridcloud", resource.key


def test_every_named_google_resource_is_named_for_its_facility(
    stack: tuple[str, Rendered],
) -> None:
    """Two facilities in one project never collide: names start with the facility's (a
    bucket's with the project's too, as bucket names are global); a node pool's name is
    scoped by its cluster."""
    name, rendered = stack
    scoped = {"gcp:container/nodePool:NodePool", "gcp:storage/bucketObject:BucketObject"}
    for resource in _google(rendered):
        given = resource.inputs.get("name")
        if not isinstance(given, str) or resource.type in scoped:
            continue
        if resource.type == "gcp:storage/bucket:Bucket":
            assert f"-{name}-" in f"-{given}-" or given.startswith(name), resource.key
        else:
            assert given == name or given.startswith(f"{name}-"), resource.key


def test_every_kubernetes_object_goes_to_the_facilitys_cluster(
    stack: tuple[str, Rendered],
) -> None:
    """An object without the explicit provider would go to whatever cluster the deployer's
    kubeconfig points at."""
    _, rendered = stack
    (provider,) = [r for r in rendered.resources if r.type == "pulumi:providers:kubernetes"]
    objects = [r for r in rendered.resources if r.type.startswith("kubernetes:")]
    assert objects
    for resource in objects:
        # the provider's URN: ...$pulumi:providers:kubernetes::<its name>::<its id>
        assert f"pulumi:providers:kubernetes::{provider.name}::" in resource.provider, resource.key
        assert resource.options.provider == f"pulumi:providers:kubernetes::{provider.name}"


def test_every_kubernetes_secret_value_is_a_pulumi_secret(stack: tuple[str, Rendered]) -> None:
    """A Secret's value in plain inputs would be stored in plain text in the state."""
    _, rendered = stack
    for resource in rendered.of_type("kubernetes:core/v1:Secret"):
        for field in ("data", "stringData"):
            value = resource.inputs.get(field)
            if value is None:
                continue
            assert is_secret(value) or all(is_secret(v) for v in value.values()), (
                f"{resource.key}.{field}"
            )


def test_the_default_profile_is_among_them() -> None:
    assert PROFILES / "default.yaml" in PATHS
