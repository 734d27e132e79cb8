"""MultiKueue's Google identity, on the home stack: the service account whose one-hour tokens
the manager's credentials CronJob writes into the worker kubeconfigs, who may mint them, and
its role on each worker's project (plan/multikueue.py decides all three).

Kueue itself, its objects and the CronJob are the services' (the Plan's releases and
objects, applied by program/services); the workers' RBAC is in each shard's own stack.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan

#: The namespace of Kueue and of the credentials CronJob (plan/multikueue.py).
NAMESPACE = "kueue-system"


def account_principal(project: str, namespace: str, account: str, number: str) -> str:
    """One Kubernetes service account of the project's GKE workload identity pool, as an
    IAM principal (Workload Identity Federation for GKE)."""
    return (
        f"principal://iam.googleapis.com/projects/{number}/locations/global/"
        f"workloadIdentityPools/{project}.svc.id.goog/subject/ns/{namespace}/sa/{account}"
    )


class MultiKueueIdentity(pulumi.ComponentResource):
    account: gcp.serviceaccount.Account

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:multikueue:Identity", name, None, opts)
        assert plan.target.provider == "gcp"
        assert plan.multikueue is not None
        multikueue = plan.multikueue
        project = plan.target.project
        child = child_of(self)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=multikueue.account,
            display_name=f"gridcloud {plan.name} MultiKueue manager (one-hour tokens)",
            project=project,
            opts=child,
        )
        number = gcp.organizations.get_project_output(project_id=project).number
        # the CronJob's Kubernetes account, and it alone, may mint this account's tokens
        self.token_creator = gcp.serviceaccount.IAMMember(
            f"{name}-token-creator",
            service_account_id=self.account.name,
            role="roles/iam.serviceAccountTokenCreator",
            member=number.apply(
                partial(
                    account_principal,
                    project,
                    NAMESPACE,
                    multikueue.credentials_service_account,
                )
            ),
            opts=child,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        projects = sorted({w.project for w in multikueue.workers})
        self.worker_roles = [
            gcp.projects.IAMMember(
                f"{name}-{worker_project}-{role.removeprefix('roles/').replace('.', '-').lower()}",
                project=worker_project,
                role=role,
                member=member,
                opts=child,
            )
            for worker_project in projects
            for role in multikueue.worker_roles
        ]
        self.register_outputs({"email": self.account.email})
