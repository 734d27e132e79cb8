"""Start-up and planning speed: median wall time of real ``gridcloud`` processes.

    python benchmarks/startup.py [--runs N]

Prints figures; asserts nothing (shared machines are noisy). The target: ``--help`` and
``plan --json`` on the default profile far under half a second.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "gridcloud --help": ["--help"],
    "gridcloud plan --json": ["plan", "--json"],
    "gridcloud plan (tables)": ["plan"],
}


def measure(args: list[str], runs: int) -> tuple[list[float], int]:
    times = []
    peak_kib = 0
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gridcloud", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        times.append(time.perf_counter() - start)
        peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return times, peak_kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    measure(["--version"], 1)  # warm the file cache and the bytecode
    print(f"{'command':<28}{'median':>10}{'min':>10}{'max':>10}   ({runs} runs)")
    for name, args in COMMANDS.items():
        times, peak = measure(args, runs)
        print(
            f"{name:<28}{statistics.median(times) * 1000:>8.0f}ms{min(times) * 1000:>8.0f}ms"
            f"{max(times) * 1000:>8.0f}ms"
        )
    print(f"peak RSS of any run: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
