"""Rich renderings of an analysis: pools, network, services, cost, budget, findings."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from gridcloud import money
from gridcloud.cli.output import styled

if TYPE_CHECKING:
    from rich.console import RenderableType

    from gridcloud.analysis import Analysis
    from gridcloud.check import Report
    from gridcloud.cost.budget import Verdict
    from gridcloud.cost.estimate import Estimate
    from gridcloud.plan import Plan, PoolPlan
    from gridcloud.policy import Finding


def usd(value: Decimal | None, currency: str = "USD", *, per_unit: bool = False) -> str:
    """Money as shown, in its currency: :func:`gridcloud.money.shown`."""
    return money.shown(value, currency, per_unit=per_unit)


def summary(plan: Plan) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # a long URL folds onto the next line, never cut
    table.add_row("facility", styled(f"{plan.name}  ", (plan.description, "dim")))
    target = plan.target
    if target.provider == "gcp":
        table.add_row("target", f"Google Cloud project {target.project}, {target.region}")
    else:
        table.add_row("target", f"existing cluster: context {target.context} ({target.kubeconfig})")
    if plan.cluster is not None:
        cluster = plan.cluster
        table.add_row(
            "cluster",
            f"GKE Standard, {cluster.availability} in {cluster.location}, nodes in "
            f"{', '.join(cluster.zones)}, up to {cluster.max_nodes:,} nodes",
        )
        table.add_row("", Text(cluster.reason, style="dim"))
    login = _login(plan)
    if login is not None:
        table.add_row("login", login)
    table.add_row("fingerprint", plan.fingerprint)
    return table


def _login(plan: Plan) -> str | None:
    """The hub's login: the provider, where its endpoints come from, and the callback to
    register with it."""
    login = plan.services.login
    if login is None:
        return None
    return f"{login.provider} ({login.endpoints}); register the callback {login.callback}"


def _zones(zones: tuple[str, ...]) -> str:
    """``us-central1-a, us-central1-b`` as ``us-central1-a,b``."""
    if not zones:
        return ""
    region = zones[0].rsplit("-", 1)[0]
    return f"{region}-" + ",".join(z.rsplit("-", 1)[1] for z in zones)


def _spread(pool: PoolPlan) -> str:
    """How the autoscaler spreads the pool, and the most one zone can hold."""
    if pool.autoscaling is None:
        return ""
    policy = pool.autoscaling.location_policy.lower()
    return f"{policy} ≤{pool.max_nodes_per_zone:,}/zone"


def pools(plan: Plan) -> RenderableType:
    table = Table(title="Pools", title_justify="left")
    table.add_column("pool")
    table.add_column("machine" if plan.on_gcp else "node selector", no_wrap=True)
    table.add_column("capacity")
    table.add_column("nodes", justify="right", no_wrap=True)
    table.add_column("max cores", justify="right")
    table.add_column("zones", no_wrap=True)
    table.add_column("taints")
    for pool in plan.pools:
        machine = pool.machine_type or " ".join(f"{k}={v}" for k, v in pool.node_selector.items())
        if pool.accelerator is not None:
            machine += f"\n+ {pool.accelerator.count}x {pool.accelerator.type}"
        table.add_row(
            pool.name,
            machine,
            "spot" if pool.spot else "on-demand",
            f"{pool.min_nodes}-{pool.max_nodes:,}",
            f"{pool.max_cores:,}" if pool.max_cores else "",
            "\n".join(filter(None, (_zones(pool.zones), _spread(pool)))),
            ", ".join(f"{t.key.rsplit('/', 1)[-1]}={t.value}" for t in pool.taints) or "none",
        )
    table.caption = "taints: see `gridcloud plan --json` for keys, values and effects"
    return table


def network(plan: Plan) -> RenderableType | None:
    net = plan.network
    if net is None:
        return None
    table = Table(title="Network", title_justify="left")
    table.add_column("range")
    table.add_column("CIDR")
    table.add_column("holds", justify="right")
    table.add_column("source")

    def source(name: str) -> str:
        return "computed" if name in net.computed else "profile"

    table.add_row(
        "nodes (subnet)",
        net.subnet_range,
        f"{net.subnet_range_nodes:,} nodes",
        source("subnetRange"),
    )
    table.add_row(
        "pods",
        net.pod_range,
        f"{net.pod_range_nodes:,} nodes x /{net.pod_block_prefix}",
        source("podRange"),
    )
    table.add_row("services", net.service_range, "", source("serviceRange"))
    table.add_row("control plane", net.control_plane_range, "", "profile")
    table.caption = (
        f"sized for {net.nodes_to_address:,} nodes (every pool at its maximum, plus one surge "
        f"node each) at {net.max_pods_per_node} pods per node"
    )
    return table


def services(plan: Plan) -> RenderableType:
    table = Table(title="Services", title_justify="left")
    for column in ("release", "chart", "version", "namespace", "pods land on"):
        table.add_column(column)
    svc = plan.services
    for release in svc.releases:
        table.add_row(
            release.name,
            release.chart.rsplit("/", 1)[-1],
            release.version,
            release.namespace,
            "\n".join(f"{p.component}: {p.pool}" for p in release.placements),
        )
    if not svc.releases:
        table.add_row(Text("none", style="dim"), "", "", "", "")
    if svc.grid_site is not None:
        site = svc.grid_site
        quota = f", quota {site.quota_cores:,} cores" if site.quota_cores else ""
        table.caption = (
            f"grid site: namespace {site.namespace}, account {site.service_account}, pilots "
            f"on pool {', '.join(site.pools) or site.pool}{quota}, PanDA queue {site.queue}; "
            "`gridcloud plan --values RELEASE` shows values"
        )
    return table


def footprint(plan: Plan) -> RenderableType | None:
    fp = plan.services.footprint
    if fp is None:
        return None
    table = Table(title=f"Control node footprint ({fp.machine})", title_justify="left")
    for column in ("service", "component", "CPU", "memory", "source"):
        table.add_column(column, justify="right" if column in ("CPU", "memory") else "left")
    for item in fp.items:
        table.add_row(
            item.service, item.component, f"{item.cpu_m}m", f"{item.memory_mi} MiB", item.source
        )
    table.add_section()
    table.add_row(
        Text("total", style="bold"),
        "",
        Text(f"{fp.cpu_m:,}m", style="bold"),
        Text(f"{fp.memory_mi:,} MiB", style="bold"),
        f"of {fp.allocatable_cpu_m:,}m and {fp.allocatable_memory_mi:,} MiB allocatable",
    )
    return table


def cost(estimate: Estimate) -> RenderableType:
    cur = estimate.currency
    if estimate.region is None:
        return Text("Cost: none from gridcloud (an existing cluster's nodes are not billed here)")
    table = Table(
        title=f"Cost ({estimate.region or 'no cloud'}, list prices of {estimate.catalog_captured})",
        title_justify="left",
    )
    table.add_column("pool")
    table.add_column("capacity")
    for column in ("node-hour", "idle / month", "peak / hour", "peak on-demand"):
        table.add_column(column, justify="right")
    for pool in estimate.pools:
        table.add_row(
            pool.name,
            "spot" if pool.spot else "on-demand",
            usd(pool.node_hourly, cur, per_unit=True),
            usd(pool.idle_monthly, cur),
            usd(pool.peak_hourly, cur),
            usd(pool.peak_hourly_ondemand, cur) if pool.spot else "",
        )
    if estimate.region is not None:
        free = f" (free tier -{usd(estimate.gke_free_tier_monthly, cur)})"
        fee, tier = estimate.gke_fee_monthly, estimate.gke_free_tier_monthly
        table.add_row(
            "GKE fee",
            "",
            "",
            usd(None if fee is None or tier is None else fee - tier, cur),
            "",
            "",
        )
        table.caption = f"GKE management fee {usd(estimate.gke_fee_monthly, cur)}/month{free}"
    if estimate.items:
        table.add_section()
        for item in estimate.items:
            table.add_row(
                item.item,
                Text(item.quantity, style="dim"),
                "",
                usd(item.idle_monthly, cur),
                usd(item.peak_hourly, cur, per_unit=True),
                "",
            )
    table.add_section()
    # a facility of shards: this table is the home cluster's, the shards' table the total
    own = estimate.shards[0] if estimate.shards else estimate
    table.add_row(
        Text("home cluster" if estimate.shards else "total", style="bold"),
        "",
        "",
        Text(usd(own.idle_monthly, cur), style="bold"),
        Text(usd(own.peak_hourly, cur), style="bold"),
        "",
    )
    if own.per_core_hour_at_peak is not None:
        table.caption = (
            f"{table.caption}; {own.peak_cores:,} cores at peak: "
            f"{usd(own.per_core_hour_at_peak, cur, per_unit=True)} per core-hour"
        )
    for compute_class in estimate.classes:
        table.caption = (
            f"{table.caption}\ncompute class {compute_class.name} "
            f"({', '.join(compute_class.rules)}): one demand over its rules, so its peak in the "
            f"total is its dearest rule's, {compute_class.priced_at or 'unknown'}"
        )
    for assumption in estimate.assumptions:
        table.caption = f"{table.caption}\n{assumption}"
    return table


def shards(estimate: Estimate) -> RenderableType | None:
    """A facility of shards: a row per cluster, the facility's total."""
    if not estimate.shards:
        return None
    cur = estimate.currency
    table = Table(title="Shards (the home cluster and the compute-only ones)", title_justify="left")
    for column in ("shard", "region", "cluster", "always-on node"):
        table.add_column(column)
    for column in ("nodes", "cores at peak", "idle / month", "peak / hour", "per core-hour"):
        table.add_column(column, justify="right")
    for row in estimate.shards:
        table.add_row(
            row.name,
            row.region or "",
            f"{row.cluster} ({row.availability})",
            f"{row.system_node} {usd(row.system_node_monthly, cur)}/month",
            f"{row.max_nodes:,}",
            f"{row.peak_cores:,}",
            usd(row.idle_monthly, cur),
            usd(row.peak_hourly, cur),
            usd(row.per_core_hour_at_peak, cur, per_unit=True),
        )
    table.add_section()
    table.add_row(
        Text("facility", style="bold"),
        "",
        f"{len(estimate.shards)} clusters",
        "",
        f"{sum(r.max_nodes for r in estimate.shards):,}",
        Text(f"{estimate.peak_cores:,}", style="bold"),
        Text(usd(estimate.idle_monthly, cur), style="bold"),
        Text(usd(estimate.peak_hourly, cur), style="bold"),
        usd(estimate.per_core_hour_at_peak, cur, per_unit=True),
    )
    table.caption = (
        "a compute-only shard's idle cost: its system node for GKE's own pods, its Cloud NAT "
        "at one VM, the GKE management fee (the free tier covers one zonal cluster per "
        "billing account: the facility's first)"
    )
    return table


def budget(result: Verdict) -> RenderableType:
    style = {"within": "green", "over": "bold red", "unknown": "yellow"}.get(result.status, "dim")
    text = Text()
    text.append("Budget: ", style="bold")
    text.append(result.status, style=style)
    for reason in result.reasons:
        text.append(f"\n  {reason}")
    return text


def findings(items: list[Finding], warnings: list[str]) -> RenderableType | None:
    if not items and not warnings:
        return None
    text = Text()
    for warning in warnings:
        text.append("warning: ", style="yellow")
        text.append(f"{warning}\n")
    for finding in items:
        if finding.waived is not None:
            text.append("waived: ", style="dim")
            text.append(f"{finding.message} [{finding.rule}]: {finding.waived}\n", style="dim")
            continue
        text.append(
            f"{finding.severity}: ", style="yellow" if finding.severity == "warning" else "cyan"
        )
        text.append(f"{finding.message} [{finding.rule}]\n")
        if finding.fix:
            text.append(f"  fix: {finding.fix}\n", style="dim")
    text.rstrip()
    return text


def headline(result: Analysis) -> RenderableType:
    """What a person needs first: the facility, what it costs idle and at peak, the budget's
    verdict, and whether anything below needs attention."""
    plan, estimate, verdict = result.plan, result.estimate, result.verdict
    cur = estimate.currency
    # a compute class's pools hold one demand: the estimate counts it once
    cores = estimate.peak_cores or sum(p.max_cores or 0 for p in plan.pools)
    where = (
        f"Google Cloud, {plan.target.region}"
        if plan.target.provider == "gcp"
        else f"existing cluster (context {plan.target.context})"
    )
    lines = [
        styled(
            (plan.name, "bold"),
            f": {where}; "
            + (f"{cores:,} cores at most in " if cores else "")
            + (
                f"{len(estimate.shards)} clusters (the home one and {len(plan.shards)} shards)"
                if estimate.shards
                else f"{len(plan.pools)} pools ({len(plan.elastic_pools)} elastic)"
            ),
        ),
    ]
    if estimate.region is not None:
        lines.append(
            styled(
                ("cost", "bold"),
                f": idle {usd(estimate.idle_monthly, cur)} a month, peak "
                f"{usd(estimate.peak_hourly, cur)} an hour",
            )
        )
    runway = (
        f"; {money.hours(verdict.runway_hours):,} hours at peak after the idle cost"
        if verdict.runway_hours is not None and verdict.status == "within"
        else ""
    )
    style = {"within": "green", "over": "bold red", "unknown": "yellow"}.get(verdict.status, "")
    if verdict.status != "not-applicable":
        lines.append(styled(("budget", "bold"), ": ", (verdict.status, style), runway))
    open_findings = [f for f in result.findings if f.waived is None]
    notes = len(plan.warnings) + len(estimate.warnings) + len(open_findings)
    if notes:
        lines.append(
            styled(("attention", "bold yellow"), f": {notes} warning(s) and finding(s) below")
        )
    return Text("\n").join(lines)


def next_step(result: Analysis) -> RenderableType:
    """What to do after reading a plan."""
    profile = str(result.path)
    text = Text()
    text.append("Next: ", style="bold")
    if result.verdict.blocks_deploy:
        text.append(
            f"the budget verdict is {result.verdict.status}: `gridcloud up` refuses until it is "
            "within (see the reasons above; docs/budget.md)."
        )
        return text
    text.append(
        f"`gridcloud check {profile}` (tools, credentials, quotas, permissions), then "
        f"`gridcloud preview {profile}` and `gridcloud up {profile}`; docs/deploy.md."
    )
    return text


def analysis(result: Analysis) -> list[RenderableType]:
    """Everything ``gridcloud plan`` shows, in order: the headline first, the details, then
    the next step."""
    parts: list[RenderableType | None] = [
        headline(result),
        summary(result.plan),
        pools(result.plan),
        network(result.plan),
        services(result.plan),
        footprint(result.plan),
        cost(result.estimate),
        shards(result.estimate),
        budget(result.verdict),
        findings(result.findings, [*result.plan.warnings, *result.estimate.warnings]),
        next_step(result),
    ]
    return [p for p in parts if p is not None]


STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def check_report(report: Report) -> list[RenderableType]:
    """``gridcloud check``: the checks, the quota table, the verdict."""
    from gridcloud.check import quota_name

    checks = Table.grid(padding=(0, 2))
    checks.add_column(no_wrap=True)
    checks.add_column(no_wrap=True, style="bold")
    checks.add_column(overflow="fold")
    for item in report.checks:
        text = Text(item.detail)
        if item.fix:
            text.append("\nfix: ", style="bold").append(item.fix)
        checks.add_row(Text(item.status, style=STATUS_STYLE[item.status]), item.title, text)
    parts: list[RenderableType] = [Text(f"check: {report.profile}", style="bold"), checks]
    if report.quotas:
        quotas = Table(title="quotas at the Plan's peak", title_justify="left", expand=True)
        for column in ("quota", "scope"):
            quotas.add_column(column, no_wrap=True)
        for column in ("need", "limit", "in use", "free"):
            quotas.add_column(column, justify="right", no_wrap=True)
        quotas.add_column("", no_wrap=True)
        quotas.add_column("for", ratio=2, overflow="fold")
        several = len({q.project for q in report.quotas}) > 1
        for row in report.quotas:

            def number(value: int | None) -> str:
                return "none" if value is None else f"{value:,}"

            quotas.add_row(
                row.metric,
                f"{row.scope} ({row.project})" if several else row.scope,
                f"{row.need:,}",
                number(row.limit),
                number(row.usage),
                number(row.available),
                Text(row.status, style=STATUS_STYLE[row.status]),
                row.for_what,
            )
        parts.append(quotas)
        short = [q for q in report.quotas if q.status == "fail"]
        if short:
            requests = Table.grid(padding=(0, 1))
            requests.add_column(style="bold")
            requests.add_column(overflow="fold")
            for row in short:
                requests.add_row(quota_name(row, several), row.request)
            parts.append(Text("How to ask for more:", style="bold"))
            parts.append(requests)
    verdict = "a deploy can go ahead" if report.go else "fix the failed checks first"
    parts.append(Text(verdict, style="bold green" if report.go else "bold red"))
    return parts
