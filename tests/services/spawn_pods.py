"""The notebook pods the hub would create: the chart's own jupyterhub_config.py (laid out by
``local.lay_out_hub``) loaded as the hub loads it, then KubeSpawner's own
``get_pod_manifest`` for each environment of the profile list. Run in a subprocess (the
chart's z2jh module caches the values it reads): ``python -m tests.services.spawn_pods DIR``
prints ``{slug: pod spec}`` as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any


async def pods(hub_dir: Path) -> dict[str, Any]:
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("jupyterhub_config.py", path=str(hub_dir)).load_config()
    result = {}
    for profile in config.KubeSpawner.profile_list:
        spawner = KubeSpawner(_mock=True, config=config)
        spawner.user_options = {"profile": profile["slug"]}
        await spawner.load_user_options()
        manifest = await spawner.get_pod_manifest()
        async with ApiClient() as client:
            result[profile["slug"]] = client.sanitize_for_serialization(manifest)["spec"]
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
    print(json.dumps(asyncio.run(pods(directory))))
