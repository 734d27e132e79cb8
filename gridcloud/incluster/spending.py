"""Per-user spending in dollars, in the cluster: who a pod is charged to, what it costs an
hour, whether a user may start more, and the live meter that adds it up.

Runs in three places, from this one file (standard library only at import, Python 3.11, no
gridcloud import; the hub's hook uses tornado and the gateway's options dask-gateway-server,
each imported where it runs):

- the hub (``hub.extraConfig``): a ``pre_spawn_hook`` that labels the notebook with the
  user's group and refuses a server past the user's or the group's limit, with the
  figures; a callable ``profile_list`` that hides the environments the remaining budget
  cannot pay an hour of;
- the gateway (``gateway.extraConfig``): the cluster-options handler labels schedulers and
  workers with the user and group, and refuses or shrinks a cluster past the limit;
- the meter (a JupyterHub service in the hub's pod): every minute it charges each user's
  running pods by their requests times their node's price, per user and group per month,
  in SQLite on the hub's volume, and answers ``GET /spend``.

The settings are the plan's (``custom.gridcloud.spending`` in the hub's values, the same
dict in the gateway's configuration): node prices per pool from gridcloud's catalog (the
estimate's node-hour), the limits, the environments' requests.

What a pod costs an hour: its node's price times its largest share of the node, of the
node's vCPUs, memory or GPUs (a pod that requests half the memory keeps half the node from
others, whatever its CPU request).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import json
import re
import sqlite3
import string
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

#: The label KubeSpawner puts on a notebook (its value escaped as below); Dask pods get the
#: same, so GKE cost allocation exports both as ``k8s-label/hub.jupyter.org/username``.
USER_LABEL = "hub.jupyter.org/username"
#: The group a user's pods are charged to (exported as ``k8s-label/gridcloud-group``).
GROUP_LABEL = "gridcloud-group"
GPU = "nvidia.com/gpu"
GIB = Decimal(1024**3)
CENT = Decimal("0.01")

# --- label values, escaped exactly as KubeSpawner 7 escapes the username label ----------

_ALPHANUM = tuple(string.ascii_letters + string.digits)
_ALPHA_LOWER = tuple(string.ascii_lowercase)
_LABEL = re.compile(r"^[a-z0-9\.\-_]+$", flags=re.IGNORECASE)
_NON_ALPHANUM = re.compile(r"[^a-z0-9]+")


def _valid_label(value: str) -> bool:
    return not value or (
        len(value) <= 63
        and value.startswith(_ALPHANUM)
        and value.endswith(_ALPHANUM)
        and bool(_LABEL.match(value))
    )


def _safe_part(name: str, max_length: int) -> str:
    safe = _NON_ALPHANUM.sub("-", name.lower())
    safe = safe.lstrip("-")[:max_length].rstrip("-")
    if safe and not safe.startswith(_ALPHA_LOWER):
        safe = "x-" + safe[: max_length - 2]
    return safe or "x"


def label_value(name: str) -> str:
    """``name`` as a label value, as KubeSpawner 7's ``safe_slug(name, is_valid_label)``
    writes ``hub.jupyter.org/username``: kept when valid (and without ``--``), else a
    stripped form with a hash, 32 characters at most."""
    if "--" not in name and _valid_label(name):
        return name
    digest = hashlib.sha256(name.encode("utf8")).hexdigest()[:8]
    return f"{_safe_part(name, 32 - 11)}---{digest}"


def charged_group(groups: list[str], order: list[str]) -> str | None:
    """The group a user's spending counts against: the first of ``order`` (the groups with
    a limit, then the hub's allowed groups) the user is in; else none."""
    mine = set(groups)
    return next((g for g in order if g in mine), None)


def pod_labels(user: str, groups: list[str], order: list[str]) -> dict[str, str]:
    labels = {USER_LABEL: label_value(user)}
    group = charged_group(groups, order)
    if group is not None:
        labels[GROUP_LABEL] = label_value(group)
    return labels


# --- what a pod costs ---------------------------------------------------------------------

_SUFFIX: dict[str, int | Decimal] = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "Pi": 1024**5,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": 1000,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "P": 1000**5,
}


def quantity(text: Any) -> Decimal:
    """A Kubernetes quantity (``500m``, ``4G``, ``8.000000G``, ``2Gi``, ``1e3``)."""
    value = str(text).strip()
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if value.endswith(suffix):
            return Decimal(value[: -len(suffix)]) * Decimal(_SUFFIX[suffix])
    return Decimal(value)


@dataclass(frozen=True)
class Request:
    cpu: Decimal
    """Cores."""
    memory: Decimal
    """Bytes."""
    gpus: Decimal = Decimal(0)


def pod_request(pod: dict[str, Any]) -> Request:
    """The sum of a pod's containers' requests (a GPU's limit where it has no request)."""
    cpu = memory = gpus = Decimal(0)
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        cpu += quantity(requests.get("cpu", limits.get("cpu", 0)))
        memory += quantity(requests.get("memory", limits.get("memory", 0)))
        gpus += quantity(requests.get(GPU, limits.get(GPU, 0)))
    return Request(cpu, memory, gpus)


def hourly(request: Request, node: dict[str, Any]) -> Decimal:
    """What ``request`` costs an hour on a node of ``node`` (a pool's entry: ``hourly``,
    ``vcpus``, ``memoryGb``, ``gpus``): the node's price times the largest share."""
    shares = [
        request.cpu / Decimal(node["vcpus"]),
        request.memory / (Decimal(str(node["memoryGb"])) * GIB),
    ]
    if int(node.get("gpus") or 0):
        shares.append(request.gpus / Decimal(node["gpus"]))
    return Decimal(node["hourly"]) * min(max(shares), Decimal(1))


def pool_of(pod: dict[str, Any], pools: dict[str, Any]) -> str | None:
    """The pool whose node selector the pod's carries."""
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    for name, pool in pools.items():
        wanted = pool.get("selector") or {}
        if wanted and all(selector.get(k) == v for k, v in wanted.items()):
            return name
    return None


# --- limits -------------------------------------------------------------------------------


def month_of(now: _dt.datetime) -> str:
    return now.astimezone(_dt.UTC).strftime("%Y-%m")


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def dollars(value: Decimal) -> str:
    return f"${value.quantize(CENT, rounding=ROUND_HALF_UP):,}"


@dataclass(frozen=True)
class Standing:
    """A user's month so far against the limits."""

    user: str
    group: str | None
    user_spent: Decimal
    group_spent: Decimal
    user_limit: Decimal | None
    group_limit: Decimal | None
    warn_at: Decimal
    hourly: Decimal = Decimal(0)
    """What the user's running servers and clusters cost an hour."""

    def remaining(self) -> Decimal | None:
        """What the user may still spend this month (the tighter limit); None: no limit."""
        left = []
        if self.user_limit is not None:
            left.append(self.user_limit - self.user_spent)
        if self.group_limit is not None:
            left.append(self.group_limit - self.group_spent)
        return min(left) if left else None

    def _figures(self) -> list[str]:
        shown = []
        if self.user_limit is not None:
            shown.append(
                f"{self.user} has spent {dollars(self.user_spent)} of "
                f"{dollars(self.user_limit)} this month"
            )
        if self.group_limit is not None:
            shown.append(
                f"group {self.group} has spent {dollars(self.group_spent)} of "
                f"{dollars(self.group_limit)}"
            )
        return shown

    def refusal(self, hour: Decimal = Decimal(0), what: str = "") -> str | None:
        """Why a start costing ``hour`` an hour is refused (None: it is not)."""
        left = self.remaining()
        if left is None:
            return None
        figures = "; ".join(self._figures())
        if left <= 0:
            return f"Spending limit reached: {figures}. Ask your group's administrator."
        if hour > left:
            return (
                f"Spending limit: {what or 'this'} costs {dollars(hour)} an hour and "
                f"{dollars(left)} is left this month ({figures})."
            )
        return None

    def summary(self) -> str:
        """The month so far against the limits, for the user's page."""
        running = f"running now: {dollars(self.hourly)} an hour" if self.hourly else ""
        return "; ".join([*self._figures(), *([running] if running else [])])

    def warning(self) -> str | None:
        for spent, limit, who in (
            (self.user_spent, self.user_limit, self.user),
            (self.group_spent, self.group_limit, f"group {self.group}"),
        ):
            if limit is not None and limit > 0 and spent >= limit * self.warn_at:
                return (
                    f"{who} has spent {dollars(spent)} of {dollars(limit)} this month "
                    f"({spent * 100 / limit:.0f} %)"
                )
        return None


def standing(
    settings: dict[str, Any],
    user: str,
    groups: list[str],
    spent: dict[str, Any],
) -> Standing:
    """``spent``: the meter's answer for the user's and group's labels this month."""
    limits = settings.get("limits") or {}
    group = charged_group(groups, settings.get("groupOrder") or [])
    user_limit = _money((limits.get("users") or {}).get(user, limits.get("userMonthly")))
    group_limit = (
        None
        if group is None
        else _money((limits.get("groups") or {}).get(group, limits.get("groupMonthly")))
    )
    return Standing(
        user=user,
        group=group,
        user_spent=Decimal(str(spent.get("user", "0"))),
        group_spent=Decimal(str(spent.get("group", "0"))),
        user_limit=user_limit,
        group_limit=group_limit,
        warn_at=Decimal(str(limits.get("warnAt", "0.8"))),
        hourly=Decimal(str(spent.get("hourly", "0"))),
    )


def ask_meter(
    settings: dict[str, Any],
    user: str,
    groups: list[str],
    timeout: float = 5,
) -> Standing:
    """The user's standing, from the meter. A meter that cannot be read refuses the start
    (the error says so): limits that cannot be checked are not waived."""
    group = charged_group(groups, settings.get("groupOrder") or [])
    query = {"user": label_value(user)}
    if group is not None:
        query["group"] = label_value(group)
    url = f"{settings['meter'].rstrip('/')}/spend?{urllib.parse.urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            spent = json.load(answer)
    except (OSError, ValueError) as error:
        raise RuntimeError(
            f"the spending meter ({settings['meter']}) cannot be read ({error}); "
            "starts are refused until it answers"
        ) from error
    return standing(settings, user, groups, spent)


def limited(settings: dict[str, Any]) -> bool:
    limits = settings.get("limits") or {}
    return bool(settings.get("meter")) and any(
        limits.get(k) for k in ("userMonthly", "groupMonthly", "users", "groups")
    )


# --- the hub ------------------------------------------------------------------------------


def profile_hourly(settings: dict[str, Any], slug: str) -> Decimal | None:
    entry = (settings.get("profiles") or {}).get(slug)
    if entry is None:
        return None
    node = (settings.get("pools") or {}).get(entry["pool"])
    if node is None:
        return None
    request = Request(
        quantity(entry["cpu"]), quantity(entry["memory"]), Decimal(entry.get("gpus", 0))
    )
    return hourly(request, node)


def _groups(spawner: Any) -> list[str]:
    return [g.name for g in getattr(spawner.user, "groups", None) or []]


def _chosen(spawner: Any, static: list[dict[str, Any]]) -> str | None:
    slug = (getattr(spawner, "user_options", None) or {}).get("profile")
    if slug:
        return str(slug)
    default = next((p for p in static if p.get("default")), static[0] if static else None)
    return None if default is None else str(default.get("slug"))


def _shown(error: Exception, message: str) -> Exception:
    """``error`` with the message JupyterHub shows the user on the page of a failed start
    (it shows only a ``jupyterhub_message``)."""
    error.jupyterhub_message = message  # type: ignore[attr-defined]
    return error


def hub_setup(c: Any, settings: dict[str, Any]) -> None:
    """The hub's hook and environments (``c``: the hub's configuration)."""
    listed = c.KubeSpawner.profile_list  # the chart's, unless unset (a lazy value)
    static = list(listed) if isinstance(listed, list) else []
    order = settings.get("groupOrder") or []

    async def pre_spawn_hook(spawner: Any) -> None:
        groups = _groups(spawner)
        labels = pod_labels(spawner.user.name, groups, order)
        labels.pop(USER_LABEL)  # KubeSpawner's own, escaped the same way
        spawner.extra_labels = {**(getattr(spawner, "extra_labels", None) or {}), **labels}
        if not limited(settings):
            return
        from tornado import web

        try:
            # in a thread: the hub's event loop serves everyone else meanwhile
            now = await asyncio.to_thread(ask_meter, settings, spawner.user.name, groups)
        except RuntimeError as error:
            raise _shown(web.HTTPError(503, str(error)), str(error)) from error
        slug = _chosen(spawner, static)
        hour = profile_hourly(settings, slug or "") or Decimal(0)
        why = now.refusal(hour, f"the environment {slug}")
        if why is not None:
            spawner.log.warning("gridcloud spending: %s", why)
            raise _shown(web.HTTPError(403, why), why)
        warning = now.warning()
        if warning:
            spawner.log.info("gridcloud spending: %s", warning)

    # on Spawner: KubeSpawner's, and any spawner's that stands in for it
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    if limited(settings) and static:
        c.KubeSpawner.profile_list = affordable_profiles(settings, static)


def affordable_profiles(
    settings: dict[str, Any],
    static: list[dict[str, Any]],
) -> Callable[[Any], Any]:
    """KubeSpawner's callable ``profile_list`` (a coroutine): each environment with its
    price an hour, those the remaining budget cannot pay an hour of left out (all of them,
    if none is affordable: the hook then refuses the start with the figures)."""

    async def profiles(spawner: Any) -> list[dict[str, Any]]:
        try:
            now = await asyncio.to_thread(ask_meter, settings, spawner.user.name, _groups(spawner))
        except RuntimeError:
            return static
        left = now.remaining()
        shown = []
        for profile in static:
            hour = profile_hourly(settings, str(profile.get("slug")))
            entry = dict(profile)
            if hour is not None:
                entry["description"] = f"{profile.get('description', '')} ({dollars(hour)}/hour)"
            if left is None or hour is None or hour <= left:
                shown.append(entry)
        if not shown:
            return static
        if not any(p.get("default") for p in shown):
            shown[0] = {**shown[0], "default": True}
        # the month so far, on the first environment (the page users choose on)
        note = now.warning()
        note = f"warning: {note}" if note else now.summary()
        if note:
            shown[0] = {**shown[0], "description": f"{shown[0].get('description', '')} -- {note}"}
        return shown

    return profiles


# --- the gateway --------------------------------------------------------------------------


def cluster_labels(config: dict[str, Any], user: Any, order: list[str]) -> dict[str, Any]:
    """``config`` (the options handler's) with the user's labels on schedulers and
    workers, added to any the config already has."""
    labels = pod_labels(user.name, sorted(getattr(user, "groups", None) or []), order)
    return {
        **config,
        "scheduler_extra_pod_labels": {**config.get("scheduler_extra_pod_labels", {}), **labels},
        "worker_extra_pod_labels": {**config.get("worker_extra_pod_labels", {}), **labels},
    }


def limit_cluster(
    config: dict[str, Any],
    options: Any,
    now: Standing,
    settings: dict[str, Any],
    max_workers: int,
) -> dict[str, Any]:
    """``config`` (the options handler's) under the limits: a user past the limit, or who
    cannot pay an hour of the scheduler and one worker, is refused (ValueError, which the
    gateway gives the client); otherwise the cluster's workers are capped at what the
    remaining budget pays an hour of."""
    dask = settings.get("dask") or {}
    pools = settings.get("pools") or {}
    scheduler = hourly(
        Request(quantity(dask["scheduler"]["cpu"]), quantity(dask["scheduler"]["memory"])),
        pools[dask["schedulerPool"]],
    )
    gpu = options.worker_kind == "gpu"
    worker = hourly(
        Request(
            Decimal(str(options.worker_cores)),
            Decimal(str(options.worker_memory)) * Decimal(1000**3),
            Decimal(1 if gpu else 0),
        ),
        pools[dask["gpuPool"] if gpu else dask["workerPool"]],
    )
    why = now.refusal(scheduler + worker, "a Dask scheduler and one worker")
    if why is not None:
        raise ValueError(why)
    left = now.remaining()
    if left is not None and worker > 0:
        affordable = int(((left - scheduler) / worker).to_integral_value(ROUND_DOWN))
        config = {**config, "cluster_max_workers": max(1, min(max_workers, affordable))}
    return config


def gateway_options(
    base: Any, settings: dict[str, Any], max_workers: int
) -> Callable[[Any], Awaitable[Any]]:
    """The gateway's ``cluster_options`` as a coroutine of the user (the gateway awaits it
    for the options form and for each new cluster): the user's standing read from the meter
    in a thread, so the gateway serves others meanwhile, then ``base``'s fields with a
    handler that applies ``base``'s own and the limits. A meter that cannot be read refuses
    the cluster (not the form)."""

    async def options_for(user: Any) -> Any:
        from dask_gateway_server.options import Options  # type: ignore[import-untyped]

        groups = sorted(getattr(user, "groups", None) or [])
        try:
            now: Standing | None = await asyncio.to_thread(ask_meter, settings, user.name, groups)
            problem = ""
        except RuntimeError as error:
            now, problem = None, str(error)

        def handler(options: Any, who: Any) -> dict[str, Any]:
            config = base.handler(options, who) if base.handler else {}
            if now is None:
                raise ValueError(problem)
            return limit_cluster(config, options, now, settings, max_workers)

        return Options(*base.fields, handler=handler)

    return options_for


# --- the meter ----------------------------------------------------------------------------


class Store:
    """Month-to-date charges per user and group, in SQLite (on the hub's volume)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.hourly: dict[str, Decimal] = {}
        """Each user's running pods' cost an hour, at the last tick."""
        self.lock = threading.Lock()
        with self.lock, self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS charges (month TEXT, kind TEXT, name TEXT, "
                "amount TEXT, PRIMARY KEY (month, kind, name))"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS ticks (at REAL)")

    def add(self, month: str, kind: str, name: str, amount: Decimal) -> None:
        with self.lock, self.db:
            row = self.db.execute(
                "SELECT amount FROM charges WHERE month = ? AND kind = ? AND name = ?",
                (month, kind, name),
            ).fetchone()
            total = amount + (Decimal(row[0]) if row else Decimal(0))
            self.db.execute(
                "INSERT OR REPLACE INTO charges VALUES (?, ?, ?, ?)",
                (month, kind, name, str(total)),
            )

    def spent(self, month: str, kind: str, name: str) -> Decimal:
        with self.lock:
            row = self.db.execute(
                "SELECT amount FROM charges WHERE month = ? AND kind = ? AND name = ?",
                (month, kind, name),
            ).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def month(self, month: str) -> dict[str, dict[str, str]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT kind, name, amount FROM charges WHERE month = ?", (month,)
            ).fetchall()
        result: dict[str, dict[str, str]] = {"user": {}, "group": {}}
        for kind, name, amount in rows:
            result.setdefault(kind, {})[name] = amount
        return result

    def last_tick(self) -> float | None:
        with self.lock:
            row = self.db.execute("SELECT at FROM ticks").fetchone()
        return None if row is None else float(row[0])

    def set_tick(self, at: float) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM ticks")
            self.db.execute("INSERT INTO ticks VALUES (?)", (at,))


def charges(
    pods: list[dict[str, Any]],
    pools: dict[str, Any],
    hours: Decimal,
) -> dict[str, dict[str, Decimal]]:
    """What ``hours`` of the running ``pods`` cost, per user and group label."""
    result: dict[str, dict[str, Decimal]] = {"user": {}, "group": {}}
    for pod in pods:
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        labels = (pod.get("metadata") or {}).get("labels") or {}
        user = labels.get(USER_LABEL)
        pool = pool_of(pod, pools)
        if not user or pool is None:
            continue
        cost = hourly(pod_request(pod), pools[pool]) * hours
        result["user"][user] = result["user"].get(user, Decimal(0)) + cost
        group = labels.get(GROUP_LABEL)
        if group:
            result["group"][group] = result["group"].get(group, Decimal(0)) + cost
    return result


#: The longest gap one tick charges for: a meter down longer (a restart) charges no more
#: than this for the time it missed, rather than guessing what ran.
MAX_TICK_SECONDS = 300


def tick(
    store: Store,
    pods: list[dict[str, Any]],
    pools: dict[str, Any],
    now: float,
) -> dict[str, dict[str, Decimal]]:
    """Charge the pods for the time since the last tick (at most MAX_TICK_SECONDS)."""
    last = store.last_tick()
    seconds = 0.0 if last is None else min(max(now - last, 0.0), MAX_TICK_SECONDS)
    hours = Decimal(str(seconds)) / 3600
    month = month_of(_dt.datetime.fromtimestamp(now, _dt.UTC))
    charged = charges(pods, pools, hours)
    for kind, names in charged.items():
        for name, amount in names.items():
            store.add(month, kind, name, amount)
    store.set_tick(now)
    # what each user's running pods cost an hour now
    store.hourly = charges(pods, pools, Decimal(1))["user"]
    return charged


def serve(store: Store, address: str, port: int) -> ThreadingHTTPServer:
    """``GET /spend?user=L&group=G``: the month to date of a user and group (their label
    values); ``GET /spend``: everyone's."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return

        def do_GET(self) -> None:
            url = urllib.parse.urlparse(self.path)
            if url.path.rstrip("/").rsplit("/", 1)[-1] != "spend":
                self.send_error(404)
                return
            query = urllib.parse.parse_qs(url.query)
            month = query.get("month", [month_of(_dt.datetime.now(_dt.UTC))])[0]
            if "user" in query:
                body: dict[str, Any] = {
                    "month": month,
                    "user": str(store.spent(month, "user", query["user"][0])),
                    "group": str(store.spent(month, "group", query.get("group", [""])[0])),
                    "hourly": str(store.hourly.get(query["user"][0], Decimal(0))),
                }
            else:
                body = {"month": month, **store.month(month)}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer((address, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def kubernetes_pods(namespace: str) -> list[dict[str, Any]]:
    """The namespace's pods, from the API server with the pod's service account."""
    import ssl

    account = Path("/var/run/secrets/kubernetes.io/serviceaccount")
    token = (account / "token").read_text().strip()
    context = ssl.create_default_context(cafile=str(account / "ca.crt"))
    request = urllib.request.Request(
        f"https://kubernetes.default.svc/api/v1/namespaces/{namespace}/pods",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:
        return list(json.load(answer).get("items") or [])


def main(
    settings: dict[str, Any],
    list_pods: Callable[[], list[dict[str, Any]]],
    every: float = 60,
) -> None:
    meter = settings["meterService"]
    store = Store(meter["database"])
    serve(store, meter.get("bind", "0.0.0.0"), int(meter["port"]))
    while True:
        try:
            tick(store, list_pods(), settings.get("pools") or {}, time.time())
        except Exception as error:  # one failed minute must not stop the meter
            print(f"gridcloud meter: {error}", flush=True)
        time.sleep(every)
