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
        (ingress,) = (i for i in ingresses.values() if i["spec"]["rules"][0]["host"] == host)
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


def test_health_checks_answer_where_gke_looks(rendered: dict[str, list[Rendered]]) -> None:
    """GKE takes a backend's health check from its pods' readiness probe when the probe's
    port is the Service's target port, else from a BackendConfig; default: GET / (200)."""
    objects = rendered["default"]
    # the hub proxy: its readiness probe, on the port proxy-public targets
    proxy = _named(objects, "Deployment", "jupyter")["proxy"]["spec"]["template"]["spec"]
    probe = proxy["containers"][0]["readinessProbe"]["httpGet"]
    target = _named(objects, "Service", "jupyter")["proxy-public"]["spec"]["ports"][0]
    assert (probe["path"], probe["port"]) == ("/_chp_healthz", target["targetPort"])
    # REANA's server has no probe and 404s at /: its BackendConfig checks /api/ping on the
    # port its pods serve (REANA's REST API answers 200 there)
    services = _named(objects, "Service", "reana")
    server = services["reana-server"]
    config = json.loads(server["metadata"]["annotations"]["cloud.google.com/backend-config"])
    check = _named(objects, "BackendConfig", "reana")[config["default"]]["spec"]["healthCheck"]
    assert (check["requestPath"], check["port"]) == (
        "/api/ping",
        server["spec"]["ports"][0]["targetPort"],
    )


def test_on_prem_keeps_the_charts_own_exposure(
    plans: dict[str, Plan], rendered: dict[str, list[Rendered]]
) -> None:
    assert plans["onprem"].services.ingresses == ()
    assert _named(rendered["onprem"], "ManagedCertificate", "jupyter") == {}
    proxy = _named(rendered["onprem"], "Service", "jupyter")["proxy-public"]
    assert proxy["spec"]["type"] == "LoadBalancer"


def test_the_hub_on_google_cloud_needs_a_hostname(make_plan: Any) -> None:
    from gridcloud.errors import PlanError

    def edit(data: dict[str, Any]) -> None:
        data["services"]["jupyter"].pop("hostname")

    with pytest.raises(PlanError, match=r"services\.jupyter\.hostname"):
        make_plan(edit)


def test_the_validation_knows_gkes_kinds(rendered: dict[str, list[Rendered]]) -> None:
    """A wrong redirect code and a health path without its slash are refused."""
    import copy

    from gridcloud.render.validate import problems

    objects = copy.deepcopy(rendered["default"])
    own = objects[-1]
    own.find("FrontendConfig", "gridcloud-https-redirect").body["spec"]["redirectToHttps"][
        "responseCodeName"
    ] = "MOVED"
    own.find("BackendConfig", "reana-server-health").body["spec"]["healthCheck"]["requestPath"] = (
        "api/ping"
    )
    found = problems(objects, "1.36")
    assert len(found) == 2, found
