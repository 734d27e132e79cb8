"""``gridcloud check --skip ID=REASON``: a known false alarm no longer blocks a deploy, the
check still runs and shows what it found with the reason, and a typo waives nothing."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gridcloud.cli.app import create_cli
from gridcloud.errors import ExitCode
from tests.conftest import PROFILES
from tests.unit import test_check
from tests.unit.test_check import Google

# the recorded Google APIs and local tools of test_check, as fixtures here too
google, tools = test_check.google, test_check.tools

DEFAULT = str(PROFILES / "default.yaml")


def _check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_cli(), ["check", "-q", *args, DEFAULT])
    return result.exit_code, result.stdout, result.stderr


def test_skipping_the_quotas_of_a_new_project_lets_the_deploy_go(google: Google) -> None:
    # the recorded new project cannot hold the default facility's peak (test_check): exit 9
    code, _, _ = _check("--json")
    assert code == ExitCode.NOT_READY
    code, stdout, stderr = _check("--json", "--skip", "quotas=raised by case 5678 today")
    assert code == 0, stderr
    data = json.loads(stdout)
    assert (data["go"], data["waived"]) == (True, ["quotas"])
    quotas = next(c for c in data["checks"] if c["id"] == "quotas")
    assert quotas["status"] == "skip"
    assert quotas["detail"].startswith("skipped with --skip: raised by case 5678 today")
    assert "(it found: fail" in quotas["detail"]
    # the rows are still there for the reader: N2D's need by hand, 100,080 + 176 vCPUs
    n2d = next(q for q in data["quotas"] if q["metric"] == "N2D_CPUS")
    assert (n2d["need"], n2d["status"]) == (100_256, "fail")


def test_skipping_another_check_does_not_waive_the_quotas(google: Google) -> None:
    code, stdout, _ = _check("--json", "--skip", "billing=checked by finance")
    assert code == ExitCode.NOT_READY
    assert json.loads(stdout)["go"] is False


def test_a_typo_or_a_missing_reason_is_an_input_error(google: Google) -> None:
    code, _, stderr = _check("--skip", "quota=raised")
    assert code == 2  # ExitCode.INVALID_INPUT, as docs/cli.md lists it
    assert "no check has the id 'quota'" in stderr
    assert "quotas" in stderr  # the ids are listed
    code, _, stderr = _check("--skip", "quotas")
    assert code == ExitCode.INVALID_INPUT
    assert "say why it is skipped" in stderr
    assert "Traceback" not in stderr
