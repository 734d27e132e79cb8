"""The budget and the hard cap as the program declares them (under Pulumi's mocks), for the
default profile: 25,000 USD a month, alerts at 50, 90 and 100 %, hard cap on."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pulumi
import pytest

from gridcloud.analysis import analyse
from gridcloud.enforcer.config import BUDGET_VAR, SETTINGS_VAR, Settings
from gridcloud.plan import Plan
from tests.conftest import PROFILES
from tests.program.mocks import OTHER_PROJECT_NUMBERS, PROJECT_NUMBER, Rendered, render

BUDGET = "gcp:billing/budget:Budget"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"


@pytest.fixture(scope="module")
def default() -> tuple[Plan, Rendered]:
    plan = analyse(PROFILES / "default.yaml").plan
    return plan, render(plan)


def test_the_budget_counts_the_project_and_notifies_its_topic(
    default: tuple[Plan, Rendered],
) -> None:
    _, rendered = default
    topic = rendered.one("gcp:pubsub/topic:Topic").inputs
    assert topic["name"] == "atlas-gcp-budget"
    budget = rendered.one(BUDGET).inputs
    assert budget["billingAccount"] == "012345-6789AB-CDEF01"
    assert budget["displayName"] == "gridcloud atlas-gcp"
    assert budget["budgetFilter"] == {
        "projects": [f"projects/{PROJECT_NUMBER}"],
        "calendarPeriod": "MONTH",
    }
    assert budget["amount"] == {
        "specifiedAmount": {"currencyCode": "USD", "units": "25000", "nanos": 0}
    }
    # the profile's thresholds, on current and on forecasted spend
    assert budget["thresholdRules"] == [
        {"thresholdPercent": t, "spendBasis": basis}
        for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
        for t in (0.5, 0.9, 1.0)
    ]
    assert budget["allUpdatesRule"]["schemaVersion"] == "1.0"
    assert budget["allUpdatesRule"]["pubsubTopic"] == rendered.outputs["budgetTopic"]


def test_a_shared_project_counts_only_the_facilitys_label(
    make_plan: Callable[..., Plan],
) -> None:
    def shared(data: dict[str, Any]) -> None:
        data["budget"]["scope"] = "label"

    budget = render(make_plan(shared)).one(BUDGET).inputs
    assert budget["budgetFilter"]["labels"] == {"gridcloud-facility": "atlas-gcp"}


def read_settings(service: dict[str, Any]) -> Settings:
    """The enforcer's settings from the function's environment, read by the enforcer's model."""
    environment = service["environmentVariables"]
    return Settings.from_json(environment[SETTINGS_VAR], environment[BUDGET_VAR])


def budget_currency(rendered: Rendered) -> str:
    return str(rendered.one(BUDGET).inputs["amount"]["specifiedAmount"]["currencyCode"])


def test_the_enforcer_runs_on_the_topic_as_its_own_least_privilege_account(
    default: tuple[Plan, Rendered],
) -> None:
    plan, rendered = default
    assert plan.budget is not None and plan.budget.cap is not None
    account = rendered.one("gcp:serviceaccount/account:Account", "budget-enforcer-account")
    email = f"{account.inputs['accountId']}@project.iam.gserviceaccount.com"
    assert account.inputs["accountId"] == "atlas-gcp-cap"
    role = rendered.one("gcp:projects/iAMCustomRole:IAMCustomRole").inputs
    assert sorted(role["permissions"]) == [
        "compute.instanceGroupManagers.get",
        "container.clusters.get",
        "container.clusters.update",
        "container.operations.get",
    ]
    bindings = [
        r.inputs
        for r in rendered.of_type("gcp:projects/iAMMember:IAMMember")
        if r.inputs["member"] == f"serviceAccount:{email}"
    ]
    assert [b["role"] for b in bindings] == [
        role["name"] if "name" in role else bindings[0]["role"]
    ]
    assert not [b for b in bindings if b["role"].startswith("roles/")]  # no predefined role
    invoker = rendered.one("gcp:cloudrun/iamMember:IamMember").inputs
    assert (invoker["role"], invoker["member"]) == ("roles/run.invoker", f"serviceAccount:{email}")

    function = rendered.one(FUNCTION).inputs
    assert function["buildConfig"]["runtime"] == "python312"
    assert function["buildConfig"]["entryPoint"] == "on_budget_notification"
    trigger = function["eventTrigger"]
    assert trigger["eventType"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert trigger["pubsubTopic"] == rendered.outputs["budgetTopic"]
    assert trigger["retryPolicy"] == "RETRY_POLICY_DO_NOT_RETRY"
    assert trigger["serviceAccountEmail"] == email
    service = function["serviceConfig"]
    assert service["serviceAccountEmail"] == email
    assert service["maxInstanceCount"] == 1
    assert service["ingressSettings"] == "ALLOW_INTERNAL_ONLY"
    # read as the enforcer reads it (tests/enforcer/test_settings.py: on to the handler)
    settings = read_settings(service)
    assert (settings.amount, settings.lag_hours, settings.label) == (
        Decimal(25000),
        Decimal(6),
        "gridcloud-cap",
    )
    # the budget's currency, compared with every notification's
    assert settings.currency == budget_currency(rendered) == "USD"
    # one timeout, decided by the Plan: the function's, and the one the handler keeps under
    assert service["timeoutSeconds"] == settings.timeout_seconds == plan.budget.cap.timeout_seconds
    assert service["timeoutSeconds"] <= 540  # Cloud Functions' most for an event trigger
    # every elastic pool, never the control pool, with the Plan's autoscaling to restore
    assert [(p.name, p.total_max_nodes, p.location_policy) for _, p in settings.pools] == [
        ("cpu", 1250, "ANY"),
        ("gpu", 16, "ANY"),
        ("ondemand", 10, "BALANCED"),
        ("arm", 20, "ANY"),
    ]
    (home,) = settings.clusters
    assert (home.shard, home.project, home.cluster, home.location) == (
        "home",
        "atlas-analysis-facility",
        "atlas-gcp",
        "us-central1-a",
    )
    assert rendered.outputs["enforcerAccount"] == email


def test_without_a_billing_account_or_a_cloud_there_is_no_budget_resource(
    make_plan: Callable[..., Plan],
) -> None:
    def alerts_only(data: dict[str, Any]) -> None:
        data["budget"] = {"monthly": 1000}

    rendered = render(make_plan(alerts_only))
    assert rendered.of_type(BUDGET) == []
    assert rendered.of_type(FUNCTION) == []

    def no_cap(data: dict[str, Any]) -> None:
        data["budget"]["hardCap"] = False

    rendered = render(make_plan(no_cap))
    assert len(rendered.of_type(BUDGET)) == 1
    assert rendered.of_type(FUNCTION) == []


def test_the_archive_holds_the_enforcer_alone_and_imports_no_pulumi(tmp_path: Path) -> None:
    from gridcloud.program.budget import enforcer_archive

    archive = enforcer_archive()
    names = sorted(archive.assets)
    assert names[:3] == [
        "gridcloud/__init__.py",
        "gridcloud/enforcer/__init__.py",
        "gridcloud/enforcer/config.py",
    ]
    assert {"main.py", "requirements.txt", "gridcloud/enforcer/main.py"} <= set(names)
    assert not [
        n
        for n in names
        if n.startswith("gridcloud/") and "/enforcer/" not in n and n != "gridcloud/__init__.py"
    ]
    for name, asset in archive.assets.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(asset, pulumi.StringAsset):
            target.write_text(asset.text)
        else:
            target.write_bytes(Path(asset.path).read_bytes())
    # the source imports only the standard library, Google's clients and itself
    for path in (tmp_path / "gridcloud" / "enforcer").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                top = (module or "").split(".")[0]
                assert top in {
                    "__future__",
                    "gridcloud",
                    "google",
                    "functions_framework",
                    "requests",
                } or (top in sys.stdlib_module_names), (path.name, module)
                # of gridcloud, only the enforcer itself travels in the archive
                assert top != "gridcloud" or (module or "").startswith("gridcloud.enforcer"), (
                    path.name,
                    module,
                )
    # loaded as the runtime loads it, from the archive alone: no Pulumi comes with it
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, main; "
            "assert main.on_budget_notification; "
            "assert main.__file__.startswith(sys.argv[1]); "
            "print(sorted({m.split('.')[0] for m in sys.modules "
            "if m.startswith(('pulumi', 'gridcloud'))}))",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['gridcloud']"
    requirements = (tmp_path / "requirements.txt").read_text()
    for needed in ("functions-framework", "google-cloud-container", "requests"):
        assert needed in requirements


def test_a_regional_clusters_enforcer_addresses_it_by_region(
    make_plan: Callable[..., Plan],
) -> None:
    def regional(data: dict[str, Any]) -> None:
        data["cluster"]["availability"] = "regional"

    function = render(make_plan(regional)).one(FUNCTION).inputs
    assert read_settings(function["serviceConfig"]).clusters[0].location == "us-central1"
    assert function["location"] == "us-central1"


def with_eu_shard(data: dict[str, Any]) -> None:
    """The default profile and a compute-only shard in europe-west4, in a project of its
    own."""
    data["shards"] = {
        "declared": [
            {
                "name": "ew4",
                "region": "europe-west4",
                "project": "atlas-eu-compute",
                "pools": [
                    {
                        "name": "n2d",
                        "kind": "cpu",
                        "machineType": "n2d-highcpu-80",
                        "maxCores": 8000,
                    }
                ],
            }
        ]
    }


def test_one_budget_and_one_cap_for_a_facility_of_shards(
    make_plan: Callable[..., Plan],
) -> None:
    """The home stack declares the facility's budget: it counts both projects, and its
    enforcer holds its role in both and is given both clusters' pools."""
    plan = make_plan(with_eu_shard)
    rendered = render(plan)
    budget = rendered.one(BUDGET).inputs
    assert budget["budgetFilter"]["projects"] == [
        f"projects/{PROJECT_NUMBER}",
        f"projects/{OTHER_PROJECT_NUMBERS['atlas-eu-compute']}",
    ]
    roles = rendered.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    assert sorted(r.inputs["project"] for r in roles) == [
        "atlas-analysis-facility",
        "atlas-eu-compute",
    ]
    assert {r.inputs["roleId"] for r in roles} == {"gridcloud_cap_atlas_gcp"}
    bindings = rendered.of_type("gcp:projects/iAMMember:IAMMember")
    eu = [b for b in bindings if b.inputs["project"] == "atlas-eu-compute"]
    assert len(eu) == 1 and eu[0].inputs["member"].endswith(
        "atlas-gcp-cap@project.iam.gserviceaccount.com"
    )
    settings = read_settings(rendered.one(FUNCTION).inputs["serviceConfig"])
    assert [(c.shard, c.project, c.cluster) for c in settings.clusters] == [
        ("home", "atlas-analysis-facility", "atlas-gcp"),
        ("ew4", "atlas-eu-compute", "atlas-gcp-ew4"),
    ]
    assert settings.clusters[1].location.startswith("europe-west4")
    # 8,000 cores of 80: 100 nodes at most, from zero
    assert [(p.name, p.total_min_nodes, p.total_max_nodes) for p in settings.clusters[1].pools] == [
        ("n2d", 0, 100)
    ]


def test_a_label_scoped_budget_counts_every_shard(make_plan: Callable[..., Plan]) -> None:
    """One label pair in the budget's filter, and each shard's resources carry their own
    facility name (atlas-gcp-ew4): the budget filters on gridcloud-budget: atlas-gcp, which
    every cluster of the facility carries, and with it their nodes (GKE gives the cluster's
    labels to its nodes and disks)."""

    def labelled(data: dict[str, Any]) -> None:
        with_eu_shard(data)
        data["budget"]["scope"] = "label"

    plan = make_plan(labelled)
    budget = render(plan).one(BUDGET).inputs
    assert budget["budgetFilter"]["labels"] == {"gridcloud-budget": "atlas-gcp"}
    assert len(budget["budgetFilter"]["projects"]) == 2
    home = render(plan).one("gcp:container/cluster:Cluster").inputs["resourceLabels"]
    shard = render(plan.shards[0])
    labels = shard.one("gcp:container/cluster:Cluster").inputs["resourceLabels"]
    assert home["gridcloud-budget"] == labels["gridcloud-budget"] == "atlas-gcp"
    assert labels["gridcloud-facility"] == "atlas-gcp-ew4"
    pools = shard.of_type("gcp:container/nodePool:NodePool")
    assert {p.inputs["nodeConfig"]["resourceLabels"]["gridcloud-budget"] for p in pools} == {
        "atlas-gcp"
    }


ARCHIVE = "gcp:storage/bucketObject:BucketObject"


def _enforcer_copy(tmp_path: Path, name: str) -> Path:
    """The enforcer's source, copied as a checkout elsewhere would hold it (other times,
    another order of creation)."""
    from gridcloud.program.budget import ENFORCER_DIR

    target = tmp_path / name / "gridcloud" / "enforcer"
    target.mkdir(parents=True)
    shutil.copy(ENFORCER_DIR.parent / "__init__.py", target.parent / "__init__.py")
    for path in sorted(ENFORCER_DIR.iterdir(), reverse=True):
        if path.is_file():
            shutil.copy(path, target / path.name)
            os.utime(target / path.name, (1_000_000_000, 1_000_000_000))
    return target


def test_the_archive_is_named_by_its_content(
    default: tuple[Plan, Rendered], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function's source object changes exactly when the code does: Cloud Functions
    rebuilds only when its source changes (a fixed ``enforcer.zip`` never did)."""
    from gridcloud.program import budget
    from tests.program.replacement import ReplaceRules, changed_paths

    plan, before = default
    archive = before.one(ARCHIVE).inputs
    assert re.fullmatch(r"enforcer-[0-9a-f]{24}\.zip", archive["name"])
    source = before.one(FUNCTION).inputs["buildConfig"]["source"]["storageSource"]
    assert source["object"] == archive["name"]

    # the same code elsewhere (other file times, another order): the same name, no change
    monkeypatch.setattr(budget, "ENFORCER_DIR", _enforcer_copy(tmp_path, "same"))
    same = render(plan)
    assert same.one(ARCHIVE).inputs == archive
    assert same.one(FUNCTION).inputs == before.one(FUNCTION).inputs

    # a change of code (one line of the decision): a new name, and the function's source
    changed = _enforcer_copy(tmp_path, "changed")
    decide = changed / "decide.py"
    decide.write_text(decide.read_text().replace("minutes=15", "minutes=16"))
    monkeypatch.setattr(budget, "ENFORCER_DIR", changed)
    after = render(plan)
    assert after.one(ARCHIVE).inputs["name"] != archive["name"]
    function_paths = changed_paths(before.one(FUNCTION).inputs, after.one(FUNCTION).inputs)
    assert function_paths == {"buildConfig.source.storageSource.object"}
    # by the provider's rules: a new object (its name forces one; created before the old
    # one is deleted, and the names differ), the function updated in place and rebuilt
    rules = ReplaceRules()
    archive_paths = changed_paths(archive, after.one(ARCHIVE).inputs)
    assert "name" in archive_paths
    assert rules.replaces(ARCHIVE, "name")
    assert not any(rules.replaces(FUNCTION, p) for p in function_paths)
    assert before.one(ARCHIVE).options.delete_before_replace is False


def test_the_function_timeout_is_the_plans_alone(default: tuple[Plan, Rendered]) -> None:
    """One number: the Plan's timeout is the function's, and the enforcer keeps its deadline
    below the same number (read from its settings)."""
    plan, _ = default
    assert plan.budget is not None and plan.budget.cap is not None
    cap = plan.budget.cap.model_copy(update={"timeout_seconds": 300})
    shorter = plan.model_copy(update={"budget": plan.budget.model_copy(update={"cap": cap})})
    service = render(shorter).one(FUNCTION).inputs["serviceConfig"]
    assert (service["timeoutSeconds"], read_settings(service).timeout_seconds) == (300, 300)
