"""The nodes' own service account, with the project roles the Plan gives it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan


class NodeIdentity(pulumi.ComponentResource):
    account: gcp.serviceaccount.Account

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:identity:NodeIdentity", name, None, opts)
        assert plan.target.provider == "gcp"
        assert plan.cluster is not None
        project = plan.target.project
        child = child_of(self)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=plan.cluster.names.node_account,
            display_name=f"gridcloud {plan.name} GKE nodes",
            project=project,
            opts=child,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        self.bindings = [
            gcp.projects.IAMMember(
                f"{name}-{role.removeprefix('roles/').replace('.', '-').lower()}",
                project=project,
                role=role,
                member=member,
                opts=child,
            )
            for role in plan.cluster.node_roles
        ]
        self.register_outputs({"email": self.account.email})


class HarvesterIdentity(pulumi.ComponentResource):
    """The Harvester host's Google service account on the stack's project, with only what
    reaching the cluster's API takes; the grid site's RoleBinding grants it the submitter's
    Role (gridcloud/plan/services/grid_site.py). No key is made: the host gets its tokens
    through Workload Identity Federation, or as the account of a Google Cloud host."""

    account: gcp.serviceaccount.Account

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:identity:HarvesterIdentity", name, None, opts)
        site = plan.services.grid_site
        assert site is not None
        assert site.google is not None
        google = site.google
        child = child_of(self)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=google.account,
            display_name=f"gridcloud {plan.name} PanDA Harvester",
            project=google.project,
            opts=child,
        )
        self.bindings = [
            gcp.projects.IAMMember(
                f"{name}-{role.removeprefix('roles/').replace('.', '-').lower()}",
                project=google.project,
                role=role,
                member=f"serviceAccount:{google.email}",
                opts=child_of(self, pulumi.ResourceOptions(depends_on=[self.account])),
            )
            for role in google.roles
        ]
        self.register_outputs({"email": self.account.email})
