"""Start-up and planning speed: median wall and CPU time of real ``gridcloud`` processes.

    python benchmarks/startup.py [--runs N] [--python PATH] [--cold] [--instructions]

Prints figures; asserts nothing (shared machines are noisy). The targets: ``--help`` far
under half a second, and ``plan --json``, ``validate`` and ``cost estimate --json`` (the
commands issue 20 measured) within 1.5x of ``--help``, in the main install (README command
1) and in an environment that also has JupyterHub (the dev install, README command 2).
``--python`` measures another environment's interpreter (e.g. ``.venv/bin/python`` of each
install); the run says which it was. The
processes run ``python -m gridcloud`` in this checkout, so they time this checkout's code
with that environment's packages. Each row gives the wall time and the CPU time (user +
system), each also as a multiple of ``--help``'s; on a loaded machine the CPU figures are the
steadier; ``--instructions`` adds each command's instruction count (valgrind), which the
load does not move at all. The figures measured so far are in benchmarks/README.md.

The commands run as a user runs them a second time: gridcloud keeps in its cache
(``$GRIDCLOUD_CACHE_DIR``) the digest of Helm values that passed their chart's schema, the
charts' parsed YAML, and the validated profile and the catalog's parsed files
(gridcloud/memo.py), so the first ``plan`` of a changed profile also pays parsing and
validating it; ``--cold`` measures that with an empty cache each run.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
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
    "gridcloud cost estimate --json": ["cost", "estimate", "--json"],
}


def measure(
    python: str, args: list[str], runs: int, cache: str | None
) -> tuple[list[float], list[float], int]:
    """Wall and CPU (user + system) seconds of each run, and the peak RSS in KiB."""
    times, cpu = [], []
    peak_kib = 0
    for _ in range(runs):
        env = dict(os.environ)
        # as a user's Python does: compiled modules are kept (a development shell that sets
        # PYTHONDONTWRITEBYTECODE would otherwise compile every module of an editable
        # install on every run, and time the compiler)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with tempfile.TemporaryDirectory(prefix="gridcloud-bench-") as empty:
            env["GRIDCLOUD_CACHE_DIR"] = cache or empty
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        peak_kib = max(peak_kib, after.ru_maxrss)
    return times, cpu, peak_kib


def describe(python: str) -> str:
    probe = (
        "import importlib.util as u; print(', '.join(n for n in ('jupyterhub', "
        "'rfc3987_syntax', 'helm_python') if u.find_spec(n)) or 'none of them')"
    )
    found = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{python} (jupyterhub, rfc3987_syntax, helm_python installed: {found})"


def instructions(python: str, args: list[str], cache: str) -> int:
    """Instructions one run executes, counted by valgrind (a figure the machine's load does
    not move; ~30 times slower than a run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(GRIDCLOUD_CACHE_DIR=cache, PYTHONHASHSEED="0")
    counter = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run(
        [*counter, python, "-m", "gridcloud", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
        env=env,
    )
    line = next(x for x in done.stderr.splitlines() if "I refs:" in x or "I   refs:" in x)
    return int(line.rsplit(":", 1)[1].replace(",", "").strip())


def load() -> str:
    """The machine's load: other processes on shared cores slow every figure (the CPU
    column, user + system time of the process, is the steadier under load)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--cold", action="store_true", help="an empty cache for every run")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions once under valgrind (needs valgrind)",
    )
    options = parser.parse_args()
    runs, python = options.runs, options.python
    print(describe(python))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {load()}")
    with tempfile.TemporaryDirectory(prefix="gridcloud-bench-cache-") as warm:
        cache = None if options.cold else warm
        measure(python, ["plan", "--json"], 1, cache)  # warm files, bytecode and cache
        print(
            f"{'command':<32}{'median':>8}{'min':>8}{'max':>8}{'x --help':>9}"
            f"{'cpu':>8}{'x --help':>9}   ({runs} runs)"
        )
        base = cpu_base = 0.0
        peak = 0
        for name, args in COMMANDS.items():
            times, cpu, peak_kib = measure(python, args, runs, cache)
            peak = max(peak, peak_kib)
            median, cpu_median = statistics.median(times), statistics.median(cpu)
            base, cpu_base = base or median, cpu_base or cpu_median
            print(
                f"{name:<32}{median * 1000:>6.0f}ms{min(times) * 1000:>6.0f}ms"
                f"{max(times) * 1000:>6.0f}ms{median / base:>8.2f}x"
                f"{cpu_median * 1000:>6.0f}ms{cpu_median / cpu_base:>8.2f}x"
            )
        if options.instructions and not options.cold:
            if shutil.which("valgrind") is None:
                print("instructions: valgrind is not installed")
            else:
                counts = {name: instructions(python, args, warm) for name, args in COMMANDS.items()}
                first = counts["gridcloud --help"]
                print(f"{'command':<32}{'instructions':>14}{'x --help':>9}   (valgrind, 1 run)")
                for name, count in counts.items():
                    print(f"{name:<32}{count / 1e6:>13.0f}M{count / first:>8.2f}x")
    print(f"after the runs: {load()}")
    print(f"peak RSS of any run: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
