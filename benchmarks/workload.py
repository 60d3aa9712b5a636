"""Seeded record workloads for benchmarks, from programs/growth/generate.py.

`make_records(n, path)` writes `n` growth.ipl records as CSV (the same
generator and seed as the checked-in programs/growth/records.csv, so the
distributions match) and returns the path. Big workloads (100,000 or
1,000,000 records) are never checked in: benchmarks write them to a
temporary folder, or to `cached_records(n)`'s cache folder so that repeated
runs reuse them. Memory stays flat: the generator streams rows to the file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
GROWTH = ROOT / "programs" / "growth"
POLICY = GROWTH / "growth.ipl"
RECORDS = GROWTH / "records.csv"
SEED = 2026
# Sizes the benchmarks use: small by default (pytest runs benchmarks with
# --benchmark-disable), the targets of docs/performance.md with IPL_BENCH_FULL=1.
SMALL = 1_000
FULL_SIZES = (100_000, 1_000_000)


@cache
def generator() -> ModuleType:
    """programs/growth/generate.py, imported by path (programs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("ipl_growth_generate", GROWTH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_records(n: int, path: Path | str, seed: int = SEED) -> Path:
    """Write `n` seeded records to `path` (CSV) and return it."""
    return generator().write(path, n, seed)


def full() -> bool:
    """Whether the big workloads were asked for (IPL_BENCH_FULL=1)."""
    return os.environ.get("IPL_BENCH_FULL", "") not in ("", "0")


def sizes() -> tuple[int, ...]:
    """The record counts to benchmark: (SMALL,) by default, FULL_SIZES with IPL_BENCH_FULL=1."""
    return FULL_SIZES if full() else (SMALL,)


def cached_records(n: int, seed: int = SEED) -> Path:
    """`n` records in a cache folder (IPL_BENCH_CACHE, default the system temp dir), made once."""
    folder = Path(os.environ.get("IPL_BENCH_CACHE") or Path(tempfile.gettempdir()) / "ipl-bench")
    path = folder / f"growth-{n}-{seed}.csv"
    if not path.exists():
        make_records(n, path, seed)
    return path
