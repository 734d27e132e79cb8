"""Per-user spending: the meter's charge for a known set of pods and hours, computed here by
hand; the limits as the hub's hook, its environments and the gateway's handler apply them,
against the real meter's HTTP answer; the settings the plan writes, from the estimate's
prices."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gridcloud.incluster import spending
from gridcloud.incluster.spending import GROUP_LABEL, USER_LABEL, Store

#: Two pools as the plan writes them: (node-hour, vCPUs, GB, GPUs).
POOLS = {
    "ondemand": {
        "hourly": "0.20",
        "vcpus": 4,
        "memoryGb": "16",
        "gpus": 0,
        "selector": {"gridcloud-pool": "ondemand"},
    },
    "cpu": {
        "hourly": "0.40",
        "vcpus": 8,
        "memoryGb": "32",
        "gpus": 0,
        "selector": {"gridcloud-pool": "cpu"},
    },
    "gpu": {
        "hourly": "0.80",
        "vcpus": 8,
        "memoryGb": "30",
        "gpus": 1,
        "selector": {"gridcloud-pool": "gpu"},
    },
}


def pod(
    pool: str,
    cpu: str,
    memory: str,
    user: str | None,
    *,
    group: str | None = None,
    phase: str = "Running",
    gpus: int = 0,
) -> dict[str, Any]:
    """A pod as the API server lists it (the fields the meter reads)."""
    labels = {"app.kubernetes.io/component": "x"}
    if user:
        labels[USER_LABEL] = user
    if group:
        labels[GROUP_LABEL] = group
    resources: dict[str, Any] = {"requests": {"cpu": cpu, "memory": memory}}
    if gpus:
        # an extended resource: given as a limit, as KubeSpawner's extra_resource_limits
        resources["limits"] = {"nvidia.com/gpu": str(gpus)}
    return {
        "metadata": {"labels": labels},
        "spec": {
            "nodeSelector": {"gridcloud-pool": pool},
            "containers": [{"name": "c", "resources": resources}],
        },
        "status": {"phase": phase},
    }


#: alice: a notebook (1 core, 4G), a Dask scheduler (0.5 core, 1G), two workers (2 cores,
#: 8G as the gateway writes it); bob: a GPU notebook; a pending pod and an unlabelled one.
PODS = [
    pod("ondemand", "1", "4G", "alice", group="atlas"),
    pod("ondemand", "0.500", "1G", "alice", group="atlas"),
    pod("cpu", "2.000", "8.000000G", "alice", group="atlas"),
    pod("cpu", "2.000", "8.000000G", "alice", group="atlas"),
    pod("gpu", "1", "4G", "bob", gpus=1),
    pod("cpu", "2", "8G", "carol", group="atlas", phase="Pending"),
    pod("cpu", "4", "16Gi", None),
]

# By hand: a pod pays its node's price times its largest share of the node.
# alice's notebook: 1/4 of the vCPUs (4 GB of 16 GiB is 0.233) -> 0.25 x 0.20 = 0.05 an hour
# her scheduler: 0.5/4 = 0.125 of the vCPUs (1 GB: 0.058) -> 0.125 x 0.20 = 0.025
# each worker: 2/8 = 0.25 of the vCPUs (8 GB of 32 GiB: 0.233) -> 0.25 x 0.40 = 0.10
# alice: 0.05 + 0.025 + 2 x 0.10 = 0.275 an hour; bob's GPU notebook: its node's one GPU,
# the whole node: 0.80 an hour
ALICE_HOURLY = Decimal("0.275")
BOB_HOURLY = Decimal("0.80")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "meter.sqlite"))


def test_the_meter_charges_what_was_computed_by_hand(store: Store) -> None:
    start = 1_793_000_000.0  # 2026-10-27, mid-month
    for minute in range(91):  # the first tick starts the clock; then 90 minutes
        spending.tick(store, PODS, POOLS, start + 60 * minute)
    month = spending.month_of(spending._dt.datetime.fromtimestamp(start, spending._dt.UTC))
    assert month == "2026-10"
    assert store.spent(month, "user", "alice") == pytest.approx(ALICE_HOURLY * Decimal("1.5"))
    assert round(store.spent(month, "user", "alice"), 6) == Decimal("0.412500")
    assert round(store.spent(month, "user", "bob"), 6) == Decimal("1.200000")
    assert round(store.spent(month, "group", "atlas"), 6) == Decimal("0.412500")
    # the pending pod and the unlabelled one are nobody's charge
    assert store.month(month)["user"].keys() == {"alice", "bob"}


def test_the_store_survives_a_restart_and_charges_no_more_than_five_minutes_of_a_gap(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "meter.sqlite")
    start = 1_793_000_000.0
    first = Store(path)
    spending.tick(first, PODS, POOLS, start)
    spending.tick(first, PODS, POOLS, start + 3600)  # an hour later: only 5 minutes charged
    first.db.close()
    again = Store(path)
    spending.tick(again, PODS, POOLS, start + 3660)  # a minute after the restart
    # 5 + 1 minutes of alice's 0.275 an hour
    assert round(again.spent("2026-10", "user", "alice"), 6) == Decimal("0.027500")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def meter(store: Store) -> Iterator[tuple[str, Store]]:
    port = _free_port()
    server = spending.serve(store, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.shutdown()
        server.server_close()


def test_the_meter_answers_a_users_and_groups_month(meter: tuple[str, Store]) -> None:
    url, store = meter
    month = spending.month_of(spending._dt.datetime.now(spending._dt.UTC))
    store.add(month, "user", "alice", Decimal("12.5"))
    store.add(month, "group", "atlas", Decimal("40"))
    spending.tick(store, PODS, POOLS, 1_793_000_000.0)  # alice's pods: 0.275 an hour
    with urllib.request.urlopen(f"{url}/spend?user=alice&group=atlas", timeout=5) as answer:
        got = json.load(answer)
    assert Decimal(got.pop("hourly")) == ALICE_HOURLY
    assert got == {"month": month, "user": "12.5", "group": "40"}
    with urllib.request.urlopen(f"{url}/spend", timeout=5) as answer:
        assert json.load(answer)["user"] == {"alice": "12.5"}


def run(coroutine: Any) -> Any:
    """``coroutine`` to its end on a loop of its own (asyncio.run would leave the thread
    without a current loop, which later tests of the same run may need)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def settings(url: str, **limits: Any) -> dict[str, Any]:
    return {
        "groupOrder": ["atlas"],
        "pools": POOLS,
        "profiles": {
            "cpu": {"pool": "ondemand", "cpu": "1", "memory": "4G", "gpus": 0},
            "gpu-gpu": {"pool": "gpu", "cpu": "1", "memory": "4G", "gpus": 1},
        },
        "dask": {
            "schedulerPool": "ondemand",
            "workerPool": "cpu",
            "gpuPool": "gpu",
            "scheduler": {"cpu": "0.5", "memory": "1G"},
        },
        "limits": {"warnAt": "0.8", **limits},
        "meter": url,
    }


PROFILES = [
    {"slug": "cpu", "display_name": "Analysis (CPU)", "description": "CPU", "default": True},
    {"slug": "gpu-gpu", "display_name": "GPU", "description": "GPU"},
]


def spawner(name: str, groups: list[str], profile: str = "cpu") -> Any:
    log = logging.getLogger("test-spending")
    user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups])
    return SimpleNamespace(user=user, extra_labels={}, user_options={"profile": profile}, log=log)


def hub(config: dict[str, Any]) -> Any:
    from traitlets.config import Config

    c = Config()
    c.KubeSpawner.profile_list = PROFILES
    spending.hub_setup(c, config)
    return c


def month_now() -> str:
    return spending.month_of(spending._dt.datetime.now(spending._dt.UTC))


def test_the_hub_refuses_a_server_past_the_limit_with_the_figures(
    meter: tuple[str, Store],
) -> None:
    from tornado import web

    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("100.004"))
    c = hub(settings(url, userMonthly="100"))
    with pytest.raises(web.HTTPError) as refused:
        run(c.Spawner.pre_spawn_hook(spawner("alice", ["atlas"])))
    assert refused.value.status_code == 403
    assert refused.value.log_message == (
        "Spending limit reached: alice has spent $100.00 of $100.00 this month. "
        "Ask your group's administrator."
    )


def test_the_hub_starts_a_server_under_the_limit_labelled_with_the_group(
    meter: tuple[str, Store],
) -> None:
    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("10"))
    c = hub(settings(url, userMonthly="100", groupMonthly="1000"))
    alice = spawner("alice", ["cms", "atlas"])
    run(c.Spawner.pre_spawn_hook(alice))
    assert alice.extra_labels == {GROUP_LABEL: "atlas"}


def test_the_groups_limit_counts_the_groups_spending(meter: tuple[str, Store]) -> None:
    from tornado import web

    url, store = meter
    store.add(month_now(), "group", "atlas", Decimal("2000"))
    c = hub(settings(url, userMonthly="100", groups={"atlas": "2000"}))
    with pytest.raises(web.HTTPError, match=r"group atlas has spent \$2,000.00 of \$2,000.00"):
        run(c.Spawner.pre_spawn_hook(spawner("dora", ["atlas"])))
    # a user of no limited group, with no spending of their own, starts
    run(c.Spawner.pre_spawn_hook(spawner("erin", ["cms"])))


def test_the_hub_hides_environments_the_budget_cannot_pay_an_hour_of(
    meter: tuple[str, Store],
) -> None:
    url, store = meter
    # 0.30 left: the CPU notebook (0.05 an hour) is shown, the GPU one (0.80) is not
    store.add(month_now(), "user", "alice", Decimal("9.70"))
    c = hub(settings(url, userMonthly="10"))
    shown = run(c.KubeSpawner.profile_list(spawner("alice", [])))
    assert [p["slug"] for p in shown] == ["cpu"]
    assert shown[0]["description"].startswith("CPU ($0.05/hour) -- warning: alice has spent")
    # with the whole limit left, both, each with its price
    fresh = run(c.KubeSpawner.profile_list(spawner("frank", [])))
    assert [p["description"] for p in fresh] == [
        "CPU ($0.05/hour) -- frank has spent $0.00 of $10.00 this month",
        "GPU ($0.80/hour)",
    ]


def test_a_gpu_environment_past_the_remaining_budget_is_refused(meter: tuple[str, Store]) -> None:
    from tornado import web

    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("9.70"))
    c = hub(settings(url, userMonthly="10"))
    with pytest.raises(web.HTTPError, match=r"costs \$0.80 an hour and \$0.30 is left"):
        run(c.Spawner.pre_spawn_hook(spawner("alice", [], profile="gpu-gpu")))


def test_an_unreadable_meter_refuses_the_start() -> None:
    from tornado import web

    c = hub(settings(f"http://127.0.0.1:{_free_port()}", userMonthly="10"))
    with pytest.raises(web.HTTPError, match="spending meter") as refused:
        run(c.Spawner.pre_spawn_hook(spawner("alice", [])))
    assert refused.value.status_code == 503


def _handler(options: Any, user: Any) -> dict[str, Any]:
    return spending.cluster_labels({"worker_cores": options.worker_cores}, user, ["atlas"])


def cluster_config(url: str, user: str, kind: str = "cpu", **limits: Any) -> dict[str, Any]:
    """What the gateway makes of a request for a cluster of 2-core, 8 GB workers: its
    ``cluster_options`` (awaited as the gateway awaits it), the request parsed and
    configured by those options, as ``Backend.process_cluster_options`` does."""
    from dask_gateway_server.models import User
    from dask_gateway_server.options import Float, Integer, Options, Select

    base = Options(
        Integer("worker_cores", 2, min=1, max=8),
        Float("worker_memory", 8, min=1, max=32),
        Select("worker_kind", ["cpu", "gpu"], default="cpu"),
        handler=_handler,
    )
    who = User(user, groups=["atlas"])
    options = run(spending.gateway_options(base, settings(url, **limits), 200)(who))
    requested = options.parse_options({"worker_cores": 2, "worker_memory": 8, "worker_kind": kind})
    config: dict[str, Any] = options.get_configuration(requested, who)
    return config


def test_the_gateway_shrinks_a_cluster_to_what_the_budget_pays_an_hour_of(
    meter: tuple[str, Store],
) -> None:
    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("99"))
    config = cluster_config(url, "alice", userMonthly="100")
    # 1.00 left: the scheduler 0.025 an hour, a worker (2 cores, 8 GB on the cpu pool) 0.10:
    # (1.00 - 0.025) / 0.10 = 9.75 -> 9 workers
    assert config["cluster_max_workers"] == 9
    assert config["worker_extra_pod_labels"] == {USER_LABEL: "alice", GROUP_LABEL: "atlas"}
    assert config["worker_cores"] == 2  # the base handler's configuration kept


def test_the_gateway_refuses_a_cluster_past_the_limit(meter: tuple[str, Store]) -> None:
    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("100"))
    with pytest.raises(ValueError, match=r"Spending limit reached: alice has spent \$100.00"):
        cluster_config(url, "alice", userMonthly="100")


def test_the_gateway_refuses_a_gpu_worker_the_budget_cannot_pay_an_hour_of(
    meter: tuple[str, Store],
) -> None:
    url, store = meter
    store.add(month_now(), "user", "alice", Decimal("99.50"))
    # a CPU cluster fits in the 0.50 left (4 workers); a GPU worker takes the GPU node (0.80)
    assert cluster_config(url, "alice", userMonthly="100")["cluster_max_workers"] == 4
    with pytest.raises(ValueError, match=r"costs \$0.83 an hour and \$0.50 is left"):
        cluster_config(url, "alice", kind="gpu", userMonthly="100")


def test_an_unreadable_meter_refuses_a_cluster() -> None:
    with pytest.raises(ValueError, match="spending meter"):
        cluster_config(f"http://127.0.0.1:{_free_port()}", "alice", userMonthly="100")


def _planned(limits: dict[str, Any]) -> tuple[Any, Any]:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.profile import parse_profile
    from tests.conftest import default_data

    data = default_data()
    data["services"]["jupyter"]["spending"] = limits
    catalog = load_catalog()
    return planned(parse_profile(yaml.safe_dump(data), "default/spending", catalog), catalog)


def test_the_plan_gives_the_meter_the_estimates_node_prices() -> None:
    plan, priced = _planned({"userMonthly": 150, "groups": {"atlas-higgs": 4000}})
    hub = plan.services.release("jupyterhub").values
    settings = hub["custom"]["gridcloud"]["spending"]
    estimate = {p.name: p.node_hourly for p in priced.pools}
    assert {k: Decimal(v["hourly"]) for k, v in settings["pools"].items()} == {
        k: v for k, v in estimate.items() if v is not None
    }
    assert settings["limits"]["userMonthly"] == "150"
    # the group with a limit first, then the hub's allowed groups
    assert settings["groupOrder"] == ["atlas-higgs", "atlas"]
    # group limits need the groups claim read
    assert hub["hub"]["config"]["GenericOAuthenticator"]["manage_groups"] is True
    # the meter in the hub's pod, reachable by the gateway through the hub Service
    assert hub["hub"]["service"]["extraPorts"] == [
        {"name": "meter", "port": 8765, "targetPort": 8765}
    ]
    gateway = plan.services.release("dask-gateway").values["gateway"]["extraConfig"]
    assert "http://hub:8765" in gateway["gridcloud-spending"]


def test_without_limits_the_meter_runs_and_nothing_is_enforced() -> None:
    plan, _ = _planned({})
    hub = plan.services.release("jupyterhub").values
    settings = hub["custom"]["gridcloud"]["spending"]
    assert settings["meterService"]["database"] == "/srv/jupyterhub/gridcloud-meter.sqlite"
    assert not spending.limited(settings)
    gateway = plan.services.release("dask-gateway").values["gateway"]["extraConfig"]
    assert "gridcloud-spending" not in gateway


def test_the_users_page_shows_the_month_the_limits_and_what_runs_an_hour() -> None:
    now = spending.standing(
        settings("http://meter", userMonthly="100", groupMonthly="1000"),
        "alice",
        ["cms", "atlas"],
        {"user": "12", "group": "40", "hourly": "0.275"},
    )
    assert now.summary() == (
        "alice has spent $12.00 of $100.00 this month; group atlas has spent $40.00 of "
        "$1,000.00; running now: $0.28 an hour"
    )
    assert now.warning() is None
    assert spending.standing(
        settings("http://meter", userMonthly="100"), "alice", [], {"user": "80"}
    ).warning() == ("alice has spent $80.00 of $100.00 this month (80 %)")


def test_limits_on_an_existing_cluster_are_said_not_to_be_enforced() -> None:
    import yaml

    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.profile import parse_profile
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["services"]["jupyter"]["spending"] = {"userMonthly": 50}
    catalog = load_catalog()
    plan, _ = planned(parse_profile(yaml.safe_dump(data), "onprem/limited", catalog), catalog)
    assert [w for w in plan.warnings if "spending" in w] == [
        "services.jupyter.spending: limits in dollars need the nodes' prices, which an "
        "existing cluster has none of; they are not enforced there (pods are still labelled "
        "with their user and group)"
    ]
    assert (
        "meterService"
        not in (plan.services.release("jupyterhub").values["custom"]["gridcloud"]["spending"])
    )
