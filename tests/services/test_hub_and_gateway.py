"""End to end on localhost: the real JupyterHub (its chart's own configuration), the real
configurable-http-proxy and the real dask-gateway-server, configured as gridcloud
configures them in the cluster. A user logs in through OIDC (the faked boundary), the hub
starts their server, and the notebook's own token creates a Dask cluster through the
address the notebook is given."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import yaml

from gridcloud.render import Rendered, release_named
from tests.conftest import missing
from tests.services import local

pytestmark = [pytest.mark.integration, pytest.mark.needs("jupyterhub", "dask-gateway-server")]


@dataclass
class Facility:
    public: str
    """The proxy's public address (the Service proxy-public)."""
    oidc: local.FakeOidc
    env_dir: Path
    gateway_tcp: int
    allowed_groups: list[str]
    """The groups the hub admits, as its rendered configuration says."""
    root: Path

    def logs(self) -> str:
        """The services' logs, for a failure's message."""
        return "\n".join(
            f"--- {log}\n{(self.root / log).read_text()[-3000:]}"
            for log in ("hub.log", "proxy.log", "gateway.log")
        )


@pytest.fixture(scope="module")
def facility(rendered: dict[str, list[Rendered]]) -> Iterator[Facility]:
    with local_facility(
        release_named(rendered["default"], "jupyterhub"),
        release_named(rendered["default"], "dask-gateway"),
    ) as running:
        yield running


#: Changes to the hub's laid-out files (its folder) before it starts.
HubChange = Callable[[Path], None]
#: Changes to the gateway's rendered configuration text before it starts.
GatewayChange = Callable[[str], str]


@contextmanager
def local_facility(
    hub_release: Rendered,
    gateway_release: Rendered,
    hub_change: HubChange | None = None,
    gateway_change: GatewayChange | None = None,
) -> Iterator[Facility]:
    """The hub, proxy and gateway of these rendered releases on localhost."""
    if shutil.which("npm") is None:
        missing("npm is not installed (it installs configurable-http-proxy from the lock)")
    local.install_proxy()
    values = yaml.safe_load(local.decoded(hub_release.find("Secret", "hub").body)["values.yaml"])
    oauth = values["hub"]["config"]["GenericOAuthenticator"]
    login = values["custom"]["gridcloud"]["oidc"]
    ports = {k: local.free_port() for k in ("hub", "api", "public", "gw_api", "gw_http", "gw_tcp")}
    with tempfile.TemporaryDirectory(prefix="gridcloud-e2e-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        hub_dir, env_dir = root / "hub", root / "notebooks"
        env_dir.mkdir()
        secrets = local.lay_out_hub(hub_release, hub_dir)
        provider = stack.enter_context(
            local.FakeOidc(oauth["username_claim"], login["groupsClaim"])
        )
        local.point_login_at(hub_dir, provider)
        if hub_change is not None:
            hub_change(hub_dir)
        (hub_dir / "jupyterhub_config.d" / "zz-localhost.py").write_text(
            local.hub_overrides(
                hub=ports["hub"],
                proxy_api=ports["api"],
                public=ports["public"],
                # the gateway's Traefik, in the cluster
                hosts={"http://traefik-dask-gateway": f"http://127.0.0.1:{ports['gw_http']}"},
            )
        )
        # what Kubernetes gives the hub pod: its Deployment's env, the Services' variables
        hub_env = local.container_env(hub_release, "Deployment", "hub", secrets)
        hub_env |= {"HUB_SERVICE_PORT": "8081", "PROXY_API_SERVICE_PORT": "8001"}
        proxy_env = local.container_env(hub_release, "Deployment", "proxy", secrets)
        public = f"http://127.0.0.1:{ports['public']}"
        stack.enter_context(
            local.started(
                local.proxy_command(
                    hub_release, public=ports["public"], api=ports["api"], hub=ports["hub"]
                ),
                root / "proxy.log",
                local.python_env(**proxy_env),
                root,
                f"{public}/_chp_healthz",
            )
        )
        # the gateway first: the hub routes to a service only once it answers
        gateway_dir = root / "gateway"
        gateway_dir.mkdir()
        config = gateway_release.find("ConfigMap", "api-dask-gateway").body["data"]
        text = config["dask_gateway_config.py"]
        (gateway_dir / "dask_gateway_config.py").write_text(
            (gateway_change(text) if gateway_change else text)
            + local.gateway_overrides(
                api=ports["gw_api"],
                http=ports["gw_http"],
                tcp=ports["gw_tcp"],
                hub=ports["hub"],
                scratch=gateway_dir,
            )
        )
        stack.enter_context(
            local.started(
                ["dask-gateway-server", "--config", str(gateway_dir / "dask_gateway_config.py")],
                root / "gateway.log",
                local.python_env(
                    **local.container_env(
                        gateway_release, "Deployment", "api-dask-gateway", secrets
                    ),
                    DASK_TEMPORARY_DIRECTORY=str(gateway_dir),
                ),
                gateway_dir,
                f"http://127.0.0.1:{ports['gw_http']}/services/dask-gateway/api/health",
            )
        )
        hub = stack.enter_context(
            local.started(
                ["jupyterhub", "--config", str(hub_dir / "jupyterhub_config.py")],
                root / "hub.log",
                local.python_env(
                    **hub_env,
                    PYTHONPATH=str(hub_dir),
                    NOTEBOOK_ENV_DIR=str(env_dir),
                ),
                hub_dir,
                f"http://127.0.0.1:{ports['hub']}/hub/api",
            )
        )
        # and the proxy routes to the gateway
        local.wait_http(f"{public}/services/dask-gateway/api/health", hub, root / "hub.log")
        yield Facility(public, provider, env_dir, ports["gw_tcp"], oauth["allowed_groups"], root)


def _login(facility: Facility, user: str, groups: list[str]) -> requests.Response:
    facility.oidc.next_user = (user, groups)
    session = requests.Session()
    return session.get(f"{facility.public}/hub/oauth_login", timeout=30)


def _notebook_env(facility: Facility, user: str) -> dict[str, str]:
    path = facility.env_dir / f"{user}.json"
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{user}'s server never started"
        time.sleep(0.2)
    env: dict[str, str] = json.loads(path.read_text())
    return env


def test_a_member_of_an_allowed_group_logs_in_and_gets_a_server(facility: Facility) -> None:
    answer = _login(facility, "alice", facility.allowed_groups[:1])
    assert answer.status_code == 200, answer.text[-500:] + facility.logs()
    env = _notebook_env(facility, "alice")
    assert env["JUPYTERHUB_USER"] == "alice"


def test_the_login_goes_to_the_endpoint_the_providers_discovery_names(
    facility: Facility,
) -> None:
    """The provider lays out its endpoints as Keycloak does (not INDIGO IAM's
    /authorize): the hub read them from its discovery document when it started."""
    realm = local.FakeOidc.REALM
    assert f"{realm}/.well-known/openid-configuration" in facility.oidc.asked
    answer = requests.get(f"{facility.public}/hub/oauth_login", timeout=30, allow_redirects=False)
    assert answer.status_code == 302
    target = urlparse(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{facility.oidc.url}{realm}/protocol/openid-connect/auth"
    )
    query = parse_qs(target.query)
    assert query["redirect_uri"] == [f"{facility.public}/hub/oauth_callback"]
    assert query["scope"] == ["openid profile email"]


def test_the_token_request_carries_the_client_secret_in_the_form(facility: Facility) -> None:
    """The provider accepts client_secret_post (its document says so): the hub sends the
    client's ID and secret in the form, the secret from the hub's OIDC Secret."""
    _login(facility, "dora", facility.allowed_groups[:1])
    form = facility.oidc.token_forms[-1]
    assert form["grant_type"] == ["authorization_code"]
    assert form["client_id"] == ["atlas-gcp-jupyterhub"]
    assert form["client_secret"] == ["stand-in-secret"]


def test_a_user_outside_the_allowed_groups_is_refused(facility: Facility) -> None:
    answer = _login(facility, "mallory", ["somebody-else"])
    assert answer.status_code == 403
    assert not (facility.env_dir / "mallory.json").exists()


def _address(env: dict[str, str], facility: Facility) -> tuple[str, str]:
    """The notebook's gateway addresses with cluster names as localhost: proxy-public is
    the hub proxy's public Service; the scheduler proxy is the gateway's Traefik."""
    address = urlparse(env["DASK_GATEWAY__ADDRESS"])
    assert address.hostname == "proxy-public"
    public = urlparse(facility.public)
    http = address._replace(netloc=public.netloc).geturl()
    return http, f"gateway://127.0.0.1:{facility.gateway_tcp}"


def test_a_notebooks_token_creates_a_dask_cluster_through_the_hubs_proxy(
    facility: Facility,
) -> None:
    from dask_gateway import Gateway, JupyterHubAuth

    _login(facility, "bob", facility.allowed_groups[:1])
    env = _notebook_env(facility, "bob")
    token = env["JUPYTERHUB_API_TOKEN"]
    # the token a notebook holds carries the scope the gateway requires (and no more)
    who = requests.get(
        f"{facility.public}/hub/api/user",
        headers={"Authorization": f"token {token}"},
        timeout=10,
    ).json()
    assert "access:services!service=dask-gateway" in who["scopes"]
    assert "admin:users" not in who["scopes"]

    http, tcp = _address(env, facility)
    gateway = Gateway(address=http, proxy_address=tcp, auth=JupyterHubAuth(api_token=token))
    try:
        _create_a_cluster(gateway, http)
    except Exception as error:
        raise AssertionError(f"{error!r}\n{facility.logs()}") from error
    finally:
        gateway.close()


def _create_a_cluster(gateway: Any, http: str) -> None:
    assert gateway.list_clusters() == []
    options = gateway.cluster_options()
    assert options.worker_kind == "cpu"
    cluster = gateway.new_cluster(options, shutdown_on_close=True)
    try:
        assert [c.name for c in gateway.list_clusters()] == [cluster.name]
        # the dashboard is served through the same address, under the hub service
        assert cluster.dashboard_link.startswith(f"{http}/clusters/")
    finally:
        cluster.shutdown()
        cluster.close()


def test_the_gateway_refuses_the_users_token_without_its_scope(facility: Facility) -> None:
    """A token of the same user, made without ``access:services!service=dask-gateway``
    (what every notebook had before the server role carried it), is refused."""
    from dask_gateway import Gateway, JupyterHubAuth

    session = requests.Session()
    facility.oidc.next_user = ("carol", facility.allowed_groups[:1])
    assert session.get(f"{facility.public}/hub/oauth_login", timeout=30).status_code == 200
    made = session.post(
        f"{facility.public}/hub/api/users/carol/tokens",
        json={"scopes": ["read:users:name!user"], "note": "no gateway access"},
        headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    env = _notebook_env(facility, "carol")
    http, tcp = _address(env, facility)
    gateway = Gateway(
        address=http, proxy_address=tcp, auth=JupyterHubAuth(api_token=made.json()["token"])
    )
    try:
        with pytest.raises(Exception, match="401|Permission failure"):
            gateway.list_clusters()
    finally:
        gateway.close()
    # and the notebook's own token is accepted
    own = Gateway(address=http, proxy_address=tcp, auth=JupyterHubAuth(env["JUPYTERHUB_API_TOKEN"]))
    try:
        assert own.list_clusters() == []
    finally:
        own.close()


def test_the_proxy_answers_the_load_balancers_health_check(facility: Facility) -> None:
    """GKE checks the hub's backend at the proxy's readiness path (/_chp_healthz on the
    public port); its default, GET /, would see a redirect and mark the hub unhealthy."""
    assert requests.get(f"{facility.public}/_chp_healthz", timeout=10).status_code == 200
    root = requests.get(f"{facility.public}/", timeout=10, allow_redirects=False)
    assert root.status_code == 302
