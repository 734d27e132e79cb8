"""The services' manifests as a cluster would receive them: every release rendered by Helm's
own engine (``helm-python-sdk``) from the chart's source, checked against Kubernetes' OpenAPI
schemas, and analysed for where each pod can land.

Used by ``gridcloud render`` and by the tests: one code path. Needs the ``render`` extra
(``pip install 'gridcloud[render]'``): Helm's Go SDK and the schemas are large.
"""

import importlib.util

from gridcloud.render.manifests import Rendered, release_named, render_plan, render_release

#: The import names of the ``render`` extra's packages.
ENGINE_MODULES = ("helm_python", "kubernetes_validate")


def missing_engine() -> list[str]:
    """The ``render`` extra's modules that are not installed (empty when rendering works)."""
    return [name for name in ENGINE_MODULES if importlib.util.find_spec(name) is None]


__all__ = ["Rendered", "missing_engine", "release_named", "render_plan", "render_release"]
