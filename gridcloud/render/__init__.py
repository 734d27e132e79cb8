"""The services' manifests as a cluster would receive them: every release rendered by Helm's
own engine (``helm-python-sdk``) from the chart's source, checked against Kubernetes' OpenAPI
schemas, and analysed for where each pod can land.

Used by ``gridcloud render`` and by the tests: one code path. Needs the ``render`` extra
(``pip install 'gridcloud[render]'``): Helm's Go SDK and the schemas are large.
"""

from gridcloud.render.manifests import Rendered, release_named, render_plan, render_release

__all__ = ["Rendered", "release_named", "render_plan", "render_release"]
