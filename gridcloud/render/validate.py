"""Every rendered object checked as the API server would: built-in kinds against Kubernetes'
OpenAPI schemas of the cluster's version (``kubernetes-validate``, strict: no unknown
fields), custom kinds against the schema of the CustomResourceDefinition that serves them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridcloud.plan import Plan
    from gridcloud.render.manifests import Manifest, Rendered


def _python_patterns(schema: Any) -> Any:
    """The schema with each ``pattern`` as Python's ``re`` takes it: the API server's (Go's
    RE2) accepts an inline flag group after the anchor (``^(?i)[a-z]...``, in Kueue's CRDs),
    Python's only at the start (``(?i)^[a-z]...``, the same expression)."""
    import re

    if isinstance(schema, list):
        return [_python_patterns(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed = {key: _python_patterns(value) for key, value in schema.items()}
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        fixed["pattern"] = re.sub(r"^\^\(\?([a-zA-Z]+)\)", r"(?\1)^", pattern)
    return fixed


def _crd_schemas(crds: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the openAPIV3Schema a CRD serves it with."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for crd in crds:
        spec = crd.get("spec", {})
        group, kind = spec.get("group"), spec.get("names", {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or (
                spec.get("validation") or {}
            ).get("openAPIV3Schema")
            schemas[(f"{group}/{version['name']}", kind)] = _python_patterns(schema or {})
        if spec.get("version"):  # apiextensions v1beta1, one version
            schema = (spec.get("validation") or {}).get("openAPIV3Schema") or {}
            schemas[(f"{group}/{spec['version']}", kind)] = schema
    return schemas


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def problems(rendered: list[Rendered], kubernetes_version: str) -> list[str]:
    """What the API server of ``kubernetes_version`` (``1.34``) would refuse, one line each."""
    import jsonschema
    import kubernetes_validate

    custom = _crd_schemas([crd for r in rendered for crd in r.crds])
    found: list[str] = []

    def check(manifest: Manifest) -> None:
        body = manifest.body
        key = (str(body.get("apiVersion")), manifest.kind)
        if key in custom:
            validator = jsonschema.Draft7Validator(custom[key])
            found.extend(
                f"{manifest}: {_where(e.absolute_path)}: {e.message}"
                for e in validator.iter_errors(body)
            )
            return
        try:
            kubernetes_validate.validate(body, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            found.append(f"{manifest}: {_where(error.path)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            found.append(
                f"{manifest}: {key[0]} {key[1]} is not served by Kubernetes {kubernetes_version}"
                " nor by a CustomResourceDefinition the charts ship"
            )

    for release in rendered:
        for manifest in release.manifests:
            check(manifest)
    return found


def cluster_version(plan: Plan) -> str:
    """The Kubernetes minor the cluster runs: its GKE channel's, or the oldest still
    supported upstream for an existing cluster."""
    from gridcloud.catalog import limits

    if plan.cluster is not None:
        return limits.GKE_CHANNEL_KUBERNETES[plan.cluster.release_channel]
    return limits.OLDEST_SUPPORTED_KUBERNETES
