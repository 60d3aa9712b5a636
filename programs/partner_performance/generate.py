"""Seeded generator of realistic quarterly records for programs/partner_performance/partner_performance.ipl.

Plain Python standard library only. The same arguments always give the same
bytes (tests/test_program_folders.py checks it), so records.csv can be
regenerated and diffed:

    python programs/partner_performance/generate.py           # 260 partners x 4 quarters, seed 7001
    python programs/partner_performance/generate.py --count 5000 --quarters 8 --seed 1 --out /tmp/big.csv

One row per partner and quarter (the key is (partner_id, quarter)), ordered by
quarter, then partner. The fiscal year is the calendar year, so
`fiscal_quarter` is q1..q4 of `quarter`. The columns are the policy's inputs in
declaration order. What the numbers look like, and why:

- partner_type: 50 % resellers, 30 % system integrators, 20 % technology
  partners; partner_size: small for 65 % of resellers, 55 % of integrators,
  45 % of technology partners;
- quota: log-normal per partner by type and size (large resellers around
  400,000 USD a quarter, small technology partners around 30,000), 0 in the
  first quarter of about 40 % of late joiners (ramping, no quota yet);
- bookings: quota times an attainment that has a per-partner level (around
  95 %, sd 20 points) and quarterly noise (sd 15 points), so every
  accelerator step and the 50 % minimum are reached by some partners, and
  the annual true-up has lumpy years to settle;
- new_logo_bookings: 5 % to 60 % of bookings, typically 25 %;
- co_delivered_projects: integrators around 2.5 a quarter (Poisson), others
  rarely 1; integrations_live: technology partners 0 to 6, growing over the
  year, others 0;
- campaigns_run: Poisson around 1.2 (about 30 % with none); sourced_pipeline:
  about 60,000 USD per campaign, log-normal;
- csat: one decimal, around 4.2 (sd about 0.35, a per-partner level plus
  quarterly noise), clamped to 1.0..5.0, so about 2 % of rows fall below the
  3.5 eligibility line and about a quarter below the 4.0 accelerator
  guardrail;
- history: about 8 % of partners join in the second quarter or later, and
  about 3 % of partner-quarters are missing.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

DEFAULT_COUNT = 260
DEFAULT_QUARTERS = 4
DEFAULT_SEED = 7001
DEFAULT_OUT = Path(__file__).resolve().parent / "records.csv"
FIRST_YEAR = 2026

COLUMNS = (
    "partner_id",
    "quarter",
    "fiscal_quarter",
    "partner_type",
    "partner_size",
    "bookings",
    "new_logo_bookings",
    "quota",
    "co_delivered_projects",
    "integrations_live",
    "campaigns_run",
    "sourced_pipeline",
    "csat",
)

TYPES = ("reseller", "integrator", "technology")
TYPE_WEIGHTS = (50, 30, 20)
# type -> (share small, median quarterly quota of a large partner)
PROFILE = {
    "reseller": (0.65, 400_000),
    "integrator": (0.55, 250_000),
    "technology": (0.45, 150_000),
}
SMALL_FACTOR = 0.2      # a small partner's quota, relative to a large one's


def quarter_label(index: int) -> str:
    """0 -> "2026-Q1", 4 -> "2027-Q1"."""
    return f"{FIRST_YEAR + index // 4}-Q{index % 4 + 1}"


def _money(value: float) -> str:
    """A non-negative amount in whole cents, written with 2 decimals."""
    cents = max(0, int(value * 100))
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def rows(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
         quarters: int = DEFAULT_QUARTERS) -> Iterator[dict[str, str]]:
    """Yield count x quarters records (fewer: late joiners, gaps), by quarter then partner."""
    rng = random.Random(seed)
    width = max(4, len(str(count)))
    partners = []
    for i in range(1, count + 1):
        kind = rng.choices(TYPES, weights=TYPE_WEIGHTS)[0]
        small_share, median = PROFILE[kind]
        size = "small" if rng.random() < small_share else "large"
        if size == "small":
            median *= SMALL_FACTOR
        joins = rng.randrange(1, quarters) if quarters > 1 and rng.random() < 0.08 else 0
        partners.append({
            "id": f"PP-{i:0{width}d}",
            "type": kind,
            "size": size,
            "quota": rng.lognormvariate(math.log(median), 0.5),
            "level": _clamp(rng.gauss(0.95, 0.20), 0.3, 1.8),
            "logo": _clamp(rng.gauss(0.25, 0.10), 0.05, 0.60),
            "integrations": rng.randrange(0, 4) if kind == "technology" else 0,
            "csat": rng.gauss(4.2, 0.3),
            "joins": joins,
            "ramping": joins > 0 and rng.random() < 0.4,
        })
    for q in range(quarters):
        for p in partners:
            if q < p["joins"] or (q > p["joins"] and rng.random() < 0.03):
                continue
            kind = p["type"]
            if kind == "technology" and q > 0 and rng.random() < 0.3:
                p["integrations"] = min(6, p["integrations"] + 1)
            quota = 0.0 if (p["ramping"] and q == p["joins"]) else p["quota"]
            attainment = max(0.0, p["level"] + rng.gauss(0, 0.15))
            bookings = (quota if quota else p["quota"] * 0.5) * attainment
            logo = _clamp(p["logo"] + rng.gauss(0, 0.05), 0.0, 1.0)
            if kind == "integrator":
                co_delivered = _poisson(rng, 2.5)
            else:
                co_delivered = 1 if rng.random() < 0.1 else 0
            campaigns = _poisson(rng, 1.2)
            pipeline = sum(rng.lognormvariate(math.log(60_000), 0.6) for _ in range(campaigns))
            csat = _clamp(round((p["csat"] + rng.gauss(0, 0.2)) * 10), 10, 50)
            yield {
                "partner_id": p["id"],
                "quarter": quarter_label(q),
                "fiscal_quarter": f"q{q % 4 + 1}",
                "partner_type": kind,
                "partner_size": p["size"],
                "bookings": _money(bookings),
                "new_logo_bookings": _money(bookings * logo),
                "quota": _money(quota),
                "co_delivered_projects": str(co_delivered),
                "integrations_live": str(p["integrations"]),
                "campaigns_run": str(campaigns),
                "sourced_pipeline": _money(pipeline),
                "csat": str(Decimal(csat).scaleb(-1)),
            }


def write(path: Path | str, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
          quarters: int = DEFAULT_QUARTERS) -> Path:
    """Write the records as CSV, atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows(count, seed, quarters))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate seeded quarterly records for partner_performance.ipl.")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"number of partners (default {DEFAULT_COUNT})")
    parser.add_argument("--quarters", type=int, default=DEFAULT_QUARTERS,
                        help=f"number of quarters from {FIRST_YEAR}-Q1 (default {DEFAULT_QUARTERS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="CSV file to write (default: records.csv here)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be at least 0")
    if args.quarters < 1:
        parser.error("--quarters must be at least 1")
    try:
        write(args.out, args.count, args.seed, args.quarters)
    except OSError as err:
        print(f"generate.py: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
