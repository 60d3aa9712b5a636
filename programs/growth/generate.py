"""Seeded generator of realistic partner records for programs/growth/growth.ipl.

Plain Python standard library only. The same count and seed always give the
same bytes (tests/test_programs.py checks it), so records.csv can be
regenerated and diffed:

    python programs/growth/generate.py                      # 1,200 partners, seed 2026
    python programs/growth/generate.py --count 100000 --seed 7 --out /tmp/big.csv

The columns are growth.ipl's inputs, in declaration order. What the numbers
look like, and why:

- segment: digital 50 %, midmarket 35 %, enterprise 15 % (many small
  partners, few large ones);
- joint_revenue: log-normal by segment (medians 600,000 / 150,000 / 30,000
  USD), about 2 % dormant partners with 0 this period; 2 decimals;
- prior_revenue: 0 for about 8 % new partners (growth has no base), else
  joint revenue divided by (1 + growth) with growth around +8 % (sd 20 %),
  so that some partners cross the 10 % and 20 % accelerator steps and some
  shrink;
- renewals_due: around 30 / 12 / 4 by segment, 0 for about 10 % of partners
  (and more often for small ones); renewals_won <= renewals_due, a binomial
  draw with a per-partner win rate centred on 85 %;
- deployment_score: 0..100 integers around 78 (sd 12), about 7 % below the
  eligibility line of 60;
- csat: 1.0..5.0 with one decimal around 4.2 (sd 0.45), about 6 % below 3.5;
- certified: true for 80 % / 60 % / 35 % of enterprise / midmarket / digital
  partners.
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

DEFAULT_COUNT = 1_200
DEFAULT_SEED = 2026
DEFAULT_OUT = Path(__file__).resolve().parent / "records.csv"

COLUMNS = (
    "partner_id",
    "segment",
    "joint_revenue",
    "prior_revenue",
    "renewals_due",
    "renewals_won",
    "deployment_score",
    "csat",
    "certified",
)

SEGMENTS = ("enterprise", "midmarket", "digital")
SEGMENT_WEIGHTS = (15, 35, 50)
# segment -> (median joint revenue in USD, mean renewals due, share certified)
PROFILE = {
    "enterprise": (600_000, 30, 0.80),
    "midmarket": (150_000, 12, 0.60),
    "digital": (30_000, 4, 0.35),
}
REVENUE_SIGMA = 0.8
NEW_PARTNER_SHARE = 0.08
DORMANT_SHARE = 0.02
NO_RENEWALS_SHARE = 0.10


def _money(rng_value: float) -> str:
    """A non-negative amount in whole cents, written with 2 decimals."""
    cents = max(0, int(rng_value * 100))
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def rows(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[dict[str, str]]:
    """Yield `count` records as dicts of column -> text, deterministically for `seed`."""
    rng = random.Random(seed)
    width = max(5, len(str(count)))
    for i in range(1, count + 1):
        segment = rng.choices(SEGMENTS, weights=SEGMENT_WEIGHTS)[0]
        median, mean_due, certified_share = PROFILE[segment]
        joint = rng.lognormvariate(math.log(median), REVENUE_SIGMA)
        if rng.random() < DORMANT_SHARE:
            joint = 0.0
        if rng.random() < NEW_PARTNER_SHARE:
            prior = 0.0
        else:
            growth = max(-0.6, rng.gauss(0.08, 0.20))
            base = joint if joint > 0 else rng.lognormvariate(math.log(median), REVENUE_SIGMA)
            prior = base / (1 + growth)
        if rng.random() < NO_RENEWALS_SHARE * (2 if segment == "digital" else 1):
            due = 0
        else:
            due = max(0, round(rng.gauss(mean_due, mean_due * 0.4)))
        win_rate = min(1.0, max(0.0, rng.gauss(0.85, 0.10)))
        won = _binomial(rng, due, win_rate)
        deployment = min(100, max(0, round(rng.gauss(78, 12))))
        csat = min(50, max(10, round(rng.gauss(4.2, 0.45) * 10)))
        certified = rng.random() < certified_share
        yield {
            "partner_id": f"P-{i:0{width}d}",
            "segment": segment,
            "joint_revenue": _money(joint),
            "prior_revenue": _money(prior),
            "renewals_due": str(due),
            "renewals_won": str(won),
            "deployment_score": str(deployment),
            "csat": str(Decimal(csat).scaleb(-1)),
            "certified": "true" if certified else "false",
        }


def write(path: Path | str, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Path:
    """Write the records as CSV, atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows(count, seed))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate seeded partner records for growth.ipl.")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of partners (default 1200)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 2026)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="CSV file to write (default: records.csv here)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be at least 0")
    try:
        write(args.out, args.count, args.seed)
    except OSError as err:
        print(f"generate.py: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
