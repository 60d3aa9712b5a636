"""The run-time support of generated code: the Decimal context of language §12, rounding, the
builtins, the lookups of big tables, the history reads, and evaluation errors.

Receives nothing from other passes: the code the Python backend generates (its namespace, see
dsl/backends/python/build.py) names these; it imports neither the compiler nor the runner.
Guarantees: every arithmetic step runs in `CONTEXT` (34 significant digits, ROUND_HALF_EVEN for
inexact intermediates, traps on division by zero, invalid operations and overflow); money is
rounded only where the generated code says (`quantize` with the policy's mode). Emits no
diagnostics: a failing evaluation raises `EvalError`, `Missing` (history or a rank that does not
exist: `otherwise` catches it) or a Decimal `ArithmeticError`, which the runner turns into a
reject of that record.
"""

from __future__ import annotations

import decimal
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import (
    ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, DivisionByZero, InvalidOperation,
    Overflow,
)
from typing import NoReturn

from dsl.ir.lower import Unsupported  # noqa: F401 - what no backend runs (the callers of a backend catch it)

# §9: 34 significant digits; the exponent bounds keep huge values an error, not a hang.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
                  traps=[DivisionByZero, InvalidOperation, Overflow])

# A run's sums over records (the summary's totals, per component, per period) are exact
# whatever their size: 34 digits hold any one value, not a million of them added up. `add`
# is what the runner sums with; `display` rounds in the same context.
SUMS = Context(prec=decimal.MAX_PREC, rounding=ROUND_HALF_EVEN, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
               traps=[InvalidOperation, Overflow])
add = SUMS.add


def total_of(values) -> Decimal:
    """The exact sum of Decimals (`SUMS`)."""
    out = ZERO
    for v in values:
        out = add(out, v)
    return out

# The header's `rounding` field → the decimal module's constant (spec §3, §9).
ROUNDING_MODES: dict[str, str] = {
    "half_even": ROUND_HALF_EVEN,
    "half_up": ROUND_HALF_UP,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}

ZERO = Decimal(0)
ONE = Decimal(1)

def quantum(digits: int) -> Decimal:
    """The smallest unit with `digits` places: 2 → Decimal('0.01'), 0 → Decimal('1')."""
    return Decimal(1).scaleb(-digits)


def activate() -> None:
    """Make `CONTEXT` the current thread's Decimal context (compiled code relies on it)."""
    decimal.setcontext(CONTEXT)


class EvalError(Exception):
    """An evaluation error: what failed, in which definition, where, with which operands."""

    def __init__(self, message: str, definition: str | None = None, location: str | None = None,
                 operands: tuple[tuple[str, object], ...] = ()):
        super().__init__(message)
        self.message = message
        self.definition = definition
        self.location = location
        self.operands = operands

    def describe(self) -> str:
        parts = [self.message]
        if self.definition:
            parts.append(f"in {self.definition}")
        if self.location:
            parts.append(f"at {self.location}")
        text = " ".join(parts)
        if self.operands:
            text += " (" + ", ".join(f"{k} = {fmt_value(v)}" for k, v in self.operands) + ")"
        return text


class DivByZero(EvalError, ZeroDivisionError):
    """A division by zero seen by the traced variant; `otherwise` catches it like the fast path's."""


class Missing(ZeroDivisionError):
    """A value that does not exist: an evaluation error that `otherwise` catches (it is
    caught where a division by zero is)."""


class HistoryMissing(Missing):
    """`prior` of a period without a record (language §15)."""


class NotRanked(Missing):
    """`rank` / `percentile` of a record that its `among` condition leaves out (language §16)."""


def missing_period(k: int) -> NoReturn:
    """`prior` of a period without a record: an error that `otherwise` catches."""
    raise HistoryMissing(f"no record {k} period{'s' if k != 1 else ''} earlier")


def program_wide(pw, i: int):
    """A program-wide figure of this record; a record left out by `among` has no rank."""
    value = pw[i][0]
    if value is None:
        raise NotRanked("the record is not among the ranked records")
    return value


class Unset:
    """A definition not computed (yet) in this record: on demand, language §8."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not computed>"


UNSET = Unset()


def computed(values: dict) -> dict:
    """The entries of `values` that were computed (a trace's operands)."""
    return {k: v for k, v in values.items() if v is not UNSET}


def divide(a, b, site):
    """`a / b` in the traced variant: a division by zero says where and with which operands."""
    if b.is_zero():
        definition, location, left, right, text = site
        raise DivByZero(f"division by zero: `{text}`", definition, location, ((left, a), (right, b)))
    return a / b


def not_division_by_zero(err: Exception) -> bool:
    """Whether an error inside `otherwise` is something else than a division by zero (0/0 included)."""
    if isinstance(err, ZeroDivisionError):
        return False
    signals = err.args[0] if err.args and isinstance(err.args[0], list) else ()
    return decimal.DivisionUndefined not in signals


def arithmetic_reason(err: ArithmeticError) -> str:
    """An arithmetic error in words, for a reject."""
    if isinstance(err, decimal.InvalidOperation):
        return "a value is too large to be computed exactly (more than 34 digits)"
    if isinstance(err, decimal.Overflow):
        return "a value overflows the decimal range"
    return f"arithmetic error: {type(err).__name__}"


def hold_open(history, component: str) -> bool:
    """Language §8, on demand: whether the partner has a hold of `component` still open in the
    current period (`history.t`): only then is its `until` evaluated. `history` is the
    partner's run history (its `ledger` and the period `t`), or None outside a run."""
    if history is None:
        return False
    t = history.t
    return any(h.component == component and h.deadline.index >= t for h in history.ledger.holds)


def clawback_due(history, component: str, within: int) -> bool:
    """Language §8: whether an origin of `component` inside the window `within` of the current
    period has money left to recover or still held: only then is the clawback's `when`
    evaluated (and `recover` only where `when` holds)."""
    if history is None:
        return False
    t = history.t
    ledger = history.ledger
    return any(p.component == component and p.origin.index < t <= p.origin.index + within
               and p.paid > p.recovered for p in ledger.paid) or \
        any(h.component == component and h.origin.index < t <= h.origin.index + within
            and h.deadline.index >= t for h in ledger.holds)


def clamp(value: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    """`clamp(x, lo, hi)`: lo when x < lo, hi when x > hi (hi wins if lo > hi)."""
    if value < lo:
        value = lo
    if value > hi:
        value = hi
    return value


def flat_steps(thresholds: tuple[Decimal, ...], below: bool, values: tuple | None = None) -> tuple:
    """§6, a flat table looked up by bisection: `(steps, bands)` such that the band of a key is
    `bands[bisect_right(steps, key)]` — the last band whose threshold the key reaches; `bands[0]`
    is the `below` band (0), or -1 when the table has none (no band for the key).

    Thresholds are strictly ascending (E400), but a `--set` param may change one: a band whose
    threshold is not below every later one is then never chosen, and is left out of `steps`,
    so that the choice is still the last band the key reaches. With `values` (one per band,
    constants), a third tuple: the value of each entry of `bands` (None for no band)."""
    steps: list[Decimal] = []
    bands: list[int] = []
    for i in range(len(thresholds) - 1, 0 if below else -1, -1):
        if not steps or thresholds[i] < steps[-1]:
            steps.append(thresholds[i])
            bands.append(i)
    steps.reverse()
    bands.reverse()
    chosen = (0 if below else -1, *bands)
    if values is None:
        return tuple(steps), chosen
    return tuple(steps), chosen, tuple(values[i] if i >= 0 else None for i in chosen)


def marginal_table(thresholds: tuple[Decimal, ...], rates: tuple[Decimal, ...]):
    """§6, a marginal table of many bands as a function of the key, with the result of adding
    `rate_i * (min(key, T(i+1)) - T(i))` over the bands the key is above, from the first band
    up: the sums of the full bands are added up once, in that order, and the key's band is
    found by bisection. When the thresholds are not ascending (a `--set` param changed one)
    or a sum leaves the Decimal range, every band is tried for every key, as for a small table."""
    n = len(thresholds)
    ascending = all(a < b for a, b in zip(thresholds, thresholds[1:]))
    below = [ZERO]  # below[i]: the sum of the full bands under band i
    if ascending:
        try:
            for i in range(n - 1):
                below.append(below[i] + rates[i] * (thresholds[i + 1] - thresholds[i]))
        except ArithmeticError:
            ascending = False  # the error is the record's: raised by the keys that reach it
    if not ascending:
        def tried(key: Decimal) -> Decimal:
            total = ZERO
            for i, lo in enumerate(thresholds):
                if key > lo:
                    hi = thresholds[i + 1] if i + 1 < n else key
                    total += rates[i] * ((key if key < hi else hi) - lo)
            return total

        return tried
    sums, last = tuple(below), n - 1

    def summed(key: Decimal) -> Decimal:
        i = bisect_left(thresholds, key) - 1  # the last band whose threshold is below the key
        if i < 0:
            return ZERO
        if i == last:
            return sums[i] + rates[i] * (key - thresholds[i])
        hi = thresholds[i + 1]
        return sums[i] + rates[i] * ((key if key < hi else hi) - thresholds[i])

    return summed


def fmt_value(value: object) -> str:
    """A value for a message or a trace line: Decimals in plain notation, never exponents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return fmt_decimal(value)
    if isinstance(value, str):
        return value
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt_value(v) for v in value) + "]"
    return str(value)


def fmt_decimal(value: Decimal) -> str:
    """Plain notation without an exponent and without trailing fractional zeros (`-0` is `0`)."""
    if value.is_zero():
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True, slots=True)
class Money:
    """How a policy's money is shown and rounded."""

    currency: str
    digits: int
    mode: str  # a decimal rounding constant
    q: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "q", quantum(self.digits))

    def text(self, value: Decimal) -> str:
        """`1234.5` → `1234.50` (no grouping: machine-readable outputs)."""
        with decimal.localcontext(CONTEXT):
            return format(value.quantize(self.q, rounding=self.mode) + 0, "f") if value.is_finite() else str(value)

    def display(self, value: Decimal) -> str:
        """`1234.5` → `1,234.50 USD` (statements for people)."""
        with decimal.localcontext(SUMS):
            v = value.quantize(self.q, rounding=self.mode) + 0
        return f"{v:,.{self.digits}f} {self.currency}"
