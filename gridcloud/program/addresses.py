"""The global static IP addresses of the facility's HTTPS entry points (``plan.services.
ingresses``): reserved apart from the Ingresses, so a DNS record survives their re-creation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from gridcloud.program.naming import child_of

if TYPE_CHECKING:
    from gridcloud.plan import Plan


class Addresses(pulumi.ComponentResource):
    addresses: dict[str, gcp.compute.GlobalAddress]
    """By hostname."""

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gridcloud:network:Addresses", name, None, opts)
        assert plan.cluster is not None
        assert plan.target.provider == "gcp"
        self.addresses = {
            entry.hostname: gcp.compute.GlobalAddress(
                f"{name}-{entry.service}",
                name=entry.address,
                project=plan.target.project,
                address_type="EXTERNAL",
                ip_version="IPV4",
                description=f"HTTPS entry point of {entry.hostname}",
                labels=dict(plan.cluster.resource_labels),
                opts=child_of(self),
            )
            for entry in plan.services.ingresses
            if entry.address is not None
        }
        self.register_outputs({})
