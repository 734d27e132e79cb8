"""The nodes' own service account, with the least privilege a GKE node needs.

Never the default compute service account (Editor on the whole project): a node that pulls
images, writes logs and metrics needs these roles and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import gcp_name

if TYPE_CHECKING:
    from gridcloud.plan import Plan

NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)


class NodeIdentity(pulumi.ComponentResource):
    account: gcp.serviceaccount.Account

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:identity:NodeIdentity", name, None, opts)
        assert plan.target.provider == "gcp"
        project = plan.target.project
        child = pulumi.ResourceOptions(parent=self)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=gcp_name(plan, "nodes"),
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
            for role in NODE_ROLES
        ]
        self.register_outputs({"email": self.account.email})
