"""Seeded generator of realistic quarterly records for programs/renewal_quality/renewal_quality.ipl.

Plain Python standard library only. The same arguments always give the same
bytes (tests/test_program_folders.py checks it), so records.csv can be
regenerated and diffed:

    python programs/renewal_quality/generate.py               # 250 partners x 4 quarters, seed 7002
    python programs/renewal_quality/generate.py --count 5000 --quarters 8 --seed 1 --out /tmp/big.csv

One row per partner and quarter (the key is (partner_id, quarter)), ordered by
quarter, then partner. The columns are the policy's inputs in declaration
order. What the numbers look like, and why:

- partner_size: 45 % small, 35 % midsize, 20 % large;
- joint_revenue: log-normal per partner by size (medians 20,000 / 150,000 /
  600,000 USD a quarter) moving a few percent a quarter, so many small
  partners earn less than the 2,000 USD safety net in some quarters;
- revenue_year_ago: joint revenue divided by (1 + growth), growth around
  +8 % (sd 15 points, a per-partner trend plus noise); 0 for about 6 % of
  partners (new with us this year);
- renewals_due: around 4 / 15 / 40 by size, 0 for about 5 % of rows;
  renewals_won is a binomial draw with a per-partner win rate around 86 %;
- churned_revenue: 0 for about 55 % of rows, else 0.5 % to 10 % of joint
  revenue, which claws back part of earlier renewal bonuses;
- deployment_score: integers, a per-partner quality level around 78 (sd 10)
  plus quarterly noise (sd 5), so some partners stay above 85 several
  quarters in a row and a handful of rows fall below the 50 audit minimum;
- deployments_completed: Poisson around 1 / 3 / 6 by size;
- csat: one decimal around 4.2 (sd about 0.35);
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

DEFAULT_COUNT = 250
DEFAULT_QUARTERS = 4
DEFAULT_SEED = 7002
DEFAULT_OUT = Path(__file__).resolve().parent / "records.csv"
FIRST_YEAR = 2026

COLUMNS = (
    "partner_id",
    "quarter",
    "partner_size",
    "joint_revenue",
    "revenue_year_ago",
    "renewals_due",
    "renewals_won",
    "churned_revenue",
    "deployment_score",
    "deployments_completed",
    "csat",
)

SIZES = ("small", "midsize", "large")
SIZE_WEIGHTS = (45, 35, 20)
# size -> (median quarterly joint revenue, mean renewals due, mean deployments)
PROFILE = {
    "small": (20_000, 4, 1.0),
    "midsize": (150_000, 15, 3.0),
    "large": (600_000, 40, 6.0),
}


def quarter_label(index: int) -> str:
    """0 -> "2026-Q1", 4 -> "2027-Q1"."""
    return f"{FIRST_YEAR + index // 4}-Q{index % 4 + 1}"


def _money(value: float) -> str:
    """A non-negative amount in whole cents, written with 2 decimals."""
    cents = max(0, int(value * 100))
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


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
        size = rng.choices(SIZES, weights=SIZE_WEIGHTS)[0]
        median = PROFILE[size][0]
        partners.append({
            "id": f"RQ-{i:0{width}d}",
            "size": size,
            "revenue": rng.lognormvariate(math.log(median), 0.6),
            "trend": rng.gauss(0.08, 0.10),
            "new": rng.random() < 0.06,
            "win": _clamp(rng.gauss(0.86, 0.08), 0.4, 1.0),
            "quality": rng.gauss(78, 10),
            "csat": rng.gauss(4.2, 0.3),
            "joins": rng.randrange(1, quarters) if quarters > 1 and rng.random() < 0.08 else 0,
        })
    for q in range(quarters):
        for p in partners:
            if q > 0:
                p["revenue"] *= max(0.4, 1 + rng.gauss(0.02, 0.08))
            if q < p["joins"] or (q > p["joins"] and rng.random() < 0.03):
                continue
            size = p["size"]
            _, mean_due, mean_deployments = PROFILE[size]
            revenue = p["revenue"]
            growth = max(-0.6, p["trend"] + rng.gauss(0, 0.10))
            year_ago = 0.0 if p["new"] else revenue / (1 + growth)
            due = 0 if rng.random() < 0.05 else max(0, round(rng.gauss(mean_due, mean_due * 0.3)))
            won = _binomial(rng, due, _clamp(p["win"] + rng.gauss(0, 0.04), 0.0, 1.0))
            churned = 0.0 if rng.random() < 0.55 else revenue * rng.uniform(0.005, 0.10)
            deployment = round(_clamp(p["quality"] + rng.gauss(0, 5), 0, 100))
            csat = _clamp(round((p["csat"] + rng.gauss(0, 0.2)) * 10), 10, 50)
            yield {
                "partner_id": p["id"],
                "quarter": quarter_label(q),
                "partner_size": size,
                "joint_revenue": _money(revenue),
                "revenue_year_ago": _money(year_ago),
                "renewals_due": str(due),
                "renewals_won": str(won),
                "churned_revenue": _money(churned),
                "deployment_score": str(deployment),
                "deployments_completed": str(_poisson(rng, mean_deployments)),
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
    parser = argparse.ArgumentParser(description="Generate seeded quarterly records for renewal_quality.ipl.")
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
