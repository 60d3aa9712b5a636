"""Whole `ipl run` commands of two builds, side by side: the speed of a change measured as users
see it (reading, validating, evaluating, settling and writing the outputs), not only the loop.

    python benchmarks/compare_commands.py OLD_IPL NEW_IPL [--rounds 5] [--growth 1000000]
        [--periods 20000]

Workloads (made once, in IPL_BENCH_CACHE or the temporary folder): `--growth` records of
programs/growth (single-period) and `--periods` partners x 8 quarters of the multi-period
benchmark policy of benchmarks/bench_periods.py (history, a hold, a clawback, a pool, a
budget). The two builds are alternated, OLD then NEW, `--rounds` times; the medians of the
wall times and their ratio are printed. Nothing is asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_periods import MULTI, QUARTERS, write_records  # noqa: E402
from benchmarks.workload import POLICY, cached_records  # noqa: E402


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def compare(old: str, new: str, args: list[str], rounds: int) -> tuple[float, float]:
    times: dict[str, list[float]] = {old: [], new: []}
    for _ in range(rounds):
        for ipl in (old, new):
            times[ipl].append(timed([ipl, *args]))
    return statistics.median(times[old]), statistics.median(times[new])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--growth", type=int, default=1_000_000)
    parser.add_argument("--periods", type=int, default=20_000)
    a = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "ipl-compare"
    work.mkdir(exist_ok=True)
    growth = cached_records(a.growth)
    multi_policy = work / "multi.ipl"
    multi_policy.write_text(MULTI)
    multi_records = work / f"multi-{a.periods}.csv"
    if not multi_records.exists():
        write_records(multi_records, a.periods, QUARTERS)
    for name, policy, records, n in (("growth (single-period)", POLICY, growth, a.growth),
                                     ("multi-period benchmark", multi_policy, multi_records, a.periods * len(QUARTERS))):
        t_old, t_new = compare(a.old, a.new, ["run", str(policy), "--records", str(records),
                                              "-o", str(work / "out.csv")], a.rounds)
        print(f"{name}, {n:,} records, median of {a.rounds}: old {t_old:.2f} s, new {t_new:.2f} s, "
              f"new/old {t_new / t_old:.3f}")


if __name__ == "__main__":
    main()
