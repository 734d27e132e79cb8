"""Catalog load: the packaged snapshot read as ``plan`` reads it (machine types, zones, one
region's prices), and every region's prices, in process.

    python benchmarks/catalog.py [--runs N]

Prints figures; asserts nothing (shared machines are noisy). The target: no slower than
one region was before the 43 regions (price tables are read when a region is asked for).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gridcloud.catalog.model import PACKAGED_DATA, read_catalog

if TYPE_CHECKING:
    from collections.abc import Callable


def median_ms(run: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    size = sum(p.stat().st_size for p in (PACKAGED_DATA / "prices").glob("*.csv"))
    count = len(list((PACKAGED_DATA / "prices").glob("*.csv")))
    print(f"snapshot: {count} price tables, {size / 1024:.0f} KiB ({PACKAGED_DATA})")

    def one(region: str) -> Callable[[], object]:
        return lambda: read_catalog(Path(PACKAGED_DATA)).prices(region)

    def every() -> object:
        catalog = read_catalog(Path(PACKAGED_DATA))
        return [catalog.prices(r) for r in catalog.price_tables]

    print(f"{'load':<44}{'median':>10}{'min':>10}   ({runs} runs)")
    for name, run in (
        ("catalog + us-central1's prices", one("us-central1")),
        ("catalog + europe-west4's prices", one("europe-west4")),
        ("catalog + every region's prices", every),
    ):
        median, least = median_ms(run, runs)
        print(f"{name:<44}{median:>8.1f}ms{least:>8.1f}ms")


if __name__ == "__main__":
    main()
