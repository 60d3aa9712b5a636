"""Intervals (§6.3): `[lo, hi]` with possibly infinite ends, and the arithmetic the
range pass (dsl/checker/ranges.py) does on them.

Every operation over-approximates: bounds are rounded outwards, and an operation that
overflows gives the whole line (`TOP`). Pure functions of Decimals; emits no diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation

INF = Decimal("Infinity")
NEG_INF = Decimal("-Infinity")


@dataclass(frozen=True, slots=True)
class Interval:
    """[lo, hi], either end possibly infinite (inclusive when finite)."""

    lo: Decimal = NEG_INF
    hi: Decimal = INF

    @staticmethod
    def point(v: Decimal) -> Interval:
        return Interval(v, v)

    def union(self, other: Interval | None) -> Interval | None:
        if other is None:
            return None
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    @property
    def bounded(self) -> bool:
        return self.lo.is_finite() or self.hi.is_finite()


TOP = Interval()


# Bounds are rounded outwards (§9's 34 digits): a lower bound down, an upper bound up, so that
# an inexact product or quotient never makes an interval narrower than the values it holds.
_DOWN = Context(prec=34, rounding=ROUND_FLOOR, Emax=999_999, Emin=-999_999)
_UP = Context(prec=34, rounding=ROUND_CEILING, Emax=999_999, Emin=-999_999)


def _mul(a: Decimal, b: Decimal, ctx: Context = _DOWN) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)  # a bound of 0 is reached; the other end only grows without limit
    return ctx.multiply(a, b)


def _safe(f):
    try:
        return f()
    except (InvalidOperation, ArithmeticError):
        return TOP


def add(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: Interval(_DOWN.add(a.lo, b.lo), _UP.add(a.hi, b.hi)))


def sub(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: Interval(_DOWN.subtract(a.lo, b.hi), _UP.subtract(a.hi, b.lo)))


def mul(a: Interval, b: Interval) -> Interval:
    def go():
        pairs = [(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
        return Interval(min(_mul(x, y, _DOWN) for x, y in pairs), max(_mul(x, y, _UP) for x, y in pairs))
    return _safe(go)


def reciprocal(b: Interval) -> Interval:
    """1 / b for the values b takes other than 0 (dividing by 0 fails: `otherwise` decides)."""
    if b.lo < 0 < b.hi:
        return TOP
    one = Decimal(1)
    if b.lo >= 0:
        if b.hi == 0:
            return TOP  # only zero: always fails
        hi = INF if b.lo == 0 else _UP.divide(one, b.lo)
        lo = Decimal(0) if not b.hi.is_finite() else _DOWN.divide(one, b.hi)
        return Interval(lo, hi)
    # b.hi <= 0
    if b.lo == 0:
        return TOP
    lo = NEG_INF if b.hi == 0 else _DOWN.divide(one, b.hi)
    hi = Decimal(0) if not b.lo.is_finite() else _UP.divide(one, b.lo)
    return Interval(lo, hi)


def div(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: mul(a, reciprocal(b)))


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo)



def trailing_sum(a: Interval, n: Decimal) -> Interval:
    """The sum of up to n values of `a` (`trailing_sum`: periods without a record are skipped)."""
    return _safe(lambda: Interval(min(a.lo, _mul(a.lo, n)), max(a.hi, _mul(a.hi, n))))


def round_outward(a: Interval, exp: Decimal) -> Interval:
    """`round` to the step `exp`, each bound rounded away from the inside."""
    return Interval(_quantize(a.lo, exp, ROUND_FLOOR), _quantize(a.hi, exp, ROUND_CEILING))


def marginal_at(bands, rates, x: Decimal) -> Decimal:
    """A marginal table's value at key x: each band's rate times the part of x inside it."""
    if not x.is_finite():
        return Decimal(0) if x < 0 else (INF if any(r > 0 for r in rates) else Decimal(0))
    total = Decimal(0)
    for (band, lo, hi), rate in zip(bands, rates):
        top = min(x, hi)
        if top > lo:
            total += rate * (top - lo)
    return total


def union(a: Interval | None, b: Interval | None) -> Interval:
    """The smallest interval holding both (no interval: unbounded)."""
    a, b = a or TOP, b or TOP
    return Interval(min(a.lo, b.lo), max(a.hi, b.hi))


def reaches(key: Interval, lo: Decimal, hi: Decimal) -> bool:
    """Does [key.lo, key.hi] meet the band [lo, hi)?"""
    return key.hi >= lo and key.lo < hi


def _quantize(v: Decimal, exp: Decimal, rounding) -> Decimal:
    if not v.is_finite():
        return v
    try:
        return v.quantize(exp, rounding=rounding)
    except InvalidOperation:
        return v


def decide(op: str, a: Interval, b: Interval) -> bool | None:
    """True/False when `a op b` has one outcome for all values of the intervals."""
    match op:
        case "<":
            return True if a.hi < b.lo else False if a.lo >= b.hi else None
        case "<=":
            return True if a.hi <= b.lo else False if a.lo > b.hi else None
        case ">":
            return True if a.lo > b.hi else False if a.hi <= b.lo else None
        case ">=":
            return True if a.lo >= b.hi else False if a.hi < b.lo else None
        case "==":
            if a.hi < b.lo or a.lo > b.hi:
                return False
            return None
        case "!=":
            if a.hi < b.lo or a.lo > b.hi:
                return True
            return None
        case _:
            raise AssertionError(f"unhandled comparison {op}")

