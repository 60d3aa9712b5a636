"""Evaluation speed of compiled policies against hand-written Decimal code (docs/performance.md).

Workload: programs/growth over seeded generated records (benchmarks/workload.py;
1,000 records by default, 100,000 — and 1,000,000 for memory — with IPL_BENCH_FULL=1).
Each benchmark measures the IPL path with pytest-benchmark and, in the same run,
the hand-written baseline, and records the ratio in `extra_info` (printed with
`-s`); nothing here asserts a timing. Targets:

- evaluation (records already validated): compiled ≤ 1.25 × `hand_growth`;
- end to end CSV → CSV: `ipl run` ≤ 1.5 × `hand_script`;
- tracing on ≤ 10 × off; `ipl explain` of one record in a 100,000-record file < 2 s;
- 1,000,000 records streamed CSV → CSV with peak RSS under 200 MB.
"""

from __future__ import annotations

import csv
import decimal
import subprocess
import sys
import time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import pytest

from dsl.backends.python import runtime
from dsl.run.lookup import find_record
from dsl.run.policy import compile_file
from dsl.run.records import Validator, fields_of, raw_records

from .workload import POLICY, cached_records, full

N = 100_000 if full() else 1_000

# ------------------------------------------------------------------ the hand-written baseline

Q = Decimal("0.01")
RATE, D35, D60, P80, P90 = Decimal("0.10"), Decimal("3.5"), Decimal(60), Decimal("0.80"), Decimal("0.90")
T2, T4, P20, P10, P50, P25 = Decimal("0.02"), Decimal("0.04"), Decimal("0.20"), Decimal("0.10"), Decimal("0.50"), \
    Decimal("0.25")
SEGMENT = {"enterprise": Decimal("1.2"), "midmarket": Decimal("1.0"), "digital": Decimal("0.8")}
ZERO, D80, D100, D250 = Decimal(0), Decimal(80), Decimal(100), Decimal(250)
CAP_ACC, CAP_FUND, FLOOR, CAP = Decimal("50000.00"), Decimal("25000.00"), Decimal("500.00"), Decimal("250000.00")
REASON_CSAT, REASON_DEPLOY = "CSAT must be at least 3.5", "Deployment score must be at least 60"


def hand_growth(r: dict) -> tuple:
    """growth.ipl written by hand with Decimal: the same result tuple as the compiled policy."""
    reasons = []
    if not r["csat"] >= D35:
        reasons.append(REASON_CSAT)
    ds = r["deployment_score"]
    if not ds >= D60:
        reasons.append(REASON_DEPLOY)
    if reasons:
        z = ZERO.quantize(Q)
        return (False, tuple(reasons), (z, z, z, z), (z,), z, z, z, z, ())
    jr = r["joint_revenue"]
    base = (jr * RATE).quantize(Q, rounding=ROUND_HALF_EVEN)
    try:
        rate = r["renewals_won"] / r["renewals_due"]
    except (ZeroDivisionError, InvalidOperation):
        rate = ZERO
    tier = T4 if rate >= P90 else (T2 if rate >= P80 else ZERO)
    renewal = (jr * tier * SEGMENT[r["segment"]]).quantize(Q, rounding=ROUND_HALF_EVEN)
    prior = r["prior_revenue"]
    try:
        growth = (jr - prior) / prior
    except (ZeroDivisionError, InvalidOperation):
        growth = ZERO
    acc = base * (P50 if growth >= P20 else (P25 if growth >= P10 else ZERO))
    half = (base * P50).quantize(Q, rounding=ROUND_HALF_EVEN)
    acc = min(acc, CAP_ACC, half).quantize(Q, rounding=ROUND_HALF_EVEN)
    if r["certified"]:
        points = (min(ds, D80) - D60) * D100 if ds > D60 else ZERO
        if ds > D80:
            points += (ds - D80) * D250
        quality, lr = points.quantize(Q, rounding=ROUND_HALF_EVEN), ()
    else:
        quality, lr = ZERO.quantize(Q), (("quality_bonus", ("Quality bonus requires certification",)),)
    fund = min(jr * T2, CAP_FUND).quantize(Q, rounding=ROUND_HALF_EVEN)
    s = base + renewal + acc + quality
    t = FLOOR if s < FLOOR else s
    fa = t - s
    if t > CAP:
        t = CAP
    return (True, (), (base, renewal, acc, quality), (fund,), t, s, fa, t - s - fa, lr)


def hand_script(src: str, dst: str) -> None:
    """The end-to-end baseline: csv module, Decimal, the same computation, csv writer."""
    with open(src, newline="", encoding="utf-8") as fin, open(dst, "w", newline="", encoding="utf-8") as fout:
        reader = csv.DictReader(fin)
        writer = csv.writer(fout, lineterminator="\n")
        writer.writerow(["partner_id", "base", "renewal_bonus", "accelerator", "quality_bonus", "co_marketing_fund",
                         "total", "eligible", "reasons"])
        with decimal.localcontext(runtime.CONTEXT):
            for row in reader:
                r = {"segment": row["segment"], "certified": row["certified"] == "true"}
                for k in ("joint_revenue", "prior_revenue", "renewals_due", "renewals_won", "deployment_score",
                          "csat"):
                    r[k] = Decimal(row[k])
                res = hand_growth(r)
                reasons = list(res[1]) + [f"{n}: {x}" for n, rs in res[8] for x in rs]
                writer.writerow([row["partner_id"], *(format(v, "f") for v in res[2]), format(res[3][0], "f"),
                                 format(res[4], "f"), "true" if res[0] else "false", "; ".join(reasons)])


# ------------------------------------------------------------------ helpers


def validated(path: Path, compiled) -> list[dict]:
    v = Validator(fields_of(compiled.program), compiled.id_field)
    return [v.validate(row, raw, p) for row, raw, p in raw_records(str(path))]


def compare(a, b, repeat: int = 5) -> tuple[float, float]:
    """Best times of `a` and `b`, run alternately (the machine's load changes both alike)."""
    ta, tb = [], []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(ta), min(tb)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.fixture(scope="module")
def compiled():
    return compile_file(str(POLICY))


@pytest.fixture(scope="module")
def records_path():
    return cached_records(N)


@pytest.fixture(scope="module")
def records(records_path, compiled):
    return validated(records_path, compiled)


# ------------------------------------------------------------------ benchmarks


def test_hand_written_baseline_agrees(records, compiled):
    """The baseline computes what the policy computes (otherwise the ratio means nothing)."""
    runtime.activate()
    for r in records:
        assert hand_growth(r) == compiled.evaluate(r)[:9], r["partner_id"]  # the fields of every policy


def test_bench_evaluate(benchmark, records, compiled):
    runtime.activate()
    evaluate = compiled.evaluate

    def ipl():
        for r in records:
            evaluate(r)

    def hand():
        for r in records:
            hand_growth(r)

    benchmark(ipl)
    t_ipl, t_hand = compare(ipl, hand)
    benchmark.extra_info.update(records=len(records), ipl_us=1e6 * t_ipl / len(records),
                                hand_us=1e6 * t_hand / len(records), ratio=t_ipl / t_hand)
    print(f"\nevaluate: ipl {1e6 * t_ipl / len(records):.2f} µs/record, hand {1e6 * t_hand / len(records):.2f}"
          f" µs/record, ratio {t_ipl / t_hand:.2f}")


def test_bench_evaluate_traced(benchmark, records, compiled):
    runtime.activate()
    traced, evaluate = compiled.traced(), compiled.evaluate

    def on():
        for r in records:
            traced(r)

    def off():
        for r in records:
            evaluate(r)

    benchmark(on)
    t_on, t_off = compare(on, off, 3)
    benchmark.extra_info.update(ratio=t_on / t_off)
    print(f"\ntracing: on {1e6 * t_on / len(records):.2f} µs/record, off {1e6 * t_off / len(records):.2f}"
          f" µs/record, ratio {t_on / t_off:.2f}")


def test_bench_end_to_end(benchmark, records_path, tmp_path):
    """`ipl run POLICY --records CSV -o CSV` in process (compile, read, validate, evaluate, write)."""
    import contextlib

    from dsl.run.command import Outputs, run_command

    out = tmp_path / "o.csv"

    def ipl():
        code = run_command(str(POLICY), str(records_path), Outputs(payouts=str(out)), [], lambda m: None,
                           lambda m: None, lambda size: contextlib.nullcontext())
        assert code == 0

    def hand():
        hand_script(str(records_path), str(tmp_path / "h.csv"))

    benchmark(ipl)
    t_ipl, t_hand = compare(ipl, hand, 3)
    assert out.read_bytes() == (tmp_path / "h.csv").read_bytes()  # the same payouts, byte for byte
    benchmark.extra_info.update(ratio=t_ipl / t_hand)
    print(f"\nend to end: ipl run {t_ipl:.3f} s, hand script {t_hand:.3f} s, ratio {t_ipl / t_hand:.2f}")


def test_bench_explain_one_record(benchmark, records_path, compiled):
    wanted = f"P-{N // 2:0{max(5, len(str(N)))}d}"
    found = benchmark(lambda: find_record(compiled, str(records_path), wanted))
    assert found.id == wanted
    t = best_of(lambda: find_record(compiled, str(records_path), wanted), repeat=1)
    print(f"\nexplain one record of {N:,}: {t:.3f} s")


@pytest.mark.skipif(not full(), reason="1,000,000 records: set IPL_BENCH_FULL=1")
def test_memory_of_a_million_records(tmp_path):
    src = cached_records(1_000_000)
    code = ("import resource, sys; from dsl.cli import main; sys.argv = ['ipl', 'run', sys.argv[1], '--records', "
            "sys.argv[2], '-o', sys.argv[3]]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, str(POLICY), str(src), str(tmp_path / "o.csv")],
                          capture_output=True, text=True, check=True)
    peak_mb = int(done.stdout.strip().splitlines()[-1]) / 1024
    print(f"\n1,000,000 records CSV -> CSV: peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 200  # a memory bound, not a timing
