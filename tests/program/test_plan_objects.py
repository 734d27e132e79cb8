"""The objects the program used to write by hand (REANA's NFS server, its disk, Service and
volume; the grid site's account, Role, binding, quota and token) now come from the Plan: the
program applies them as they are, under the names they had, and a deployed facility sees no
replacement, only the NFS server's reduced rights as an in-place update.

The oracle is what the hand-written program declared (recorded under the same mocks, in
``replacement/hand_written_objects.json``), not the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridcloud.analysis import analyse
from tests.conftest import PROFILES
from tests.program.mocks import Declared, Rendered, render
from tests.program.test_day_two import changes, replaced

BEFORE = json.loads(
    (Path(__file__).parent / "replacement" / "hand_written_objects.json").read_text()
)
SERVER = "kubernetes:apps/v1:Deployment::services-nfs-server"
#: Gone on purpose: on GKE the grid submitter's long-lived token (its kubeconfig gets
#: short-lived tokens from GKE's exec plugin instead; docs/services/grid-site.md).
GONE = {"default": {"kubernetes:core/v1:Secret::services-grid-submitter-token"}, "onprem": set()}
#: The one change on purpose: privileged -> SYS_ADMIN and no AppArmor profile.
SECURITY = {
    f"spec.template.spec.containers.securityContext.{field}"
    for field in ("privileged", "capabilities.add", "appArmorProfile.type")
}


def _rendered(name: str, request: pytest.FixtureRequest) -> Rendered:
    if name == "onprem":
        request.getfixturevalue("onprem_kubeconfig")
    return render(analyse(PROFILES / f"{name}.yaml").plan)


@pytest.mark.parametrize("name", ["default", "onprem"])
def test_the_plans_objects_replace_nothing_the_program_made(
    name: str, request: pytest.FixtureRequest
) -> None:
    now = _rendered(name, request)
    moved = [r for r in now.resources if r.key in BEFORE[name]]
    # every object the program made is still made, under its name, but the token on GKE
    assert {r.key for r in moved} == set(BEFORE[name]) - GONE[name]
    before = Rendered(
        [Declared(r.type, r.name, BEFORE[name][r.key], r.provider, r.options) for r in moved],
        now.outputs,
        now.secret_outputs,
    )
    after = Rendered(moved, now.outputs, now.secret_outputs)
    diff = changes(before, after)
    assert replaced(diff) == {}
    binding = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::services-grid-submitter-binding"
    # on GKE, in place: the binding grants the Role to the Harvester host's Google account too
    assert set(diff) == ({SERVER, binding} if name == "default" else {SERVER})
    if name == "default":
        assert {path.split(".")[0] for path in diff[binding]} == {"subjects"}
    assert diff[SERVER] == SECURITY
    container = next(r for r in now.resources if r.key == SERVER).inputs["spec"]["template"][
        "spec"
    ]["containers"][0]
    assert container["securityContext"] == {
        "privileged": False,
        "capabilities": {"add": ["SYS_ADMIN"]},
        "appArmorProfile": {"type": "Unconfined"},
    }


def test_the_grid_token_and_binding_wait_for_the_account(
    request: pytest.FixtureRequest, onprem_kubeconfig: Path
) -> None:
    """The token controller deletes a token Secret whose account does not exist yet (an
    existing cluster: on GKE there is no token Secret)."""
    account = "kubernetes:core/v1:ServiceAccount::services-grid-submitter"
    onprem = {r.name: r for r in _rendered("onprem", request).resources}
    assert account in onprem["services-grid-submitter-token"].options.depends_on
    now = _rendered("default", request)
    by_name = {r.name: r for r in now.resources}
    assert "services-grid-submitter-token" not in by_name
    assert account in by_name["services-grid-submitter-binding"].options.depends_on
    # REANA's release waits for its volume, the volume for the server, the server its disk
    reana = by_name["services-reana"].options.depends_on
    assert "kubernetes:core/v1:PersistentVolume::services-reana-shared-volume" in reana
    assert SERVER in by_name["services-reana-shared-volume"].options.depends_on
    disk = "kubernetes:core/v1:PersistentVolumeClaim::services-nfs-disk"
    assert disk in by_name["services-nfs-server"].options.depends_on


def _key(body: dict[str, Any]) -> tuple[str, str, str]:
    meta = body.get("metadata") or {}
    return (str(body.get("kind")), meta.get("namespace") or "", meta["name"])


@pytest.mark.parametrize("name", ["default", "onprem"])
def test_the_program_applies_the_plans_manifests_and_nothing_else(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Every Kubernetes object the program declares is one the Plan lists (so `render`, the
    policy and `check` see it), or one of the typed things the Plan holds: namespaces,
    priority classes, Secrets of generated values, the hub's OIDC Secret, a chart object's
    patch, Helm releases. And every manifest the Plan lists is declared."""
    if name == "onprem":
        request.getfixturevalue("onprem_kubeconfig")
    plan = analyse(PROFILES / f"{name}.yaml").plan
    now = render(plan)
    services = plan.services
    declared = {
        _key(r.inputs)
        for r in now.resources
        if r.type.startswith("kubernetes:")
        and r.type not in ("kubernetes:helm.sh/v3:Release",)
        and not r.name.startswith("services-read-")  # a read of a Secret a Job wrote
    }
    typed = {("Namespace", "", ns) for ns in services.namespaces}
    typed |= {("PriorityClass", "", pc.name) for pc in services.priority_classes}
    typed |= {("Secret", s.namespace, s.name) for s in services.generated_secrets}
    typed |= {_key(patch.manifest) for patch in services.patches}
    if services.oidc_secret is not None and "env" in services.oidc_secret:
        typed.add(("Secret", services.release("jupyterhub").namespace, "jupyterhub-oidc"))
    listed = {_key(body) for body in services.manifests}
    assert declared - typed == listed
