"""Seeded generator of realistic quarterly records for programs/recurring_mix/recurring_mix.ipl.

Plain Python standard library only. The same arguments always give the same
bytes (tests/test_program_folders.py checks it), so records.csv can be
regenerated and diffed:

    python programs/recurring_mix/generate.py                 # 240 partners x 4 quarters, seed 7000
    python programs/recurring_mix/generate.py --count 5000 --quarters 8 --seed 1 --out /tmp/big.csv

One row per partner and quarter (the key is (partner_id, quarter)), ordered by
quarter, then partner. The columns are the policy's inputs in declaration
order. What the numbers look like, and why:

- channel: 30 % enterprise partners, 70 % digital distributors;
- recurring_revenue: log-normal per partner (medians 300,000 / 40,000 USD),
  then a random walk quarter to quarter (+3 % a quarter on average, sd 12 %),
  so that most partners keep their size and some grow or shrink; about 3 %
  of digital distributors fall below their channel's minimum;
- advanced_revenue: a per-partner share of advanced plans (0 % to 70 %,
  typically 20 %) that drifts a few points a quarter, so partners move across
  the 10 / 25 / 40 % usage-share bands;
- renewals_due: around 25 (enterprise) / 60 (digital) a quarter, 0 for about
  5 % of rows; renewals_won is a binomial draw with a per-partner win rate
  around 86 % (enterprise) / 81 % (digital), so a good part of partners are
  on target several quarters in a row and some fall below the 60 % minimum;
- churned_revenue: 0 for about 55 % of rows, else 0.5 % to 12 % of the
  quarter's recurring revenue;
- gross_margin: around 34 % (sd 7 points) with a per-partner discounting
  habit, so about 6 % of rows fall below the 25 % margin floor;
- history: about 8 % of partners join in the second quarter or later, and
  about 3 % of partner-quarters are missing (a gap ends a streak).
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

DEFAULT_COUNT = 240
DEFAULT_QUARTERS = 4
DEFAULT_SEED = 7000
DEFAULT_OUT = Path(__file__).resolve().parent / "records.csv"
FIRST_YEAR = 2026

COLUMNS = (
    "partner_id",
    "quarter",
    "channel",
    "recurring_revenue",
    "advanced_revenue",
    "renewals_due",
    "renewals_won",
    "churned_revenue",
    "gross_margin",
)

# channel -> (share of partners, median quarterly recurring revenue, mean renewals due, mean win rate)
PROFILE = {
    "enterprise": (0.30, 300_000, 25, 0.86),
    "digital": (0.70, 40_000, 60, 0.81),
}


def quarter_label(index: int) -> str:
    """0 -> "2026-Q1", 4 -> "2027-Q1"."""
    return f"{FIRST_YEAR + index // 4}-Q{index % 4 + 1}"


def _money(value: float) -> str:
    """A non-negative amount in whole cents, written with 2 decimals."""
    cents = max(0, int(value * 100))
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def _percent(value: float) -> str:
    """A percent with one decimal, e.g. "34.5%"."""
    return f"{Decimal(round(value * 1000)).scaleb(-1)}%"


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def rows(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
         quarters: int = DEFAULT_QUARTERS) -> Iterator[dict[str, str]]:
    """Yield count x quarters records (fewer: late joiners, gaps), by quarter then partner."""
    rng = random.Random(seed)
    width = max(4, len(str(count)))
    partners = []
    for i in range(1, count + 1):
        channel = "enterprise" if rng.random() < PROFILE["enterprise"][0] else "digital"
        _, median, _, mean_win = PROFILE[channel]
        partners.append({
            "id": f"RM-{i:0{width}d}",
            "channel": channel,
            "revenue": rng.lognormvariate(math.log(median), 0.7),
            "mix": _clamp(rng.gauss(0.20, 0.13), 0.0, 0.70),
            "win": _clamp(rng.gauss(mean_win, 0.08), 0.35, 1.0),
            "margin": rng.gauss(0.34, 0.05),
            "joins": rng.randrange(1, quarters) if quarters > 1 and rng.random() < 0.08 else 0,
        })
    for q in range(quarters):
        for p in partners:
            # Each partner's state moves every quarter, whether it has a record or not.
            if q > 0:
                p["revenue"] *= max(0.3, 1 + rng.gauss(0.03, 0.12))
                p["mix"] = _clamp(p["mix"] + rng.gauss(0.01, 0.04), 0.0, 0.85)
            if q < p["joins"] or (q > p["joins"] and rng.random() < 0.03):
                continue
            channel = p["channel"]
            _, median, mean_due, _ = PROFILE[channel]
            revenue = p["revenue"]
            if channel == "digital" and rng.random() < 0.03:
                revenue = rng.uniform(500, 5_000)        # a quiet quarter below the minimum
            due = 0 if rng.random() < 0.05 else max(0, round(rng.gauss(mean_due, mean_due * 0.3)))
            win = _clamp(p["win"] + rng.gauss(0, 0.04), 0.0, 1.0)
            won = _binomial(rng, due, win)
            churned = 0.0 if rng.random() < 0.55 else revenue * rng.uniform(0.005, 0.12)
            margin = _clamp(p["margin"] + rng.gauss(0, 0.04), -0.2, 0.8)
            yield {
                "partner_id": p["id"],
                "quarter": quarter_label(q),
                "channel": channel,
                "recurring_revenue": _money(revenue),
                "advanced_revenue": _money(revenue * p["mix"]),
                "renewals_due": str(due),
                "renewals_won": str(won),
                "churned_revenue": _money(churned),
                "gross_margin": _percent(margin),
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
    parser = argparse.ArgumentParser(description="Generate seeded quarterly records for recurring_mix.ipl.")
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
