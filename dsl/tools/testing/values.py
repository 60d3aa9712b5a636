"""Values written in tests: the constants of `with`, `param` and `expect`, compared and shown.

Receives constant expressions of a test file, which the checker (E700) has typed. Guarantees
`constant` gives the value as the evaluator represents it (Decimal for numbers, percent as a
fraction; str for text, ids, enum members and labels; bool; a tuple of str for `reasons`);
`same` is exact equality (Decimals by value, bools only with bools; a value the evaluation did
not compute, `NOT_COMPUTED`, equals nothing); `show` writes a value as a test would
(`48_000 USD`, `92.5%`, `enterprise`). A division by zero in a literal is a `_ValueProblem`
(the test errs with its message); nothing else is raised.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from dsl.backends.python import runtime
from dsl.checker.currency import minor_units
from dsl.checker.types import Kind, Type
from dsl.front import ast

NOT_COMPUTED = object()  # a definition the evaluation did not need (§5: evaluated on demand)


class _ValueProblem(Exception):
    """A test value that cannot be computed (a division by zero in a literal)."""


def constant(e: ast.Expr, t: Type):
    """The value of a constant written in a test file, as the evaluator represents it:
    Decimal for numbers (percent as a fraction), str for text, ids, enum members and
    labels, bool, a tuple of str for `reasons`. The checker (E700) has checked its type."""
    with decimal.localcontext(runtime.CONTEXT):
        return _constant(e, t)


def _constant(e: ast.Expr, t: Type):
    match e:
        case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
            return v
        case ast.String(value=v):
            return v
        case ast.Bool(value=v):
            return v
        case ast.Name(name=n):
            return n
        case ast.ListLit(items=items):
            return tuple(_constant(i, t) for i in items)
        case ast.Unary(op="-", operand=x):
            return -_constant(x, t)
        case ast.Binary(op=op, left=a, right=b) if op in ("+", "-", "*", "/"):
            x, y = _constant(a, t), _constant(b, t)
            if op == "/":
                if y == 0:
                    raise _ValueProblem(f"division by zero in the test value `{e.span.text}` at {e.span}")
                return x / y
            return x + y if op == "+" else (x - y if op == "-" else x * y)
        case _:
            raise AssertionError(f"unhandled test value {type(e).__name__}")


def same(expected, actual) -> bool:
    """Exact equality: Decimals by value, bools only with bools."""
    if actual is NOT_COMPUTED:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, Decimal) and isinstance(actual, Decimal):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _grouped(v: Decimal, keep_zeros: bool = False) -> str:
    text = format(v, "f") if keep_zeros and not v.is_zero() else runtime.fmt_decimal(v)
    sign = "-" if text.startswith("-") else ""
    whole, dot, frac = text.lstrip("-").partition(".")
    if len(whole) > 3:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = "_".join([whole, *groups])
    return f"{sign}{whole}{dot}{frac}"


def show(value, t: Type, currency: str) -> str:
    """A value in IPL syntax, as a test would write it: `48_000 USD`, `92.5%`, `enterprise`."""
    if value is NOT_COMPUTED:
        return "not computed (§5: a definition is evaluated only when something needs it)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if t.kind is Kind.MONEY:
            digits = minor_units(currency)
            if value == value.to_integral_value():
                return f"{_grouped(value)} {currency}"
            if -value.as_tuple().exponent < digits:
                value = value.quantize(runtime.quantum(digits))  # exact: only zeros are added
            return f"{_grouped(value, keep_zeros=True)} {currency}"
        if t.kind is Kind.PERCENT:
            return f"{_grouped(value.scaleb(2))}%"
        return _grouped(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_quote(v) for v in value) + "]"
    if isinstance(value, str):
        return value if t.kind in (Kind.ENUM, Kind.LEVEL) else _quote(value)
    return str(value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
