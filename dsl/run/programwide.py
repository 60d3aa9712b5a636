"""The figures of spec §15 — pools, ranks, percentiles and the period budget — as pure,
exact functions over one period's records.

Receives, from the multi-period runner (dsl/run/runner.py), the period's figures already
evaluated per record (pass 1 of §14.4 step 2, or the earned totals of step 3): lists of
`(id, value)` pairs holding only the records that the `among` condition keeps, each id once.
It does not evaluate policies and imports nothing from the rest of the package.

Guarantees:

- exact: every cent is computed with integer arithmetic on the values' exact fractions, so
  no Decimal context (precision, rounding, traps) can change a result; the only values that
  go through a context are the ones shown in a trace (`PoolResult.exact`, `BudgetResult.factor`)
  and the percentile, a quotient `smaller / count` given with §9's 34 significant digits;
- `allocate_pool` (§15 `pool AMOUNT by SHARE`): the shares add up exactly to the amount, less
  what the caps cut; shares + unallocated == amount, to the last digit;
- `rank` / `percentile` (§15): standard competition ranking (1, 2, 2, 4), the share of the
  records with a smaller value;
- `scale_to_budget` (§15 `program { budget B per period }`): when it binds, the scaled totals
  add up exactly to B and every `budget scaling` line is ≤ 0; otherwise every line is 0;
- every result is independent of the order of its input (ties are settled by id, ascending,
  comparing the ids as Python strings, i.e. by code point).

A user's mistake that the caller must turn into a reject — a negative pool share, a negative
pool amount or budget, a negative cap — comes back as a `ProgramWideError` value, never as an
exception. A caller's bug (an id given twice, a non-finite value, an earned total that is not a
whole number of minor units) raises `AssertionError`. Emits no diagnostics.
"""

from __future__ import annotations

import decimal
import functools
import heapq
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

# §9: the context of every shown intermediate value (34 significant digits, half even).
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)

ZERO = Decimal(0)


# ------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class ProgramWideError:
    """A figure that cannot be computed because of the policy or the records (the caller
    rejects `ids`, or, with no ids, reports the definition itself).

    `kind` is one of `negative_share`, `negative_amount`, `negative_cap`, `negative_budget`."""

    kind: str
    message: str
    ids: tuple[str, ...] = ()


# Per-record figures are named tuples (immutable, and several times cheaper to make than
# frozen dataclasses: a pool or a rank makes one per record of the period).


class PoolShare(NamedTuple):
    """One member's part of a pool: before and after its caps."""

    id: str
    share: Decimal  # the SHARE value it was given
    before_cap: Decimal  # rounded down, plus the settled cent if it got one
    after_cap: Decimal  # min(before_cap, caps...)
    cap: Decimal | None  # the cap that bound (the smallest one below before_cap), or None
    extra_cent: bool  # got one of the remaining minor units


@dataclass(frozen=True, slots=True)
class PoolResult:
    """A pool over one period: per member its share, and the figures of the whole period
    that a trace shows (§15: the sum of the shares, the count)."""

    amount: Decimal
    minor_units: int
    shares: Mapping[str, PoolShare]
    sum_of_shares: Decimal  # the sum of the SHARE values
    count: int  # members (records where `among` held)
    allocated: Decimal  # the sum of the shares after caps
    cut_by_caps: Decimal  # the sum of before_cap - after_cap
    unallocated: Decimal  # amount - allocated (caps, a zero sum, digits below the minor unit)
    # per member, in the order given: its share after caps (the runner's view; equal results
    # need not list their members in the same order)
    after_caps: Sequence[Decimal] = field(default=(), compare=False, repr=False)

    def get(self, rid: str) -> Decimal:
        """The share of `rid` after caps; 0 (in the minor unit) for a non-member."""
        s = self.shares.get(rid)
        return s.after_cap if s is not None else self.nothing

    @property
    def nothing(self) -> Decimal:
        """The share of a non-member: 0 in the minor unit."""
        return _units_to_decimal(0, self.minor_units)

    def exact(self, rid: str) -> Decimal:
        """`AMOUNT * share / sum` of a member before rounding, in the §9 context (for the
        trace; AMOUNT without its digits below the minor unit); 0 when the sum is 0."""
        if self.sum_of_shares == 0:
            return _units_to_decimal(0, self.minor_units)
        distributed = _units_to_decimal(_floor_units(self.amount, self.minor_units), self.minor_units)
        return CONTEXT.divide(CONTEXT.multiply(distributed, self.shares[rid].share), self.sum_of_shares)


class Ranked(NamedTuple):
    """`rank(x)` of one record, with the figures of the period a trace shows."""

    rank: Decimal  # 1 for the largest value
    value: Decimal
    count: int  # records ranked (where `among` held)
    above: Decimal | None  # the value ranked just above (the next larger value); None for rank 1


class Percentile(NamedTuple):
    """`percentile(x)` of one record: `smaller / count`, a fraction in [0, 1)."""

    percentile: Decimal
    value: Decimal
    smaller: int  # records with a strictly smaller value
    count: int


@dataclass(frozen=True, slots=True)
class BudgetResult:
    """The budget over one period's earned totals."""

    budget: Decimal
    minor_units: int
    earned_sum: Decimal
    binds: bool  # earned_sum > budget
    factor: Decimal | None  # what the positive totals were multiplied by (§9 context), when it binds
    scaled: Mapping[str, Decimal]  # per id: the total after scaling
    lines: Mapping[str, Decimal]  # per id: the `budget scaling` line, scaled - earned (<= 0)
    # the lines in the order of the totals given, when it binds (the runner's view)
    line_list: Sequence[Decimal] = field(default=(), compare=False, repr=False)

    @property
    def scaled_sum(self) -> Decimal:
        return sum(self.scaled.values(), _units_to_decimal(0, self.minor_units))


# ------------------------------------------------------------------ §15 pool


def allocate_pool(amount: Decimal, shares: Sequence[tuple[str, Decimal]], minor_units: int,
                  caps: Mapping[str, Iterable[Decimal]] | None = None) -> PoolResult | ProgramWideError:
    """§15 `pool AMOUNT by SHARE [among COND]`.

    `shares`: (id, SHARE) of every record where COND holds. Each gets `AMOUNT * share / sum`,
    rounded down to the minor unit (`minor_units` digits: USD 2, JPY 0); the minor units still
    missing go one each to the largest fractional parts, ties to the smaller id, so that the
    shares add up exactly to AMOUNT. A zero sum (or no member) gives everybody 0 and leaves the
    whole amount unallocated. Digits of AMOUNT below the minor unit are not distributed (they
    are unallocated). Then each member's caps (`caps[id]`, values already computed; several
    allowed) apply: the share becomes the smallest of it and its caps; what they cut is
    unallocated, not redistributed. A cap with digits below the minor unit is rounded down, so
    that a share never exceeds it and stays a whole number of minor units.

    Errors (values): a negative or non-finite share (`negative_share`, naming every such id: the
    caller rejects those records); a negative AMOUNT (`negative_amount`); a negative cap
    (`negative_cap`)."""
    _check_ids(shares)
    values = list(map(_VALUE, shares))
    error = _pool_error(amount, shares, values, caps)
    if error is not None:
        return error
    units, extra = _pool_units(_floor_units(amount, minor_units), values, shares)
    if not caps:  # the common case: every share is paid as allocated
        return _uncapped_pool(amount, shares, values, units, extra, minor_units)
    return _capped_pool(amount, shares, values, units, extra, minor_units, caps)


def _pool_error(amount: Decimal, shares: Sequence[tuple[str, Decimal]], values: list[Decimal],
                caps: Mapping[str, Iterable[Decimal]] | None) -> ProgramWideError | None:
    """The first mistake that leaves a pool without a value: a negative or non-finite share
    (naming every such id), a negative AMOUNT, a negative cap; None when there is none."""
    if all(map(Decimal.is_finite, values)) and (not values or min(values) >= 0):
        bad = ()  # the common case, found without a generator
    else:
        bad = tuple(sorted(rid for rid, v in shares if not v.is_finite() or v < 0))
    if bad:
        return ProgramWideError("negative_share", "a pool share must be a number at least 0: "
                                + ", ".join(f"{rid} has {_show(dict(shares)[rid])}" for rid in bad), bad)
    if not amount.is_finite() or amount < 0:
        return ProgramWideError("negative_amount", f"a pool amount must not be negative: {_show(amount)}")
    for rid, cs in (caps or {}).items():
        if any(not c.is_finite() or c < 0 for c in cs):
            return ProgramWideError("negative_cap", f"a cap of a pool share must not be negative ({rid})", (rid,))
    return None


def _pool_units(a_units: int, values: list[Decimal], shares: Sequence[tuple[str, Decimal]]
                ) -> tuple[list[int], list[bool]]:
    """Each member's share of `a_units` minor units before caps, and whether it got one of the
    units left over: rounded down, then the missing units one each to the largest remainders,
    ties to the smaller id; all 0 when the shares add up to 0."""
    ints, _ = _common_integers(values)
    total = sum(ints)
    n = len(shares)
    if total <= 0:
        return [0] * n, [False] * n
    units = [a_units * s // total for s in ints]
    rems = [a_units * s - u * total for s, u in zip(ints, units)]
    missing = a_units - sum(units)  # 0 <= missing < n: the remainders add up to missing * total
    # the largest remainders, ties to the smaller id: the first `missing` of the sort by
    # (-rem, id) (more than `missing` remainders are > 0, so a 0 is never picked)
    extra = [False] * n
    for i in _by_remainder(missing, rems, range(n), shares, largest=True):
        units[i] += 1
        extra[i] = True
    return units, extra


def _uncapped_pool(amount: Decimal, shares: Sequence[tuple[str, Decimal]], values: list[Decimal],
                   units: list[int], extra: list[bool], minor_units: int) -> PoolResult:
    """The pool when no member has a cap: each share paid as allocated (the per-id view made
    only if it is read)."""
    q = _quantum(minor_units)
    with decimal.localcontext(_BIG):  # `_decimal_maker`'s exact product, with the operator
        decs = [Decimal(u) * q for u in units]
        sum_of_shares = sum(values, ZERO)  # exact: the additions of `_exact_sum`
    allocated_d = _units_to_decimal(sum(units), minor_units)
    new = tuple.__new__
    made = _Lazy(len(shares), lambda: {rid: new(PoolShare, (rid, s, d, d, None, x))
                                       for (rid, s), d, x in zip(shares, decs, extra)})
    return PoolResult(amount=amount, minor_units=minor_units, shares=made,
                      sum_of_shares=sum_of_shares, count=len(shares), allocated=allocated_d,
                      cut_by_caps=_units_to_decimal(0, minor_units),
                      unallocated=_BIG.subtract(amount, allocated_d), after_caps=decs)


def _capped_pool(amount: Decimal, shares: Sequence[tuple[str, Decimal]], values: list[Decimal],
                 units: list[int], extra: list[bool], minor_units: int,
                 caps: Mapping[str, Iterable[Decimal]]) -> PoolResult:
    """The pool when members have caps: each share the smallest of it and its caps (rounded
    down to the minor unit); what they cut is unallocated."""
    q = _quantum(minor_units)
    out: dict[str, PoolShare] = {}
    allocated = cut = 0
    new = tuple.__new__
    with decimal.localcontext(_BIG):  # `_decimal_maker`'s exact product, with the operator
        for (rid, s), before, got_extra in zip(shares, units, extra):
            after, bound = before, None
            for c in caps.get(rid, ()):
                c = _floor_units(c, minor_units)
                if c < after:
                    after, bound = c, c
            allocated += after
            cut += before - after
            dec = Decimal(before) * q
            if bound is None:
                out[rid] = new(PoolShare, (rid, s, dec, dec, None, got_extra))
            else:
                capped = Decimal(after) * q
                out[rid] = new(PoolShare, (rid, s, dec, capped, capped, got_extra))
        sum_of_shares = sum(values, ZERO)  # exact: the additions of `_exact_sum`
    allocated_d = _units_to_decimal(allocated, minor_units)
    return PoolResult(amount=amount, minor_units=minor_units, shares=out, sum_of_shares=sum_of_shares,
                      count=len(shares), allocated=allocated_d, cut_by_caps=_units_to_decimal(cut, minor_units),
                      unallocated=_BIG.subtract(amount, allocated_d),
                      after_caps=[out[rid].after_cap for rid, _ in shares])


# ------------------------------------------------------------------ §15 rank and percentile


def rank(values: Sequence[tuple[str, Decimal]]) -> dict[str, Ranked]:
    """§15 `rank(x [among COND])`: 1 for the largest value among `values` (the records where
    COND holds), ties sharing the better rank (1, 2, 2, 4): the rank of x is 1 + the number of
    values strictly larger. The figures for the trace: the count and the value ranked just
    above (the next larger value; None for rank 1). Records that COND leaves out are not
    ranked (the caller makes theirs an evaluation error that `otherwise` catches)."""
    _check_ids(values)
    _check_finite(values)
    n = len(values)
    out: dict[str, Ranked] = {}
    new = tuple.__new__
    # walk the values from the largest, comparing neighbours (hashing Decimals is slow)
    rank_, above, prev = Decimal(1), None, None
    for pos, (rid, v) in enumerate(sorted(values, key=_VALUE, reverse=True)):
        if pos and v != prev:
            rank_, above = Decimal(pos + 1), prev
        out[rid] = new(Ranked, (rank_, v, n, above))
        prev = v
    return out


def percentile(values: Sequence[tuple[str, Decimal]]) -> dict[str, Percentile]:
    """§15 `percentile(x [among COND])`: the share of the records (where COND holds) with a
    strictly smaller value, `smaller / count` as a fraction in [0, 1) (0.25 is 25 %); the
    smallest value, and the only record, get 0. Exact when the quotient terminates, else
    rounded to §9's 34 significant digits."""
    _check_ids(values)
    _check_finite(values)
    n = len(values)
    out: dict[str, Percentile] = {}
    new = tuple.__new__
    count = Decimal(n)
    smaller, share, prev = 0, Decimal(0), None
    for pos, (rid, v) in enumerate(sorted(values, key=_VALUE)):
        if pos and v != prev:
            smaller, share = pos, CONTEXT.divide(Decimal(pos), count)
        out[rid] = new(Percentile, (share, v, smaller, n))
        prev = v
    return out


# ------------------------------------------------------------------ §15 budget


def scale_to_budget(totals: Sequence[tuple[str, Decimal]], budget: Decimal, minor_units: int,
                    rounding: str = decimal.ROUND_HALF_EVEN, *, checked: bool = False
                    ) -> BudgetResult | ProgramWideError:
    """§15 `program { budget B per period }` over the period's earned totals (§14.4 step 3,
    whole numbers of minor units).

    When the sum of the totals is at most B, nothing changes (every line is 0). When it exceeds
    B, every positive total is multiplied by `(B - N) / P` — P the sum of the positive totals,
    N the sum of the negative ones (0 in the common case, where the factor is `B / sum`) — and
    rounded to the minor unit with the policy's `rounding` mode (a `decimal` constant); then
    the minor units still missing to reach B go one each to the largest fractional parts
    (ties to the smaller id), or the ones in excess are taken one each from the totals rounded
    up the most (ties from the larger id), so that the scaled totals add up exactly to B.
    Negative and zero totals are left as they are. Each record's `budget scaling` line is
    scaled - earned, never positive. Digits of B below the minor unit are not paid (B is
    rounded down).

    Errors (values): a negative budget (`negative_budget`). `checked`: the caller guarantees
    unique ids and finite totals (the multi-period runner: a period's keys are unique, and the
    evaluation context traps what would make a non-finite value), so they are not checked again."""
    if not checked:
        _check_ids(totals)
        _check_finite(totals)
    if not budget.is_finite() or budget < 0:
        return ProgramWideError("negative_budget", f"a budget must not be negative: {_show(budget)}")
    earned_sum, units = _earned(totals, minor_units)
    to_dec = _decimal_maker(minor_units)
    zero = to_dec(0)
    if earned_sum <= budget:
        return BudgetResult(budget, minor_units, earned_sum, False, None,
                            dict(totals), dict.fromkeys(map(_ID, totals), zero))
    positive = sum(units)
    negative = 0
    if min(units) < 0:
        negative = sum([u for u in units if u < 0])
        positive -= negative
    target = _floor_units(budget, minor_units) - negative  # what the positives get (< positive: it binds)
    scaled, pos, rems, paid = _scaled_units(units, target, positive, rounding)
    diff = target - paid
    if diff > 0:  # short of B: to the largest remainders (each < positive, so > diff of them are > 0)
        for i in _by_remainder(diff, rems, pos, totals, largest=True):
            scaled[i] += 1
    elif diff < 0:  # beyond B: from the totals rounded up the most
        for i in _by_remainder(-diff, rems, pos, totals, largest=False):
            scaled[i] -= 1
    factor = CONTEXT.divide(Decimal(target), Decimal(positive))
    q = _quantum(minor_units)
    with decimal.localcontext(_BIG):  # `to_dec` with the operator: the same exact product
        # scaled - total, in whole minor units: exactly `minor_units` places
        line_list = [zero if s == u else Decimal(s - u) * q for s, u in zip(scaled, units)]
    scaled_of = _Lazy(len(totals), lambda: {rid: to_dec(s) for (rid, _), s in zip(totals, scaled)})
    lines = _Lazy(len(totals), lambda: {rid: line for (rid, _), line in zip(totals, line_list)})
    return BudgetResult(budget, minor_units, earned_sum, True, factor, scaled_of, lines, line_list)


def _earned(totals: Sequence[tuple[str, Decimal]], minor_units: int) -> tuple[Decimal, list[int]]:
    """The sum of the earned totals (exact), and each total in whole minor units."""
    values = list(map(_VALUE, totals))
    with decimal.localcontext(_BIG):  # exact: the same additions as `_exact_sum`, without a call per value
        earned_sum = sum(values, ZERO)
        if all(map(_quantum(minor_units).same_quantum, values)):
            # the common case, every total with exactly `minor_units` places: whole minor units
            scale = Decimal(10**minor_units)
            return earned_sum, [int(t * scale) for t in values]
    return earned_sum, [_whole_units(rid, t, minor_units) for rid, t in totals]


def _scaled_units(units: list[int], target: int, positive: int, rounding: str
                  ) -> tuple[list[int], Sequence[int], list[int], int]:
    """Every positive total `u` scaled to `u * target / positive` and rounded to a whole unit
    with `rounding`; the others as they are. Returns the scaled units, the indexes of the
    positive totals, their remainders `(exact - rounded) * positive`, and the sum of the
    scaled positive totals."""
    if rounding == decimal.ROUND_HALF_EVEN and min(units) > 0:
        return _all_scaled_half_even(units, target, positive)
    scaled = list(units)
    pos: list[int] = []
    rems: list[int] = []
    paid = 0
    if rounding == decimal.ROUND_HALF_EVEN:  # inlined (the same as `_round_fraction`)
        half = positive // 2
        odd = positive & 1
        pos_append, rems_append = pos.append, rems.append
        for i, u in enumerate(units):
            if u > 0:
                q, r = divmod(u * target, positive)
                # r > positive / 2, or r == positive / 2 and q odd
                if r > half or (r == half and not odd and r and q & 1):
                    q += 1
                    r -= positive
                scaled[i] = q
                paid += q
                pos_append(i)
                rems_append(r)
    else:
        for i, u in enumerate(units):
            if u > 0:
                ut = u * target
                scaled[i] = q = _round_fraction(ut, positive, rounding)
                paid += q
                pos.append(i)
                rems.append(ut - q * positive)
    return scaled, pos, rems, paid


def _all_scaled_half_even(units: list[int], target: int, positive: int
                          ) -> tuple[list[int], range, list[int], int]:
    """`_scaled_units` in the common case, every total positive and rounding half even: rounded
    half up in one pass (floor of u * target / positive + 1/2), then the exact halves (only
    when `positive` is even: a remainder of -positive/2) that went up to an odd number go down
    instead."""
    twice_target, twice_positive = 2 * target, 2 * positive
    scaled = [(u * twice_target + positive) // twice_positive for u in units]
    rems = [u * target - s * positive for u, s in zip(units, scaled)]
    half = positive // 2
    if not positive & 1 and -half in rems:
        for i, r in enumerate(rems):
            if r == -half and scaled[i] & 1:
                scaled[i] -= 1
                rems[i] = half
    return scaled, range(len(units)), rems, sum(scaled)


class _Lazy(Mapping):
    """A dict made on first use by `make()`, of `n` items: the per-id views of a pool or a
    budget, which the multi-period runner does not read (it reads the positional lists)."""

    def __init__(self, n: int, make: Callable[[], dict]):
        self._n, self._make = n, make
        self._made: dict | None = None

    def _values(self) -> dict:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._values())

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return repr(self._values())


# ------------------------------------------------------------------ exact helpers

# Large enough for any exact quantize / subtraction of the values these functions meet.
_BIG = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


_ID = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)


def _check_ids(pairs: Sequence[tuple[str, Decimal]]) -> None:
    if len(set(map(_ID, pairs))) != len(pairs):
        raise AssertionError("program-wide figures: an id is given twice (keys are unique within a period)")


def _check_finite(pairs: Sequence[tuple[str, Decimal]]) -> None:
    if not all(map(Decimal.is_finite, map(_VALUE, pairs))):
        bad = next((rid, v) for rid, v in pairs if not v.is_finite())
        raise AssertionError(f"program-wide figures: {bad[0]} has a non-finite value {bad[1]}")


def _common_integers(values: Sequence[Decimal]) -> tuple[list[int], int]:
    """The values as integers over one common denominator (exact)."""
    ratios = [v.as_integer_ratio() for v in values]
    den = math.lcm(*(d for _, d in ratios)) if ratios else 1
    if den == 1:  # all whole numbers: the numerators themselves
        return [n for n, _ in ratios], den
    return [n * (den // d) for n, d in ratios], den


def _by_remainder(k: int, rems: list[int], pos: Sequence[int], totals: Sequence[tuple[str, Decimal]],
                  largest: bool) -> list[int]:
    """The indexes (`pos[j]`) of the `k` largest remainders `rems[j]`, ties to the smaller id
    (`largest`), or of the `k` smallest, ties to the larger id: the first `k` of the sort by
    (-rem, id), or the last `k` of it. Found from the k-th remainder (a heap of integers, or a
    sort when k is large), so that no key is built per total."""
    if k <= 0:
        return []
    if k * 8 < len(rems):
        cut = (heapq.nlargest if largest else heapq.nsmallest)(k, rems)[-1]
    else:
        cut = sorted(rems, reverse=largest)[k - 1]
    if largest:
        chosen = [i for r, i in zip(rems, pos) if r > cut]
    else:
        chosen = [i for r, i in zip(rems, pos) if r < cut]
    need = k - len(chosen)  # > 0: the k-th remainder itself is among them
    tied = [i for r, i in zip(rems, pos) if r == cut]
    if len(tied) > need:
        tied.sort(key=lambda i: totals[i][0], reverse=not largest)
        del tied[need:]
    return chosen + tied


def _floor_units(value: Decimal, minor_units: int) -> int:
    """floor(value * 10**minor_units), exactly."""
    n, d = value.as_integer_ratio()
    return (n * 10**minor_units) // d


def _whole_units(rid: str, value: Decimal, minor_units: int) -> int:
    n, d = value.as_integer_ratio()
    units, rest = divmod(n * 10**minor_units, d)
    if rest:
        raise AssertionError(f"earned total of {rid} is not a whole number of minor units: {value}")
    return units


def _units_to_decimal(units: int, minor_units: int) -> Decimal:
    return Decimal(units).scaleb(-minor_units, context=_BIG)


def _decimal_maker(minor_units: int):
    """units -> Decimal with `minor_units` places (exact), cheaper than `_units_to_decimal`:
    the product `units * 10**-minor_units` in `_BIG` (an exact product, the same value and
    exponent whatever the route), computed with the operator for speed."""
    q = _quantum(minor_units)
    big = _BIG

    def make(units: int) -> Decimal:
        return big.multiply(Decimal(units), q)
    return make


@functools.cache
def _quantum(minor_units: int) -> Decimal:
    return Decimal(1).scaleb(-minor_units)


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for v in values:
        total = _BIG.add(total, v)
    return total


def _round_fraction(num: int, den: int, rounding: str) -> int:
    """num / den (both >= 0, den > 0) rounded to an integer with a `decimal` rounding mode."""
    q, r = divmod(num, den)
    if r == 0:
        return q
    match rounding:
        case decimal.ROUND_DOWN | decimal.ROUND_FLOOR:
            return q
        case decimal.ROUND_UP | decimal.ROUND_CEILING:
            return q + 1
        case decimal.ROUND_HALF_UP:
            return q + (1 if 2 * r >= den else 0)
        case decimal.ROUND_HALF_DOWN:
            return q + (1 if 2 * r > den else 0)
        case decimal.ROUND_HALF_EVEN:
            return q + (1 if 2 * r > den or (2 * r == den and q % 2 == 1) else 0)
        case decimal.ROUND_05UP:
            return q + (1 if q % 10 in (0, 5) else 0)
        case _:
            raise AssertionError(f"unknown rounding mode {rounding!r}")


def _show(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else str(value)
