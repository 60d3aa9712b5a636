"""How the checker writes numbers and types in its messages (language §17: messages name the fix)."""

from __future__ import annotations

from decimal import Decimal

from dsl.checker.types import Type


def article(t: Type | str) -> str:
    """`a money`, `an enum(...)`: a type with its article."""
    s = str(t)
    return ("an " if s[:1] in "aeiou" else "a ") + s


def fmt_number(value: Decimal) -> str:
    """A number as a policy writes it: plain, `_` between thousands from 10_000 on."""
    text = f"{value.normalize():f}" if value == value else str(value)
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    if whole.isdigit() and len(whole) > 4:
        whole = f"{int(whole):_}"
    return f"{sign}{whole}{dot}{frac}"


def fmt_percent(value: Decimal) -> str:
    """A fraction as a percent: `12.5 %`."""
    return f"{fmt_number(value * 100)} %"
