"""OpenID Connect providers gridcloud knows: which claims name a user and their groups.

The endpoints are not here: they come from each provider's discovery document
(``<issuer>/.well-known/openid-configuration``, OpenID Connect Discovery 1.0), which the hub
reads when it starts. Only what a discovery document does not say is kept: the claim a
username comes from and the claim that lists a user's groups, which differ by provider
(Google sends no ``preferred_username`` and no groups at all; CERN SSO names its users in
``cern_upn`` and their roles in ``cern_roles``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

ProviderKey = Literal["indigo-iam", "cern-sso", "google", "keycloak", "generic"]


@dataclass(frozen=True)
class IdentityProvider:
    key: ProviderKey
    name: str
    """What the hub's login button names ("Sign in with ...")."""
    title: str
    username_claim: str
    """The userinfo claim the hub's usernames come from."""
    groups_claim: str | None
    """The userinfo claim listing the user's groups; None where the provider sends none."""
    registration: str
    """Where a facility registers its client (for messages and the docs)."""


PROVIDERS: dict[ProviderKey, IdentityProvider] = {
    p.key: p
    for p in (
        IdentityProvider(
            key="indigo-iam",
            name="INDIGO IAM",
            title="INDIGO IAM (ATLAS IAM, CMS IAM, WLCG IAM, ESCAPE IAM)",
            username_claim="preferred_username",
            groups_claim="groups",
            registration="the IAM instance's client registration page (<issuer>/manage/dev/dynreg)",
        ),
        IdentityProvider(
            key="cern-sso",
            name="CERN SSO",
            title="CERN SSO (Keycloak at auth.cern.ch, realm cern)",
            username_claim="cern_upn",
            groups_claim="cern_roles",
            registration="the CERN Application Portal (application-portal.web.cern.ch)",
        ),
        IdentityProvider(
            key="google",
            name="Google",
            title="Google",
            username_claim="email",
            groups_claim=None,
            registration="Google Cloud console, APIs & Services, Credentials",
        ),
        IdentityProvider(
            key="keycloak",
            name="Keycloak",
            title="Keycloak (a site's own realm)",
            username_claim="preferred_username",
            groups_claim="groups",
            registration="the realm's Clients page (groups need a Group Membership mapper)",
        ),
        IdentityProvider(
            key="generic",
            name="OpenID Connect",
            title="another OpenID Connect provider",
            username_claim="preferred_username",
            groups_claim="groups",
            registration="the provider's client registration",
        ),
    )
}

#: Hosts that run INDIGO IAM under their own names.
_IAM_HOST_SUFFIXES = ("-auth.cern.ch", ".cloud.cnaf.infn.it")


def provider_for(issuer: str) -> IdentityProvider:
    """The provider an issuer URL belongs to, from its host and path alone (no network)."""
    url = urlsplit(issuer)
    host = (url.hostname or "").lower()
    path = url.path.rstrip("/")
    if host == "accounts.google.com":
        return PROVIDERS["google"]
    if host == "auth.cern.ch" and path == "/auth/realms/cern":
        return PROVIDERS["cern-sso"]
    if host.endswith(_IAM_HOST_SUFFIXES):
        return PROVIDERS["indigo-iam"]
    if "/realms/" in f"{path}/":
        return PROVIDERS["keycloak"]
    return PROVIDERS["generic"]


def discovery_url(issuer: str) -> str:
    """Where the issuer publishes its configuration: the issuer, without a trailing '/',
    followed by /.well-known/openid-configuration (Discovery 1.0, section 4)."""
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"
