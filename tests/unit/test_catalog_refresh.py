"""``gridcloud catalog refresh`` against recorded responses of Google's APIs, served to the
real google-cloud client libraries over their REST transport (tests/unit/recorded/)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.needs("billing")
responses = require("responses")

RECORDED = Path(__file__).parent / "recorded"
SKUS = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
COMPUTE = "https://compute.googleapis.com/compute/v1/projects/p/aggregated"
TODAY = dt.date(2026, 11, 28)
D = Decimal


def _skus(request: object) -> tuple[int, dict[str, str], str]:
    page = "2" if "pageToken=page-2" in str(getattr(request, "url", "")) else "1"
    return 200, {"Content-Type": "application/json"}, (RECORDED / f"skus-{page}.json").read_text()


@pytest.fixture
def google() -> Iterator[object]:
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, SKUS, callback=_skus)
        for name, file in (
            ("machineTypes", "machine-types"),
            ("acceleratorTypes", "accelerator-types"),
        ):
            mock.add(
                responses.GET,
                f"{COMPUTE}/{name}",
                json=json.loads((RECORDED / f"{file}.json").read_text()),
            )
        yield mock


@pytest.fixture
def refreshed(google: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from google.auth.credentials import AnonymousCredentials

    from gridcloud.catalog.refresh import refresh

    monkeypatch.setenv("GRIDCLOUD_CATALOGS", str(tmp_path / "catalogs"))
    return refresh("p", None, today=TODAY, credentials=AnonymousCredentials())


def test_prices_are_assembled_from_the_families_skus(refreshed: Path) -> None:
    from gridcloud.catalog.model import read_catalog

    catalog = read_catalog(refreshed)
    assert refreshed.name == "2026-11-28-schema1"
    assert catalog.captured == TODAY
    prices = catalog.prices("us-central1")
    assert prices is not None
    n2 = prices.machine(catalog.machine_types["n2-standard-8"])
    # 8 x 0.031611 + 32 GiB x 0.004237; Spot 8 x 0.01499 + 32 x 0.00201
    assert (n2.ondemand, n2.spot) == (D("0.388472"), D("0.18424"))
    assert n2.basis.startswith("spot 2026-11-28") and not n2.spot_lower_bound
    # N2D has no Spot SKU: on demand only, 16 x 0.027502 + 64 x 0.003686
    n2d = prices.machine(catalog.machine_types["n2d-standard-16"])
    assert (n2d.ondemand, n2d.spot) == (D("0.675936"), None)
    # N1: only an old "Preemptible" SKU, which is not Spot
    assert prices.machine(catalog.machine_types["n1-standard-8"]).spot is None
    assert prices.gpu("nvidia-tesla-t4") == (D("0.35"), D("0.14"))
    assert not prices.gpu_spot_lower_bound("nvidia-tesla-t4")
    assert prices.disk("pd-balanced") == D("0.1")  # the first tier
    # the other region mixed into the listing: priced from its own SKUs
    europe = catalog.prices("europe-west4")
    assert europe is not None
    assert europe.machine(catalog.machine_types["n2-standard-8"]).ondemand == D("0.427336")
    # what the APIs do not carry comes from the packaged catalog
    assert prices.gke_fee_hour == D("0.10")
    assert prices.network["nat-gateway-vm"] == D("0.0014")
    # Cloud Storage standard, us-central1: other-prices-by-region.csv's gcs-standard row, 0.02
    assert prices.storage["gcs-standard"] == D("0.02")


def test_the_listing_gives_types_zones_and_gpus(refreshed: Path) -> None:
    from gridcloud.catalog.model import read_catalog

    catalog = read_catalog(refreshed)
    n2 = catalog.machine_types["n2-standard-8"]
    assert (n2.vcpus, n2.memory_gb) == (8, D("32"))
    assert n2.zones == {"us-central1-a", "us-central1-b", "europe-west4-a"}
    assert catalog.machine_types["e2-micro"].shared_cpu is True
    assert catalog.accelerators["nvidia-tesla-t4"].attaches_to == "n1"
    assert catalog.region_of("europe-west4-a") == "europe-west4"
    manifest = json.loads((refreshed / "MANIFEST.json").read_text())
    assert manifest["schema"] == 1
    # us-east1 has SKUs but no listed machine type: nothing to price there
    assert manifest["regions_with_prices"] == ["europe-west4", "us-central1"]


def test_gridcloud_uses_the_newest_refreshed_catalog(refreshed: Path) -> None:
    from gridcloud.catalog.model import load_catalog

    load_catalog.cache_clear()
    try:
        catalog = load_catalog()
        assert catalog.location == refreshed
        assert catalog.captured == TODAY
    finally:
        load_catalog.cache_clear()


def test_only_the_regions_asked_are_priced(
    google: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.auth.credentials import AnonymousCredentials

    from gridcloud.catalog.model import read_catalog
    from gridcloud.catalog.refresh import refresh

    monkeypatch.setenv("GRIDCLOUD_CATALOGS", str(tmp_path))
    written = refresh("p", ["europe-west4"], today=TODAY, credentials=AnonymousCredentials())
    assert set(read_catalog(written).price_tables) == {"europe-west4"}


def test_the_command_without_credentials_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli

    def no_credentials(*_args: object, **_kwargs: object) -> object:
        raise DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    monkeypatch.setenv("GRIDCLOUD_CATALOGS", str(tmp_path))
    result = CliRunner().invoke(create_cli(), ["catalog", "refresh", "--project", "p"])
    assert result.exit_code == 2, result.output
    assert "application-default login" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_credentials_google_refuses_are_a_message_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Application Default Credentials whose refresh token was revoked: Google's token endpoint
    answers ``invalid_grant`` (RFC 6749's shape), google-auth raises a RefreshError, which the
    command used to let through as a traceback."""
    from typer.testing import CliRunner

    from gridcloud.cli.app import create_cli
    from tests.conftest import TOKEN_URL, write_adc

    adc = write_adc(tmp_path / "adc.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.setenv("GRIDCLOUD_CATALOGS", str(tmp_path / "catalogs"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            status=400,
            json={
                "error": "invalid_grant",
                "error_description": "Token has been expired or revoked.",
            },
        )
        result = CliRunner().invoke(create_cli(), ["catalog", "refresh", "--project", "p"])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.stderr.split())
    assert (
        "Error: cannot refresh the catalog: Google refused the credentials (expired or revoked?)"
        in flat
    )
    assert "Token has been expired or revoked" in flat
    assert "Hint: run `gcloud auth application-default login`" in flat
    assert "the catalog in use is unchanged" in flat
    assert "Traceback" not in result.output
    assert not (tmp_path / "catalogs").exists() or list((tmp_path / "catalogs").iterdir()) == []
