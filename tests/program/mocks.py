"""Pulumi's official mocks, recording every resource the program declares.

The mocks stand in for the cloud (the boundary we cannot reach here). ``render`` runs
``build(plan)`` to completion with ``preview=False`` so that every ``apply`` runs, then returns
the recorded resources: assertions read their inputs directly, never inside an ``apply``
(where, during a preview, they would silently never run).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import pulumi

from gridcloud.plan import Plan

#: How a secret value travels in resource inputs (Pulumi's wire format).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """The plain value of a secret input (and any other value unchanged)."""
    return value["value"] if is_secret(value) else value


@dataclass(frozen=True)
class Options:
    """The resource options the program set, as the engine receives them."""

    parent: str | None
    """``type::name`` of the parent component; None at the stack's root."""
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Old names this resource answers to."""
    delete_before_replace: bool = False
    protect: bool = False
    depends_on: tuple[str, ...] = ()
    """``type::name`` of the explicit dependencies."""
    provider: str | None = None
    """``type::name`` of the explicit provider."""


def ref(resource: Any) -> str:
    return f"{resource.pulumi_resource_type}::{resource.pulumi_resource_name}"


def _options(opts: pulumi.ResourceOptions) -> Options:
    aliases = []
    for alias in opts.aliases or []:
        # providers alias their own old type tokens (name left as ...): not a rename
        name = alias if isinstance(alias, str) else alias.name
        if isinstance(name, str):
            aliases.append(name)
    depends = opts.depends_on if isinstance(opts.depends_on, list) else []
    return Options(
        parent=ref(opts.parent) if opts.parent is not None else None,
        ignore_changes=tuple(opts.ignore_changes or ()),
        aliases=tuple(aliases),
        delete_before_replace=bool(opts.delete_before_replace),
        protect=bool(opts.protect),
        depends_on=tuple(ref(d) for d in depends if isinstance(d, pulumi.Resource)),
        provider=ref(opts.provider) if opts.provider is not None else None,
    )


@dataclass(frozen=True)
class Declared:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str
    options: Options = Options(parent=None)

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"


def _by_content(value: Any) -> Any:
    """Assets and archives as Pulumi compares them: by what they hold, not by object."""
    import hashlib
    from pathlib import Path

    if isinstance(value, pulumi.StringAsset):
        return {"asset": hashlib.sha256(value.text.encode()).hexdigest()}
    if isinstance(value, pulumi.FileAsset):
        return {"asset": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _by_content(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, dict):
        return {k: _by_content(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_by_content(v) for v in value]
    return value


PROJECT_NUMBER = "123456789012"
#: Other projects' numbers, where a test puts a facility's shard in a project of its own.
OTHER_PROJECT_NUMBERS = {"atlas-eu-compute": "210987654321"}


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Declared] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(
            Declared(
                args.typ,
                args.name,
                _by_content(dict(args.inputs)),
                getattr(args, "provider", "") or "",
            )
        )
        outputs = dict(args.inputs)
        if args.typ == "gcp:container/cluster:Cluster":
            outputs["endpoint"] = "203.0.113.10"
            outputs["masterAuth"] = {"clusterCaCertificate": "Q0EtZm9yLXRlc3Rz"}
        if (
            args.typ == "kubernetes:core/v1:Secret"
            and args.inputs.get("type") == "kubernetes.io/service-account-token"
        ):
            # what the token controller fills in
            outputs["data"] = {"token": base64.b64encode(b"token-for-tests").decode()}
        if args.typ == "kubernetes:core/v1:Secret" and args.resource_id:
            # a read of a Secret a Job wrote (REANA's first run): what the Job put there
            outputs["data"] = {
                "ADMIN_ACCESS_TOKEN": base64.b64encode(b"admin-token-for-tests").decode()
            }
        if args.typ == "kubernetes:core/v1:Service":
            outputs["spec"] = {**args.inputs.get("spec", {}), "clusterIP": "10.8.0.42"}
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = "generated-" + args.name
        if args.typ == "gcp:compute/globalAddress:GlobalAddress":
            # what Google reserves (TEST-NET-3), the same for the same address on every run
            outputs["address"] = f"203.0.113.{zlib.crc32(args.name.encode()) % 200 + 20}"
        if args.typ == "gcp:serviceaccount/account:Account":
            outputs["email"] = f"{args.inputs['accountId']}@project.iam.gserviceaccount.com"
        outputs.setdefault("name", args.name)
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        """The one provider function the program calls: the project's number (the budget's
        filter names the project by number)."""
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args["projectId"]
            number = OTHER_PROJECT_NUMBERS.get(project, PROJECT_NUMBER)
            return {"projectId": project, "number": number, "name": project}, []
        return {}, []


@dataclass
class Rendered:
    resources: list[Declared]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, typ: str) -> list[Declared]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Declared:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"{len(found)} resources of {typ} named {name}: {found}"
        return found[0]


def render(plan: Plan) -> Rendered:
    """Run the program for ``plan`` under mocks; return what it declared and its outputs."""
    import asyncio

    from gridcloud.program import build

    # Pulumi's mocks run on the thread's current event loop; a test elsewhere that used
    # asyncio.run leaves the thread without one, whatever order the suite runs in
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="gridcloud", stack="test", preview=False)
    resolved: dict[str, Any] = {}
    secret: dict[str, bool] = {}
    options: dict[str, Options] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        options[f"{args.type_}::{args.name}"] = _options(args.opts)

    @pulumi.runtime.test  # type: ignore[misc]
    def run() -> pulumi.Output[Any]:
        pulumi.runtime.register_stack_transformation(record)
        facility = build(plan)
        keys = list(facility.outputs)
        outputs = [pulumi.Output.from_input(v) for v in facility.outputs.values()]
        flags = [pulumi.Output.from_input(o.is_secret()) for o in outputs]
        return pulumi.Output.all(pulumi.Output.all(*outputs), pulumi.Output.all(*flags)).apply(
            lambda both: (
                resolved.update(zip(keys, both[0], strict=True)),
                secret.update(zip(keys, both[1], strict=True)),
            )
        )

    run()
    assert set(resolved) == set(secret), "the program's outputs did not all resolve"
    declared = [
        Declared(r.type, r.name, r.inputs, r.provider, options.get(r.key, Options(parent=None)))
        for r in mocks.resources
    ]
    keys = [r.key for r in declared]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    return Rendered(declared, resolved, {k for k, v in secret.items() if v})
