"""The stack outputs: the contract between the program that exports them and the engine that
reads them back from the stack (``destroy``, ``status``, ``refresh``, the leftover listing, the
cap's status, the ranges a second ``up`` keeps).

:class:`StackOutputs` is the one place that names every output and its type: the key is the
field's name in camelCase (``cluster_location`` -> ``clusterLocation``), the type what the
engine reads back. The program writes through :meth:`StackOutputs.written`, which refuses a
name it does not declare; the engine reads through :meth:`StackOutputs.read`; the tests' fake
Pulumi CLI builds a stack's outputs from the model.

A key is a promise to every deployed stack: renaming one makes an existing stack unreadable
to the next gridcloud (its destroy hint, its cap status, the ranges its next ``up`` must
keep). tests/engine/test_outputs.py reads outputs recorded from an earlier stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError

from gridcloud.errors import EngineError
from gridcloud.frozen import Frozen
from gridcloud.plan.model import Deployed

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.plan import Plan

#: Marks an output the program exports as a secret (encrypted in the state, masked in status).
SECRET = {"secret": True}


class Release(Frozen):
    """A Helm release of the facility."""

    name: str
    chart: str
    version: str
    namespace: str


class StackOutputs(Frozen):
    """Every output of a gridcloud stack. All are optional on reading: a stack whose first
    ``up`` failed has none, an older one may lack later additions."""

    # what the facility is, from the Plan (:meth:`of_plan`)
    facility: str | None = None
    target: Literal["gcp", "kubernetes"] | None = None
    gridcloud_version: str | None = None
    plan_fingerprint: str | None = None
    namespaces: tuple[str, ...] | None = None
    shard: str | None = None
    """A compute-only shard's name (absent on the home cluster's stack): how ``destroy`` and
    ``status`` without ``--shard`` know the facility's shard stacks (gridcloud/engine/fleet.py)."""
    # on Google Cloud
    project: str | None = None
    region: str | None = None
    cluster_location: str | None = None
    labels: dict[str, str] | None = None
    network: Deployed | None = None
    """The ranges and max pods a later Plan must keep."""
    # on an existing cluster
    kubeconfig_path: str | None = None
    context: str | None = None
    # made by the cloud
    cluster_name: str | None = None
    cluster_endpoint: str | None = None
    kubeconfig: Annotated[str | None, Field(json_schema_extra=SECRET)] = None
    pools: tuple[str, ...] | None = None
    node_service_account: str | None = None
    addresses: dict[str, str] | None = None
    """Each hostname's static address: where its DNS A record points."""
    budget: str | None = None
    budget_topic: str | None = None
    enforcer_function: str | None = None
    enforcer_account: str | None = None
    # the services
    releases: tuple[Release, ...] | None = None
    reana_admin_token: Annotated[str | None, Field(json_schema_extra=SECRET)] = None
    grid_site_kubeconfig: Annotated[str | None, Field(json_schema_extra=SECRET)] = None
    grid_site_job_template: dict[str, Any] | None = None
    harvester_queue_config: dict[str, Any] | None = None
    # the facility bucket and Rucio's signing account (gridcloud/program/storage.py)
    data_bucket: str | None = None
    rucio_account: str | None = None

    @classmethod
    def key(cls, name: str) -> str:
        """The output's key for a field name (``cluster_location`` -> ``clusterLocation``)."""
        alias = cls.model_fields[name].alias
        assert alias is not None
        return alias

    @classmethod
    def keys(cls) -> dict[str, str]:
        """Every output's key, to its field name."""
        return {cls.key(name): name for name in cls.model_fields}

    @classmethod
    def secret_keys(cls) -> frozenset[str]:
        """The outputs exported as secrets."""
        return frozenset(
            cls.key(name) for name, f in cls.model_fields.items() if f.json_schema_extra == SECRET
        )

    @classmethod
    def written(cls, values: Mapping[str, object]) -> dict[str, object]:
        """The outputs to export (values may be Pulumi outputs), by key, from ``values`` by
        field name or by key; None values left out. A name the model does not declare is a
        bug: :class:`KeyError`."""
        keys = cls.keys()
        written: dict[str, object] = {}
        for name, value in values.items():
            if name in cls.model_fields:
                key = cls.key(name)
            elif name in keys:
                key = name
            else:
                raise KeyError(
                    f"stack output {name!r} is not declared in gridcloud/plan/outputs.py"
                )
            if value is not None:
                written[key] = value
        return written

    @classmethod
    def read(cls, outputs: Mapping[str, Any]) -> StackOutputs:
        """What a stack's outputs say; keys this gridcloud does not declare (a newer one's)
        are left out. Raises :class:`EngineError` when a declared output is not of its type."""
        known = cls.keys()
        try:
            return cls.model_validate({k: v for k, v in outputs.items() if k in known})
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise EngineError(
                f"the stack's output {where} is not what gridcloud wrote: {problem['msg']}",
                hint="`gridcloud status` shows the outputs; `gridcloud up` writes them again",
            ) from exc

    @classmethod
    def of_plan(cls, plan: Plan) -> StackOutputs:
        """The outputs a Plan decides: what lets the engine work from the stack alone, and
        what a second ``up`` must keep."""
        from gridcloud import __version__

        common: dict[str, Any] = {
            "facility": plan.name,
            "target": plan.target.provider,
            "gridcloud_version": __version__,
            "plan_fingerprint": plan.fingerprint,
            "namespaces": tuple(plan.services.namespaces),
            "shard": plan.shard,
        }
        if plan.target.provider != "gcp":
            return cls(
                **common, kubeconfig_path=plan.target.kubeconfig, context=plan.target.context
            )
        assert plan.cluster is not None
        assert plan.network is not None
        network = plan.network
        return cls(
            **common,
            project=plan.target.project,
            region=plan.target.region,
            cluster_location=plan.cluster.location,
            labels=dict(plan.cluster.resource_labels),
            network=Deployed(
                max_pods_per_node=network.max_pods_per_node,
                subnet_range=network.subnet_range,
                pod_range=network.pod_range,
                service_range=network.service_range,
            ),
        )

    def exported(self) -> dict[str, Any]:
        """As the stack holds them (JSON, by key; absent ones left out)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data
