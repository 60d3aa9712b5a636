"""The CI guards of `ipl diff`: `--fail-if-cost-up PCT` and `--fail-if-any-decrease`.

Receives a finished `Report` and the options. Guarantees one `Guard` per option given, in that
order, each with a message naming the figures it judged (the cost change and its percent; the
number of records that went down and the largest decrease); a tripped guard makes `ipl diff`
exit 1. `parse_percent` raises ValueError, with the fix, for a percentage it cannot read.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from dsl.backends.python.runtime import fmt_decimal
from dsl.tools.diff.report import Report
from dsl.tools.diff.show import _money, _sign, _signed, _who


@dataclass(frozen=True, slots=True)
class Guard:
    name: str  # the option: "fail-if-cost-up" | "fail-if-any-decrease"
    threshold: Decimal | None
    tripped: bool
    message: str


def parse_percent(text: str) -> Decimal:
    """`--fail-if-cost-up PCT`: `5`, `5%` or `2.5` (percent points), finite and not negative."""
    raw = text.strip().removesuffix("%").strip().replace("_", "")
    try:
        value = Decimal(raw)
    except decimal.InvalidOperation:
        raise ValueError(f"--fail-if-cost-up {text}: write a percentage such as 5 or 2.5%") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"--fail-if-cost-up {text}: write a percentage of 0 or more, such as 5 or 2.5%")
    return value


def guards(rep: Report, cost_up: Decimal | None, any_decrease: bool) -> list[Guard]:
    """The CI guards asked for; a tripped one makes `ipl diff` exit 1."""
    out: list[Guard] = []
    money = _money(rep)
    if cost_up is not None:
        d = rep.delta
        if rep.total_old == 0:
            tripped = d > 0  # any increase on a zero base is above every percentage
        else:
            tripped = d * 100 > cost_up * abs(rep.total_old)
        pct = rep.percent
        pct_text = "n/a" if pct is None else f"{_sign(pct)}{pct}%"
        message = (f"cost change {_signed(money, d)} ({pct_text}), "
                   f"{'above' if tripped else 'within'} the limit of +{fmt_decimal(cost_up)}%")
        out.append(Guard("fail-if-cost-up", cost_up, tripped, message))
    if any_decrease:
        if rep.down:
            worst = rep.largest_decrease
            who = _who(worst.id, worst.period, worst.row) if worst else ""
            message = (f"{rep.down:,} record{'s' if rep.down != 1 else ''} went down"
                       + (f" (largest: {who} {_signed(money, worst.delta)})" if worst else ""))
        else:
            message = "no record went down"
        out.append(Guard("fail-if-any-decrease", None, rep.down > 0, message))
    return out
