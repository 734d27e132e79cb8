"""JupyterHub's login through OpenID Connect: OAuthenticator's ``GenericOAuthenticator``
configured by the standard.

The endpoints come from the provider's discovery document, read by the hub when it starts
(``DISCOVERY``, run as the chart's ``hub.extraConfig``), or from ``oidc.endpoints`` in the
profile where a provider publishes none. OAuthenticator 17.4 has no discovery of its own:
it takes ``authorize_url``, ``token_url`` and ``userdata_url`` as given. Reading the
document at ``plan`` time instead would make ``plan`` need the network (it works offline,
in milliseconds) and would freeze endpoints a provider may move; the hub reads it where
it needs it, every time it starts.

The claims follow the provider (``catalog.identity_providers``): the username from
``preferred_username`` (INDIGO IAM, Keycloak), ``cern_upn`` (CERN SSO) or ``email``
(Google), the groups from ``groups`` or ``cern_roles``; the profile may name others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.catalog.identity_providers import PROVIDERS, IdentityProvider, provider_for
from gridcloud.catalog.identity_providers import discovery_url as _discovery_url

if TYPE_CHECKING:
    from gridcloud.plan.services.model import HubLogin
    from gridcloud.profile.models import Oidc

#: What the hub asks the provider for: an OpenID Connect login with the user's profile
#: claims (the username, groups) and e-mail.
SCOPES = ("openid", "profile", "email")
#: The ``hub.extraConfig`` key the discovery runs under.
DISCOVERY_KEY = "gridcloud-oidc"

#: Python the hub runs at start (the chart's ``hub.extraConfig``, after ``hub.config``):
#: reads ``custom.gridcloud.oidc`` from the chart's values, fetches the discovery document,
#: checks it names the configured issuer, and sets the authenticator's endpoints. A
#: provider that cannot be read stops the hub (Kubernetes restarts it, the log says why)
#: rather than leaving a login that cannot work. The groups claim is read with a callable,
#: so a claim with a dot in its name (``wlcg.groups``) is one key, not a path.
DISCOVERY = '''\
import json as _json
import sys as _sys
import time as _time
import urllib.request as _request

_ENDPOINTS = {
    "authorization_endpoint": "authorize_url",
    "token_endpoint": "token_url",
    "userinfo_endpoint": "userdata_url",
}


def gridcloud_fetch(url, attempts=6):
    """The discovery document at ``url``, retried with back-off (about half a minute)."""
    error = None
    for attempt in range(attempts):
        try:
            request = _request.Request(url, headers={"Accept": "application/json"})
            with _request.urlopen(request, timeout=10) as answer:
                return _json.load(answer)
        except (OSError, ValueError) as problem:
            error = problem
            if attempt + 1 < attempts:
                _time.sleep(min(2**attempt, 8))
    raise RuntimeError(f"cannot read {url}: {error}")


def gridcloud_endpoints(issuer, url, document):
    """GenericOAuthenticator's settings from a discovery document (Discovery 1.0, 4.3: the
    document must name the issuer it was fetched for)."""
    named = document.get("issuer")
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        raise RuntimeError(f"{url} names the issuer {named!r}, not {issuer!r}")
    settings = {}
    for field, setting in _ENDPOINTS.items():
        value = document.get(field)
        if not value and field == "userinfo_endpoint":
            settings["userdata_from_id_token"] = True
            continue
        if not isinstance(value, str) or not value:
            raise RuntimeError(f"{url} gives no {field}")
        if issuer.startswith("https://") and not value.startswith("https://"):
            raise RuntimeError(f"{url} gives {field} {value!r}, not an https URL")
        settings[setting] = value
    # the client secret goes in the form where the provider takes it there, else in an
    # Authorization header (the standard's default when the document names no method)
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    settings["basic_auth"] = "client_secret_post" not in methods
    return settings


def gridcloud_login(c, oidc, fetch):
    """Configure ``c`` (the hub's config) from ``oidc`` (``custom.gridcloud.oidc``)."""
    authenticator = c.GenericOAuthenticator
    if oidc.get("discovery"):
        found = gridcloud_endpoints(oidc["issuer"], oidc["discovery"], fetch(oidc["discovery"]))
        for setting, value in found.items():
            setattr(authenticator, setting, value)
    claim = oidc.get("groupsClaim")
    if claim and oidc.get("manageGroups"):
        authenticator.auth_state_groups_key = (
            lambda auth_state, _claim=claim: (auth_state.get("oauth_user") or {}).get(_claim) or []
        )


try:
    gridcloud_login(c, get_config("custom.gridcloud.oidc", {}), gridcloud_fetch)
except Exception as error:
    print(f"FATAL: OpenID Connect login: {error}", file=_sys.stderr)
    _sys.exit(1)
'''


def provider_of(oidc: Oidc) -> IdentityProvider:
    """The profile's provider, or the one its issuer belongs to."""
    return PROVIDERS[oidc.provider] if oidc.provider else provider_for(oidc.issuer)


def username_claim(oidc: Oidc) -> str:
    return oidc.username_claim or provider_of(oidc).username_claim


def groups_claim(oidc: Oidc) -> str | None:
    return oidc.groups_claim or provider_of(oidc).groups_claim


def callback_url(hostname: str) -> str:
    """The redirect URI to register with the provider."""
    return f"https://{hostname}/hub/oauth_callback"


def login_summary(oidc: Oidc, hostname: str) -> HubLogin:
    """What :func:`hub_login` configures, as a person registers it with the provider."""
    from gridcloud.plan.services.model import HubLogin

    return HubLogin(
        provider=provider_of(oidc).name,
        endpoints="endpoints from the profile"
        if oidc.endpoints is not None
        else _discovery_url(oidc.issuer),
        callback=callback_url(hostname),
    )


def hub_login(oidc: Oidc, hostname: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The hub's login: ``GenericOAuthenticator`` settings (``hub.config``), what the hub's
    discovery reads (``custom.gridcloud.oidc``) and the discovery's Python
    (``hub.extraConfig``)."""
    provider = provider_of(oidc)
    groups = groups_claim(oidc)
    authenticator: dict[str, Any] = {
        "client_id": oidc.client_id,
        "oauth_callback_url": callback_url(hostname),
        "scope": list(SCOPES),
        "username_claim": username_claim(oidc),
        "login_service": provider.name,
    }
    custom: dict[str, Any] = {
        "provider": provider.key,
        "issuer": oidc.issuer,
        "groupsClaim": groups,
        "manageGroups": bool(oidc.allowed_groups),
    }
    if oidc.endpoints is not None:
        authenticator |= {
            "authorize_url": oidc.endpoints.authorization,
            "token_url": oidc.endpoints.token,
            "userdata_url": oidc.endpoints.userinfo,
        }
    else:
        custom["discovery"] = _discovery_url(oidc.issuer)
    if oidc.allowed_groups:
        # OAuthenticator 17 reads groups only when it manages them (it refuses to start)
        authenticator["manage_groups"] = True
        authenticator["allowed_groups"] = list(oidc.allowed_groups)
    else:
        authenticator["allow_all"] = True
    return authenticator, custom, DISCOVERY
