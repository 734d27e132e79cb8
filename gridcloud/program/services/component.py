"""The ``Services`` component: a mechanical translation of ``plan.services``."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_kubernetes as k8s

from gridcloud.plan import multikueue
from gridcloud.plan.services.jupyter import OIDC_SECRET_KEY, OIDC_SECRET_NAME
from gridcloud.program.services.custom import TOP_LEVEL_KINDS, TopLevelObject
from gridcloud.program.services.kubeconfig import gke_exec_kubeconfig, token_kubeconfig
from gridcloud.program.services.secrets import (
    from_environment,
    generated_password,
    values_with_secrets,
)

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.plan.services.model import (
        GeneratedSecret,
        GridSitePlan,
        ReleasePlan,
        SecretOutput,
        SharedStoragePlan,
    )

#: The kinds of the Plan's own objects, and the resource that creates each.
OBJECT_KINDS: dict[tuple[str, str], Any] = {
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("storage.k8s.io/v1", "StorageClass"): k8s.storage.v1.StorageClass,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("v1", "PersistentVolume"): k8s.core.v1.PersistentVolume,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
}
#: GKE's own custom kinds (its load balancer's certificate, frontend and backend settings).
CUSTOM_KINDS = frozenset(
    {
        ("networking.gke.io/v1", "ManagedCertificate"),
        ("networking.gke.io/v1beta1", "FrontendConfig"),
        ("cloud.google.com/v1", "BackendConfig"),
    }
    # Kueue's, with MultiKueue (plan/multikueue.py): its chart installs their CRDs
    | {(multikueue.API, kind) for kind in multikueue.KINDS}
)
#: Patches of objects a chart creates, by kind.
PATCH_KINDS: dict[tuple[str, str], Any] = {
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJobPatch,
    ("apps/v1", "Deployment"): k8s.apps.v1.DeploymentPatch,
    ("v1", "Service"): k8s.core.v1.ServicePatch,
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    """An object's top-level fields as the resource's arguments (nested maps go as they
    are: the provider receives Kubernetes' own field names)."""
    return {_snake(k): v for k, v in body.items() if k not in ("apiVersion", "kind")}


class Services(pulumi.ComponentResource):
    """Everything the facility runs on Kubernetes, through ``provider``."""

    def __init__(
        self,
        name: str,
        plan: Plan,
        *,
        provider: k8s.Provider,
        api_server: pulumi.Input[str],
        ca_data: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gridcloud:services:Services", name, None, opts)
        self.facility = plan.name
        self.plan = plan.services
        self.k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        self.namespaces = {
            ns: k8s.core.v1.Namespace(
                f"{name}-namespace-{ns}",
                metadata={"name": ns, "labels": {"app.kubernetes.io/managed-by": "gridcloud"}},
                opts=self.k8s_opts,
            )
            for ns in self.plan.namespaces
        }
        for pc in self.plan.priority_classes:
            k8s.scheduling.v1.PriorityClass(
                f"{name}-priority-{pc.name}",
                metadata={"name": pc.name},
                value=pc.value,
                preemption_policy=pc.preemption_policy,
                global_default=False,
                description=pc.description,
                opts=self.k8s_opts,
            )
        prerequisites: dict[str, list[pulumi.Resource]] = {}
        if self.plan.shared_storage is not None:
            prerequisites["reana"] = self._shared_storage(name, self.plan.shared_storage)
        oidc = self.plan.oidc_secret
        if oidc is not None and "env" in oidc:
            prerequisites["jupyterhub"] = [self._oidc_secret(name, oidc["env"])]
        for generated in self.plan.generated_secrets:
            self._generated_secret(name, generated)
        for body in self.plan.objects:
            self._object(name, body)
        self.releases = {
            release.name: self._release(name, release, prerequisites.get(release.name, []))
            for release in self.plan.releases
        }
        for patch in self.plan.patches:
            self._patch(name, patch.manifest, self.releases[patch.release])
        made: dict[tuple[str, str, str], pulumi.CustomResource] = {}
        for entry in self.plan.after_release:
            for body in entry.manifests:
                meta = body["metadata"]
                made[(body["kind"], meta.get("namespace", ""), meta["name"])] = self._object(
                    name, body, after=[self.releases[entry.release]]
                )
        self.outputs: dict[str, Any] = {
            "releases": [
                {"name": r.name, "chart": r.chart, "version": r.version, "namespace": r.namespace}
                for r in self.plan.releases
            ]
        }
        for wanted in self.plan.secret_outputs:
            self.outputs[wanted.output] = self._read_back(
                name, wanted, made[("Job", wanted.namespace, wanted.job)]
            )
        if self.plan.grid_site is not None:
            self.outputs.update(self._grid_site(name, self.plan.grid_site, api_server, ca_data))
        self.register_outputs(self.outputs)

    def _namespaced(self, namespace: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(
            self.k8s_opts, pulumi.ResourceOptions(depends_on=[self.namespaces[namespace]])
        )

    def _object(
        self, name: str, body: dict[str, Any], after: list[pulumi.Resource] | None = None
    ) -> pulumi.CustomResource:
        metadata = body["metadata"]
        namespace = metadata.get("namespace")
        key = (body["apiVersion"], body["kind"])
        opts = self._namespaced(namespace) if namespace else self.k8s_opts
        if after:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after))
        where = f"{namespace}-" if namespace else ""
        resource_name = f"{name}-{body['kind'].lower()}-{where}{metadata['name']}"
        if key in TOP_LEVEL_KINDS:  # GKE's snapshot class (backups)
            return TopLevelObject(resource_name, body, opts)
        if key in CUSTOM_KINDS:
            return k8s.apiextensions.CustomResource(
                resource_name,
                api_version=key[0],
                kind=key[1],
                **{k: v for k, v in body.items() if k not in ("apiVersion", "kind")},
                opts=opts,
            )
        return OBJECT_KINDS[key](  # type: ignore[no-any-return]
            resource_name, **_fields(body), opts=opts
        )

    def _generated_secret(self, name: str, plan: GeneratedSecret) -> k8s.core.v1.Secret:
        """A Secret of generated values (kept encrypted in the state) and literal ones."""
        data: dict[str, pulumi.Input[str]] = dict(plan.literal)
        for key in plan.generated:
            data[key] = generated_password(f"{name}-{plan.name}-{key}", plan.length, self)
        return k8s.core.v1.Secret(
            f"{name}-secret-{plan.namespace}-{plan.name}",
            metadata={"name": plan.name, "namespace": plan.namespace},
            string_data=data,
            opts=self._namespaced(plan.namespace),
        )

    def _read_back(
        self, name: str, wanted: SecretOutput, job: pulumi.CustomResource
    ) -> pulumi.Output[str]:
        """A value a Job wrote into a Secret, read once the Job has completed (its ID is
        unknown until then, so a first preview skips the read), as a secret output."""
        secret = k8s.core.v1.Secret.get(
            f"{name}-read-{wanted.namespace}-{wanted.secret}",
            job.id.apply(lambda _: f"{wanted.namespace}/{wanted.secret}"),
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_opts.provider),
        )
        return pulumi.Output.secret(
            secret.data.apply(
                lambda data: base64.b64decode((data or {}).get(wanted.key, "")).decode()
            )
        )

    def _patch(
        self, name: str, body: dict[str, Any], release: k8s.helm.v3.Release
    ) -> pulumi.CustomResource:
        metadata = body["metadata"]
        resource = PATCH_KINDS[(body["apiVersion"], body["kind"])]
        return resource(  # type: ignore[no-any-return]
            f"{name}-patch-{metadata['namespace']}-{metadata['name']}",
            **_fields(body),
            opts=pulumi.ResourceOptions.merge(
                self.k8s_opts, pulumi.ResourceOptions(depends_on=[release])
            ),
        )

    def _release(
        self, name: str, release: ReleasePlan, after: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        opts = pulumi.ResourceOptions.merge(
            self._namespaced(release.namespace), pulumi.ResourceOptions(depends_on=after)
        )
        return k8s.helm.v3.Release(
            f"{name}-{release.name}",
            name=release.name,
            chart=release.chart,
            version=release.version,
            repository_opts={"repo": release.repository} if release.repository else None,
            namespace=release.namespace,
            values=values_with_secrets(release, self),
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            opts=opts,
        )

    def _oidc_secret(self, name: str, variable: str) -> k8s.core.v1.Secret:
        namespace = self.plan.release("jupyterhub").namespace
        return k8s.core.v1.Secret(
            f"{name}-jupyterhub-oidc",
            metadata={"name": OIDC_SECRET_NAME, "namespace": namespace},
            string_data={OIDC_SECRET_KEY: from_environment(variable)},
            opts=self._namespaced(namespace),
        )

    def _apply(
        self, resource_name: str, body: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> pulumi.CustomResource:
        """One of the Plan's manifests, as it is, under ``resource_name``."""
        kind = OBJECT_KINDS[(body["apiVersion"], body["kind"])]
        return kind(resource_name, **_fields(body), opts=opts)  # type: ignore[no-any-return]

    def _shared_storage(self, name: str, storage: SharedStoragePlan) -> list[pulumi.Resource]:
        """REANA's NFS server, its disk and Service, and the volume REANA's claim binds to,
        each after the one before; the volume's server is the Service's cluster IP, read
        back. The resource names are the ones these objects had before the Plan held them
        (a new name would replace them)."""
        opts = self._namespaced(storage.namespace)
        disk = self._apply(
            f"{name}-nfs-disk",
            storage.disk,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="20m"))
            ),
        )
        server = self._apply(
            f"{name}-nfs-server",
            storage.server,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[disk])),
        )
        service = cast(
            "k8s.core.v1.Service", self._apply(f"{name}-nfs-service", storage.service, opts)
        )
        spec = storage.volume["spec"]
        volume = {
            **storage.volume,
            "spec": {**spec, "nfs": {**spec["nfs"], "server": service.spec.cluster_ip}},
        }
        made = self._apply(
            f"{name}-reana-shared-volume",
            volume,
            pulumi.ResourceOptions.merge(
                self.k8s_opts, pulumi.ResourceOptions(depends_on=[server])
            ),
        )
        return [made]

    def _grid_site(
        self,
        name: str,
        site: GridSitePlan,
        api_server: pulumi.Input[str],
        ca_data: pulumi.Input[str],
    ) -> dict[str, Any]:
        """The submitter's account, Role, binding, quota and token as the Plan writes them
        (under the names they had before the Plan held them); the kubeconfig from the token
        the cluster fills in."""
        ns = site.namespace
        opts = self._namespaced(ns)
        account = self._apply(f"{name}-grid-submitter", site.account, opts)
        role = self._apply(f"{name}-grid-submitter-role", site.role, opts)
        self._apply(
            f"{name}-grid-submitter-binding",
            site.binding,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[account, role])),
        )
        if site.quota is not None:
            self._apply(f"{name}-grid-quota", site.quota, opts)
        google = site.google
        if google is not None:
            # GKE: no token stored; the exec plugin mints short-lived ones on the Harvester host
            kubeconfig = pulumi.Output.all(api_server, ca_data).apply(
                lambda args: gke_exec_kubeconfig(
                    f"{self.facility}-grid", str(args[0]), str(args[1]), ns, google.credentials
                )
            )
        else:
            assert site.token is not None
            token = cast(
                "k8s.core.v1.Secret",
                self._apply(
                    f"{name}-grid-submitter-token",
                    site.token,
                    pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(depends_on=[account])
                    ),
                ),
            )
            kubeconfig = pulumi.Output.all(api_server, ca_data, token.data).apply(
                lambda args: token_kubeconfig(
                    f"{self.facility}-grid",
                    str(args[0]),
                    str(args[1]),
                    ns,
                    base64.b64decode((args[2] or {}).get("token", "")).decode(),
                )
            )
        return {
            "gridSiteKubeconfig": pulumi.Output.secret(kubeconfig),
            "gridSiteJobTemplate": site.job_template,
            "harvesterQueueConfig": site.harvester_queue,
        }
