"""A partner's history in a multi-period run (language §15): what its earlier periods computed,
for `prior`, `trailing_*`, `streak` and `periods_active`, and its ledger.

Receives each of the partner's records' results in calendar order (`keep`); the generated
code reads it (`H`: `values`, `totals`, `streak_at`, `last`, `t`, `active`). Guarantees that
memory holds only the window history needs: the largest `k` of `prior` and `n - 1` of
`trailing_*`. Emits nothing.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.runtime import missing_period
from dsl.run import ledger as L


class History:
    """One partner's history: what its earlier periods computed, bounded by the window."""

    __slots__ = ("values", "totals", "streak_at", "last", "count", "ledger", "window")
    # the current period's index, the same for every partner: a class attribute of the run's own
    # subclass (`_run_rows`), set once per period instead of on each partner
    t = 0

    def __init__(self, window: int):
        self.values: dict[int, tuple] = {}  # period index -> stored slot values
        self.totals: dict[int, Decimal] = {}  # period index -> earned total
        self.streak_at: tuple = ()  # streak counts at `last`
        self.last: int | None = None  # index of the partner's latest evaluated period
        self.count = 0  # periods with a record before the current one
        self.ledger = L.EMPTY
        self.window = window

    # -- read by compiled code: `prior(x, k)` is `(H.values.get(H.t - k) or missing_period(k))[slot]`
    # and `streak(c)` the j-th count of `streak_at` plus 1 when c holds and `last` is the period
    # before `t` (else 1; 0 when c does not hold), both inlined (dsl/backends/python/build.py: no call per use)
    def prior_total(self, k: int):
        got = self.totals.get(self.t - k)
        if got is None:
            missing_period(k)
        return got

    def trailing(self, slot: int, n: int, how: str, current):
        values = [current]
        for i in range(1, n):
            got = self.values.get(self.t - i)
            if got is not None:
                values.append(got[slot])
        match how:
            case "sum":
                return sum(values[1:], values[0])
            case "avg":
                return sum(values[1:], values[0]) / len(values)
            case "min":
                return min(values)
            case "max":
                return max(values)
            case _:
                raise AssertionError(f"unknown trailing {how!r}")

    @property
    def active(self) -> Decimal:
        return Decimal(self.count + 1)

    def keep(self, key: int, history: tuple, earned: Decimal, info) -> None:
        """After the partner's record of period `key`: what `prior` and `trailing_*` read later
        (`values`, and `totals` for `prior(total)`), trimmed to the window; the `streak`
        counts; the partner's latest period and the number of its periods."""
        stored, conds = history
        if info.streaks:
            if conds:
                prev = self.streak_at if self.last == key - 1 else ()
                self.streak_at = tuple([p + 1 if c else 0 for p, c in zip(prev, conds)] if prev
                                       else [1 if c else 0 for c in conds])
            elif self.streak_at:
                self.streak_at = ()
        window = info.window
        if window:
            self.values[key] = stored
            if info.uses_total:
                self.totals[key] = earned
            # periods come in calendar order, so the dict's first key is the oldest: the periods
            # before key - window are never read again, and are dropped to bound the memory
            while (oldest := next(iter(self.values))) < key - window:
                del self.values[oldest]
                self.totals.pop(oldest, None)
        self.last = key
        self.count += 1
