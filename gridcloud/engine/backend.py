"""Where stack state lives.

By default a local file backend in the user's data directory: no Pulumi account needed, one
user, one machine. Teams and CI use a shared bucket: ``--backend gs://bucket/prefix`` (or
``$GRIDCLOUD_BACKEND``); any Pulumi backend URL works.
"""

from __future__ import annotations

import os
from pathlib import Path

BACKEND_ENV = "GRIDCLOUD_BACKEND"


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


def masked(url: str) -> str:
    """The backend URL as shown: a password in it (``postgres://user:PASSWORD@host/db``)
    replaced by ``****``. The URL itself reaches Pulumi through its environment only."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:****@{host}{port}"))
