"""`ipl diff` speed (docs/diff.md, "Cost and memory"): growth.ipl against a copy with base_rate 12 %.

Workload: programs/growth over seeded generated records (benchmarks/workload.py; 1,000
records by default, 100,000 with IPL_BENCH_FULL=1). In the same run it times two
`ipl run` batches of the same records (the fast path, untraced), and records the ratio
in `extra_info` (printed with `-s`); nothing here asserts a timing. `ipl diff` evaluates
both policies with the traced variant (the level/tier changes and the movers'
explanations come from the trace), so the expected ratio is about 2 to 4.
"""

from __future__ import annotations

import time

from dsl.tools import diff
from dsl.run.policy import compile_file
from dsl.run.runner import run

from .workload import POLICY, cached_records, full

N = 100_000 if full() else 1_000


def test_diff_growth_base_rate(benchmark, tmp_path):
    records = str(cached_records(N))
    raised = tmp_path / "growth.ipl"
    raised.write_text(POLICY.read_text(encoding="utf-8").replace(
        "param base_rate : percent = 10%", "param base_rate : percent = 12%"), encoding="utf-8")
    old, new = compile_file(str(POLICY)), compile_file(str(raised))

    start = time.perf_counter()
    totals = [run(c, records, lambda ev: None, lambda r: None).total for c in (old, new)]
    two_runs = time.perf_counter() - start

    rep = benchmark(diff.diff, old, new, records, str(POLICY), str(raised))
    assert rep.read == N and rep.delta == totals[1] - totals[0]
    stats = getattr(benchmark, "stats", None)
    if stats:
        mean = stats.stats.mean
        benchmark.extra_info.update({"records": N, "two_ipl_runs_s": round(two_runs, 3),
                                     "ratio_to_two_runs": round(mean / two_runs, 2)})
        print(f"\nipl diff of {N:,} records: {mean:.2f} s; two ipl run batches {two_runs:.2f} s; "
              f"ratio {mean / two_runs:.2f}")
