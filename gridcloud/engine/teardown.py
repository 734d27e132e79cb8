"""``destroy``: from the stack's state alone, and nothing billed left behind.

1. The state says what the facility is (its outputs) and whether GKE would refuse
   (deletion protection): no profile is read, so a profile that no longer validates, or
   that is gone, cannot block tearing a live facility down.
2. Pulumi deletes in dependency order: Helm releases and every Kubernetes object (the
   namespaces, and with them the PersistentVolumeClaims in them) before the node pools and
   the cluster, as they all use a provider that depends on the control pool.
3. What the cluster made on its own and GKE does not delete (disks of claims, load balancer
   rules and addresses, snapshots) is listed from the project afterwards and, when confirmed,
   deleted (:mod:`gridcloud.engine.leftovers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridcloud.engine import leftovers as found_in_project
from gridcloud.engine import snapshots, stacks
from gridcloud.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from gridcloud.engine.stacks import OperationResult, StackRef


@dataclass
class Teardown:
    result: OperationResult
    leftovers: list[found_in_project.Leftover] = field(default_factory=list)
    deleted: list[found_in_project.Leftover] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = self.result.to_json()
        data["leftovers"] = [item.to_json() for item in self.leftovers]
        data["deletedLeftovers"] = [item.to_json() for item in self.deleted]
        data["failures"] = self.failures
        return data


def destroy(
    ref: StackRef,
    *,
    json_output: bool,
    confirm: Callable[[dict[str, int]], bool] | None,
    delete_leftovers: Callable[[list[found_in_project.Leftover]], bool],
    delete_backups: Callable[[list[found_in_project.Leftover]], bool] | None = None,
    shared: bool = False,
) -> Teardown:
    """Destroy the stack ``ref``; then list its leftovers and delete them if confirmed
    (``shared``: other stacks are destroyed at the same time, :func:`stacks.run`)."""
    state = stacks.require_state(ref)
    protected = state.protected_cluster()
    if protected is not None:
        location = state.facts.cluster_location or "LOCATION"
        raise InputError(
            f"cluster {protected} has deletion protection on; GKE would refuse to delete it",
            hint="set cluster.deletionProtection: false in the profile and run `gridcloud up`; "
            f"or, without the profile: `gcloud container clusters update {protected} "
            f"--location {location} --no-deletion-protection`, `gridcloud refresh --stack "
            f"{ref.name}`, then destroy",
        )
    facility = found_in_project.LeftoverScope.from_outputs(state.outputs)
    result = stacks.run(
        "destroy", None, ref, json_output=json_output, confirm=confirm, shared=shared
    )
    teardown = Teardown(result)
    if result.result != "succeeded" or facility is None:
        return teardown
    compute = found_in_project.ComputeClients()
    teardown.leftovers = found_in_project.find(facility, compute)
    # the backups' snapshots are a question of their own (engine/snapshots.py)
    doomed = snapshots.chosen(teardown.leftovers, delete_leftovers, delete_backups)
    if doomed:
        teardown.failures = found_in_project.delete(facility, doomed, compute)
        failed = {f.split(" (", 1)[0] for f in teardown.failures}
        teardown.deleted = [i for i in doomed if f"{i.kind} {i.name}" not in failed]
    return teardown
