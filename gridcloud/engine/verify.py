"""After a deploy: does the cluster hold what the Plan says (Nebari's post-deploy stage
checks)? Read-only, through the official ``kubernetes`` client with the stack's own
kubeconfig output.

Checks, each ``ok``, ``warn`` or ``fail`` with what to do (the model of ``gridcloud check``):

- ``stack``: the stack was last deployed from this Plan (its fingerprint output);
- ``cluster``: the API server answers with the stack's credentials;
- ``namespaces``: every namespace of the Plan exists;
- ``workloads``: every Deployment and StatefulSet in them has its replicas ready, and every
  DaemonSet is ready on the nodes it is scheduled on (a pool at zero nodes wants none);
- ``entry-points``: every HTTPS entry point's Ingress has an address (GKE's load balancer
  takes minutes to get one: a warning until then).

A facility of shards (:func:`verify_facility`): the same checks on every shard's cluster,
through its own stack's kubeconfig, each row titled with its shard; a shard whose stack was
never deployed fails its ``stack`` check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.check.model import CheckResult, Report

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridcloud.plan import Plan
    from gridcloud.plan.outputs import StackOutputs

_TIMEOUT = 20


def _client(facts: StackOutputs) -> Any:
    """An API client from the stack's kubeconfig (a Google Cloud stack's secret output, or
    an existing cluster's file and context)."""
    from pathlib import Path

    import yaml
    from kubernetes import config

    if facts.kubeconfig:
        return config.new_client_from_config_dict(yaml.safe_load(facts.kubeconfig))
    if facts.kubeconfig_path:
        return config.new_client_from_config(
            config_file=str(Path(facts.kubeconfig_path).expanduser()), context=facts.context
        )
    raise ValueError("the stack has no kubeconfig output: it was not deployed by gridcloud up")


def _not_ready(apps: Any, namespace: str) -> list[str]:
    """``namespace/kind/name (ready/wanted)`` for each workload not ready."""
    found: list[str] = []
    for item in apps.list_namespaced_deployment(namespace, _request_timeout=_TIMEOUT).items:
        wanted = item.spec.replicas if item.spec.replicas is not None else 1
        ready = (item.status.available_replicas or 0) if item.status else 0
        if ready < wanted:
            found.append(f"{namespace}/deployment/{item.metadata.name} ({ready}/{wanted})")
    for item in apps.list_namespaced_stateful_set(namespace, _request_timeout=_TIMEOUT).items:
        wanted = item.spec.replicas if item.spec.replicas is not None else 1
        ready = (item.status.ready_replicas or 0) if item.status else 0
        if ready < wanted:
            found.append(f"{namespace}/statefulset/{item.metadata.name} ({ready}/{wanted})")
    for item in apps.list_namespaced_daemon_set(namespace, _request_timeout=_TIMEOUT).items:
        status = item.status
        wanted = status.desired_number_scheduled if status else 0
        ready = status.number_ready if status else 0
        if (ready or 0) < (wanted or 0):
            found.append(f"{namespace}/daemonset/{item.metadata.name} ({ready}/{wanted})")
    return found


def verify(plan: Plan, facts: StackOutputs) -> Report:
    """The checks above for the stack whose outputs are ``facts``, against ``plan``."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    target = "kubernetes" if plan.target.provider == "kubernetes" else "gcp"
    same = facts.plan_fingerprint == plan.fingerprint
    checks = [
        CheckResult(
            id="stack",
            status="ok" if same else "warn",
            title="deployed Plan",
            detail=f"the stack holds Plan {plan.fingerprint}"
            if same
            else f"the stack was deployed from Plan {facts.plan_fingerprint}, the profile now "
            f"gives {plan.fingerprint}",
            fix=""
            if same
            else "`gridcloud preview` shows the difference; `gridcloud up` applies it",
        )
    ]
    try:
        api = _client(facts)
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        names = {n.metadata.name for n in core.list_namespace(_request_timeout=_TIMEOUT).items}
    except (ConfigException, OSError, ValueError) as error:
        detail = f"cannot use the stack's kubeconfig: {error}"
        fix = (
            "`gridcloud status` shows the stack's outputs; a Google Cloud cluster needs "
            "gke-gcloud-auth-plugin on PATH"
        )
    except (ApiException, HTTPError) as error:
        detail = f"the API server does not answer: {str(error).splitlines()[0][:200]}"
        fix = "check the network path and your credentials (`kubectl get namespaces` with the "
        fix += "stack's kubeconfig)"
    else:
        detail = ""
    if detail:
        failed = CheckResult(
            id="cluster", status="fail", title="cluster reachable", detail=detail, fix=fix
        )
        return Report(profile=plan.name, target=target, checks=(*checks, failed))
    checks.append(
        CheckResult(id="cluster", status="ok", title="cluster reachable", detail="it answers")
    )
    missing = [n for n in plan.services.namespaces if n not in names]
    checks.append(
        CheckResult(
            id="namespaces",
            status="fail" if missing else "ok",
            title="namespaces",
            detail=f"missing: {', '.join(missing)}"
            if missing
            else f"all {len(plan.services.namespaces)} present",
            fix="`gridcloud refresh` then `gridcloud up` recreates them" if missing else "",
        )
    )
    not_ready: list[str] = []
    for namespace in plan.services.namespaces:
        if namespace not in missing:
            not_ready += _not_ready(apps, namespace)
    checks.append(
        CheckResult(
            id="workloads",
            status="fail" if not_ready else "ok",
            title="workloads ready",
            detail="not ready: " + ", ".join(not_ready)
            if not_ready
            else "every Deployment, StatefulSet and DaemonSet is ready",
            fix="`kubectl -n NAMESPACE describe` the workload and read its events (an image "
            "that cannot be pulled, a pod that fits no node, a claim without a volume)"
            if not_ready
            else "",
        )
    )
    if plan.services.ingresses:
        networking = client.NetworkingV1Api(api)
        waiting: list[str] = []
        for entry in plan.services.ingresses:
            try:
                ingress = networking.read_namespaced_ingress(
                    entry.name, entry.namespace, _request_timeout=_TIMEOUT
                )
                balancer = ingress.status.load_balancer if ingress.status else None
                addressed = bool(balancer and balancer.ingress)
            except ApiException:
                addressed = False
            if not addressed:
                waiting.append(f"{entry.hostname} ({entry.namespace}/{entry.name})")
        checks.append(
            CheckResult(
                id="entry-points",
                status="warn" if waiting else "ok",
                title="HTTPS entry points",
                detail="no address yet: " + ", ".join(waiting)
                if waiting
                else ", ".join(e.hostname for e in plan.services.ingresses) + " have addresses",
                fix="a Google load balancer takes 5 to 10 minutes; its certificate up to an hour "
                "after DNS points at it: run `gridcloud verify` again"
                if waiting
                else "",
            )
        )
    return Report(profile=plan.name, target=target, checks=tuple(checks))


def verify_facility(
    plan: Plan, facts: StackOutputs, shards: Mapping[str, StackOutputs | None]
) -> Report:
    """:func:`verify` on the home cluster and on each of ``plan``'s shards, whose stacks'
    outputs are ``shards`` (by shard name; None: that stack was not deployed). A shard's
    rows keep their ids, titled ``shard NAME: ...``."""
    report = verify(plan, facts)
    checks = list(report.checks)
    for shard in plan.shards:
        name = str(shard.shard)
        found = shards.get(name)
        if found is None:
            checks.append(
                CheckResult(
                    id="stack",
                    status="fail",
                    title=f"shard {name}: deployed Plan",
                    detail=f"shard {name}'s stack has not been deployed",
                    fix="`gridcloud up` deploys every shard's stack (`--shard NAME`: one)",
                )
            )
            continue
        checks += [
            check.model_copy(update={"title": f"shard {name}: {check.title}"})
            for check in verify(shard, found).checks
        ]
    return Report(profile=report.profile, target=report.target, checks=tuple(checks))
