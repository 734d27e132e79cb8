"""Resource options that follow from how GCP names resources.

Pulumi resource names (the first argument) are kebab-case and stable: renaming one replaces
the cloud resource, so a rename needs an ``aliases`` entry (tests/program/test_day_two.py
fails on a rename without one). Every name and label of a GCP resource comes from the Plan.
"""

from __future__ import annotations

import pulumi

#: A GCP resource with a fixed name cannot have its replacement created beside it (the name
#: is taken), and an IAM member replaced create-first loses its binding when the old one is
#: deleted: these resources are deleted before they are replaced.
NAMED = pulumi.ResourceOptions(delete_before_replace=True)


def child_of(parent: pulumi.Resource, *more: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """Options of a named GCP child resource of a component."""
    merged = pulumi.ResourceOptions.merge(NAMED, pulumi.ResourceOptions(parent=parent))
    for opts in more:
        merged = pulumi.ResourceOptions.merge(merged, opts)
    return merged
