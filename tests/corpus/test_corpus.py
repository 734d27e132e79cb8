"""Realistic non-default profiles through the command line, as a user runs them: validate,
plan --json, cost estimate --json, render (Helm's engine) and the policy (plan --strict).
The expected values are worked out by hand in each case's comments (node counts from
cores, zones, regions, the hub's login URLs), not read from the code's output."""

from __future__ import annotations

import base64
import json
import shutil
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from tests.charts import charts_dir
from tests.conftest import require
from tests.unit.test_oidc import _Served, start_hub_config

HERE = Path(__file__).parent
CORPUS = sorted(HERE.glob("*.yaml"))
REFUSED = {"gpu-not-offered"}
VALID = [p for p in CORPUS if p.stem not in REFUSED]

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


def _plan(path: Path) -> dict[str, Any]:
    code, out, err = run("plan", str(path), "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)["plan"]
    return data


def _pools(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in plan["pools"]}


def _hub(plan: dict[str, Any]) -> dict[str, Any]:
    (release,) = (r for r in plan["services"]["releases"] if r["name"] == "jupyterhub")
    values: dict[str, Any] = release["values"]
    return values


def test_the_corpus_is_what_the_readme_lists() -> None:
    readme = (HERE / "README.md").read_text()
    assert {p.stem for p in CORPUS} == {
        "europe-west4-l4-jupyter",
        "cern-sso",
        "google-login",
        "europe-west1-regional",
        "onprem-nginx-cert-manager",
        "gpu-not-offered",
        "six-regions-600k",
    }
    for path in CORPUS:
        assert f"`{path.name}`" in readme


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_validate_accepts(path: Path) -> None:
    code, out, err = run("validate", str(path))
    assert code == 0, err
    assert "valid" in out


def test_a_real_process_refuses_the_gpu_the_region_lacks() -> None:
    """The command as CI runs it, in its own process (one valid profile, the refused one):
    exit 0 and 2, no traceback."""
    import subprocess
    import sys

    for path in (HERE / "cern-sso.yaml", HERE / "gpu-not-offered.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "gridcloud", "validate", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == (2 if path.stem in REFUSED else 0), done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["validate"], ["plan", "--json"], ["cost", "estimate"]])
def test_a_gpu_the_region_does_not_offer_is_refused_cleanly(command: list[str]) -> None:
    """L4s (g2 machines) are in europe-west4, not europe-west1 (Google's GPU regions
    table; the catalog's accelerators.csv): exit 2, the field and the region named, no
    traceback."""
    code, out, err = run(*command, str(HERE / "gpu-not-offered.yaml"))
    assert code == 2
    assert "pools[1].machineType" in err
    assert "g2-standard-8" in err and "europe-west1" in err
    assert "Traceback" not in out + err


# -- plan --json: what a user checks -------------------------------------------------


def test_l4_notebooks_in_europe_west4_and_nothing_else() -> None:
    plan = _plan(HERE / "europe-west4-l4-jupyter.yaml")
    assert plan["target"]["region"] == "europe-west4"
    # JupyterHub only: no grid site, REANA or Dask, one release
    assert plan["services"]["enabled"] == ["jupyter"]
    assert [r["name"] for r in plan["services"]["releases"]] == ["jupyterhub"]
    pools = _pools(plan)
    l4 = pools["l4"]
    # g2-standard-8 carries one L4 (Google's G2 table), offered in all three zones
    assert l4["accelerator"]["type"] == "nvidia-l4"
    assert l4["accelerator"]["count"] == 1
    assert l4["zones"] == ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
    assert (l4["maxNodes"], l4["spot"]) == (6, False)
    # on demand: spread evenly, 6 nodes over 3 zones = 2 a zone
    assert l4["autoscaling"]["locationPolicy"] == "BALANCED"
    assert l4["maxNodesPerZone"] == 2
    # 96 cores of 16-vCPU nodes: 6 nodes
    assert pools["notebooks"]["maxNodes"] == 6
    hub = _hub(plan)
    gpu_env = [e for e in hub["singleuser"]["profileList"] if e["slug"] == "gpu-l4"]
    assert gpu_env[0]["kubespawner_override"]["extra_resource_limits"] == {"nvidia.com/gpu": "1"}


def test_a_regional_cluster_in_europe_west1() -> None:
    plan = _plan(HERE / "europe-west1-regional.yaml")
    cluster = plan["cluster"]
    assert (cluster["availability"], cluster["location"]) == ("regional", "europe-west1")
    assert cluster["nodeLocations"] == ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
    pools = _pools(plan)
    # 2,400 cores of 80-vCPU nodes: 30 nodes; spot takes any zone with capacity
    cpu = pools["cpu"]
    assert (cpu["maxNodes"], cpu["maxCores"]) == (30, 2400)
    assert cpu["autoscaling"]["locationPolicy"] == "ANY"
    # on demand: 6 nodes, 2 a zone over b, c, d
    ondemand = pools["ondemand"]
    assert (ondemand["maxNodes"], ondemand["maxNodesPerZone"]) == (6, 2)
    assert set(plan["services"]["enabled"]) == {"gridSite", "reana", "jupyter", "dask"}


def test_cern_sso_login_by_role() -> None:
    plan = _plan(HERE / "cern-sso.yaml")
    pools = _pools(plan)
    # 4,000 cores of 80-vCPU spot nodes: 50 nodes, in zones a and b
    assert pools["cpu"]["maxNodes"] == 50
    assert pools["cpu"]["zones"] == ["europe-west4-a", "europe-west4-b"]
    hub = _hub(plan)
    login = hub["custom"]["gridcloud"]["oidc"]
    assert login["provider"] == "cern-sso"
    assert login["discovery"] == (
        "https://auth.cern.ch/auth/realms/cern/.well-known/openid-configuration"
    )
    # CERN SSO names users in cern_upn and their application roles in cern_roles
    oauth = hub["hub"]["config"]["GenericOAuthenticator"]
    assert oauth["username_claim"] == "cern_upn"
    assert login["groupsClaim"] == "cern_roles"
    assert oauth["allowed_groups"] == ["af-users"]
    assert oauth["oauth_callback_url"] == "https://jupyter.cern-af.example.org/hub/oauth_callback"


def test_google_login_by_email_with_no_groups() -> None:
    plan = _plan(HERE / "google-login.yaml")
    assert _pools(plan)["workers"]["maxNodes"] == 4  # 320 / 80
    hub = _hub(plan)
    oauth = hub["hub"]["config"]["GenericOAuthenticator"]
    assert oauth["username_claim"] == "email"
    assert oauth["allow_all"] is True
    assert "allowed_groups" not in oauth
    assert hub["custom"]["gridcloud"]["oidc"]["discovery"] == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )
    # 30 minutes idle
    assert hub["cull"]["timeout"] == 1800


def test_onprem_with_the_sites_keycloak() -> None:
    plan = _plan(HERE / "onprem-nginx-cert-manager.yaml")
    assert plan["target"]["provider"] == "kubernetes"
    login = _hub(plan)["custom"]["gridcloud"]["oidc"]
    assert login["provider"] == "keycloak"
    assert login["discovery"] == (
        "https://sso.uni.example.edu/realms/physics/.well-known/openid-configuration"
    )


# -- cost estimate --json --------------------------------------------------------------


def _figure_or_named_unknown(value: Any, missing: Any) -> None:
    if value is None:
        assert missing, "an unknown figure must say what is missing"
    else:
        Decimal(value)  # a number, as text


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_cost_keeps_every_pool_and_names_what_it_cannot_price(path: Path) -> None:
    code, out, err = run("cost", "estimate", str(path), "--json")
    assert code == 0, err
    cost = json.loads(out)["cost"]
    profile = yaml.safe_load(path.read_text())
    if profile["target"]["provider"] == "kubernetes":
        # an existing cluster: nothing gridcloud adds to a cloud bill
        assert cost["pools"] == []
        assert Decimal(cost["idleMonthly"]) == 0
        return
    assert [p["name"] for p in cost["pools"]] == ["control"] + [p["name"] for p in profile["pools"]]
    for pool in cost["pools"]:
        for key in ("nodeHourly", "idleMonthly", "peakHourly"):
            _figure_or_named_unknown(pool[key], pool["missing"])
    for item in cost["items"]:
        for key in ("idleMonthly", "peakHourly"):
            _figure_or_named_unknown(item[key], item["missing"])
    for key in ("idleMonthly", "peakHourly"):
        _figure_or_named_unknown(cost[key], cost["missing"])
    assert cost["complete"] == (not cost["missing"])


# -- the policy ------------------------------------------------------------------------

#: plan --strict: 8 where a warning is not waived. Google sends no groups, so its hub is
#: open to every Google account (hub-login-open); the others restrict the login to groups
#: and their control planes to listed networks.
STRICT = {
    "europe-west4-l4-jupyter": (0, set()),
    "cern-sso": (0, set()),
    "google-login": (8, {"hub-login-open"}),
    "europe-west1-regional": (0, set()),
    "onprem-nginx-cert-manager": (0, set()),
    "six-regions-600k": (0, set()),
}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_the_policy(path: Path) -> None:
    code, out, _ = run("plan", str(path), "--json")
    assert code == 0
    findings = json.loads(out)["findings"]
    warnings = {f["rule"] for f in findings if f["severity"] == "warning" and not f["waived"]}
    exit_code, rules = STRICT[path.stem]
    assert warnings == rules
    code, _, err = run("plan", str(path), "--strict")
    assert code == exit_code, err
    for rule in rules:
        assert rule in err


# -- render: Helm's engine -------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    require("helm_python")
    charts = charts_dir()
    out = tmp_path_factory.mktemp("corpus-render")
    folders = {}
    for path in VALID:
        folder = out / path.stem
        code, _, err = run("render", str(path), "--out", str(folder), "--charts", str(charts))
        assert code == 0, f"{path.name}: {err}"
        folders[path.stem] = folder
    yield folders
    shutil.rmtree(out, ignore_errors=True)


def _objects(folder: Path, release: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((folder / f"{release}.yaml").read_text()) if d]


def _rendered_hub_values(folder: Path) -> dict[str, Any]:
    """The values the hub reads at start: the rendered Secret ``hub``'s values.yaml."""
    (secret,) = (
        o
        for o in _objects(folder, "jupyterhub")
        if o["kind"] == "Secret" and o["metadata"]["name"] == "hub"
    )
    values: dict[str, Any] = yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))
    return values


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_render_writes_every_release(path: Path, rendered: dict[str, Path]) -> None:
    plan = _plan(path)
    files = {f.stem for f in rendered[path.stem].glob("*.yaml")}
    assert {r["name"] for r in plan["services"]["releases"]} <= files


#: The login URL the hub sends users to, from each provider's own documentation (Google's
#: OpenID Connect guide, CERN's Keycloak realm, INDIGO IAM's /authorize), reached through
#: the rendered hub configuration and the provider's recorded discovery document.
LOGIN = {
    "cern-sso": (
        "auth.cern.ch-auth-realms-cern.json",
        "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/auth",
    ),
    "google-login": ("accounts.google.com.json", "https://accounts.google.com/o/oauth2/v2/auth"),
    "europe-west4-l4-jupyter": ("atlas-auth.cern.ch.json", "https://atlas-auth.cern.ch/authorize"),
    "europe-west1-regional": (
        "wlcg.cloud.cnaf.infn.it.json",
        "https://wlcg.cloud.cnaf.infn.it/authorize",
    ),
}


@pytest.mark.parametrize("name", list(LOGIN))
def test_the_rendered_hub_logs_in_at_the_providers_own_url(
    name: str, rendered: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    oauth = require("oauthenticator.generic")
    document, authorize = LOGIN[name]
    values = _rendered_hub_values(rendered[name])
    discovery = values["custom"]["gridcloud"]["oidc"]["discovery"]
    monkeypatch.setattr(urllib.request, "urlopen", _Served({discovery: document}))
    authenticator = oauth.GenericOAuthenticator(config=start_hub_config(values))
    assert authenticator.authorize_url == authorize


def test_onprem_ingresses_use_the_sites_nginx_and_cert_manager(rendered: dict[str, Path]) -> None:
    ingresses = {
        o["spec"]["rules"][0]["host"]: o
        for o in _objects(rendered["onprem-nginx-cert-manager"], "gridcloud")
        if o["kind"] == "Ingress"
    }
    assert set(ingresses) == {"jupyter.physics.uni.example.edu", "reana.physics.uni.example.edu"}
    for host, ingress in ingresses.items():
        assert ingress["spec"]["ingressClassName"] == "nginx"
        notes = ingress["metadata"]["annotations"]
        assert notes["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
        # cert-manager issues the certificate for the host into the TLS secret named here
        (tls,) = ingress["spec"]["tls"]
        assert tls["hosts"] == [host]
        assert tls["secretName"]


def test_cern_sso_prices_its_data_with_europe_west4_rates() -> None:
    """The site's bucket and its data movement, by hand from ../shared's
    other-prices-by-region.csv (europe-west4: internet egress $0.12 a GiB for the first
    1,024 GiB a month, $0.11 up to 10 TiB; Cloud Storage standard $0.02 a GiB-month):
    500 + 3,000 GiB of egress = 1,024 x 0.12 + 2,476 x 0.11 = 122.88 + 272.36; 20,000 GiB
    stored = 400.00; 795.24 a month."""
    code, out, err = run("cost", "estimate", "--json", str(HERE / "cern-sso.yaml"))
    assert code == 0, err
    assert Decimal(str(json.loads(out)["cost"]["dataMonthly"])) == Decimal("795.24")
    code, out, err = run("plan", "--json", str(HERE / "cern-sso.yaml"))
    assert code == 0, err
    data = json.loads(out)["plan"]["data"]
    # in the cluster's region, private; the lifecycle as the profile gives it
    assert data["bucket"]["location"] == "EUROPE-WEST4"
    assert data["bucket"]["publicAccessPrevention"] == "enforced"
    assert [r["action"] for r in data["bucket"]["lifecycle"]] == ["Delete", "SetStorageClass"]
    # Rucio's storage element on it (render writes it; test_rucio_rse.py checks its shape)
    assert data["rucio"]["rse"] == "CERN_AF_GCS"


# -- a facility of shards: 600,000 cores over six regions ---------------------------------

SIX = ["us-central1", "us-east1", "us-east4", "us-west1", "europe-west1", "europe-west4"]
SPLIT = HERE / "six-regions-600k.yaml"
HOURS = 730


def _six_hundred_thousand() -> tuple[dict[str, Any], dict[str, Any]]:
    code, out, err = run("cost", "estimate", str(SPLIT), "--json")
    assert code == 0, err
    return _plan(SPLIT), json.loads(out)["cost"]


def test_six_hundred_thousand_cores_split_over_six_regions() -> None:
    """ceil(600,000 / 100,000) = 6 shards of 100,000 cores, shard i in the i-th region. Each
    region offers the three default types (the catalog's machine listing), so a shard has
    three spot pools of ceil(100,000 / 3) = 33,334 cores: ceil(33,334 / 80) = 417
    n2d-highcpu-80, 417 n2-highcpu-80 and ceil(33,334 / 112) = 298 c2d-highcpu-112, plus
    its system node: 1,133 nodes, zonal (under 5,000). Ranges: 1,133 nodes + 4 surge (one
    a pool) = 1,137 to address; pods 24 - ceil(log2 1,137) = /13, the subnet
    32 - ceil(log2 1,141) = /21, services /20, carved largest first from 10.0.0.0/8:
    10.0.0.0/13, then 10.8.0.0/20, then 10.8.16.0/21 (each shard its own VPC)."""
    plan, _ = _six_hundred_thousand()
    shards = plan["shards"]
    assert [(s["shard"], s["target"]["region"]) for s in shards] == [
        (f"s{i + 1}", region) for i, region in enumerate(SIX)
    ]
    for shard, region in zip(shards, SIX, strict=True):
        assert shard["name"] == f"campaign-{shard['shard']}"
        assert (shard["cluster"]["availability"], shard["cluster"]["maxNodes"]) == ("zonal", 1133)
        pools = [(p["name"], p["machineType"], p["maxNodes"], p["spot"]) for p in shard["pools"]]
        assert pools == [
            ("control", "e2-medium", 1, False),
            ("n2d-80", "n2d-highcpu-80", 417, True),
            ("n2-80", "n2-highcpu-80", 417, True),
            ("c2d-112", "c2d-highcpu-112", 298, True),
        ]
        network = shard["network"]
        assert network["nodesToAddress"] == 1137
        assert (network["podRange"], network["serviceRange"], network["subnetRange"]) == (
            "10.0.0.0/13",
            "10.8.0.0/20",
            "10.8.16.0/21",
        )
        # every zone of the region that offers the type (us-east1-a has no c2d-highcpu-112)
        c2d = next(p for p in shard["pools"] if p["name"] == "c2d-112")
        if region == "us-east1":
            assert c2d["zones"] == ["us-east1-b", "us-east1-c", "us-east1-d"]
    # the hard cap: one, on the home stack, over the home cluster's elastic pools and all
    # 6 x 3 of the shards'
    cap = plan["budget"]["cap"]
    assert [c["shard"] for c in cap["clusters"]] == ["home", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert [c["cluster"] for c in cap["clusters"][1:]] == [f"campaign-s{i}" for i in range(1, 7)]
    assert sum(len(c["pools"]) for c in cap["clusters"][1:]) == 18


#: A shard's idle month by hand (catalog rows, 2026-08-20): its e2-medium system node (listed
#: $0.03351 in us-central1; elsewhere billed as 1 vCPU + 4 GB at the region's E2 rates), its
#: 20 GB pd-balanced boot disk, Cloud NAT for one VM ($0.0014 a VM-hour) and one address
#: ($0.005 an hour), and GKE's fee ($0.10 a cluster-hour; the zonal home has the free tier).
def _idle(node_hourly: str, pd_balanced: str) -> Decimal:
    return (
        Decimal(node_hourly) * HOURS
        + 20 * Decimal(pd_balanced)
        + (Decimal("0.0014") + Decimal("0.005")) * HOURS
        + Decimal("0.10") * HOURS
    )


IDLE = {
    "s1": _idle("0.03351", "0.10"),  # listed
    "s2": _idle(str(Decimal("0.02181159") + 4 * Decimal("0.00292353")), "0.10"),  # us-east1
    "s3": _idle(str(Decimal("0.02456745") + 4 * Decimal("0.00329199")), "0.11"),  # us-east4
    "s4": _idle(str(Decimal("0.02181159") + 4 * Decimal("0.00292353")), "0.10"),  # us-west1
    "s5": _idle(str(Decimal("0.02399337") + 4 * Decimal("0.00321609")), "0.10"),  # eu-west1
    "s6": _idle(str(Decimal("0.02401338") + 4 * Decimal("0.00321816")), "0.11"),  # eu-west4
}


def test_six_hundred_thousand_cores_priced_per_shard_and_in_total() -> None:
    _, cost = _six_hundred_thousand()
    rows = {row["name"]: row for row in cost["shards"]}
    assert list(rows) == ["home", "s1", "s2", "s3", "s4", "s5", "s6"]
    # s1: 24.4623 + 2.00 + 4.672 + 73.00 = 104.1343; s3: 0.03773541 x 730 = 27.5468493
    # + 2.20 + 4.672 + 73.00 = 107.4188493
    assert IDLE["s1"] == Decimal("104.1343")
    assert IDLE["s3"].quantize(Decimal("0.0000001")) == Decimal("107.4188493")
    for name, idle in IDLE.items():
        assert rows[name]["idleMonthly"] == f"{idle:.2f}", name
        assert rows[name]["gkeFreeTierMonthly"] == "0.00"
    assert rows["home"]["gkeFreeTierMonthly"] == "73.00"
    # s1's pools at peak, spot (us-central1 rows) + 100 GB of pd-balanced a node
    # ($0.10 / 730 an hour): 417 x (0.87448 + 0.0136986) = 370.37; 417 x (1.64576 +
    # 0.0136986) = 691.99; 298 x (1.876 + 0.0136986) = 563.13
    s1 = {p["name"]: p for p in rows["s1"]["estimate"]["pools"]}
    disk = Decimal("0.10") * 100 / HOURS
    for name, nodes, spot in (
        ("n2d-80", 417, "0.87448"),
        ("n2-80", 417, "1.64576"),
        ("c2d-112", 298, "1.876"),
    ):
        assert s1[name]["peakHourly"] == f"{nodes * (Decimal(spot) + disk):.2f}", name
    # the facility: the sums of its clusters; cores at peak 6 x (33,360 + 33,360 + 33,376
    # + 2 system vCPUs) = 600,588 in the shards, and the home's on top
    # (each row and the total rounded to the cent: within a cent a row)
    shards_idle = sum(IDLE.values(), Decimal(0))
    total = Decimal(cost["idleMonthly"])
    assert abs(total - Decimal(rows["home"]["idleMonthly"]) - shards_idle) <= Decimal("0.07")
    assert [rows[f"s{i}"]["peakCores"] for i in range(1, 7)] == [100_098] * 6
    assert cost["peakCores"] == 600_588 + rows["home"]["peakCores"]


def test_six_hundred_thousand_cores_quota_needs_by_hand() -> None:
    """Against the raised quotas of recorded/check (PREEMPTIBLE_CPUS above zero in every
    region, so the spot vCPUs count there). Each shard, each pool at its maximum plus a
    surge node: (417 + 1) x 80 + (417 + 1) x 80 + (298 + 1) x 112 = 100,368 spot vCPUs;
    its system node 2 x 2 = 4 on demand (E2: CPUS); 1,137 VMs, whose Cloud NAT takes
    ceil(1,137 x 64 / 64,512) = 2 addresses. The home cluster (us-central1): control
    2 x e2-standard-4 = 8 and gpu 5 x g2-standard-8 = 40 on demand (no G2_CPUS quota listed:
    CPUS), services 4 x n2d-standard-8 = 32 (N2D_CPUS), 5 L4s; 11 VMs, one address."""
    from gridcloud.analysis import analyse
    from gridcloud.check.quotas import quota_rows

    recorded = Path(__file__).parents[1] / "unit" / "recorded" / "check"
    region = {
        q["metric"]: (int(q["limit"]), int(q["usage"]))
        for q in json.loads((recorded / "region-raised.json").read_text())["quotas"]
    }
    project = {
        q["metric"]: (int(q["limit"]), int(q["usage"]))
        for q in json.loads((recorded / "project-raised.json").read_text())["quotas"]
    }
    plan = analyse(SPLIT).plan
    rows = quota_rows(plan, {("campaign-prod", r): region for r in SIX}, {"campaign-prod": project})
    need = {(q.metric, q.scope): q.need for q in rows}
    assert {q.project for q in rows} == {"campaign-prod"}
    assert need[("PREEMPTIBLE_CPUS", "us-central1")] == 100_368
    assert need[("CPUS", "us-central1")] == 8 + 40 + 4
    assert need[("N2D_CPUS", "us-central1")] == 32
    assert need[("NVIDIA_L4_GPUS", "us-central1")] == 5
    assert need[("IN_USE_ADDRESSES", "us-central1")] == 1 + 2
    for name in SIX[1:]:
        assert need[("PREEMPTIBLE_CPUS", name)] == 100_368, name
        assert need[("CPUS", name)] == 4, name
        assert need[("INSTANCES", name)] == 1_137, name
        assert need[("IN_USE_ADDRESSES", name)] == 2, name
        assert (("NVIDIA_L4_GPUS", name)) not in need
    # over all regions: home 8 + 32 + 40 = 80, and 6 x (100,368 + 4) = 602,232
    assert need[("CPUS_ALL_REGIONS", "global")] == 80 + 602_232
    assert need[("GPUS_ALL_REGIONS", "global")] == 5
    status = {(q.metric, q.scope): q.status for q in rows}
    # 110,000 preemptible vCPUs a region hold a shard; 120,000 over all regions do not
    assert status[("PREEMPTIBLE_CPUS", "europe-west4")] == "ok"
    assert status[("CPUS_ALL_REGIONS", "global")] == "fail"
