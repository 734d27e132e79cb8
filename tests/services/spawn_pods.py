"""The notebook pods the hub would create: the chart's own jupyterhub_config.py (laid out by
``local.lay_out_hub``) loaded as the hub loads it, then KubeSpawner's own
``get_pod_manifest`` for each environment of the profile list, after the hub's
``pre_spawn_hook``, for a user with groups. Run in a subprocess (the chart's z2jh module
caches the values it reads): ``python -m tests.services.spawn_pods DIR [USER [GROUP...]]``
prints ``{slug: pod manifest}`` as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any


async def pods(hub_dir: Path, user: str, groups: list[str]) -> dict[str, Any]:
    from types import SimpleNamespace

    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("jupyterhub_config.py", path=str(hub_dir)).load_config()
    who = SimpleNamespace(
        name=user, id=1, url=f"/user/{user}/", groups=[SimpleNamespace(name=g) for g in groups]
    )
    result = {}
    for profile in config.KubeSpawner.profile_list:
        spawner = KubeSpawner(_mock=True, config=config, user=who)
        spawner.user_options = {"profile": profile["slug"]}
        await spawner.load_user_options()
        hook = spawner.run_pre_spawn_hook()
        if hook is not None:
            await hook
        manifest = await spawner.get_pod_manifest()
        async with ApiClient() as client:
            result[profile["slug"]] = client.sanitize_for_serialization(manifest)
    return result


#: KubeSpawner loads a kubeconfig when it is made; it never calls the API here.
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


if __name__ == "__main__":
    directory = Path(sys.argv[1])
    kubeconfig = directory / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    os.environ["KUBECONFIG"] = str(kubeconfig)
    sys.path.insert(0, str(directory))
    name, *member_of = sys.argv[2:] or ["mock_name"]
    print(json.dumps(asyncio.run(pods(directory, name, member_of))))
