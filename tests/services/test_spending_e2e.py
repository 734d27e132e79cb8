"""Spending limits end to end on localhost: the real JupyterHub, proxy and dask-gateway-server
(as test_hub_and_gateway runs them) from a *priced* plan with a $100 monthly limit per user,
the meter started by the hub as the cluster's hub starts it (a JupyterHub service running
the rendered boot code), its SQLite store holding what the month has charged so far.

A user under the limit starts a server and a Dask cluster; a user over it is refused both,
with the figures. What stands in: the meter reads its pods from a file (no API server here;
its charging is tested in tests/unit/test_spending.py), the meter's address and database are
local, and the gateway's ``http://hub:8765`` is that address (as cluster DNS names are)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from gridcloud.incluster import spending
from gridcloud.plan.services.spending import METER_PORT
from gridcloud.render import Rendered, release_named, render_plan
from tests.conftest import default_data, require
from tests.services import local
from tests.services.conftest import charts
from tests.services.test_hub_and_gateway import (
    Facility,
    _address,
    _login,
    _notebook_env,
    local_facility,
)

require("jupyterhub")
require("dask_gateway_server")
pytestmark = pytest.mark.integration

LIMIT = 100
#: Already charged this month when the meter starts (its store survives restarts).
OVER = "oscar"
OVER_SPENT = Decimal("150.25")


@pytest.fixture(scope="module")
def objects() -> list[Rendered]:
    """The default profile with a limit a user, priced (as ``gridcloud up`` plans it) and
    rendered by Helm."""
    from gridcloud.analysis import planned
    from gridcloud.catalog import load_catalog
    from gridcloud.profile import parse_profile

    data = default_data()
    data["services"]["jupyter"]["spending"] = {"userMonthly": LIMIT}
    catalog = load_catalog()
    plan, _ = planned(parse_profile(yaml.safe_dump(data), "default/limited", catalog), catalog)
    return render_plan(plan, charts())


def test_the_gateway_may_reach_the_meter_through_the_hub_service(
    objects: list[Rendered],
) -> None:
    """What the test below replaces by localhost: the hub Service has the meter's port, and
    the hub's NetworkPolicy lets in, on that port, the pods of the gateway's Deployment."""
    hub = release_named(objects, "jupyterhub")
    gateway = release_named(objects, "dask-gateway")
    service = hub.find("Service", "hub").body
    assert {"name": "meter", "port": METER_PORT, "targetPort": METER_PORT, "protocol": "TCP"} in [
        {**p, "protocol": p.get("protocol", "TCP")} for p in service["spec"]["ports"]
    ]
    policy = hub.find("NetworkPolicy", "hub").body
    labels = gateway.find("Deployment", "api-dask-gateway").body["spec"]["template"]["metadata"][
        "labels"
    ]
    admitted = [
        rule
        for rule in policy["spec"]["ingress"]
        if {"port": METER_PORT} in rule.get("ports", [])
        and any(
            source["podSelector"]["matchLabels"].items() <= labels.items()
            for source in rule.get("from", [])
        )
    ]
    assert admitted
    assert (
        f"http://hub:{METER_PORT}"
        in gateway.find("ConfigMap", "api-dask-gateway").body["data"]["dask_gateway_config.py"]
    )


#: The local meter's address and the user pool's node-hour, once the fixture has them.
METER: dict[str, str] = {}


def running_notebook(user: str, selector: dict[str, str]) -> dict[str, Any]:
    """A notebook pod as the API server lists it: 1 core and 4G requested (the chart's
    guarantees), on the user pool."""
    return {
        "metadata": {
            "labels": {"hub.jupyter.org/username": user, "component": "singleuser-server"}
        },
        "spec": {
            "nodeSelector": selector,
            "containers": [
                {"name": "notebook", "resources": {"requests": {"cpu": "1", "memory": "4G"}}}
            ],
        },
        "status": {"phase": "Running"},
    }


@pytest.fixture(scope="module")
def limited(
    objects: list[Rendered], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Facility]:
    folder = tmp_path_factory.mktemp("meter")
    database = folder / "meter.sqlite"
    pods = folder / "pods.json"
    pods.write_text("[]")
    port = local.free_port()
    meter = f"http://127.0.0.1:{port}"
    month = spending.month_of(spending._dt.datetime.now(spending._dt.UTC))
    store = spending.Store(str(database))
    store.add(month, "user", OVER, OVER_SPENT)
    store.db.close()

    def hub_change(hub_dir: Path) -> None:
        path = hub_dir / "secret" / "values.yaml"
        values = yaml.safe_load(path.read_text())
        settings = values["custom"]["gridcloud"]["spending"]
        settings["meter"] = meter
        settings["meterService"] |= {"port": port, "bind": "127.0.0.1", "database": str(database)}
        # the meter's pods from a file (no API server here): petra's notebook, as the API
        # server lists it, on the user pool; a tick a second
        ondemand = settings["pools"]["ondemand"]
        pods.write_text(json.dumps([running_notebook("petra", ondemand["selector"])]))
        METER.update(url=meter, ondemand_hourly=ondemand["hourly"])
        values["hub"]["extraConfig"]["zz-local-meter"] = (
            "for _service in c.JupyterHub.services:\n"
            "    if _service['name'] == 'gridcloud-meter':\n"
            f"        _service['environment']['GRIDCLOUD_METER_PODS'] = {str(pods)!r}\n"
            "        _service['environment']['GRIDCLOUD_METER_EVERY'] = '1'\n"
        )
        path.write_text(yaml.safe_dump(values))

    def gateway_change(text: str) -> str:
        assert f"http://hub:{METER_PORT}" in text
        return text.replace(f"http://hub:{METER_PORT}", meter)

    with local_facility(
        release_named(objects, "jupyterhub"),
        release_named(objects, "dask-gateway"),
        hub_change,
        gateway_change,
    ) as facility:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{meter}/spend", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the meter never answered\n{facility.logs()}"
            time.sleep(0.3)
        yield facility


def _gateway(facility: Facility, token: str, env: dict[str, str] | None = None) -> Any:
    from dask_gateway import Gateway, JupyterHubAuth

    if env is None:
        env = {"DASK_GATEWAY__ADDRESS": "http://proxy-public/services/dask-gateway"}
    http, tcp = _address(env, facility)
    return Gateway(address=http, proxy_address=tcp, auth=JupyterHubAuth(api_token=token))


def test_a_user_under_the_limit_starts_a_server_and_a_dask_cluster(limited: Facility) -> None:
    answer = _login(limited, "ursula", limited.allowed_groups[:1])
    assert answer.status_code == 200, answer.text[-500:] + limited.logs()
    env = _notebook_env(limited, "ursula")
    gateway = _gateway(limited, env["JUPYTERHUB_API_TOKEN"], env)
    try:
        cluster = gateway.new_cluster(shutdown_on_close=True)
        try:
            assert [c.name for c in gateway.list_clusters()] == [cluster.name]
        finally:
            cluster.shutdown()
            cluster.close()
    except Exception as error:
        raise AssertionError(f"{error!r}\n{limited.logs()}") from error
    finally:
        gateway.close()


WHY = "Spending limit reached: oscar has spent $150.25 of $100.00 this month."


def test_a_user_over_the_limit_is_refused_a_server_with_the_figures(limited: Facility) -> None:
    """The login takes the user to their server's start, which the hub refuses: the page
    they land on says why; a start through the API fails the same way."""
    session = requests.Session()
    limited.oidc.next_user = (OVER, limited.allowed_groups[:1])
    landed = session.get(f"{limited.public}/hub/oauth_login", timeout=30)
    # the start runs while the user is shown its progress: the page says why once it failed
    deadline = time.monotonic() + 30
    while landed.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        landed = session.get(f"{limited.public}/hub/spawn-pending/{OVER}", timeout=30)
    assert landed.status_code == 403, landed.text[-500:] + limited.logs()
    assert WHY in landed.text
    asked = session.post(
        f"{limited.public}/hub/api/users/{OVER}/server",
        headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
        timeout=30,
    )
    assert asked.status_code == 202  # accepted, then the hook refuses it
    pending = session.get(f"{limited.public}/hub/spawn-pending/{OVER}", timeout=30)
    while pending.status_code == 200 and time.monotonic() < deadline + 30:
        time.sleep(0.5)
        pending = session.get(f"{limited.public}/hub/spawn-pending/{OVER}", timeout=30)
    assert pending.status_code == 403
    assert WHY in pending.text
    who = session.get(f"{limited.public}/hub/api/user", timeout=10).json()
    assert who["servers"] == {}
    assert not (limited.env_dir / f"{OVER}.json").exists()


def test_a_user_over_the_limit_is_refused_a_dask_cluster_with_the_figures(
    limited: Facility,
) -> None:
    session = requests.Session()
    limited.oidc.next_user = (OVER, limited.allowed_groups[:1])
    session.get(f"{limited.public}/hub/oauth_login", timeout=30)
    made = session.post(
        f"{limited.public}/hub/api/users/{OVER}/tokens",
        json={"scopes": ["access:services!service=dask-gateway"], "note": "a notebook's"},
        headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    gateway = _gateway(limited, made.json()["token"])
    try:
        with pytest.raises(Exception, match=WHY.replace("$", r"\$").replace(".", r"\.")):
            gateway.new_cluster()
        assert gateway.list_clusters() == []
    finally:
        gateway.close()


def test_the_meter_the_hub_started_charges_a_running_notebook(limited: Facility) -> None:
    """The meter process the hub started from the rendered code charges petra's notebook
    every second: by hand, 1 core of the user pool's 16 (4 GB of 64 GiB is less), so 1/16
    of the node-hour an hour."""
    want = Decimal(METER["ondemand_hourly"]) / 16
    deadline = time.monotonic() + 30
    while True:
        got = requests.get(f"{METER['url']}/spend?user=petra", timeout=5).json()
        if Decimal(got["user"]) > 0:
            break
        assert time.monotonic() < deadline, f"nothing charged\n{limited.logs()}"
        time.sleep(0.5)
    assert Decimal(got["hourly"]) == want
    # a few ticks of a second each, each at most five minutes' worth
    assert Decimal(got["user"]) <= want * 300 / 3600
