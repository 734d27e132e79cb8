"""Start-up and planning speed: median wall time of real ``gridcloud`` processes.

    python benchmarks/startup.py [--runs N] [--python PATH]

Prints figures; asserts nothing (shared machines are noisy). The targets: ``--help`` far
under half a second, and ``plan``, ``validate`` and ``cost estimate`` within 1.5x of
``--help``, in the main install (README command 1) and in an environment that also has
JupyterHub (the dev install, README command 2). ``--python`` measures another environment's
interpreter (e.g. ``.venv/bin/python`` of each install); the run says which it was.

The commands run as a user runs them a second time: gridcloud keeps the digest of Helm
values that passed their chart's schema in its cache (``$GRIDCLOUD_CACHE_DIR``), so the
first ``plan`` of a changed profile also pays the schema validation; ``--cold`` measures
that with an empty cache each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "gridcloud --help": ["--help"],
    "gridcloud plan --json": ["plan", "--json"],
    "gridcloud plan (tables)": ["plan"],
    "gridcloud validate": ["validate", "profiles/default.yaml"],
    "gridcloud cost estimate": ["cost", "estimate"],
}


def measure(python: str, args: list[str], runs: int, cache: str | None) -> tuple[list[float], int]:
    times = []
    peak_kib = 0
    for _ in range(runs):
        env = dict(os.environ)
        with tempfile.TemporaryDirectory(prefix="gridcloud-bench-") as empty:
            env["GRIDCLOUD_CACHE_DIR"] = cache or empty
            start = time.perf_counter()
            subprocess.run(
                [python, "-m", "gridcloud", *args],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                env=env,
            )
            times.append(time.perf_counter() - start)
        peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return times, peak_kib


def describe(python: str) -> str:
    probe = (
        "import importlib.util as u; print(', '.join(n for n in ('jupyterhub', "
        "'rfc3987_syntax', 'helm_python') if u.find_spec(n)) or 'none of them')"
    )
    found = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{python} (jupyterhub, rfc3987_syntax, helm_python installed: {found})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--cold", action="store_true", help="an empty cache for every run")
    options = parser.parse_args()
    runs, python = options.runs, options.python
    print(describe(python))
    with tempfile.TemporaryDirectory(prefix="gridcloud-bench-cache-") as warm:
        cache = None if options.cold else warm
        measure(python, ["plan", "--json"], 1, cache)  # warm files, bytecode and cache
        print(
            f"{'command':<28}{'median':>10}{'min':>10}{'max':>10}{'x --help':>10}   ({runs} runs)"
        )
        base = 0.0
        for name, args in COMMANDS.items():
            times, peak = measure(python, args, runs, cache)
            median = statistics.median(times)
            base = base or median
            print(
                f"{name:<28}{median * 1000:>8.0f}ms{min(times) * 1000:>8.0f}ms"
                f"{max(times) * 1000:>8.0f}ms{median / base:>9.2f}x"
            )
    print(f"peak RSS of any run: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
