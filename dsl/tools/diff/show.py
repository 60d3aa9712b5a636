"""Values and names for people, shared by the explanations, the guards and the renderers.

Receives values as the evaluator holds them (Decimals, labels, booleans) and the policy that
gives them their type. Guarantees: money with the currency (`1,234.50 USD`, a `+` on a rise
where `_signed` is asked for), percents as `12.5%`, at most 4 decimals in explanations (the
totals are exact), a record shown as its id (and period), else its row; a line's §2a label. For
display only: nothing here feeds a total. Emits nothing.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.backends.python.runtime import fmt_decimal
from dsl.checker.currency import minor_units
from dsl.checker.types import Kind
from dsl.run.records import Reject
from dsl.tools.diff.report import Report


class _Show:
    """Values for people, by type: money with the currency, percents as `12.5%`."""

    def __init__(self, compiled: CompiledPolicy):
        self.c = compiled

    def kind(self, name: str) -> Kind | None:
        d = self.c.program.definitions.get(name)
        return d.type.kind if d is not None else None

    def value(self, v: object, kind: Kind | None) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, Decimal):
            if kind is Kind.MONEY:
                return self.c.money.display(v)
            if kind is Kind.PERCENT:
                return f"{_short(v * 100)}%"
            return _short(v)
        if v is None:
            return "none"
        return str(v)

    def named(self, name: str, v: object) -> str:
        return self.value(v, self.kind(name))


def _short(v: Decimal) -> str:
    """At most 4 decimals for display (explanations only; the totals are exact)."""
    q = v.quantize(Decimal("0.0001")) if v.as_tuple().exponent < -4 and abs(v) < Decimal("1e20") else v
    return fmt_decimal(q)


def _signed(money: runtime.Money, v: Decimal) -> str:
    text = money.display(v)
    return f"+{text}" if v > 0 else text


def _money(rep: Report) -> runtime.Money:
    return runtime.Money(rep.currency, minor_units(rep.currency), _MODE)


_MODE = decimal.ROUND_HALF_EVEN  # display only: every amount shown is already at the minor unit


def _sign(v: Decimal) -> str:
    return "+" if v > 0 else ""


def _who(rid: str | None, period: str | None, row: int) -> str:
    text = rid if rid is not None else f"row {row}"
    return f"{text} ({period})" if period else text




def _label(old: CompiledPolicy, new: CompiledPolicy, name: str) -> str:
    """§2a: a line's label in the new policy, else in the old one ("" when neither has one)."""
    for compiled in (new, old):
        d = compiled.program.definitions.get(name)
        if d is not None and d.label:
            return d.label
    return ""


def _reject_text(r: Reject | None) -> str:
    if r is None:
        return ""
    return (f"field {r.field}: " if r.field else "") + r.reason
