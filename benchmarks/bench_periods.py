"""Multi-period runs (spec §14, §15; issue 6): throughput and memory (docs/performance.md).

Workload: partners × 8 quarters of seeded records for `MULTI`, a policy with history
(`prior`, `streak`), a hold, a clawback, a pool and a budget. The comparison is `SINGLE`,
the same policy without those features (the same metrics and components, no period
input: every record is its own partner), run over the same records. Sizes: 200 partners
(1,600 records) by default; 20,000 partners (160,000 records) with IPL_BENCH_FULL=1, and
then the peak memory of 160,000, 640,000 (32 quarters) and 1,600,000 records.
Nothing here asserts a timing; the ratio (the fastest of ROUNDS alternated runs of each side)
is recorded in `extra_info` (printed with `-s`).
Target: multi-period throughput per record within 2x of the single-period one.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsl.run.policy import compile_file
from dsl.run.runner import run

from .workload import full

PARTNERS = 20_000 if full() else 200
ROUNDS = 5 if full() else 2
QUARTERS = [f"{y}-Q{q}" for y in (2025, 2026) for q in (1, 2, 3, 4)]

COMMON = """
input partner_id : id
input segment : enum(enterprise, midmarket, digital)
input revenue : money in 0 USD..
input churned : money in 0 USD..
input renewals_due : count
input renewals_won : count
input csat : number in 1..5

metric renewal_rate : percent = renewals_won / renewals_due otherwise 0%

tiers renewal_tier on renewal_rate {
  below 80% -> 0%
  from 80% -> 2%
  from 90% -> 4%
}

eligibility {
  require csat >= 3.5 else "CSAT must be at least 3.5"
}

component base = revenue * match segment {
  enterprise -> 8%
  midmarket -> 7%
  digital -> 5%
}
"""

MULTI = """policy "Bench multi"
  currency USD
  period quarter

input quarter : period
""" + COMMON + """
metric churn_rate : percent = churned / (prior(revenue) otherwise revenue) otherwise 0%
metric on_target : bool = renewal_rate >= 90% and churn_rate <= 5%
metric cycles : count = streak(on_target)

component renewal_bonus = revenue * renewal_tier * (if cycles >= 3 then 150% else 100%)
  hold 25% until renewal_rate >= 85% within 2 periods

clawback renewal_bonus within 2 periods
  when churned > 0 USD
  recover min(100%, churned / prior(revenue) otherwise 100%)

component mdf = pool 2_000_000 USD by revenue among eligible and on_target
  cap 5_000 USD

program {
  budget 40_000_000 USD per period
}
"""

SINGLE = """policy "Bench single"
  currency USD

input quarter : text
""" + COMMON + """
metric churn_rate : percent = churned / revenue otherwise 0%
metric on_target : bool = renewal_rate >= 90% and churn_rate <= 5%

component renewal_bonus = revenue * renewal_tier * (if on_target then 150% else 100%)

component mdf = revenue * 1%
  cap 5_000 USD
"""


def write_records(path: Path, partners: int, quarters: list[str], seed: int = 2026, unique_ids: bool = False) -> Path:
    """Seeded records, one per partner and quarter (written quarter by quarter, partners shuffled)."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("partner_id,quarter,segment,revenue,churned,renewals_due,renewals_won,csat\n")
        for q in quarters:
            for p in range(partners):
                revenue = rnd.randint(5_000, 400_000)
                churned = rnd.choice((0, 0, 0, 0, rnd.randint(100, 20_000)))
                due = rnd.randint(0, 40)
                won = rnd.randint(int(due * 0.6), due) if due else 0
                csat = rnd.choice(("3.2", "3.9", "4.2", "4.6", "4.9"))
                seg = ("enterprise", "midmarket", "digital")[p % 3]
                pid = f"P{p:06d}-{q}" if unique_ids else f"P{p:06d}"
                out.write(f"{pid},{q},{seg},{revenue},{churned},{due},{won},{csat}\n")
    return path


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench-periods")
    (folder / "multi.ipl").write_text(MULTI)
    (folder / "single.ipl").write_text(SINGLE)
    multi_records = write_records(folder / "multi.csv", PARTNERS, QUARTERS)
    single_records = write_records(folder / "single.csv", PARTNERS, QUARTERS, unique_ids=True)
    return folder, multi_records, single_records


def _multi(folder: Path, records: Path) -> int:
    compiled = compile_file(str(folder / "multi.ipl"))
    rows = []
    summary = run(compiled, str(records), rows.append, rows.append)
    assert summary.reconciled and summary.rejected == 0
    return len(rows)


def _single(folder: Path, records: Path) -> int:
    compiled = compile_file(str(folder / "single.ipl"))
    rows = []
    summary = run(compiled, str(records), rows.append, rows.append)
    assert summary.reconciled and summary.rejected == 0
    return len(rows)


def test_bench_multi_period_run(benchmark, workload):
    """The ratio: single- and multi-period runs alternated, ROUNDS each, the fastest of each
    side compared (the machine is shared: the minimum is the run least disturbed by others)."""
    folder, multi_records, single_records = workload
    n = PARTNERS * len(QUARTERS)
    singles, multis = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        assert _single(folder, single_records) == n
        singles.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert _multi(folder, multi_records) == n
        multis.append(time.perf_counter() - t0)
    benchmark(lambda: _multi(folder, multi_records))
    t_single, t_multi = min(singles), min(multis)
    benchmark.extra_info.update(records=n, single_us=1e6 * t_single / n, multi_us=1e6 * t_multi / n,
                                ratio=t_multi / t_single, singles_s=singles, multis_s=multis)
    print(f"\n{n:,} records, fastest of {ROUNDS} alternated runs: single-period {1e6 * t_single / n:.1f} us/record, "
          f"multi-period {1e6 * t_multi / n:.1f} us/record, ratio {t_multi / t_single:.2f}")


def peak_rss_mb(folder: Path, records: Path) -> float:
    """The peak RSS of `ipl run` in a child process, from its own VmHWM (the high-water mark
    of its address space). Not `ru_maxrss`: Linux keeps that across fork and exec, so a
    child's figure would include the parent's (this pytest process's) own peak."""
    code = ("import sys; from dsl.cli import main; sys.argv = ['ipl', 'run', sys.argv[1], '--records', "
            "sys.argv[2], '-o', sys.argv[3]]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))")
    done = subprocess.run([sys.executable, "-c", code, str(folder / "multi.ipl"), str(records),
                           str(folder / "out.csv")], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


@pytest.mark.parametrize(("partners", "years"), [(20_000, 2), (20_000, 8), (200_000, 2)])
def test_memory_of_multi_period_runs(workload, tmp_path, partners, years):
    """Peak RSS of `ipl run`: 160,000 records (20,000 partners x 8 quarters), 640,000 (the same
    partners over 32 quarters: the peak must not grow with the number of periods) and
    1,600,000 (200,000 partners x 8 quarters: ten times the records of a period)."""
    if not full():
        pytest.skip("set IPL_BENCH_FULL=1 for the memory figures")
    folder = workload[0]
    quarters = [f"{y}-Q{q}" for y in range(2027 - years, 2027) for q in (1, 2, 3, 4)]
    records = write_records(tmp_path / "m.csv", partners, quarters)
    peak = peak_rss_mb(folder, records)
    print(f"\n{partners * len(quarters):,} records ({partners:,} partners x {len(quarters)} quarters): "
          f"peak RSS {peak:.0f} MB")
