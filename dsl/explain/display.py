"""Values for people: how a statement writes a policy's values (language §2a labels, §9 display).

Receives a compiled policy. Guarantees text for a value of any type — money in the policy's
currency, a percent as `12.5%`, a number with at most 4 decimals (the JSON keeps every digit),
`true`/`false`, `∞` for an open bound — and a definition's label and description. Emits no
diagnostics.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy
from dsl.backends.python.runtime import fmt_decimal
from dsl.checker.types import Kind, Type


class Display:
    """The values, labels and distances of one policy, as a statement writes them."""

    def __init__(self, compiled: CompiledPolicy):
        self.c = compiled
        self.money = compiled.money

    def type_of(self, name: str) -> Type | None:
        d = self.c.program.definitions.get(name)
        return d.type if d is not None else None

    def value(self, v, t: Type | None) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, Decimal):
            kind = t.kind if t is not None else Kind.NUMBER
            if kind is Kind.MONEY:
                return self.money.display(v)
            if kind is Kind.PERCENT:
                return f"{short(v * 100)}%"
            return short(v)
        if v is None:
            return "∞"
        return str(v)

    def named(self, name: str, v) -> str:
        return self.value(v, self.type_of(name))

    def title(self, name: str) -> str:
        """§2a: a definition's label, or its name."""
        d = self.c.program.definitions.get(name)
        return d.title if d is not None else name

    def description(self, name: str) -> str:
        d = self.c.program.definitions.get(name)
        return d.description if d is not None else ""

    def values(self, values: dict) -> dict[str, str]:
        """The values a condition read, for people: `{"csat": "3"}`."""
        return {k: self.named(k, v) for k, v in values.items()}

    def distance(self, d: Decimal, t: Type | None) -> str:
        kind = t.kind if t is not None else Kind.NUMBER
        if kind is Kind.PERCENT:
            pts = short(d * 100)
            return f"{pts} point{'s' if pts != '1' else ''}"
        if kind is Kind.MONEY:
            return self.money.display(d)
        return short(d)


def short(v: Decimal) -> str:
    """A display value: at most 4 decimals for intermediates (§9: the JSON keeps every digit)."""
    q = v.quantize(Decimal("0.0001")) if v.as_tuple().exponent < -4 and abs(v) < Decimal("1e20") else v
    return fmt_decimal(q)


def with_values(values: dict[str, str]) -> str:
    """` (csat = 3, min_csat = 3.5)`: the values a failed condition read."""
    return f" ({', '.join(f'{k} = {v}' for k, v in values.items())})" if values else ""


def benefit_value(compiled: CompiledPolicy, line) -> str:
    """A benefit's value as shown: a level or a flag is no amount."""
    return Display(compiled).named(line.name, line.amount)
