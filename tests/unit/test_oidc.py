"""JupyterHub's OpenID Connect login: the hub's own discovery code (the Plan's
``hub.extraConfig``) run on the providers' recorded discovery documents, the result loaded
into the real OAuthenticator 17.4, and the login URLs compared with the providers' own
(written here by hand from their documentation, not from the code)."""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.catalog.identity_providers import provider_for
from gridcloud.errors import ProfileError
from gridcloud.plan import Plan
from tests.conftest import require

RECORDED = Path(__file__).parent / "recorded" / "oidc"
MakePlan = Callable[..., Plan]


def _document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text())
    return data


#: issuer -> (recorded document, discovery URL, authorize, token, userinfo, username claim,
#: groups claim): the URLs as each provider documents them.
PROVIDERS = {
    "https://accounts.google.com": (
        "accounts.google.com.json",
        "https://accounts.google.com/.well-known/openid-configuration",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://openidconnect.googleapis.com/v1/userinfo",
        "email",
        None,
    ),
    "https://auth.cern.ch/auth/realms/cern": (
        "auth.cern.ch-auth-realms-cern.json",
        "https://auth.cern.ch/auth/realms/cern/.well-known/openid-configuration",
        "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/auth",
        "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/token",
        "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/userinfo",
        "cern_upn",
        "cern_roles",
    ),
    "https://atlas-auth.cern.ch/": (
        "atlas-auth.cern.ch.json",
        "https://atlas-auth.cern.ch/.well-known/openid-configuration",
        "https://atlas-auth.cern.ch/authorize",
        "https://atlas-auth.cern.ch/token",
        "https://atlas-auth.cern.ch/userinfo",
        "preferred_username",
        "groups",
    ),
    "https://wlcg.cloud.cnaf.infn.it/": (
        "wlcg.cloud.cnaf.infn.it.json",
        "https://wlcg.cloud.cnaf.infn.it/.well-known/openid-configuration",
        "https://wlcg.cloud.cnaf.infn.it/authorize",
        "https://wlcg.cloud.cnaf.infn.it/token",
        "https://wlcg.cloud.cnaf.infn.it/userinfo",
        "preferred_username",
        "groups",
    ),
}


class _Served:
    """urllib's urlopen answering from recorded documents, counting what was asked."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def __call__(self, request: Any, timeout: float = 0) -> io.BytesIO:
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        assert timeout > 0, "a provider that never answers would hold the hub's start forever"
        self.asked.append(url)
        if url not in self.documents:
            raise OSError(f"no route to {url}")
        return io.BytesIO((RECORDED / self.documents[url]).read_bytes())


def _hub_values(plan: Plan) -> dict[str, Any]:
    return plan.services.release("jupyterhub").values


def start_hub_config(values: dict[str, Any]) -> Any:
    """The hub's configuration as the chart's jupyterhub_config.py builds it: ``hub.config``
    sections, then ``hub.extraConfig`` run with ``c`` and z2jh's ``get_config``."""
    from traitlets.config import Config

    c = Config()
    for section, settings in values["hub"]["config"].items():
        c[section].update(json.loads(json.dumps(settings)))

    def get_config(key: str, default: Any = None) -> Any:
        value: Any = values
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    for _key, source in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(source, "extraConfig", "exec"), {"c": c, "get_config": get_config})
    return c


def _oidc(issuer: str, **extra: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        oidc = data["services"]["jupyter"]["oidc"]
        oidc["issuer"] = issuer
        oidc.pop("allowedGroups", None)
        oidc.update(extra)

    return edit


@pytest.mark.parametrize("issuer", list(PROVIDERS))
def test_the_hub_logs_in_at_the_providers_own_urls(
    issuer: str, make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    oauth = require("oauthenticator.generic")
    document, discovery, authorize, token, userinfo, username, groups = PROVIDERS[issuer]
    values = _hub_values(make_plan(_oidc(issuer)))
    assert values["custom"]["gridcloud"]["oidc"]["discovery"] == discovery
    # nothing under the issuer is guessed in the Plan
    assert "authorize_url" not in values["hub"]["config"]["GenericOAuthenticator"]
    served = _Served({discovery: document})
    monkeypatch.setattr(urllib.request, "urlopen", served)
    config = start_hub_config(values)
    assert served.asked == [discovery]
    authenticator = oauth.GenericOAuthenticator(config=config)
    assert authenticator.authorize_url == authorize
    assert authenticator.token_url == token
    assert authenticator.userdata_url == userinfo
    assert authenticator.username_claim == username
    assert values["custom"]["gridcloud"]["oidc"]["groupsClaim"] == groups
    # every one of them takes the client secret in the form (client_secret_post)
    assert authenticator.basic_auth is False
    assert (
        authenticator.oauth_callback_url
        == "https://jupyter.atlas-af.example.org/hub/oauth_callback"
    )


def test_a_document_for_another_issuer_stops_the_hub(
    make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Discovery 1.0, 4.3: the issuer in the document must be the one it was fetched for
    (here a CERN realm answering with Google's document)."""
    values = _hub_values(make_plan(_oidc("https://auth.cern.ch/auth/realms/cern")))
    url = "https://auth.cern.ch/auth/realms/cern/.well-known/openid-configuration"
    monkeypatch.setattr(urllib.request, "urlopen", _Served({url: "accounts.google.com.json"}))
    with pytest.raises(SystemExit) as stopped:
        start_hub_config(values)
    assert stopped.value.code == 1
    assert "names the issuer 'https://accounts.google.com'" in capsys.readouterr().err


def test_an_unreachable_provider_stops_the_hub_after_retrying(
    make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    values = _hub_values(make_plan())
    served = _Served({})
    monkeypatch.setattr(urllib.request, "urlopen", served)
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    with pytest.raises(SystemExit):
        start_hub_config(values)
    assert len(served.asked) == 6
    assert waits == [1, 2, 4, 8, 8]
    assert "cannot read https://atlas-auth.cern.ch/.well-known/openid-configuration" in (
        capsys.readouterr().err
    )


def test_endpoints_given_in_the_profile_are_used_and_nothing_is_fetched(
    make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    oauth = require("oauthenticator.generic")
    endpoints = {
        "authorization": "https://sso.example.edu/oauth2/authorize",
        "token": "https://sso.example.edu/oauth2/token",
        "userinfo": "https://sso.example.edu/oauth2/me",
    }
    values = _hub_values(make_plan(_oidc("https://sso.example.edu", endpoints=endpoints)))
    assert "discovery" not in values["custom"]["gridcloud"]["oidc"]
    served = _Served({})
    monkeypatch.setattr(urllib.request, "urlopen", served)
    authenticator = oauth.GenericOAuthenticator(config=start_hub_config(values))
    assert served.asked == []
    assert authenticator.authorize_url == endpoints["authorization"]
    assert authenticator.token_url == endpoints["token"]
    assert authenticator.userdata_url == endpoints["userinfo"]


def test_groups_come_from_the_providers_claim_even_with_a_dot_in_its_name(
    make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WLCG IAM lists groups in ``wlcg.groups``; OAuthenticator would read a dotted key as
    a path (``oauth_user`` -> ``wlcg`` -> ``groups``) and find nothing."""
    import asyncio

    oauth = require("oauthenticator.generic")
    issuer = "https://wlcg.cloud.cnaf.infn.it/"
    values = _hub_values(
        make_plan(_oidc(issuer, groupsClaim="wlcg.groups", allowedGroups=["/atlas"]))
    )
    url = f"{issuer}.well-known/openid-configuration"
    monkeypatch.setattr(urllib.request, "urlopen", _Served({url: "wlcg.cloud.cnaf.infn.it.json"}))
    authenticator = oauth.GenericOAuthenticator(config=start_hub_config(values))
    state = {"oauth_user": {"sub": "a1", "wlcg.groups": ["/atlas", "/atlas/phys-higgs"]}}
    groups = asyncio.run(authenticator.get_user_groups(state))
    assert groups == {"/atlas", "/atlas/phys-higgs"}
    assert authenticator.allowed_groups == {"/atlas"}


@pytest.mark.parametrize(
    ("issuer", "provider"),
    [
        ("https://accounts.google.com", "google"),
        ("https://auth.cern.ch/auth/realms/cern", "cern-sso"),
        ("https://auth.cern.ch/auth/realms/cern/", "cern-sso"),
        ("https://atlas-auth.cern.ch/", "indigo-iam"),
        ("https://cms-auth.cern.ch/", "indigo-iam"),
        ("https://wlcg.cloud.cnaf.infn.it/", "indigo-iam"),
        ("https://iam-escape.cloud.cnaf.infn.it/", "indigo-iam"),
        ("https://login.campus.example.edu/realms/physics", "keycloak"),
        ("https://sso.lab.example.org/auth/realms/cern", "keycloak"),
        ("https://auth.cern.ch/auth/realms/kerberos", "keycloak"),
        ("https://login.example.org", "generic"),
    ],
)
def test_the_provider_follows_from_the_issuer(issuer: str, provider: str) -> None:
    assert provider_for(issuer).key == provider


def test_google_with_allowed_groups_is_refused_at_validation(make_plan: MakePlan) -> None:
    with pytest.raises(ProfileError, match="Google sends no groups claim"):
        make_plan(_oidc("https://accounts.google.com", allowedGroups=["atlas"]))


def test_a_claim_named_in_the_profile_wins_over_the_providers(make_plan: MakePlan) -> None:
    values = _hub_values(make_plan(_oidc("https://accounts.google.com", usernameClaim="sub")))
    assert values["hub"]["config"]["GenericOAuthenticator"]["username_claim"] == "sub"
    assert values["hub"]["config"]["GenericOAuthenticator"]["login_service"] == "Google"


def test_a_provider_without_a_userinfo_endpoint_is_read_from_the_id_token(
    make_plan: MakePlan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """userinfo_endpoint is only RECOMMENDED (Discovery 1.0, 3): without it the hub reads
    the user's claims from the ID token the token endpoint returns."""
    oauth = require("oauthenticator.generic")
    document = _document("auth.cern.ch-auth-realms-cern.json")
    del document["userinfo_endpoint"]
    issuer = "https://auth.cern.ch/auth/realms/cern"
    (tmp_path / "cern.json").write_text(json.dumps(document))
    served = _Served({f"{issuer}/.well-known/openid-configuration": str(tmp_path / "cern.json")})
    monkeypatch.setattr(urllib.request, "urlopen", served)
    values = _hub_values(make_plan(_oidc(issuer)))
    authenticator = oauth.GenericOAuthenticator(config=start_hub_config(values))
    assert authenticator.userdata_from_id_token is True
    assert authenticator.userdata_url == ""
