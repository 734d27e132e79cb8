"""The budget on Google Cloud: the Cloud Billing budget, its Pub/Sub topic, and the hard cap's
enforcer (a Cloud Function, 2nd gen, on that topic, with its own account holding a custom
role of exactly the permissions it uses). Everything comes from ``plan.budget``.

The budget counts the facility's projects (the home cluster's and every compute-only
shard's), or with ``budget.scope: label`` only what carries the facility's label (the budget
filter takes one label pair); it notifies the topic on every update (several a day), and its
threshold rules show the profile's alert thresholds on current and on forecasted spend.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.enforcer.config import (
    BUDGET_VAR,
    SETTINGS_VAR,
    CappedCluster,
    CappedPool,
    Settings,
)
from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.plan.model import BudgetPlan, CapPlan

ENFORCER_DIR = Path(__file__).resolve().parents[1] / "enforcer"
ENTRY_POINT = "on_budget_notification"
#: Cloud Functions runs ``main.py`` at the archive's root: it re-exports the entry point.
SHIM = f"from gridcloud.enforcer.main import {ENTRY_POINT}  # noqa: F401\n"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


def enforcer_sources(directory: Path | None = None) -> dict[str, bytes]:
    """The function's source, read once: the enforcer package, gridcloud's (import-free) top
    module, the shim and the requirements; nothing else of gridcloud. By archive path."""
    directory = directory or ENFORCER_DIR
    files = {
        "main.py": SHIM.encode(),
        "requirements.txt": (directory / "requirements.txt").read_bytes(),
        "gridcloud/__init__.py": (directory.parent / "__init__.py").read_bytes(),
    }
    for path in sorted(directory.glob("*.py")):
        files[f"gridcloud/enforcer/{path.name}"] = path.read_bytes()
    return dict(sorted(files.items()))


def archive_name(sources: dict[str, bytes]) -> str:
    """The storage object's name: the sources' content hash (paths in order, each path and
    its bytes length-prefixed; no timestamps, permissions or order of reading in it). New
    code, a new name: the function's source changes and Cloud Functions rebuilds it."""
    digest = hashlib.sha256()
    for path, content in sorted(sources.items()):
        for part in (path.encode(), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return f"enforcer-{digest.hexdigest()[:24]}.zip"


def enforcer_archive(sources: dict[str, bytes] | None = None) -> pulumi.AssetArchive:
    """The archive Pulumi zips and uploads: exactly the bytes the name was hashed from."""
    sources = enforcer_sources() if sources is None else sources
    return pulumi.AssetArchive(
        {path: pulumi.StringAsset(content.decode()) for path, content in sources.items()}
    )


def cap_settings(plan: Plan, cap: CapPlan) -> Settings:
    """The enforcer's settings (``GRIDCLOUD_CAP``): the cap, and every cluster of the facility
    with the pools it scales, translated from the Plan into the one model the enforcer
    reads."""
    assert plan.budget is not None
    return Settings(
        facility=plan.name,
        amount=cap.amount,
        currency=plan.budget.currency,
        lag_hours=cap.lag_hours,
        restore_on_new_period=cap.restore_on_new_period,
        label=cap.label,
        timeout_seconds=cap.timeout_seconds,
        clusters=tuple(
            CappedCluster(
                shard=c.shard,
                project=c.project,
                location=c.location,
                cluster=c.cluster,
                pools=tuple(
                    CappedPool(
                        name=p.name,
                        node_hourly=p.node_hourly,
                        total_min_nodes=p.autoscaling.total_min_nodes,
                        total_max_nodes=p.autoscaling.total_max_nodes,
                        location_policy=p.autoscaling.location_policy,
                    )
                    for p in c.pools
                ),
            )
            for c in cap.clusters
        ),
    )


class CloudBudget(pulumi.ComponentResource):
    budget: gcp.billing.Budget
    topic: gcp.pubsub.Topic
    function: gcp.cloudfunctionsv2.Function | None = None
    account: gcp.serviceaccount.Account | None = None

    def __init__(
        self,
        name: str,
        plan: Plan,
        *,
        cluster: gcp.container.Cluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gridcloud:budget:Budget", name, None, opts)
        spec = plan.budget
        assert spec is not None
        assert spec.topic is not None
        assert spec.billing_account is not None
        assert plan.cluster is not None
        assert plan.target.provider == "gcp"
        project = plan.target.project
        labels = dict(plan.cluster.resource_labels)
        child = child_of(self)
        self.topic = gcp.pubsub.Topic(
            f"{name}-topic", name=spec.topic, project=project, labels=labels, opts=child
        )
        # every project of the facility's clusters (the home one's, each shard's), by number
        numbers = [
            gcp.organizations.get_project_output(project_id=each).number.apply(
                lambda n: f"projects/{n}"
            )
            for each in spec.projects or (project,)
        ]
        self.budget = gcp.billing.Budget(
            f"{name}-budget",
            billing_account=spec.billing_account,
            display_name=spec.display_name,
            budget_filter={
                "projects": numbers,
                "calendar_period": "MONTH",
                **({"labels": dict(spec.label_filter)} if spec.label_filter else {}),
            },
            amount={
                "specified_amount": {
                    "currency_code": spec.currency,
                    "units": str(int(spec.monthly)),
                    "nanos": int((spec.monthly % 1) * 1_000_000_000),
                }
            },
            threshold_rules=threshold_rules(spec),
            all_updates_rule={
                "pubsub_topic": self.topic.id,
                "schema_version": "1.0",
            },
            opts=child,
        )
        outputs: dict[str, object] = {
            "budget": self.budget.name,
            "topic": self.topic.id,
        }
        if spec.cap is not None:
            outputs |= self._enforcer(name, plan, spec.cap, labels=labels, cluster=cluster)
        self.outputs = outputs
        self.register_outputs(outputs)

    def _enforcer(
        self,
        name: str,
        plan: Plan,
        cap: CapPlan,
        *,
        labels: dict[str, str],
        cluster: gcp.container.Cluster,
    ) -> dict[str, object]:
        assert plan.target.provider == "gcp"
        project, region = plan.target.project, plan.target.region
        child = child_of(self)
        self.account = gcp.serviceaccount.Account(
            f"{name}-enforcer-account",
            account_id=cap.account,
            display_name=f"gridcloud {plan.name} budget cap",
            project=project,
            opts=child,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        # the role and its binding in the home project and in each other project a shard's
        # cluster is in (the enforcer scales the pools there too); the home one's names bear
        # no index
        others = dict.fromkeys(c.project for c in cap.clusters if c.project != project)
        for index, where in enumerate([project, *others]):
            suffix = f"-{index}" if index else ""
            role = gcp.projects.IAMCustomRole(
                f"{name}-enforcer-role{suffix}",
                role_id=cap.role_id,
                title=f"gridcloud {plan.name} budget cap",
                description="Scale the facility's elastic pools to zero and back",
                permissions=list(cap.permissions),
                project=where,
                opts=child,
            )
            gcp.projects.IAMMember(
                f"{name}-enforcer-binding{suffix}",
                project=where,
                role=role.name,
                member=member,
                opts=child,
            )
        bucket = gcp.storage.Bucket(
            f"{name}-enforcer-source",
            name=cap.bucket,
            project=project,
            location=region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,
            labels=labels,
            opts=child,
        )
        sources = enforcer_sources()
        source = gcp.storage.BucketObject(
            f"{name}-enforcer-archive",
            bucket=bucket.name,
            name=archive_name(sources),
            source=enforcer_archive(sources),
            # named by content, so a new archive never takes the old one's name: created
            # first, the old one deleted once the function points at the new one
            opts=child_of(self, pulumi.ResourceOptions(delete_before_replace=False)),
        )
        self.function = gcp.cloudfunctionsv2.Function(
            f"{name}-enforcer",
            name=cap.function,
            project=project,
            location=region,
            description=f"gridcloud {plan.name}: scale the elastic pools to zero at the cap",
            labels=labels,
            build_config={
                "runtime": cap.runtime,
                "entry_point": ENTRY_POINT,
                "source": {"storage_source": {"bucket": bucket.name, "object": source.name}},
            },
            service_config={
                "max_instance_count": 1,  # one decision at a time
                "available_memory": "256M",
                "timeout_seconds": cap.timeout_seconds,
                "ingress_settings": "ALLOW_INTERNAL_ONLY",
                "service_account_email": self.account.email,
                "environment_variables": {
                    SETTINGS_VAR: cap_settings(plan, cap).to_json(),
                    BUDGET_VAR: self.budget.name.apply(lambda n: n.rsplit("/", 1)[-1]),
                },
            },
            event_trigger={
                "trigger_region": region,
                "event_type": PUBLISHED,
                "pubsub_topic": self.topic.id,
                "retry_policy": "RETRY_POLICY_DO_NOT_RETRY",
                "service_account_email": self.account.email,
            },
            opts=child_of(self, pulumi.ResourceOptions(depends_on=[cluster])),
        )
        # Eventarc delivers as the trigger's account: it may invoke the function's service
        gcp.cloudrun.IamMember(
            f"{name}-enforcer-invoker",
            project=project,
            location=region,
            service=self.function.name,
            role="roles/run.invoker",
            member=member,
            opts=child,
        )
        return {
            "enforcerFunction": self.function.name,
            "enforcerAccount": self.account.email,
        }


def threshold_rules(spec: BudgetPlan) -> list[gcp.billing.BudgetThresholdRuleArgsDict]:
    """Each alert threshold on current spend, and on forecasted spend."""
    return [
        {"threshold_percent": threshold, "spend_basis": basis}
        for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
        for threshold in spec.alert_thresholds
    ]
