"""The facility bucket and the account Rucio signs its URLs as: a translation of
:class:`gridcloud.plan.data.DataPlan`.

Property names are pulumi_gcp's (terraform-provider-google's ``google_storage_bucket``):
``name``, ``location`` and ``project`` force a new bucket (tests/program/replacement); the
lifecycle rules, versioning, labels and access settings are updated in place.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.plan.data import BucketPlan, LifecyclePlan, RucioPlan


def namespace_principals(project: str, namespace: str, number: str) -> str:
    """Every Kubernetes service account of ``namespace`` in the project's GKE workload
    identity pool, as an IAM principal set (Workload Identity Federation for GKE)."""
    return (
        f"principalSet://iam.googleapis.com/projects/{number}/locations/global/"
        f"workloadIdentityPools/{project}.svc.id.goog/namespace/{namespace}"
    )


def _rule(rule: LifecyclePlan) -> gcp.storage.BucketLifecycleRuleArgs:
    return gcp.storage.BucketLifecycleRuleArgs(
        action=gcp.storage.BucketLifecycleRuleActionArgs(
            type=rule.action, storage_class=rule.storage_class
        ),
        condition=gcp.storage.BucketLifecycleRuleConditionArgs(
            age=rule.age_days,
            matches_prefixes=list(rule.matches_prefix) or None,
        ),
    )


class FacilityStorage(pulumi.ComponentResource):
    """The bucket; with Rucio, its signing account (object admin on this bucket only). The
    account's key is not made here: the Rucio administrators create it straight into their
    server's configuration (docs/data.md), so it is in no state, output or file of gridcloud."""

    bucket: gcp.storage.Bucket
    rucio_account: gcp.serviceaccount.Account | None = None

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:storage:FacilityStorage", name, None, opts)
        assert plan.target.provider == "gcp"
        assert plan.cluster is not None
        assert plan.data is not None
        spec: BucketPlan | None = plan.data.bucket
        assert spec is not None
        project = plan.target.project
        child = child_of(self)
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=spec.name,
            project=project,
            location=spec.location,
            storage_class=spec.storage_class,
            uniform_bucket_level_access=spec.uniform_bucket_level_access,
            public_access_prevention=spec.public_access_prevention,
            versioning=gcp.storage.BucketVersioningArgs(enabled=spec.versioning),
            lifecycle_rules=[_rule(r) for r in spec.lifecycle],
            labels=dict(plan.cluster.resource_labels),
            force_destroy=spec.force_destroy,
            opts=child,
        )
        outputs: dict[str, object] = {"bucket": self.bucket.name}
        if plan.data.workload_access:
            # Workload Identity Federation for GKE: every pod of the namespace, as itself
            number = gcp.organizations.get_project_output(project_id=project).number
            for access in plan.data.workload_access:
                gcp.storage.BucketIAMMember(
                    f"{name}-{access.namespace}-pods",
                    bucket=self.bucket.name,
                    role=access.role,
                    member=number.apply(partial(namespace_principals, project, access.namespace)),
                    opts=child,
                )
        rucio: RucioPlan | None = plan.data.rucio
        if rucio is not None:
            self.rucio_account = gcp.serviceaccount.Account(
                f"{name}-rucio-account",
                account_id=rucio.account_id,
                display_name=f"gridcloud {plan.name} Rucio URL signing",
                project=project,
                opts=child,
            )
            member = self.rucio_account.email.apply(lambda email: f"serviceAccount:{email}")
            gcp.storage.BucketIAMMember(
                f"{name}-rucio-objects",
                bucket=self.bucket.name,
                role=rucio.bucket_role,
                member=member,
                opts=child,
            )
            outputs["rucio_account"] = self.rucio_account.email
        self.register_outputs(outputs)
