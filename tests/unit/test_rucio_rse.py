"""The rendered RSE definition through Rucio's own code (rucio-clients): its name and
attributes against Rucio's schema (rucio/common/schema/generic.py), its protocol
instantiated by Rucio's RSE manager, which turns a file into the PFN clients and FTS use.

rucio-clients ships rucio.common.schema, but that package's ``__init__`` imports the
server's database layer (rucio.db), which only the ``rucio`` server package has (and its
pins would downgrade this project's requests, urllib3 and jsonschema). So the schema
definitions are read from the shipped generic.py without that ``__init__``: Rucio's text, not a
copy. What Rucio's server does on import (its database) is not run here.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gridcloud.plan.data import RucioPlan
from gridcloud.render.rucio import protocol, rse_import, server_config
from tests.conftest import require

require("rucio")

RUCIO = RucioPlan(
    rse="ATLAS_GCP_DATADISK",
    account_id="atlas-gcp-rucio",
    account_email="atlas-gcp-rucio@atlas-analysis-facility.iam.gserviceaccount.com",
    region="us-central1",
    prefix="/atlas-analysis-facility-atlas-gcp-data/rucio/",
)


@pytest.fixture(scope="module")
def schema() -> Iterator[Any]:
    import rucio

    folder = Path(rucio.__file__).parent / "common" / "schema"
    saved = {k: sys.modules.get(k) for k in ("rucio.common.schema", "rucio.common.schema.generic")}
    package = types.ModuleType("rucio.common.schema")
    package.__path__ = [str(folder)]
    sys.modules["rucio.common.schema"] = package
    try:
        spec = importlib.util.spec_from_file_location(
            "rucio.common.schema.generic", folder / "generic.py"
        )
        assert spec is not None and spec.loader is not None
        generic = importlib.util.module_from_spec(spec)
        sys.modules["rucio.common.schema.generic"] = generic
        spec.loader.exec_module(generic)
        yield generic
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def test_the_name_and_attributes_pass_rucios_schema(schema: Any) -> None:
    from jsonschema import ValidationError, validate

    document = rse_import(RUCIO)
    validate(document, schema.SCHEMAS["import"])
    [(name, rse)] = document["rses"].items()
    validate(name, schema.SCHEMAS["rse"])
    for key, value in rse["attributes"].items():
        validate(f"{key}={value}", schema.SCHEMAS["rse_attribute"])
    with pytest.raises(ValidationError):  # the schema does refuse: a lower-case name
        validate("atlas_gcp_datadisk", schema.SCHEMAS["rse"])


def _settings() -> dict[str, Any]:
    """The RSE as Rucio's server hands it to clients (get_rse_protocols), from the import."""
    [(name, rse)] = rse_import(RUCIO)["rses"].items()
    return {
        "rse": name,
        "id": "0" * 32,
        "rse_type": rse["rse_type"],
        "deterministic": rse["deterministic"],
        "volatile": rse["volatile"],
        "staging_area": rse["staging_area"],
        "domain": ["lan", "wan"],
        "availability_read": True,
        "availability_write": True,
        "availability_delete": True,
        "lfn2pfn_algorithm": rse["attributes"]["lfn2pfn_algorithm"],
        "verify_checksum": True,
        "sign_url": rse["attributes"]["sign_url"],
        "credentials": None,
        "qos_class": None,
        "protocols": rse["protocols"],
    }


def test_rucios_rse_manager_makes_signed_url_pfns_on_the_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a client's configuration (Rucio reads one at import); nothing in it is used here
    config = tmp_path / "rucio.cfg"
    config.write_text("[client]\nrucio_host = https://rucio.example.org\n")
    monkeypatch.setenv("RUCIO_CONFIG", str(config))
    from rucio.rse import rsemanager
    from rucio.rse.protocols.protocol import RSEProtocol

    settings = _settings()
    # Rucio picks the protocol for each operation from its domains (as clients and FTS do)
    chosen = [
        rsemanager.select_protocol(settings, operation, scheme="https", domain=domain)
        for operation in ("read", "write", "delete")
        for domain in ("lan", "wan")
    ]
    chosen.append(rsemanager.select_protocol(settings, "third_party_copy_write", scheme="https"))
    assert all(c["hostname"] == "storage.googleapis.com" for c in chosen)
    # the implementation named exists in Rucio's gfal module and writes without renaming (a
    # signed URL is for one object name). The
    # module imports gfal2 (Debian's python3-gfal2, not on PyPI): read, not imported
    module, _, name = protocol(RUCIO)["impl"].rpartition(".")
    classes = _classes(module)
    assert name in classes
    assert classes[name][0] == ["Default"] and "rename" in classes[name][1]
    assert classes["Default"][0] == ["protocol.RSEProtocol"]
    # gfal's Default has its own lfns2pfns: without extended attributes and with a port it
    # builds scheme://host:port + prefix + path, as the base protocol below does (read)
    # the base class is abstract (connect, get, put, ...): the PFN is all that is asked of it
    plain = type("Plain", (RSEProtocol,), {}.fromkeys(RSEProtocol.__abstractmethods__, None))
    made = plain({**chosen[2], "auth_token": None}, settings)  # as create_protocol passes it
    [pfn] = made.lfns2pfns({"scope": "user.jdoe", "name": "ntuple.root"}).values()
    # Rucio's hash layout: md5("user.jdoe:ntuple.root") gives the two folders
    import hashlib

    digest = hashlib.md5(b"user.jdoe:ntuple.root").hexdigest()
    assert pfn == (
        "https://storage.googleapis.com:443/atlas-analysis-facility-atlas-gcp-data/rucio/"
        f"user/jdoe/{digest[:2]}/{digest[2:4]}/ntuple.root"
    )


def _classes(module: str) -> dict[str, tuple[list[str], set[str]]]:
    """The classes of a Rucio module: their bases and the methods they define."""
    import ast

    import rucio

    path = Path(rucio.__file__).parent.joinpath(*module.split(".")[1:]).with_suffix(".py")
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
            found[node.name] = ([ast.unparse(b) for b in node.bases], methods)
    return found


def test_the_server_config_names_the_key_path_and_holds_no_key() -> None:
    text = server_config(RUCIO)
    assert "[credentials]\ngcs = /opt/rucio/etc/google-cloud-storage.json\n" in text
    assert "PRIVATE KEY" not in text


def test_a_profile_with_rucio_renders_its_rse(
    tmp_path: Path, make_plan: Callable[..., Any]
) -> None:
    import json

    from gridcloud.render.rucio import write

    def rucio_on(profile: dict[str, Any]) -> None:
        profile["data"] = {
            "bucket": {"enabled": True},
            "rucio": {"enabled": True, "rse": "ATLAS_GCP_DATADISK"},
        }

    plan = make_plan(rucio_on)
    assert plan.data is not None and plan.data.rucio is not None
    [(rse, _), (cfg, _)] = write(plan.data.rucio, tmp_path)
    document = json.loads(rse.read_text())
    # default.yaml: project atlas-analysis-facility, facility atlas-gcp
    [protocol_] = document["rses"]["ATLAS_GCP_DATADISK"]["protocols"]
    assert protocol_["prefix"] == "/atlas-analysis-facility-atlas-gcp-data/rucio/"
    text = cfg.read_text()
    assert "--iam-account=atlas-gcp-rucio@atlas-analysis-facility.iam.gserviceaccount.com" in text
