"""``gridcloud check`` against Google's APIs answered in their real shapes (recorded files in
``recorded/check``, served with ``responses`` to the real client libraries, credentials
refreshed through the real OAuth flow), with a Pulumi CLI and GKE auth plugin on a PATH of
the test's own. Expected needs are worked by hand from the shipped profiles."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from typer.testing import CliRunner

from gridcloud.analysis import analyse
from gridcloud.catalog import load_catalog
from gridcloud.check import Report, run
from gridcloud.cli.app import create_cli
from gridcloud.errors import ExitCode
from gridcloud.plan import Plan
from tests.conftest import PROFILES, TOKEN_ANSWER, TOKEN_URL, require, write_adc
from tests.engine.compute_api import UNAVAILABLE, virtual_retry_clock

responses = require("responses")

RECORDED = Path(__file__).with_name("recorded") / "check"
PROJECT = "atlas-analysis-facility"
#: any project: the shipped profiles name different ones
COMPUTE = re.compile(r"https://compute\.googleapis\.com/compute/v1/projects/[a-z0-9-]+$")
REGION = re.compile(
    r"https://compute\.googleapis\.com/compute/v1/projects/[a-z0-9-]+/regions/([a-z0-9-]+)$"
)
BATCH_GET = re.compile(
    r"https://serviceusage\.googleapis\.com/v1/projects/[a-z0-9-]+/services:batchGet"
)
BILLING_INFO = re.compile(
    r"https://cloudbilling\.googleapis\.com/v1/projects/[a-z0-9-]+/billingInfo"
)
PROJECT_PERMISSIONS = re.compile(
    r"https://cloudresourcemanager\.googleapis\.com/v1/projects/[a-z0-9-]+:testIamPermissions"
)
BILLING_ACCOUNT = re.compile(
    r"https://cloudbilling\.googleapis\.com/v1/billingAccounts/[0-9A-F-]+(\?.*)?$"
)
TEST_PERMISSIONS = re.compile(
    r"https://cloudbilling\.googleapis\.com/v1/billingAccounts/[0-9A-F-]+:testIamPermissions"
)
ALL_APIS = {
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    # the default profile's budget and hard cap
    "billingbudgets.googleapis.com",
    "pubsub.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "run.googleapis.com",
    "eventarc.googleapis.com",
    "storage.googleapis.com",
}


@dataclass
class Google:
    """What the fake Google answers; change before the check runs."""

    region: str = "region-new.json"
    project: str = "project-new.json"
    project_status: int = 200
    project_error: str = "project-forbidden.json"
    """The recorded error ``projects.get`` answers with when ``project_status`` is not 200."""
    region_status: int = 200
    """503: Compute Engine is unavailable for ``regions.get``."""
    enabled: set[str] = field(default_factory=lambda: set(ALL_APIS))
    service_usage: str | None = None
    """A recorded error to answer batchGet with, instead of the services."""
    region_unreachable: bool = False
    """The network fails on the region's call."""
    regions_asked: list[str] = field(default_factory=list)
    region_limits: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per region, quota limits that differ from the recorded file's (metric -> limit)."""
    projects_asked: list[str] = field(default_factory=list)
    project_statuses: dict[str, int] = field(default_factory=dict)
    """Per project, the status ``projects.get`` answers with, where not ``project_status``."""
    billing_enabled: bool = True
    billing_account: str = "012345-6789AB-CDEF01"
    billing_currency: str = "USD"
    granted: set[str] = field(
        default_factory=lambda: {
            "billing.budgets.create",
            "billing.budgets.get",
            "billing.budgets.update",
            "billing.budgets.delete",
        }
    )
    project_granted: set[str] | None = None
    """What Cloud Resource Manager's testIamPermissions grants on the project (None: all)."""
    enabled_in: dict[str, set[str]] = field(default_factory=dict)
    """Per project, the APIs enabled there, where not ``enabled``."""
    billing_in: dict[str, str] = field(default_factory=dict)
    """Per project, the billing account it bills to ("": billing off), where not the
    ``billing_account`` above."""
    granted_in: dict[str, set[str]] = field(default_factory=dict)
    """Per project, what testIamPermissions grants there, where not ``project_granted``."""


def _recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def _batch_get(google: Google) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if google.service_usage is not None:
            return 403, {}, json.dumps(_recorded(google.service_usage))
        names = parse_qs(urlparse(request.url).query)["names"]
        project = urlparse(request.url).path.split("/projects/")[1].split("/")[0]
        enabled = google.enabled_in.get(project, google.enabled)
        services = [
            {
                "name": f"projects/123456789012/services/{n.rsplit('/', 1)[-1]}",
                "config": {"name": n.rsplit("/", 1)[-1]},
                "state": "ENABLED" if n.rsplit("/", 1)[-1] in enabled else "DISABLED",
                "parent": "projects/123456789012",
            }
            for n in names
        ]
        return 200, {}, json.dumps({"services": services})

    return answer


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with only a Pulumi CLI (3.150.0) and the GKE auth plugin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {
        "pulumi": "#!/bin/sh\necho v3.150.0\n",
        "gke-gcloud-auth-plugin": "#!/bin/sh\nexit 0\n",
    }.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tools: Path) -> Iterator[Google]:
    """Application Default Credentials as `gcloud auth application-default login` writes
    them, and Google's APIs answering from the recorded files."""
    adc = write_adc(tmp_path / "adc.json", quota_project_id=PROJECT)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    # what `up` also reads from the deployer's environment: the state's passphrase and the
    # OIDC client secret the default profile names
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test-only-passphrase")
    monkeypatch.setenv("GRIDCLOUD_OIDC_CLIENT_SECRET", "test-only-client-secret")
    state = Google()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json=TOKEN_ANSWER)

        def project(request: Any) -> tuple[int, dict[str, str], str]:
            asked = request.url.split("?")[0].rsplit("/", 1)[-1]
            state.projects_asked.append(asked)
            status = state.project_statuses.get(asked, state.project_status)
            name = state.project if status == 200 else state.project_error
            return status, {}, json.dumps(_recorded(name))

        mock.add_callback(responses.GET, COMPUTE, callback=project)

        def region(request: Any) -> tuple[int, dict[str, str], str]:
            if state.region_unreachable:
                raise requests.ConnectionError("Failed to resolve 'compute.googleapis.com'")
            name = REGION.match(request.url.split("?")[0])[1]  # type: ignore[index]
            state.regions_asked.append(name)
            if state.region_status != 200:
                return state.region_status, {}, json.dumps(UNAVAILABLE)
            answer = {**_recorded(state.region), "name": name, "description": name}
            answer["zones"] = [  # the region's own zones, as Compute Engine links them
                f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/zones/{zone}"
                for zone in load_catalog().zones_in(name)
            ]
            limits = state.region_limits.get(name, {})
            answer["quotas"] = [
                {**q, "limit": limits.get(q["metric"], q["limit"])} for q in answer["quotas"]
            ]
            return 200, {}, json.dumps(answer)

        mock.add_callback(responses.GET, REGION, callback=region)
        mock.add_callback(responses.GET, BATCH_GET, callback=_batch_get(state))

        def billing_info(request: Any) -> tuple[int, dict[str, str], str]:
            project = request.url.split("/projects/")[1].split("/")[0]
            account = state.billing_account if state.billing_enabled else ""
            account = state.billing_in.get(project, account)
            info = {
                "name": f"projects/{project}/billingInfo",
                "projectId": project,
                "billingAccountName": f"billingAccounts/{account}" if account else "",
                "billingEnabled": bool(account),
            }
            return 200, {}, json.dumps(info)

        def test_permissions(request: Any) -> tuple[int, dict[str, str], str]:
            asked = json.loads(request.body)["permissions"]
            return 200, {}, json.dumps({"permissions": [p for p in asked if p in state.granted]})

        def billing_account(request: Any) -> tuple[int, dict[str, str], str]:
            name = urlparse(request.url).path.removeprefix("/v1/")
            account = {  # billingAccounts.get (Cloud Billing v1), as it answers
                "name": name,
                "open": True,
                "displayName": "ATLAS analysis facility",
                "masterBillingAccount": "",
                "currencyCode": state.billing_currency,
            }
            return 200, {}, json.dumps(account)

        mock.add_callback(responses.GET, BILLING_INFO, callback=billing_info)
        mock.add_callback(responses.GET, BILLING_ACCOUNT, callback=billing_account)
        mock.add_callback(responses.POST, TEST_PERMISSIONS, callback=test_permissions)

        def project_permissions(request: Any) -> tuple[int, dict[str, str], str]:
            asked = json.loads(request.body)["permissions"]
            project = urlparse(request.url).path.split("/projects/")[1].split(":")[0]
            granted = state.granted_in.get(project, state.project_granted)
            held = [p for p in asked if granted is None or p in granted]
            return 200, {}, json.dumps({"permissions": held} if held else {})

        mock.add_callback(responses.POST, PROJECT_PERMISSIONS, callback=project_permissions)
        yield state


def _plan(name: str) -> Plan:
    return analyse(PROFILES / f"{name}.yaml").plan


def _status(report: Report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def _quotas(report: Report) -> dict[tuple[str, str], tuple[int, int | None, str]]:
    return {(q.metric, q.scope): (q.need, q.limit, q.status) for q in report.quotas}


def test_a_new_project_cannot_hold_the_default_facility(google: Google) -> None:
    """Peak (every pool at its maximum plus one surge node), by hand:
    control 2 x e2-standard-2 = 4 vCPUs; cpu 1,251 x 80 = 100,080 (spot); gpu 17 x 8 = 136
    (spot, n1) and 17 T4s; ondemand 11 x 16 = 176 (n2d); arm 21 x 48 = 1,008 (spot, t2a).
    Without PREEMPTIBLE_CPUS quota, spot VMs count against their family's quota."""
    report = run(_plan("default"))
    assert _status(report) == {
        "pulumi-cli": "ok",
        "secrets": "ok",
        "environment": "ok",
        "auth-plugin": "ok",
        "credentials": "ok",
        "project": "ok",
        "apis": "ok",
        "billing": "ok",
        "permissions": "ok",
        "quotas": "fail",
        "gke-limits": "ok",
    }
    assert not report.go
    quotas = _quotas(report)
    assert quotas[("N2D_CPUS", "us-central1")] == (100_080 + 176, 24, "fail")
    assert quotas[("CPUS", "us-central1")] == (4 + 136, 24, "fail")
    assert quotas[("T2A_CPUS", "us-central1")] == (1_008, 24, "fail")
    assert quotas[("NVIDIA_T4_GPUS", "us-central1")] == (17, 0, "fail")
    assert quotas[("CPUS_ALL_REGIONS", "global")] == (101_404, 32, "fail")
    assert quotas[("GPUS_ALL_REGIONS", "global")] == (17, 0, "fail")
    # 2 + 1,251 + 17 + 11 + 21 VMs; boot disks 2 x 50 + 1,300 x 100 GB, and the services'
    # disks: REANA 200, hub database 1, 20 homes of 10
    assert quotas[("INSTANCES", "us-central1")] == (1_302, 6000, "ok")
    assert quotas[("SSD_TOTAL_GB", "us-central1")] == (130_100 + 401, 500, "fail")
    # private nodes: only Cloud NAT's addresses, 1,302 VMs x 64 ports / 64,512 -> 2
    assert quotas[("IN_USE_ADDRESSES", "us-central1")] == (2, 8, "ok")
    assert ("PREEMPTIBLE_CPUS", "us-central1") not in quotas
    n2d = next(q for q in report.quotas if q.metric == "N2D_CPUS")
    assert "no PREEMPTIBLE_CPUS quota: counted here" in n2d.for_what
    # usage counts: 24 - 0 free of N2D, but CPUS has 2 in use
    cpus = next(q for q in report.quotas if q.metric == "CPUS")
    assert (cpus.usage, cpus.available) == (2, 22)
    assert cpus.request == (
        "gcloud beta quotas preferences create --service=compute.googleapis.com "
        "--quota-id=CPUS-per-project-region --preferred-value=142 "
        "--dimensions=region=us-central1 --project=atlas-analysis-facility "
        "(or the console: IAM & Admin, Quotas)"
    )


def test_with_the_increases_granted_the_default_facility_can_go(google: Google) -> None:
    google.region, google.project = "region-raised.json", "project-raised.json"
    report = run(_plan("default"))
    assert report.go, [c for c in report.checks if c.status != "ok"]
    quotas = _quotas(report)
    # spot VMs now count against PREEMPTIBLE_CPUS: 100,080 + 136 + 1,008
    assert quotas[("PREEMPTIBLE_CPUS", "us-central1")] == (101_224, 110_000, "ok")
    assert quotas[("PREEMPTIBLE_NVIDIA_T4_GPUS", "us-central1")] == (17, 20, "ok")
    assert quotas[("N2D_CPUS", "us-central1")] == (176, 200, "ok")
    assert quotas[("CPUS", "us-central1")] == (4, 200, "ok")
    assert ("T2A_CPUS", "us-central1") not in quotas
    assert ("NVIDIA_T4_GPUS", "us-central1") not in quotas


def test_a_deployer_without_the_budget_topic_policy_right_cannot_go(google: Google) -> None:
    """Issue 18: an owner's rights but pubsub.topics.setIamPolicy; every quota granted."""
    from gridcloud.check.permissions import project_permissions

    google.region, google.project = "region-raised.json", "project-raised.json"
    plan = _plan("default")
    google.project_granted = set(project_permissions(plan)) - {"pubsub.topics.setIamPolicy"}
    report = run(plan)
    assert [(c.id, c.status) for c in report.checks if c.status != "ok"] == [
        ("permissions", "fail")
    ]
    assert not report.go
    found = next(c for c in report.checks if c.id == "permissions")
    assert "pubsub.topics.setIamPolicy (budget notifying its topic)" in found.detail
    assert "Pub/Sub Admin (roles/pubsub.admin)" in found.fix


def test_the_command_shows_the_table_and_exits_9_until_the_quotas_hold(google: Google) -> None:
    runner = CliRunner()
    result = runner.invoke(create_cli(), ["check", "-q", str(PROFILES / "default.yaml")])
    assert result.exit_code == ExitCode.NOT_READY == 9
    assert "N2D_CPUS" in result.stdout
    # the request, whatever the terminal's width folded
    flat = "".join(result.stdout.split())
    assert "--quota-id=N2D-CPUS-per-project-region--preferred-value=100256" in flat
    assert "cannot go ahead" in result.stderr
    assert "Traceback" not in result.output

    google.region, google.project = "region-raised.json", "project-raised.json"
    result = runner.invoke(create_cli(), ["check", "-q", "--json", str(PROFILES / "default.yaml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["go"] is True
    row = next(q for q in data["quotas"] if q["metric"] == "PREEMPTIBLE_CPUS")
    assert (row["need"], row["limit"], row["usage"], row["available"], row["status"]) == (
        101_224,
        110_000,
        0,
        110_000,
        "ok",
    )


def test_the_small_profile_in_a_new_project(google: Google) -> None:
    """small.yaml by hand, each pool at its maximum plus a surge node: control
    2 x e2-standard-4 = 8 vCPUs; cpu 3 x n2d-highcpu-80 = 240 (spot, no preemptible quota:
    N2D_CPUS); gpu 2 x g2-standard-4 = 8 (no G2_CPUS listed: CPUS) with 2 L4s; notebooks
    3 x e2-standard-8 = 24. The region lists no L4 quota at all."""
    report = run(_plan("small"))
    quotas = _quotas(report)
    assert quotas[("CPUS", "us-central1")] == (8 + 8 + 24, 24, "fail")
    assert quotas[("N2D_CPUS", "us-central1")] == (240, 24, "fail")
    assert quotas[("NVIDIA_L4_GPUS", "us-central1")] == (2, None, "fail")
    assert quotas[("INSTANCES", "us-central1")] == (10, 6000, "ok")
    # boot disks 2 x 50 + 8 x 100; hub database 1; 20 homes of 10
    assert quotas[("SSD_TOTAL_GB", "us-central1")] == (900 + 201, 500, "fail")


def test_missing_apis_are_named_with_the_command_that_enables_them(google: Google) -> None:
    google.enabled = ALL_APIS - {"container.googleapis.com", "iam.googleapis.com"}
    report = run(_plan("default"))
    apis = next(c for c in report.checks if c.id == "apis")
    assert apis.status == "fail"
    assert apis.detail == "not enabled: container.googleapis.com, iam.googleapis.com"
    assert apis.fix == (
        "gcloud services enable container.googleapis.com iam.googleapis.com "
        "--project atlas-analysis-facility"
    )


def test_service_usage_disabled_says_to_enable_it(google: Google) -> None:
    google.service_usage = "serviceusage-disabled.json"
    apis = next(c for c in run(_plan("default")).checks if c.id == "apis")
    assert apis.status == "fail"
    assert apis.fix == (
        "gcloud services enable serviceusage.googleapis.com --project atlas-analysis-facility"
    )


def test_no_access_to_the_project_skips_the_quotas(google: Google) -> None:
    google.project_status = 403
    report = run(_plan("default"))
    status = _status(report)
    assert (status["project"], status["quotas"]) == ("fail", "skip")
    project = next(c for c in report.checks if c.id == "project")
    assert "compute.projects.get" in project.detail
    assert "Kubernetes Engine Admin" in project.fix
    assert report.quotas == ()


def test_without_credentials_or_tools_each_says_how(
    tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("pulumi", "gke-gcloud-auth-plugin"):
        (tools / name).unlink()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    report = run(_plan("default"))
    checks = {c.id: c for c in report.checks}
    assert checks["pulumi-cli"].status == "fail"
    assert "get.pulumi.com" in checks["pulumi-cli"].fix
    assert checks["auth-plugin"].status == "fail"
    assert "gcloud components install gke-gcloud-auth-plugin" in checks["auth-plugin"].fix
    assert checks["credentials"].status == "fail"
    assert "gcloud auth application-default login" in checks["credentials"].fix
    assert {checks[i].status for i in ("project", "apis", "permissions", "quotas")} == {"skip"}


def test_an_old_pulumi_fails_the_check(tools: Path, google: Google) -> None:
    (tools / "pulumi").write_text("#!/bin/sh\necho v3.99.1\n")
    pulumi = next(c for c in run(_plan("default")).checks if c.id == "pulumi-cli")
    assert pulumi.status == "fail"
    assert "3.99.1" in pulumi.detail


def test_gke_limits_above_5000_nodes_and_200000_pods() -> None:
    from gridcloud.check.quotas import gke_limits

    plan = _plan("default")
    assert gke_limits(plan).status == "ok"  # 1,302 nodes, 143,220 pods at 110 per node
    cpu = plan.pool("cpu").model_copy(update={"max_nodes": 6_000})
    bigger = plan.model_copy(
        update={"pools": tuple(cpu if p.name == "cpu" else p for p in plan.pools)}
    )
    large = gke_limits(bigger)
    assert large.status == "warn"
    assert "6,052 nodes at peak" in large.detail  # 6,000 + 1 surge + the other 51
    # GKE's documented limits ("Plan for large GKE clusters"): 15,000 nodes, 200,000 pods,
    # Google lifting the cluster size quota above 5,000 nodes
    assert "(limit 15,000; above 5,000 Google must lift the cluster size quota)" in large.detail
    assert "(limit 200,000)" in large.detail
    assert "cluster size quota above 5,000 nodes" in large.fix


def test_too_many_pods_for_one_cluster(make_plan: Callable[..., Plan]) -> None:
    from gridcloud.check.quotas import gke_limits

    def dense(data: dict[str, Any]) -> None:
        data["network"]["maxPodsPerNode"] = 256

    found = gke_limits(make_plan(dense))
    assert found.status == "warn"
    assert "333,312 pods" in found.detail  # 1,302 nodes x 256
    assert "maxPodsPerNode" in found.fix


def test_a_network_failure_is_a_failed_check_not_a_crash(google: Google) -> None:
    google.region_unreachable = True
    report = run(_plan("default"))
    quotas = next(c for c in report.checks if c.id == "quotas")
    assert quotas.status == "fail"
    assert "Failed to resolve" in quotas.detail
    assert not report.go


def test_the_apis_follow_what_the_plan_builds() -> None:
    from gridcloud.check.google import required_apis

    # small.yaml: a budget without a billing account, so no Cloud Billing budget, no cap
    assert set(required_apis(_plan("small"))) == {
        "compute.googleapis.com",
        "container.googleapis.com",
        "iam.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "serviceusage.googleapis.com",
    }
    assert set(required_apis(_plan("default"))) == ALL_APIS


def test_another_region_and_a_regional_cluster(
    google: Google, make_plan: Callable[..., Plan]
) -> None:
    """europe-west4, regional: the quotas are read where the pools are, and the zonal
    per-pool counts do not change the regional sums."""

    def europe(data: dict[str, Any]) -> None:
        data["target"]["region"] = "europe-west4"
        data["target"]["zones"] = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
        data["cluster"]["availability"] = "regional"
        for pool in data["pools"]:
            pool.pop("zones", None)

    plan = make_plan(europe)
    report = run(plan)
    assert google.regions_asked == ["europe-west4"]
    quotas = _quotas(report)
    assert {scope for _, scope in quotas} == {"europe-west4", "global"}
    # the same pools as the default profile: 100,080 + 176 N2D vCPUs (no preemptible quota)
    assert quotas[("N2D_CPUS", "europe-west4")][0] == 100_256
    short = next(q for q in report.quotas if q.metric == "N2D_CPUS")
    assert "--dimensions=region=europe-west4" in short.request


def test_billing_must_be_on_and_the_budget_manageable(google: Google) -> None:
    def billing() -> Any:
        return next(c for c in run(_plan("default")).checks if c.id == "billing")

    assert billing().status == "ok"
    google.granted = {"billing.budgets.get"}
    found = billing()
    assert found.status == "fail"
    assert "billing.budgets.create, billing.budgets.update" in found.detail
    assert "roles/billing.costsManager" in found.fix
    google.billing_account = "0A0A0A-0A0A0A-0A0A0A"
    found = billing()
    assert found.status == "fail"
    assert found.detail.startswith("the project bills to 0A0A0A-0A0A0A-0A0A0A")
    assert "never see the facility's costs" in found.detail
    google.billing_enabled = False
    found = billing()
    assert found.status == "fail"
    assert found.fix == (
        "gcloud billing projects link atlas-analysis-facility --billing-account "
        "012345-6789AB-CDEF01"
    )


def test_check_names_every_variable_up_needs(
    google: Google, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default profile reads the OIDC client secret from $GRIDCLOUD_OIDC_CLIENT_SECRET;
    # the local state backend with the passphrase provider needs $PULUMI_CONFIG_PASSPHRASE
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    monkeypatch.delenv("GRIDCLOUD_OIDC_CLIENT_SECRET")
    monkeypatch.delenv("GRIDCLOUD_BACKEND", raising=False)
    google.region, google.project = "region-raised.json", "project-raised.json"
    report = run(_plan("default"))
    checks = {c.id: c for c in report.checks}
    assert not report.go
    assert checks["secrets"].status == "fail"
    assert "PULUMI_CONFIG_PASSPHRASE" in checks["secrets"].fix
    assert checks["environment"].status == "fail"
    assert "$GRIDCLOUD_OIDC_CLIENT_SECRET is not set" in checks["environment"].detail
    # a Cloud KMS key needs no passphrase
    kms = "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"
    with_kms = {c.id: c for c in run(_plan("default"), secrets_provider=kms).checks}
    assert with_kms["secrets"].status == "ok"


def test_compute_engine_off_in_the_project_says_which_api_to_enable(google: Google) -> None:
    google.project_status, google.project_error = 403, "project-compute-disabled.json"
    report = run(_plan("default"))
    project = next(c for c in report.checks if c.id == "project")
    assert project.status == "fail"
    assert project.detail.startswith(
        "cannot read project atlas-analysis-facility: compute.googleapis.com is not enabled in "
        "the project: 403 GET "
    )
    assert project.fix == (
        "gcloud services enable compute.googleapis.com --project atlas-analysis-facility"
    )


def test_compute_engine_unavailable_is_a_failed_check_with_when_to_retry(
    google: Google, monkeypatch: pytest.MonkeyPatch
) -> None:
    """regions.get answers 503 until the client library's retries give up (RetryError)."""
    virtual_retry_clock(monkeypatch)
    google.region_status = 503
    quotas = next(c for c in run(_plan("default")).checks if c.id == "quotas")
    assert quotas.status == "fail"
    assert quotas.detail.startswith(
        "cannot read the quotas of us-central1: no answer from Google, after retrying: "
    )
    assert "The service is currently unavailable." in quotas.detail
    assert quotas.fix.startswith("a Google outage or a network problem: try again")


def test_a_budget_in_dollars_on_a_billing_account_in_euros_cannot_go(google: Google) -> None:
    """The default profile's budget is 25,000 USD; its billing account keeps its books in EUR
    (billingAccounts.get: currencyCode). Cloud Billing would refuse the budget's amount."""
    google.billing_currency = "EUR"
    found = next(c for c in run(_plan("default")).checks if c.id == "billing")
    assert found.status == "fail"
    assert found.detail.startswith(
        "billing account 012345-6789AB-CDEF01 is in EUR, the budget in USD: Cloud Billing "
        "refuses a budget amount in another currency"
    )
    assert "bill the project to an account in USD" in found.fix
