"""What the Rucio administrators need to add the facility bucket as a storage element:
the RSE's definition (properties, attributes, protocol) as Rucio's ``import`` document
(``rucio-admin`` / ``ImportClient().import_data``) and the server's configuration for
signing URLs. No key in either: the server reads the signing account's key from the path
given in ``[credentials] gcs``, which the administrators create there with gcloud.

How Rucio reaches Google Cloud Storage (rucio.core.credential.get_signed_url): an RSE whose
attribute ``sign_url`` is ``gcs`` gets HTTPS PFNs on storage.googleapis.com signed with the
key file named by ``[credentials] gcs`` (google.oauth2 service-account credentials), for
GET, PUT and DELETE; FTS copies to and from it as ``gclouds://``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from gridcloud.plan.data import RucioPlan

#: Operations at priority 1 on both domains; third-party copies through FTS.
DOMAINS = {
    "lan": {"read": 1, "write": 1, "delete": 1},
    "wan": {
        "read": 1,
        "write": 1,
        "delete": 1,
        "third_party_copy_read": 1,
        "third_party_copy_write": 1,
    },
}


def protocol(rucio: RucioPlan) -> dict[str, Any]:
    """The RSE's protocol, as ``rucio-admin rse add-protocol`` takes it."""
    return {
        "scheme": rucio.scheme,
        "hostname": rucio.hostname,
        "port": rucio.port,
        "prefix": rucio.prefix,
        "impl": rucio.impl,
        "domains": DOMAINS,
        "extended_attributes": None,
    }


def rse_import(rucio: RucioPlan) -> dict[str, Any]:
    """The RSE as Rucio's import document has it (``{"rses": {NAME: {...}}}``)."""
    return {
        "rses": {
            rucio.rse: {
                "rse_type": "DISK",
                "deterministic": True,
                "volatile": False,
                "staging_area": False,
                "region_code": rucio.region,
                "availability_read": True,
                "availability_write": True,
                "availability_delete": True,
                "protocols": [protocol(rucio)],
                "attributes": {
                    "sign_url": rucio.sign_url,
                    "lfn2pfn_algorithm": "hash",
                    "verify_checksum": True,
                },
            }
        }
    }


def server_config(rucio: RucioPlan) -> str:
    """The Rucio server's rucio.cfg section for signing, with how to put the key there."""
    return (
        f"# Rucio server: sign URLs for {rucio.rse} as {rucio.account_email}\n"
        "# Create its key straight into the path below, on the Rucio server (gridcloud makes\n"
        "# none: the key is in no state, output or file of gridcloud):\n"
        f"#   gcloud iam service-accounts keys create {rucio.key_path} \\\n"
        f"#     --iam-account={rucio.account_email} && chmod 600 {rucio.key_path}\n"
        "[credentials]\n"
        f"gcs = {rucio.key_path}\n"
    )


def write(rucio: RucioPlan, out: Path) -> list[tuple[Path, str]]:
    """Write the RSE's import document and the server's signing configuration into ``out``:
    the files, each with what it is."""
    rse = out / f"rucio-rse-{rucio.rse}.json"
    rse.write_text(json.dumps(rse_import(rucio), indent=2) + "\n", encoding="utf-8")
    cfg = out / "rucio-server-credentials.cfg"
    cfg.write_text(server_config(rucio), encoding="utf-8")
    return [
        (rse, "the bucket as a Rucio storage element (Rucio's import document)"),
        (cfg, "the Rucio server's URL-signing configuration (no key)"),
    ]
