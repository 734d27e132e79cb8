"""Names of cloud resources, decided once.

Pulumi resource names (the first argument) are kebab-case and stable: renaming one replaces
the cloud resource, so a rename needs an ``aliases`` entry. GCP names get the facility's
name as prefix so that two facilities share a project without clashing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridcloud.plan import Plan

#: Secondary range names on the subnet, read by the cluster's IP allocation policy.
POD_RANGE_NAME = "pods"
SERVICE_RANGE_NAME = "services"

#: Labels on every GCP resource that takes labels (billing export groups by them).
MANAGED_BY = {"managed-by": "gridcloud"}


def gcp_name(plan: Plan, role: str) -> str:
    """``<facility>-<role>``, the name a GCP resource gets."""
    return f"{plan.name}-{role}"


def resource_labels(plan: Plan) -> dict[str, str]:
    return {**MANAGED_BY, "gridcloud-facility": plan.name}
