"""Rules over a Plan. Each rule is a function returning findings; ``RULES`` lists them.

A rule flags a choice a profile can make; what gridcloud always decides (private nodes,
Dataplane V2, the node account's role, ...) is an invariant asserted where the Plan is
built (``gridcloud/plan/invariants.py``), not a rule no profile could trip.

A finding is advice, not an error: the Plan is buildable (errors belong in the Plan). Each
has a rule id, a severity, a message and a fix. ``plan --strict`` and ``up --strict`` refuse
a Plan with a warning the profile does not waive (``policy.waivers``, each with a reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from gridcloud.plan.model import Frozen, Plan
from gridcloud.plan.services.pods import UNCONFINED_APPARMOR, containers, pod_spec
from gridcloud.plan.services.pods import rights as pod_rights

if TYPE_CHECKING:
    from gridcloud.plan.services.model import PrivilegeNeed

BIG_NODE_CORES = 32


class Finding(Frozen):
    rule: str
    severity: Literal["info", "warning"]
    message: str
    fix: str = ""
    waived: str | None = None
    """The profile's reason for accepting it (``policy.waivers``), if waived."""

    @property
    def blocks_strict(self) -> bool:
        return self.severity == "warning" and self.waived is None


Rule = Callable[[Plan], Iterator[Finding]]


def elastic_pools_scale_to_zero(plan: Plan) -> Iterator[Finding]:
    # the XCache pool's one node is the cache, always on by design (priced as idle cost)
    cache = plan.xcache.pool if plan.xcache is not None else None
    for pool in plan.elastic_pools:
        if pool.min_nodes > 0 and plan.on_gcp and pool.name != cache:
            yield Finding(
                rule="elastic-min-zero",
                severity="warning",
                message=f"pool {pool.name} keeps {pool.min_nodes} node(s) on around the clock "
                "(minNodes > 0): that is idle cost every hour",
                fix=f"set pools[{pool.name}].minNodes to 0; the autoscaler adds nodes on demand",
            )


def large_nodes_on_spot(plan: Plan) -> Iterator[Finding]:
    for pool in plan.elastic_pools:
        if plan.on_gcp and not pool.spot and (pool.vcpus or 0) >= BIG_NODE_CORES:
            yield Finding(
                rule="large-on-demand",
                severity="warning",
                message=f"pool {pool.name} runs {pool.vcpus}-core nodes on demand; spot VMs "
                "cost 3 to 5 times less for pilots and Dask workers, which tolerate preemption",
                fix=f"set spot: true on pool {pool.name}, or use smaller on-demand nodes",
            )


def budget_is_enforced(plan: Plan) -> Iterator[Finding]:
    if not plan.on_gcp:
        return
    if plan.budget is None:
        yield Finding(
            rule="no-budget",
            severity="warning",
            message="no budget: nothing alerts on or caps the spending of elastic pools",
            fix="add budget: {monthly: ..., hardCap: true, billingAccount: ...}",
        )
    elif not plan.budget.hard_cap:
        yield Finding(
            rule="no-hard-cap",
            severity="info",
            message="budget alerts only: with hardCap the elastic pools scale to zero at 100%",
            fix="set budget.hardCap: true (and budget.billingAccount)",
        )


def deletion_protection(plan: Plan) -> Iterator[Finding]:
    if plan.cluster is not None and not plan.cluster.deletion_protection:
        yield Finding(
            rule="deletion-protection-off",
            severity="info",
            message="deletion protection is off: `gridcloud destroy` removes the cluster at once",
            fix="set cluster.deletionProtection: true for a production facility",
        )


def control_plane_restricted(plan: Plan) -> Iterator[Finding]:
    if plan.cluster is None:
        return
    networks = plan.cluster.security.authorized_networks
    if networks is None or any(n.cidr.endswith("/0") for n in networks):
        yield Finding(
            rule="control-plane-open",
            severity="warning",
            message="the control plane's endpoint answers any address on the internet "
            "(authentication still applies, but every API server flaw is exposed)",
            fix="list where `gridcloud up`, kubectl and CI run from in "
            "cluster.authorizedNetworks (CIDR ranges; GKE takes up to 50)",
        )


#: Verbs that let a role grant itself more, and resources that reach beyond the namespace's
#: workloads (RBAC, tokens, nodes, the namespace itself).
ESCALATING_VERBS = frozenset({"*", "escalate", "bind", "impersonate"})
SENSITIVE_RESOURCES = frozenset(
    {
        "*",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
        "serviceaccounts",
        "serviceaccounts/token",
        "nodes",
        "namespaces",
        "persistentvolumes",
        "pods/exec",
        "pods/attach",
    }
)


def _submitter_role(plan: Plan) -> dict[str, Any] | None:
    """The Role the grid site's RoleBinding grants its submitter, among the Plan's objects."""
    site = plan.services.grid_site
    if site is None:
        return None
    manifests = plan.services.manifests
    bound = {
        b["roleRef"]["name"]
        for b in manifests
        if b["kind"] == "RoleBinding"
        and b["metadata"].get("namespace") == site.namespace
        and any(
            s.get("kind") == "ServiceAccount" and s.get("name") == site.service_account
            for s in b.get("subjects") or []
        )
    }
    for body in manifests:
        meta = body["metadata"]
        if (
            body["kind"] == "Role"
            and meta.get("namespace") == site.namespace
            and meta["name"] in bound
        ):
            return body
    return None


def grid_rbac_minimal(plan: Plan) -> Iterator[Finding]:
    """The Role bound to the grid submitter, as the Plan applies it."""
    role = _submitter_role(plan)
    if role is None:
        return
    for r in role.get("rules") or []:
        wide = sorted(
            ({v for v in r.get("verbs", []) if v in ESCALATING_VERBS})
            | {x for x in r.get("resources", []) if x in SENSITIVE_RESOURCES}
            | ({"*"} if "*" in r.get("apiGroups", []) else set())
        )
        if wide:
            yield Finding(
                rule="grid-rbac-broad",
                severity="warning",
                message=f"the grid submitter's Role grants {', '.join(wide)}: beyond what "
                "Harvester needs to run pilots, and a way out of its namespace",
                fix="keep the submitter's Role to Jobs, pods (get/list/delete), pods/log, "
                "ConfigMaps and Secrets in the site's namespace",
            )


def _needed(need: PrivilegeNeed) -> set[str]:
    rights = set(need.capabilities)
    if need.privileged:
        rights.add("privileged")
    if need.apparmor_unconfined:
        rights.add(UNCONFINED_APPARMOR)
    return rights


def _own_privilege(plan: Plan) -> Iterator[Finding]:
    """Every container of gridcloud's own objects that may do more than an unprivileged
    one: waived with the Plan's reason when the Plan names exactly that need, else flagged
    with what goes beyond it."""
    needs = {(n.kind, n.namespace, n.name, n.container): n for n in plan.services.privilege_needs}
    for body in plan.services.manifests:
        spec = pod_spec(body)
        if spec is None:
            continue
        meta = body["metadata"]
        for container in containers(spec):
            rights = pod_rights(spec, container)
            if not rights:
                continue
            name = container.get("name", "?")
            namespace = meta.get("namespace", "")
            what = f"{body['kind']} {namespace}/{meta['name']}, container {name},"
            need = needs.get((body["kind"], namespace, meta["name"], name))
            beyond = rights - (_needed(need) if need is not None else set())
            if need is not None and not beyond:
                yield Finding(
                    rule="privileged-pod",
                    severity="warning",
                    message=f"{what} runs with {', '.join(sorted(rights))} by need",
                    fix="nothing while it needs them (the reason says what would do without)",
                    waived=need.reason,
                )
                continue
            yield Finding(
                rule="privileged-pod",
                severity="warning",
                message=f"{what} runs with {', '.join(sorted(beyond))}"
                + (" beyond what the Plan names as its need" if need is not None else "")
                + ": a process that escapes it owns the node",
                fix="drop them from its securityContext; a need the Plan names "
                "(services.privilegeNeeds) with its reason is reported waived",
            )


def no_needless_privilege(plan: Plan) -> Iterator[Finding]:
    """gridcloud's own pods (its objects, REANA's NFS server) and the pilot Job's template
    with more than an unprivileged container's rights; the hub's metadata-blocking init
    container where NetworkPolicies already block it. The charts' own pods are held by a
    test to a list (tests/services/test_rendered.py: only CVMFS's node plugin)."""
    yield from _own_privilege(plan)
    site = plan.services.grid_site
    if site is not None:
        pod = site.job_template.get("spec", {}).get("template", {}).get("spec", {})
        for container in containers(pod):
            if pod_rights(pod, container):
                yield Finding(
                    rule="privileged-pod",
                    severity="warning",
                    message=f"the pilot Job's container {container.get('name', '?')} is "
                    "privileged: a payload that escapes it owns the node",
                    fix="run pilots unprivileged (CVMFS through the CSI driver's claims, "
                    "payloads in unprivileged Apptainer)",
                )
    values = _values(plan, "jupyterhub")
    enforced = plan.cluster is not None and plan.cluster.datapath_provider == "ADVANCED_DATAPATH"
    if values is not None and enforced:
        # the chart's default is true: a privileged iptables init container per notebook
        metadata = values.get("singleuser", {}).get("cloudMetadata", {})
        if metadata.get("blockWithIptables", True):
            yield Finding(
                rule="privileged-pod",
                severity="warning",
                message="every notebook pod starts a privileged init container to block the "
                "cloud metadata server, which the enforced NetworkPolicy already blocks",
                fix="set singleuser.cloudMetadata.blockWithIptables: false and keep the "
                "notebooks' NetworkPolicy (cloudMetadataServer: false)",
            )


def _values(plan: Plan, release: str) -> dict[str, Any] | None:
    try:
        return plan.services.release(release).values
    except KeyError:
        return None


def hub_login_restricted(plan: Plan) -> Iterator[Finding]:
    values = _values(plan, "jupyterhub")
    if values is None:
        return
    oauth = values.get("hub", {}).get("config", {}).get("GenericOAuthenticator", {})
    if oauth.get("allow_all"):
        yield Finding(
            rule="hub-login-open",
            severity="warning",
            message="anyone with an account at the OIDC provider can log in to JupyterHub "
            "and start servers on the facility's nodes",
            fix="list the groups that may log in in services.jupyter.oidc.allowedGroups",
        )


def entry_points_serve_https(plan: Plan) -> Iterator[Finding]:
    """On an existing cluster the site's controller serves the hostnames: without a TLS
    Secret or a cert-manager issuer it serves plain HTTP, and the OIDC callback
    (https://<hostname>/hub/oauth_callback) and REANA's login cannot work."""
    for entry in plan.services.ingresses:
        if not entry.serves_https:
            yield Finding(
                rule="ingress-without-tls",
                severity="warning",
                message=f"nothing serves https://{entry.hostname} ({entry.service}): the "
                "site's ingress has no certificate, so the login callback "
                f"https://{entry.hostname}/... cannot work",
                fix="name the certificate's source in target.ingress: tlsSecret (a "
                "kubernetes.io/tls Secret in the service's namespace), or clusterIssuer / "
                "issuer (cert-manager)",
            )


def only_fault_tolerant_work_on_spot(plan: Plan) -> Iterator[Finding]:
    """Notebooks hold a user's session: a reclaimed spot node ends it."""
    values = _values(plan, "jupyterhub")
    if values is None or not plan.on_gcp:
        return
    spot = {p.name for p in plan.pools if p.spot}
    try:
        placements = plan.services.release("jupyterhub").placements
    except KeyError:
        return
    for placement in placements:
        if "notebook" in placement.component and placement.pool in spot:
            yield Finding(
                rule="interactive-on-spot",
                severity="warning",
                message=f"{placement.component} run on the spot pool {placement.pool}: a "
                "reclaimed node ends the sessions on it",
                fix=f"give those notebooks an on-demand pool, or set spot: false on "
                f"{placement.pool}, or waive the rule with the reason",
            )


def data_egress_priced(plan: Plan) -> Iterator[Finding]:
    """Data movement is a facility's largest variable cost: a bucket without the egress
    expected from it prices none of it."""
    data = plan.data
    if data is None or data.bucket is None:
        return
    month = data.monthly
    stated = (
        month.internet_worldwide_gib
        + month.internet_china_gib
        + month.internet_australia_gib
        + month.other_regions_gib
        + month.other_sites_gib
    )
    if stated == 0:
        yield Finding(
            rule="data-egress-unstated",
            severity="info",
            message="the facility bucket is on but the profile states no egress a month: "
            "downloads and transfers to other sites are billed per GiB and the estimate "
            "prices none of them",
            fix="state the expected GiB under data.monthly.egress (internet, otherRegionsGib, "
            "otherSitesGib) and data.monthly.stored",
        )


#: The rules, in the order findings are shown, with the ids each can report (the ids waivers
#: may name). A table, not a decorator: mutmut leaves decorated functions unmutated.
REGISTERED: tuple[tuple[tuple[str, ...], Rule], ...] = (
    (("elastic-min-zero",), elastic_pools_scale_to_zero),
    (("large-on-demand",), large_nodes_on_spot),
    (("no-budget", "no-hard-cap"), budget_is_enforced),
    (("deletion-protection-off",), deletion_protection),
    (("control-plane-open",), control_plane_restricted),
    (("grid-rbac-broad",), grid_rbac_minimal),
    (("privileged-pod",), no_needless_privilege),
    (("hub-login-open",), hub_login_restricted),
    (("ingress-without-tls",), entry_points_serve_https),
    (("interactive-on-spot",), only_fault_tolerant_work_on_spot),
    (("data-egress-unstated",), data_egress_priced),
)
RULES: tuple[Rule, ...] = tuple(check for _, check in REGISTERED)
#: Every rule id, for waivers (the profile's ``policy.waivers`` are checked against it).
RULE_IDS: tuple[str, ...] = tuple(i for ids, _ in REGISTERED for i in ids)


#: Rules over the facility as a whole, run on the home Plan only: a compute-only shard's Plan
#: has no budget of its own (the facility's is the home one's) nor a bucket.
FACILITY_RULES: tuple[Rule, ...] = (budget_is_enforced, data_egress_priced)


def evaluate(plan: Plan) -> list[Finding]:
    """The findings of the home Plan, then of each compute-only shard's (every rule but the
    facility's own, :data:`FACILITY_RULES`), a shard's message starting ``shard NAME:``."""
    waivers = plan.waivers
    found = [
        # a need the Plan names keeps its reason; the profile's waiver covers the rest
        finding.model_copy(update={"waived": finding.waived or waivers.get(finding.rule)})
        for rule in RULES
        for finding in rule(plan)
    ]
    for shard in plan.shards:
        found += [
            finding.model_copy(
                update={
                    "message": f"shard {shard.shard}: {finding.message}",
                    "waived": finding.waived or waivers.get(finding.rule),
                }
            )
            for rule in RULES
            if rule not in FACILITY_RULES
            for finding in rule(shard)
        ]
    return found


def enforce_strict(findings: list[Finding]) -> None:
    """``--strict``: refuse a Plan with an unwaived warning (exit 8)."""
    from gridcloud.errors import PolicyError

    blocking = [f for f in findings if f.blocks_strict]
    if blocking:
        raise PolicyError(
            f"{len(blocking)} policy warning(s) the profile does not waive: "
            + "; ".join(f"{f.message} (rule {f.rule})" for f in blocking),
            hint="fix them (`gridcloud plan` shows each fix), or waive a rule with a reason: "
            "policy: {waivers: [{rule: ID, reason: ...}]}",
        )
