"""Mutation testing of one pure module with its own fast tests (docs/testing.md).

    .venv/bin/python tests/mutation.py policy        # or cost, plan, report
    .venv/bin/python tests/mutation.py policy --results   # the last run's survivors

mutmut (3.x) works in a copy of the project (``mutants/`` beside its configuration), so this
copies the project into a scratch folder in the system temp dir (``gridcloud-mutation-<module>``,
with ``../shared`` linked where the tests look for it), writes mutmut's configuration for the module there and
runs ``mutmut run`` under ``nice`` on one core; the scratch folder is kept for ``--results``
and ``mutmut show`` and removed with ``--clean``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: module -> (the files mutated, the tests that judge them).
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "policy": (
        ["gridcloud/policy/rules.py", "gridcloud/policy/waivers.py"],
        ["tests/unit/test_policy.py"],
    ),
    "cost": (
        ["gridcloud/cost/estimate.py", "gridcloud/cost/budget.py"],
        ["tests/unit/test_cost.py", "tests/unit/test_corpus_cost.py"],
    ),
    "plan": (
        ["gridcloud/plan/pools.py", "gridcloud/plan/network.py", "gridcloud/plan/cap.py"],
        ["tests/unit/test_plan.py", "tests/unit/test_invariants.py"],
    ),
    "report": (
        ["gridcloud/report/model.py"],
        ["tests/unit/test_report_model.py", "tests/report/test_months.py"],
    ),
}


def scratch(module: str) -> Path:
    return Path(tempfile.gettempdir()) / f"gridcloud-mutation-{module}"


def prepare(module: str) -> Path:
    mutated, tests = MODULES[module]
    where = scratch(module)
    shutil.rmtree(where, ignore_errors=True)
    project = where / "project"
    ignore = shutil.ignore_patterns(".git", ".venv", "mutants", "__pycache__", ".*_cache")
    for part in ("gridcloud", "tests", "profiles", "README.md", "pyproject.toml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, project / part, ignore=ignore)
        else:
            shutil.copy2(source, project / part)
    # tests/conftest.py finds ../shared beside the project mutmut runs in (project/mutants)
    (project / "shared").symlink_to((ROOT.parent / "shared").resolve())
    quoted = ", ".join(f'"{t}"' for t in tests)
    only = ", ".join(f'"{m}"' for m in mutated)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["gridcloud"]\n'
        f"only_mutate = [{only}]\n"
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        'pytest_add_cli_args = ["-p", "no:randomly", "-q", "-x"]\n'
        "also_copy = [\"profiles\", \"README.md\"]\n"
    )
    with (project / "pyproject.toml").open("a") as f:
        f.write(config)
    return project


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=sorted(MODULES))
    parser.add_argument("--results", action="store_true", help="the last run's results")
    parser.add_argument("--clean", action="store_true", help="remove the scratch folder")
    parser.add_argument("--max-children", type=int, default=1)
    args = parser.parse_args()
    mutmut = str(Path(sys.executable).parent / "mutmut")
    if args.clean:
        shutil.rmtree(scratch(args.module), ignore_errors=True)
        return 0
    if args.results:
        project = scratch(args.module) / "project"
        return subprocess.call([mutmut, "results"], cwd=project)
    project = prepare(args.module)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = ["nice", "-n", "10", mutmut, "run", "--max-children", str(args.max_children)]
    return subprocess.call(command, cwd=project, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
