"""Where stack state lives.

By default a local file backend in the user's data directory: no Pulumi account needed, one
user, one machine. Teams and CI use a shared bucket: ``--backend gs://bucket/prefix`` (or
``$GRIDCLOUD_BACKEND``); any Pulumi backend URL works.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gridcloud.check.local import BACKEND_ENV

#: Where the stacks' workspaces live (tests point it elsewhere).
WORKSPACES_ENV = "GRIDCLOUD_WORKSPACES"


def default_state_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("gridcloud")) / "state"


def resolve_backend(given: str | None) -> str:
    """The backend URL: the option, ``$GRIDCLOUD_BACKEND``, else the local file backend."""
    url = given or os.environ.get(BACKEND_ENV)
    if url:
        return url
    state = default_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    return f"file://{state}"


#: A query parameter whose value is a credential (``?password=``, ``sslpassword``,
#: ``access_key``, ``token``, ...): its value runs to the next ``&`` or ``;``, a raw ``#``
#: or ``/`` included.
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][^=&;#]*(?:pass|pwd|secret|token|key|credential|auth)[^=&;#]*=)[^&;]*"
)


def masked(url: str) -> str:
    """The backend URL as shown: every password in it replaced by ``****``, in the user
    information (``postgres://user:PASSWORD@host/db``) and in the query string
    (``?password=...``). The URL itself reaches Pulumi through its environment only.

    Not ``urlsplit``: a password typed without percent-encoding may hold ``#``, ``/``, ``?``
    or ``@``, which a URL parser takes for the fragment, the path or the query and then
    shows. The user information runs from ``://`` to the *last* ``@``; masking too much
    is harmless here, showing a password is not."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _masked_params(url)
    at = rest.rfind("@")
    if at != -1:
        user, colon, _ = rest[:at].partition(":")
        if colon:
            return f"{scheme}://{user}:****@{_masked_params(rest[at + 1 :])}"
    return f"{scheme}://{_masked_params(rest)}"


def _masked_params(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1****", text)


def workspace_dir(backend: str, stack: str) -> Path:
    """The Automation API's workspace for a stack: one persistent folder per backend and
    stack in the user's data directory (its ``Pulumi.<stack>.yaml`` keeps the passphrase
    provider's salt), named by a digest so no URL, nor its credentials, is in the name.
    (Left to itself the Automation API makes a new folder in the system temp dir per run.)"""
    import hashlib

    from platformdirs import user_data_dir

    root = os.environ.get(WORKSPACES_ENV) or str(Path(user_data_dir("gridcloud")) / "workspaces")
    digest = hashlib.sha256(f"{backend}\n{stack}".encode()).hexdigest()[:16]
    folder = Path(root) / f"{stack or 'all'}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
