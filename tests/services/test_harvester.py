"""The grid site as PanDA Harvester's Kubernetes plugin uses it.

What Harvester expects, read from its sources (HSF/harvester master,
pandaharvester/harvestermisc/k8s_utils.py, harvestercredmanager/k8s_secret_cred_manager.py,
harvestermisc/info_utils_k8s.py; PanDAWMS/harvester_configurations K8S/): it names each Job
``<template name>-<workerID>``; keeps one container; sizes the volume named ``pilot-dir``
mounted at the queue's pilot dir (default ``/pilotdir``); its credential manager writes the
proxy and PanDA tokens to the Secret ``proxy-secret`` (default ``secret_name``), read at the
submitter's ``tokenDir``; ATLAS's templates mount each CVMFS repository at
``/cvmfs/<repo>`` from the claim ``csi-cvmfs-<name>-pvc``.
"""

from __future__ import annotations

from typing import Any

import pytest

from gridcloud.plan import Plan
from gridcloud.render import Rendered
from gridcloud.render.validate import cluster_version

#: The Kubernetes calls k8s_utils.py makes, as RBAC (verb, resource).
HARVESTER_CALLS = {
    "create_namespaced_job": ("create", "jobs"),
    "list_namespaced_job": ("list", "jobs"),
    "delete_namespaced_job": ("delete", "jobs"),
    "list_namespaced_pod": ("list", "pods"),
    "delete_namespaced_pod": ("delete", "pods"),
    "read_namespaced_pod_log": ("get", "pods/log"),
    "create_namespaced_config_map": ("create", "configmaps"),
    "patch_namespaced_config_map": ("patch", "configmaps"),
    "delete_namespaced_config_map": ("delete", "configmaps"),
    "create_namespaced_secret": ("create", "secrets"),
    "patch_namespaced_secret": ("patch", "secrets"),
}

SITES = ("default", "onprem", "default/europe-west4")


def _site(plans: dict[str, Plan], name: str) -> Any:
    site = plans[name].services.grid_site
    assert site is not None
    return site


@pytest.mark.parametrize("name", SITES)
def test_the_job_template_mounts_what_harvester_and_the_pilot_expect(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    site = _site(plans, name)
    job = site.job_template
    assert job["metadata"]["name"] == "grid-job"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/pilotdir"]["name"]]
    assert mounts["/pilotdir"]["name"] == "pilot-dir"
    assert volumes[mounts["/proxy"]["name"]]["secret"]["secretName"] == "proxy-secret"
    tokens = next(iter(site.harvester_queue.values()))["submitter"]["tokenDir"]
    assert tokens == "/proxy"
    # every repository at /cvmfs/<repo>, from a claim the install makes in the namespace,
    # of a class that mounts that repository
    objects = [m.body for r in rendered[name] for m in r.manifests]
    classes = {o["metadata"]["name"]: o for o in objects if o["kind"] == "StorageClass"}
    claims = {
        o["metadata"]["name"]: o
        for o in objects
        if o["kind"] == "PersistentVolumeClaim" and o["metadata"].get("namespace") == site.namespace
    }
    repositories = list(site.cvmfs_claims)
    assert repositories
    for repo in repositories:
        volume = volumes[mounts[f"/cvmfs/{repo}"]["name"]]
        claim = claims[volume["persistentVolumeClaim"]["claimName"]]
        assert claim["metadata"]["name"] == f"csi-cvmfs-{repo.split('.')[0]}-pvc"
        storage_class = classes[claim["spec"]["storageClassName"]]
        assert storage_class["provisioner"] == "cvmfs.csi.cern.ch"
        assert storage_class["parameters"] == {"repository": repo}
        assert mounts[f"/cvmfs/{repo}"]["readOnly"] is True


@pytest.mark.parametrize("name", SITES)
def test_the_job_template_is_a_valid_job(name: str, plans: dict[str, Plan]) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(
        _site(plans, name).job_template, cluster_version(plans[name]), strict=True
    )


@pytest.mark.parametrize("name", SITES)
def test_the_submitter_may_do_what_harvester_does_and_no_more(
    name: str, plans: dict[str, Plan]
) -> None:
    """What the submitter's token may do: the rules of the Roles its RoleBindings grant it,
    among the objects gridcloud applies (a Role nobody is bound to grants nothing)."""
    site = _site(plans, name)
    manifests = plans[name].services.manifests
    account = {"kind": "ServiceAccount", "name": site.service_account, "namespace": site.namespace}
    granted = {
        b["roleRef"]["name"]
        for b in manifests
        if b["kind"] == "RoleBinding" and account in b["subjects"]
    }
    allowed = {
        (verb, resource)
        for role in manifests
        if role["kind"] == "Role"
        and role["metadata"]["name"] in granted
        and role["metadata"]["namespace"] == site.namespace
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    needed = set(HARVESTER_CALLS.values())
    assert needed <= allowed, needed - allowed
    # beyond Harvester's calls: reading back what it made, and watching its Jobs
    extra = allowed - needed
    assert {verb for verb, _ in extra} <= {"get", "watch", "list", "delete", "create", "patch"}
    assert not any(
        resource in {"nodes", "namespaces", "roles", "rolebindings"} for _, resource in allowed
    )


def test_the_queue_configuration_points_harvester_at_the_site(plans: dict[str, Plan]) -> None:
    site = _site(plans, "default")
    ((queue, entry),) = site.harvester_queue.items()
    assert queue == "ATLAS_GCP_K8S"  # from the facility's name, atlas-gcp
    assert entry["templateQueueName"] == "production.pull"
    assert entry["submitter"]["module"] == "pandaharvester.harvestersubmitter.k8s_submitter"
    assert entry["monitor"]["name"] == "K8sMonitor"
    assert entry["sweeper"]["name"] == "K8sSweeper"
    assert entry["common"] == {
        "k8s_yaml_file": "/data/atlpan/k8_configs/atlas-gcp-job.yaml",
        "k8s_config_file": "/data/atlpan/k8_configs/atlas-gcp-kubeconfig",
        "k8s_namespace": "grid",
    }
    # the core quota (96,000) in 8-core pilots
    assert entry["maxWorkers"] == 12000


def test_two_repositories_with_one_short_name_are_refused(make_plan: Any) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["services"]["gridSite"]["cvmfs"] = {
            "repositories": ["atlas.cern.ch", "atlas.example.org"]
        }

    with pytest.raises(PlanError, match="csi-cvmfs-atlas-pvc"):
        make_plan(edit)
