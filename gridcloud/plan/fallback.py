"""Spot with fallback: a pool's demand falls back through an ordered list of shapes.

A pool with ``fallback`` (gridcloud/profile/fallback.py) becomes a GKE custom ComputeClass
(``cloud.google.com/v1``) whose rules are the pool's own shape, then each fallback shape in
the profile's order. Every rule is served by a real node pool the Plan sizes (``<pool>-f1``,
``<pool>-f2``, ...), each large enough to hold the pool's whole demand on its own shape,
starting at zero nodes. So:

- the cap sees every node pool the class can use, and scales each to zero;
- ``nodePoolAutoCreation.enabled: false``: GKE never creates a pool of its own for the
  class, which the cap would not know and could not zero;
- ``whenUnsatisfiable: DoNothing``, always written: when no rule has capacity the pods wait,
  no node outside the rules is made;
- ``activeMigration.optimizeRulePriority: false``: GKE does not replace a running node of a
  lower rule by one of a higher rule (that would evict the pilots on it);
- the nodes carry the class's label ``cloud.google.com/compute-class: NAME`` and taint
  ``cloud.google.com/compute-class=NAME:NoSchedule``; pods select the class (its label) and
  tolerate the taint, and land on whichever rule's pool GKE scales.

The estimate prices the class's peak at its most expensive rule (:func:`class_members`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.errors import PlanError
from gridcloud.plan.model import ComputeClassPlan, ComputeClassRule, Taint

if TYPE_CHECKING:
    from gridcloud.catalog import Catalog
    from gridcloud.plan.model import Plan, PoolPlan
    from gridcloud.profile.models import Pool

#: The node label and taint key GKE reads a ComputeClass from.
CLASS_LABEL = "cloud.google.com/compute-class"


def class_name(pool: str) -> str:
    return f"gridcloud-{pool}"


def shape_pool_name(pool: str, index: int) -> str:
    """The node pool of the ``index``-th fallback shape (from 1)."""
    return f"{pool}-f{index}"


def class_taint(name: str) -> Taint:
    return Taint(key=CLASS_LABEL, value=name)


def _in_class(pool: PoolPlan, name: str, *, selector: bool) -> PoolPlan:
    """``pool`` with the class's label and taint; ``selector``: pods select the class."""
    update: dict[str, object] = {
        "labels": {**pool.labels, CLASS_LABEL: name},
        "taints": (*pool.taints, class_taint(name)),
        "compute_class": name,
    }
    if selector:
        update["node_selector"] = {CLASS_LABEL: name}
    return pool.model_copy(update=update)


def with_fallbacks(
    pools: tuple[PoolPlan, ...],
    profile_pools: list[Pool],
    catalog: Catalog,
    warnings: list[str] | None = None,
) -> tuple[tuple[PoolPlan, ...], tuple[ComputeClassPlan, ...]]:
    """The Plan's pools with each fallback shape's pool after its own pool, and the classes.

    ``pools`` are the planned pools (the control pool first), ``profile_pools`` the profile's;
    what the Plan should say goes to ``warnings``.
    """
    from gridcloud.plan.pools import plan_pool_gcp

    by_name = {p.name: p for p in profile_pools}
    taken = {p.name for p in pools}
    result: list[PoolPlan] = []
    classes: list[ComputeClassPlan] = []
    for planned in pools:
        source = by_name.get(planned.name)
        if source is None or source.fallback is None:
            result.append(planned)
            continue
        if any(t.effect == "PreferNoSchedule" for t in planned.taints):
            raise PlanError(
                f"pool '{source.name}': REANA's runtime pool takes no fallback shapes: REANA "
                "0.9's job pods carry no tolerations, and a compute class taints its nodes",
                hint="remove fallback from it, or give REANA another runtime pool",
            )
        if source.kind != "cpu":
            raise PlanError(
                f"pool '{source.name}': fallback shapes are for cpu pools ({source.kind} pools "
                "need the same accelerator or architecture on every shape)",
                hint="remove fallback from it",
            )
        name = class_name(source.name)
        cores = planned.max_cores or 0
        rules = [
            ComputeClassRule(
                pool=planned.name, machine_type=source.machine_type or "", spot=planned.spot
            )
        ]
        members = [_in_class(planned, name, selector=True)]
        for index, shape in enumerate(source.fallback.shapes, start=1):
            machine = catalog.machine(shape.machine_type)
            if machine is None:
                raise PlanError(
                    f"pool '{source.name}': fallback machine type {shape.machine_type} is not "
                    "in the catalog",
                    hint="`gridcloud catalog` lists the machine types",
                )
            if machine.arch != "amd64" or machine.bundled_gpu or machine.shared_cpu:
                raise PlanError(
                    f"pool '{source.name}': fallback {machine.name} is not a plain amd64 "
                    "machine type like the pool's",
                    hint="fall back to x86 machine types without GPUs",
                )
            if (shape.machine_type, shape.spot) == (source.machine_type, source.spot):
                raise PlanError(
                    f"pool '{source.name}': its fallback repeats its own shape "
                    f"({shape.machine_type}, {'spot' if shape.spot else 'on demand'})",
                )
            pool_name = shape_pool_name(source.name, index)
            if pool_name in taken:
                raise PlanError(
                    f"pool '{source.name}': its fallback pool would be named {pool_name}, "
                    "which another pool has",
                    hint="rename that pool",
                )
            zones = [z for z in planned.zones if z in machine.zones]
            if not zones:
                raise PlanError(
                    f"pool '{source.name}': fallback {machine.name} is offered in none of the "
                    f"pool's zones ({', '.join(planned.zones)})",
                    hint="pick a machine type offered there (`gridcloud catalog`)",
                )
            # the shape holds the pool's whole demand, from zero nodes
            shape_pool = source.model_copy(
                update={
                    "name": pool_name,
                    "machine_type": machine.name,
                    "spot": shape.spot,
                    "max_nodes": None,
                    "max_cores": cores,
                    "min_nodes": 0,
                    "zones": zones,
                    "fallback": None,
                }
            )
            members.append(
                _in_class(plan_pool_gcp(shape_pool, zones, catalog), name, selector=False)
            )
            rules.append(
                ComputeClassRule(pool=pool_name, machine_type=machine.name, spot=shape.spot)
            )
        # the class's pools all answer to the pool's own selector (the class label)
        selector = members[0].node_selector
        members = [
            members[0],
            *(m.model_copy(update={"node_selector": selector}) for m in members[1:]),
        ]
        result.extend(members)
        if warnings is not None:
            reach = sum(m.max_cores or 0 for m in members)
            warnings.append(
                f"pool {source.name}: its {len(members)} node pools (compute class {name}) each "
                f"hold its {cores:,} cores; the estimate and the budget gate price {cores:,} "
                f"cores at the dearest rule, but work asking for more than that (no quota on "
                f"it) could reach {reach:,} cores over them: bound it (services.gridSite."
                "maxCores for pilots)"
            )
        classes.append(
            ComputeClassPlan(
                name=name,
                pool=source.name,
                rules=tuple(rules),
                when_unsatisfiable=source.fallback.when_unsatisfiable,
                node_pool_auto_creation=False,
                optimize_rule_priority=False,
            )
        )
    return tuple(result), tuple(classes)


def refuse_fallbacks(profile_pools: list[Pool]) -> None:
    """Fallback shapes are node pools gridcloud creates: none on an existing cluster."""
    named = [p.name for p in profile_pools if p.fallback is not None]
    if named:
        raise PlanError(
            f"pool {named[0]}: fallback shapes are node pools gridcloud creates, and a "
            "kubernetes target's nodes exist already",
            hint="remove fallback from it",
        )


def class_members(plan: Plan) -> dict[str, tuple[PoolPlan, ...]]:
    """Each class's pools, by class name, in rule order."""
    found: dict[str, list[PoolPlan]] = {}
    for pool in plan.pools:
        if pool.compute_class is not None:
            found.setdefault(pool.compute_class, []).append(pool)
    return {name: tuple(pools) for name, pools in found.items()}


def peak_nodes(plan: Plan) -> int:
    """Nodes at peak: a class's demand (its pool's cores), spread over its rules in any mix,
    takes at most as many nodes as on its rule of fewest cores a node, so it counts its
    largest pool; every other pool its maximum."""
    alone = sum(p.max_nodes for p in plan.pools if p.compute_class is None)
    return alone + sum(max(p.max_nodes for p in m) for m in class_members(plan).values())
