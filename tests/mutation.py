"""Mutation testing of one pure module with its own fast tests (docs/testing.md).

    .venv/bin/python tests/mutation.py policy        # or cost, plan, report
    .venv/bin/python tests/mutation.py policy --score     # the last run's score, survivors

mutmut (3.x) works in a copy of the project (``mutants/`` beside its configuration), so this
copies the project into a scratch folder in the system temp dir
(``gridcloud-mutation-<module>``, ``../shared`` linked where the tests look for it), writes
mutmut's configuration for the module there and runs ``mutmut run`` under ``nice`` on one
core. The folder is kept for ``--score`` (and ``mutmut show`` there), removed by ``--clean``.
"""

from __future__ import annotations

import argparse
import ast
import json
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
        [
            "tests/unit/test_policy.py",
            "tests/unit/test_policy_privilege_and_rbac.py",
            "tests/unit/test_data_plan.py",  # data-egress-unstated
        ],
    ),
    "cost": (
        ["gridcloud/cost/estimate.py", "gridcloud/cost/budget.py"],
        [
            "tests/unit/test_cost.py",
            "tests/unit/test_budget_verdict.py",
            # the estimate's fallback classes, shards, data rows and backups' snapshots
            "tests/unit/test_fallback.py",
            "tests/unit/test_shards.py",
            "tests/unit/test_data_cost.py",
            "tests/unit/test_backups.py",
            # off the default path: other regions, shards, commitments, fallback classes
            "tests/unit/test_regions.py",
            "tests/unit/test_corpus_cost.py",
            "tests/cost",
        ],
    ),
    "plan": (
        ["gridcloud/plan/pools.py", "gridcloud/plan/network.py", "gridcloud/plan/cap.py"],
        [
            "tests/unit/test_plan.py",
            "tests/unit/test_cap_plan.py",
            "tests/unit/test_pools_by_hand.py",
            "tests/unit/test_network_by_hand.py",
        ],
    ),
    "report": (
        ["gridcloud/report/model.py"],
        ["tests/unit/test_report_model.py", "tests/report/test_months.py"],
    ),
}


def scratch(module: str, suffix: str = "") -> Path:
    return Path(tempfile.gettempdir()) / f"gridcloud-mutation-{module}{suffix}"


def prepare(module: str, suffix: str = "") -> Path:
    mutated, tests = MODULES[module]
    where = scratch(module, suffix)
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
        'also_copy = ["profiles", "README.md"]\n'
        f"do_not_mutate_patterns = {json.dumps(list(PROSE_LINES))}\n"
    )
    with (project / "pyproject.toml").open("a") as f:
        f.write(config)
    return project


#: Lines of prose, not mutated (text and layout set aside; ``--score`` sets aside the same
#: kind of mutant on other lines): a message, fix, hint or reason argument, or a line that is
#: only a string with a space in it (a message's continuation).
PROSE_LINES = (
    r"^\s*(message|fix|hint|reason)=",
    r'^\s*[+(]?\s*f?"[^"]* [^"]*"\s*[,)+]*\s*$',
)
#: Keyword arguments that hold prose: dropping one changes what is said, not what is done.
PROSE_ARGUMENTS = {"message", "fix", "hint", "reason"}
KILLED = {1, 3}


class _Prose(ast.NodeTransformer):
    """Text and layout set aside: a string with a space in it (prose, not a key or a name),
    the text parts of an f-string, and prose keyword arguments."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and (" " in node.value or node.value.strip() == ""):
            return ast.Constant("<prose>")
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.keywords = [k for k in node.keywords if k.arg not in PROSE_ARGUMENTS]
        self.generic_visit(node)
        return node


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def _text_only(mutant: ast.FunctionDef, original: ast.FunctionDef) -> bool:
    def shape(node: ast.FunctionDef) -> str:
        copy = ast.parse(ast.unparse(node)).body[0]
        assert isinstance(copy, ast.FunctionDef)
        copy.name = "f"
        return ast.dump(_Prose().visit(copy))

    return shape(mutant) == shape(original)


def _changed(mutant: ast.FunctionDef, original: ast.FunctionDef) -> str:
    import difflib

    mutant.name = original.name
    before, after = ast.unparse(original).splitlines(), ast.unparse(mutant).splitlines()
    return " | ".join(
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    )


def score(module: str, suffix: str = "") -> list[str]:
    """Killed and surviving mutants, text and layout apart, from the last run's records;
    returns the names of the behaviour mutants that survived."""
    mutants = scratch(module, suffix) / "project" / "mutants"
    survivors = []
    names = []
    counts = {"behaviour": [0, 0], "text": [0, 0]}  # [killed, total]
    untested = 0
    for path in MODULES[module][0]:
        source = mutants / path
        try:
            codes = json.loads(Path(f"{source}.meta").read_text())["exit_code_by_key"]
        except (OSError, ValueError):  # a run stopped while mutmut wrote its records
            print(f"{path}: no records (the run was stopped while they were written)")
            continue
        functions = _functions(source)
        for key, code in sorted(codes.items()):
            name = key.rsplit(".", 1)[1]
            original = functions[name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"]
            if code in (5, 33, None):
                untested += 1
                continue
            kind = "text" if _text_only(functions[name], original) else "behaviour"
            counts[kind][1] += 1
            if code in KILLED:
                counts[kind][0] += 1
            elif kind == "behaviour":
                names.append(key)
                survivors.append(f"{key} [{code}]: {_changed(functions[name], original)}")
    killed = counts["behaviour"][0] + counts["text"][0]
    total = counts["behaviour"][1] + counts["text"][1]
    behaviour_killed, behaviour = counts["behaviour"]
    print(
        f"{module}: {total} mutants run ({untested} without a test), {killed} killed: "
        f"{100 * killed / max(total, 1):.1f} % raw; on behaviour {behaviour_killed} of "
        f"{behaviour}: {100 * behaviour_killed / max(behaviour, 1):.1f} % "
        f"({counts['text'][1]} text mutants set aside, {counts['text'][0]} of them killed)"
    )
    for line in survivors:
        print("  survived:", line)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=sorted(MODULES))
    parser.add_argument("--score", action="store_true", help="the last run's score")
    parser.add_argument("--clean", action="store_true", help="remove the scratch folder")
    parser.add_argument(
        "--resume", action="store_true", help="go on with the last run's copy and results"
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run the last run's surviving mutants again, in a fresh copy (with --score: "
        "that run's results)",
    )
    parser.add_argument("--max-children", type=int, default=1)
    args = parser.parse_args()
    mutmut = str(Path(sys.executable).parent / "mutmut")
    if args.clean:
        shutil.rmtree(scratch(args.module), ignore_errors=True)
        shutil.rmtree(scratch(args.module, "-recheck"), ignore_errors=True)
        return 0
    if args.score:
        score(args.module, "-recheck" if args.recheck else "")
        return 0
    names: list[str] = []
    if args.recheck:  # the last run's survivors, against the tests as they are now
        names = score(args.module)
        project = prepare(args.module, "-recheck")
        # the last run's configuration, so that the mutants' numbers name the same changes,
        # with the tests as they are now
        import re

        old = (scratch(args.module) / "project" / "pyproject.toml").read_text()
        new = (project / "pyproject.toml").read_text()
        selection = re.compile(r"^pytest_add_cli_args_test_selection = .*$", re.MULTILINE)
        current = selection.search(new)
        assert current is not None
        (project / "pyproject.toml").write_text(selection.sub(current.group(0), old))
    elif args.resume:
        project = scratch(args.module) / "project"
    else:
        project = prepare(args.module)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # mutmut switches a mutant on by a variable, not by editing the file: gridcloud's memo
    # (keyed by the files) would answer for the unmutated code
    env["GRIDCLOUD_MEMO"] = "off"
    command = ["nice", "-n", "10", mutmut, "run", "--max-children", str(args.max_children)]
    command += names
    return subprocess.call(command, cwd=project, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
