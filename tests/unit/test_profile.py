"""Loading profiles: every error names the file, the line and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridcloud.catalog import Catalog
from gridcloud.errors import ExitCode, InputError, ProfileError
from gridcloud.profile import Profile, load_profile, parse_profile
from tests.conftest import PROFILES, SHIPPED, default_data, services_off

DEFAULT = (PROFILES / "default.yaml").read_text()


def problems_of(text: str, catalog: Catalog) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.yaml", catalog)
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_profiles_load(path: Path, catalog: Catalog) -> None:
    assert load_profile(path, catalog).api_version == "gridcloud.dev/v1alpha1"


def test_misspelled_field_names_line_path_and_suggestion(catalog: Catalog) -> None:
    text = DEFAULT.replace("  machineType: e2-standard-2", "  machineTyp: e2-standard-2")
    [problem] = problems_of(text, catalog)
    line = line_of(text, "machineTyp:")
    assert problem == (
        f"p.yaml:{line}: controlNode.machineTyp: unknown field 'machineTyp'; "
        "did you mean 'machineType'?"
    )


def test_near_miss_machine_type_suggests_the_real_one(catalog: Catalog) -> None:
    text = DEFAULT.replace("n2d-highcpu-80", "n2d-highcpu-8O")
    [problem] = problems_of(text, catalog)
    assert problem.startswith(f"p.yaml:{line_of(text, '8O')}: pools[0].machineType: ")
    assert "unknown machine type 'n2d-highcpu-8O'" in problem
    assert problem.endswith("did you mean 'n2d-highcpu-80'?")


def test_misspelled_kind_suggests_a_kind(catalog: Catalog) -> None:
    text = DEFAULT.replace("kind: gpu", "kind: gpuu")
    [problem] = problems_of(text, catalog)
    assert "pools[1].kind" in problem and "did you mean 'gpu'?" in problem


def test_missing_required_field(catalog: Catalog) -> None:
    text = DEFAULT.replace("  project: atlas-analysis-facility\n", "")
    [problem] = problems_of(text, catalog)
    assert "target.project: required field 'project' is missing" in problem
    assert problem.startswith(f"p.yaml:{line_of(text, 'target:')}:")


def test_unknown_provider_suggests(catalog: Catalog) -> None:
    [problem] = problems_of(DEFAULT.replace("provider: gcp", "provider: gpc"), catalog)
    assert "target.provider" in problem and "did you mean 'gcp'?" in problem


def test_several_problems_are_reported_at_once(catalog: Catalog) -> None:
    text = DEFAULT.replace("maxNodes: 16", "maxNodes: -1").replace("monthly: 25000", "monthly: 0")
    problems = problems_of(text, catalog)
    assert len(problems) == 2
    assert any("pools[1].maxNodes" in p for p in problems)
    assert any("budget.monthly" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("- a\n- b\n", "is not a profile"),
        ("just a string\n", "is not a profile"),
        ("name: [unclosed\n", "is not valid YAML"),
    ],
)
def test_empty_or_non_mapping_files(text: str, message: str, catalog: Catalog) -> None:
    with pytest.raises(ProfileError, match=message) as info:
        parse_profile(text, "p.yaml", catalog)
    assert info.value.problems[0].startswith("p.yaml:")


def test_duplicate_key_is_an_error(catalog: Catalog) -> None:
    text = DEFAULT.replace("name: atlas-gcp", "name: atlas-gcp\nname: other")
    problems = problems_of(text, catalog)
    assert any("name: is given more than once" in p for p in problems)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no profile at") as info:
        load_profile(tmp_path / "nope.yaml")
    assert info.value.exit_code == ExitCode.INVALID_INPUT


# Combinations GCP refuses, checked against the catalog ---------------------------------


def pool_problem(catalog: Catalog, **pool: Any) -> list[str]:
    import yaml

    data = default_data()
    data["pools"] = [{"name": "p", "maxNodes": 2, **pool}]
    services_off(data)
    return problems_of(yaml.safe_dump(data), catalog)


def test_t4_needs_n1(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog, kind="gpu", machineType="n2-standard-8", accelerator={"type": "nvidia-tesla-t4"}
    )
    assert "pools[0].accelerator.type" in problem
    assert "nvidia-tesla-t4 attaches to n1 machine types only, not n2" in problem


def test_l4_comes_with_g2_and_cannot_be_attached(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog, kind="gpu", machineType="n1-standard-8", accelerator={"type": "nvidia-l4"}
    )
    assert "nvidia-l4 comes built into g2 machine types" in problem


def test_g2_with_a_different_accelerator_count(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog,
        kind="gpu",
        machineType="g2-standard-4",
        accelerator={"type": "nvidia-l4", "count": 2},
    )
    assert "g2-standard-4 comes with 1x nvidia-l4" in problem


def test_gpu_pool_without_a_gpu(catalog: Catalog) -> None:
    [problem] = pool_problem(catalog, kind="gpu", machineType="n1-standard-8")
    assert "needs an accelerator" in problem


def test_accelerator_count_gcp_does_not_offer(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog,
        kind="gpu",
        machineType="n1-standard-8",
        accelerator={"type": "nvidia-tesla-t4", "count": 3},
    )
    assert "pools[0].accelerator.count" in problem and "1, 2, 4 per VM" in problem


def test_arm_pool_on_x86_type(catalog: Catalog) -> None:
    [problem] = pool_problem(catalog, kind="arm", machineType="n2d-highcpu-80")
    assert "n2d-highcpu-80 is an x86 type; an arm pool needs an Arm type" in problem


def test_x86_pool_on_arm_type(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog, kind="cpu", machineType="t2a-standard-48", zones=["us-central1-a"]
    )
    assert "t2a-standard-48 is an Arm type; use kind: arm" in problem


def test_cpu_pool_on_gpu_type(catalog: Catalog) -> None:
    [problem] = pool_problem(catalog, kind="cpu", machineType="g2-standard-4")
    assert "comes with nvidia-l4; use kind: gpu" in problem


def test_machine_type_not_offered_in_a_zone(catalog: Catalog) -> None:
    [problem] = pool_problem(
        catalog, kind="gpu", machineType="g2-standard-4", zones=["us-central1-f"]
    )
    assert "g2-standard-4 is not offered in us-central1-f" in problem
    assert "offered in us-central1-a, us-central1-b, us-central1-c" in problem


def test_accelerator_not_offered_in_a_zone(catalog: Catalog) -> None:
    # T4 is not offered in us-central1-d, though n1 machines are
    [problem] = pool_problem(
        catalog,
        kind="gpu",
        machineType="n1-standard-8",
        accelerator={"type": "nvidia-tesla-t4"},
        zones=["us-central1-d"],
    )
    assert "nvidia-tesla-t4 is not offered in us-central1-d" in problem


def test_unknown_region_and_foreign_zone(catalog: Catalog) -> None:
    [problem] = problems_of(DEFAULT.replace("region: us-central1", "region: us-centrl1"), catalog)
    assert "target.region: unknown region 'us-centrl1'; did you mean 'us-central1'?" in problem
    text = DEFAULT.replace("us-central1-c]", "europe-west4-a]")
    [problem] = problems_of(text, catalog)
    assert "target.zones[2]: zone 'europe-west4-a' is not in region us-central1" in problem


def test_size_by_exactly_one_of_nodes_and_cores(catalog: Catalog) -> None:
    [problem] = pool_problem(catalog, kind="cpu", machineType="n2d-highcpu-80", maxCores=160)
    assert "give exactly one of maxNodes and maxCores" in problem


def test_hard_cap_needs_billing_account(catalog: Catalog) -> None:
    text = DEFAULT.replace("  billingAccount: 012345-6789AB-CDEF01\n", "")
    [problem] = problems_of(text, catalog)
    assert "budget: hardCap needs billingAccount" in problem


def test_pods_per_node_bounded_by_gke(catalog: Catalog) -> None:
    [problem] = problems_of(DEFAULT.replace("maxPodsPerNode: 110", "maxPodsPerNode: 300"), catalog)
    assert "network.maxPodsPerNode" in problem and "256" in problem


def test_defaults_are_applied(make_profile: Callable[..., Profile]) -> None:
    profile = make_profile()
    cpu = profile.pools[0]
    assert (cpu.min_nodes, cpu.disk_type, cpu.disk_size_gb) == (0, "pd-balanced", 100)
    assert profile.network.max_pods_per_node == 110


# --- apiVersion -------------------------------------------------------------------------


def _with_version(version: str | None) -> str:
    import yaml

    data = default_data()
    if version is None:
        del data["apiVersion"]
    else:
        data["apiVersion"] = version
    return "# a comment first\n" + yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("version", "problem", "hint"),
    [
        ("gridcloud.dev/v1beta1", "is newer than this gridcloud", "pip install -U gridcloud"),
        ("gridcloud.dev/v2", "is newer than this gridcloud", "pip install -U gridcloud"),
        ("gridcloud.dev/v0", "older profile schema", "no migration exists"),
        ("gridcloud.dev/v1alpha0", "older profile schema", "no migration exists"),
        ("nebari.dev/v1", "not a gridcloud profile version", "gridcloud.dev/v1alpha1"),
        ("gridcloud.dev/latest", "not a gridcloud profile version", "gridcloud.dev/v1alpha1"),
        (None, "is missing", "apiVersion: gridcloud.dev/v1alpha1"),
    ],
)
def test_a_profile_of_another_version_is_refused_with_the_way_forward(
    version: str | None, problem: str, hint: str, catalog: Catalog
) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(_with_version(version), "old.yaml", catalog)
    error = caught.value
    assert error.exit_code == ExitCode.INVALID_INPUT
    assert len(error.problems) == 1
    assert error.problems[0].startswith("old.yaml:2: apiVersion: ")  # line 1 is a comment
    assert problem in error.problems[0]
    assert hint in (error.message + (error.hint or "") + error.problems[0])


def test_version_order_is_kubernetes_order() -> None:
    from gridcloud.profile.versions import order

    ordered = ["v1alpha1", "v1alpha2", "v1alpha10", "v1beta1", "v1", "v2alpha1", "v2"]
    keys = [order(v) for v in ordered]
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert order("1.0") is None and order("v1gamma1") is None


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
        node[path[-1]] = value

    return edit


#: Values Kubernetes or Google would refuse at deploy time, refused at validate instead:
#: (where, value, what the message says).
NONSENSE = [
    (("network", "subnetRange"), "10.0.0.0/33", "not a valid IPv4 network"),
    (("network", "controlPlaneRange"), "172.16.0.0/24", "must be a /28"),
    # the fuzzer's find: pydantic read these as one-address networks (0.0.0.1/32, 10.0.0.0/32)
    (("network", "subnetRange"), True, "must be a CIDR range"),
    (("network", "podRange"), 167772160, "must be a CIDR range"),
    (("network", "serviceRange"), "10.0.0.0", "must be a CIDR range"),
    (("cluster", "authorizedNetworks"), [{"name": "x", "cidr": 1}], "must be a CIDR range"),
    (
        ("cluster", "authorizedNetworks"),
        [{"name": "a", "cidr": "10.0.0.0/8"}, {"name": "b", "cidr": "10.0.0.0/8"}],
        "10.0.0.0/8 more than once",
    ),
    (("services", "gridSite", "cvmfs", "repositories"), ["not a dns name!"], "not a DNS name"),
    (("services", "jupyter", "hostname"), "bad host name", "not a DNS name"),
    (("services", "reana", "hostname"), "UPPER_case.example.org", "not a DNS name"),
    (("pools", 0, "zones"), ["us-central1-a", "us-central1-a"], "listed more than once"),
    (("services", "jupyter", "oidc", "issuer"), "https://", "not an https URL"),
    (("services", "jupyter", "oidc", "issuer"), "https://bad host/x", "not an https URL"),
    (("services", "jupyter", "images", "cpu"), "Bad Image!!", "not an image reference"),
    (("budget", "monthly"), 10**100, "less than or equal to 1000000000"),
    (("pools", 0, "maxCores"), 10**30, "less than or equal to 10000000"),
    (("budget", "alertThresholds"), [float("nan")], "finite number"),
]


@pytest.mark.parametrize(("where", "value", "says"), NONSENSE, ids=lambda v: str(v)[:30])
def test_values_the_cloud_would_refuse_are_refused_at_validate(
    where: tuple[Any, ...], value: Any, says: str, make_profile: Callable[..., Profile]
) -> None:
    with pytest.raises(ProfileError) as info:
        make_profile(_set(where, value))
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    assert says in str(info.value)


def test_an_oidc_secret_ref_must_be_a_kubernetes_name(make_profile: Callable[..., Profile]) -> None:
    def edit(data: dict[str, Any]) -> None:
        oidc = data["services"]["jupyter"]["oidc"]
        oidc.pop("clientSecretEnv", None)
        oidc["clientSecretRef"] = {"name": "Bad_Name"}

    with pytest.raises(ProfileError, match="not a Kubernetes object name"):
        make_profile(edit)


def test_node_selector_keys_must_be_label_keys(catalog: Catalog) -> None:
    text = (PROFILES / "onprem.yaml").read_text().replace("nvidia.com/gpu.present", "bad key!", 1)
    with pytest.raises(ProfileError, match="not a Kubernetes label key"):
        parse_profile(text, "onprem.yaml", catalog)


def test_a_kubernetes_target_needs_node_selectors(catalog: Catalog) -> None:
    import yaml

    data = yaml.safe_load((PROFILES / "onprem.yaml").read_text())
    data["controlNode"].pop("nodeSelector")
    with pytest.raises(ProfileError, match=r"controlNode\.nodeSelector: required"):
        parse_profile(yaml.safe_dump(data), "onprem.yaml", catalog)
