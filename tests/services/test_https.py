"""HTTPS for the hub and REANA on Google Cloud: what GKE's Ingress controller needs from the
rendered objects for its load balancer to serve each hostname, and nothing left exposed
around it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gridcloud.plan import Plan
from gridcloud.render import Rendered
from gridcloud.render.manifests import Manifest

GCP = ("default", "small", "default/regional", "default/europe-west4")


def _all(rendered: list[Rendered]) -> list[Manifest]:
    return [m for r in rendered for m in r.manifests]


def _named(rendered: list[Rendered], kind: str, namespace: str) -> dict[str, dict[str, Any]]:
    return {
        m.body["metadata"]["name"]: m.body
        for m in _all(rendered)
        if m.kind == kind and m.body["metadata"].get("namespace", namespace) == namespace
    }


def _hostnames(name: str) -> dict[str, str]:
    """Namespace -> hostname, from the shipped profile (the default's variants keep its)."""
    import yaml

    from tests.conftest import PROFILES

    stem = name.split("/", maxsplit=1)[0]
    services = yaml.safe_load((PROFILES / f"{stem}.yaml").read_text())["services"]
    found = {}
    for key, namespace in (("jupyter", "jupyter"), ("reana", "reana")):
        settings = services.get(key, {})
        if settings.get("enabled", True) and settings.get("hostname"):
            found[settings.get("namespace", namespace)] = settings["hostname"]
    return found


@pytest.mark.parametrize("name", GCP)
def test_each_hostname_has_an_ingress_on_its_static_address_with_a_managed_certificate(
    name: str, plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    hosts = _hostnames(name)
    assert hosts, "the profile serves nothing over HTTPS"
    addresses = {i.hostname: i.address for i in plans[name].services.ingresses}
    assert set(addresses) == set(hosts.values())
    for namespace, host in hosts.items():
        ingresses = _named(rendered[name], "Ingress", namespace)
        (ingress,) = (
            i
            for i in ingresses.values()
            if i["spec"]["rules"][0]["host"] == host
            and i["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce"
        )
        notes = ingress["metadata"]["annotations"]
        assert notes["kubernetes.io/ingress.class"] == "gce"
        assert notes["kubernetes.io/ingress.global-static-ip-name"] == addresses[host]
        certificates = _named(rendered[name], "ManagedCertificate", namespace)
        assert certificates[notes["networking.gke.io/managed-certificates"]]["spec"] == {
            "domains": [host]
        }
        redirect = _named(rendered[name], "FrontendConfig", namespace)[
            notes["networking.gke.io/v1beta1.FrontendConfig"]
        ]
        assert redirect["spec"]["redirectToHttps"]["enabled"] is True


@pytest.mark.parametrize("name", GCP)
def test_every_backend_is_a_rendered_service_port_with_network_endpoint_groups(
    name: str, rendered: dict[str, list[Rendered]]
) -> None:
    """GKE's load balancer reaches pods through NEGs: each backend Service must exist, serve
    the port the Ingress names and carry cloud.google.com/neg (ClusterIP Services without
    it are refused by the Ingress controller)."""
    checked = 0
    for ingress in (m.body for m in _all(rendered[name]) if m.kind == "Ingress"):
        if ingress["metadata"]["annotations"].get("kubernetes.io/ingress.class") != "gce":
            continue  # REANA's own Ingress, which its router serves
        namespace = ingress["metadata"]["namespace"]
        services = _named(rendered[name], "Service", namespace)
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            backend = path["backend"]["service"]
            service = services[backend["name"]]
            assert backend["port"]["number"] in [p["port"] for p in service["spec"]["ports"]]
            neg = json.loads(service["metadata"]["annotations"]["cloud.google.com/neg"])
            assert neg == {"ingress": True}
            checked += 1
    assert checked >= 1


@pytest.mark.parametrize("name", GCP)
def test_nothing_else_is_exposed_outside_the_cluster(
    name: str, rendered: dict[str, list[Rendered]]
) -> None:
    """The load balancer is the one way in: no LoadBalancer or NodePort Service (the proxy's
    and REANA's Traefik used to be)."""
    exposed = [
        f"{m.body['metadata'].get('namespace')}/{m.body['metadata']['name']}"
        for m in _all(rendered[name])
        if m.kind == "Service" and m.body["spec"].get("type") in ("LoadBalancer", "NodePort")
    ]
    assert exposed == []


def test_reana_server_is_checked_with_its_hostname_on_the_port_it_serves(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    """GKE takes a backend's health check from its pods' readiness probe when it is a plain
    HTTP GET on the Service's target port with no header but Host (ingress-gce's
    isSimpleHTTPProbe); a BackendConfig cannot set the Host reana-server requires."""
    objects = rendered["default"]
    server = _named(objects, "Deployment", "reana")["reana-server"]["spec"]["template"]["spec"]
    (container,) = (c for c in server["containers"] if c["name"] == "rest-api")
    probe = container["readinessProbe"]["httpGet"]
    target = _named(objects, "Service", "reana")["reana-server"]["spec"]["ports"][0]
    hostname = plans["default"].services.release("reana").values["reana_hostname"]
    assert (probe["path"], probe["port"]) == ("/api/ping", target["targetPort"])
    assert probe["httpHeaders"] == [{"name": "Host", "value": hostname}]
    # the patch added the probe and kept what the chart renders
    assert container["image"].startswith("docker.io/reanahub/reana-server:")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["REANA_FORCE_HTTPS"] == "false"


def test_the_hub_on_google_cloud_needs_a_hostname(make_plan: Any) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["services"]["jupyter"].pop("hostname")

    with pytest.raises(PlanError, match=r"services\.jupyter\.hostname"):
        make_plan(edit)


def test_the_validation_knows_gkes_kinds(rendered: dict[str, list[Rendered]]) -> None:
    """A wrong redirect code and a timeout that is not a number are refused."""
    import copy

    from gridcloud.render.validate import problems

    objects = copy.deepcopy(rendered["default"])
    own = objects[-1]
    own.find("FrontendConfig", "gridcloud-https-redirect").body["spec"]["redirectToHttps"][
        "responseCodeName"
    ] = "MOVED"
    own.find("BackendConfig", "gridcloud-hub").body["spec"]["timeoutSec"] = "1 day"
    found = problems(objects, "1.36")
    assert len(found) == 2, found


# --- an existing cluster: the site's ingress controller ----------------------------


def _onprem_hosts() -> dict[str, str]:
    import yaml

    from tests.conftest import PROFILES

    services = yaml.safe_load((PROFILES / "onprem.yaml").read_text())["services"]
    return {"jupyter": services["jupyter"]["hostname"], "reana": services["reana"]["hostname"]}


def test_on_prem_each_hostname_is_served_by_the_sites_controller_with_a_certificate(
    rendered: dict[str, list[Rendered]],
) -> None:
    """The shipped on-prem profile names nginx and a cert-manager ClusterIssuer: an Ingress
    per hostname with that class, the issuer's annotation (cert-manager's ingress-shim
    issues into the named Secret) and WebSocket-long nginx timeouts; the hub's proxy and
    REANA's server and UI behind it, nothing exposed around it."""
    objects = rendered["onprem"]
    for service, host in _onprem_hosts().items():
        ingresses = _named(objects, "Ingress", service)
        (ingress,) = (i for i in ingresses.values() if i["spec"]["rules"][0]["host"] == host)
        spec, notes = ingress["spec"], ingress["metadata"]["annotations"]
        assert spec["ingressClassName"] == "nginx"
        assert notes["cert-manager.io/cluster-issuer"] == "letsencrypt"
        (tls,) = spec["tls"]
        assert tls["hosts"] == [host]
        assert tls["secretName"]
        services = _named(objects, "Service", service)
        for path in spec["rules"][0]["http"]["paths"]:
            backend = path["backend"]["service"]
            ports = [p["port"] for p in services[backend["name"]]["spec"]["ports"]]
            assert backend["port"]["number"] in ports
        # ingress-nginx closes a WebSocket idle for proxy-read-timeout (60 s by default)
        if service == "jupyter":
            assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
            assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    exposed = [
        m.body["metadata"]["name"]
        for m in _all(objects)
        if m.kind == "Service" and m.body["spec"].get("type") in ("LoadBalancer", "NodePort")
    ]
    assert exposed == []
    reana_paths = {
        p["path"]: p["backend"]["service"]["name"]
        for p in _named(objects, "Ingress", "reana")["gridcloud-reana"]["spec"]["rules"][0]["http"][
            "paths"
        ]
    }
    assert reana_paths == {"/api": "reana-server", "/oauth": "reana-server", "/": "reana-ui"}


def _onprem_plan(catalog: Any, ingress: dict[str, str]) -> Plan:
    import yaml

    from gridcloud.plan import expand
    from gridcloud.profile import parse_profile
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["target"]["ingress"] = ingress
    return expand(parse_profile(yaml.safe_dump(data), "onprem-edit.yaml", catalog), catalog)


@pytest.mark.parametrize(
    ("ingress", "annotation"),
    [
        ({"className": "nginx", "tlsSecret": "campus-tls"}, None),
        ({"issuer": "campus-ca"}, ("cert-manager.io/issuer", "campus-ca")),
    ],
)
def test_on_prem_takes_the_sites_secret_or_issuer(
    catalog: Any, ingress: dict[str, str], annotation: tuple[str, str] | None
) -> None:
    plan = _onprem_plan(catalog, ingress)
    from gridcloud.policy.rules import evaluate

    assert [f for f in evaluate(plan) if f.rule == "ingress-without-tls"] == []
    for entry in plan.services.after_release:
        for body in entry.manifests:
            if body["kind"] != "Ingress":
                continue
            spec = body["spec"]
            assert spec.get("ingressClassName") == ingress.get("className")
            if "tlsSecret" in ingress:
                assert spec["tls"][0]["secretName"] == "campus-tls"
            if annotation is not None:
                key, value = annotation
                assert body["metadata"]["annotations"][key] == value


def test_on_prem_without_a_certificate_the_callback_cannot_work(
    catalog: Any, tmp_path: Any
) -> None:
    """No TLS Secret and no issuer: nothing serves HTTPS; plan says so for each hostname,
    and --strict refuses (exit 8)."""
    import yaml
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli
    from gridcloud.policy.rules import evaluate

    plan = _onprem_plan(catalog, {"className": "nginx"})
    found = [f for f in evaluate(plan) if f.rule == "ingress-without-tls"]
    assert {h for f in found for h in _onprem_hosts().values() if h in f.message} == set(
        _onprem_hosts().values()
    )
    assert all(f.blocks_strict for f in found)
    for entry in plan.services.after_release:
        for body in entry.manifests:
            if body["kind"] == "Ingress":
                assert "tls" not in body["spec"]
    from tests.conftest import PROFILES

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["target"]["ingress"] = {"className": "nginx"}
    profile = tmp_path / "onprem-plain.yaml"
    profile.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(create_cli(), ["plan", str(profile), "--strict"])
    assert result.exit_code == 8, result.output
    assert "ingress-without-tls" in result.output


def test_on_prem_names_one_source_of_certificates(catalog: Any) -> None:
    """A TLS Secret and an issuer at once is refused: which one would serve is unclear."""
    from gridcloud.errors import GridcloudError

    with pytest.raises(GridcloudError, match="name one of tlsSecret, clusterIssuer and issuer"):
        _onprem_plan(catalog, {"tlsSecret": "campus-tls", "clusterIssuer": "letsencrypt"})
